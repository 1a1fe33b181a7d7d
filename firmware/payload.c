/*
 * payload.c - firmware.md §3 steps 12–14: ACPI tables, loading the ELF64 payload from fw_cfg
 * and the hand-off (boot info, page tables, GDT, stack, interrupt controllers).
 */
#include "boot.h"
#include "fwcfg.h"
#include "hw.h"
#include "lib.h"

void handoff_jump(uint64_t cr3, uint64_t rsp, uint64_t entry, uint64_t bootinfo,
                  const void *gdt_desc);

struct __attribute__((packed)) boot_info {
    uint64_t magic;
    uint32_t version;
    uint32_t size;
    uint64_t rsdp;
    uint64_t map;
    uint32_t map_count;
    uint32_t flags;
    uint64_t negotiated;
    uint32_t possible;
    uint32_t present;
    uint32_t boot_apic;
    uint32_t pen;
    uint64_t cpu_list;
    uint64_t cmdline;
    uint16_t debug_port;
    uint16_t pmbase;
    uint16_t cpuhp_base;
    uint16_t zero;
    uint64_t tseg_base;
    uint64_t tseg_size;
};
_Static_assert(__builtin_offsetof(struct boot_info, tseg_size) == 0x60, "boot info layout");

struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* Layout of the hand-off part of the firmware area (type 2, boot.c build_memory_map). */
#define HO_GDT     0x21000u
#define HO_INFO    0x21100u
#define HO_MAP     0x21400u
#define HO_CPUS    0x21c00u
#define HO_CMDLINE 0x22400u
#define HO_STACK   0x23400u /* 64 KiB, top at HO_STACK + 0x10000 */
#define HO_PT      0x34000u

static int range_usable(uint64_t base, uint64_t end)
{
    if (base < 0x100000 || end < base)
        return 0;
    if (end <= bs.fw_base)
        return 1;
    for (unsigned i = 0; i < bs.ne820; i++) {
        if (base >= bs.e820[i].base && end <= bs.e820[i].base + bs.e820[i].length)
            return 1;
    }
    return 0;
}

static __attribute__((noreturn)) void payload_fatal(const char *reason)
{
    struct line l;

    line_begin(&l, "fatal payload");
    line_str(&l, "reason", reason);
    fatal_finish(&l);
}

static uint64_t load_elf(const struct fwcfg_file *f)
{
    static struct elf64_ehdr eh;
    static struct elf64_phdr ph;

    if (f->size < sizeof(eh) || fwcfg_dma_read(f->key, 0, &eh, sizeof(eh)))
        payload_fatal("header");
    if (memcmp(eh.ident, "\177ELF", 4) != 0 || eh.ident[4] != 2 || eh.ident[5] != 1 ||
        eh.type != 2 || eh.machine != 62 || eh.phentsize != sizeof(ph))
        payload_fatal("not-elf64-exec");
    for (unsigned i = 0; i < eh.phnum; i++) {
        if (fwcfg_dma_read(f->key, (uint32_t)(eh.phoff + i * sizeof(ph)), &ph, sizeof(ph)))
            payload_fatal("phdr");
        if (ph.type != 1)
            continue;
        if (ph.filesz > ph.memsz || ph.offset + ph.filesz > f->size ||
            !range_usable(ph.paddr, ph.paddr + ph.memsz))
            payload_fatal("segment");
        if (ph.filesz &&
            fwcfg_dma_read(f->key, (uint32_t)ph.offset, (void *)(uintptr_t)ph.paddr,
                           (uint32_t)ph.filesz))
            payload_fatal("read");
        memset((void *)(uintptr_t)(ph.paddr + ph.filesz), 0, ph.memsz - ph.filesz);
    }
    return eh.entry;
}

/* Identity map of 0-4 GiB and all RAM above with 2 MiB pages; 0xB0000000-4 GiB uncached. */
static uint64_t build_handoff_tables(void)
{
    uint64_t top = 0x100000000ull;
    for (unsigned i = 0; i < bs.ne820; i++) {
        uint64_t e = bs.e820[i].base + bs.e820[i].length;
        if (e > top)
            top = e;
    }
    uint64_t gib = (top + (1ull << 30) - 1) >> 30;
    uint64_t pml4 = bs.fw_base + HO_PT;
    uint64_t pdpt = pml4 + 0x1000;
    uint64_t npdpt = (gib + 511) / 512;
    uint64_t pd = pdpt + npdpt * 0x1000;
    if (pd + gib * 0x1000 > bs.tseg_base)
        boot_fatal_kv("ram", "gib", gib);
    memset((void *)(uintptr_t)pml4, 0, (size_t)(pd + gib * 0x1000 - pml4));
    uint64_t *l4 = (uint64_t *)(uintptr_t)pml4;
    for (uint64_t i = 0; i < npdpt; i++)
        l4[i] = (pdpt + i * 0x1000) | 3;
    uint64_t *l3 = (uint64_t *)(uintptr_t)pdpt;
    for (uint64_t g = 0; g < gib; g++) {
        l3[g] = (pd + g * 0x1000) | 3;
        uint64_t *l2 = (uint64_t *)(uintptr_t)(pd + g * 0x1000);
        for (uint64_t j = 0; j < 512; j++) {
            uint64_t a = (g << 30) | (j << 21);
            l2[j] = a | 0x83;
            if (a >= 0xb0000000ull && a < 0x100000000ull)
                l2[j] |= 0x18;
        }
    }
    return pml4;
}

static void init_interrupt_controllers(void)
{
    /* 8259s: ICW1-4, vectors 0x20/0x28, then mask everything. */
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    /* I/O APIC: mask every redirection entry. */
    mmio_write32(0xfec00000u, 1);
    uint32_t n = ((mmio_read32(0xfec00010u) >> 16) & 0xff) + 1;
    for (uint32_t i = 0; i < n && i < 240; i++) {
        mmio_write32(0xfec00000u, 0x10 + 2 * i);
        mmio_write32(0xfec00010u, 0x10000);
        mmio_write32(0xfec00000u, 0x11 + 2 * i);
        mmio_write32(0xfec00010u, 0);
    }
    /* Boot CPU's local APIC: enabled, TPR 0. */
    mmio_write32(APIC_DEFAULT_BASE + 0x80, 0);
    mmio_write32(APIC_DEFAULT_BASE + 0xf0, 0x1ff);
}

void payload_load_and_run(void)
{
    struct line l;
    struct fwcfg_file f;

    uint64_t facs = bs.fw_base + 0x20000;
    bs.rsdp = acpi_build(bs.fw_base, bs.fw_base + 0x20000, facs);
    line_begin(&l, "acpi");
    line_hex(&l, "rsdp", bs.rsdp);
    line_dec(&l, "hotplug", (bs.negotiated >> 1) & 1);
    line_dec(&l, "unplug", (bs.negotiated >> 2) & 1);
    line_dec(&l, "s3", (uint64_t)bs.s3_enabled);
    line_end(&l);

    if (!fwcfg_find("opt/org.smmvm/payload", &f)) {
        say("halt reason=no-payload");
        cpu_halt_forever();
    }
    uint64_t entry = load_elf(&f);

    struct boot_info *bi = (struct boot_info *)(uintptr_t)(bs.fw_base + HO_INFO);
    memset(bi, 0, sizeof(*bi));
    bi->magic = 0x31494257464d4d53ull;
    bi->version = 1;
    bi->size = sizeof(*bi);
    bi->rsdp = bs.rsdp;
    struct mem_range *map = (struct mem_range *)(uintptr_t)(bs.fw_base + HO_MAP);
    memcpy(map, bs.map, bs.nmap * sizeof(*map));
    bi->map = (uint64_t)(uintptr_t)map;
    bi->map_count = bs.nmap;
    bi->flags = (uint32_t)bs.window | (uint32_t)((bs.negotiated & 7) << 1) |
                (uint32_t)(bs.s3_enabled << 4);
    bi->negotiated = bs.negotiated;
    bi->possible = bs.possible;
    bi->present = bs.present;
    bi->boot_apic = bs.boot_apic;
    bi->pen = PEN_BASE;
    uint32_t *cpus = (uint32_t *)(uintptr_t)(bs.fw_base + HO_CPUS);
    for (uint32_t s = 0; s < bs.possible; s++) {
        cpus[2 * s] = bs.apic[s];
        cpus[2 * s + 1] = bs.present_at_boot[s] ? 1 : 0;
    }
    bi->cpu_list = (uint64_t)(uintptr_t)cpus;
    struct fwcfg_file cf;
    if (fwcfg_find("opt/org.smmvm/cmdline", &cf)) {
        char *cmd = (char *)(uintptr_t)(bs.fw_base + HO_CMDLINE);
        uint32_t n = cf.size < 4095 ? cf.size : 4095;
        fwcfg_read_key(cf.key, cmd, n);
        cmd[n] = 0;
        bi->cmdline = (uint64_t)(uintptr_t)cmd;
    }
    bi->debug_port = DEBUGCON_PORT;
    bi->pmbase = PMBASE;
    bi->cpuhp_base = CPUHP_SEL;
    bi->tseg_base = bs.tseg_base;
    bi->tseg_size = bs.tseg_size;

    uint64_t *gdt = (uint64_t *)(uintptr_t)(bs.fw_base + HO_GDT);
    gdt[0] = 0;
    gdt[1] = 0x00af9b000000ffffull;
    gdt[2] = 0x00cf93000000ffffull;
    gdt[3] = 0x00cf9b000000ffffull;
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } *desc = (void *)(gdt + 4);
    desc->limit = 4 * 8 - 1;
    desc->base = (uint64_t)(uintptr_t)gdt;

    uint64_t cr3 = build_handoff_tables();
    init_interrupt_controllers();

    line_begin(&l, "payload");
    line_hex(&l, "entry", entry);
    line_hex(&l, "bootinfo", (uint64_t)(uintptr_t)bi);
    line_end(&l);
    say("handoff");
    handoff_jump(cr3, bs.fw_base + HO_STACK + 0x10000, entry, (uint64_t)(uintptr_t)bi, desc);
}
