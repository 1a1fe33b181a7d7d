/*
 * liveness.c - dead-flag elimination in a decoded block (cpu.md §5.5).
 *
 * Most arithmetic flags an instruction produces are overwritten before
 * anything reads them: in `add; adc; xor; sub` only ADD's CF is ever looked
 * at. Once a block is decoded, a backward pass over its records finds each
 * register-form record whose flags the block overwrites before any record
 * could observe them, and gives it the handler that leaves the flags alone
 * (the *_nf handlers in alu.c; CMP and TEST become NOPs). A record of which
 * only CF is ever looked at (ADD before ADC, NEG before SBB, anything before
 * an INC or DEC that keeps CF to the block's end) gets the handler that
 * produces CF alone (*_cf).
 *
 * What may observe the flags: any record not in the table below (it may read
 * them, fault, call a device or leave the block early, and then the
 * architectural RFLAGS must be exact), and whatever follows the block (all
 * flags are live at its end). Records in the table are register-only: they
 * cannot fault or leave the block. A fused compare-and-branch (fused.c), the
 * last record, counts with the flags it writes and those it keeps. A record keeps the index of its exact
 * handler, which the run loop uses when it stops inside a block (the end of a
 * quantum, single-stepping, an interrupt shadow), so RFLAGS is exact at every
 * point where a block can stop.
 */
#include "cpu/handlers.h"

struct flag_use {
    insn_fn full;       /* the handler the decoder chose */
    insn_fn dead;       /* the same without the flags, or NULL if it has none to drop */
    insn_fn cf_only;    /* the same producing CF alone, or NULL */
    uint16_t reads;     /* flags the result is computed from */
    uint16_t writes;    /* flags it sets (architecturally undefined ones included) */
    uint8_t count_mask; /* a shift or rotate by immediate: it writes nothing if imm & mask is 0 */
};

#define ARITH FLAGS_ARITH
/* Two-operand ALU: register and immediate forms. */
#define USE_ALU(op, n, reads)                                                                      \
    {h_##op##_rr##n, h_##op##_rr##n##_nf, NULL, reads, ARITH, 0},                                  \
        {h_##op##_ri##n, h_##op##_ri##n##_nf, NULL, reads, ARITH, 0},
#define USE_CARRY(op, n, reads)                                                                    \
    {h_##op##_rr##n, h_##op##_rr##n##_nf, h_##op##_rr##n##_cf, reads, ARITH, 0},                   \
        {h_##op##_ri##n, h_##op##_ri##n##_nf, h_##op##_ri##n##_cf, reads, ARITH, 0},
#define USE_SHIFT(op, n, writes)                                                                   \
    {h_##op##_ri##n, h_##op##_ri##n##_nf, NULL, 0, writes, n == 64 ? 63 : 31},
#define USES_OF_SIZE(n)                                                                            \
    USE_CARRY(add, n, 0) USE_ALU(or, n, 0) USE_CARRY(adc, n, FLAG_CF)                              \
    USE_CARRY(sbb, n, FLAG_CF) USE_ALU(and, n, 0) USE_CARRY(sub, n, 0) USE_ALU(xor, n, 0)         \
    {h_cmp_rr##n, h_nop, NULL, 0, ARITH, 0}, {h_cmp_ri##n, h_nop, NULL, 0, ARITH, 0},              \
    {h_test_rr##n, h_nop, NULL, 0, ARITH, 0}, {h_test_ri##n, h_nop, NULL, 0, ARITH, 0},            \
    {h_inc_r##n, h_inc_r##n##_nf, NULL, 0, ARITH & ~FLAG_CF, 0},                                   \
    {h_dec_r##n, h_dec_r##n##_nf, NULL, 0, ARITH & ~FLAG_CF, 0},                                   \
    {h_neg_r##n, h_neg_r##n##_nf, h_neg_r##n##_cf, 0, ARITH, 0},                                   \
    {h_not_r##n, NULL, NULL, 0, 0, 0}, {h_mov_rr##n, NULL, NULL, 0, 0, 0},                         \
    {h_mov_ri##n, NULL, NULL, 0, 0, 0},                                                            \
    USE_SHIFT(rol, n, FLAG_CF | FLAG_OF) USE_SHIFT(ror, n, FLAG_CF | FLAG_OF)                      \
    USE_SHIFT(shl, n, ARITH) USE_SHIFT(shr, n, ARITH) USE_SHIFT(sar, n, ARITH)

static const struct flag_use uses[] = {
    USES_OF_SIZE(16) USES_OF_SIZE(32) USES_OF_SIZE(64)
    {h_nop, NULL, NULL, 0, 0, 0},
    {h_lea, NULL, NULL, 0, 0, 0}, /* computes an address, never accesses it */
};
_Static_assert(ARRAY_SIZE(uses) < 256, "insn.exact holds 1 + an index into uses[]");

static const struct flag_use *use_of(insn_fn fn)
{
    for (unsigned k = 0; k < ARRAY_SIZE(uses); k++)
        if (uses[k].full == fn)
            return &uses[k];
    return NULL;
}

uint16_t block_drop_dead_flags(struct block *b)
{
    uint16_t live = ARITH; /* after the block, everything may read them */
    for (unsigned k = b->n; k-- > 0;) {
        struct insn *i = &b->insn[k];
        uint16_t reads, writes;
        if (fused_flag_use(i->fn, &reads, &writes)) { /* a block's last record: kept whole */
            live = (uint16_t)((live & ~writes) | reads);
            continue;
        }
        const struct flag_use *u = use_of(i->fn);
        if (!u) {
            live = ARITH;
            continue;
        }
        writes = u->writes;
        if (u->count_mask && !(i->imm & u->count_mask))
            writes = 0; /* a shift by 0 leaves every flag as it was */
        if (writes && !(writes & live) && u->dead) {
            i->fn = u->dead;
            i->exact = (uint8_t)(1 + (u - uses));
            writes = 0;
        } else if ((writes & live) == FLAG_CF && u->cf_only) {
            i->fn = u->cf_only;
            i->exact = (uint8_t)(1 + (u - uses));
        }
        live = (uint16_t)((live & ~writes) | u->reads);
    }
    return live;
}

insn_fn insn_exact_handler(const struct insn *i)
{
    return i->exact ? uses[i->exact - 1].full : i->fn;
}
