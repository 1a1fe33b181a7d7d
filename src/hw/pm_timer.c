/*
 * pm_timer.c - the ACPI PM timer as a function of virtual time and as a
 * 4-byte read-only register. Contract: pm_timer.h; platform.md §3.3.
 */
#include "hw/pm_timer.h"

#include "machine/clock.h" /* struct clock */
#include "mem/memory.h"    /* struct mem_ops, mem_region_mmio() */

#define NS_PER_S 1000000000u

/* The full tick count: split at whole seconds so nothing overflows. */
static uint64_t pm_timer_ticks(uint64_t now_ns)
{
    return now_ns / NS_PER_S * PM_TIMER_HZ + now_ns % NS_PER_S * PM_TIMER_HZ / NS_PER_S;
}

uint32_t pm_timer_read(uint64_t now_ns)
{
    return (uint32_t)(pm_timer_ticks(now_ns) & PM_TIMER_MASK);
}

uint64_t pm_timer_next_msb_toggle_ns(uint64_t now_ns)
{
    uint64_t next = (pm_timer_ticks(now_ns) >> 23) + 1, ticks = next << 23;
    uint64_t r = ticks % PM_TIMER_HZ;

    /* the smallest ns with pm_timer_ticks(ns) >= ticks */
    return ticks / PM_TIMER_HZ * NS_PER_S + (r * NS_PER_S + PM_TIMER_HZ - 1) / PM_TIMER_HZ;
}

/* min_access 4: narrower reads arrive widened to the aligned dword. */
static uint64_t pm_timer_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct pm_timer *t = opaque;

    (void)offset;
    (void)size;
    return pm_timer_read(t->clk->now);
}

static void pm_timer_mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)value;
    (void)size; /* read-only: ACPI says writes have no effect */
}

static const struct mem_ops pm_timer_ops = {
    .name = "acpi-tmr",
    .read = pm_timer_mmio_read,
    .write = pm_timer_mmio_write,
    .min_access = 4,
    .max_access = 4,
};

void pm_timer_init(struct pm_timer *t, struct mem_system *sys, const struct clock *clk)
{
    *t = (struct pm_timer){.clk = clk};
    t->region = mem_region_mmio(sys, "acpi-tmr", 4, &pm_timer_ops, t);
}
