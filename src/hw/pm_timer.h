/*
 * pm_timer.h - the ACPI PM timer (PM1_TMR, platform.md §3.2-3.3): a 24-bit
 * up-counter at 3.579545 MHz, derived exactly from the virtual clock with
 * integer arithmetic and wrapping modulo 2^24 (FADT TMR_VAL_EXT = 0). It
 * counts from virtual time 0 and is never reset (platform.md §7.1).
 *
 * Board wiring (the ICH9 PM block owns PMBASE and decides when it decodes):
 *   either call pm_timer_read(now_ns) from the PM block's own register
 *   handler for PMBASE + 0x08..0x0B (ich9_pm's read_timer hook), or
 *   pm_timer_init(&t, &m->mem, &m->clock) and map t.region into the PM
 *   block's container at offset 0x08 (mem_region_add(pm, t.region, 0x08, 1)).
 *   The region is 4 bytes, "acpi-tmr" as in QEMU; reads of any width or
 *   offset give the matching bytes of the 32-bit value (bits 31:24 are 0),
 *   writes are ignored. If the PM block implements PM1_STS.TMR_STS it can
 *   arm a timer at pm_timer_next_msb_toggle_ns(now) (bit 23 changes).
 */
#ifndef SMMVM_HW_PM_TIMER_H
#define SMMVM_HW_PM_TIMER_H

#include <stdint.h>

struct mem_system;
struct mem_region;
struct clock;

#define PM_TIMER_HZ   3579545u
#define PM_TIMER_MASK 0xFFFFFFu

struct pm_timer {
    const struct clock *clk;
    struct mem_region *region; /* not mapped by pm_timer_init() */
};

/* floor(now_ns * 3579545 / 1e9) mod 2^24. */
uint32_t pm_timer_read(uint64_t now_ns);
/* The first time after now_ns at which bit 23 of the counter changes (the
 * ACPI TMR_STS event, every 2^23 ticks, about 2.34 s). */
uint64_t pm_timer_next_msb_toggle_ns(uint64_t now_ns);
/* Creates the 4-byte read-only region reading clk->now; the caller maps it. */
void pm_timer_init(struct pm_timer *t, struct mem_system *sys, const struct clock *clk);

#endif
