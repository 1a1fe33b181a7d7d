/*
 * debug_exit.c - isa-debug-exit. Reads return all-ones (nothing is decoded
 * for reads, as in QEMU); a write of any width ends the run.
 */
#include "hw/debug_exit.h"

#include "mem/memory.h"

static uint64_t debug_exit_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void debug_exit_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct debug_exit *d = opaque;
    (void)offset;
    (void)size;
    d->on_exit(d->owner, (int)(((value & 0xFF) << 1) | 1));
}

static const struct mem_ops debug_exit_ops = {
    .name = "isa-debug-exit",
    .read = debug_exit_read,
    .write = debug_exit_write,
    .min_access = 1,
    .max_access = 4,
};

void debug_exit_init(struct debug_exit *d, struct mem_system *sys, struct mem_region *io,
                     uint16_t port, unsigned size, debug_exit_fn on_exit, void *owner)
{
    *d = (struct debug_exit){ .on_exit = on_exit, .owner = owner };
    mem_region_add(io, mem_region_mmio(sys, "isa-debug-exit", size ? size : 4, &debug_exit_ops, d),
                   port, 0);
}
