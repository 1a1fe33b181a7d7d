/*
 * port92.c - System Control Port A (see port92.h). Only byte accesses at
 * 0x92 reach it; the A20 gate itself lives in the CPUs (their physical
 * address mask), which the board sets through the hook.
 */
#include "hw/port92.h"

#include "mem/memory.h"

static uint64_t port92_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct port92 *p = opaque;
    (void)offset;
    (void)size;
    return p->outport;
}

static void port92_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct port92 *p = opaque;
    (void)offset;
    (void)size;
    uint8_t old = p->outport;
    p->outport = (uint8_t)value;
    p->hooks->set_a20(p->owner, value & PORT92_A20);
    if ((value & PORT92_RESET) && !(old & PORT92_RESET))
        p->hooks->reset(p->owner);
}

static const struct mem_ops port92_ops = {
    .name = "port92",
    .read = port92_read,
    .write = port92_write,
    .min_access = 1,
    .max_access = 1,
};

void port92_init(struct port92 *p, struct mem_system *sys, struct mem_region *io,
                 const struct port92_hooks *hooks, void *owner)
{
    *p = (struct port92){ .hooks = hooks, .owner = owner };
    mem_region_add(io, mem_region_mmio(sys, "port92", 1, &port92_ops, p), PORT92_PORT, 0);
}

void port92_reset(struct port92 *p)
{
    p->outport &= (uint8_t)~PORT92_RESET;
}
