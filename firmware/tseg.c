/*
 * tseg.c - populating TSEG while it is still plain RAM (firmware.md §2.4, §3 steps 4 and 9):
 * the SMM image, its data (CPU table, GDT, IDT), the SMM page tables, the per-slot stacks,
 * one entry stub per possible slot and the SMRAM header.
 */
#include "boot.h"
#include "cpu/smm_state.h" /* the emulator's save-state map */
#include "hw.h"
#include "lib.h"
#include "save_offsets.h"

/* The first-SMI handler (stub.S) hard-codes these; they must match the emulator's layout. */
#define SEG_CS_FIELD(f) (SMM_SAVE_OFFSET + SMM_SEG_CS * sizeof(struct smm_seg) + \
                         __builtin_offsetof(struct smm_seg, f))
_Static_assert(SEG_CS_FIELD(selector) == SAVE_CS_SELECTOR, "CS selector");
_Static_assert(SEG_CS_FIELD(attributes) == SAVE_CS_ATTR, "CS attributes");
_Static_assert(SEG_CS_FIELD(limit) == SAVE_CS_LIMIT, "CS limit");
_Static_assert(SEG_CS_FIELD(base) == SAVE_CS_BASE, "CS base");
_Static_assert(SMM_STATE_OFFSET_OF(auto_halt) == SAVE_AUTO_HALT, "auto-HALT");
_Static_assert(SMM_STATE_OFFSET_OF(revision_id) == SAVE_REVISION, "revision");
_Static_assert(SMM_STATE_OFFSET_OF(smbase) == SAVE_SMBASE, "SMBASE");
_Static_assert(SMM_STATE_OFFSET_OF(cr0) == SAVE_CR0, "CR0");
_Static_assert(SMM_STATE_OFFSET_OF(rflags) == SAVE_RFLAGS, "RFLAGS");
_Static_assert(SMM_STATE_OFFSET_OF(rip) == SAVE_RIP, "RIP");
_Static_assert(SMM_ENTRY_OFFSET == 0x8000 && SMM_DEFAULT_SMBASE == WINDOW_BASE, "entry, SMBASE");

extern const char smm_image_start[], smm_image_end[];
extern const char smm_stub_start[], smm_stub_end[], smm_stub_32[], smm_stub_64[];

static uint32_t img_base, pt_base, stacks_base;
static const struct smm_image_head *head;

static uint32_t align_up(uint32_t v, uint32_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static uint32_t head_field(const int32_t *field)
{
    /* every field is relative to its own address in the image */
    return (uint32_t)((const char *)field - (const char *)head + *field);
}

#define PTE_P   0x1ull
#define PTE_RW  0x2ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_PS  0x80ull
#define PTE_NX  (1ull << 63)

/* SMM page tables (§4.1): identity 0-4 GiB, only TSEG and the window executable, the APIC
 * page and everything at or above TOLUD uncached. */
static uint32_t build_smm_page_tables(uint32_t at)
{
    uint64_t *pml4 = (uint64_t *)(uintptr_t)at;
    uint64_t *pdpt = pml4 + 512;
    uint64_t *pd = pdpt + 512;
    uint64_t *pt = pd + 4 * 512;
    uint32_t next_pt = at + 6 * 4096;
    uint64_t B = bs.tseg_base, E = (uint64_t)bs.tseg_base + bs.tseg_size;

    memset(pml4, 0, 6 * 4096);
    pml4[0] = (uint64_t)(uintptr_t)pdpt | PTE_P | PTE_RW;
    for (int i = 0; i < 4; i++)
        pdpt[i] = (uint64_t)(uintptr_t)(pd + 512 * i) | PTE_P | PTE_RW;
    for (uint64_t i = 0; i < 2048; i++) {
        uint64_t a = i << 21;
        int split = a == 0 || (a < E && a + 0x200000 > B);
        if (!split) {
            pd[i] = a | PTE_P | PTE_RW | PTE_PS | PTE_NX;
            if (a >= bs.tolud)
                pd[i] |= PTE_PCD | PTE_PWT;
            continue;
        }
        pt = (uint64_t *)(uintptr_t)next_pt;
        next_pt += 4096;
        for (uint64_t j = 0; j < 512; j++) {
            uint64_t p = a + (j << 12);
            int exec = (p >= B && p < E) || (p >= WINDOW_BASE && p < WINDOW_BASE + WINDOW_SIZE);
            pt[j] = p | PTE_P | PTE_RW | (exec ? 0 : PTE_NX);
            if (p >= bs.tolud)
                pt[j] |= PTE_PCD | PTE_PWT;
        }
        pd[i] = (uint64_t)(uintptr_t)pt | PTE_P | PTE_RW;
    }
    return next_pt;
}

static uint32_t count_split_chunks(void)
{
    uint64_t B = bs.tseg_base, E = (uint64_t)bs.tseg_base + bs.tseg_size;
    uint32_t n = 1; /* chunk 0 (the window) */

    for (uint64_t a = 0x200000; a < 0x100000000ull; a += 0x200000) {
        if (a < E && a + 0x200000 > B)
            n++;
    }
    return n;
}

static uint32_t file_bytes, bss_off, mem_bytes;

/* The layout is a pure function of B, S, P and the image, so S3 resume recomputes it. */
static uint64_t tseg_layout(void)
{
    uint32_t B = bs.tseg_base, P = bs.possible;

    head = (const struct smm_image_head *)smm_image_start;
    file_bytes = (uint32_t)(smm_image_end - smm_image_start);
    bss_off = head_field(&head->bss_rel);
    mem_bytes = head_field(&head->end_rel);
    uint32_t tiles_end = B + TILE_OFFSET + (P - 1) * TILE_STRIDE + 0x10000;
    img_base = align_up(tiles_end, 4096);
    pt_base = align_up(img_base + mem_bytes, 4096);
    stacks_base = pt_base + (6 + count_split_chunks()) * 4096;
    return (uint64_t)stacks_base + (uint64_t)P * SMM_STACK_BYTES;
}

static struct smm_data *tseg_data(void)
{
    return (struct smm_data *)(uintptr_t)(img_base + head_field(&head->data_rel));
}

void tseg_populate(void)
{
    uint32_t B = bs.tseg_base, P = bs.possible;
    uint64_t end = tseg_layout();

    if (end > (uint64_t)B + bs.tseg_size) {
        struct line l;

        line_begin(&l, "fatal tseg-too-small");
        line_hex(&l, "size", bs.tseg_size);
        line_hex(&l, "needed", end - B);
        fatal_finish(&l);
    }

    memset((void *)(uintptr_t)B, 0, (size_t)(end - B));
    memcpy((void *)(uintptr_t)img_base, smm_image_start, file_bytes);
    memset((void *)(uintptr_t)(img_base + bss_off), 0, mem_bytes - bss_off);

    struct smm_data *d = tseg_data();
    bs.smm = d;
    d->magic = SMM_DATA_MAGIC;
    d->possible = P;
    d->boot_apic = bs.boot_apic;
    d->wfs_mode = WFS_UNKNOWN;
    d->tseg_base = B;
    d->tseg_size = bs.tseg_size;
    d->tolud = (uint32_t)bs.tolud;
    d->pmbase = PMBASE;
    for (uint32_t s = 0; s < P; s++) {
        d->cpu[s].apic_id = bs.apic[s];
        d->cpu[s].smbase = B + TILE_OFFSET + s * TILE_STRIDE;
        d->cpu[s].state = CPU_ABSENT;
    }
    d->gdt[0] = 0;
    d->gdt[1] = 0x00af9b000000ffffull;
    d->gdt[2] = 0x00cf93000000ffffull;
    d->gdt[3] = 0x00cf9b000000ffffull;
    uint64_t exc = img_base + head_field(&head->exc_rel);
    for (int v = 0; v < 32; v++) {
        uint64_t h = exc + (uint64_t)v * 16;
        d->idt[2 * v] = (h & 0xffff) | ((uint64_t)SEL_CODE64 << 16) | (0x8eull << 40) |
                        (((h >> 16) & 0xffff) << 48);
        d->idt[2 * v + 1] = h >> 32;
    }
    build_smm_page_tables(pt_base);
}

void tseg_install_stubs(void)
{
    uint32_t stub_bytes = (uint32_t)(smm_stub_end - smm_stub_start);
    struct smm_data *d = bs.smm;

    for (uint32_t s = 0; s < bs.possible; s++) {
        uint32_t smbase = d->cpu[s].smbase;
        uint32_t entry = smbase + 0x8000;
        struct stub_params *p = (struct stub_params *)(uintptr_t)(entry + STUB_PARAMS_OFFSET);

        memcpy((void *)(uintptr_t)entry, smm_stub_start, stub_bytes);
        memset(p, 0, sizeof(*p));
        p->self = entry + STUB_PARAMS_OFFSET;
        p->gdt_limit = sizeof(d->gdt) - 1;
        p->gdt_base = (uint32_t)(uintptr_t)d->gdt;
        p->jmp32_off = entry + (uint32_t)(smm_stub_32 - smm_stub_start);
        p->jmp32_sel = SEL_CODE32;
        p->jmp64_off = entry + (uint32_t)(smm_stub_64 - smm_stub_start);
        p->jmp64_sel = SEL_CODE64;
        p->cr3 = pt_base;
        p->slot = s;
        p->rsp = (uint64_t)stacks_base + (uint64_t)(s + 1) * SMM_STACK_BYTES;
        p->idt_limit = sizeof(d->idt) - 1;
        p->idt_base = (uint64_t)(uintptr_t)d->idt;
        p->entry = img_base + head_field(&head->entry_rel);
    }
}

void tseg_write_header(void)
{
    struct smram_header *h = (struct smram_header *)(uintptr_t)bs.tseg_base;
    struct smm_data *d = bs.smm;

    memset(h, 0, sizeof(*h));
    memcpy(h->magic, "SMMFWSMR", 8);
    h->layout_version = SMRAM_LAYOUT_VERSION;
    h->possible = bs.possible;
    h->boot_apic = bs.boot_apic;
    h->window = (uint32_t)bs.window;
    h->requested = bs.requested;
    h->negotiated = bs.negotiated;
    h->wfs_mode = d->wfs_mode;
    h->tseg_size = bs.tseg_size;
    h->facs = bs.fw_base + 0x20000;
    h->smm_data = (uint32_t)(uintptr_t)d;
    uint32_t sum = 0;
    const uint32_t *w = (const uint32_t *)h;
    for (unsigned i = 0; i < __builtin_offsetof(struct smram_header, checksum) / 4; i++)
        sum += w[i];
    h->checksum = 0u - sum;
}

static uint32_t header_sum(const struct smram_header *h)
{
    uint32_t sum = 0;
    const uint32_t *w = (const uint32_t *)h;

    for (unsigned i = 0; i < __builtin_offsetof(struct smram_header, checksum) / 4; i++)
        sum += w[i];
    return sum + h->checksum;
}

/* §9 steps 2-3: TSEG is plain RAM again (T_EN = 0 after the wake reset); find what the last
 * boot left there and check that the platform still matches it. */
void tseg_attach_s3(void)
{
    const struct smram_header *h = (const struct smram_header *)(uintptr_t)bs.tseg_base;

    if (memcmp(h->magic, "SMMFWSMR", 8) != 0 || h->layout_version != SMRAM_LAYOUT_VERSION ||
        header_sum(h) != 0)
        fatal_simple("s3-smram-invalid");
    if (h->tseg_size != bs.tseg_size || h->possible != bs.possible)
        fatal_simple("s3-platform-changed");
    uint64_t end = tseg_layout();
    struct smm_data *d = tseg_data();
    if (end > (uint64_t)bs.tseg_base + bs.tseg_size || h->smm_data != (uint32_t)(uintptr_t)d ||
        d->magic != SMM_DATA_MAGIC || d->possible != bs.possible)
        fatal_simple("s3-smram-invalid");
    for (uint32_t s = 0; s < bs.possible; s++) {
        if (d->cpu[s].apic_id != bs.apic[s])
            fatal_simple("s3-platform-changed");
    }
    bs.smm = d;
    bs.facs = h->facs;
    bs.window = (int)h->window;
    bs.requested = h->requested;
    bs.negotiated = h->negotiated;
    d->runtime = 0;
    d->open = 0;
    d->console_lock = 0;
}
