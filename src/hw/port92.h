/*
 * port92.h - System Control Port A at I/O 0x92 ("fast A20" and fast reset),
 * as QEMU's PC machines have it on q35 too. Bit 1 drives the A20 gate, bit 0
 * going from 0 to 1 requests a system reset; a read returns the last value
 * written. System reset clears bit 0 only, and the A20 state the port set
 * stays, as in QEMU.
 */
#ifndef SMMVM_HW_PORT92_H
#define SMMVM_HW_PORT92_H

#include <stdbool.h>
#include <stdint.h>

struct mem_system;
struct mem_region;

#define PORT92_PORT      0x92
#define PORT92_RESET     0x01
#define PORT92_A20       0x02

struct port92_hooks {
    void (*set_a20)(void *owner, bool enabled);
    void (*reset)(void *owner);
};

struct port92 {
    uint8_t outport;
    const struct port92_hooks *hooks;
    void *owner;
};

void port92_init(struct port92 *p, struct mem_system *sys, struct mem_region *io,
                 const struct port92_hooks *hooks, void *owner);
void port92_reset(struct port92 *p);

#endif
