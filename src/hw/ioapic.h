/*
 * ioapic.h - the I/O APIC of the ICH9 (82093AA programming model, version
 * 0x20, 24 pins) at MMIO 0xFEC00000. Contract: Intel 82093AA datasheet;
 * ICH9 datasheet, "Advanced Programmable Interrupt Controller"; QEMU
 * hw/intc/ioapic.c for the reference platform.
 *
 *   offset (mod 0x100)  register
 *   0x00                IOREGSEL (8 bits; any width; reads back)
 *   0x10                IOWIN (32-bit accesses only; others read 0, writes dropped)
 *   0x40                EOI (write: vector; version 0x20 only)
 *
 *   IOREGSEL  register
 *   0x00      ID (bits 27:24 read/write)
 *   0x01      version: 0x00170020 (24 entries, version 0x20), read-only
 *   0x02      arbitration ID: reads ID << 24 (QEMU), read-only
 *   0x10+2n   redirection entry n (n < 24) bits 31:0
 *   0x11+2n   redirection entry n bits 63:32 (bits 63:56 destination)
 *   others    read 0, writes dropped
 *
 * Board wiring:
 *   ioapic_init(&m->ioapic, &m->mem, m->system, IOAPIC_BASE_PADDR, deliver, owner, log);
 *   - deliver(owner, dest, dest_logical, delivery_mode, vector, level) is
 *     called for each interrupt message: the local-APIC side routes it.
 *     delivery_mode is the raw 3-bit field (IOAPIC_DM_*). For ExtINT the
 *     vector argument is the entry's field and means nothing: the receiver
 *     must take the vector from the 8259 with pic_ack() when it accepts.
 *   - every interrupt source calls ioapic_set_irq(io, pin, level) with the
 *     logical assertion of its line (1 = asserted): ISA IRQ n on pin n,
 *     except the PIT OUT0 on pin 2 (the MADT override QEMU builds); the SCI
 *     on pin 9; PCI INTx on 16-23 as the board routes them.
 *   - the local APIC calls ioapic_eoi(io, vector) on an EOI for a
 *     level-triggered vector (the guest may also write the EOI register).
 *   - machine_reset() calls ioapic_reset().
 *
 * Choices where the datasheets leave room:
 *   - Polarity (bit 13) is stored and read back but not applied: inputs are
 *     logical assertions, as in QEMU, so an OS that programs active-low for
 *     PCI pins per ACPI still sees them.
 *   - An edge is a 0 -> 1 change of the input; an edge on a masked pin is
 *     dropped (82093AA). A level-triggered pin that is asserted while masked
 *     is delivered when unmasked.
 *   - Level-triggered delivery sets remote IRR; while it is set the pin is
 *     not delivered again. An EOI whose vector matches clears it and
 *     delivers again if the line is still asserted. Making an entry
 *     edge-triggered clears its remote IRR (QEMU).
 *   - Delivery status (bit 12) always reads 0: delivery is immediate.
 *   - Reserved delivery modes 011 and 110 deliver nothing (logged).
 *   - Bits 55:17 of an entry are reserved: writes are dropped, reads give 0.
 *   - Power-on and reset: ID 0, every entry 0x0000000000010000 (masked).
 */
#ifndef SMMVM_HW_IOAPIC_H
#define SMMVM_HW_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct mem_system;
struct mem_region;

#define IOAPIC_BASE_PADDR 0xFEC00000u
#define IOAPIC_MMIO_BYTES 0x1000u
#define IOAPIC_PINS       24
#define IOAPIC_VERSION    0x20

#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN    0x10
#define IOAPIC_EOI      0x40

#define IOAPIC_REG_ID     0x00
#define IOAPIC_REG_VER    0x01
#define IOAPIC_REG_ARB    0x02
#define IOAPIC_REG_REDTBL 0x10

#define IOAPIC_DM_FIXED  0
#define IOAPIC_DM_LOWEST 1
#define IOAPIC_DM_SMI    2
#define IOAPIC_DM_NMI    4
#define IOAPIC_DM_INIT   5
#define IOAPIC_DM_EXTINT 7

#define IOAPIC_RTE_VECTOR       0xFFull
#define IOAPIC_RTE_DM_SHIFT     8
#define IOAPIC_RTE_DEST_LOGICAL (1ull << 11)
#define IOAPIC_RTE_DELIVS       (1ull << 12)
#define IOAPIC_RTE_POLARITY_LOW (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR   (1ull << 14)
#define IOAPIC_RTE_LEVEL        (1ull << 15)
#define IOAPIC_RTE_MASKED       (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT   56

typedef void (*ioapic_deliver_fn)(void *owner, uint8_t dest, bool dest_logical,
                                  unsigned delivery_mode, uint8_t vector, bool level);

struct ioapic {
    uint8_t id; /* bits 27:24 of the ID register */
    uint8_t ioregsel;
    uint64_t redir[IOAPIC_PINS];
    uint32_t line;             /* input levels, one bit per pin */
    uint32_t pending;          /* edge seen / level asserted, not yet delivered */
    ioapic_deliver_fn deliver; /* may be NULL */
    void *owner;
    FILE *log;
    unsigned logged;
};

/* Power-on state; maps a 4 KiB MMIO region "ioapic" at `paddr` (normally
 * IOAPIC_BASE_PADDR) in `system`. `io` must not move for the life of `sys`. */
void ioapic_init(struct ioapic *io, struct mem_system *sys, struct mem_region *system,
                 uint64_t paddr, ioapic_deliver_fn deliver, void *owner, FILE *log);
/* System reset: ID 0, all entries masked; input levels are kept. */
void ioapic_reset(struct ioapic *io);
/* Logical level of input pin 0-23; others are ignored. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* End of interrupt for `vector` from a local APIC (or the EOI register). */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

#endif
