/*
 * flags.c - lazy arithmetic flags (cpu.md §5.5): producers store the
 * operation, width, operands and result; consumers evaluate only what they
 * read. AF for logic ops, architecturally undefined, is 0 here (documented
 * in tests/diff/README.md with the other undefined-flag choices).
 */
#include "cpu/cpu_impl.h"

static uint64_t width_mask(unsigned bits)
{
    return bits == 64 ? ~0ull : (1ull << bits) - 1;
}

static bool lazy_of(const struct lazy_flags *lf)
{
    unsigned sh = lf->bits - 1;
    uint64_t a = lf->a, b = lf->b, r = lf->res;
    switch (lf->op) {
    case LF_ADD:
    case LF_ADC:
    case LF_INC:
        return (((a ^ r) & (b ^ r)) >> sh) & 1;
    case LF_SUB:
    case LF_SBB:
    case LF_DEC:
        return (((a ^ b) & (a ^ r)) >> sh) & 1;
    case LF_SHIFT:
    case LF_ROT:
        return lf->b & 1;
    default:
        return false;
    }
}

uint32_t flags_compute_arith(const struct lazy_flags *lf)
{
    uint32_t f = flags_szp(lf->res, lf->bits);
    if (lazy_cf(lf))
        f |= FLAG_CF;
    if (lazy_of(lf))
        f |= FLAG_OF;
    if (lazy_af(lf))
        f |= FLAG_AF;
    return f;
}

/* Condition codes 0..15 as Jcc/SETcc/CMOVcc number them. */
bool cpu_cond(struct cpu *c, unsigned cc)
{
    const struct lazy_flags *lf = &c->lf;
    bool r;
    if ((cc >> 1) == 1) /* B: CF, whoever produced it (a CF-only producer keeps op) */
        return lf->carry ^ (cc & 1);
    if (lf->op == LF_SUB && (cc >> 1) != 3 && (cc >> 1) != 5) {
        /* Direct paths after CMP/SUB: compare the saved operands. */
        uint64_t m = width_mask(lf->bits);
        uint64_t a = lf->a & m, b = lf->b & m;
        int64_t sa = (int64_t)sext(a, lf->bits / 8), sb = (int64_t)sext(b, lf->bits / 8);
        switch (cc >> 1) {
        case 0: r = lazy_of(lf); break;     /* O */
        case 2: r = a == b; break;          /* Z */
        case 4: r = (lf->res >> (lf->bits - 1)) & 1; break; /* S */
        case 6: r = sa < sb; break;         /* L */
        default: r = sa <= sb; break;       /* LE */
        }
        return r ^ (cc & 1);
    }
    if (lf->op != LF_NONE) {
        unsigned k = cc >> 1;
        if (k == 2) /* Z: any producer */
            return ((lf->res & width_mask(lf->bits)) == 0) ^ (cc & 1);
        if (k == 4) /* S */
            return ((lf->res >> (lf->bits - 1)) & 1) ^ (cc & 1);
    }
    uint32_t f = lf->op == LF_NONE ? ((uint32_t)c->rflags & ~FLAG_CF) | (lf->carry ? FLAG_CF : 0)
                                   : flags_compute_arith(lf);
    switch (cc >> 1) {
    case 0: r = f & FLAG_OF; break;
    case 1: r = f & FLAG_CF; break;
    case 2: r = f & FLAG_ZF; break;
    case 3: r = f & (FLAG_CF | FLAG_ZF); break;
    case 4: r = f & FLAG_SF; break;
    case 5: r = f & FLAG_PF; break;
    case 6: r = !(f & FLAG_SF) != !(f & FLAG_OF); break;
    default: r = (f & FLAG_ZF) || (!(f & FLAG_SF) != !(f & FLAG_OF)); break;
    }
    return r ^ (cc & 1);
}

uint64_t cpu_get_rflags(struct cpu *c)
{
    flags_sync(c);
    return c->rflags | 2;
}

/* Writable RFLAGS bits: CF PF AF ZF SF TF IF DF OF IOPL NT RF VM AC VIF VIP ID. */
#define RFLAGS_DEFINED 0x3F7FD5ull

void cpu_set_rflags(struct cpu *c, uint64_t value)
{
    c->lf.op = LF_NONE;
    c->lf.carry = (value & FLAG_CF) != 0;
    c->rflags = (value & RFLAGS_DEFINED) | 2;
    cpu_update_data_class(c);
}
