/*
 * ich9_pm.h - the ICH9 power-management I/O block at PMBASE (128 bytes):
 * PM1 status/enable/control, the PM timer, GPE0, SMI_EN/SMI_STS, and the
 * chipset side of APM commands 2/3 (platform.md §3.2-3.6, §3.9).
 *
 * The board wires: ich9_pm_set_base() from LPC config writes to PMBASE and
 * ACPI_CTRL; ich9_pm_arm_smi_lock() when GEN_PMCON_1 is written with
 * SMI_LOCK set; ich9_pm_apm_command() from the APM control-port callback
 * (it answers whether the write raises an SMI; the board decides which
 * CPUs from the negotiated features); ich9_pm_set_gpe() for hot-plug
 * events; and the hooks: SCI level changes, sleep requests, timer reads.
 */
#ifndef SMMVM_HW_ICH9_PM_H
#define SMMVM_HW_ICH9_PM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct mem_system;
struct mem_region;

#define ICH9_PM_SIZE 0x80

#define ICH9_PM1_STS 0x00
#define ICH9_PM1_EN  0x02
#define ICH9_PM1_CNT 0x04
#define ICH9_PM1_TMR 0x08
#define ICH9_GPE0_STS 0x20
#define ICH9_GPE0_EN  0x28
#define ICH9_SMI_EN  0x30
#define ICH9_SMI_STS 0x34

#define ICH9_PM1_CNT_SCI_EN 0x0001u
#define ICH9_PM1_CNT_SLP_EN 0x2000u
#define ICH9_PM1_STS_EVENTS 0x0521u /* TMR, GBL, PWRBTN, RTC */
#define ICH9_SMI_EN_GBL_SMI_EN 0x00000001u
#define ICH9_SMI_EN_APMC_EN    0x00000020u
#define ICH9_GPE_CPU_HOTPLUG   2

struct ich9_pm_hooks {
    void (*sci)(void *owner, bool level);
    /* SLP_EN was written with this SLP_TYP (0 = S5, 1 = S3, ...). */
    void (*sleep)(void *owner, unsigned slp_typ);
    uint32_t (*read_timer)(void *owner); /* 24-bit PM timer value now */
};

struct ich9_pm {
    struct mem_region *region;
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint8_t gpe_sts[8], gpe_en[8];
    uint32_t smi_en;
    bool smi_lock_armed; /* SMI_EN bit 0 read-only */
    bool smm;            /* -machine smm=on */
    bool sci_level;
    const struct ich9_pm_hooks *hooks;
    void *owner;
    FILE *log;
};

void ich9_pm_init(struct ich9_pm *pm, struct mem_system *sys, struct mem_region *io, bool smm,
                  const struct ich9_pm_hooks *hooks, void *owner, FILE *log);
/* Decodes the block at `base` (PMBASE & 0xFF80) when `enabled`, else not at all. */
void ich9_pm_set_base(struct ich9_pm *pm, uint16_t base, bool enabled);
void ich9_pm_arm_smi_lock(struct ich9_pm *pm);
/* A CPU wrote v to APM_CNT: handles ACPI enable/disable; true if an SMI follows. */
bool ich9_pm_apm_command(struct ich9_pm *pm, uint8_t v);
void ich9_pm_set_gpe(struct ich9_pm *pm, unsigned bit);
/* System reset and S3 wake (platform.md §7.1). */
void ich9_pm_reset(struct ich9_pm *pm);

#endif
