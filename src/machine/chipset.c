/*
 * chipset.c - wiring of APM, the PM block, fw_cfg and the APIC bus, and
 * the SMI routing rule of platform.md §3.9.
 */
#include "machine/chipset.h"

#include "cpu/cpu.h"
#include "hw/pm_timer.h"
#include "mem/memory.h"

uint64_t chipset_now(const struct chipset *cs)
{
    uint64_t now = *cs->virtual_time;
    if (cs->current)
        now += cs->current->icount - cs->current->run_start_icount;
    return now;
}

static uint32_t pm_read_timer(void *owner)
{
    return pm_timer_read(chipset_now(owner));
}

/* ---- interrupt routing: ISA IRQs go to both the 8259 and the I/O APIC ---- */

static struct cpu *bsp(const struct chipset *cs)
{
    return cs->apic_bus.n ? cs->apic_bus.cpus[0] : NULL;
}

static void pic_intr(void *owner, bool level)
{
    struct chipset *cs = owner;
    struct cpu *c = bsp(cs);
    if (c)
        c->intr_line = level;
}

static int cpu_intr_ack(void *opaque, struct cpu *c)
{
    (void)c;
    struct chipset *cs = opaque;
    return pic_ack(&cs->pic);
}

static void isa_irq(struct chipset *cs, unsigned irq, bool level)
{
    pic_set_irq(&cs->pic, irq, level);
    /* ISA IRQ 0 is I/O APIC pin 2 (the MADT override firmware reports). */
    ioapic_set_irq(&cs->ioapic, irq == 0 ? 2 : irq, level);
}

static void pit_out0(void *owner, bool level)
{
    isa_irq(owner, 0, level);
}

static void rtc_irq(void *owner, bool level)
{
    isa_irq(owner, 8, level);
}

static void ioapic_deliver(void *owner, uint8_t dest, bool logical, unsigned mode, uint8_t vector,
                           bool level)
{
    struct chipset *cs = owner;
    if (mode == APIC_DM_EXTINT) {
        /* Virtual wire through the I/O APIC: the 8259 supplies the vector. */
        struct cpu *c = bsp(cs);
        if (c)
            c->intr_line = true;
        return;
    }
    apic_bus_deliver(&cs->apic_bus, NULL, dest, logical, 0, (enum apic_delivery)mode, vector,
                     true, level);
}

static void level_eoi(void *opaque, uint8_t vector)
{
    struct chipset *cs = opaque;
    ioapic_eoi(&cs->ioapic, vector);
}

static void before_io(void *opaque, struct cpu *c)
{
    struct chipset *cs = opaque;
    (void)c;
    chipset_advance(cs, chipset_now(cs));
}

void chipset_advance(struct chipset *cs, uint64_t now)
{
    if (now > cs->clock.now)
        clock_advance(&cs->clock, now);
    for (unsigned k = 0; k < cs->apic_bus.n; k++) {
        struct cpu *c = cs->apic_bus.cpus[k];
        if (c && c->apic.timer_deadline <= now)
            apic_timer_expire(c, now);
    }
}

uint64_t chipset_next_deadline(const struct chipset *cs)
{
    uint64_t next = clock_next_deadline(&cs->clock);
    for (unsigned k = 0; k < cs->apic_bus.n; k++) {
        const struct cpu *c = cs->apic_bus.cpus[k];
        if (c && c->apic.timer_deadline < next)
            next = c->apic.timer_deadline;
    }
    return next;
}

static void pm_sci(void *owner, bool level)
{
    struct chipset *cs = owner;
    isa_irq(cs, 9, level); /* SCI on IRQ 9 (platform.md §3.4) */
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

/* ---- the 0x0CD8 hot-plug block: the APIC bus is indexed by slot ---- */

static bool hp_present(void *owner, unsigned slot)
{
    const struct chipset *cs = owner;
    return slot < cs->apic_bus.n && cs->apic_bus.cpus[slot];
}

static uint32_t hp_arch_id(void *owner, unsigned slot)
{
    const struct chipset *cs = owner;
    return slot < CPU_HOTPLUG_MAX_SLOTS ? cs->slot_apic_id[slot] : 0;
}

static void hp_eject(void *owner, unsigned slot)
{
    struct chipset *cs = owner;
    if (cs->on_eject)
        cs->on_eject(cs->owner, slot); /* the board removes the CPU object */
    else
        chipset_remove_cpu(cs, slot);
}

static void hp_ost(void *owner, unsigned slot, uint32_t event, uint32_t status)
{
    struct chipset *cs = owner;
    if (cs->on_ost)
        cs->on_ost(cs->owner, slot, event, status);
}

static void hp_gpe(void *owner)
{
    struct chipset *cs = owner;
    ich9_pm_set_gpe(&cs->pm, ICH9_GPE_CPU_HOTPLUG);
}

static const struct cpu_hotplug_hooks hotplug_hooks = {
    .present = hp_present,
    .arch_id = hp_arch_id,
    .eject = hp_eject,
    .gpe = hp_gpe,
    .ost = hp_ost,
};

void chipset_init(struct chipset *cs, const struct chipset_config *cfg, struct mem_system *sys,
                  struct mem_region *system, struct mem_region *io,
                  struct address_space *dma_as, const uint64_t *virtual_time)
{
    *cs = (struct chipset){ .smm = cfg->smm, .log = cfg->log, .virtual_time = virtual_time };
    FILE *glog = cfg->log_guest_errors ? cfg->log : NULL;
    clock_init(&cs->clock);
    pic_init(&cs->pic, sys, io, pic_intr, cs, glog);
    pit_init(&cs->pit, sys, io, &cs->clock, pit_out0, cs, glog);
    rtc_init(&cs->rtc, sys, io, &cs->clock, rtc_irq, cs, glog);
    ioapic_init(&cs->ioapic, sys, system, IOAPIC_BASE_PADDR, ioapic_deliver, cs, glog);
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
    cpu_hotplug_init(&cs->hotplug, sys, io, cfg->n_slots, &hotplug_hooks, cs, glog);
    cs->apic_bus.n = cfg->n_slots < APIC_BUS_MAX ? cfg->n_slots : APIC_BUS_MAX;
}

void chipset_free(struct chipset *cs)
{
    fw_cfg_free(&cs->fw_cfg);
}

void chipset_add_cpu(struct chipset *cs, struct cpu *c, unsigned slot)
{
    if (slot < cs->apic_bus.n)
        cs->apic_bus.cpus[slot] = c;
    c->apic_bus = &cs->apic_bus;
    c->intr_ack = cpu_intr_ack;
    c->on_level_eoi = level_eoi;
    c->before_io = before_io;
    c->board = cs;
}

void chipset_remove_cpu(struct chipset *cs, unsigned slot)
{
    /* From here on the CPU takes no IPI, SMI broadcast or timer. */
    if (slot < cs->apic_bus.n)
        cs->apic_bus.cpus[slot] = NULL;
}

void chipset_reset(struct chipset *cs)
{
    ich9_pm_reset(&cs->pm);
    fw_cfg_reset(&cs->fw_cfg);
    pic_reset(&cs->pic);
    pit_reset(&cs->pit);
    rtc_reset(&cs->rtc);
    ioapic_reset(&cs->ioapic);
}

void chipset_lpc_changed(struct chipset *cs, uint32_t pmbase, uint8_t acpi_ctrl,
                         bool gen_pmcon_written, bool smi_lock)
{
    ich9_pm_set_base(&cs->pm, (uint16_t)(pmbase & 0xFF80), acpi_ctrl & 0x80);
    /* SMI_EN bit 0 freezes only when a write to 0xA0-0xA7 finds SMI_LOCK set
     * (platform.md §3.7): after a reset it stays writable until then. */
    if (gen_pmcon_written && smi_lock)
        ich9_pm_arm_smi_lock(&cs->pm);
}
