/*
 * branch.c - control transfers: near and far JMP/CALL/RET, Jcc, LOOP/JCXZ,
 * IRET in every mode, INT n/INT3/INTO/INT1, SYSCALL/SYSRET, group 5.
 * SDM Vol. 2 per instruction. Every transfer checks its target before the
 * first architectural side effect, so a fault leaves the state intact.
 * Call gates and task switches are not modelled yet (cpu.md §1.3): the CPU
 * shuts down with a report naming them.
 */
#include "cpu/handlers.h"

/* Validates a near target and returns it truncated for the operand size. */
static uint64_t near_target(struct cpu *c, uint64_t target, unsigned opsize)
{
    if (c->code_bits == 64) {
        if ((uint64_t)((int64_t)(target << 16) >> 16) != target)
            GP0(c);
        return target;
    }
    target &= size_mask(opsize);
    if (target > c->seg[SEG_CS].limit)
        GP0(c);
    return target;
}

void cpu_jump_near(struct cpu *c, uint64_t target, unsigned opsize)
{
    c->next_rip = near_target(c, target, opsize);
}

/* Short and near forms share handlers: the displacement is sign-extended at decode. */
void h_jcc_rel(struct cpu *c, const struct insn *i)
{
    if (cpu_cond(c, i->op & 15))
        cpu_jump_near(c, c->next_rip + i->imm, i->opsize);
}

void h_jmp_rel(struct cpu *c, const struct insn *i)
{
    cpu_jump_near(c, c->next_rip + i->imm, i->opsize);
}

void h_call_rel(struct cpu *c, const struct insn *i)
{
    uint64_t t = near_target(c, c->next_rip + i->imm, i->opsize);
    stack_push(c, i->opsize, c->next_rip);
    c->next_rip = t;
}

/* ---- JMP and CALL folded into their block (block.c) ----
 * The block goes on with the record after this one, decoded at the target.
 * In 64-bit mode a target in the same page needs no check. Elsewhere the
 * target may wrap at the operand size (then the block is not where the code
 * goes) or lie beyond the CS limit (#GP): both are checked here. next_rip is
 * set either way, for when this record runs last in its block. */

static uint64_t folded_next(const struct cpu *c, const struct insn *i)
{
    uint64_t next = c->blk_rip + (uint64_t)(int64_t)i->offset + i->len;
    return c->code_bits == 64 ? next : (uint32_t)next;
}

static bool folded_target_moved(const struct cpu *c, const struct insn *i, uint64_t target)
{
    return target != (uint32_t)(c->blk_rip + (uint64_t)(int64_t)i[1].offset) ||
           target > c->seg[SEG_CS].limit;
}

/* Cold: the target is not where the block continues. */
static void folded_leave(struct cpu *c, uint64_t target)
{
    c->next_rip = target;
    if (c->cur_insn) { /* not the block's last record: the run loop must leave */
        c->block_exit = true;
        c->block_exit_redirect = true;
        c->block_exit_rip = target;
    }
}

void h_jmp_folded(struct cpu *c, const struct insn *i)
{
    uint64_t next = folded_next(c, i);
    if (c->code_bits == 64) {
        c->next_rip = next + i->imm;
        return;
    }
    uint64_t t = (next + i->imm) & size_mask(i->opsize);
    c->next_rip = t;
    if (unlikely(folded_target_moved(c, i, t))) {
        if (t > c->seg[SEG_CS].limit)
            GP0(c);
        folded_leave(c, t);
    }
}

void h_call_folded(struct cpu *c, const struct insn *i)
{
    uint64_t next = folded_next(c, i);
    if (c->code_bits == 64) { /* 64-bit stack, SS base 0: push RIP by hand */
        uint64_t sp = c->gpr[R_SP] - 8;
        if (unlikely((uint64_t)((int64_t)(sp << 16) >> 16) != sp))
            seg_linear_slow(c, SEG_SS, sp, 8, ACC_WRITE); /* #SS */
        lin_write(c, sp, 8, next);
        c->gpr[R_SP] = sp;
        c->next_rip = next + i->imm;
        return;
    }
    uint64_t t = (next + i->imm) & size_mask(i->opsize);
    bool moved = folded_target_moved(c, i, t);
    if (unlikely(moved) && t > c->seg[SEG_CS].limit)
        GP0(c); /* before the push, as h_call_rel */
    stack_push(c, i->opsize, next);
    c->next_rip = t;
    if (unlikely(moved))
        folded_leave(c, t);
}

/* RET predicted by the decoder to return behind a CALL folded earlier in the
 * block (block.c), which goes on there. Any other popped address leaves the
 * block as h_ret would. */
void h_ret_folded(struct cpu *c, const struct insn *i)
{
    uint64_t expect = c->blk_rip + (uint64_t)(int64_t)i[1].offset;
    unsigned s = i->opsize;
    uint64_t sp, t;
    if (c->code_bits == 64) { /* 64-bit stack, SS base 0, s = 8 (block.c) */
        sp = c->gpr[R_SP];
        if (unlikely((uint64_t)((int64_t)(sp << 16) >> 16) != sp))
            seg_linear_slow(c, SEG_SS, sp, 8, ACC_READ); /* #SS */
        t = lin_read(c, sp, 8);
        if (likely(t == expect)) {
            c->gpr[R_SP] = sp + 8;
            c->next_rip = t;
            return;
        }
    } else {
        sp = c->gpr[R_SP] & stack_mask(c);
        t = seg_read(c, SEG_SS, sp, s);
        if (likely(t == (uint32_t)expect && t <= c->seg[SEG_CS].limit)) {
            stack_set_sp(c, sp + s);
            c->next_rip = t;
            return;
        }
    }
    t = near_target(c, t, s);
    stack_set_sp(c, sp + s);
    folded_leave(c, t);
}

void h_ret(struct cpu *c, const struct insn *i)
{
    unsigned s = i->opsize;
    uint64_t sp = c->gpr[R_SP] & stack_mask(c);
    uint64_t t = near_target(c, seg_read(c, SEG_SS, sp, s), s);
    stack_set_sp(c, sp + s);
    c->next_rip = t;
}

void h_ret_Iw(struct cpu *c, const struct insn *i)
{
    uint64_t t = near_target(c, cpu_stack_peek(c, 0, i->opsize), i->opsize);
    cpu_stack_adjust(c, (int64_t)(i->opsize + (i->imm & 0xFFFF)));
    c->next_rip = t;
}

static uint64_t count_reg(struct cpu *c, const struct insn *i)
{
    return c->gpr[R_CX] & size_mask(i->addrsize);
}

static void dec_count(struct cpu *c, const struct insn *i)
{
    reg_write(c, R_CX, i->addrsize, c->gpr[R_CX] - 1);
}

void h_loop(struct cpu *c, const struct insn *i)
{
    dec_count(c, i);
    if (count_reg(c, i))
        cpu_jump_near(c, c->next_rip + i->imm, i->opsize);
}

void h_loope(struct cpu *c, const struct insn *i)
{
    dec_count(c, i);
    if (count_reg(c, i) && cpu_cond(c, 4))
        cpu_jump_near(c, c->next_rip + i->imm, i->opsize);
}

void h_loopne(struct cpu *c, const struct insn *i)
{
    dec_count(c, i);
    if (count_reg(c, i) && cpu_cond(c, 5))
        cpu_jump_near(c, c->next_rip + i->imm, i->opsize);
}

void h_jcxz(struct cpu *c, const struct insn *i)
{
    if (count_reg(c, i) == 0)
        cpu_jump_near(c, c->next_rip + i->imm, i->opsize);
}

/* ---- far transfers ---- */

/* Loads CS for a far JMP/CALL/RET/IRET target after all checks passed. */
static void load_cs(struct cpu *c, uint16_t sel, uint64_t desc, unsigned cpl)
{
    desc_set_accessed(c, sel, desc);
    seg_from_desc(&c->seg[SEG_CS], (uint16_t)((sel & ~3u) | cpl), desc | (1ull << 40));
    c->cpl = (uint8_t)cpl;
    cpu_update_mode(c);
}

/* Reads and checks a code-segment descriptor as a far JMP/CALL target. */
static uint64_t code_desc_for_transfer(struct cpu *c, uint16_t sel)
{
    uint64_t d = desc_fetch(c, sel);
    unsigned type = (d >> 40) & 0xF, dpl = (d >> 45) & 3, rpl = sel & 3;
    if (!((d >> 44) & 1)) {
        /* System descriptor: call gate, task gate or TSS. */
        cpu_shutdown(c, "far transfer through a call gate, task gate or TSS (not modelled)");
    }
    if (!(type & 0x8))
        cpu_fault(c, EXC_GP, sel & ~3u);
    if (type & 0x4) { /* conforming */
        if (dpl > c->cpl)
            cpu_fault(c, EXC_GP, sel & ~3u);
    } else if (rpl > c->cpl || dpl != c->cpl) {
        cpu_fault(c, EXC_GP, sel & ~3u);
    }
    if (!((d >> 47) & 1))
        cpu_fault(c, EXC_NP, sel & ~3u);
    if (c->long_mode && ((d >> 53) & 1) && ((d >> 54) & 1))
        cpu_fault(c, EXC_GP, sel & ~3u); /* L and D both set */
    return d;
}

static uint64_t target_for_desc(struct cpu *c, uint64_t desc, uint64_t off, unsigned opsize)
{
    bool target64 = c->long_mode && ((desc >> 53) & 1);
    if (target64) {
        if ((uint64_t)((int64_t)(off << 16) >> 16) != off)
            GP0(c);
        return off;
    }
    off &= size_mask(opsize);
    if (off > desc_limit(desc))
        GP0(c);
    return off;
}

void cpu_far_jump(struct cpu *c, uint16_t sel, uint64_t off, unsigned opsize, bool call)
{
    if (!c->protected_mode || (c->rflags & FLAG_VM)) {
        off &= size_mask(opsize);
        if (call) {
            cpu_push(c, opsize, c->seg[SEG_CS].selector);
            cpu_push(c, opsize, c->next_rip);
        }
        seg_load_real(c, SEG_CS, sel);
        cpu_update_mode(c);
        c->next_rip = off;
        return;
    }
    uint64_t d = code_desc_for_transfer(c, sel);
    uint64_t target = target_for_desc(c, d, off, opsize);
    if (call) {
        /* Check both pushes before either writes. */
        uint64_t sp = c->gpr[R_SP];
        uint64_t la = seg_linear(c, SEG_SS, (sp - 2 * opsize) & stack_mask(c), 2 * opsize, ACC_WRITE);
        mem_probe_write(c, la, 2 * opsize);
        cpu_push(c, opsize, c->seg[SEG_CS].selector);
        cpu_push(c, opsize, c->next_rip);
    }
    load_cs(c, sel, d, c->cpl);
    c->next_rip = target;
}

void h_jmp_far(struct cpu *c, const struct insn *i)
{
    cpu_far_jump(c, i->imm2, i->imm, i->opsize, false);
}

void h_call_far(struct cpu *c, const struct insn *i)
{
    cpu_far_jump(c, i->imm2, i->imm, i->opsize, true);
}

/* Data segment registers whose DPL is below the new CPL become null after a
 * return to an outer level (SDM, RET and IRET). */
static void null_inaccessible_segments(struct cpu *c)
{
    static const unsigned segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    for (unsigned k = 0; k < 4; k++) {
        struct segment *s = &c->seg[segs[k]];
        bool conforming_code = (s->attr & 0x0C) == 0x0C && (s->attr & SEG_ATTR_S);
        if ((s->attr & SEG_ATTR_P) && !conforming_code && SEG_ATTR_DPL(s->attr) < c->cpl) {
            s->selector = 0;
            s->attr = 0;
        }
    }
    seg_refresh(c);
}

/* Loads SS:RSP for a return to an outer level; checks as for MOV SS at the new CPL. */
static void load_outer_stack(struct cpu *c, uint16_t ss_sel, uint64_t rsp, unsigned new_cpl,
                             bool target64)
{
    if ((ss_sel & ~3u) == 0) {
        if (!(c->long_mode && target64 && new_cpl != 3))
            GP0(c);
        c->seg[SEG_SS].selector = ss_sel;
        c->seg[SEG_SS].attr = (uint16_t)(SEG_ATTR_P | SEG_ATTR_S | 0x03 | (new_cpl << 5));
        c->seg[SEG_SS].base = 0;
        c->seg[SEG_SS].limit = 0xFFFFFFFF;
    } else {
        uint64_t d;
        if (!desc_read(c, ss_sel, &d))
            cpu_fault(c, EXC_GP, ss_sel & ~3u);
        unsigned type = (d >> 40) & 0xF, dpl = (d >> 45) & 3;
        if ((ss_sel & 3) != new_cpl || dpl != new_cpl || !((d >> 44) & 1) || (type & 0x8) ||
            !(type & 0x2))
            cpu_fault(c, EXC_GP, ss_sel & ~3u);
        if (!((d >> 47) & 1))
            cpu_fault(c, EXC_SS, ss_sel & ~3u);
        desc_set_accessed(c, ss_sel, d);
        seg_from_desc(&c->seg[SEG_SS], ss_sel, d | (1ull << 40));
    }
    cpu_update_mode(c);
    if (c->stack_bits == 64)
        c->gpr[R_SP] = rsp;
    else if (c->stack_bits == 32)
        c->gpr[R_SP] = (uint32_t)rsp;
    else
        c->gpr[R_SP] = (c->gpr[R_SP] & ~0xFFFFull) | (rsp & 0xFFFF);
}

/* Checks a code descriptor popped by RET/IRET for a return to RPL `rpl`. */
static uint64_t code_desc_for_return(struct cpu *c, uint16_t sel)
{
    uint64_t d = desc_fetch(c, sel);
    unsigned type = (d >> 40) & 0xF, dpl = (d >> 45) & 3, rpl = sel & 3;
    if (!((d >> 44) & 1) || !(type & 0x8) || rpl < c->cpl)
        cpu_fault(c, EXC_GP, sel & ~3u);
    if ((type & 0x4) ? dpl > rpl : dpl != rpl)
        cpu_fault(c, EXC_GP, sel & ~3u);
    if (!((d >> 47) & 1))
        cpu_fault(c, EXC_NP, sel & ~3u);
    return d;
}

void cpu_far_return(struct cpu *c, unsigned opsize, uint16_t pop_extra)
{
    uint64_t off = cpu_stack_peek(c, 0, opsize);
    uint16_t sel = (uint16_t)cpu_stack_peek(c, opsize, opsize);
    if (!c->protected_mode || (c->rflags & FLAG_VM)) {
        off &= size_mask(opsize);
        if (off > c->seg[SEG_CS].limit)
            GP0(c);
        cpu_stack_adjust(c, 2 * opsize + pop_extra);
        seg_load_real(c, SEG_CS, sel);
        cpu_update_mode(c);
        c->next_rip = off;
        return;
    }
    uint64_t d = code_desc_for_return(c, sel);
    unsigned rpl = sel & 3;
    uint64_t target = target_for_desc(c, d, off, opsize);
    if (rpl == c->cpl) {
        cpu_stack_adjust(c, 2 * opsize + pop_extra);
        load_cs(c, sel, d, rpl);
        c->next_rip = target;
        return;
    }
    uint64_t rsp = cpu_stack_peek(c, 2 * opsize + pop_extra, opsize);
    uint16_t ss = (uint16_t)cpu_stack_peek(c, 3 * opsize + pop_extra, opsize);
    load_cs(c, sel, d, rpl);
    load_outer_stack(c, ss, rsp + pop_extra, rpl, c->code_bits == 64);
    null_inaccessible_segments(c);
    c->next_rip = target;
}

void h_retf(struct cpu *c, const struct insn *i)
{
    cpu_far_return(c, i->opsize, 0);
}

void h_retf_Iw(struct cpu *c, const struct insn *i)
{
    cpu_far_return(c, i->opsize, (uint16_t)i->imm);
}

/* ---- IRET ---- */

void cpu_iret(struct cpu *c, unsigned opsize)
{
    c->nmi_blocked = false; /* IRET ends NMI blocking, also inside SMM (cpu.md §4.6) */
    if (!c->protected_mode) {
        uint64_t ip = cpu_stack_peek(c, 0, opsize);
        uint16_t cs = (uint16_t)cpu_stack_peek(c, opsize, opsize);
        uint64_t fl = cpu_stack_peek(c, 2 * opsize, opsize);
        ip &= size_mask(opsize);
        if (ip > c->seg[SEG_CS].limit)
            GP0(c);
        cpu_stack_adjust(c, 3 * opsize);
        seg_load_real(c, SEG_CS, cs);
        uint64_t old = cpu_get_rflags(c);
        uint64_t keep = opsize == 2 ? ~0xFFFFull : (FLAG_VM | FLAG_VIF | FLAG_VIP);
        cpu_set_rflags(c, (old & keep) | (fl & ~keep));
        cpu_update_mode(c);
        c->next_rip = ip;
        return;
    }
    if (c->rflags & FLAG_NT && !c->long_mode)
        cpu_shutdown(c, "IRET with NT=1 (task return, not modelled)");
    if (c->long_mode && (c->rflags & FLAG_NT))
        GP0(c);
    uint64_t ip = cpu_stack_peek(c, 0, opsize);
    uint16_t cs = (uint16_t)cpu_stack_peek(c, opsize, opsize);
    uint64_t fl = cpu_stack_peek(c, 2 * opsize, opsize);
    if (opsize == 2)
        fl = (cpu_get_rflags(c) & ~0xFFFFull) | (fl & 0xFFFF);
    if ((fl & FLAG_VM) && c->cpl == 0 && !c->long_mode)
        cpu_shutdown(c, "IRET to virtual-8086 mode (not modelled)");
    uint64_t d = code_desc_for_return(c, cs);
    unsigned rpl = cs & 3;
    bool in64 = c->code_bits == 64;
    uint64_t target = target_for_desc(c, d, ip, opsize);
    uint64_t rsp = 0;
    uint16_t ss = 0;
    bool outer = rpl > c->cpl || in64;
    if (outer) {
        rsp = cpu_stack_peek(c, 3 * opsize, opsize);
        ss = (uint16_t)cpu_stack_peek(c, 4 * opsize, opsize);
    }
    /* Flags the current (old) privilege may change: IOPL, VIF and VIP only at
     * CPL 0, IF only at CPL <= IOPL; VM never (V86 is not modelled). */
    uint64_t old = cpu_get_rflags(c);
    uint64_t keep = FLAG_VM;
    if (c->cpl > 0)
        keep |= FLAG_IOPL | FLAG_VIF | FLAG_VIP;
    if (c->cpl > ((old & FLAG_IOPL) >> 12))
        keep |= FLAG_IF;
    if (!outer)
        cpu_stack_adjust(c, 3 * opsize);
    load_cs(c, cs, d, rpl);
    cpu_set_rflags(c, (old & keep) | (fl & ~keep));
    if (outer) {
        load_outer_stack(c, ss, rsp, rpl, c->code_bits == 64);
        if (rpl > 0)
            null_inaccessible_segments(c);
    }
    c->next_rip = target;
}

void h_iret(struct cpu *c, const struct insn *i)
{
    cpu_iret(c, i->opsize);
    c->block_exit = true;
}

/* ---- software interrupts ---- */

void h_int3(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_deliver(c, EXC_BP, INTR_SOFT, false, 0);
}

void h_int_Ib(struct cpu *c, const struct insn *i)
{
    cpu_deliver(c, (int)(i->imm & 0xFF), INTR_SOFT, false, 0);
}

void h_into(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (cpu_cond(c, 0))
        cpu_deliver(c, EXC_OF, INTR_SOFT, false, 0);
}

void h_int1(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_deliver(c, EXC_DB, INTR_ICEBP, false, 0);
}

/* ---- group 5: INC DEC CALL CALLF JMP JMPF PUSH ---- */

void h_grp5_Ev(struct cpu *c, const struct insn *i)
{
    unsigned r = i->reg & 7;
    unsigned s = i->opsize;
    switch (r) {
    case 0:
    case 1: {
        alu_inc_dec_rm(c, i, s, r == 1);
        return;
    }
    case 2:
    case 4: {
        unsigned ns = c->code_bits == 64 ? 8 : s;
        uint64_t t = near_target(c, rm_read(c, i, ns), ns);
        if (r == 2)
            cpu_push(c, ns, c->next_rip);
        c->next_rip = t;
        return;
    }
    case 3:
    case 5: {
        if (!(i->flags & INSN_MEM))
            UD(c);
        uint64_t ea = insn_ea(c, i);
        uint64_t off = seg_read(c, i->seg, ea, s);
        uint16_t sel = (uint16_t)seg_read(c, i->seg, (ea + s) & size_mask(i->addrsize), 2);
        cpu_far_jump(c, sel, off, s, r == 3);
        c->block_exit = true;
        return;
    }
    case 6: {
        unsigned ps = c->code_bits == 64 ? (s == 2 ? 2 : 8) : s;
        cpu_push(c, ps, rm_read(c, i, ps));
        return;
    }
    default:
        UD(c);
    }
}

/* ---- SYSCALL / SYSRET (SDM; EFER.SCE gates both) ---- */

void h_syscall(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (!c->long_mode || c->code_bits != 64 || !(c->efer & EFER_SCE))
        UD(c); /* legacy-mode SYSCALL is AMD-only; Intel raises #UD outside 64-bit mode */
    uint16_t sel = (uint16_t)(c->star >> 32);
    c->gpr[R_CX] = c->next_rip;
    c->gpr[R_R11] = cpu_get_rflags(c) & ~(uint64_t)FLAG_RF;
    cpu_set_rflags(c, cpu_get_rflags(c) & ~(c->sfmask | FLAG_RF));
    c->seg[SEG_CS] = (struct segment){ (uint16_t)(sel & ~3u), 0xA09B, 0xFFFFFFFF, 0 };
    c->seg[SEG_SS] = (struct segment){ (uint16_t)(sel + 8), 0xC093, 0xFFFFFFFF, 0 };
    c->cpl = 0;
    cpu_update_mode(c);
    seg_refresh(c);
    c->next_rip = c->lstar;
    c->block_exit = true;
}

void h_sysret(struct cpu *c, const struct insn *i)
{
    if (!c->long_mode || !(c->efer & EFER_SCE))
        UD(c);
    if (c->cpl != 0 || c->code_bits != 64)
        GP0(c);
    uint16_t sel = (uint16_t)(c->star >> 48);
    uint64_t target = c->gpr[R_CX];
    if (i->opsize == 8) {
        if ((uint64_t)((int64_t)(target << 16) >> 16) != target)
            GP0(c); /* Intel raises #GP in ring 0 for a non-canonical RCX */
        c->seg[SEG_CS] = (struct segment){ (uint16_t)((sel + 16) | 3), 0xA0FB, 0xFFFFFFFF, 0 };
    } else {
        target = (uint32_t)target;
        c->seg[SEG_CS] = (struct segment){ (uint16_t)(sel | 3), 0xC0FB, 0xFFFFFFFF, 0 };
    }
    /* SS.DPL becomes 3; the selector comes from STAR, the cache is fixed. */
    c->seg[SEG_SS].selector = (uint16_t)((sel + 8) | 3);
    c->seg[SEG_SS].attr = 0xC0F3;
    c->seg[SEG_SS].base = 0;
    c->seg[SEG_SS].limit = 0xFFFFFFFF;
    cpu_set_rflags(c, (c->gpr[R_R11] & ~(uint64_t)(FLAG_RF | FLAG_VM)) | 2);
    c->cpl = 3;
    cpu_update_mode(c);
    seg_refresh(c);
    c->next_rip = target;
    c->block_exit = true;
}

/* ---- threaded entries of the folded transfers: the common case inline (the
 * target is where the block goes on, the stack slot a TLB hit), anything
 * else through the plain handler, which starts again from scratch. */

/* Host address of the `size`-byte stack slot at SS:sp if the fast path may use it. */
static inline __attribute__((always_inline)) bool stack_slot(const struct cpu *c, uint64_t sp,
                                                            unsigned size, bool write,
                                                            uint8_t **host)
{
    if (c->code_bits == 64) /* SS base 0; a non-canonical RSP misses in the TLB */
        return tlb_host(c, sp, size, write, host);
    return seg_fast_ok(c, SEG_SS, sp, size, write) &&
           tlb_host(c, (uint32_t)(c->seg[SEG_SS].base + sp), size, write, host);
}

__attribute__((flatten)) void t_h_jmp_folded(struct cpu *c, const struct insn *i)
{
    uint64_t next = folded_next(c, i);
    if (c->code_bits == 64) {
        c->next_rip = next + i->imm;
    } else {
        uint64_t t = (next + i->imm) & size_mask(i->opsize);
        if (unlikely(folded_target_moved(c, i, t))) {
            t_generic(c, i);
            return;
        }
        c->next_rip = t;
    }
    NEXT_RECORD(c, i);
}

/* One entry per code size and operand size (threaded_entry() picks it at
 * decode), so the stack slot's size and the mode tests are constants. */
static inline __attribute__((always_inline)) void call_folded(struct cpu *c, const struct insn *i,
                                                              bool code64, unsigned s)
{
    uint64_t next = folded_next(c, i), t = next + i->imm;
    uint64_t sp = (c->gpr[R_SP] - s) & (code64 ? ~0ull : stack_mask(c));
    uint8_t *p;
    if (!code64) {
        t &= size_mask(s);
        if (unlikely(folded_target_moved(c, i, t))) {
            t_generic(c, i);
            return;
        }
    }
    if (unlikely(!stack_slot(c, sp, s, true, &p))) {
        t_generic(c, i);
        return;
    }
    store_host(p, s, next);
    if (code64)
        c->gpr[R_SP] = sp;
    else
        stack_set_sp(c, sp);
    c->next_rip = t;
    NEXT_RECORD(c, i);
}

static inline __attribute__((always_inline)) void ret_folded(struct cpu *c, const struct insn *i,
                                                             bool code64, unsigned s)
{
    uint64_t expect = c->blk_rip + (uint64_t)(int64_t)i[1].offset;
    uint64_t sp = c->gpr[R_SP] & (code64 ? ~0ull : stack_mask(c)), t;
    uint8_t *p;
    if (unlikely(!stack_slot(c, sp, s, false, &p))) {
        t_generic(c, i);
        return;
    }
    t = load_host(p, s);
    if (!code64)
        expect = (uint32_t)expect;
    if (unlikely(t != expect || (!code64 && t > c->seg[SEG_CS].limit))) {
        t_generic(c, i);
        return;
    }
    if (code64)
        c->gpr[R_SP] = sp + 8;
    else
        stack_set_sp(c, sp + s);
    c->next_rip = t;
    NEXT_RECORD(c, i);
}

#define FOLDED_STACK_ENTRIES(name, code64, s)                                                     \
    __attribute__((flatten)) void t_call_folded_##name(struct cpu *c, const struct insn *i)       \
    {                                                                                              \
        call_folded(c, i, code64, s);                                                              \
    }                                                                                              \
    __attribute__((flatten)) void t_ret_folded_##name(struct cpu *c, const struct insn *i)        \
    {                                                                                              \
        ret_folded(c, i, code64, s);                                                               \
    }
FOLDED_STACK_ENTRIES(64, true, 8)
FOLDED_STACK_ENTRIES(32, false, 4)
FOLDED_STACK_ENTRIES(16, false, 2)
