/*
 * main.c - smmfw's test payload (an ELF64 loaded by smmfw from fw_cfg): checks the boot info,
 * probes the locked window and the SMRAM registers, and then plays the OS side of CPU hot-plug
 * the way QEMU's AML does (firmware.md §6.1): it watches GPE0 bit 2, collects inserted CPUs,
 * raises APM command 4 before "notifying", starts new CPUs with INIT-SIPI-SIPI, and hands eject
 * requests to SMM through fw_remove + APM 4. Output: "payload: ..." lines on the debug console.
 *
 * Command line (fw_cfg opt/org.smmvm/cmdline), each option selects one §14 behaviour:
 *   no-online      do not start hot-added CPUs        reentry        INIT to the boot CPU (#12)
 *   apm-spam       three APM 4 with no event (#31)    r1             leave inserts set once (#18)
 *   hostile-smi    SMI IPI to new CPUs, no APM (#30)  os-eject       eject bit written by us (#27)
 *   fw-remove-only fw_remove without the SMI (#41)    batch-eject    one SMI for all ejects (#24)
 *   directed-smi   SMI IPI to every CPU (#6)          early-start    start new CPUs first (#29)
 *   smash-pen      overwrite the pen (#28)            apic-disable   disable the APIC (#32)
 *   ap-apm         raise APM 4 from an AP (#17)       s3=N           suspend after N CPU events
 */
#include <stddef.h>
#include <stdint.h>

void payload_main(const void *bootinfo);
extern const char ap_tramp_start[], ap_tramp_end[];
extern const char ap_mail_start[], ap_mail_end[];
extern const char s3_stub_start[], s3_stub_end[], s3_cr3[];
void payload_resume(void);
static int suspended;
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0,%1" : : "a"(v), "Nd"(p)); }

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0,%1" : : "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0,%1" : : "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1,%0" : "=a"(v) : "Nd"(p)); return v; }

struct __attribute__((packed)) boot_info {
    uint64_t magic;
    uint32_t version, size;
    uint64_t rsdp, map;
    uint32_t map_count, flags;
    uint64_t negotiated;
    uint32_t possible, present, boot_apic, pen;
    uint64_t cpu_list, cmdline;
    uint16_t debug_port, pmbase, cpuhp_base, zero;
    uint64_t tseg_base, tseg_size;
};

static void puts_(const char *s)
{
    while (*s)
        outb(0x402, (uint8_t)*s++);
}

static void putn(uint64_t v, int hex)
{
    char t[24];
    int n = 0;
    if (hex)
        puts_("0x");
    do {
        t[n++] = "0123456789abcdef"[hex ? v % 16 : v % 10];
        v = hex ? v / 16 : v / 10;
    } while (v);
    while (n)
        outb(0x402, (uint8_t)t[--n]);
}

static void kv(const char *k, uint64_t v, int hex)
{
    puts_(" ");
    puts_(k);
    puts_("=");
    putn(v, hex);
}

static int has_opt(const char *cmd, const char *opt)
{
    if (!cmd)
        return 0;
    for (const char *p = cmd; *p; p++) {
        const char *a = p, *b = opt;
        while (*b && *a == *b) {
            a++;
            b++;
        }
        if (!*b && (*a == 0 || *a == ' ') && (p == cmd || p[-1] == ' '))
            return 1;
    }
    return 0;
}

static uint32_t pm_now(void)
{
    return inl(0x608) & 0xffffff;
}

static void delay_ms(uint32_t ms)
{
    uint64_t want = (uint64_t)ms * 3580, got = 0;
    uint32_t last = pm_now();
    while (got < want) {
        uint32_t now = pm_now();
        got += (now - last) & 0xffffff;
        last = now;
        __asm__ volatile("pause");
    }
}

#define APIC 0xfee00000ul
static void ipi(uint32_t dest, uint32_t lo)
{
    *(volatile uint32_t *)(APIC + 0x310) = dest << 24;
    *(volatile uint32_t *)(APIC + 0x300) = lo;
    for (int i = 0; i < 100000 && (*(volatile uint32_t *)(APIC + 0x300) & (1u << 12)); i++)
        __asm__ volatile("pause");
}

/* QEMU TCG takes an SMI raised by an OUT only at the next translation-block boundary
 * (platform.md §6.2), so a few branches follow the OUT before anything else touches the
 * hot-plug block; an AML interpreter naturally has them. */
static void apm_smi(uint8_t cmd)
{
    outb(0xb2, cmd);
    for (int i = 0; i < 64; i++)
        __asm__ volatile("pause" : : : "memory");
}

static const struct boot_info *bi;
static int r1_done;
static unsigned onlined;
static const char *cmdline;
static uint32_t *cpu_list;

static void online(uint32_t sel)
{
    uint32_t apic = cpu_list[2 * sel];
    volatile uint32_t *counter = (volatile uint32_t *)0x8100;
    uint32_t before = *counter;

    ipi(apic, 0x4500);
    delay_ms(10);
    ipi(apic, 0x4608);
    delay_ms(1);
    if (*counter == before)
        ipi(apic, 0x4608);
    for (int i = 0; i < 200 && *counter == before; i++)
        delay_ms(1);
    onlined++;
    puts_("payload: cpu online");
    kv("apic", apic, 0);
    kv("ok", *counter != before, 0);
    puts_("\n");
}

/* One pass of QEMU's CSCN, as an OS would run it from the GPE handler. */
static void cscn(void)
{
    uint32_t P = bi->possible;
    uint32_t collected[256];
    uint32_t ejects[256];
    unsigned nej = 0;

    for (;;) {
        unsigned n = 0;
        uint32_t cur = 0;
        while (cur < P) {
            outl(0xcd8, cur);
            outb(0xcdd, 0);
            uint32_t p = inl(0xce0);
            if (p < cur)
                break;
            uint8_t st = inb(0xcdc);
            if (st & 0x02) {
                collected[n++] = p;
            } else if (st & 0x04) {
                puts_("payload: eject request");
                kv("sel", p, 0);
                puts_("\n");
                outb(0xcdc, 0x04);
                outl(0xcd8, p);
                if (has_opt(cmdline, "batch-eject")) {
                    /* #24: several fw_remove requests answered by a single SMI */
                    outb(0xcdc, 0x10);
                    ejects[nej++] = p;
                    cur = p + 1;
                    continue;
                }
                if (has_opt(cmdline, "fw-remove-only")) {
                    /* #41: request the eject from SMM but never raise the SMI */
                    outb(0xcdc, 0x10);
                    puts_("payload: fw_remove set");
                    kv("sel", p, 0);
                    kv("status", inb(0xcdc), 1);
                    puts_("\n");
                    cur = p + 1;
                    continue;
                }
                if (has_opt(cmdline, "os-eject")) {
                    /* #27: eject an admitted CPU behind SMM's back, then raise a round */
                    outb(0xcdc, 0x08);
                    apm_smi(4);
                } else if (bi->negotiated & 4) {
                    outb(0xcdc, 0x10);
                    apm_smi(4);
                } else {
                    outb(0xcdc, 0x08);
                }
                outl(0xcd8, p);
                onlined++; /* counts towards the s3= trigger too */
                puts_("payload: eject done");
                kv("sel", p, 0);
                kv("status", inb(0xcdc), 1);
                puts_("\n");
            } else {
                break;
            }
            cur = p + 1;
        }
        if (nej) {
            apm_smi(4);
            for (unsigned i = 0; i < nej; i++) {
                outl(0xcd8, ejects[i]);
                onlined++;
                puts_("payload: eject done");
                kv("sel", ejects[i], 0);
                kv("status", inb(0xcdc), 1);
                puts_("\n");
            }
            nej = 0;
        }
        if (!n)
            return;
        if (has_opt(cmdline, "hostile-smi")) {
            /* #30: SMI IPI to the unrelocated CPU, drop the insert event, never ask SMM */
            for (unsigned i = 0; i < n; i++) {
                ipi(cpu_list[2 * collected[i]], 0x4200);
                delay_ms(5);
                outl(0xcd8, collected[i]);
                outb(0xcdc, 0x02);
            }
            apm_smi(0);
            apm_smi(4);
            puts_("payload: hostile done\n");
            return;
        }
        if (has_opt(cmdline, "early-start")) {
            /* #29: the OS starts the new CPUs itself (real mode) before the hot-plug SMI */
            for (unsigned i = 0; i < n; i++)
                online(collected[i]);
        }
        if ((bi->negotiated & 2) && has_opt(cmdline, "ap-apm")) {
            volatile uint32_t *req = (volatile uint32_t *)0x9104;
            *req = 1;
            for (int i = 0; i < 2000 && *req; i++)
                delay_ms(1);
            puts_("payload: apm 4 raised by an ap");
            kv("ok", *req == 0, 0);
            puts_("\n");
        } else if (bi->negotiated & 2) {
            apm_smi(4);
        }
        if (has_opt(cmdline, "smash-pen")) {
            /* the relocated CPU reaches the pen only when the round ends on every CPU */
            for (int i = 0; i < 100 && *(volatile uint8_t *)0x9ffff != 1; i++)
                delay_ms(1);
            puts_("payload: pen");
            kv("first", *(volatile uint8_t *)0x9f000, 1);
            kv("flag", *(volatile uint8_t *)0x9ffff, 1);
            puts_("\n");
        }
        if (has_opt(cmdline, "r1") && !r1_done) {
            /* #18: leave the insert events set, as if a CPU arrived after our scan; the next
             * pass raises the SMI again and SMM must skip the CPU it already admitted */
            r1_done = 1;
            puts_("payload: r1 insert left pending\n");
            continue;
        }
        for (unsigned i = 0; i < n; i++) {
            outl(0xcd8, collected[i]);
            outb(0xcdc, 0x02);
            puts_("payload: cpu added");
            kv("sel", collected[i], 0);
            puts_("\n");
            if (!has_opt(cmdline, "no-online"))
                online(collected[i]);
        }
    }
}

/* "key=N" on the command line, or -1 */
static int opt_int(const char *cmd, const char *key)
{
    if (!cmd)
        return -1;
    for (const char *p = cmd; *p; p++) {
        const char *a = p, *k = key;
        while (*k && *a == *k) {
            a++;
            k++;
        }
        if (!*k && *a == '=' && (p == cmd || p[-1] == ' ')) {
            int v = 0;
            for (a++; *a >= '0' && *a <= '9'; a++)
                v = v * 10 + (*a - '0');
            return v;
        }
    }
    return -1;
}

static uint64_t rd64(uint64_t a) { return *(volatile uint64_t *)a; }
static uint32_t rd32(uint64_t a) { return *(volatile uint32_t *)a; }

/* S3: point the FACS waking vector at the real-mode stub, then SLP_TYP 1 + SLP_EN. */
static void suspend(void)
{
    uint64_t xsdt = rd64(bi->rsdp + 24), facs = 0;
    uint32_t len = rd32(xsdt + 4);
    for (uint32_t i = 36; i + 8 <= len; i += 8) {
        uint64_t t = rd64(xsdt + i);
        if (rd32(t) == 0x50434146u) /* "FACP" */
            facs = rd32(t + 36);
    }
    for (const char *c = s3_stub_start; c < s3_stub_end; c++)
        *(volatile char *)(0x7000 + (c - s3_stub_start)) = *c;
    *(volatile uint32_t *)(facs + 12) = 0x7000;
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    *(volatile uint32_t *)(0x7000 + (s3_cr3 - s3_stub_start)) = (uint32_t)cr3;
    suspended = 1;
    puts_("payload: suspending");
    kv("facs", facs, 1);
    puts_("\n");
    outw(0x604, (1u << 10) | (1u << 13));
    for (;;)
        __asm__ volatile("pause");
}

static void event_loop(void);

void payload_main(const void *bootinfo)
{
    bi = bootinfo;
    cmdline = (const char *)(uintptr_t)bi->cmdline;
    cpu_list = (uint32_t *)(uintptr_t)bi->cpu_list;
    int ok = bi->magic == 0x31494257464d4d53ull && bi->version == 1 && bi->size == 0x68;
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    puts_("payload: start");
    kv("bootinfo_ok", ok, 0);
    kv("possible", bi->possible, 0);
    kv("present", bi->present, 0);
    kv("negotiated", bi->negotiated, 1);
    kv("flags", bi->flags, 1);
    kv("rsdp", bi->rsdp, 1);
    kv("map_count", bi->map_count, 0);
    puts_("\n");

    /* §3 step 12: the RSDP copy an OS finds by scanning 0xE0000-0xFFFFF. */
    uint64_t found = 0;
    for (uint64_t a = 0xe0000; a < 0x100000 && !found; a += 16) {
        if (*(volatile uint64_t *)a == 0x2052545020445352ull) /* "RSD PTR " */
            found = a;
    }
    puts_("payload: rsdp-scan");
    kv("at", found, 1);
    kv("match", found && bi->rsdp && *(volatile uint64_t *)(found + 24) ==
                     *(volatile uint64_t *)(bi->rsdp + 24), 0);
    puts_("\n");

    /* The locked window must be a black hole to us (firmware.md §14 #3/#28). */
    volatile uint8_t *w8 = (volatile uint8_t *)0x38000;
    volatile uint32_t *w32 = (volatile uint32_t *)0x30000;
    volatile uint64_t *w64 = (volatile uint64_t *)0x4fff8;
    uint8_t before = *w8;
    *w8 = 0x90;
    *w32 = 0x12345678;
    *w64 = 0x1122334455667788ull;
    puts_("payload: window");
    kv("read8", before, 1);
    kv("after8", *w8, 1);
    kv("read32", *w32, 1);
    kv("read64", *w64, 1);
    puts_("\n");

    /* The SMRAM registers as the OS sees them after hand-off. */
    uint8_t mch[3];
    for (int i = 0; i < 3; i++) {
        outl(0xcf8, 0x80000000u | 0x9c);
        mch[i] = inb((uint16_t)(0xcfc + i));
    }
    puts_("payload: mch");
    kv("smbase_ctl", mch[0], 1);
    kv("smram", mch[1], 1);
    kv("esmramc", mch[2], 1);
    puts_("\n");

    /* AP trampoline for onlining hot-added CPUs. */
    for (const char *s = ap_tramp_start; s < ap_tramp_end; s++)
        *(volatile char *)(0x8000 + (s - ap_tramp_start)) = *s;
    *(volatile uint32_t *)0x8100 = 0;

    if (has_opt(cmdline, "ap-apm")) {
        /* start the first AP in the mailbox loop */
        for (const char *c = ap_mail_start; c < ap_mail_end; c++)
            *(volatile char *)(0x9000 + (c - ap_mail_start)) = *c;
        *(volatile uint32_t *)0x9100 = 0;
        *(volatile uint32_t *)0x9104 = 0;
        uint32_t apic = cpu_list[2];
        ipi(apic, 0x4500);
        delay_ms(10);
        ipi(apic, 0x4609);
        for (int i = 0; i < 200 && !*(volatile uint32_t *)0x9100; i++)
            delay_ms(1);
        puts_("payload: mailbox ap");
        kv("apic", apic, 0);
        kv("ok", *(volatile uint32_t *)0x9100 != 0, 0);
        puts_("\n");
    }
    if (has_opt(cmdline, "apm-spam")) {
        for (int i = 0; i < 3; i++)
            apm_smi(4);
        puts_("payload: apm-spam done\n");
    }
    if (has_opt(cmdline, "reentry")) {
        puts_("payload: sending INIT to the boot CPU\n");
        ipi(bi->boot_apic, 0x4500);
        for (;;)
            __asm__ volatile("pause");
    }
    if (has_opt(cmdline, "smash-pen")) {
        /* #28: overwrite the pen with junk and set its done flag; SMM must re-copy it */
        for (int i = 0; i < 4096; i++)
            *(volatile uint8_t *)(0x9f000ul + i) = 0xcc;
        *(volatile uint8_t *)0x9ffff = 0x55;
    }
    if (has_opt(cmdline, "apic-disable")) {
        /* #32: globally disable the local APIC (IA32_APIC_BASE bit 11) */
        uint32_t lo, hi;
        __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x1b));
        lo &= ~(1u << 11);
        __asm__ volatile("wrmsr" : : "a"(lo), "d"(hi), "c"(0x1b));
        puts_("payload: apic disabled\n");
    }
    if (has_opt(cmdline, "directed-smi")) {
        /* #6: a directed SMI to every present CPU enters its own tile (identity check) */
        for (uint32_t sl = 0; sl < bi->possible; sl++) {
            if (cpu_list[2 * sl + 1] & 1)
                ipi(cpu_list[2 * sl], 0x4200);
            delay_ms(2);
        }
        delay_ms(300);
        puts_("payload: directed smi done\n");
    }
    puts_("payload: ready\n");
    event_loop();
}

void payload_resume(void)
{
    puts_("payload: back in long mode\n");
    event_loop();
}

static void event_loop(void)
{
    int s3_after = opt_int(cmdline, "s3");
    for (;;) {
        if (s3_after >= 0 && onlined >= (unsigned)s3_after && !suspended)
            suspend();
        if (inb(0x620) & 0x04) {
            outb(0x620, 0x04);
            cscn();
        }
        __asm__ volatile("pause");
    }
}
