/*
 * chipset.h - the SMI-relevant part of the Q35/ICH9 board wired together:
 * APM ports, the ICH9 PM block, fw_cfg with SMI negotiation, and the APIC
 * bus between the CPUs. It decides where an APM SMI goes (platform.md §3.9):
 * every CPU when broadcast was negotiated, otherwise the writing CPU.
 */
#ifndef SMMVM_MACHINE_CHIPSET_H
#define SMMVM_MACHINE_CHIPSET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/apic.h"
#include "hw/apm.h"
#include "hw/cpu_hotplug.h"
#include "hw/fw_cfg.h"
#include "hw/ich9_pm.h"
#include "hw/ioapic.h"
#include "hw/pic.h"
#include "hw/pit.h"
#include "hw/rtc.h"
#include "machine/clock.h"

struct address_space;
struct mem_region;
struct mem_system;

struct chipset_config {
    bool smm;
    uint64_t ram_below_4g_bytes, ram_above_4g_bytes;
    unsigned boot_cpus;
    unsigned max_cpus;  /* fw_cfg MAX_CPUS: highest possible APIC ID + 1 */
    unsigned n_slots;   /* possible CPUs (-smp maxcpus): hot-plug slots */
    bool smi_broadcast, smi_cpu_hotplug, smi_cpu_hotunplug;
    bool disable_s3, disable_s4;
    unsigned s4_val;
    FILE *log;
    bool log_guest_errors;
};

struct chipset {
    struct clock clock; /* device timers; `now` follows the running CPU's time */
    struct apm apm;
    struct ich9_pm pm;
    struct fw_cfg fw_cfg;
    struct pic pic;
    struct pit pit;
    struct rtc rtc;
    struct ioapic ioapic;
    struct cpu_hotplug hotplug;
    uint32_t slot_apic_id[CPU_HOTPLUG_MAX_SLOTS]; /* possible-CPU list, by slot */
    struct apic_bus apic_bus;
    struct cpu *current; /* the CPU the scheduler runs now; NULL outside a CPU */
    const uint64_t *virtual_time;
    bool smm;
    FILE *log;
    unsigned apm_smis, apm_smis_dropped;
    void (*on_sleep)(void *owner, unsigned slp_typ);
    void (*on_sci)(void *owner, bool level);
    void (*on_eject)(void *owner, unsigned slot); /* 0x0CD8 control bit 3 */
    void (*on_ost)(void *owner, unsigned slot, uint32_t event, uint32_t status);
    void *owner;
};

void chipset_init(struct chipset *cs, const struct chipset_config *cfg, struct mem_system *sys,
                  struct mem_region *system, struct mem_region *io,
                  struct address_space *dma_as, const uint64_t *virtual_time);
void chipset_free(struct chipset *cs);
/* The CPU of hot-plug slot `slot` joins the APIC bus (apic_bus.cpus is indexed by slot). */
void chipset_add_cpu(struct chipset *cs, struct cpu *c, unsigned slot);
void chipset_remove_cpu(struct chipset *cs, unsigned slot);
void chipset_reset(struct chipset *cs);
/* The ICH9 LPC hook: PMBASE/ACPI_CTRL decode and the SMI_LOCK rule. */
void chipset_lpc_changed(struct chipset *cs, uint32_t pmbase, uint8_t acpi_ctrl,
                         bool gen_pmcon_written, bool smi_lock);
/* Virtual time now, as the running CPU sees it. */
uint64_t chipset_now(const struct chipset *cs);
/* Brings device time up to `now` and fires due timers and APIC timers. */
void chipset_advance(struct chipset *cs, uint64_t now);
/* The earliest pending device or APIC timer deadline (UINT64_MAX if none). */
uint64_t chipset_next_deadline(const struct chipset *cs);

#endif
