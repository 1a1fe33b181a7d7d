/*
 * stack.c - pushes and pops through SS with the stack-address size of the
 * current mode (SS.B outside long mode, 64 bits in it). RSP is committed
 * only after the memory access succeeded, so a faulting push is restartable.
 */
#include "cpu/cpu_impl.h"

static void set_sp(struct cpu *c, uint64_t sp)
{
    switch (c->stack_bits) {
    case 16:
        c->gpr[R_SP] = (c->gpr[R_SP] & ~0xFFFFull) | (sp & 0xFFFF);
        break;
    case 32:
        c->gpr[R_SP] = (uint32_t)sp;
        break;
    default:
        c->gpr[R_SP] = sp;
        break;
    }
}

void cpu_push(struct cpu *c, unsigned size, uint64_t v)
{
    uint64_t sp = (c->gpr[R_SP] - size) & stack_mask(c);
    seg_write(c, SEG_SS, sp, size, v);
    set_sp(c, sp);
}

uint64_t cpu_pop(struct cpu *c, unsigned size)
{
    uint64_t sp = c->gpr[R_SP] & stack_mask(c);
    uint64_t v = seg_read(c, SEG_SS, sp, size);
    set_sp(c, sp + size);
    return v;
}

uint64_t cpu_stack_peek(struct cpu *c, uint64_t offset, unsigned size)
{
    return seg_read(c, SEG_SS, (c->gpr[R_SP] + offset) & stack_mask(c), size);
}

void cpu_stack_adjust(struct cpu *c, int64_t delta)
{
    set_sp(c, c->gpr[R_SP] + (uint64_t)delta);
}
