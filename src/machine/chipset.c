/*
 * chipset.c - wiring of APM, the PM block, fw_cfg and the APIC bus, and
 * the SMI routing rule of platform.md §3.9.
 */
#include "machine/chipset.h"

#include "cpu/cpu.h"
#include "mem/memory.h"

/* 3.579545 MHz = 3579545 ticks per 10^9 ns, computed exactly in integers. */
uint32_t chipset_pm_timer(uint64_t now_ns)
{
    uint64_t secs = now_ns / 1000000000ull, rem = now_ns % 1000000000ull;
    uint64_t ticks = secs * 3579545ull + rem * 3579545ull / 1000000000ull;
    return (uint32_t)(ticks & 0xFFFFFF);
}

static uint32_t pm_read_timer(void *owner)
{
    struct chipset *cs = owner;
    uint64_t now = *cs->virtual_time;
    if (cs->current)
        now += cs->current->icount - cs->current->run_start_icount;
    return chipset_pm_timer(now);
}

static void pm_sci(void *owner, bool level)
{
    struct chipset *cs = owner;
    if (cs->on_sci)
        cs->on_sci(cs->owner, level);
}

static void pm_sleep(void *owner, unsigned slp_typ)
{
    struct chipset *cs = owner;
    if (cs->on_sleep)
        cs->on_sleep(cs->owner, slp_typ);
}

static const struct ich9_pm_hooks pm_hooks = {
    .sci = pm_sci,
    .sleep = pm_sleep,
    .read_timer = pm_read_timer,
};

/* A CPU (or the monitor) wrote `v` to APM_CNT (platform.md §3.9). */
static void apm_control_written(void *owner, uint8_t v)
{
    struct chipset *cs = owner;
    if (!cs->smm || !ich9_pm_apm_command(&cs->pm, v))
        return;
    if (fw_cfg_smi_negotiated(&cs->fw_cfg) & 1) {
        for (unsigned k = 0; k < cs->apic_bus.n; k++)
            if (cs->apic_bus.cpus[k])
                cpu_signal_smi(cs->apic_bus.cpus[k]);
        cs->apm_smis++;
        return;
    }
    if (!cs->current) {
        /* No CPU wrote: QEMU would dereference a missing CPU; smmvm logs and drops it. */
        cs->apm_smis_dropped++;
        if (cs->log)
            fprintf(cs->log, "apm: write of 0x%02x to 0xb2 from outside a CPU: no SMI\n", v);
        return;
    }
    cpu_signal_smi(cs->current);
    cs->current->block_exit = true; /* taken right after the OUT (platform.md §6.2) */
    cs->apm_smis++;
}

void chipset_init(struct chipset *cs, const struct chipset_config *cfg, struct mem_system *sys,
                  struct mem_region *io, struct address_space *dma_as,
                  const uint64_t *virtual_time)
{
    *cs = (struct chipset){ .smm = cfg->smm, .log = cfg->log, .virtual_time = virtual_time };
    apm_init(&cs->apm, sys, io, apm_control_written, cs);
    ich9_pm_init(&cs->pm, sys, io, cfg->smm, &pm_hooks, cs,
                 cfg->log_guest_errors ? cfg->log : NULL);
    struct fw_cfg_config fc = {
        .ram_below_4g_bytes = cfg->ram_below_4g_bytes,
        .ram_above_4g_bytes = cfg->ram_above_4g_bytes,
        .nb_cpus = (uint16_t)cfg->boot_cpus,
        .max_cpus = (uint16_t)cfg->max_cpus,
        .smi_broadcast = cfg->smi_broadcast,
        .smi_cpu_hotplug = cfg->smi_cpu_hotplug,
        .smi_cpu_hotunplug = cfg->smi_cpu_hotunplug,
        .disable_s3 = cfg->disable_s3,
        .disable_s4 = cfg->disable_s4,
        .s4_val = (uint8_t)cfg->s4_val,
        .log = cfg->log,
        .log_guest_errors = cfg->log_guest_errors,
        .clock_ns = virtual_time,
    };
    fw_cfg_init(&cs->fw_cfg, &fc, sys, io, dma_as);
}

void chipset_free(struct chipset *cs)
{
    fw_cfg_free(&cs->fw_cfg);
}

void chipset_add_cpu(struct chipset *cs, struct cpu *c)
{
    if (cs->apic_bus.n < APIC_BUS_MAX)
        cs->apic_bus.cpus[cs->apic_bus.n++] = c;
    c->apic_bus = &cs->apic_bus;
}

void chipset_reset(struct chipset *cs)
{
    ich9_pm_reset(&cs->pm);
    fw_cfg_reset(&cs->fw_cfg);
}
