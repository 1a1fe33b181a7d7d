/*
 * pit.h - the 8254 programmable interval timer (ports 0x40-0x43) and the
 * timer bits of the ICH9 NMI status and control port 0x61. Contract: Intel
 * 8254 datasheet; ICH9 datasheet, "NMI_SC"; QEMU hw/timer/i8254.c and
 * hw/audio/pcspk.c for the reference platform.
 *
 * Counting is derived from virtual time: a channel remembers when it
 * started and how many input clocks had passed before, and everything the
 * guest reads is computed from clk->now with exact integer arithmetic at
 * PIT_HZ (1193182 Hz) against the 1 ns clock. The only timer armed on the
 * clock is channel 0's next OUT transition, and only while one is coming
 * and someone listens (on_out0 != NULL).
 *
 * Board wiring:
 *   pit_init(&m->pit, &m->mem, m->io_root, &m->clock, on_out0, owner, log);
 *   - on_out0(owner, level) follows channel 0's OUT: the board connects it
 *     to pic_set_irq(pic, 0, level) and ioapic_set_irq(ioapic, 2, level)
 *     (the ISA override QEMU's MADT describes). Modes 2 and 3 give one
 *     rising edge per period; the callback is called only on changes.
 *   - the board must keep clk->now current when a port access is made
 *     (advance the clock to the accessing CPU's time first).
 *   - port 0x61 is mapped here ("pcspk", as QEMU): bits 3:0 read back as
 *     written, bit 0 is channel 2's gate, bit 4 the refresh toggle, bit 5
 *     OUT2; the NMI status bits 7:6 read 0. An LPC that models NMI_SC
 *     itself maps its own region over it at a higher priority and uses
 *     pit_port61_read() and pit_set_gate().
 *   - machine_reset() calls pit_reset().
 *
 * Choices where the datasheet leaves room:
 *   - on_out0 is first called at OUT0's first change after pit_init();
 *     OUT0 is high at power-on (mode 3), so the line may start low.
 *   - A count takes effect at the instant it is written (the datasheet
 *     loads it on the next input clock): the counter reads N at the write
 *     and N - k after k input clocks, as QEMU does.
 *   - In modes 2 and 3 a new count restarts the period at once instead of
 *     at the end of the current one.
 *   - Mode 2 OUT is low while the counter reads 1 (one clock per period);
 *     mode 3 OUT is high for ceil(N/2) and low for floor(N/2) clocks, and
 *     the counter reads N - (2k mod N). Counts of 1 in modes 2 and 3 (the
 *     datasheet forbids them) hold OUT steady: mode 2 low, mode 3 high.
 *   - Mode 0, 1, 4, 5 counters wrap through 0 and keep counting.
 *   - BCD counts are decoded digit by digit with nibbles above 9 taken at
 *     face value (0xFFFF counts 16665); BCD counters wrap at 10000.
 *   - Between a control word and the count, and in modes 1 and 5 before the
 *     gate trigger, the counter reads the value it had when the control
 *     word was written. Status bit 6 (null count) is 1 from a control word
 *     (or the first byte of a LSB-then-MSB count) until the count is written.
 *   - Reading port 0x43 returns 0 (QEMU). Port 0x61 bit 4 (refresh toggle)
 *     flips every 15085 ns of virtual time.
 */
#ifndef SMMVM_HW_PIT_H
#define SMMVM_HW_PIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "machine/clock.h" /* struct clock, struct timer (embedded) */

struct mem_system;
struct mem_region;

#define PIT_BASE_PORT  0x40
#define PIT_PORT61     0x61
#define PIT_HZ         1193182u
#define PIT_REFRESH_NS 15085u /* period of port 0x61 bit 4 */

typedef void (*pit_out_fn)(void *owner, bool level);

struct pit_channel {
    uint16_t count_reg; /* the count as written (0 means 65536 or 10000) */
    uint32_t count;     /* effective initial count, 1..65536 */
    uint8_t mode;       /* control word bits 3:1 as written, 0..7 */
    uint8_t rw;         /* access: 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    bool gate;
    bool loaded;    /* a count has been written since the control word */
    bool triggered; /* counting has started (modes 1, 5 wait for a gate edge) */
    bool null_count;
    bool write_msb_next; /* lohi write: the next byte is the MSB */
    uint8_t write_lsb;
    bool read_msb_next;  /* lohi read of the live counter */
    uint16_t hold;       /* counter value shown while not counting */
    uint16_t latch;      /* latched count */
    uint8_t latch_bytes; /* latched bytes still to read: rw mode while latched, 0 if none */
    bool latch_msb_next;
    bool status_latched;
    uint8_t status;
    uint64_t base_ticks; /* input clocks counted before start_ns */
    uint64_t start_ns;   /* when the current stretch of counting began */
};

struct pit {
    struct pit_channel ch[3];
    uint8_t port61; /* bits 3:0 as written (bit 0: gate 2, bit 1: speaker data) */
    bool out0;      /* last OUT0 level reported */
    struct clock *clk;
    struct timer out0_timer;
    pit_out_fn on_out0; /* may be NULL: then no timer is ever armed */
    void *owner;
    FILE *log;
    unsigned logged;
};

/* Power-on state as QEMU: every channel in mode 3, LSB-then-MSB, count
 * 65536, loaded at clk->now; gates 0 and 1 high, gate 2 low (port 0x61
 * bit 0 = 0). Maps 0x40-0x43 ("pit") and 0x61 ("pcspk") into `io`; `pit`
 * must not move for the life of `sys` and `clk`. */
void pit_init(struct pit *pit, struct mem_system *sys, struct mem_region *io, struct clock *clk,
              pit_out_fn on_out0, void *owner, FILE *log);
/* System reset: back to the power-on state at clk->now (OUT0 reported if it changes). */
void pit_reset(struct pit *pit);
/* Gate input of channel 0-2 (channel 2's is also port 0x61 bit 0). */
void pit_set_gate(struct pit *pit, unsigned channel, bool level);
/* OUT of a channel at clk->now. */
bool pit_out(const struct pit *pit, unsigned channel);
/* Current counter value as the guest would read it, at clk->now. */
uint16_t pit_counter(const struct pit *pit, unsigned channel);
/* Port 0x61 bits 5 (OUT2) and 4 (refresh toggle) at clk->now, plus the
 * latched bits 3:0. */
uint8_t pit_port61_read(const struct pit *pit);

#endif
