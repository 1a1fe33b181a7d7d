/*
 * machine.c - the Q35 board as far as it exists: RAM split below/above
 * 4 GiB, the BIOS image at the top of 4 GiB with its last 128 KiB below
 * 1 MiB, the PCI host (0xCF8/0xCFC, ECAM), the MCH (PAM, SMRAM, TSEG,
 * 0x9C) and the ICH9 LPC, the per-CPU address spaces with QEMU's names, the
 * debug console, the debug-exit port, COM1, the scheduler and reset.
 * Contract: platform.md §1, §2, §7.1.
 */
#include "machine/machine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define KiB (1ull << 10)

/* One vCPU runs this many ticks before the next gets its turn (cpu.md §5.9). */
#define QUANTUM_TICKS 4096
/* A turn that ends on PAUSE counts as at least this many ticks for the clock: when every
 * CPU is spin-waiting, virtual time still moves at a useful pace (a firmware's 10 ms
 * INIT delay costs 10^4 short turns, not 10^7 instructions). Deterministic: it looks
 * only at what the guest executed. */
#define PAUSE_SPIN_TICKS 1000

static void on_debug_exit(void *owner, int status)
{
    machine_request_exit(owner, status);
}

void machine_config_default(struct machine_config *cfg)
{
    *cfg = (struct machine_config){
        .ram_bytes = 128 * MiB,
        .cpus = 1,
        .max_cpus = 1,
        .smm = true,
        .mch = { .smbase_smram = true, .ext_tseg_mbytes = 16 },
    };
    ich9_lpc_props_default(&cfg->lpc);
}

unsigned machine_bits_for(unsigned count)
{
    unsigned b = 0;
    while ((1u << b) < count)
        b++;
    return b;
}

uint32_t machine_apic_id(const struct machine_config *cfg, unsigned k)
{
    unsigned threads = cfg->threads ? cfg->threads : 1, cores = cfg->cores ? cfg->cores : 1;
    unsigned tb = machine_bits_for(threads), cb = machine_bits_for(cores);
    unsigned thread = k % threads, core = (k / threads) % cores, socket = k / (threads * cores);
    return (socket << (tb + cb)) | (core << tb) | thread;
}

/* Every CPU leaves its run loop at the next instruction boundary. */
static void stop_cpus(struct machine *m)
{
    for (unsigned k = 0; k < m->n_slots; k++)
        if (m->cpus[k])
            cpu_yield(m->cpus[k]);
}

void machine_request_reset(struct machine *m)
{
    machine_emit(m, &(struct machine_event){ .kind = MACHINE_EVENT_RESET, .guest = true,
                                             .reason = "guest-reset" });
    m->reset_requested = true;
    stop_cpus(m);
}

void machine_request_host_reset(struct machine *m)
{
    machine_emit(m, &(struct machine_event){ .kind = MACHINE_EVENT_RESET,
                                             .reason = "host-qmp-system-reset" });
    m->reset_requested = true;
    stop_cpus(m);
}

static void on_lpc_reset_request(void *owner)
{
    machine_request_reset(owner);
}

void machine_set_poll(struct machine *m, machine_poll_fn poll, void *opaque)
{
    m->poll = poll;
    m->poll_opaque = opaque;
}

void machine_request_exit(struct machine *m, int status)
{
    m->exit_requested = true;
    m->exit_status = status;
    stop_cpus(m);
}

bool machine_save_physical(struct machine *m, uint64_t addr, uint64_t size, const char *path,
                           char *err, size_t err_size)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, err_size, "Could not open '%s': %s", path, strerror(errno));
        return false;
    }
    uint8_t buf[4096];
    bool ok = true;
    /* Chunks, so any size works in bounded memory; reads through devices are allowed. */
    for (uint64_t done = 0; ok && done < size;) {
        uint64_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);
        mem_read_buf(m->as_memory, addr + done, buf, n);
        ok = fwrite(buf, 1, n, f) == n;
        done += n;
    }
    if (fclose(f) != 0 || !ok) {
        snprintf(err, err_size, "writing memory to '%s' failed", path);
        return false;
    }
    return true;
}

void machine_set_event_handler(struct machine *m, machine_event_fn fn, void *opaque)
{
    m->on_event = fn;
    m->event_opaque = opaque;
}

void machine_emit(struct machine *m, const struct machine_event *ev)
{
    if (m->on_event)
        m->on_event(m->event_opaque, ev);
}

void machine_stop(struct machine *m)
{
    if (m->run_state != MACHINE_RUNNING)
        return;
    m->run_state = MACHINE_PAUSED;
    stop_cpus(m);
    machine_emit(m, &(struct machine_event){ .kind = MACHINE_EVENT_STOP });
}

void machine_cont(struct machine *m)
{
    if (m->run_state == MACHINE_RUNNING)
        return;
    m->run_state = MACHINE_RUNNING;
    machine_emit(m, &(struct machine_event){ .kind = MACHINE_EVENT_RESUME });
}

static void on_cpu_shutdown(void *opaque, struct cpu *c, const char *why)
{
    struct machine *m = opaque;
    char line[256];
    int n = snprintf(line, sizeof(line), "smmvm: cpu%u: %s: %s\n", c->index, why,
                     m->cfg.no_reboot ? "shutting down" : "system reset");
    fputs(line, stderr);
    if (m->cfg.log && m->cfg.log != stderr)
        fputs(line, m->cfg.log);
    for (unsigned k = 0; k < m->n_debugcons; k++)
        chardev_write(m->debugcon[k].out, line, (size_t)n);
    if (m->cfg.no_reboot) {
        machine_emit(m, &(struct machine_event){ .kind = MACHINE_EVENT_SHUTDOWN, .guest = true,
                                                 .reason = "guest-reset" });
        machine_request_exit(m, 0);
    } else {
        machine_request_reset(m);
    }
    cpu_yield(c);
}

static void on_map_change(void *opaque)
{
    struct machine *m = opaque;
    for (unsigned k = 0; k < m->n_slots; k++)
        if (m->cpus[k])
            cpu_tlb_flush(m->cpus[k]);
}

void machine_attach_cpu(struct machine *m, struct cpu *c)
{
    c->on_shutdown = on_cpu_shutdown;
    (void)m;
}

/* A20M#: the gate masks physical address bit 20 outside SMM (cpu.md §3). Every CPU sees
 * the pin, as on hardware (QEMU wires it to the first CPU only). */
static void on_a20(void *owner, bool enabled)
{
    struct machine *m = owner;
    uint64_t mask = enabled ? ~0ull : ~(1ull << 20);
    for (unsigned k = 0; k < m->n_slots; k++) {
        struct cpu *c = m->cpus[k];
        if (c && c->a20_mask != mask) {
            c->a20_mask = mask;
            cpu_tlb_flush(c);
            c->block_exit = true; /* the next fetch goes through the new mask */
        }
    }
}

static void on_port92_reset(void *owner)
{
    machine_request_reset(owner);
}

static const struct port92_hooks port92_hooks = { on_a20, on_port92_reset };

static void on_hotplug_eject(void *owner, unsigned slot)
{
    machine_eject_cpu(owner, slot);
}

static void on_hotplug_ost(void *owner, unsigned slot, uint32_t event, uint32_t status)
{
    struct machine *m = owner;
    machine_emit(m, &(struct machine_event){ .kind = MACHINE_EVENT_ACPI_DEVICE_OST,
                                             .device = slot < m->n_slots ? m->slot[slot].id : "",
                                             .slot = slot, .source = event, .status = status });
}

/* -device options in command-line order (QEMU's numbering of anonymous devices). */
static bool cold_plug(struct machine *m, char *err, size_t err_size)
{
    for (unsigned k = 0; k < m->cfg.n_cold_devices; k++) {
        const struct cold_device_config *d = &m->cfg.cold_devices[k];
        if (!d->is_cpu) {
            if (!machine_register_device(m, d->id)) {
                snprintf(err, err_size, "-device: Duplicate device ID '%s'", d->id);
                return false;
            }
            continue;
        }
        char buf[512];
        struct dev_prop props[16];
        struct plug_error e;
        snprintf(buf, sizeof(buf), "%s", d->opts);
        unsigned n = dev_props_parse(buf, props, 16);
        if (n > 16) {
            snprintf(err, err_size, "-device %s: too many properties", d->opts);
            return false;
        }
        if (!machine_device_add(m, props, n, true, &e)) {
            snprintf(err, err_size, "-device %s: %s", d->opts, e.desc);
            return false;
        }
    }
    return true;
}

static void on_code_write(void *opaque, const uint8_t *host, unsigned len)
{
    struct machine *m = opaque;
    block_cache_code_written(m->blocks, host, len);
}

static bool load_bios(struct machine *m, char *err, size_t err_size)
{
    size_t size;
    if (!m->cfg.bios_path) {
        snprintf(err, err_size, "no firmware given: use -bios FILE (e.g. -bios build/firmware/smmfw.bin)");
        return false;
    }
    uint8_t *image = xread_file(m->cfg.bios_path, &size);
    if (size == 0 || size % (64 * KiB) != 0 || size > 16 * MiB) {
        snprintf(err, err_size, "could not load PC BIOS '%s': size %zu is not a multiple of 64 KiB (at most 16 MiB)",
                 m->cfg.bios_path, size);
        free(image);
        return false;
    }
    m->bios = mem_region_rom(&m->mem, "pc.bios", size);
    memcpy(m->bios->block->host, image, size);
    free(image);
    mem_region_add(m->pci, m->bios, 4 * GiB - size, 0);
    uint64_t isa_size = size < 128 * KiB ? size : 128 * KiB;
    struct mem_region *isa = mem_region_alias(&m->mem, "isa-bios", m->bios, size - isa_size, isa_size);
    mem_region_add(m->pci, isa, 1 * MiB - isa_size, 1);
    return true;
}

/* PMBASE, ACPI_CTRL or GEN_PMCON_1 changed (platform.md §3.1, §3.7). */
static void on_lpc_pm_change(void *opaque, struct ich9_lpc *lpc)
{
    struct machine *m = opaque;
    const uint8_t *b = lpc->cfg.bytes;
    uint32_t pmbase = (uint32_t)b[0x40] | ((uint32_t)b[0x41] << 8);
    chipset_lpc_changed(&m->chipset, pmbase, b[0x44], lpc->pm_hook_gen_pmcon,
                        b[0xA0] & ICH9_LPC_GEN_PMCON_1_SMI_LOCK);
}

struct machine *machine_create(const struct machine_config *cfg, char *err, size_t err_size)
{
    if (cfg->ram_bytes < 32 * MiB) {
        snprintf(err, err_size, "-m: RAM size below 32 MiB is not supported");
        return NULL;
    }
    /* smmvm-defined start-up limits (platform.md §1.5). */
    uint64_t tolud = cfg->ram_bytes >= 0xB0000000ull ? 0x80000000ull : cfg->ram_bytes;
    if (cfg->mch.ext_tseg_mbytes > MCH_EXT_TSEG_MBYTES_MAX) {
        snprintf(err, err_size, "-global mch.extended-tseg-mbytes=%u: invalid extended-tseg-mbytes value",
                 cfg->mch.ext_tseg_mbytes);
        return NULL;
    }
    if ((uint64_t)cfg->mch.ext_tseg_mbytes * MiB >= tolud - 1 * MiB) {
        snprintf(err, err_size,
                 "-global mch.extended-tseg-mbytes=%u: an extended TSEG of %u MiB does not fit below "
                 "TOLUD (%llu MiB of RAM below 4 GiB)",
                 cfg->mch.ext_tseg_mbytes, cfg->mch.ext_tseg_mbytes,
                 (unsigned long long)(tolud / MiB));
        return NULL;
    }
    if (cfg->cpus == 0 || cfg->cpus > MACHINE_MAX_CPUS || cfg->max_cpus > MACHINE_MAX_CPUS ||
        cfg->cpus > cfg->max_cpus) {
        snprintf(err, err_size, "-smp: cpus=%u, maxcpus=%u is not a valid topology (1 <= cpus <= maxcpus <= %u)",
                 cfg->cpus, cfg->max_cpus, MACHINE_MAX_CPUS);
        return NULL;
    }
    struct machine *m = xcalloc(1, sizeof(*m));
    m->cfg = *cfg;
    mem_system_init(&m->mem);
    m->mem.on_map_change = on_map_change;
    m->mem.on_code_write = on_code_write;
    m->mem.hook_opaque = m;

    /* RAM split (platform.md §1.5). */
    uint64_t r = cfg->ram_bytes;
    m->below_4g_bytes = r >= 0xB0000000ull ? 0x80000000ull : r;
    m->above_4g_bytes = r - m->below_4g_bytes;
    m->system = mem_region_container(&m->mem, "system", UINT64_MAX);
    m->ram = mem_region_ram(&m->mem, "pc.ram", r);
    mem_region_add(m->system, mem_region_alias(&m->mem, "ram-below-4g", m->ram, 0, m->below_4g_bytes), 0, 0);
    if (m->above_4g_bytes)
        mem_region_add(m->system,
                       mem_region_alias(&m->mem, "ram-above-4g", m->ram, m->below_4g_bytes, m->above_4g_bytes),
                       4 * GiB, 0);
    m->pci = mem_region_container(&m->mem, "pci", UINT64_MAX);
    mem_region_add(m->system, m->pci, 0, -1);
    /* Option-ROM space below the BIOS (QEMU pc_memory_init): read-only, so with PAM routing
     * 0xC0000-0xDFFFF to PCI reads return its zeroes and writes are lost, as on QEMU. */
    mem_region_add(m->pci, mem_region_rom(&m->mem, "pc.rom", 128 * KiB), 0xC0000, 1);
    if (!load_bios(m, err, err_size)) {
        machine_free(m);
        return NULL;
    }
    m->smram = mem_region_container(&m->mem, "smram", 4 * GiB);
    m->io_root = mem_region_container(&m->mem, "io", 0x10000);
    pci_host_init(&m->pci_host, &m->mem, m->io_root, m->system);
    q35_mch_init(&m->mch, &cfg->mch, &m->mem, &m->pci_host, m->system, m->pci, m->ram, m->smram,
                 m->below_4g_bytes, cfg->log_guest_errors ? cfg->log : NULL);
    ich9_lpc_init(&m->lpc, &cfg->lpc, &m->pci_host, on_lpc_reset_request, m);
    port92_init(&m->port92, &m->mem, m->io_root, &port92_hooks, m);

    m->blocks = block_cache_create();
    m->n_slots = cfg->max_cpus;
    for (unsigned k = 0; k < cfg->max_cpus; k++) {
        struct cpu_slot *sl = &m->slot[k];
        machine_slot_topology(cfg, k, &sl->socket, &sl->core, &sl->thread);
        sl->apic_id = machine_apic_id(cfg, k);
    }
    /* QEMU creates the CPUs' address spaces before "memory" (info mtree order). */
    for (unsigned k = 0; k < cfg->cpus; k++)
        machine_create_cpu_space(m, k, false);
    m->as_memory = mem_space_create(&m->mem, "memory", m->system);
    for (unsigned k = 0; k < cfg->cpus; k++)
        machine_create_cpu_space(m, k, true);
    m->as_io = mem_space_create(&m->mem, "I/O", m->io_root);
    struct chipset_config cc = {
        .smm = cfg->smm,
        .ram_below_4g_bytes = m->below_4g_bytes,
        .ram_above_4g_bytes = m->above_4g_bytes,
        .boot_cpus = cfg->cpus,
        /* fw_cfg's MAX_CPUS is the highest possible APIC ID + 1 (platform.md §4.4). */
        .max_cpus = machine_apic_id(cfg, cfg->max_cpus - 1) + 1,
        .n_slots = cfg->max_cpus,
        .smi_broadcast = cfg->lpc.smi_broadcast,
        .smi_cpu_hotplug = cfg->lpc.smi_cpu_hotplug,
        .smi_cpu_hotunplug = cfg->lpc.smi_cpu_hotunplug,
        .disable_s3 = cfg->lpc.disable_s3,
        .disable_s4 = cfg->lpc.disable_s4,
        .s4_val = cfg->lpc.s4_val,
        .log = cfg->log,
        .log_guest_errors = cfg->log_guest_errors,
    };
    chipset_init(&m->chipset, &cc, &m->mem, m->system, m->io_root, m->as_memory, &m->virtual_time);
    m->chipset.owner = m;
    m->chipset.on_eject = on_hotplug_eject;
    m->chipset.on_ost = on_hotplug_ost;
    ich9_lpc_set_pm_hook(&m->lpc, on_lpc_pm_change, m);
    for (unsigned k = 0; k < cfg->max_cpus && k < CPU_HOTPLUG_MAX_SLOTS; k++)
        m->chipset.slot_apic_id[k] = m->slot[k].apic_id;
    /* CMOS bytes firmware reads (platform.md §1.9). */
    uint64_t low64k = (m->below_4g_bytes - 16 * MiB) / (64 * KiB);
    if (low64k > 0xFFFF)
        low64k = 0xFFFF;
    rtc_cmos_set(&m->chipset.rtc, 0x34, (uint8_t)low64k);
    rtc_cmos_set(&m->chipset.rtc, 0x35, (uint8_t)(low64k >> 8));
    uint64_t high64k = m->above_4g_bytes / (64 * KiB);
    for (unsigned k = 0; k < 3; k++)
        rtc_cmos_set(&m->chipset.rtc, 0x5B + k, (uint8_t)(high64k >> (8 * k)));
    rtc_cmos_set(&m->chipset.rtc, 0x5F, (uint8_t)(cfg->cpus - 1));
    for (unsigned k = 0; k < cfg->n_fw_cfg_items; k++) {
        const struct fw_cfg_item_config *it = &cfg->fw_cfg_items[k];
        enum fw_cfg_error e = it->data ? fw_cfg_add_file(&m->chipset.fw_cfg, it->name, it->data, it->len)
                                       : fw_cfg_add_string(&m->chipset.fw_cfg, it->name, it->string);
        if (e) {
            snprintf(err, err_size, "-fw_cfg name=%s: %s", it->name, fw_cfg_strerror(e));
            machine_free(m);
            return NULL;
        }
    }

    for (unsigned k = 0; k < cfg->n_debugcons; k++)
        debugcon_init(&m->debugcon[k], &m->mem, m->io_root, cfg->debugcons[k].port, cfg->debugcons[k].out);
    m->n_debugcons = cfg->n_debugcons;
    if (cfg->debug_exit)
        debug_exit_init(&m->debug_exit, &m->mem, m->io_root, cfg->debug_exit_port,
                        cfg->debug_exit_size, on_debug_exit, m);
    if (cfg->serial)
        uart_init(&m->uart, &m->mem, m->io_root, 0x3F8, cfg->serial);

    for (unsigned k = 0; k < cfg->cpus; k++)
        machine_create_boot_cpu(m, k);
    m->run_state = cfg->start_paused ? MACHINE_PRELAUNCH : MACHINE_RUNNING;
    if (!cold_plug(m, err, err_size)) {
        machine_free(m);
        return NULL;
    }
    return m;
}

void machine_free(struct machine *m)
{
    if (!m)
        return;
    machine_free_doomed(m);
    for (unsigned k = 0; k < m->n_slots; k++) {
        if (m->cpus[k]) {
            cpu_destroy(m->cpus[k]);
            free(m->cpus[k]);
        }
    }
    if (m->chipset.virtual_time)
        chipset_free(&m->chipset);
    block_cache_free(m->blocks);
    mem_system_free(&m->mem);
    free(m);
}

/* System reset (platform.md §7.1): every device's reset hook, then the CPUs. RAM, PAM and
 * the storage-only registers are kept. */
void machine_reset(struct machine *m)
{
    pci_host_reset(&m->pci_host);
    q35_mch_reset(&m->mch);
    chipset_reset(&m->chipset);
    ich9_lpc_reset(&m->lpc);
    port92_reset(&m->port92);
    for (unsigned k = 0; k < m->n_slots; k++)
        if (m->cpus[k])
            cpu_reset(m->cpus[k], k == 0);
    m->reset_requested = false;
}

int machine_run(struct machine *m, uint64_t max_ticks)
{
    uint64_t deadline = max_ticks ? m->virtual_time + max_ticks : UINT64_MAX;
    while (!m->exit_requested && m->virtual_time < deadline) {
        if (m->reset_requested)
            machine_reset(m);
        bool ran = false;
        uint64_t round_max = 0;
        if (m->run_state != MACHINE_RUNNING) {
            /* Stopped (QMP stop, -S): only the monitor can change anything. */
            if (m->poll && m->poll(m->poll_opaque, true))
                continue;
            fprintf(stderr, "smmvm: the machine is stopped and no monitor can resume it; exiting\n");
            break;
        }
        uint64_t quantum = m->n_present == 1 ? 1u << 20 : QUANTUM_TICKS;
        if (deadline - m->virtual_time < quantum)
            quantum = deadline - m->virtual_time;
        /* Never run past the next timer: interrupts arrive at their exact tick. */
        uint64_t next_event = chipset_next_deadline(&m->chipset);
        if (next_event > m->virtual_time && next_event - m->virtual_time < quantum)
            quantum = next_event - m->virtual_time;
        for (unsigned k = 0; k < m->n_slots && !m->exit_requested; k++) {
            struct cpu *c = m->cpus[k];
            if (!c || !cpu_wants_to_run(c))
                continue;
            m->chipset.current = c;
            uint64_t t = cpu_run(c, quantum);
            m->chipset.current = NULL;
            if (c->pause_exit) {
                c->pause_exit = false;
                uint64_t spin = quantum < PAUSE_SPIN_TICKS ? quantum : PAUSE_SPIN_TICKS;
                if (t < spin)
                    t = spin;
            }
            if (m->n_doomed)
                machine_free_doomed(m);
            if (t > round_max)
                round_max = t;
            ran = true;
            if (m->reset_requested)
                break;
        }
        if (m->reset_requested) {
            machine_reset(m);
            continue;
        }
        if (!ran) {
            /* Idle: time jumps to the next timer, if any (cpu.md §5.9). */
            uint64_t next = chipset_next_deadline(&m->chipset);
            if (next != UINT64_MAX && next < deadline) {
                if (next > m->virtual_time)
                    m->virtual_time = next;
                chipset_advance(&m->chipset, m->virtual_time);
                if (m->poll) /* the monitor stays served while halted CPUs skip ahead */
                    m->poll(m->poll_opaque, false);
                continue;
            }
            /* Every CPU is halted or waiting, and no timer exists yet: only the monitor can
             * still change anything, so serve it (host time passes, virtual time does not). */
            if (m->poll && m->poll(m->poll_opaque, true))
                continue;
            fprintf(stderr, "smmvm: all CPUs are halted and nothing can wake them; stopping\n");
            break;
        }
        m->virtual_time += round_max ? round_max : 1;
        chipset_advance(&m->chipset, m->virtual_time);
        if (m->poll)
            m->poll(m->poll_opaque, false);
    }
    return m->exit_status;
}
