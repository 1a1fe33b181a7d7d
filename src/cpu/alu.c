/*
 * alu.c - integer arithmetic, logic, shifts and rotates, multiply/divide,
 * bit tests and scans, exchange-and-add, compare-and-exchange, BCD.
 * Semantics: SDM Vol. 2 per instruction. Where the SDM leaves a flag
 * undefined smmvm computes a fixed value (tests/diff/README.md lists them).
 */
#include "cpu/handlers.h"

/* 128-bit arithmetic for 64-bit MUL/DIV; a GCC/clang extension used because
 * the alternative (long multiplication and division by hand) is slower and
 * easier to get wrong. */
__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 s128;

/* One body, two handlers: the byte form and the operand-size form (16/32/64).
 * For group 1, 81 /r Iz and 83 /r Ib share the sized handler: the decoder has
 * sign-extended either immediate. */
#define BYTE_AND_SIZED(byte_name, sized_name, body)                                                \
    void byte_name(struct cpu *c, const struct insn *i)                                           \
    {                                                                                              \
        body(c, i, 1);                                                                             \
    }                                                                                              \
    void sized_name(struct cpu *c, const struct insn *i)                                          \
    {                                                                                              \
        body(c, i, i->opsize);                                                                     \
    }

static uint64_t alu_apply(struct cpu *c, unsigned op, unsigned size, uint64_t a, uint64_t b)
{
    return alu_compute(c, op, size, a, b, true);
}

/* A memory destination is written before the flags change, so a store that
 * faults (a read-only page) leaves RFLAGS as it was. */
void h_alu_EbGb(struct cpu *c, const struct insn *i)
{
    unsigned op = (i->op >> 3) & 7;
    uint64_t a = rm_read(c, i, 1), b = greg_read(c, i, 1);
    if (op != ALU_CMP)
        rm_write(c, i, 1, alu_compute(c, op, 1, a, b, false));
    alu_apply(c, op, 1, a, b);
}

/* ---- decode-time specialisations of register forms (cpu.md §5.2) ----
 * One handler per operation and operand size, so nothing tests the operand
 * kind, the size or the operation at run time. The register operand written
 * is always i->rm: the decoder swaps reg and rm for the Gv,Ev forms and puts
 * RAX in rm for the accumulator forms. */

/* rm = rm op reg */
#define ALU_RR_ONE(name, op, bits)                                                                 \
    void h_##name##_rr##bits(struct cpu *c, const struct insn *i)                                  \
    {                                                                                              \
        uint64_t r = alu_compute(c, op, bits / 8, c->gpr[(unsigned)i->rm], c->gpr[(unsigned)i->reg], true);           \
        if (op != ALU_CMP)                                                                         \
            reg_write(c, i->rm, bits / 8, r);                                                      \
    }                                                                                              \
    void h_##name##_ri##bits(struct cpu *c, const struct insn *i)                                  \
    {                                                                                              \
        uint64_t r = alu_compute(c, op, bits / 8, c->gpr[(unsigned)i->rm], i->imm, true);                   \
        if (op != ALU_CMP)                                                                         \
            reg_write(c, i->rm, bits / 8, r);                                                      \
    }
#define ALU_RR_SIZES(name, op)                                                                     \
    ALU_RR_ONE(name, op, 16) ALU_RR_ONE(name, op, 32) ALU_RR_ONE(name, op, 64)
/* The same without the flags, for a record whose flags the block overwrites
 * before anything can see them (liveness.c). CMP has none: it becomes a NOP. */
#define ALU_NF_ONE(name, op, bits)                                                                 \
    void h_##name##_rr##bits##_nf(struct cpu *c, const struct insn *i)                             \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8,                                                              \
                  alu_compute(c, op, bits / 8, c->gpr[(unsigned)i->rm], c->gpr[(unsigned)i->reg], false));            \
    }                                                                                              \
    void h_##name##_ri##bits##_nf(struct cpu *c, const struct insn *i)                             \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, alu_compute(c, op, bits / 8, c->gpr[(unsigned)i->rm], i->imm, false)); \
    }
#define ALU_NF_SIZES(name, op)                                                                     \
    ALU_NF_ONE(name, op, 16) ALU_NF_ONE(name, op, 32) ALU_NF_ONE(name, op, 64)
/* And with CF alone, for a record whose other flags are dead but whose CF is
 * read (ADD before ADC, NEG before SBB) or kept by INC/DEC (liveness.c). */
static inline __attribute__((always_inline)) uint64_t alu_compute_cf(struct cpu *c, unsigned op,
                                                                      unsigned bits, uint64_t a,
                                                                      uint64_t b)
{
    uint64_t m = size_mask(bits / 8);
    a &= m;
    b &= m;
    uint64_t r = alu_compute(c, op, bits / 8, a, b, false);
    bool carry = get_cf_inline(c); /* the carry in of ADC and SBB */
    bool cf = op == ALU_ADD   ? r < a
              : op == ALU_ADC ? (carry ? r <= a : r < a)
              : op == ALU_SBB ? (carry ? a <= b : a < b)
                              : a < b; /* SUB */
    lazy_set_cf(c, cf);
    return r;
}
#define ALU_CF_ONE(name, op, bits)                                                                 \
    void h_##name##_rr##bits##_cf(struct cpu *c, const struct insn *i)                             \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8,                                                              \
                  alu_compute_cf(c, op, bits, c->gpr[(unsigned)i->rm], c->gpr[(unsigned)i->reg])); \
    }                                                                                              \
    void h_##name##_ri##bits##_cf(struct cpu *c, const struct insn *i)                             \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, alu_compute_cf(c, op, bits, c->gpr[(unsigned)i->rm], i->imm)); \
    }
#define ALU_CF_SIZES(name, op)                                                                     \
    ALU_CF_ONE(name, op, 16) ALU_CF_ONE(name, op, 32) ALU_CF_ONE(name, op, 64)
ALU_RR_SIZES(add, ALU_ADD)
ALU_RR_SIZES(or, ALU_OR)
ALU_RR_SIZES(adc, ALU_ADC)
ALU_RR_SIZES(sbb, ALU_SBB)
ALU_RR_SIZES(and, ALU_AND)
ALU_RR_SIZES(sub, ALU_SUB)
ALU_RR_SIZES(xor, ALU_XOR)
ALU_RR_SIZES(cmp, ALU_CMP)
ALU_NF_SIZES(add, ALU_ADD)
ALU_NF_SIZES(or, ALU_OR)
ALU_NF_SIZES(adc, ALU_ADC)
ALU_NF_SIZES(sbb, ALU_SBB)
ALU_NF_SIZES(and, ALU_AND)
ALU_NF_SIZES(sub, ALU_SUB)
ALU_NF_SIZES(xor, ALU_XOR)
ALU_CF_SIZES(add, ALU_ADD)
ALU_CF_SIZES(adc, ALU_ADC)
ALU_CF_SIZES(sbb, ALU_SBB)
ALU_CF_SIZES(sub, ALU_SUB)

/* INC/DEC keep CF: it is captured into the lazy record. */
static inline __attribute__((always_inline)) uint64_t inc_dec(struct cpu *c, unsigned size,
                                                               uint64_t a, bool dec)
{
    bool carry = get_cf(c);
    uint64_t m = size_mask(size);
    a &= m;
    uint64_t r = (dec ? a - 1 : a + 1) & m;
    lazy_set(c, dec ? LF_DEC : LF_INC, size * 8, r, a, 1, carry);
    return r;
}

#define UNARY_ONE(bits)                                                                            \
    void h_test_rr##bits(struct cpu *c, const struct insn *i)                                      \
    {                                                                                              \
        lazy_set_logic(c, bits, c->gpr[(unsigned)i->rm] & c->gpr[(unsigned)i->reg] & size_mask(bits / 8));             \
    }                                                                                              \
    void h_test_ri##bits(struct cpu *c, const struct insn *i)                                      \
    {                                                                                              \
        lazy_set_logic(c, bits, c->gpr[(unsigned)i->rm] & i->imm & size_mask(bits / 8));                     \
    }                                                                                              \
    void h_inc_r##bits(struct cpu *c, const struct insn *i)                                        \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, inc_dec(c, bits / 8, c->gpr[(unsigned)i->rm], false));                 \
    }                                                                                              \
    void h_dec_r##bits(struct cpu *c, const struct insn *i)                                        \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, inc_dec(c, bits / 8, c->gpr[(unsigned)i->rm], true));                  \
    }                                                                                              \
    void h_neg_r##bits(struct cpu *c, const struct insn *i)                                        \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, alu_compute(c, ALU_SUB, bits / 8, 0, c->gpr[(unsigned)i->rm], true)); \
    }                                                                                              \
    void h_inc_r##bits##_nf(struct cpu *c, const struct insn *i)                                   \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, c->gpr[(unsigned)i->rm] + 1);                                          \
    }                                                                                              \
    void h_dec_r##bits##_nf(struct cpu *c, const struct insn *i)                                   \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, c->gpr[(unsigned)i->rm] - 1);                                          \
    }                                                                                              \
    void h_neg_r##bits##_nf(struct cpu *c, const struct insn *i)                                   \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, 0 - c->gpr[(unsigned)i->rm]);                                          \
    }                                                                                              \
    void h_neg_r##bits##_cf(struct cpu *c, const struct insn *i)                                   \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, alu_compute_cf(c, ALU_SUB, bits, 0, c->gpr[(unsigned)i->rm])); \
    }                                                                                              \
    void h_not_r##bits(struct cpu *c, const struct insn *i)                                        \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, ~c->gpr[(unsigned)i->rm]);                                             \
    }                                                                                              \
    void h_mov_rr##bits(struct cpu *c, const struct insn *i)                                       \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, c->gpr[(unsigned)i->reg]);                                             \
    }                                                                                              \
    void h_mov_ri##bits(struct cpu *c, const struct insn *i)                                       \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, i->imm);                                                     \
    }
UNARY_ONE(16)
UNARY_ONE(32)
UNARY_ONE(64)

void h_alu_EvGv(struct cpu *c, const struct insn *i)
{
    unsigned op = (i->op >> 3) & 7, s = i->opsize;
    if (!(i->flags & INSN_MEM)) {
        uint64_t r = alu_apply(c, op, s, c->gpr[(unsigned)i->rm], c->gpr[(unsigned)i->reg]);
        if (op != ALU_CMP)
            reg_write(c, i->rm, s, r);
        return;
    }
    uint64_t la = seg_linear(c, i->seg, insn_ea(c, i), s, op == ALU_CMP ? ACC_READ : ACC_WRITE);
    uint64_t a = lin_read(c, la, s);
    if (op != ALU_CMP)
        lin_write(c, la, s, alu_compute(c, op, s, a, c->gpr[(unsigned)i->reg], false));
    alu_apply(c, op, s, a, c->gpr[(unsigned)i->reg]);
}

void h_alu_GbEb(struct cpu *c, const struct insn *i)
{
    unsigned op = (i->op >> 3) & 7;
    uint64_t r = alu_apply(c, op, 1, greg_read(c, i, 1), rm_read(c, i, 1));
    if (op != ALU_CMP)
        greg_write(c, i, 1, r);
}

void h_alu_GvEv(struct cpu *c, const struct insn *i)
{
    unsigned op = (i->op >> 3) & 7, s = i->opsize;
    uint64_t b = (i->flags & INSN_MEM) ? seg_read(c, i->seg, insn_ea(c, i), s) : c->gpr[(unsigned)i->rm];
    uint64_t r = alu_apply(c, op, s, c->gpr[(unsigned)i->reg], b);
    if (op != ALU_CMP)
        reg_write(c, i->reg, s, r);
}

void h_alu_ALIb(struct cpu *c, const struct insn *i)
{
    unsigned op = (i->op >> 3) & 7;
    uint64_t r = alu_apply(c, op, 1, c->gpr[R_AX], i->imm);
    if (op != ALU_CMP)
        reg8_write(c, R_AX, false, (uint8_t)r);
}

void h_alu_AXIz(struct cpu *c, const struct insn *i)
{
    unsigned op = (i->op >> 3) & 7;
    uint64_t r = alu_apply(c, op, i->opsize, c->gpr[R_AX], i->imm);
    if (op != ALU_CMP)
        reg_write(c, R_AX, i->opsize, r);
}

static void grp1(struct cpu *c, const struct insn *i, unsigned s)
{
    unsigned op = i->reg & 7;
    if (!(i->flags & INSN_MEM)) {
        uint64_t a = s == 1 ? reg8_read(c, i->rm, i->flags & INSN_REX) : c->gpr[(unsigned)i->rm];
        uint64_t r = alu_apply(c, op, s, a, i->imm);
        if (op != ALU_CMP)
            rm_write(c, i, s, r);
        return;
    }
    uint64_t la = seg_linear(c, i->seg, insn_ea(c, i), s, op == ALU_CMP ? ACC_READ : ACC_WRITE);
    uint64_t a = lin_read(c, la, s);
    if (op != ALU_CMP)
        lin_write(c, la, s, alu_compute(c, op, s, a, i->imm, false));
    alu_apply(c, op, s, a, i->imm);
}

BYTE_AND_SIZED(h_grp1_EbIb, h_grp1_EvI, grp1)

void h_test_EbGb(struct cpu *c, const struct insn *i)
{
    alu_apply(c, ALU_AND, 1, rm_read(c, i, 1), greg_read(c, i, 1));
}

void h_test_EvGv(struct cpu *c, const struct insn *i)
{
    alu_apply(c, ALU_AND, i->opsize, rm_read(c, i, i->opsize), c->gpr[(unsigned)i->reg]);
}

void h_test_ALIb(struct cpu *c, const struct insn *i)
{
    alu_apply(c, ALU_AND, 1, c->gpr[R_AX], i->imm);
}

void h_test_AXIz(struct cpu *c, const struct insn *i)
{
    alu_apply(c, ALU_AND, i->opsize, c->gpr[R_AX], i->imm);
}

void h_inc_r(struct cpu *c, const struct insn *i)
{
    unsigned r = i->op & 7;
    reg_write(c, r, i->opsize, inc_dec(c, i->opsize, c->gpr[r], false));
}

void h_dec_r(struct cpu *c, const struct insn *i)
{
    unsigned r = i->op & 7;
    reg_write(c, r, i->opsize, inc_dec(c, i->opsize, c->gpr[r], true));
}

void alu_inc_dec_rm(struct cpu *c, const struct insn *i, unsigned s, bool dec)
{
    if (!(i->flags & INSN_MEM)) {
        rm_write(c, i, s, inc_dec(c, s, rm_read(c, i, s), dec));
        return;
    }
    uint64_t la = seg_linear(c, i->seg, insn_ea(c, i), s, ACC_WRITE);
    uint64_t v = lin_read(c, la, s);
    struct flags_before before = flags_before(c);
    rmw_store(c, la, s, inc_dec(c, s, v, dec), &before);
}

void h_grp4_Eb(struct cpu *c, const struct insn *i)
{
    if ((i->reg & 7) > 1)
        UD(c);
    alu_inc_dec_rm(c, i, 1, i->reg & 1);
}

/* ---- group 3: TEST NOT NEG MUL IMUL DIV IDIV ---- */

static void mul_flags(struct cpu *c, uint64_t low, unsigned bits, bool overflow)
{
    /* SF/ZF/PF/AF are undefined: smmvm derives SF, ZF, PF from the low half, AF = 0. */
    uint32_t f = flags_szp(low, bits);
    if (overflow)
        f |= FLAG_CF | FLAG_OF;
    flags_set_arith(c, f);
}

static void grp3(struct cpu *c, const struct insn *i, unsigned s)
{
    unsigned bits = s * 8;
    uint64_t m = size_mask(s);
    switch (i->reg & 7) {
    case 0:
    case 1:
        alu_apply(c, ALU_AND, s, rm_read(c, i, s), i->imm);
        return;
    case 2: {
        if (i->flags & INSN_MEM) {
            uint64_t la = seg_linear(c, i->seg, insn_ea(c, i), s, ACC_WRITE);
            lin_write(c, la, s, ~lin_read(c, la, s) & m);
        } else {
            rm_write(c, i, s, ~rm_read(c, i, s) & m);
        }
        return;
    }
    case 3: {
        uint64_t la;
        uint64_t v = rmw_load(c, i, s, &la);
        struct flags_before before = flags_before(c);
        uint64_t r = alu_apply(c, ALU_SUB, s, 0, v);
        if (i->flags & INSN_MEM)
            rmw_store(c, la, s, r, &before);
        else
            rm_write(c, i, s, r);
        return;
    }
    case 4: { /* MUL */
        uint64_t src = rm_read(c, i, s);
        if (s == 1) {
            uint64_t r = (c->gpr[R_AX] & 0xFF) * src;
            reg_write(c, R_AX, 2, r);
            mul_flags(c, r, 8, r >> 8);
        } else if (s == 8) {
            u128 r = (u128)c->gpr[R_AX] * src;
            c->gpr[R_AX] = (uint64_t)r;
            c->gpr[R_DX] = (uint64_t)(r >> 64);
            mul_flags(c, (uint64_t)r, 64, c->gpr[R_DX] != 0);
        } else {
            uint64_t r = (c->gpr[R_AX] & m) * src;
            reg_write(c, R_AX, s, r & m);
            reg_write(c, R_DX, s, r >> bits);
            mul_flags(c, r, bits, (r >> bits) != 0);
        }
        return;
    }
    case 5: { /* IMUL one operand */
        int64_t src = (int64_t)sext(rm_read(c, i, s), s);
        if (s == 8) {
            s128 r = (s128)(int64_t)c->gpr[R_AX] * src;
            c->gpr[R_AX] = (uint64_t)r;
            c->gpr[R_DX] = (uint64_t)((u128)r >> 64);
            mul_flags(c, (uint64_t)r, 64, r != (s128)(int64_t)r);
        } else {
            int64_t r = (int64_t)sext(c->gpr[R_AX], s) * src;
            if (s == 1)
                reg_write(c, R_AX, 2, (uint64_t)r);
            else {
                reg_write(c, R_AX, s, (uint64_t)r & m);
                reg_write(c, R_DX, s, ((uint64_t)r >> bits) & m);
            }
            mul_flags(c, (uint64_t)r, bits, r != (int64_t)sext((uint64_t)r, s));
        }
        return;
    }
    case 6: { /* DIV: flags undefined, left unchanged */
        uint64_t d = rm_read(c, i, s);
        if (d == 0)
            cpu_fault_noerr(c, EXC_DE);
        if (s == 1) {
            uint64_t n = c->gpr[R_AX] & 0xFFFF, q = n / d;
            if (q > 0xFF)
                cpu_fault_noerr(c, EXC_DE);
            reg_write(c, R_AX, 2, ((n % d) << 8) | q);
        } else {
            u128 n = ((u128)(c->gpr[R_DX] & m) << bits) | (c->gpr[R_AX] & m);
            u128 q = n / d;
            if (q > m)
                cpu_fault_noerr(c, EXC_DE);
            reg_write(c, R_AX, s, (uint64_t)q);
            reg_write(c, R_DX, s, (uint64_t)(n % d));
        }
        return;
    }
    default: { /* IDIV */
        int64_t d = (int64_t)sext(rm_read(c, i, s), s);
        if (d == 0)
            cpu_fault_noerr(c, EXC_DE);
        s128 n;
        if (s == 1)
            n = (int16_t)c->gpr[R_AX];
        else
            n = (s128)(((u128)(c->gpr[R_DX] & m) << bits) | (c->gpr[R_AX] & m)) << (128 - 2 * bits) >>
                (128 - 2 * bits);
        s128 q = n / d, rem = n % d;
        s128 lim = (s128)1 << (bits - 1);
        if (q >= lim || q < -lim)
            cpu_fault_noerr(c, EXC_DE);
        if (s == 1)
            reg_write(c, R_AX, 2, (((uint64_t)rem & 0xFF) << 8) | ((uint64_t)q & 0xFF));
        else {
            reg_write(c, R_AX, s, (uint64_t)q & m);
            reg_write(c, R_DX, s, (uint64_t)rem & m);
        }
        return;
    }
    }
}

BYTE_AND_SIZED(h_grp3_Eb, h_grp3_Ev, grp3)

static void imul2(struct cpu *c, const struct insn *i, uint64_t a, uint64_t b)
{
    unsigned s = i->opsize;
    if (s == 8) {
        s128 r = (s128)(int64_t)a * (int64_t)b;
        c->gpr[(unsigned)i->reg] = (uint64_t)r;
        mul_flags(c, (uint64_t)r, 64, r != (s128)(int64_t)r);
        return;
    }
    int64_t r = (int64_t)sext(a, s) * (int64_t)sext(b, s);
    reg_write(c, i->reg, s, (uint64_t)r & size_mask(s));
    mul_flags(c, (uint64_t)r, s * 8, r != (int64_t)sext((uint64_t)r, s));
}

void h_imul_GvEv(struct cpu *c, const struct insn *i)
{
    imul2(c, i, c->gpr[(unsigned)i->reg], rm_read(c, i, i->opsize));
}

/* 69 Iz and 6B Ib share the handler: the immediate is sign-extended at decode. */
void h_imul_GvEvI(struct cpu *c, const struct insn *i)
{
    imul2(c, i, rm_read(c, i, i->opsize), i->imm);
}

/* ---- group 2: rotates and shifts ---- */

/* The result of ROL, ROR, SHL, SHR or SAR (op = ModRM.reg) for a count already
 * masked to 5 or 6 bits and not 0; the flags are shift_op()'s business. */
static inline __attribute__((always_inline)) uint64_t shift_value(unsigned op, unsigned s,
                                                                   uint64_t a, unsigned count)
{
    unsigned bits = s * 8;
    uint64_t m = size_mask(s);
    a &= m;
    switch (op) {
    case 0:
    case 1: {
        /* A rotate right by n is a rotate left by bits - n; written per width
         * in the form GCC turns into one ROL (bits is a power of two). */
        unsigned n = (op == 0 ? count : bits - (count & (bits - 1))) & (bits - 1);
        switch (bits) {
        case 8:
            return (uint8_t)((uint8_t)a << n | (uint8_t)a >> ((8 - n) & 7));
        case 16:
            return (uint16_t)((uint16_t)a << n | (uint16_t)a >> ((16 - n) & 15));
        case 32:
            return (uint32_t)((uint32_t)a << n | (uint32_t)a >> ((32 - n) & 31));
        default:
            return a << n | a >> ((64 - n) & 63);
        }
    }
    case 5:
        return count < 64 ? a >> count : 0;
    case 7: {
        int64_t sa = (int64_t)sext(a, s);
        return (uint64_t)(sa >> (count >= bits ? bits - 1 : count)) & m;
    }
    default: /* SHL/SAL */
        return count < 64 ? (a << count) & m : 0;
    }
}

static inline __attribute__((always_inline)) uint64_t shift_op(struct cpu *c, unsigned op,
                                                                unsigned s, uint64_t a,
                                                                unsigned count)
{
    unsigned bits = s * 8;
    uint64_t m = size_mask(s), r;
    count &= s == 8 ? 63 : 31;
    if (count == 0)
        return a & m; /* flags untouched */
    a &= m;
    bool cf, of;
    if (op >= 4) { /* SHL SHR SAL SAR set every arithmetic flag: no need for the old ones */
        switch (op) {
        case 5:
            r = shift_value(op, s, a, count);
            cf = count <= bits ? (a >> (count - 1)) & 1 : 0;
            of = (a >> (bits - 1)) & 1; /* defined for count 1; smmvm keeps it for all counts */
            break;
        case 7: {
            int64_t sa = (int64_t)sext(a, s);
            r = shift_value(op, s, a, count);
            cf = (uint64_t)(sa >> (count >= bits ? bits - 1 : count - 1)) & 1;
            of = false;
            break;
        }
        default: /* SHL/SAL */
            r = shift_value(op, s, a, count);
            cf = count <= bits ? (count < 64 ? ((a << (count - 1)) >> (bits - 1)) & 1 : 0) : 0;
            of = ((r >> (bits - 1)) & 1) ^ cf;
            break;
        }
        lazy_set(c, LF_SHIFT, bits, r, 0, of, cf);
        return r;
    }
    /* Rotates change CF and OF only. ROL and ROR after a lazy producer keep
     * its result and width for SF ZF PF and fold its AF into an LF_ROT record,
     * so nothing is evaluated here. */
    if (op < 2) {
        r = shift_value(op, s, a, count);
        if (op == 0) {
            cf = r & 1;
            of = ((r >> (bits - 1)) & 1) ^ cf;
        } else {
            cf = (r >> (bits - 1)) & 1;
            of = cf ^ ((r >> (bits - 2)) & 1);
        }
        if (c->lf.op == LF_NONE) {
            c->rflags = (c->rflags & ~(uint64_t)(FLAG_CF | FLAG_OF)) | (cf ? FLAG_CF : 0) |
                        (of ? FLAG_OF : 0);
            c->lf.carry = cf;
        } else {
            uint64_t prev = c->lf.res;
            bool af = lazy_af(&c->lf);
            lazy_set(c, LF_ROT, c->lf.bits, prev, prev ^ (af ? 0x10 : 0), of, cf);
        }
        return r;
    }
    /* RCL and RCR: take SF ZF AF PF from the previous producer. */
    uint32_t f;
    if (c->lf.op == LF_NONE) {
        f = ((uint32_t)c->rflags & FLAGS_ARITH & ~FLAG_CF) | (c->lf.carry ? FLAG_CF : 0);
    } else {
        f = flags_szp(c->lf.res, c->lf.bits);
        if (lazy_af(&c->lf))
            f |= FLAG_AF;
        if (op >= 2 && lazy_cf(&c->lf)) /* RCL/RCR rotate through the old CF */
            f |= FLAG_CF;
    }
    switch (op) {
    case 2: { /* RCL: rotate through CF, width bits+1 */
        unsigned n = count % (bits + 1);
        uint64_t carry = f & FLAG_CF;
        r = a;
        for (unsigned k = 0; k < n; k++) {
            uint64_t out = (r >> (bits - 1)) & 1;
            r = ((r << 1) | carry) & m;
            carry = out;
        }
        cf = carry;
        of = ((r >> (bits - 1)) & 1) ^ cf;
        f = (f & ~(FLAG_CF | FLAG_OF)) | (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0);
        break;
    }
    case 3: { /* RCR */
        unsigned n = count % (bits + 1);
        uint64_t carry = f & FLAG_CF;
        r = a;
        /* OF (count 1) = MSB of the operand XOR CF, both before the rotate. */
        of = ((a >> (bits - 1)) & 1) ^ (uint64_t)carry;
        for (unsigned k = 0; k < n; k++) {
            uint64_t out = r & 1;
            r = (r >> 1) | (carry << (bits - 1));
            carry = out;
        }
        cf = carry;
        if (n != 1) /* undefined for other counts: smmvm uses the result's top two bits */
            of = ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1;
        f = (f & ~(FLAG_CF | FLAG_OF)) | (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0);
        break;
    }
    default:
        r = a;
        break;
    }
    flags_set_arith(c, f);
    return r;
}

static void grp2(struct cpu *c, const struct insn *i, unsigned s)
{
    unsigned count;
    if (i->op == 0xD0 || i->op == 0xD1)
        count = 1;
    else if (i->op == 0xD2 || i->op == 0xD3)
        count = c->gpr[R_CX] & 0xFF;
    else
        count = (unsigned)i->imm & 0xFF;
    unsigned op = i->reg & 7;
    if (!(i->flags & INSN_MEM)) {
        rm_write(c, i, s, shift_op(c, op, s, rm_read(c, i, s), count));
        return;
    }
    uint64_t la = seg_linear(c, i->seg, insn_ea(c, i), s, ACC_WRITE);
    uint64_t v = lin_read(c, la, s);
    struct flags_before before = flags_before(c);
    rmw_store(c, la, s, shift_op(c, op, s, v, count), &before);
}

/* C1 /r ib and D1 /r on a register: the commonest shift forms, chosen at decode. */
void h_shift_reg_imm(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    unsigned count = i->op == 0xD1 ? 1 : (unsigned)i->imm & 0xFF;
    reg_write(c, i->rm, s, shift_op(c, i->reg & 7, s, c->gpr[(unsigned)i->rm], count));
}

/* The same per operation and size; the decoder stores the count (1 for D1) in imm. */
#define SHIFT_RI_ONE(name, op, bits)                                                               \
    void h_##name##_ri##bits(struct cpu *c, const struct insn *i)                                  \
    {                                                                                              \
        reg_write(c, i->rm, bits / 8, shift_op(c, op, bits / 8, c->gpr[(unsigned)i->rm], (unsigned)i->imm)); \
    }
/* Without the flags (liveness.c only converts counts that are not 0 once masked). */
#define SHIFT_NF_ONE(name, op, bits)                                                               \
    void h_##name##_ri##bits##_nf(struct cpu *c, const struct insn *i)                             \
    {                                                                                              \
        unsigned count = (unsigned)i->imm & (bits == 64 ? 63 : 31);                                \
        reg_write(c, i->rm, bits / 8, shift_value(op, bits / 8, c->gpr[(unsigned)i->rm], count));            \
    }
#define SHIFT_RI_SIZES(name, op)                                                                   \
    SHIFT_RI_ONE(name, op, 16) SHIFT_RI_ONE(name, op, 32) SHIFT_RI_ONE(name, op, 64)               \
    SHIFT_NF_ONE(name, op, 16) SHIFT_NF_ONE(name, op, 32) SHIFT_NF_ONE(name, op, 64)
SHIFT_RI_SIZES(rol, 0)
SHIFT_RI_SIZES(ror, 1)
SHIFT_RI_SIZES(shl, 4)
SHIFT_RI_SIZES(shr, 5)
SHIFT_RI_SIZES(sar, 7)

BYTE_AND_SIZED(h_grp2_Eb, h_grp2_Ev, grp2)

static void double_shift(struct cpu *c, const struct insn *i, bool left)
{
    unsigned s = i->opsize, bits = s * 8;
    unsigned count = (i->op & 1) ? (unsigned)c->gpr[R_CX] : (unsigned)i->imm;
    count &= s == 8 ? 63 : 31;
    uint64_t la;
    uint64_t dst = rmw_load(c, i, s, &la);
    if (count == 0) {
        if (i->flags & INSN_MEM)
            lin_write(c, la, s, dst);
        else
            rm_write(c, i, s, dst);
        return;
    }
    uint64_t src = c->gpr[(unsigned)i->reg] & size_mask(s), m = size_mask(s), r;
    bool cf;
    if (s == 2 && count > 16) {
        /* Undefined for 16-bit counts above 16: smmvm shifts the 48-bit string
         * dst:src:dst from the top (left) or from the bottom (right). */
        uint64_t wide = (dst << 32) | (src << 16) | dst;
        if (left) {
            r = (wide << count >> 32) & m;
            cf = (wide << (count - 1) >> 47) & 1;
        } else {
            r = (wide >> count) & m;
            cf = (wide >> (count - 1)) & 1;
        }
    } else if (left) {
        r = ((dst << count) | (src >> (bits - count))) & m;
        cf = (dst >> (bits - count)) & 1;
    } else {
        r = ((dst >> count) | (src << (bits - count))) & m;
        cf = (dst >> (count - 1)) & 1;
    }
    bool of = ((r ^ dst) >> (bits - 1)) & 1;
    if (i->flags & INSN_MEM)
        lin_write(c, la, s, r);
    else
        rm_write(c, i, s, r);
    flags_set_arith(c, flags_szp(r, bits) | (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0));
}

void h_shld(struct cpu *c, const struct insn *i)
{
    double_shift(c, i, true);
}

void h_shrd(struct cpu *c, const struct insn *i)
{
    double_shift(c, i, false);
}

/* ---- bit test and scan ---- */

static void bit_op(struct cpu *c, const struct insn *i, unsigned kind, uint64_t bitoff, bool reg_offset)
{
    unsigned s = i->opsize, bits = s * 8;
    uint64_t la = 0, v;
    if (i->flags & INSN_MEM) {
        uint64_t ea = insn_ea(c, i);
        if (reg_offset) {
            /* The register offset is signed and may address beyond the operand. */
            int64_t off = (int64_t)sext(bitoff, s);
            ea = (ea + (uint64_t)((off >> (bits == 64 ? 6 : bits == 32 ? 5 : 4)) * (int64_t)s)) &
                 size_mask(i->addrsize);
        }
        bitoff &= bits - 1;
        la = seg_linear(c, i->seg, ea, s, kind ? ACC_WRITE : ACC_READ);
        v = lin_read(c, la, s);
    } else {
        bitoff &= bits - 1;
        v = c->gpr[(unsigned)i->rm] & size_mask(s);
    }
    bool bit = (v >> bitoff) & 1;
    if (kind == 1)
        v |= 1ull << bitoff;
    else if (kind == 2)
        v &= ~(1ull << bitoff);
    else if (kind == 3)
        v ^= 1ull << bitoff;
    if (kind != 0) {
        if (i->flags & INSN_MEM)
            lin_write(c, la, s, v);
        else
            reg_write(c, i->rm, s, v);
    }
    flags_sync(c);
    flags_put_cf(c, bit);
}

void h_bt_EvGv(struct cpu *c, const struct insn *i)
{
    /* 0F A3 BT, AB BTS, B3 BTR, BB BTC */
    unsigned kind = i->op == 0xA3 ? 0 : i->op == 0xAB ? 1 : i->op == 0xB3 ? 2 : 3;
    bit_op(c, i, kind, c->gpr[(unsigned)i->reg], true);
}

void h_grp8_EvIb(struct cpu *c, const struct insn *i)
{
    unsigned r = i->reg & 7;
    if (r < 4)
        UD(c);
    bit_op(c, i, r - 4, i->imm & 0xFF, false);
}

void h_bsf(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t v = rm_read(c, i, s);
    flags_sync(c);
    c->rflags &= ~(uint64_t)FLAG_ZF;
    if (v == 0) {
        c->rflags |= FLAG_ZF; /* destination unchanged, as Intel and AMD do */
        return;
    }
    reg_write(c, i->reg, s, (uint64_t)__builtin_ctzll(v));
}

void h_bsr(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t v = rm_read(c, i, s);
    flags_sync(c);
    c->rflags &= ~(uint64_t)FLAG_ZF;
    if (v == 0) {
        c->rflags |= FLAG_ZF;
        return;
    }
    reg_write(c, i->reg, s, (uint64_t)(63 - __builtin_clzll(v)));
}

void h_popcnt(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t v = rm_read(c, i, s);
    reg_write(c, i->reg, s, (uint64_t)__builtin_popcountll(v));
    flags_set_arith(c, v ? 0 : FLAG_ZF);
}

/* ---- exchange-and-add, compare-and-exchange ---- */

static void xadd(struct cpu *c, const struct insn *i, unsigned s)
{
    uint64_t la;
    uint64_t dst = rmw_load(c, i, s, &la);
    uint64_t src = greg_read(c, i, s);
    uint64_t sum = alu_compute(c, ALU_ADD, s, dst, src, false);
    if (i->flags & INSN_MEM) {
        /* Store first: a fault leaves the register and RFLAGS unchanged. */
        lin_write(c, la, s, sum);
        greg_write(c, i, s, dst);
    } else {
        greg_write(c, i, s, dst);
        rm_write(c, i, s, sum); /* last: XADD r, r keeps the sum */
    }
    alu_apply(c, ALU_ADD, s, dst, src);
}

BYTE_AND_SIZED(h_xadd_Eb, h_xadd_Ev, xadd)

static void cmpxchg(struct cpu *c, const struct insn *i, unsigned s)
{
    uint64_t la;
    uint64_t dst = rmw_load(c, i, s, &la);
    uint64_t acc = s == 1 ? c->gpr[R_AX] & 0xFF : c->gpr[R_AX] & size_mask(s);
    if (acc == dst) {
        if (i->flags & INSN_MEM)
            lin_write(c, la, s, greg_read(c, i, s));
        else
            rm_write(c, i, s, greg_read(c, i, s));
        alu_apply(c, ALU_CMP, s, acc, dst);
        return;
    }
    /* The memory destination is written back with its own value (SDM: the
     * processor always writes), so a read-only page faults either way. */
    if (i->flags & INSN_MEM)
        lin_write(c, la, s, dst);
    alu_apply(c, ALU_CMP, s, acc, dst);
    if (s == 1)
        reg8_write(c, R_AX, false, (uint8_t)dst);
    else
        reg_write(c, R_AX, s, dst);
}

BYTE_AND_SIZED(h_cmpxchg_Eb, h_cmpxchg_Ev, cmpxchg)

/* 0F C7 /1: CMPXCHG8B, or CMPXCHG16B with REX.W (16-byte alignment, #GP). */
void h_grp9(struct cpu *c, const struct insn *i)
{
    if ((i->reg & 7) != 1 || !(i->flags & INSN_MEM))
        UD(c);
    uint64_t ea = insn_ea(c, i);
    flags_sync(c);
    if (i->opsize == 8) {
        uint64_t la = seg_linear(c, i->seg, ea, 16, ACC_WRITE);
        if (la & 15)
            GP0(c);
        mem_probe_write(c, la, 16);
        uint64_t lo = lin_read(c, la, 8), hi = lin_read(c, la + 8, 8);
        if (lo == c->gpr[R_AX] && hi == c->gpr[R_DX]) {
            lin_write(c, la, 8, c->gpr[R_BX]);
            lin_write(c, la + 8, 8, c->gpr[R_CX]);
            c->rflags |= FLAG_ZF;
        } else {
            lin_write(c, la, 8, lo);
            lin_write(c, la + 8, 8, hi);
            c->gpr[R_AX] = lo;
            c->gpr[R_DX] = hi;
            c->rflags &= ~(uint64_t)FLAG_ZF;
        }
        return;
    }
    uint64_t la = seg_linear(c, i->seg, ea, 8, ACC_WRITE);
    uint64_t v = lin_read(c, la, 8);
    uint64_t cmp = (c->gpr[R_DX] << 32) | (uint32_t)c->gpr[R_AX];
    if (v == cmp) {
        lin_write(c, la, 8, (c->gpr[R_CX] << 32) | (uint32_t)c->gpr[R_BX]);
        c->rflags |= FLAG_ZF;
    } else {
        lin_write(c, la, 8, v);
        reg_write(c, R_AX, 4, (uint32_t)v);
        reg_write(c, R_DX, 4, v >> 32);
        c->rflags &= ~(uint64_t)FLAG_ZF;
    }
}

/* ---- BCD (legacy modes only; the decoder rejects them in 64-bit mode) ---- */

static void set_al(struct cpu *c, uint8_t v)
{
    reg8_write(c, R_AX, false, v);
}

void h_daa(struct cpu *c, const struct insn *i)
{
    (void)i;
    flags_sync(c);
    uint8_t al = (uint8_t)c->gpr[R_AX], old_al = al;
    bool cf = c->rflags & FLAG_CF, af = c->rflags & FLAG_AF;
    uint32_t f = 0;
    if ((al & 0x0F) > 9 || af) {
        al = (uint8_t)(al + 6);
        f |= FLAG_AF;
    }
    if (old_al > 0x99 || cf) {
        al = (uint8_t)(al + 0x60);
        f |= FLAG_CF;
    }
    set_al(c, al);
    flags_set_arith(c, f | flags_szp(al, 8)); /* OF undefined: 0 */
}

void h_das(struct cpu *c, const struct insn *i)
{
    (void)i;
    flags_sync(c);
    uint8_t al = (uint8_t)c->gpr[R_AX], old_al = al;
    bool cf = c->rflags & FLAG_CF, af = c->rflags & FLAG_AF;
    uint32_t f = 0;
    if ((al & 0x0F) > 9 || af) {
        /* CF := old CF or the borrow out of AL - 6 (SDM, DAS). */
        if (al < 6)
            f |= FLAG_CF;
        al = (uint8_t)(al - 6);
        f |= FLAG_AF;
    }
    if (old_al > 0x99 || cf) {
        al = (uint8_t)(al - 0x60);
        f |= FLAG_CF;
    }
    set_al(c, al);
    flags_set_arith(c, f | flags_szp(al, 8));
}

static void ascii_adjust(struct cpu *c, bool sub)
{
    flags_sync(c);
    uint16_t ax = (uint16_t)c->gpr[R_AX];
    uint32_t f = 0;
    if ((ax & 0x0F) > 9 || (c->rflags & FLAG_AF)) {
        if (sub) {
            ax = (uint16_t)(ax - 6);
            ax = (uint16_t)((ax & 0x00FF) | ((((ax >> 8) - 1) & 0xFF) << 8));
        } else {
            ax = (uint16_t)(ax + 0x106);
        }
        f = FLAG_AF | FLAG_CF;
    }
    ax &= 0xFF0F;
    reg_write(c, R_AX, 2, ax);
    /* OF SF ZF PF undefined: smmvm derives SF, ZF, PF from AL. */
    flags_set_arith(c, f | flags_szp(ax & 0xFF, 8));
}

void h_aaa(struct cpu *c, const struct insn *i)
{
    (void)i;
    ascii_adjust(c, false);
}

void h_aas(struct cpu *c, const struct insn *i)
{
    (void)i;
    ascii_adjust(c, true);
}

void h_aam(struct cpu *c, const struct insn *i)
{
    uint8_t base = (uint8_t)i->imm;
    if (base == 0)
        cpu_fault_noerr(c, EXC_DE);
    uint8_t al = (uint8_t)c->gpr[R_AX];
    reg_write(c, R_AX, 2, ((uint64_t)(al / base) << 8) | (al % base));
    flags_set_arith(c, flags_szp(al % base, 8));
}

void h_aad(struct cpu *c, const struct insn *i)
{
    uint8_t base = (uint8_t)i->imm;
    uint16_t ax = (uint16_t)c->gpr[R_AX];
    uint8_t al = (uint8_t)((ax & 0xFF) + (ax >> 8) * base);
    reg_write(c, R_AX, 2, al);
    flags_set_arith(c, flags_szp(al, 8));
}

/* D6: SALC, undocumented but present on every Intel CPU in legacy modes. */
void h_salc(struct cpu *c, const struct insn *i)
{
    (void)i;
    set_al(c, get_cf(c) ? 0xFF : 0x00);
}

REG_ONLY_HANDLERS(THREADED_REG, 16)
REG_ONLY_HANDLERS(THREADED_REG, 32)
REG_ONLY_HANDLERS(THREADED_REG, 64)

ALU_THREADED(THREADED_CALL)

/* ---- superinstructions ----
 * Two register-only records in a row whose flags are dead or CF alone (the
 * forms the liveness pass leaves in straight-line register code) run from
 * one threaded entry on the first record: both bodies inline, one dispatch
 * into the record after the second. Neither can fault or leave the block, so
 * nothing needs the second record's own entry; a run that stops inside the
 * block still runs each record's exact handler (cpu.c). The kinds are listed
 * twice because the preprocessor cannot nest one macro in itself; the unit
 * test checks that both lists agree. */
#define PAIR_KINDS_A(X, n)                                                                         \
    X(h_add_rr##n##_nf, n) X(h_or_rr##n##_nf, n) X(h_adc_rr##n##_nf, n) X(h_sbb_rr##n##_nf, n)     \
    X(h_and_rr##n##_nf, n) X(h_sub_rr##n##_nf, n) X(h_xor_rr##n##_nf, n) X(h_add_ri##n##_nf, n)    \
    X(h_or_ri##n##_nf, n) X(h_adc_ri##n##_nf, n) X(h_sbb_ri##n##_nf, n) X(h_and_ri##n##_nf, n)     \
    X(h_sub_ri##n##_nf, n) X(h_xor_ri##n##_nf, n) X(h_add_rr##n##_cf, n) X(h_adc_rr##n##_cf, n)    \
    X(h_sbb_rr##n##_cf, n) X(h_sub_rr##n##_cf, n) X(h_add_ri##n##_cf, n) X(h_adc_ri##n##_cf, n)    \
    X(h_sbb_ri##n##_cf, n) X(h_sub_ri##n##_cf, n) X(h_neg_r##n##_cf, n) X(h_inc_r##n##_nf, n)      \
    X(h_dec_r##n##_nf, n) X(h_neg_r##n##_nf, n) X(h_not_r##n, n) X(h_mov_rr##n, n)                 \
    X(h_mov_ri##n, n) X(h_rol_ri##n##_nf, n) X(h_ror_ri##n##_nf, n) X(h_shl_ri##n##_nf, n)         \
    X(h_shr_ri##n##_nf, n) X(h_sar_ri##n##_nf, n)
#define PAIR_KINDS_B(X, n, a)                                                                      \
    X(a, h_add_rr##n##_nf) X(a, h_or_rr##n##_nf) X(a, h_adc_rr##n##_nf) X(a, h_sbb_rr##n##_nf)     \
    X(a, h_and_rr##n##_nf) X(a, h_sub_rr##n##_nf) X(a, h_xor_rr##n##_nf) X(a, h_add_ri##n##_nf)    \
    X(a, h_or_ri##n##_nf) X(a, h_adc_ri##n##_nf) X(a, h_sbb_ri##n##_nf) X(a, h_and_ri##n##_nf)     \
    X(a, h_sub_ri##n##_nf) X(a, h_xor_ri##n##_nf) X(a, h_add_rr##n##_cf) X(a, h_adc_rr##n##_cf)    \
    X(a, h_sbb_rr##n##_cf) X(a, h_sub_rr##n##_cf) X(a, h_add_ri##n##_cf) X(a, h_adc_ri##n##_cf)    \
    X(a, h_sbb_ri##n##_cf) X(a, h_sub_ri##n##_cf) X(a, h_neg_r##n##_cf) X(a, h_inc_r##n##_nf)      \
    X(a, h_dec_r##n##_nf) X(a, h_neg_r##n##_nf) X(a, h_not_r##n) X(a, h_mov_rr##n)                 \
    X(a, h_mov_ri##n) X(a, h_rol_ri##n##_nf) X(a, h_ror_ri##n##_nf) X(a, h_shl_ri##n##_nf)         \
    X(a, h_shr_ri##n##_nf) X(a, h_sar_ri##n##_nf)
#define PAIR_DEFINE(a, b)                                                                          \
    static __attribute__((flatten)) void t_pair_##a##_##b(struct cpu *c, const struct insn *i)     \
    {                                                                                              \
        a(c, i);                                                                                   \
        b(c, i + 1);                                                                               \
        NEXT_RECORD_AFTER(c, i, 2);                                                                \
    }
#define PAIR_DEFINE_ROW(a, n) PAIR_KINDS_B(PAIR_DEFINE, n, a)
PAIR_KINDS_A(PAIR_DEFINE_ROW, 32)
PAIR_KINDS_A(PAIR_DEFINE_ROW, 64)

#define PAIR_KIND_NAME(a, n) a,
#define PAIR_KIND_NAME_B(a, b) b,
#define PAIR_CELL(a, b) t_pair_##a##_##b,
#define PAIR_TABLE_ROW(a, n) {PAIR_KINDS_B(PAIR_CELL, n, a)},
enum { PAIR_KINDS = 34 };
static const struct {
    insn_fn kinds[PAIR_KINDS], kinds_b[PAIR_KINDS], entry[PAIR_KINDS][PAIR_KINDS];
} pair_tables[] = {
    {{PAIR_KINDS_A(PAIR_KIND_NAME, 32)},
     {PAIR_KINDS_B(PAIR_KIND_NAME_B, 32, _)},
     {PAIR_KINDS_A(PAIR_TABLE_ROW, 32)}},
    {{PAIR_KINDS_A(PAIR_KIND_NAME, 64)},
     {PAIR_KINDS_B(PAIR_KIND_NAME_B, 64, _)},
     {PAIR_KINDS_A(PAIR_TABLE_ROW, 64)}},
};

static int pair_kind(const insn_fn *kinds, insn_fn fn)
{
    for (int k = 0; k < PAIR_KINDS; k++)
        if (kinds[k] == fn)
            return k;
    return -1;
}

insn_fn pair_entry(insn_fn a, insn_fn b)
{
    for (unsigned t = 0; t < ARRAY_SIZE(pair_tables); t++) {
        int ka = pair_kind(pair_tables[t].kinds, a), kb = pair_kind(pair_tables[t].kinds_b, b);
        if (ka >= 0 && kb >= 0)
            return pair_tables[t].entry[ka][kb];
    }
    return NULL;
}

bool pair_kinds_agree(void)
{
    for (unsigned t = 0; t < ARRAY_SIZE(pair_tables); t++)
        for (unsigned k = 0; k < PAIR_KINDS; k++)
            if (pair_tables[t].kinds[k] != pair_tables[t].kinds_b[k])
                return false;
    return true;
}
