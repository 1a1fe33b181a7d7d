/*
 * gen.c - one random case of a form: register file, flags, memory operand
 * placement and the encoded bytes, and the register-only sequences. Values
 * come from values.c; registers keep random upper bits so partial-register
 * writes and zero-extension are checked too.
 */
#include <string.h>

#include "diff.h"

/* ---- registers ---- */

static bool is_high_byte(unsigned enc, unsigned bytes, bool rex)
{
    return bytes == 1 && !rex && enc >= 4 && enc < 8;
}

static unsigned gpr_of(unsigned enc, unsigned bytes, bool rex)
{
    return is_high_byte(enc, bytes, rex) ? enc - 4 : enc;
}

static void set_reg(struct diff_case *k, unsigned enc, unsigned bytes, bool rex, uint64_t v)
{
    if (is_high_byte(enc, bytes, rex)) {
        k->gpr[enc - 4] = (k->gpr[enc - 4] & ~0xFF00ull) | ((v & 0xFF) << 8);
        return;
    }
    uint64_t m = mask_of(bytes);
    k->gpr[enc] = (k->gpr[enc] & ~m) | (v & m);
}

static uint64_t get_reg(const struct diff_case *k, unsigned enc, unsigned bytes, bool rex)
{
    if (is_high_byte(enc, bytes, rex))
        return (k->gpr[enc - 4] >> 8) & 0xFF;
    return k->gpr[enc] & mask_of(bytes);
}

static unsigned pick_reg(struct rng *r, unsigned limit, uint16_t busy)
{
    unsigned free_regs[16], n = 0;
    for (unsigned g = 0; g < limit; g++)
        if (!((busy >> g) & 1))
            free_regs[n++] = g;
    return n ? free_regs[rng_below(r, n)] : (unsigned)rng_below(r, limit);
}

#define BIT4_RSP (1u << 4)

/* ---- memory operand ---- */

enum amode { AM_BASE, AM_SIB, AM_SIB_NOBASE, AM_ABS, AM_RIP };

struct address {
    uint8_t modrm; /* mod and rm bits */
    uint8_t sib;
    bool has_sib;
    unsigned disp_len;
    int32_t disp;
    bool rip;
    unsigned rex_x, rex_b;
};

static int32_t gen_disp32(struct rng *r)
{
    if (rng_below(r, 2))
        return (int32_t)(uint32_t)gen_value(r, 4);
    return (int32_t)rng_below(r, 0x2000) - 0x1000;
}

/* Chooses an addressing form and register values so that the effective
 * address is `target`; the registers used are never in `busy`. */
static void gen_address(struct rng *r, struct diff_case *k, uint16_t busy, unsigned limit, bool a32,
                        uint64_t target, bool registers_only, bool c32, struct address *a)
{
    uint64_t am = a32 ? 0xFFFFFFFFull : ~0ull;
    /* A non-canonical target needs a register part: disp32 alone cannot reach it. */
    unsigned pick = (unsigned)rng_below(r, registers_only ? 15 : 20);
    enum amode mode = pick < 7    ? AM_BASE
                      : pick < 15 ? AM_SIB
                      : pick < 17 ? AM_SIB_NOBASE
                      : pick < 18 ? AM_ABS
                                  : AM_RIP;
    memset(a, 0, sizeof(*a));
    unsigned mod = (unsigned)rng_below(r, 3);
    unsigned base = pick_reg(r, limit, busy);
    if (mode == AM_BASE && (base & 7) == 4)
        mode = AM_SIB; /* RSP/R12 as base need a SIB byte */
    if ((mode == AM_BASE || mode == AM_SIB) && mod == 0 && (base & 7) == 5)
        mod = 1; /* mod 0 with RBP/R13 means RIP-relative or no base */
    unsigned scale = (unsigned)rng_below(r, 4);
    bool no_index = mode == AM_SIB && rng_below(r, 4) == 0;
    unsigned index = pick_reg(r, limit, (uint16_t)(busy | (1u << 4)));
    if (index == 4 || (registers_only && index == base))
        no_index = true; /* every register but RSP was busy; [r+r*s] cannot reach far */
    uint64_t xval = rng_next(r);
    if (!a32 && rng_below(r, 2))
        xval = (uint64_t)((int64_t)rng_below(r, 0x20000) - 0x10000);

    switch (mode) {
    case AM_BASE:
    case AM_SIB: {
        if (mode == AM_SIB && !no_index && index == base)
            mod = 2; /* [r + r*s]: solved through the displacement */
        a->disp_len = mod == 1 ? 1 : mod == 2 ? 4 : 0;
        a->disp = mod == 1 ? (int8_t)rng_next(r) : mod == 2 ? gen_disp32(r) : 0;
        uint64_t xpart = 0;
        a->rex_b = base >> 3;
        if (mode == AM_SIB) {
            a->has_sib = true;
            a->modrm = (uint8_t)((mod << 6) | 4);
            unsigned ifield = no_index ? 4 : index & 7;
            a->sib = (uint8_t)((scale << 6) | (ifield << 3) | (base & 7));
            a->rex_x = no_index ? 0 : index >> 3;
            if (!no_index && index == base) {
                uint64_t v = rng_below(r, 0x100000);
                a->disp = (int32_t)(uint32_t)(target - v * (1 + (1ull << scale)));
                k->gpr[base] = (rng_next(r) & ~am) | v;
                if (!a32)
                    k->gpr[base] = v;
                k->used |= (uint16_t)(1u << base);
                break;
            }
            if (!no_index) {
                k->gpr[index] = xval;
                xpart = xval << scale;
                k->used |= (uint16_t)(1u << index);
            }
        } else {
            a->modrm = (uint8_t)((mod << 6) | (base & 7));
        }
        uint64_t bval = target - (uint64_t)(int64_t)a->disp - xpart;
        if (a32)
            bval = (rng_next(r) & ~am) | (bval & am);
        k->gpr[base] = bval;
        k->used |= (uint16_t)(1u << base);
        break;
    }
    case AM_SIB_NOBASE: {
        a->has_sib = true;
        a->modrm = 0x04;
        a->sib = (uint8_t)((scale << 6) | ((index & 7) << 3) | 5);
        a->rex_x = index >> 3;
        a->rex_b = (unsigned)rng_below(r, 2); /* ignored: no base */
        a->disp_len = 4;
        int32_t disp = gen_disp32(r);
        disp &= ~(int32_t)((1u << scale) - 1);
        disp |= (int32_t)(target & ((1u << scale) - 1));
        a->disp = disp;
        uint64_t rest = (target - (uint64_t)(int64_t)disp) & am;
        uint64_t v = rest >> scale;
        if (scale)
            v |= rng_next(r) << ((a32 ? 32 : 64) - scale); /* bits shifted out of the address */
        if (a32)
            v = (rng_next(r) & ~am) | (v & am);
        k->gpr[index] = v;
        k->used |= (uint16_t)(1u << index);
        break;
    }
    case AM_ABS:
        a->has_sib = true;
        a->modrm = 0x04;
        a->sib = (uint8_t)((scale << 6) | (4 << 3) | 5);
        a->disp_len = 4;
        a->disp = (int32_t)(uint32_t)target;
        break;
    case AM_RIP: /* in 32-bit code, mod 0 r/m 5 is disp32 alone */
        a->modrm = 0x05;
        a->disp_len = 4;
        a->rip = !c32;
        if (c32)
            a->disp = (int32_t)(uint32_t)target;
        break;
    }
}

/* ---- the case ---- */

static void put_le(uint8_t **p, uint64_t v, unsigned n)
{
    for (unsigned b = 0; b < n; b++)
        *(*p)++ = (uint8_t)(v >> (8 * b));
}

static void patch_at(struct rng *r, struct diff_case *k, uint64_t addr)
{
    struct mem_patch *p = &k->patch[k->n_patch++];
    p->addr = addr - 8;
    for (unsigned b = 0; b < sizeof(p->bytes); b += 8) {
        uint64_t v = rng_next(r);
        memcpy(p->bytes + b, &v, 8);
    }
}

static void patch_value(struct diff_case *k, unsigned which, uint64_t v, unsigned bytes)
{
    for (unsigned b = 0; b < bytes; b++)
        k->patch[which].bytes[8 + b] = (uint8_t)(v >> (8 * b));
}

/* A branch target with room for the host's 14-byte exit: after the code and
 * its own exit, or before the instruction; within rel8 reach when rel8. */
static uint64_t pick_target(struct rng *r, uint64_t code, uint64_t end, unsigned rel_bytes)
{
    if (rel_bytes == 1) {
        if (rng_below(r, 2) && end - 128 <= code - 14)
            return end - 128 + rng_below(r, (code - 14) - (end - 128) + 1);
        return end + 14 + rng_below(r, 127 - 14 + 1);
    }
    if (rng_below(r, 2))
        return code - 0x700 + rng_below(r, 0x700 - 14 + 1);
    return end + 14 + rng_below(r, 0x600);
}

static uint64_t scratch_pointer(struct rng *r, uint64_t win, int64_t offset)
{
    uint64_t p = win + SCRATCH_MID + (uint64_t)offset + rng_below(r, 129) - 64;
    return rng_below(r, 4) ? p & ~7ull : p;
}

void gen_case(const struct form *f, struct rng *r, const struct gen_env *env, struct diff_case *k)
{
    uint64_t win = env->win;
    memset(k, 0, sizeof(*k));
    unsigned sz = f->size, msz = f->msize;
    for (unsigned g = 0; g < 16; g++) {
        k->gpr[g] = rng_next(r);
        if (rng_below(r, 2))
            k->gpr[g] = (k->gpr[g] & ~mask_of(sz)) | gen_value(r, sz);
    }
    k->rflags = rng_next(r) & RFL_COMPARED;
    k->n_insn = f->suffix_len ? 2 : 1;
    uint64_t code = win + WIN_INSN; /* moved across a page end below, sometimes */

    bool has_modrm = !(f->flags & FF_NOMODRM);
    bool reg_operand = has_modrm && f->ext < 0;
    bool byte_regs = sz == 1 || msz == 1;
    /* Compatibility mode: no REX, 32-bit addresses without a prefix; 0x67
     * selects 16-bit addressing (FF_A16, LEA only). */
    bool c32 = f->flags & FF_COMPAT;
    k->compat = c32;
    bool rex_w = !c32 && sz == 8 && !(f->flags & FF_NOREX_W);
    bool rex = !c32 && (rex_w || (byte_regs ? rng_below(r, 2) != 0 : rng_below(r, 4) != 0));
    unsigned limit = rex ? 16 : 8;
    bool mem = f->e == E_MEM || (f->e == E_ANY && !env->regs_only && rng_below(r, 2));
    bool a32 = !c32 && ((f->flags & FF_A32) || (mem && f->gen != GEN_NONCANON &&
                                                f->gen != GEN_SMC && rng_below(r, 10) == 0));
    /* FS/GS overrides: the guest has the host's bases, so base + offset meets the
     * scratch area; with a32 the offset cannot reach it from the host's bases. */
    int fsgs = (mem && !a32 && !c32 && f->gen != GEN_NONCANON && f->gen != GEN_SMC &&
                rng_below(r, 10) == 0)
                   ? (int)rng_below(r, 2)
                   : -1;

    unsigned reg = 0, rm = 0;
    uint16_t busy = f->implicit;
    /* Before a suffix that uses the stack, the first instruction must not move RSP. */
    uint16_t avoid = f->suffix_len ? f->implicit : 0;
    if (reg_operand) {
        reg = pick_reg(r, limit, avoid);
        busy |= (uint16_t)(1u << gpr_of(reg, sz, rex));
        k->used |= (uint16_t)(1u << gpr_of(reg, sz, rex));
        set_reg(k, reg, sz, rex, gen_value(r, sz));
    } else if (has_modrm) {
        reg =
            (unsigned)f->ext | (rex && rng_below(r, 2) ? 8u : 0u); /* REX.R is ignored for /digit */
    }
    uint64_t a = reg_operand ? get_reg(k, reg, sz, rex) : gen_value(r, sz);
    uint64_t eval = gen_partner(r, msz, a); /* value of the r/m operand */
    if ((f->flags & FF_PLUSR) || (has_modrm && !mem)) {
        rm = pick_reg(r, limit, avoid);
        k->used |= (uint16_t)(1u << gpr_of(rm, msz, rex));
        set_reg(k, rm, msz, rex, eval);
    }

    uint64_t imm = 0;
    if (f->imm && !(f->flags & FF_REL)) {
        imm = f->gen == GEN_COUNT_IMM ? gen_count(r, sz * 8) : gen_partner(r, f->imm, a);
        if (f->fam == FAM_SHXD && sz == 2)
            while ((imm & 31) > 16)
                imm = gen_count(r, 16);
    }
    if (f->fam == FAM_SHIFT || f->fam == FAM_ROT)
        k->count = 1;
    if (f->gen == GEN_COUNT_IMM)
        k->count = (unsigned)(imm & 0xFF);

    /* The memory operand sits near the middle of the scratch area; the
     * patch randomises the bytes around it on both sides. */
    uint64_t target = win + SCRATCH_MID + rng_below(r, 129) - 64;
    if (f->gen == GEN_NONCANON) {
        static const uint64_t holes[4] = {0x0000800000000000ull, 0x7FFFFFFFFFFFF000ull,
                                          0xFFFF7FFFFFFFF000ull, 0x8000000000000000ull};
        target = holes[rng_below(r, 4)] + rng_below(r, 0x1000);
    } else if (f->gen == GEN_CMPXCHG8) {
        target &= ~15ull;
        if (rng_below(r, 8) == 0)
            target += 1 + rng_below(r, 15); /* CMPXCHG16B: #GP */
    }
    if (mem && f->gen != GEN_NONCANON && f->gen != GEN_SMC) {
        patch_at(r, k, target);
        patch_value(k, 0, eval, msz > 8 ? 8 : msz);
    }
    uint64_t code_target = code + 0x100 + rng_below(r, 0x500); /* RET, JMP/CALL r/m */

    switch (f->gen) {
    case GEN_COUNT_CL: {
        unsigned count = gen_count(r, sz * 8);
        if (f->fam == FAM_SHXD && sz == 2)
            while ((count & 31) > 16)
                count = gen_count(r, 16);
        k->gpr[1] = (k->gpr[1] & ~0xFFull) | count;
        k->count = count;
        k->used |= 1u << 1;
        break;
    }
    case GEN_MUL:
        k->gpr[0] = (k->gpr[0] & ~mask_of(sz)) | gen_partner(r, sz, eval);
        k->used |= 1u << 0 | 1u << 2;
        break;
    case GEN_DIV:
    case GEN_IDIV: {
        uint64_t m = mask_of(sz), d = eval;
        if (d == 0 && rng_below(r, 4)) {
            d = gen_value(r, sz) | 1;
            if (mem)
                patch_value(k, 0, d, msz);
            else
                set_reg(k, rm, msz, rex, d);
        }
        uint64_t lo = gen_value(r, sz), hi;
        if (f->gen == GEN_DIV)
            hi = (rng_below(r, 8) && d) ? (rng_next(r) & m) % d : gen_value(r, sz);
        else if (rng_below(r, 4))
            hi = (lo >> (8 * sz - 1)) & 1 ? m : 0;
        else
            hi = gen_value(r, sz);
        if (sz == 1) {
            k->gpr[0] = (k->gpr[0] & ~0xFFFFull) | ((hi & 0xFF) << 8) | (lo & 0xFF);
        } else {
            k->gpr[0] = (k->gpr[0] & ~m) | lo;
            k->gpr[2] = (k->gpr[2] & ~m) | hi;
        }
        k->used |= 1u << 0 | 1u << 2;
        break;
    }
    case GEN_BT_REG: {
        unsigned bits = sz * 8;
        if (mem) {
            /* Signed bit offset; keep the byte it selects inside the scratch area. */
            int64_t range = sz == 2 ? 0x7000 : 0xC000; /* bits: 16-bit offsets are int16 */
            int64_t off = rng_below(r, 3) ? (int64_t)rng_below(r, 2 * bits) - (int64_t)bits
                                          : (int64_t)rng_below(r, 2 * (uint64_t)range) - range;
            set_reg(k, reg, sz, rex, (uint64_t)off);
            int64_t unit = off >= 0 ? off / bits : -((-off + bits - 1) / bits);
            uint64_t where = target + (uint64_t)(unit * (int64_t)sz);
            if (where != target)
                patch_at(r, k, where);
        } else if (rng_below(r, 2)) {
            set_reg(k, reg, sz, rex, gen_count(r, bits));
        }
        break;
    }
    case GEN_BSX:
        if (rng_below(r, 8) == 0) {
            if (mem)
                patch_value(k, 0, 0, msz);
            else
                set_reg(k, rm, msz, rex, 0);
        }
        break;
    case GEN_CMPXCHG:
        if (rng_below(r, 2))
            k->gpr[0] = (k->gpr[0] & ~mask_of(sz)) | (eval & mask_of(sz));
        break;
    case GEN_CMPXCHG8: {
        unsigned half = sz == 8 ? 8 : 4;
        uint64_t lo = 0, hi = 0;
        for (unsigned b = 0; b < half; b++) {
            lo |= (uint64_t)k->patch[0].bytes[8 + b] << (8 * b);
            hi |= (uint64_t)k->patch[0].bytes[8 + half + b] << (8 * b);
        }
        if (rng_below(r, 2)) {
            k->gpr[0] = (k->gpr[0] & ~mask_of(half)) | lo;
            k->gpr[2] = (k->gpr[2] & ~mask_of(half)) | hi;
        }
        break;
    }
    case GEN_ACC:
        if (rng_below(r, 2))
            k->gpr[0] = (k->gpr[0] & ~mask_of(sz)) | gen_value(r, sz);
        else
            k->gpr[0] =
                (k->gpr[0] & ~mask_of(sz / 2 ? sz / 2 : 1)) | gen_value(r, sz / 2 ? sz / 2 : 1);
        break;
    case GEN_LOOP: {
        static const uint64_t counts[6] = {0, 1, 2, 0x100000000ull, 0x100000001ull, ~0ull};
        k->gpr[1] = rng_below(r, 2) ? counts[rng_below(r, 6)] : rng_next(r);
        break;
    }
    case GEN_STACK:
    case GEN_PUSH_SREG:
    case GEN_POPF:
    case GEN_RET:
    case GEN_INDIRECT:
    case GEN_LEAVE: {
        unsigned sp = f->gen == GEN_LEAVE ? 5 : 4; /* LEAVE loads RSP from RBP */
        uint64_t p = scratch_pointer(r, win, -0x200);
        k->gpr[sp] = p;
        patch_at(r, k, p);
        struct mem_patch *st = &k->patch[k->n_patch - 1];
        if (f->gen == GEN_PUSH_SREG) {
            /* The SDM lets a wide push of a selector write 16 bits or zero-extend
             * (recent Intel cores do the former): zeros make both the same. */
            memset(st->bytes + 2, 0, 6);
        } else if (f->gen == GEN_POPF) {
            uint64_t v = (rng_next(r) & (RFL_COMPARED | 0x200)) | 2;
            memcpy(st->bytes + 8, &v, 8);
        } else if (f->gen == GEN_RET) {
            memcpy(st->bytes + 8, &code_target, 8);
            k->branch_target = code_target;
        } else if (f->gen == GEN_INDIRECT) {
            if (mem)
                patch_value(k, 0, code_target, 8);
            else
                set_reg(k, rm, 8, rex, code_target);
            k->branch_target = code_target;
        }
        break;
    }
    case GEN_STRING: {
        uint64_t upper = (f->flags & FF_A32) ? rng_next(r) << 32 : 0;
        uint64_t si = scratch_pointer(r, win, -0x400), di = scratch_pointer(r, win, 0x400);
        k->gpr[6] = si | upper;
        k->gpr[7] = di | (upper ? rng_next(r) << 32 : 0);
        k->gpr[1] = rng_below(r, 4) ? rng_below(r, 17) : rng_below(r, 2);
        if (f->flags & FF_A32) {
            k->gpr[1] |= rng_next(r) << 32;
            /* A REP with ECX = 0 writes nothing by the SDM's pseudo-code; Intel
             * hardware still zero-extends RCX (and RSI/RDI for MOVS). */
            if ((f->flags & (FF_F2 | FF_F3)) && (uint32_t)k->gpr[1] == 0)
                k->undef_regs |= 1u << 1 | 1u << 6 | 1u << 7;
        }
        patch_at(r, k, si);
        patch_at(r, k, di);
        if (rng_below(r, 2)) { /* equal strings, maybe with one difference */
            memcpy(k->patch[1].bytes, k->patch[0].bytes, sizeof(k->patch[1].bytes));
            if (rng_below(r, 2))
                k->patch[1].bytes[rng_below(r, 32)] ^= (uint8_t)(1u << rng_below(r, 8));
        }
        if (rng_below(r, 2)) { /* SCAS finds the accumulator soon */
            uint64_t v;
            memcpy(&v, k->patch[1].bytes + 8 + 8 * rng_below(r, 3), 8);
            k->gpr[0] = (k->gpr[0] & ~mask_of(sz)) | (v & mask_of(sz));
        }
        break;
    }
    case GEN_BOUND: {
        /* Signed bounds [lo, hi] in memory; the index near either end. */
        uint64_t m = mask_of(sz);
        uint64_t lo = gen_value(r, sz),
                 hi = rng_below(r, 4) ? (lo + rng_below(r, 1000)) & m : gen_value(r, sz);
        patch_value(k, 0, lo, sz);
        for (unsigned b = 0; b < sz; b++)
            k->patch[0].bytes[8 + sz + b] = (uint8_t)(hi >> (8 * b));
        static const int64_t near[5] = {-1, 0, 0, 1, 2};
        uint64_t v = rng_below(r, 2) ? lo : hi;
        v += (uint64_t)near[rng_below(r, 5)];
        if (rng_below(r, 4) == 0)
            v = gen_value(r, sz);
        set_reg(k, reg, sz, rex, v);
        break;
    }
    case GEN_SREG_VAL: {
        /* Valid on both sides: null, Linux's user data, 32- and 64-bit code
         * (readable), at RPL 0..3. Not a null selector with RPL != 0: an
         * interrupt's IRET back to user mode may clear it on the host. */
        static const uint16_t sels[8] = {0x00, 0x2B, 0x2B, 0x28, 0x2A, 0x23, 0x33, 0x29};
        uint16_t sel = sels[rng_below(r, 8)];
        if (f->implicit & BIT4_RSP) { /* POP sreg */
            uint64_t p = scratch_pointer(r, win, -0x200);
            k->gpr[4] = p;
            patch_at(r, k, p);
            memcpy(k->patch[k->n_patch - 1].bytes + 8, &sel, 2);
        } else if (mem) {
            patch_value(k, 0, sel, 2);
        } else {
            set_reg(k, rm, 2, rex, sel);
        }
        break;
    }
    case GEN_MOFFS:
        imm = target;
        patch_at(r, k, target);
        patch_value(k, 0, eval, sz);
        break;
    case GEN_XLAT: {
        uint64_t al = k->gpr[0] & 0xFF;
        k->gpr[3] = target - al;
        if (a32)
            k->gpr[3] = (rng_next(r) << 32) | (uint32_t)k->gpr[3];
        patch_at(r, k, target);
        break;
    }
    case GEN_ENTER: {
        uint64_t level = f->sub == 0xFF ? rng_below(r, 64) : f->sub;
        imm = rng_below(r, 4) ? rng_below(r, 0x200) : gen_value(r, 2) & 0x3FF;
        imm |= level << 16;
        k->gpr[4] = scratch_pointer(r, win, -0x800);
        k->gpr[5] = scratch_pointer(r, win, -0x200);
        patch_at(r, k, k->gpr[4]);
        patch_at(r, k, k->gpr[5] - 16);
        break;
    }
    default:
        break;
    }
    k->used |= (uint16_t)f->implicit;

    struct address ad = {0};
    if (f->gen == GEN_SMC) {
        ad = (struct address){.modrm = 0x05, .disp_len = 4, .rip = true};
    } else if (mem) {
        uint64_t offset = fsgs >= 0 ? target - env->seg_base[fsgs] : target;
        gen_address(r, k, busy, limit, a32 || c32, offset, f->gen == GEN_NONCANON || fsgs >= 0, c32,
                    &ad);
    }

    /* The destination of BSF/BSR is undefined for a zero source. */
    if (f->gen == GEN_BSX) {
        uint64_t src = mem ? 0 : get_reg(k, rm, msz, rex);
        if (mem)
            for (unsigned b = 0; b < msz; b++)
                src |= (uint64_t)k->patch[0].bytes[8 + b] << (8 * b);
        if (src == 0)
            k->undef_regs |= (uint16_t)(1u << reg);
    }

    /* Encode: [stray REX] [segment] [66 67 F0 F2/F3 in some order] [REX] opcode
     * [ModRM [SIB] [disp]] [imm]. A REX not immediately before the opcode is
     * ignored, and so are ES/CS/SS/DS overrides in 64-bit mode. */
    uint8_t pre[8];
    unsigned n_pre = 0;
    if (mem && rng_below(r, 10) == 0) {
        static const uint8_t segs[4] = {0x26, 0x2E, 0x36, 0x3E};
        uint8_t seg = segs[rng_below(r, 4)];
        pre[n_pre++] = seg == 0x2E && (f->flags & FF_NO_CS) ? 0x3E : seg;
    }
    if (fsgs >= 0)
        pre[n_pre++] = (uint8_t)(0x64 + fsgs);
    if (sz == 2)
        pre[n_pre++] = 0x66;
    if (a32 || (f->flags & FF_A16))
        pre[n_pre++] = 0x67;
    if ((f->flags & FF_LOCK) || ((f->flags & FF_LOCKABLE) && mem && rng_below(r, 6) == 0))
        pre[n_pre++] = 0xF0;
    for (unsigned x = 0; x + 1 < n_pre; x++) { /* shuffle */
        unsigned y = x + (unsigned)rng_below(r, n_pre - x);
        uint8_t t = pre[x];
        pre[x] = pre[y];
        pre[y] = t;
    }
    if (f->flags & (FF_F3 | FF_F2))
        pre[n_pre++] = (f->flags & FF_F3) ? 0xF3 : 0xF2; /* mandatory prefix: last */
    uint8_t *p = k->code;
    if (n_pre && !c32 && rng_below(r, 12) == 0) /* 40..4F are INC/DEC in 32-bit code */
        *p++ = (uint8_t)(0x40 | rng_below(r, 16));
    memcpy(p, pre, n_pre);
    p += n_pre;
    unsigned rex_r = reg >> 3, rex_x = ad.rex_x,
             rex_b = ((f->flags & FF_PLUSR) || !mem) ? rm >> 3 : ad.rex_b;
    if (rex)
        *p++ = (uint8_t)(0x40 | (rex_w ? 8 : 0) | (rex_r << 2) | (rex_x << 1) | rex_b);
    for (unsigned b = 0; b < f->opc_len; b++)
        *p++ = f->opc[b];
    if (f->flags & FF_PLUSR)
        p[-1] = (uint8_t)(p[-1] + (rm & 7));
    uint8_t *disp_at = NULL;
    if (has_modrm && (f->flags & FF_A16)) {
        /* 16-bit ModRM: [BX+SI] .. [BX], disp8/disp16, mod 0 r/m 6 = disp16. */
        unsigned mod = (unsigned)rng_below(r, 3), rm16 = (unsigned)rng_below(r, 8);
        *p++ = (uint8_t)((mod << 6) | ((reg & 7) << 3) | rm16);
        unsigned dl = mod == 1 ? 1 : (mod == 2 || (mod == 0 && rm16 == 6)) ? 2 : 0;
        put_le(&p, rng_below(r, 2) ? gen_value(r, 2) : rng_next(r), dl);
    } else if (has_modrm) {
        if (mem) {
            *p++ = (uint8_t)(ad.modrm | ((reg & 7) << 3));
            if (ad.has_sib)
                *p++ = ad.sib;
            disp_at = p;
            put_le(&p, (uint64_t)(int64_t)ad.disp, ad.disp_len);
        } else {
            *p++ = (uint8_t)(0xC0 | ((reg & 7) << 3) | (rm & 7));
        }
    }
    uint8_t *imm_at = p;
    put_le(&p, imm, f->imm);
    if (f->flags & FF_PAD) {
        /* Redundant DS/CS/ES/SS overrides up to 14..17 bytes: over 15 is #GP. */
        unsigned len = (unsigned)(p - k->code), want = 14 + (unsigned)rng_below(r, 4);
        unsigned shift = want > len ? want - len : 0;
        static const uint8_t segs[4] = {0x26, 0x2E, 0x36, 0x3E};
        memmove(k->code + shift, k->code, len);
        for (unsigned b = 0; b < shift; b++)
            k->code[b] = segs[rng_below(r, 4)];
        p += shift;
        imm_at += shift;
        if (disp_at)
            disp_at += shift;
    }
    k->len = (unsigned)(p - k->code);
    /* One case in eight straddles the end of the code page: the decoder's
     * page-crossing path. */
    if (k->len > 1 && !env->regs_only && rng_below(r, 8) == 0)
        code += 0x1000 - (1 + rng_below(r, k->len - 1));
    k->rip = code;
    uint64_t end = code + k->len;
    if (f->gen == GEN_SMC)
        target = end + f->sub; /* a byte of the next instruction */
    if (ad.rip) {
        uint8_t *q = disp_at;
        put_le(&q, target - end, 4);
    }
    if (f->flags & FF_REL) {
        k->branch_target = pick_target(r, code, end, f->imm);
        put_le(&imm_at, k->branch_target - end, f->imm);
    }
    if (f->suffix_len) {
        memcpy(p, f->suffix, f->suffix_len);
        k->len += f->suffix_len;
        if (f->flags & FF_SUFFIX_JCC)
            k->branch_target =
                code + k->len + (uint64_t)(int64_t)(int8_t)f->suffix[f->suffix_len - 1];
    }
}

/* What a chained instruction leaves undefined, given what was before it. */
static uint32_t chain_undefined(const struct form *f, uint32_t before)
{
    if (f->fam == FAM_ARITH)
        return 0;
    if (f->fam == FAM_LOGIC)
        return RFL_AF;
    return before; /* conservative for the few FAM_NONE forms that write flags */
}

void gen_sequence(const struct form *f, const struct form *const *pool, unsigned n_pool,
                  struct rng *r, const struct gen_env *env, struct diff_case *k)
{
    struct gen_env sub = *env;
    sub.regs_only = true;
    unsigned n = 2 + (unsigned)rng_below(r, f->sub - 1u);
    const struct form *pf = pool[rng_below(r, n_pool)];
    gen_case(pf, r, &sub, k);
    uint32_t undef = chain_undefined(pf, 0);
    while (k->n_insn < n) {
        struct diff_case part;
        pf = pool[rng_below(r, n_pool)];
        gen_case(pf, r, &sub, &part);
        if (k->len + part.len > 48)
            break;
        memcpy(k->code + k->len, part.code, part.len);
        k->len += part.len;
        k->n_insn++;
        undef = chain_undefined(pf, undef);
    }
    k->seq_undef = undef;
    k->used = 0xFFFF;
    k->n_patch = 0;
    if (rng_below(r, 8) == 0)
        k->rip += 0x1000 - (1 + rng_below(r, k->len - 1));
}
