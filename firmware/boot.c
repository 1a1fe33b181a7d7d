/*
 * boot.c - the boot path of smmfw on the boot CPU, firmware.md §3 steps 0–11, in order.
 * Steps 12–14 (ACPI, payload, hand-off) are in acpi.c and payload.c.
 */
#include "boot.h"
#include "fwcfg.h"
#include "hw.h"
#include "lib.h"
#include "platform.h"
#include "reloc.h"

extern const char first_smi_start[], first_smi_end[];

struct boot_state bs;

void boot_main(void);

__attribute__((noreturn)) void fatal_finish(struct line *l)
{
    line_end(l);
    cpu_halt_forever();
}

__attribute__((noreturn)) void boot_fatal_kv(const char *code, const char *key, uint64_t v)
{
    struct line l;

    line_begin(&l, "fatal");
    line_append(&l, code);
    line_dec(&l, key, v);
    fatal_finish(&l);
}

static void check_reentry(void)
{
    if (pci_read32(PCI_MCH, 0) != MCH_VENDOR_DEVICE)
        return; /* not a Q35 MCH: detect_platform() stops with not-q35 */
    uint8_t smram = pci_read8(PCI_MCH, MCH_SMRAM);
    uint8_t smbase = pci_read8(PCI_MCH, MCH_SMBASE_CTL);

    /* D_LCK or a locked window survive nothing but a platform reset: the OS jumped here. */
    if ((smram & MCH_SMRAM_D_LCK) || smbase == MCH_SMBASE_LCK)
        fatal_simple("reentry");
}

/* Step 1. */
static void detect_platform(void)
{
    if (pci_read32(PCI_MCH, 0) != MCH_VENDOR_DEVICE || pci_read32(PCI_LPC, 0) != LPC_VENDOR_DEVICE)
        fatal_simple("not-q35");
    pci_write32(PCI_LPC, LPC_PMBASE, PMBASE);
    pci_write8(PCI_LPC, LPC_ACPI_CTRL, LPC_ACPI_CTRL_ACPI_EN);
    if (inl(SMI_EN) & SMI_EN_APMC_EN)
        fatal_simple("no-smm");
    if ((pci_read8(PCI_MCH, MCH_ESMRAMC) & MCH_ESMRAMC_EMULATED) != MCH_ESMRAMC_EMULATED)
        fatal_simple("no-smm");
    if (!fwcfg_detect())
        fatal_simple("no-fwcfg");
    struct line l;
    line_begin(&l, "platform");
    line_hex(&l, "mch", MCH_VENDOR_DEVICE >> 16);
    line_hex(&l, "lpc", LPC_VENDOR_DEVICE >> 16);
    line_str(&l, "fwcfg", "dma");
    line_end(&l);
}

static uint8_t cmos_read(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

/* Step 2. */
static void size_ram(void)
{
    struct fwcfg_file f;

    if (fwcfg_find("etc/e820", &f) && f.size % 20 == 0) {
        unsigned n = f.size / 20;
        for (unsigned i = 0; i < n && bs.ne820 < MAX_E820; i++) {
            struct __attribute__((packed)) {
                uint64_t addr, len;
                uint32_t type;
            } e;
            if (fwcfg_dma_read(f.key, i * 20, &e, 20))
                fatal_simple("ram");
            if (e.type != 1)
                continue;
            if (e.addr == 0)
                bs.tolud = e.len;
            if (e.addr >= 0x100000000ull) {
                bs.high_bytes += e.len;
                bs.e820[bs.ne820++] = (struct mem_range){e.addr, e.len, 1, 0};
            }
        }
    } else {
        bs.tolud = (((uint64_t)cmos_read(0x35) << 8) | cmos_read(0x34)) * 0x10000 + 0x1000000;
        uint64_t hi = ((uint64_t)cmos_read(0x5d) << 16 | (uint64_t)cmos_read(0x5c) << 8 |
                       cmos_read(0x5b)) * 0x10000;
        if (hi) {
            bs.high_bytes = hi;
            bs.e820[bs.ne820++] = (struct mem_range){0x100000000ull, hi, 1, 0};
        }
    }
    if (bs.tolud < 0x2000000 || bs.tolud > 0xb0000000u)
        boot_fatal_kv("ram", "low", bs.tolud);
    struct line l;
    line_begin(&l, "ram");
    line_hex(&l, "low", bs.tolud);
    line_hex(&l, "high", bs.high_bytes);
    line_end(&l);
}

/* Step 3: the hot-plug block at boot is trusted (§1.3). */
static void discover_cpus(void)
{
    outl(CPUHP_SEL, 0);
    outl(CPUHP_SEL, 0);
    outb(CPUHP_CMD, CPUHP_CMD_GET_PENDING);
    if (inl(CPUHP_SEL) != 0)
        fatal_simple("cpuhp-absent");
    uint32_t P = 1;
    for (;;) {
        outl(CPUHP_SEL, P);
        if (inl(CPUHP_DATA) != P)
            break;
        if (++P > SMMFW_MAX_CPUS)
            boot_fatal_kv("too-many-cpus", "possible", P);
    }
    bs.possible = P;
    uint32_t me = cpu_apic_id();
    /* The counting loop left the selector out of range, where the block ignores
     * command writes (platform.md §5.3): select slot 0 first. */
    outl(CPUHP_SEL, 0);
    outb(CPUHP_CMD, CPUHP_CMD_GET_ARCH_ID);
    for (uint32_t s = 0; s < P; s++) {
        outl(CPUHP_SEL, s);
        uint8_t st = inb(CPUHP_STATUS);
        uint32_t id = inl(CPUHP_DATA);
        uint32_t hi = inl(CPUHP_SEL);
        if (hi != 0 || id > 0xfe)
            boot_fatal_kv("apic-id-range", "sel", s);
        for (uint32_t t = 0; t < s; t++) {
            if (bs.apic[t] == id)
                boot_fatal_kv("apic-id-duplicate", "apic", id);
        }
        bs.apic[s] = id;
        bs.present_at_boot[s] = st & CPUHP_ST_ENABLED;
        if (st & CPUHP_ST_ENABLED)
            bs.present++;
        if ((st & CPUHP_ST_ENABLED) && (st & CPUHP_ST_FW_REMOVE) && s != 0) {
            /* an eject interrupted by a reset: finish it before anything else runs */
            outb(CPUHP_STATUS, CPUHP_CTL_EJECT);
            struct line l;
            line_begin(&l, "warn stale-eject");
            line_dec(&l, "apic", id);
            line_dec(&l, "slot", s);
            line_end(&l);
            outl(CPUHP_SEL, s);
            if (inb(CPUHP_STATUS) != 0)
                boot_fatal_kv("cpuhp-inconsistent", "sel", s);
            bs.present_at_boot[s] = 0;
            bs.present--;
            outb(CPUHP_CMD, CPUHP_CMD_GET_ARCH_ID);
        }
    }
    if (bs.present == 0 || !bs.present_at_boot[0] || bs.apic[0] != me)
        boot_fatal_kv("cpuhp-inconsistent", "apic", me);
    bs.boot_apic = me;
    uint16_t nb = 0;
    fwcfg_read_key(FWCFG_KEY_NB_CPUS, &nb, 2);
    struct line l;
    line_begin(&l, "cpus");
    line_dec(&l, "possible", P);
    line_dec(&l, "present", bs.present);
    line_dec(&l, "boot_apic", me);
    line_end(&l);
    for (uint32_t s = 0; s < P; s++) {
        line_begin(&l, "cpu");
        line_dec(&l, "slot", s);
        line_dec(&l, "apic", bs.apic[s]);
        line_dec(&l, "present", bs.present_at_boot[s] ? 1 : 0);
        line_end(&l);
    }
    if (nb != bs.present) {
        line_begin(&l, "warn nb-cpus-mismatch");
        line_dec(&l, "fwcfg", nb);
        line_dec(&l, "block", bs.present);
        line_end(&l);
    }
}

/* Step 4. */
static void size_tseg(void)
{
    pci_write16(PCI_MCH, MCH_EXT_TSEG_MBYTES, 0xffff);
    uint16_t v = pci_read16(PCI_MCH, MCH_EXT_TSEG_MBYTES);
    if (v == 0xffff) {
        bs.tseg_size = 8u << 20;
        bs.tseg_code = MCH_ESMRAMC_SZ_8M;
        bs.ext_tseg = 0;
    } else {
        if (v == 0 || ((uint64_t)v << 20) + 0x400000 > bs.tolud)
            boot_fatal_kv("tseg-too-small", "mbytes", v);
        bs.tseg_size = (uint32_t)v << 20;
        bs.tseg_code = MCH_ESMRAMC_SZ_EXT;
        bs.ext_tseg = 1;
    }
    pci_write8(PCI_MCH, MCH_SMRAM, MCH_SMRAM_G_SMRAME | 0x02);
    pci_write8(PCI_MCH, MCH_ESMRAMC, (uint8_t)bs.tseg_code);
    bs.tseg_base = (uint32_t)bs.tolud - bs.tseg_size;
    pci_write32(PCI_MCH, MCH_TSEGMB, bs.tseg_base);
    pci_write16(PCI_MCH, MCH_TOLUD, (uint16_t)((bs.tolud >> 16) & 0xfff0));
    struct line l;
    line_begin(&l, "tseg");
    line_hex(&l, "base", bs.tseg_base);
    line_hex(&l, "size", bs.tseg_size);
    line_dec(&l, "ext", (uint64_t)bs.ext_tseg);
    line_end(&l);
    if (bs.s3)
        tseg_attach_s3();
    else
        tseg_populate();
}

/* Step 5: the query must precede any lock write (QEMU drops a lock in the reset state). */
static void probe_window(void)
{
#if SMMFW_LEGACY
    bs.window = 0;
#else
    pci_write8(PCI_MCH, MCH_SMBASE_CTL, MCH_SMBASE_QUERY);
    int window = pci_read8(PCI_MCH, MCH_SMBASE_CTL) == MCH_SMBASE_IN_RAM;
    if (bs.s3 && window != bs.window)
        fatal_simple("s3-platform-changed");
    bs.window = window;
#endif
    bs.smm->window = (uint32_t)bs.window;
    struct line l;
    line_begin(&l, "window");
    line_dec(&l, "present", (uint64_t)bs.window);
    line_end(&l);
}

/* Step 6 (§2.6). */
static void map_add(uint64_t base, uint64_t end, uint32_t type)
{
    if (end > base && bs.nmap < MAX_MAP)
        bs.map[bs.nmap++] = (struct mem_range){base, end - base, type, 0};
}

static void build_memory_map(void)
{
    bs.fw_base = bs.tseg_base - FW_AREA_BYTES;
    map_add(0, WINDOW_BASE, 1);
    map_add(WINDOW_BASE, WINDOW_BASE + WINDOW_SIZE, 2);
    map_add(WINDOW_BASE + WINDOW_SIZE, PEN_BASE, 1);
    map_add(PEN_BASE, PEN_BASE + 0x1000, 2);
    map_add(0xa0000, 0x100000, 2);
    map_add(0x100000, bs.fw_base, 1);
    map_add(bs.fw_base, bs.fw_base + 0x20000, 3);            /* ACPI tables */
    map_add(bs.fw_base + 0x20000, bs.fw_base + 0x21000, 4);  /* FACS */
    map_add(bs.fw_base + 0x21000, bs.tseg_base, 2);          /* hand-off data */
    map_add(bs.tseg_base, bs.tolud, 2);
    for (unsigned i = 0; i < bs.ne820; i++)
        map_add(bs.e820[i].base, bs.e820[i].base + bs.e820[i].length, 1);
}

/* Step 7 (platform.md §4.6). Buffers are in boot .bss, i.e. normal RAM. */
static uint64_t neg_buf;
static uint8_t neg_ok;

static int negotiate_try(struct fwcfg_file *req, struct fwcfg_file *ok, uint64_t r)
{
    neg_buf = r;
    if (fwcfg_dma_write(req->key, &neg_buf, 8))
        fatal_simple("negotiation");
    neg_ok = 0;
    if (fwcfg_dma_read(ok->key, 0, &neg_ok, 1))
        fatal_simple("negotiation");
    return neg_ok == 1;
}

static void negotiate(void)
{
    struct fwcfg_file sup, req, ok;
    struct line l;

    int have = fwcfg_find("etc/smi/supported-features", &sup);
    have &= fwcfg_find("etc/smi/requested-features", &req);
    have &= fwcfg_find("etc/smi/features-ok", &ok);
    if (!have) {
        if (bs.s3 && bs.negotiated)
            fatal_simple("s3-platform-changed");
        bs.negotiation_absent = 1;
        say("negotiate absent");
        say("warn no-negotiation");
        say("warn hotplug-unprotected");
        return;
    }
    if (sup.size != 8 || req.size != 8 || ok.size != 1)
        fatal_simple("negotiation");
    if (fwcfg_dma_read(sup.key, 0, &neg_buf, 8))
        fatal_simple("negotiation");
    uint64_t S = neg_buf;
    uint64_t R = (S & 1) | (bs.window ? (S & 2) : 0) | ((bs.window && (S & 2)) ? (S & 4) : 0);
#if SMMFW_LEGACY
    R = S & 1;
#endif
    uint64_t stored_n = bs.negotiated;
    if (bs.s3)
        R = bs.requested;
    int accepted = negotiate_try(&req, &ok, R);
    if (bs.s3 && (!accepted || R != stored_n))
        fatal_simple("s3-platform-changed");
    if (!accepted && (R & 6) && !(R & 1)) {
        R &= 1;
        accepted = negotiate_try(&req, &ok, R);
    }
    if (!accepted) {
        line_begin(&l, "fatal negotiation");
        line_hex(&l, "supported", S);
        line_hex(&l, "requested", R);
        fatal_finish(&l);
    }
    bs.supported = S;
    bs.requested = R;
    bs.negotiated = R;
    line_begin(&l, "negotiate");
    line_hex(&l, "supported", S);
    line_hex(&l, "requested", R);
    line_dec(&l, "ok", 1);
    line_hex(&l, "negotiated", R);
    line_end(&l);
    if (!(R & 1))
        say("warn hotplug-unprotected");
}

/* Step 8. */
static void enable_smi(void)
{
    outl(SMI_EN, inl(SMI_EN) | SMI_EN_GBL_SMI_EN | SMI_EN_APMC_EN);
    pci_write16(PCI_LPC, LPC_GEN_PMCON_1, pci_read16(PCI_LPC, LPC_GEN_PMCON_1) | LPC_SMI_LOCK);
    outl(SMI_EN, inl(SMI_EN) & ~SMI_EN_GBL_SMI_EN);
    uint32_t v = inl(SMI_EN);
    if (!(v & SMI_EN_GBL_SMI_EN) || !(pci_read16(PCI_LPC, LPC_GEN_PMCON_1) & LPC_SMI_LOCK))
        fatal_simple("smi-lock");
    struct line l;
    line_begin(&l, "smi enabled");
    line_hex(&l, "smi_en", v);
    line_dec(&l, "smi_lock", 1);
    line_end(&l);
}

/* Step 9 (§2.2, §2.3). */
static void install_first_smi(void)
{
    struct fwcfg_file f;
    volatile struct first_smi_ctx *c = FSC_CTX;

    memset((void *)(uintptr_t)WINDOW_BASE, 0, WINDOW_SIZE);
    memcpy((void *)(uintptr_t)FIRST_SMI_ENTRY, first_smi_start,
           (size_t)(first_smi_end - first_smi_start));
    c->gate = FSC_GATE_CLOSED;
    c->pen_segment = PEN_SEGMENT;
    c->magic = FSC_MAGIC;
    c->version = 1;
    if (fwcfg_find("etc/msr_feature_control", &f) && f.size == 8) {
        uint64_t v = 0;
        fwcfg_read_key(f.key, &v, 8);
        c->feature_control_lo = (uint32_t)v;
        c->feature_control_hi = (uint32_t)(v >> 32);
        c->feature_control_valid = 1;
    }
    reloc_copy_pen();
    if (!bs.s3)
        tseg_install_stubs(); /* on S3 resume the tiles survive in TSEG */
    struct line l;
    line_begin(&l, "first-smi installed");
    line_hex(&l, "handler", FIRST_SMI_ENTRY);
    line_hex(&l, "context", WINDOW_BASE);
    line_hex(&l, "pen", PEN_BASE);
    line_end(&l);
}

/* Step 10: boot CPU first (an SMI to itself), then the APs in slot order. */
static void relocate_all(void)
{
    struct smm_data *d = bs.smm;

    d->requested = bs.requested;
    d->negotiated = bs.negotiated;
    for (uint32_t s = 0; s < bs.possible && bs.s3; s++) {
        /* §9 step 6: reconcile the table with the enabled bits */
        struct cpu_entry *c = &d->cpu[s];
        const char *warn = 0;
        if (!bs.present_at_boot[s] && c->state != CPU_ABSENT)
            warn = "warn s3-cpu-gone";
        else if (bs.present_at_boot[s] && c->state == CPU_ABSENT)
            warn = "warn s3-cpu-appeared";
        c->state = CPU_ABSENT;
        c->expected = c->arrived = c->parked = 0;
        if (warn) {
            struct line l;
            line_begin(&l, warn);
            line_dec(&l, "apic", c->apic_id);
            line_dec(&l, "slot", s);
            line_end(&l);
        }
    }
    for (uint32_t s = 0; s < bs.possible; s++) {
        if (!bs.present_at_boot[s])
            continue;
        if (reloc_cpu(d, s, bs.s3 ? PHASE_S3 : PHASE_BOOT) != RELOC_OK)
            boot_fatal_kv("relocation stage=arrive", "apic", bs.apic[s]);
    }
}

/* Step 11: L3 TSEG, L4 window, L5 D_LCK, then verify each. */
static void lock_and_verify(void)
{
    uint8_t esmramc = (uint8_t)(bs.tseg_code | MCH_ESMRAMC_T_EN);

    bs.smm->runtime = 1;
    if (!bs.s3)
        tseg_write_header();
    pci_write8(PCI_MCH, MCH_ESMRAMC, esmramc);
    if (bs.window)
        pci_write8(PCI_MCH, MCH_SMBASE_CTL, MCH_SMBASE_LCK);
    pci_write8(PCI_MCH, MCH_SMRAM, MCH_SMRAM_G_SMRAME | MCH_SMRAM_D_LCK | 0x02);
    bs.smm = 0; /* unreachable from here on */

    int ok = pci_read8(PCI_MCH, MCH_SMRAM) == 0x1a;
    ok &= (pci_read8(PCI_MCH, MCH_ESMRAMC) & 0x87) == esmramc;
    pci_write8(PCI_MCH, MCH_ESMRAMC, 0);
    ok &= (pci_read8(PCI_MCH, MCH_ESMRAMC) & 0x87) == esmramc;
    if (bs.window) {
        ok &= pci_read8(PCI_MCH, MCH_SMBASE_CTL) == MCH_SMBASE_LCK;
        ok &= *(volatile uint8_t *)(uintptr_t)FIRST_SMI_ENTRY == 0xff;
    }
    ok &= *(volatile uint8_t *)(uintptr_t)bs.tseg_base == 0xff;
    if (!ok)
        fatal_simple("lock-failed");
    struct line l;
    line_begin(&l, "locked");
    line_dec(&l, "tseg", 1);
    line_dec(&l, "window", (uint64_t)bs.window);
    line_dec(&l, "d_lck", 1);
    line_end(&l);
}

static void read_system_states(void)
{
    struct fwcfg_file f;

    bs.system_states[3] = 0;
    if (fwcfg_find("etc/system-states", &f) && f.size == 6)
        fwcfg_read_key(f.key, bs.system_states, 6);
    bs.s3_enabled = (bs.system_states[3] & 0x80) != 0;
}

void s3_wake_jump(uint32_t vector);

/* §9 step 8: after every lock, enter the OS's FACS waking vector in real mode. */
static void s3_wake(void)
{
    const volatile uint8_t *facs = (const volatile uint8_t *)(uintptr_t)bs.facs;
    uint32_t vector = *(const volatile uint32_t *)(facs + 12);

    if (vector == 0 || vector >= 0x100000)
        boot_fatal_kv("s3-no-vector", "facs", bs.facs);
    struct line l;
    line_begin(&l, "s3 wake");
    line_hex(&l, "vector", vector);
    line_end(&l);
    s3_wake_jump(vector);
}

void boot_main(void)
{
    struct line l;

    /* §9 step 2: CMOS 0x0F = 0xFE and S3 enabled; the SMRAM header is checked later. */
    int wake = cmos_read(0x0f) == 0xfe;
    if (wake && fwcfg_detect()) {
        read_system_states();
        bs.s3 = bs.s3_enabled;
    }
    line_begin(&l, "start");
    line_str(&l, "version", SMMFW_VERSION);
    line_str(&l, "boot", bs.s3 ? "s3" : "normal");
    line_end(&l);
    check_reentry();
    detect_platform();
    if (wake && !bs.s3)
        say("warn s3-disabled");
    /* Local APIC on (SVR bit 8) before any IPI. */
    wrmsr(APIC_BASE_MSR, rdmsr(APIC_BASE_MSR) | APIC_BASE_ENABLE);
    mmio_write32(APIC_DEFAULT_BASE + 0xf0, 0x1ff);
    outb(0x70, 0x0f);
    outb(0x71, 0);
    size_ram();
    discover_cpus();
    size_tseg();
    probe_window();
    build_memory_map();
    negotiate();
    read_system_states();
    enable_smi();
    install_first_smi();
    relocate_all();
    lock_and_verify();
    if (bs.s3)
        s3_wake();
    payload_load_and_run();
}
