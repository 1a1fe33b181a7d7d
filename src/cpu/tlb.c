/*
 * tlb.c - the software TLB and the slow paths of memory access (cpu.md §5.6,
 * §5.7). A hit costs a tag compare and a host access; everything else comes
 * here: misses, MMIO, ROM writes, pages holding decoded code, accesses that
 * cross a page. Flushes are O(1): the epoch in every tag is bumped.
 */
#include "cpu/cpu_impl.h"
#include "mem/memory.h"

void cpu_tlb_flush(struct cpu *c)
{
    if (++c->tlb.epoch >= 0x1000) {
        memset(c->tlb.entry, 0, sizeof(c->tlb.entry));
        c->tlb.epoch = 1;
    }
}

/* Translates `la` and refills its entry in the class of `user`. */
struct tlb_entry *tlb_fill(struct cpu *c, uint64_t la, enum access acc, bool user)
{
    bool writable, exec_ok, dirty;
    uint64_t pa = cpu_translate(c, la, acc, user, &writable, &exec_ok, &dirty);
    struct tlb_entry *e = &c->tlb.entry[user ? TLB_USER : TLB_SUPERVISOR][(la >> 12) & (TLB_SIZE - 1)];
    uint64_t tag = tlb_tag(c, la);
    struct mem_page page;
    mem_space_page(c->as, pa & ~0xFFFull, &page);
    if (apic_claims(c, pa))
        page = (struct mem_page){ 0 }; /* the APIC page overlays whatever is below it */
    e->paddr = pa & ~0xFFFull;
    e->block = page.block;
    e->block_offset = page.block_offset;
    e->tag_read = e->tag_write = e->tag_exec = 0;
    e->host_writable = page.writable;
    /* Only canonical pages are cached (tlb_host() relies on it); a system
     * access through a non-canonical table base goes the slow way each time. */
    bool canonical = !c->long_mode || (uint64_t)((int64_t)(la << 16) >> 16) == la;
    if (page.host && canonical) {
        e->addend = (uintptr_t)page.host - (uintptr_t)(la & ~0xFFFull);
        e->tag_read = tag;
        if (exec_ok)
            e->tag_exec = tag;
        /* Writes go fast only to dirty, writable RAM holding no decoded code. */
        if (writable && dirty && page.writable && !ram_block_page_has_code(page.block, page.block_offset))
            e->tag_write = tag;
    } else {
        e->addend = 0;
    }
    return e;
}

static uint64_t read_one_page(struct cpu *c, uint64_t la, unsigned size, enum access acc, bool user)
{
    struct tlb_entry *e = tlb_fill(c, la, acc, user);
    if (e->tag_read == tlb_tag(c, la))
        return load_host((const uint8_t *)(uintptr_t)(la + e->addend), size);
    /* A device may make an event pending: the block ends after this access
     * (cpu.md §5.4), so the run loop sees it at the next instruction. */
    c->block_exit = true;
    uint64_t pa = e->paddr | (la & 0xFFF);
    if (apic_claims(c, pa))
        return apic_mmio_read(c, pa, size);
    return mem_read(c->as, pa, size);
}

uint64_t mem_read_slow(struct cpu *c, uint64_t la, unsigned size, enum access acc, bool user)
{
    cpu_sync_rip(c); /* a device may read the clock (icount) or log RIP */
    if (!c->long_mode)
        la = (uint32_t)la;
    if ((c->data_class == TLB_NOFILL) && acc != ACC_EXEC && (la & (size - 1)))
        cpu_fault(c, EXC_AC, 0);
    unsigned first = 0x1000 - (unsigned)(la & 0xFFF);
    if (first >= size)
        return read_one_page(c, la, size, acc, user);
    /* Page-crossing: both translations before combining. */
    uint64_t lo = 0, hi = 0;
    for (unsigned k = 0; k < first; k++)
        lo |= read_one_page(c, la + k, 1, acc, user) << (8 * k);
    uint64_t la2 = c->long_mode ? la + first : (uint32_t)(la + first);
    for (unsigned k = 0; k < size - first; k++)
        hi |= read_one_page(c, la2 + k, 1, acc, user) << (8 * k);
    return lo | (hi << (8 * first));
}

static void write_phys(struct cpu *c, struct tlb_entry *e, uint64_t la, unsigned size, uint64_t v)
{
    uint64_t pa = e->paddr | (la & 0xFFF);
    if (e->host_writable && e->tag_read == tlb_tag(c, la)) {
        /* RAM reached through the slow path: a code page or a clean page. */
        store_host((uint8_t *)(uintptr_t)(la + e->addend), size, v);
        mem_note_ram_write(c->as->sys, e->block, e->block_offset + (la & 0xFFF), size);
        return;
    }
    c->block_exit = true; /* a device: as in read_one_page() */
    if (apic_claims(c, pa)) {
        apic_mmio_write(c, pa, size, (uint32_t)v);
        return;
    }
    mem_write(c->as, pa, v, size);
}

void mem_write_slow(struct cpu *c, uint64_t la, unsigned size, uint64_t v, bool user)
{
    cpu_sync_rip(c);
    if (!c->long_mode)
        la = (uint32_t)la;
    if ((c->data_class == TLB_NOFILL) && (la & (size - 1)))
        cpu_fault(c, EXC_AC, 0);
    unsigned first = 0x1000 - (unsigned)(la & 0xFFF);
    if (first >= size) {
        struct tlb_entry *e = tlb_fill(c, la, ACC_WRITE, user);
        write_phys(c, e, la, size, v);
        return;
    }
    uint64_t la2 = c->long_mode ? la + first : (uint32_t)(la + first);
    /* Check both pages before the first byte is written (cpu.md §3). */
    tlb_fill(c, la, ACC_WRITE, user);
    tlb_fill(c, la2, ACC_WRITE, user);
    for (unsigned k = 0; k < size; k++) {
        uint64_t a = k < first ? la + k : la2 + (k - first);
        struct tlb_entry *e = tlb_fill(c, a, ACC_WRITE, user);
        write_phys(c, e, a, 1, (v >> (8 * k)) & 0xFF);
    }
}

void mem_probe_write(struct cpu *c, uint64_t la, unsigned size)
{
    if (!c->long_mode)
        la = (uint32_t)la;
    bool user = c->cpl == 3;
    tlb_fill(c, la, ACC_WRITE, user);
    uint64_t last = la + size - 1;
    if (!c->long_mode)
        last = (uint32_t)last;
    if ((last & ~0xFFFull) != (la & ~0xFFFull))
        tlb_fill(c, last, ACC_WRITE, user);
}

uint64_t rm_read_mem(struct cpu *c, const struct insn *i, unsigned size)
{
    return seg_read(c, i->seg, insn_ea(c, i), size);
}

void rm_write_mem(struct cpu *c, const struct insn *i, unsigned size, uint64_t v)
{
    seg_write(c, i->seg, insn_ea(c, i), size, v);
}
