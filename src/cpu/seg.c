/*
 * seg.c - segmentation: linear-address checks (limits, rights, canonical
 * form), descriptor reads and segment-register loads in every mode.
 * SDM Vol. 3, "Protection" and "Segment Registers"; real-mode loads set
 * selector and base only, so caches loaded in protected mode survive
 * (big-real mode, cpu.md §3).
 */
#include "cpu/cpu_impl.h"

static bool seg_is_code(uint16_t attr)
{
    return attr & 0x08;
}

void seg_refresh(struct cpu *c)
{
    unsigned r = 0, w = 0;
    for (unsigned s = 0; s < SEG_COUNT; s++) {
        uint16_t a = c->seg[s].attr;
        if (!c->protected_mode) {
            r |= 1u << s;
            w |= 1u << s;
            continue;
        }
        if (!(a & SEG_ATTR_P) || !(a & SEG_ATTR_S))
            continue;
        if (seg_is_code(a)) {
            if (a & 0x02)
                r |= 1u << s; /* readable code; never writable */
            continue;
        }
        if (a & 0x04)
            continue; /* expand-down: slow path */
        r |= 1u << s;
        if (a & 0x02)
            w |= 1u << s;
    }
    for (unsigned s = 0; s < SEG_COUNT; s++) {
        uint64_t end = (uint64_t)c->seg[s].limit + 1;
        c->seg_fast_end[0][s] = (r >> s) & 1 ? end : 0;
        c->seg_fast_end[1][s] = (w >> s) & 1 ? end : 0;
    }
}

uint64_t seg_linear_slow(struct cpu *c, unsigned seg, uint64_t off, unsigned size,
                         enum access acc)
{
    int vec = seg == SEG_SS ? EXC_SS : EXC_GP;
    if (c->code_bits == 64) {
        uint64_t la = off + (seg >= SEG_FS ? c->seg[seg].base : 0);
        if ((uint64_t)((int64_t)(la << 16) >> 16) != la)
            cpu_fault(c, vec, 0);
        return la;
    }
    const struct segment *s = &c->seg[seg];
    uint64_t last = off + size - 1;
    if (c->protected_mode) {
        uint16_t a = s->attr;
        if (!(a & SEG_ATTR_P))
            cpu_fault(c, vec, 0);
        if (seg_is_code(a)) {
            if (acc == ACC_WRITE || !(a & 0x02))
                cpu_fault(c, vec, 0);
        } else if (acc == ACC_WRITE && !(a & 0x02)) {
            cpu_fault(c, vec, 0);
        }
        if (!seg_is_code(a) && (a & 0x04)) { /* expand-down */
            uint64_t upper = (a & SEG_ATTR_DB) ? 0xFFFFFFFFull : 0xFFFFull;
            if (off <= s->limit || last > upper)
                cpu_fault(c, vec, 0);
            return (uint32_t)(s->base + off);
        }
    }
    if (last > s->limit || last < off)
        cpu_fault(c, vec, 0);
    return (uint32_t)(s->base + off);
}

uint64_t desc_base(uint64_t d)
{
    return ((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000);
}

uint32_t desc_limit(uint64_t d)
{
    uint32_t limit = (uint32_t)((d & 0xFFFF) | ((d >> 32) & 0xF0000));
    if (d & (1ull << 55))
        limit = (limit << 12) | 0xFFF;
    return limit;
}

void seg_from_desc(struct segment *s, uint16_t selector, uint64_t d)
{
    s->selector = selector;
    s->base = desc_base(d);
    s->limit = desc_limit(d);
    s->attr = (uint16_t)(((d >> 40) & 0xFF) | (((d >> 52) & 0xF) << 12));
}

bool desc_read(struct cpu *c, uint16_t selector, uint64_t *desc)
{
    const struct dtable *t;
    struct dtable ldt;
    if (selector & 4) {
        if (!(c->ldtr.attr & SEG_ATTR_P))
            return false;
        ldt.base = c->ldtr.base;
        ldt.limit = c->ldtr.limit;
        t = &ldt;
    } else {
        t = &c->gdtr;
    }
    uint32_t index = selector & ~7u;
    if ((uint64_t)index + 7 > t->limit)
        return false;
    uint64_t la = t->base + index;
    if (!c->long_mode)
        la = (uint32_t)la;
    *desc = sys_read(c, la, 8);
    return true;
}

uint64_t desc_fetch(struct cpu *c, uint16_t selector)
{
    if ((selector & ~3u) == 0)
        GP0(c);
    uint64_t d;
    if (!desc_read(c, selector, &d))
        cpu_fault(c, EXC_GP, selector & ~3u);
    return d;
}

void desc_set_accessed(struct cpu *c, uint16_t selector, uint64_t desc)
{
    if (desc & (1ull << 40))
        return;
    uint64_t base = (selector & 4) ? c->ldtr.base : c->gdtr.base;
    uint64_t la = base + (selector & ~7u) + 5;
    if (!c->long_mode)
        la = (uint32_t)la;
    sys_write(c, la, 1, (uint8_t)((desc >> 40) | 1));
}

void seg_load_real(struct cpu *c, unsigned seg, uint16_t selector)
{
    c->seg[seg].selector = selector;
    c->seg[seg].base = (uint64_t)selector << 4;
}

/* A null selector in a data segment register: unusable, faults on use. */
static void seg_load_null(struct cpu *c, unsigned seg, uint16_t selector)
{
    struct segment *s = &c->seg[seg];
    s->selector = selector;
    s->attr = 0;
    s->limit = 0;
    s->base = 0; /* Intel clears the base, also for FS/GS in 64-bit mode */
}

/* Loads DS/ES/FS/GS/SS from a selector (not CS: far transfers do that). */
void seg_load(struct cpu *c, unsigned seg, uint16_t selector)
{
    if (!c->protected_mode || (c->rflags & FLAG_VM)) {
        seg_load_real(c, seg, selector);
        seg_refresh(c);
        return;
    }
    uint16_t rpl = selector & 3;
    if ((selector & ~3u) == 0) {
        if (seg == SEG_SS && !(c->code_bits == 64 && c->cpl != 3 && rpl == c->cpl))
            GP0(c);
        seg_load_null(c, seg, selector);
        if (seg == SEG_SS) {
            /* 64-bit null SS: usable, DPL = CPL (SDM, "Null Segment Checking"). */
            c->seg[SEG_SS].attr = (uint16_t)(SEG_ATTR_P | SEG_ATTR_S | 0x03 | (c->cpl << 5));
        }
        seg_refresh(c);
        return;
    }
    uint64_t d;
    if (!desc_read(c, selector, &d))
        cpu_fault(c, EXC_GP, selector & ~3u);
    unsigned type = (d >> 40) & 0xF, dpl = (d >> 45) & 3;
    bool s_bit = (d >> 44) & 1, present = (d >> 47) & 1;
    if (!s_bit)
        cpu_fault(c, EXC_GP, selector & ~3u);
    if (seg == SEG_SS) {
        if (rpl != c->cpl || dpl != c->cpl || (type & 0x8) || !(type & 0x2))
            cpu_fault(c, EXC_GP, selector & ~3u);
        if (!present)
            cpu_fault(c, EXC_SS, selector & ~3u);
    } else {
        if ((type & 0xA) == 0x8) /* execute-only code */
            cpu_fault(c, EXC_GP, selector & ~3u);
        bool conforming_code = (type & 0xC) == 0xC;
        if (!conforming_code && (dpl < c->cpl || dpl < rpl))
            cpu_fault(c, EXC_GP, selector & ~3u);
        if (!present)
            cpu_fault(c, EXC_NP, selector & ~3u);
    }
    desc_set_accessed(c, selector, d);
    seg_from_desc(&c->seg[seg], selector, d | (1ull << 40));
    if (seg == SEG_SS)
        cpu_update_mode(c);
    seg_refresh(c);
}
