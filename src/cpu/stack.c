/*
 * stack.c - pushes and pops through SS with the stack-address size of the
 * current mode (SS.B outside long mode, 64 bits in it). RSP is committed
 * only after the memory access succeeded, so a faulting push is restartable.
 */
#include "cpu/cpu_impl.h"

void cpu_push(struct cpu *c, unsigned size, uint64_t v)
{
    stack_push(c, size, v);
}

uint64_t cpu_pop(struct cpu *c, unsigned size)
{
    return stack_pop(c, size);
}

uint64_t cpu_stack_peek(struct cpu *c, uint64_t offset, unsigned size)
{
    return seg_read(c, SEG_SS, (c->gpr[R_SP] + offset) & stack_mask(c), size);
}

void cpu_stack_adjust(struct cpu *c, int64_t delta)
{
    stack_set_sp(c, c->gpr[R_SP] + (uint64_t)delta);
}
