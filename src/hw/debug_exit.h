/*
 * debug_exit.h - QEMU's isa-debug-exit: a write of v makes the emulator
 * exit with status (v << 1) | 1.
 */
#ifndef SMMVM_HW_DEBUG_EXIT_H
#define SMMVM_HW_DEBUG_EXIT_H

#include <stdbool.h>
#include <stdint.h>

struct mem_system;
struct mem_region;

typedef void (*debug_exit_fn)(void *owner, int status);

struct debug_exit {
    debug_exit_fn on_exit;
    void *owner;
};

void debug_exit_init(struct debug_exit *d, struct mem_system *sys, struct mem_region *io,
                     uint16_t port, unsigned size, debug_exit_fn on_exit, void *owner);

#endif
