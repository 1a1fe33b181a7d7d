/*
 * apm.h - APM control and status ports (APM_CNT 0xB2, APM_STS 0xB3) of the
 * ICH9 LPC bridge, platform.md §3.8. Two byte latches; a write to APM_CNT is
 * reported to the owner, which applies §3.9 (ACPI enable/disable, APMC_EN,
 * broadcast or single-CPU SMI). This block never raises an SMI itself.
 *
 * Board wiring: apm_init(&lpc->apm, &m->mem, m->io_root, lpc_apm_write, lpc).
 * There is no apm_reset(): both latches survive system reset and S3 wake
 * (platform.md §7.1), so the board must not clear them.
 */
#ifndef SMMVM_HW_APM_H
#define SMMVM_HW_APM_H

#include <stdint.h>

struct mem_system;
struct mem_region;

#define APM_BASE_PORT  0xB2
#define APM_CNT_OFFSET 0 /* 0xB2: control; writing it notifies the owner */
#define APM_STS_OFFSET 1 /* 0xB3: status; a plain scratch byte */

/* Called after the new value is latched, so the callee may read apm->control. */
typedef void (*apm_notify_fn)(void *owner, uint8_t control);

struct apm {
    uint8_t control;                /* APM_CNT, 0x00 at power-on */
    uint8_t status;                 /* APM_STS, 0x00 at power-on */
    apm_notify_fn on_control_write; /* may be NULL: writes are only latched */
    void *owner;
};

/* Power-on state (both latches 0) and maps ports 0xB2-0xB3 into `io` (the
 * root container of the port address space). `apm` must stay where it is for
 * the life of `sys`: the port region keeps a pointer to it. */
void apm_init(struct apm *apm, struct mem_system *sys, struct mem_region *io, apm_notify_fn notify,
              void *owner);

#endif
