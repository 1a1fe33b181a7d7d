/*
 * fused.c - compare-and-branch pairs fused at decode time (cpu.md §5.2):
 * DEC, CMP, SUB or TEST on registers followed by a Jcc that ends the block
 * become one record, the block's last, counted as two instructions. The
 * first half stores its lazy flags exactly as alone (later readers see the
 * same record); the condition is evaluated from the operands the handler
 * already holds. block.c fuses only where the pair runs as a whole: the run
 * loop executes the unfused instructions when the budget ends between the
 * two, under EFLAGS.TF and in an interrupt shadow.
 *
 * Record layout: the first instruction's fields as decoded, len = both
 * lengths, imm2 = length of the first, base = the Jcc's condition code,
 * disp = the Jcc's displacement (the Jcc has the block's default operand size).
 */
#include "cpu/handlers.h"

enum fused_kind { FK_SUB, FK_DEC, FK_LOGIC };

/* Condition `cc` after a producer of `kind` (a - b = r, a - 1 = r, or logic r). */
static inline __attribute__((always_inline)) bool fused_cond(unsigned cc, enum fused_kind kind,
                                                             unsigned bits, uint64_t a, uint64_t b,
                                                             uint64_t r, bool cf)
{
    unsigned sh = bits - 1;
    bool of, t;
    if (kind == FK_SUB)
        of = (((a ^ b) & (a ^ r)) >> sh) & 1;
    else if (kind == FK_DEC)
        of = ((a & ~r) >> sh) & 1; /* 0x80..0 - 1 */
    else
        of = false;
    bool sf = (r >> sh) & 1, zf = r == 0;
    switch (cc >> 1) {
    case 0:
        t = of;
        break;
    case 1:
        t = cf;
        break;
    case 2:
        t = zf;
        break;
    case 3:
        t = cf || zf;
        break;
    case 4:
        t = sf;
        break;
    case 5:
        t = parity8(r);
        break;
    case 6:
        t = sf != of;
        break;
    default:
        t = zf || sf != of;
        break;
    }
    return t ^ (cc & 1);
}

/* The Jcc half: the first instruction has retired; a taken branch checks its
 * target like h_jcc_rel, and a #GP reports the Jcc's own RIP. */
static inline __attribute__((always_inline)) void fused_jcc(struct cpu *c, const struct insn *i,
                                                            bool taken)
{
    c->icount++;
    if (!taken)
        return;
    uint64_t t = c->next_rip + (uint64_t)(int64_t)i->disp;
    if (c->code_bits == 64) {
        if (likely((uint64_t)((int64_t)(t << 16) >> 16) == t)) {
            c->next_rip = t;
            return;
        }
    } else {
        t &= size_mask(c->code_bits / 8);
        if (likely(t <= c->seg[SEG_CS].limit)) {
            c->next_rip = t;
            return;
        }
    }
    c->rip = c->code_bits == 64 ? c->rip + i->imm2 : (uint32_t)(c->rip + i->imm2);
    GP0(c);
}

#define FUSED_ONE(bits)                                                                  \
    void h_dec_jcc##bits(struct cpu *c, const struct insn *i)                            \
    {                                                                                    \
        uint64_t m = size_mask(bits / 8), a = c->gpr[i->rm] & m, r = (a - 1) & m;        \
        bool cf = get_cf_inline(c);                                                      \
        lazy_set(c, LF_DEC, bits, r, a, 1, cf);                                          \
        reg_write(c, i->rm, bits / 8, r);                                                \
        fused_jcc(c, i, fused_cond(i->base, FK_DEC, bits, a, 1, r, cf));                 \
    }                                                                                    \
    void h_cmp_rr_jcc##bits(struct cpu *c, const struct insn *i)                         \
    {                                                                                    \
        uint64_t m = size_mask(bits / 8), a = c->gpr[i->rm] & m, b = c->gpr[i->reg] & m; \
        uint64_t r = (a - b) & m;                                                        \
        lazy_set(c, LF_SUB, bits, r, a, b, a < b);                                       \
        fused_jcc(c, i, fused_cond(i->base, FK_SUB, bits, a, b, r, a < b));              \
    }                                                                                    \
    void h_cmp_ri_jcc##bits(struct cpu *c, const struct insn *i)                         \
    {                                                                                    \
        uint64_t m = size_mask(bits / 8), a = c->gpr[i->rm] & m, b = i->imm & m;         \
        uint64_t r = (a - b) & m;                                                        \
        lazy_set(c, LF_SUB, bits, r, a, b, a < b);                                       \
        fused_jcc(c, i, fused_cond(i->base, FK_SUB, bits, a, b, r, a < b));              \
    }                                                                                    \
    void h_sub_rr_jcc##bits(struct cpu *c, const struct insn *i)                         \
    {                                                                                    \
        uint64_t m = size_mask(bits / 8), a = c->gpr[i->rm] & m, b = c->gpr[i->reg] & m; \
        uint64_t r = (a - b) & m;                                                        \
        lazy_set(c, LF_SUB, bits, r, a, b, a < b);                                       \
        reg_write(c, i->rm, bits / 8, r);                                                \
        fused_jcc(c, i, fused_cond(i->base, FK_SUB, bits, a, b, r, a < b));              \
    }                                                                                    \
    void h_sub_ri_jcc##bits(struct cpu *c, const struct insn *i)                         \
    {                                                                                    \
        uint64_t m = size_mask(bits / 8), a = c->gpr[i->rm] & m, b = i->imm & m;         \
        uint64_t r = (a - b) & m;                                                        \
        lazy_set(c, LF_SUB, bits, r, a, b, a < b);                                       \
        reg_write(c, i->rm, bits / 8, r);                                                \
        fused_jcc(c, i, fused_cond(i->base, FK_SUB, bits, a, b, r, a < b));              \
    }                                                                                    \
    void h_test_rr_jcc##bits(struct cpu *c, const struct insn *i)                        \
    {                                                                                    \
        uint64_t r = c->gpr[i->rm] & c->gpr[i->reg] & size_mask(bits / 8);               \
        lazy_set_logic(c, bits, r);                                                      \
        fused_jcc(c, i, fused_cond(i->base, FK_LOGIC, bits, 0, 0, r, false));            \
    }                                                                                    \
    void h_test_ri_jcc##bits(struct cpu *c, const struct insn *i)                        \
    {                                                                                    \
        uint64_t r = c->gpr[i->rm] & i->imm & size_mask(bits / 8);                       \
        lazy_set_logic(c, bits, r);                                                      \
        fused_jcc(c, i, fused_cond(i->base, FK_LOGIC, bits, 0, 0, r, false));            \
    }
FUSED_ONE(16)
FUSED_ONE(32)
FUSED_ONE(64)

/* The fused form of `first` (a register-form handler), or NULL. */
insn_fn fused_handler(insn_fn first)
{
#define FUSED_ENTRY(n)                                                                          \
    {h_dec_r##n, h_dec_jcc##n}, {h_cmp_rr##n, h_cmp_rr_jcc##n}, {h_cmp_ri##n, h_cmp_ri_jcc##n}, \
        {h_sub_rr##n, h_sub_rr_jcc##n}, {h_sub_ri##n, h_sub_ri_jcc##n},                         \
        {h_test_rr##n, h_test_rr_jcc##n}, {h_test_ri##n, h_test_ri_jcc##n},
    static const struct {
        insn_fn first, fused;
    } pairs[] = {FUSED_ENTRY(16) FUSED_ENTRY(32) FUSED_ENTRY(64)};
#undef FUSED_ENTRY
    for (unsigned k = 0; k < ARRAY_SIZE(pairs); k++)
        if (pairs[k].first == first)
            return pairs[k].fused;
    return NULL;
}
