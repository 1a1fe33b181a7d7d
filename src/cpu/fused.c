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
 * disp = the Jcc's displacement (the Jcc has the block's default operand size);
 * in a loop entry's record (block.c), index = the instructions a run of the
 * block retires.
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
        t = c->code_bits == 16 ? (uint16_t)t : (uint32_t)t; /* the Jcc has the code's size */
        if (likely(t <= c->seg[SEG_CS].limit)) {
            c->next_rip = t;
            return;
        }
    }
    c->rip = c->code_bits == 64 ? c->rip + i->imm2 : (uint32_t)(c->rip + i->imm2);
    GP0(c);
}

/* What the first instruction leaves for the lazy flags: stored at once by
 * the plain handler, and by the loop entry only when they may be seen. */
struct fused_out {
    enum lazy_op op; /* LF_DEC, LF_SUB or LF_LOGIC */
    uint64_t a, b, r;
};

static inline __attribute__((always_inline)) void fused_flags(struct cpu *c, unsigned bits,
                                                              const struct fused_out *o)
{
    if (o->op == LF_LOGIC)
        lazy_set_logic(c, bits, o->r);
    else /* DEC keeps CF */
        lazy_set(c, o->op, bits, o->r, o->a, o->b,
                 o->op == LF_DEC ? get_cf_inline(c) : o->a < o->b);
}

/* Out of line, so the loop's path does not load what only leaving needs
 * (the operands come in registers: `how` is op | bits << 8 | taken << 16 |
 * counted << 17, counted: the run was counted down in loop_runs_left). */
static __attribute__((noinline, cold)) void fused_loop_leave(struct cpu *c, const struct insn *i,
                                                            unsigned how, uint64_t a, uint64_t b,
                                                            uint64_t r)
{
    bool taken = how >> 16, counted = (how >> 17) & 1;
    struct fused_out o = {(enum lazy_op)(how & 0xFF), a, b, r};
    fused_flags(c, (how >> 8) & 0xFF, &o);
    /* This run ends here; a taken branch has counted it down already. */
    c->icount = cpu_blk_icount(c) + (counted ? 0 : i->index);
    c->loop_per_run = 0;
    c->cur_insn = NULL;
    uint64_t rip = c->blk_rip;
    if (!taken)
        rip += (uint64_t)(int64_t)i->offset + i->len;
    c->rip = c->code_bits == 64 ? rip : (uint32_t)rip;
}

/* Counts one more run down: true if none was left (the count wraps). */
static inline __attribute__((always_inline)) bool loop_count_down(uint32_t *left)
{
#if SMMVM_X86_64_ASM && !defined(__clang__) && __GNUC__ >= 11
    /* One subtract on memory and the borrow, where GCC would load, test,
     * subtract and store. */
    __asm__ goto("subl $1, %0\n\tjb %l[none]" : "+m"(*left) : : "cc" : none);
    return false;
none:
    return true;
#else
    return (*left)-- == 0;
#endif
}

/* The loop entry (a block that is one loop, ending in this record and
 * branching back to its start): a taken branch runs the block again at once,
 * as the run loop would, while the whole block fits in the quantum. The
 * target is the block's start, which has been fetched with this CS, so it
 * needs no canonical or limit check. The flags need storing then only if
 * the block may see them before overwriting them (block.c picks the entry
 * with dead_flags otherwise); leaving, the record stores them and leaves RIP
 * and icount exact for the run loop (run_whole). */
static inline __attribute__((always_inline)) void fused_loop(struct cpu *c, const struct insn *i,
                                                             unsigned bits,
                                                             const struct fused_out *o,
                                                             bool taken, bool dead_flags)
{
    unsigned how = (unsigned)o->op | bits << 8;
    if (likely(taken)) {
        how |= 3u << 16;
        if (unlikely(loop_count_down(&c->loop_runs_left))) /* (cpu_yield() empties it) */
            goto leave;
        if (!dead_flags)
            fused_flags(c, bits, o);
        const struct insn *first = c->blk_first;
#if SMMVM_X86_64_ASM
        __asm__("" : "+S"(first)); /* load it straight into the argument register */
#endif
        first->run(c, first);
        return;
    }
leave:
    fused_loop_leave(c, i, how, o->a, o->b, o->r);
}

/* The pairs' bodies: the first instruction without its flags (left in *o),
 * returning whether the Jcc is taken; bits and cc are constants in every
 * handler below, so each condition compiles to its own few instructions. */
#define FUSED_BODY(kind)                                                                           \
    static inline __attribute__((always_inline)) bool kind##_jcc(                                  \
        struct cpu *c, const struct insn *i, unsigned bits, unsigned cc, struct fused_out *o)
FUSED_BODY(dec)
{
    uint64_t m = size_mask(bits / 8), a = c->gpr[(unsigned)i->rm] & m, r = (a - 1) & m;
    *o = (struct fused_out){LF_DEC, a, 1, r};
    reg_write(c, i->rm, bits / 8, r);
    return fused_cond(cc, FK_DEC, bits, a, 1, r, get_cf_inline(c));
}
/* CMP and SUB, register or immediate second operand. */
static inline __attribute__((always_inline)) bool sub_jcc(struct cpu *c, const struct insn *i,
                                                          unsigned bits, unsigned cc, uint64_t b,
                                                          bool store, struct fused_out *o)
{
    uint64_t m = size_mask(bits / 8), a = c->gpr[(unsigned)i->rm] & m;
    b &= m;
    uint64_t r = (a - b) & m;
    *o = (struct fused_out){LF_SUB, a, b, r};
    if (store)
        reg_write(c, i->rm, bits / 8, r);
    return fused_cond(cc, FK_SUB, bits, a, b, r, a < b);
}
FUSED_BODY(cmp_rr)
{
    return sub_jcc(c, i, bits, cc, c->gpr[(unsigned)i->reg], false, o);
}
FUSED_BODY(cmp_ri)
{
    return sub_jcc(c, i, bits, cc, i->imm, false, o);
}
FUSED_BODY(sub_rr)
{
    return sub_jcc(c, i, bits, cc, c->gpr[(unsigned)i->reg], true, o);
}
FUSED_BODY(sub_ri)
{
    return sub_jcc(c, i, bits, cc, i->imm, true, o);
}
FUSED_BODY(test_rr)
{
    uint64_t r = c->gpr[(unsigned)i->rm] & c->gpr[(unsigned)i->reg] & size_mask(bits / 8);
    *o = (struct fused_out){LF_LOGIC, 0, 0, r};
    return fused_cond(cc, FK_LOGIC, bits, 0, 0, r, false);
}
FUSED_BODY(test_ri)
{
    uint64_t r = c->gpr[(unsigned)i->rm] & i->imm & size_mask(bits / 8);
    *o = (struct fused_out){LF_LOGIC, 0, 0, r};
    return fused_cond(cc, FK_LOGIC, bits, 0, 0, r, false);
}

/* One handler and two loop entries (flags stored or dead when looping) per
 * pair, operand size and condition (handlers.h names the handlers). */
#define FUSED_LOOP_DEFINE(name, kind, n, cc, dead)                                                 \
    static void name(struct cpu *c, const struct insn *i)                                          \
    {                                                                                              \
        struct fused_out o;                                                                        \
        bool taken = kind##_jcc(c, i, n, cc, &o);                                                  \
        fused_loop(c, i, n, &o, taken, dead);                                                      \
    }
#define FUSED_DEFINE(kind, n, cc)                                                                  \
    void h_##kind##_jcc##n##_##cc(struct cpu *c, const struct insn *i)                             \
    {                                                                                              \
        struct fused_out o;                                                                        \
        bool taken = kind##_jcc(c, i, n, cc, &o);                                                  \
        fused_flags(c, n, &o);                                                                     \
        fused_jcc(c, i, taken);                                                                    \
    }                                                                                              \
    FUSED_LOOP_DEFINE(t_loop_##kind##_jcc##n##_##cc, kind, n, cc, false)                          \
    FUSED_LOOP_DEFINE(t_loopd_##kind##_jcc##n##_##cc, kind, n, cc, true)
#define FUSED_DEFINE_SIZE(n)                                                                       \
    FUSED_CONDS(FUSED_DEFINE, dec, n) FUSED_CONDS(FUSED_DEFINE, cmp_rr, n)                        \
    FUSED_CONDS(FUSED_DEFINE, cmp_ri, n) FUSED_CONDS(FUSED_DEFINE, sub_rr, n)                     \
    FUSED_CONDS(FUSED_DEFINE, sub_ri, n) FUSED_CONDS(FUSED_DEFINE, test_rr, n)                    \
    FUSED_CONDS(FUSED_DEFINE, test_ri, n)
FUSED_DEFINE_SIZE(16)
FUSED_DEFINE_SIZE(32)
FUSED_DEFINE_SIZE(64)

#define FUSED_NAME(kind, n, cc) h_##kind##_jcc##n##_##cc,
#define FUSED_LOOP_NAME(kind, n, cc) t_loop_##kind##_jcc##n##_##cc,
#define FUSED_LOOPD_NAME(kind, n, cc) t_loopd_##kind##_jcc##n##_##cc,
#define FUSED_ROW(first, kind, n)                                                                  \
    {first,                                                                                        \
     {FUSED_CONDS(FUSED_NAME, kind, n)},                                                           \
     {{FUSED_CONDS(FUSED_LOOP_NAME, kind, n)}, {FUSED_CONDS(FUSED_LOOPD_NAME, kind, n)}}},
#define FUSED_ROWS(n)                                                                              \
    FUSED_ROW(h_dec_r##n, dec, n) FUSED_ROW(h_cmp_rr##n, cmp_rr, n)                                \
    FUSED_ROW(h_cmp_ri##n, cmp_ri, n) FUSED_ROW(h_sub_rr##n, sub_rr, n)                            \
    FUSED_ROW(h_sub_ri##n, sub_ri, n) FUSED_ROW(h_test_rr##n, test_rr, n)                          \
    FUSED_ROW(h_test_ri##n, test_ri, n)
/* Per first instruction: its fused handlers and loop entries by condition. */
static const struct {
    insn_fn first, fused[16], loop[2][16]; /* loop[1]: its flags dead when looping */
} fused_rows[] = {FUSED_ROWS(16) FUSED_ROWS(32) FUSED_ROWS(64)};

/* The fused form of `first` (a register-form handler) followed by Jcc `cc`, or NULL. */
insn_fn fused_handler(insn_fn first, unsigned cc)
{
    for (unsigned k = 0; k < ARRAY_SIZE(fused_rows); k++)
        if (fused_rows[k].first == first)
            return fused_rows[k].fused[cc & 15];
    return NULL;
}

insn_fn fused_loop_entry(insn_fn fused, bool dead_flags)
{
    for (unsigned k = 0; k < ARRAY_SIZE(fused_rows); k++)
        for (unsigned cc = 0; cc < 16; cc++)
            if (fused_rows[k].fused[cc] == fused)
                return fused_rows[k].loop[dead_flags][cc];
    return NULL;
}

bool fused_flag_use(insn_fn fn, uint16_t *reads, uint16_t *writes)
{
    for (unsigned k = 0; k < ARRAY_SIZE(fused_rows); k++)
        for (unsigned cc = 0; cc < 16; cc++)
            if (fused_rows[k].fused[cc] == fn) {
                /* DEC keeps CF, which a JB/JBE half reads and a #GP from the
                 * Jcc's target shows; the others write all six. */
                insn_fn first = fused_rows[k].first;
                bool dec = first == h_dec_r16 || first == h_dec_r32 || first == h_dec_r64;
                *writes = dec ? FLAGS_ARITH & ~FLAG_CF : FLAGS_ARITH;
                *reads = dec ? FLAG_CF : 0;
                return true;
            }
    return false;
}
