/*
 * debugcon.c - the debug console port (isa-debugcon; 0xE9 for -debugcon,
 * 0x402 as firmware configures it). One byte per write, any width writes
 * its low byte; reads return 0xE9 as QEMU's readback does.
 */
#include "hw/debugcon.h"

#include "hw/chardev.h"
#include "mem/memory.h"

static uint64_t debugcon_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)size;
    return 0xE9;
}

static void debugcon_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct debugcon *d = opaque;
    uint8_t b = (uint8_t)value;
    (void)offset;
    (void)size;
    chardev_write(d->out, &b, 1);
}

static const struct mem_ops debugcon_ops = {
    .name = "isa-debugcon",
    .read = debugcon_read,
    .write = debugcon_write,
    .min_access = 1,
    .max_access = 1,
};

void debugcon_init(struct debugcon *d, struct mem_system *sys, struct mem_region *io,
                   uint16_t port, struct chardev *out)
{
    *d = (struct debugcon){ .out = out, .port = port };
    mem_region_add(io, mem_region_mmio(sys, "isa-debugcon", 1, &debugcon_ops, d), port, 0);
}
