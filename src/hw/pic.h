/*
 * pic.h - the two cascaded 8259A programmable interrupt controllers of the
 * PC (master 0x20/0x21, slave 0xA0/0xA1 on master input 2) and the ICH9
 * edge/level control registers ELCR1/ELCR2 (0x4D0/0x4D1). Contract: Intel
 * 8259A datasheet; ICH9 datasheet, "8259 Interrupt Controllers"; QEMU
 * hw/intc/i8259.c for what the reference platform does where they differ.
 *
 * Board wiring:
 *   pic_init(&m->pic, &m->mem, m->io_root, on_intr, owner, log);
 *   - on_intr(owner, level) is called every time the master's INTR output
 *     changes; the board passes it to the BSP (or to the local APIC LINT0 /
 *     the I/O APIC ExtINT pin 0 as it routes things).
 *   - when the CPU accepts the interrupt (its INTA cycle) it calls
 *     pic_ack(), which returns the vector and updates IRR/ISR.
 *   - every ISA interrupt source calls pic_set_irq(pic, irq, level) with the
 *     electrical level of its line (1 = asserted): PIT OUT0 -> 0, COM1 -> 4,
 *     RTC -> 8, SCI -> 9 (level, with ELCR), ...; IRQ 2 is the cascade and
 *     belongs to the slave, so pic_set_irq(pic, 2, x) is ignored.
 *   - machine_reset() calls pic_reset().
 *
 * Choices where the datasheets leave room (all deterministic):
 *   - The vector is always the 8086-mode one (ICW2 base | level); the
 *     MCS-80 mode of ICW4 bit 0 = 0 is accepted but not modelled.
 *   - The cascade is fixed: master input 2 is the slave's INT output
 *     whatever ICW3 or SNGL say, edge-triggered like the other master
 *     inputs. An INTA that selects master input 2 takes the vector from the
 *     slave, which answers base + 7 (spurious IRQ 15; the master's ISR bit 2
 *     is still set, so the handler EOIs the master) if its request has gone.
 *   - An edge-triggered request stays in IRR after its line drops until it
 *     is acknowledged (as QEMU; the datasheet calls the early drop a
 *     spurious IR7). Level-triggered IRR follows the line.
 *   - ICW1 clears IRR of edge-triggered inputs and the edge detectors: an
 *     edge input that is high must drop and rise again; a level input that
 *     is asserted stays requested.
 *   - ICW1 bit 3 (LTIM) makes every input of that chip level-triggered,
 *     ORed with the ELCR. ELCR1 bits 0-2 and ELCR2 bits 0 and 5 (IRQ 0, 1,
 *     2, 8, 13) are read-only 0, as in the ICH9.
 *   - A poll command (OCW3 P=1) makes the next read of that chip's command
 *     port an interrupt acknowledge: it returns 0x80 | level and sets ISR
 *     (0x00 with nothing pending). Polling the master does not touch the
 *     slave.
 *   - Reads of the data port during initialisation return the IMR.
 */
#ifndef SMMVM_HW_PIC_H
#define SMMVM_HW_PIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct mem_system;
struct mem_region;

#define PIC_MASTER_PORT 0x20
#define PIC_SLAVE_PORT  0xA0
#define PIC_ELCR_PORT   0x4D0
#define PIC_CASCADE_IRQ 2

/* Called with the new level of the master's INTR output, only on changes. */
typedef void (*pic_intr_fn)(void *owner, bool level);

/* One 8259A. */
struct pic_chip {
    uint8_t irr;          /* interrupt request register */
    uint8_t isr;          /* in-service register */
    uint8_t imr;          /* interrupt mask register (OCW1) */
    uint8_t line;         /* input levels as last reported, for edge detection */
    uint8_t elcr;         /* ICH9 ELCR: 1 = level-triggered input */
    uint8_t elcr_mask;    /* writable ELCR bits */
    uint8_t vector_base;  /* ICW2 & 0xF8 */
    uint8_t icw3;         /* stored only (cascade is fixed) */
    uint8_t highest_prio; /* input with the highest priority (0 after ICW1) */
    uint8_t init_step;    /* 0: ready; 2, 3, 4: next data byte is ICW2, ICW3, ICW4 */
    bool icw4_expected;   /* ICW1 IC4 */
    bool single;          /* ICW1 SNGL: no ICW3 */
    bool ltim;            /* ICW1 LTIM: all inputs level-triggered */
    bool auto_eoi;        /* ICW4 AEOI */
    bool sfnm;            /* ICW4 special fully nested mode */
    uint8_t icw4;         /* stored */
    bool rotate_on_aeoi;  /* OCW2 rotate in automatic EOI mode */
    bool read_isr;        /* OCW3 RR/RIS: command port reads ISR, else IRR */
    bool poll;            /* OCW3 P: next command-port read is a poll */
    bool special_mask;    /* OCW3 SMM */
};

struct pic {
    struct pic_chip chip[2]; /* [0] master, [1] slave */
    bool intr;               /* master INTR output */
    pic_intr_fn on_intr;     /* may be NULL */
    void *owner;
    FILE *log;       /* guest errors, or NULL */
    unsigned logged; /* causes already logged (one line per cause) */
};

/* Power-on state (everything 0, all inputs edge-triggered, INTR low) and
 * maps 0x20-0x21, 0xA0-0xA1 (QEMU's "pic") and 0x4D0, 0x4D1 ("elcr") into
 * `io`. `pic` must not move for the life of `sys`. */
void pic_init(struct pic *pic, struct mem_system *sys, struct mem_region *io, pic_intr_fn on_intr,
              void *owner, FILE *log);
/* System reset: both chips back to the power-on state, ELCR included; the
 * input levels are kept (they belong to the devices). */
void pic_reset(struct pic *pic);
/* Sets the level of input irq (0-15). Out-of-range irq and irq 2 are ignored. */
void pic_set_irq(struct pic *pic, unsigned irq, bool level);
/* The master's INTR output. */
bool pic_output(const struct pic *pic);
/* The CPU's interrupt acknowledge: returns the vector, moves the request
 * from IRR to ISR (unless auto-EOI), and answers base + 7 of the chip that
 * has nothing to give (spurious IRQ 7 or 15, ISR untouched). */
uint8_t pic_ack(struct pic *pic);

#endif
