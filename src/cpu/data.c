/*
 * data.c - data movement and flag-control instructions: MOV in all forms,
 * LEA, XCHG, MOVZX/MOVSX/MOVSXD, CMOVcc, SETcc, BSWAP, CBW..CQO, LAHF/SAHF,
 * XLAT, PUSH/POP in all forms, PUSHA/POPA, PUSHF/POPF, ENTER/LEAVE, far
 * pointer loads, CLC..STD, CLI/STI, ARPL, BOUND. SDM Vol. 2 per instruction.
 */
#include "cpu/handlers.h"

void h_mov_EbGb(struct cpu *c, const struct insn *i)
{
    rm_write(c, i, 1, greg_read(c, i, 1));
}

void h_mov_EvGv(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    if (!(i->flags & INSN_MEM)) {
        reg_write(c, i->rm, s, c->gpr[(unsigned)i->reg]);
        return;
    }
    seg_write(c, i->seg, insn_ea(c, i), s, c->gpr[(unsigned)i->reg]);
}

/* 64-bit-mode MOV between a GPR and [base + disp] or [base + index*scale + disp]
 * through DS/ES/SS (no segment base), the commonest memory forms: chosen at
 * decode time, so the address needs no operand-kind, size or mode tests. */
static inline uint64_t ea64(const struct cpu *c, const struct insn *i, bool indexed)
{
    uint64_t ea = c->gpr[i->base] + (uint64_t)(int64_t)i->disp;
    if (indexed)
        ea += c->gpr[i->index] << i->scale;
    return ea;
}

static inline uint64_t la64(struct cpu *c, const struct insn *i, bool indexed, unsigned size,
                            enum access acc)
{
    uint64_t la = ea64(c, i, indexed);
    if (unlikely((uint64_t)((int64_t)(la << 16) >> 16) != la))
        return seg_linear_slow(c, i->seg, la, size, acc);
    return la;
}

#define MOV64_FORMS(suffix, indexed)                                                               \
    void h_mov_load64_##suffix(struct cpu *c, const struct insn *i)                                \
    {                                                                                              \
        c->gpr[(unsigned)i->reg] = lin_read(c, la64(c, i, indexed, 8, ACC_READ), 8);                         \
    }                                                                                              \
    void h_mov_load32_##suffix(struct cpu *c, const struct insn *i)                                \
    {                                                                                              \
        c->gpr[(unsigned)i->reg] = (uint32_t)lin_read(c, la64(c, i, indexed, 4, ACC_READ), 4);               \
    }                                                                                              \
    void h_mov_store64_##suffix(struct cpu *c, const struct insn *i)                               \
    {                                                                                              \
        lin_write(c, la64(c, i, indexed, 8, ACC_WRITE), 8, c->gpr[(unsigned)i->reg]);                        \
    }                                                                                              \
    void h_mov_store32_##suffix(struct cpu *c, const struct insn *i)                               \
    {                                                                                              \
        lin_write(c, la64(c, i, indexed, 4, ACC_WRITE), 4, c->gpr[(unsigned)i->reg]);                        \
    }
MOV64_FORMS(bd, false)
MOV64_FORMS(bisd, true)

void h_mov_GbEb(struct cpu *c, const struct insn *i)
{
    greg_write(c, i, 1, rm_read(c, i, 1));
}

void h_mov_GvEv(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    if (!(i->flags & INSN_MEM)) {
        reg_write(c, i->reg, s, c->gpr[(unsigned)i->rm]);
        return;
    }
    reg_write(c, i->reg, s, seg_read(c, i->seg, insn_ea(c, i), s));
}

void h_mov_EvSw(struct cpu *c, const struct insn *i)
{
    unsigned sr = i->reg & 7;
    if (sr >= SEG_COUNT)
        UD(c);
    uint16_t sel = c->seg[sr].selector;
    if (i->flags & INSN_MEM)
        seg_write(c, i->seg, insn_ea(c, i), 2, sel);
    else
        reg_write(c, i->rm, i->opsize, sel); /* zero-extended into 32/64-bit registers */
}

void h_mov_SwEw(struct cpu *c, const struct insn *i)
{
    unsigned sr = i->reg & 7;
    if (sr >= SEG_COUNT || sr == SEG_CS)
        UD(c);
    uint16_t sel = (uint16_t)rm_read(c, i, 2);
    seg_load(c, sr, sel);
    if (sr == SEG_SS) {
        c->interrupt_shadow = true;
        c->ss_shadow = true;
        c->block_exit = true;
    }
}

void h_mov_rb_Ib(struct cpu *c, const struct insn *i)
{
    reg8_write(c, i->rm, i->flags & INSN_REX, (uint8_t)i->imm);
}

void h_mov_r_Iv(struct cpu *c, const struct insn *i)
{
    reg_write(c, i->rm, i->opsize, i->imm);
}

void h_mov_EbIb(struct cpu *c, const struct insn *i)
{
    rm_write(c, i, 1, i->imm);
}

void h_mov_EvIz(struct cpu *c, const struct insn *i)
{
    rm_write(c, i, i->opsize, i->imm);
}

void h_mov_AL_Ob(struct cpu *c, const struct insn *i)
{
    reg8_write(c, R_AX, false, (uint8_t)seg_read(c, i->seg, i->imm, 1));
}

void h_mov_AX_Ov(struct cpu *c, const struct insn *i)
{
    reg_write(c, R_AX, i->opsize, seg_read(c, i->seg, i->imm, i->opsize));
}

void h_mov_Ob_AL(struct cpu *c, const struct insn *i)
{
    seg_write(c, i->seg, i->imm, 1, c->gpr[R_AX]);
}

void h_mov_Ov_AX(struct cpu *c, const struct insn *i)
{
    seg_write(c, i->seg, i->imm, i->opsize, c->gpr[R_AX]);
}

void h_lea(struct cpu *c, const struct insn *i)
{
    reg_write(c, i->reg, i->opsize, insn_ea(c, i));
}

void h_xchg_EbGb(struct cpu *c, const struct insn *i)
{
    uint64_t a = rm_read(c, i, 1), b = greg_read(c, i, 1);
    rm_write(c, i, 1, b);
    greg_write(c, i, 1, a);
}

void h_xchg_EvGv(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t la = 0, a;
    if (i->flags & INSN_MEM) {
        la = seg_linear(c, i->seg, insn_ea(c, i), s, ACC_WRITE);
        a = lin_read(c, la, s);
        lin_write(c, la, s, c->gpr[(unsigned)i->reg]);
    } else {
        a = c->gpr[(unsigned)i->rm];
        reg_write(c, i->rm, s, c->gpr[(unsigned)i->reg]);
    }
    reg_write(c, i->reg, s, a);
}

void h_xchg_AX_r(struct cpu *c, const struct insn *i)
{
    if (i->rm == R_AX) { /* 90: NOP (no zero-extension in 64-bit mode); F3 90: PAUSE */
        if (i->flags & INSN_REP)
            h_pause(c, i);
        return;
    }
    uint64_t a = c->gpr[R_AX];
    reg_write(c, R_AX, i->opsize, c->gpr[(unsigned)i->rm]);
    reg_write(c, i->rm, i->opsize, a);
}

void h_nop(struct cpu *c, const struct insn *i)
{
    (void)c;
    (void)i;
}

/* PAUSE ends the scheduling quantum so spin-wait handshakes progress (cpu.md §5.9). */
void h_pause(struct cpu *c, const struct insn *i)
{
    (void)i;
    c->block_exit = true;
    cpu_yield(c);
    c->pause_exit = true;
}

void h_movzx_b(struct cpu *c, const struct insn *i)
{
    reg_write(c, i->reg, i->opsize, rm_read(c, i, 1));
}

void h_movzx_w(struct cpu *c, const struct insn *i)
{
    reg_write(c, i->reg, i->opsize, rm_read(c, i, 2));
}

void h_movsx_b(struct cpu *c, const struct insn *i)
{
    reg_write(c, i->reg, i->opsize, sext(rm_read(c, i, 1), 1));
}

void h_movsx_w(struct cpu *c, const struct insn *i)
{
    reg_write(c, i->reg, i->opsize, sext(rm_read(c, i, 2), 2));
}

void h_movsxd(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    if (s == 8)
        reg_write(c, i->reg, 8, sext(rm_read(c, i, 4), 4));
    else
        reg_write(c, i->reg, s, rm_read(c, i, s));
}

void h_cmov(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t v = rm_read(c, i, s); /* the source is read (and may fault) either way */
    if (cpu_cond(c, i->op & 15))
        reg_write(c, i->reg, s, v);
    else if (s == 4)
        reg_write(c, i->reg, 4, c->gpr[(unsigned)i->reg]); /* 32-bit CMOV always zero-extends */
}

void h_setcc(struct cpu *c, const struct insn *i)
{
    rm_write(c, i, 1, cpu_cond(c, i->op & 15));
}

void h_bswap(struct cpu *c, const struct insn *i)
{
    if (i->opsize == 8)
        c->gpr[(unsigned)i->rm] = __builtin_bswap64(c->gpr[(unsigned)i->rm]);
    else if (i->opsize == 4)
        reg_write(c, i->rm, 4, __builtin_bswap32((uint32_t)c->gpr[(unsigned)i->rm]));
    else
        reg_write(c, i->rm, 2, 0); /* 16-bit BSWAP is undefined; smmvm clears, as Intel CPUs do */
}

void h_cbw(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    reg_write(c, R_AX, s, sext(c->gpr[R_AX], s / 2));
}

void h_cwd(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t sign = (c->gpr[R_AX] >> (s * 8 - 1)) & 1;
    reg_write(c, R_DX, s, sign ? ~0ull : 0);
}

void h_lahf(struct cpu *c, const struct insn *i)
{
    (void)i;
    reg8_write(c, 4, false, (uint8_t)(cpu_get_rflags(c) & 0xD7) | 2); /* AH */
}

void h_sahf(struct cpu *c, const struct insn *i)
{
    (void)i;
    flags_sync(c);
    uint64_t ah = (c->gpr[R_AX] >> 8) & 0xD5;
    c->rflags = (c->rflags & ~0xD5ull) | ah;
    c->lf.carry = ah & FLAG_CF;
}

void h_xlat(struct cpu *c, const struct insn *i)
{
    uint64_t off = (c->gpr[R_BX] + (c->gpr[R_AX] & 0xFF)) & size_mask(i->addrsize);
    reg8_write(c, R_AX, false, (uint8_t)seg_read(c, i->seg, off, 1));
}

/* ---- stack ---- */

void h_push_r(struct cpu *c, const struct insn *i)
{
    stack_push(c, i->opsize, c->gpr[(unsigned)i->rm]);
}

void h_pop_r(struct cpu *c, const struct insn *i)
{
    uint64_t v = stack_pop(c, i->opsize);
    reg_write(c, i->rm, i->opsize, v);
}

/* 68 Iz and 6A Ib: the decoder has sign-extended the immediate. */
void h_push_imm(struct cpu *c, const struct insn *i)
{
    stack_push(c, i->opsize, i->imm);
}

void h_pop_Ev(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t v = cpu_stack_peek(c, 0, s);
    if (!(i->flags & INSN_MEM)) {
        cpu_stack_adjust(c, s);
        reg_write(c, i->rm, s, v);
        return;
    }
    /* An RSP-based address is computed after the increment (SDM, POP). */
    uint64_t saved = c->gpr[R_SP];
    cpu_stack_adjust(c, s);
    uint64_t ea = insn_ea(c, i);
    uint64_t after = c->gpr[R_SP];
    c->gpr[R_SP] = saved; /* restartable: commit RSP only after the store */
    seg_write(c, i->seg, ea, s, v);
    c->gpr[R_SP] = after;
}

static unsigned sreg_of_opcode(const struct insn *i)
{
    switch (i->op) {
    case 0xA0: case 0xA1: return SEG_FS;
    case 0xA8: case 0xA9: return SEG_GS;
    default: return (i->op >> 3) & 3; /* 06/07 ES, 0E CS, 16/17 SS, 1E/1F DS */
    }
}

void h_push_sreg(struct cpu *c, const struct insn *i)
{
    /* A 32/64-bit push of a selector stores it zero-extended (as QEMU; recent
     * Intel cores write only 16 bits, the SDM allows both). */
    cpu_push(c, i->opsize, c->seg[sreg_of_opcode(i)].selector);
}

void h_pop_sreg(struct cpu *c, const struct insn *i)
{
    unsigned sr = sreg_of_opcode(i);
    uint16_t sel = (uint16_t)cpu_stack_peek(c, 0, 2);
    seg_load(c, sr, sel);
    cpu_stack_adjust(c, i->opsize);
    if (sr == SEG_SS) {
        c->interrupt_shadow = true;
        c->ss_shadow = true;
        c->block_exit = true;
    }
}

void h_pusha(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t sp = c->gpr[R_SP];
    /* Probe both ends of the frame before the first write (restartable). */
    mem_probe_write(c, seg_linear(c, SEG_SS, (sp - 8 * s) & stack_mask(c), s, ACC_WRITE), s);
    mem_probe_write(c, seg_linear(c, SEG_SS, (sp - s) & stack_mask(c), s, ACC_WRITE), s);
    for (int r = R_AX; r <= R_DI; r++)
        cpu_push(c, s, r == R_SP ? sp : c->gpr[r]);
}

void h_popa(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t v[8];
    for (int k = 0; k < 8; k++)
        v[k] = cpu_stack_peek(c, (uint64_t)k * s, s);
    for (int r = R_DI, k = 0; r >= R_AX; r--, k++)
        if (r != R_SP)
            reg_write(c, r, s, v[k]);
    cpu_stack_adjust(c, 8 * s);
}

void h_pushf(struct cpu *c, const struct insn *i)
{
    uint64_t f = cpu_get_rflags(c) & ~(uint64_t)(FLAG_VM | FLAG_RF);
    cpu_push(c, i->opsize, f);
}

void h_popf(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t v = cpu_stack_peek(c, 0, s);
    uint64_t old = cpu_get_rflags(c);
    uint64_t keep = FLAG_VM | FLAG_VIF | FLAG_VIP | FLAG_RF;
    if (c->protected_mode && c->cpl > 0)
        keep |= FLAG_IOPL;
    if (c->protected_mode && c->cpl > ((old & FLAG_IOPL) >> 12))
        keep |= FLAG_IF;
    if (s == 2)
        keep |= ~0xFFFFull;
    cpu_stack_adjust(c, s);
    cpu_set_rflags(c, (old & keep) | (v & ~keep));
    c->block_exit = true; /* TF or IF may have changed */
}

void h_enter(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    unsigned level = i->imm2 & 31;
    uint64_t m = stack_mask(c);
    uint64_t sp = c->gpr[R_SP];
    uint64_t bp = c->gpr[R_BP];
    /* Work on a private stack pointer and commit RSP/RBP at the end, so a
     * fault leaves the registers as they were. */
    sp = (sp - s) & m;
    seg_write(c, SEG_SS, sp, s, bp);
    uint64_t frame = sp;
    if (level > 0) {
        uint64_t bpm = c->stack_bits == 16 ? 0xFFFF : m;
        for (unsigned k = 1; k < level; k++) {
            bp = (bp - s) & bpm;
            uint64_t v = seg_read(c, SEG_SS, bp, s);
            sp = (sp - s) & m;
            seg_write(c, SEG_SS, sp, s, v);
        }
        sp = (sp - s) & m;
        seg_write(c, SEG_SS, sp, s, frame);
    }
    uint64_t new_sp = (sp - (i->imm & 0xFFFF)) & m;
    (void)seg_linear(c, SEG_SS, new_sp, 1, ACC_WRITE);
    reg_write(c, R_BP, c->stack_bits == 64 ? 8 : s, frame);
    if (c->stack_bits == 16)
        reg_write(c, R_SP, 2, new_sp);
    else if (c->stack_bits == 32)
        reg_write(c, R_SP, 4, new_sp);
    else
        c->gpr[R_SP] = new_sp;
}

void h_leave(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t m = stack_mask(c);
    uint64_t bp = c->gpr[R_BP] & m;
    uint64_t v = seg_read(c, SEG_SS, bp, s);
    if (c->stack_bits == 16)
        reg_write(c, R_SP, 2, bp + s);
    else if (c->stack_bits == 32)
        reg_write(c, R_SP, 4, bp + s);
    else
        c->gpr[R_SP] = bp + s;
    reg_write(c, R_BP, s, v);
}

void h_lxs(struct cpu *c, const struct insn *i)
{
    unsigned sr;
    switch (i->op) {
    case 0xC4: sr = SEG_ES; break;
    case 0xC5: sr = SEG_DS; break;
    case 0xB2: sr = SEG_SS; break;
    case 0xB4: sr = SEG_FS; break;
    default: sr = SEG_GS; break;
    }
    unsigned s = i->opsize;
    uint64_t ea = insn_ea(c, i);
    uint64_t off = seg_read(c, i->seg, ea, s);
    uint16_t sel = (uint16_t)seg_read(c, i->seg, (ea + s) & size_mask(i->addrsize), 2);
    seg_load(c, sr, sel);
    reg_write(c, i->reg, s, off); /* unlike MOV SS, LSS opens no interrupt shadow */
}

/* ---- flag control ---- */

void h_clc(struct cpu *c, const struct insn *i)
{
    (void)i;
    flags_sync(c);
    flags_put_cf(c, false);
}

void h_stc(struct cpu *c, const struct insn *i)
{
    (void)i;
    flags_sync(c);
    flags_put_cf(c, true);
}

void h_cmc(struct cpu *c, const struct insn *i)
{
    (void)i;
    flags_sync(c);
    flags_put_cf(c, !c->lf.carry);
}

void h_cld(struct cpu *c, const struct insn *i)
{
    (void)i;
    c->rflags &= ~(uint64_t)FLAG_DF;
}

void h_std(struct cpu *c, const struct insn *i)
{
    (void)i;
    c->rflags |= FLAG_DF;
}

static void check_iopl(struct cpu *c)
{
    if (c->protected_mode && c->cpl > ((c->rflags & FLAG_IOPL) >> 12))
        GP0(c);
}

void h_cli(struct cpu *c, const struct insn *i)
{
    (void)i;
    check_iopl(c);
    c->rflags &= ~(uint64_t)FLAG_IF;
}

void h_sti(struct cpu *c, const struct insn *i)
{
    (void)i;
    check_iopl(c);
    if (!(c->rflags & FLAG_IF)) {
        c->rflags |= FLAG_IF;
        c->interrupt_shadow = true;
    }
    c->block_exit = true;
}

void h_arpl(struct cpu *c, const struct insn *i)
{
    if (!c->protected_mode)
        UD(c);
    uint64_t la = 0, dst;
    if (i->flags & INSN_MEM) {
        la = seg_linear(c, i->seg, insn_ea(c, i), 2, ACC_WRITE);
        dst = lin_read(c, la, 2);
    } else {
        dst = c->gpr[(unsigned)i->rm] & 0xFFFF;
    }
    uint16_t src = (uint16_t)c->gpr[(unsigned)i->reg];
    flags_sync(c);
    if ((dst & 3) < (src & 3u)) {
        dst = (dst & ~3ull) | (src & 3);
        c->rflags |= FLAG_ZF;
        if (i->flags & INSN_MEM)
            lin_write(c, la, 2, dst);
        else
            reg_write(c, i->rm, 2, dst);
    } else {
        c->rflags &= ~(uint64_t)FLAG_ZF;
    }
}

void h_bound(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t ea = insn_ea(c, i);
    int64_t lo = (int64_t)sext(seg_read(c, i->seg, ea, s), s);
    int64_t hi = (int64_t)sext(seg_read(c, i->seg, (ea + s) & size_mask(i->addrsize), s), s);
    int64_t v = (int64_t)sext(c->gpr[(unsigned)i->reg], s);
    if (v < lo || v > hi)
        cpu_fault_noerr(c, EXC_BR);
}

DATA_THREADED(THREADED_MEM)

/* Threaded 64-bit MOV forms: a TLB hit inline (non-canonical addresses miss),
 * anything else through the plain handler (mem_forms.c does the same). */
#define MOV64_THREADED(suffix, indexed)                                                            \
    THREADED_HIT(h_mov_load64_##suffix, tlb_host(c, ea64(c, i, indexed), 8, false, &p),           \
                 c->gpr[(unsigned)i->reg] = load_host(p, 8))                                                 \
    THREADED_HIT(h_mov_load32_##suffix, tlb_host(c, ea64(c, i, indexed), 4, false, &p),           \
                 c->gpr[(unsigned)i->reg] = (uint32_t)load_host(p, 4))                                       \
    THREADED_HIT(h_mov_store64_##suffix, tlb_host(c, ea64(c, i, indexed), 8, true, &p),           \
                 store_host(p, 8, c->gpr[(unsigned)i->reg]))                                                 \
    THREADED_HIT(h_mov_store32_##suffix, tlb_host(c, ea64(c, i, indexed), 4, true, &p),           \
                 store_host(p, 4, c->gpr[(unsigned)i->reg]))
MOV64_THREADED(bd, false)
MOV64_THREADED(bisd, true)
