/*
 * string.c - MOVS LODS STOS CMPS SCAS INS OUTS with REP/REPE/REPNE in every
 * address size (SDM Vol. 2 per instruction). A REP instruction runs in
 * slices of at most STRING_SLICE iterations; between slices RIP stays on
 * the instruction, so events are recognised between iterations (cpu.md §3)
 * and each iteration counts as one tick.
 */
#include "cpu/handlers.h"

#define STRING_SLICE 1024u

static unsigned elem_size(const struct insn *i)
{
    return (i->op & 1) ? i->opsize : 1;
}

static uint64_t areg(const struct cpu *c, const struct insn *i, unsigned r)
{
    return c->gpr[r] & size_mask(i->addrsize);
}

static void areg_step(struct cpu *c, const struct insn *i, unsigned r, unsigned size)
{
    uint64_t delta = (c->rflags & FLAG_DF) ? (uint64_t)-(int64_t)size : size;
    reg_write(c, r, i->addrsize == 8 ? 8 : i->addrsize, c->gpr[r] + delta);
}

/* Runs `one` for each iteration; `cond` is 0 (plain REP), 1 (REPE) or 2 (REPNE). */
typedef bool (*string_step_fn)(struct cpu *c, const struct insn *i, unsigned size);

static void string_run(struct cpu *c, const struct insn *i, string_step_fn step, bool compares)
{
    unsigned size = elem_size(i);
    bool rep = i->flags & (INSN_REP | INSN_REPNE);
    if (!rep) {
        step(c, i, size);
        return;
    }
    unsigned done = 0;
    /* Single-stepping traps after every iteration (SDM, "Single-Step Exception"). */
    unsigned slice = (c->rflags & FLAG_TF) ? 1 : STRING_SLICE;
    while (areg(c, i, R_CX) != 0) {
        if (done == slice) {
            c->next_rip = c->rip; /* resume here after pending events */
            c->block_exit = true;
            break;
        }
        step(c, i, size);
        reg_write(c, R_CX, i->addrsize, c->gpr[R_CX] - 1);
        done++;
        if (compares) {
            bool zf = cpu_cond(c, 4);
            if ((i->flags & INSN_REP) ? !zf : zf)
                break;
        }
    }
    if (done > 1)
        c->icount += done - 1;
}

static bool step_movs(struct cpu *c, const struct insn *i, unsigned size)
{
    uint64_t v = seg_read(c, i->seg, areg(c, i, R_SI), size);
    seg_write(c, SEG_ES, areg(c, i, R_DI), size, v);
    areg_step(c, i, R_SI, size);
    areg_step(c, i, R_DI, size);
    return true;
}

static void cmp_flags(struct cpu *c, unsigned size, uint64_t a, uint64_t b)
{
    uint64_t m = size_mask(size);
    lazy_set(c, LF_SUB, size * 8, (a - b) & m, a & m, b & m, (a & m) < (b & m));
}

static bool step_cmps(struct cpu *c, const struct insn *i, unsigned size)
{
    uint64_t a = seg_read(c, i->seg, areg(c, i, R_SI), size);
    uint64_t b = seg_read(c, SEG_ES, areg(c, i, R_DI), size);
    cmp_flags(c, size, a, b);
    areg_step(c, i, R_SI, size);
    areg_step(c, i, R_DI, size);
    return true;
}

static bool step_stos(struct cpu *c, const struct insn *i, unsigned size)
{
    seg_write(c, SEG_ES, areg(c, i, R_DI), size, c->gpr[R_AX]);
    areg_step(c, i, R_DI, size);
    return true;
}

static bool step_lods(struct cpu *c, const struct insn *i, unsigned size)
{
    uint64_t v = seg_read(c, i->seg, areg(c, i, R_SI), size);
    if (size == 1)
        reg8_write(c, R_AX, false, (uint8_t)v);
    else
        reg_write(c, R_AX, size, v);
    areg_step(c, i, R_SI, size);
    return true;
}

static bool step_scas(struct cpu *c, const struct insn *i, unsigned size)
{
    uint64_t b = seg_read(c, SEG_ES, areg(c, i, R_DI), size);
    cmp_flags(c, size, c->gpr[R_AX], b);
    areg_step(c, i, R_DI, size);
    return true;
}

static bool step_ins(struct cpu *c, const struct insn *i, unsigned size)
{
    uint16_t port = (uint16_t)c->gpr[R_DX];
    /* The destination is checked before the port is read (a read can have side effects). */
    uint64_t la = seg_linear(c, SEG_ES, areg(c, i, R_DI), size, ACC_WRITE);
    mem_probe_write(c, la, size);
    uint32_t v = cpu_port_in(c, port, size);
    lin_write(c, la, size, v);
    areg_step(c, i, R_DI, size);
    return true;
}

static bool step_outs(struct cpu *c, const struct insn *i, unsigned size)
{
    uint64_t v = seg_read(c, i->seg, areg(c, i, R_SI), size);
    cpu_port_out(c, (uint16_t)c->gpr[R_DX], size, (uint32_t)v);
    areg_step(c, i, R_SI, size);
    return true;
}

void h_movs(struct cpu *c, const struct insn *i)
{
    string_run(c, i, step_movs, false);
}

void h_cmps(struct cpu *c, const struct insn *i)
{
    string_run(c, i, step_cmps, true);
}

void h_stos(struct cpu *c, const struct insn *i)
{
    string_run(c, i, step_stos, false);
}

void h_lods(struct cpu *c, const struct insn *i)
{
    string_run(c, i, step_lods, false);
}

void h_scas(struct cpu *c, const struct insn *i)
{
    string_run(c, i, step_scas, true);
}

static void string_io(struct cpu *c, const struct insn *i, string_step_fn step)
{
    cpu_io_check(c, (uint16_t)c->gpr[R_DX], elem_size(i));
    c->io_trap_string = true;
    c->io_trap_rep = i->flags & (INSN_REP | INSN_REPNE);
    string_run(c, i, step, false);
    c->io_trap_string = c->io_trap_rep = false;
    c->block_exit = true;
}

void h_ins(struct cpu *c, const struct insn *i)
{
    string_io(c, i, step_ins);
}

void h_outs(struct cpu *c, const struct insn *i)
{
    string_io(c, i, step_outs);
}
