/*
 * debugcon.h - QEMU's isa-debugcon: bytes written to one port go to a
 * character device; reads return 0xE9 (QEMU's readback value), which
 * firmware uses to detect the console.
 */
#ifndef SMMVM_HW_DEBUGCON_H
#define SMMVM_HW_DEBUGCON_H

#include <stdint.h>

struct mem_system;
struct mem_region;
struct chardev;

struct debugcon {
    struct chardev *out;
    uint16_t port;
};

void debugcon_init(struct debugcon *d, struct mem_system *sys, struct mem_region *io,
                   uint16_t port, struct chardev *out);

#endif
