/*
 * apm.c - APM control and status ports (0xB2, 0xB3) of the ICH9 LPC bridge.
 * Contract: ../shared/spec/platform.md §3.8 "APM ports". This block only
 * latches the two bytes and reports control writes; the LPC decides whether a
 * write becomes an SMI and on which CPUs (§3.9).
 */
#include "hw/apm.h"

#include "mem/memory.h" /* struct mem_ops, mem_region_mmio(), mem_region_add() */

static uint64_t apm_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct apm *apm = opaque;

    (void)size; /* apm_ops admits 1-byte accesses only */
    return offset == APM_CNT_OFFSET ? apm->control : apm->status;
}

/* Wider accesses arrive here as bytes in ascending port order (the dispatcher
 * splits them), so `outw 0xB2, 0x6655` latches 0x55 in APM_CNT, notifies, and
 * then latches 0x66 in APM_STS: the SMI is recognised only after the OUT
 * completes (§6.2), so the handler sees both bytes. */
static void apm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct apm *apm = opaque;

    (void)size;
    if (offset == APM_STS_OFFSET) {
        apm->status = (uint8_t)value;
        return;
    }
    apm->control = (uint8_t)value;
    if (apm->on_control_write)
        apm->on_control_write(apm->owner, apm->control);
}

static const struct mem_ops apm_ops = {
    .name = "apm",
    .read = apm_read,
    .write = apm_write,
    .min_access = 1,
    .max_access = 1,
};

void apm_init(struct apm *apm, struct mem_system *sys, struct mem_region *io, apm_notify_fn notify,
              void *owner)
{
    *apm = (struct apm){.on_control_write = notify, .owner = owner};
    mem_region_add(io, mem_region_mmio(sys, "apm-io", 2, &apm_ops, apm), APM_BASE_PORT, 0);
}
/* No apm_reset(): QEMU keeps both latches across a system reset and firmware may read them
 * back afterwards (platform.md §7.1), so there is nothing to reset. */
