/*
 * machine.c - the Q35 board as far as it exists: RAM split below/above
 * 4 GiB, the BIOS image at the top of 4 GiB with its last 128 KiB below
 * 1 MiB, the PAM-controlled 0xC0000-0xFFFFF window (reset: all to PCI),
 * the per-CPU address spaces with QEMU's names, the debug console, the
 * debug-exit port, COM1, and the scheduler. Contract: platform.md §1.
 */
#include "machine/machine.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define KiB (1ull << 10)

/* One vCPU runs this many ticks before the next gets its turn (cpu.md §5.9). */
#define QUANTUM_TICKS 4096

static void on_debug_exit(void *owner, int status)
{
    machine_request_exit(owner, status);
}

void machine_request_exit(struct machine *m, int status)
{
    m->exit_requested = true;
    m->exit_status = status;
    for (unsigned k = 0; k < m->n_cpus; k++)
        m->cpus[k]->yield = true;
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
    if (m->cfg.no_reboot)
        machine_request_exit(m, 0);
    else
        m->reset_requested = true;
    c->yield = true;
}

static void on_map_change(void *opaque)
{
    struct machine *m = opaque;
    for (unsigned k = 0; k < m->n_cpus; k++)
        cpu_tlb_flush(m->cpus[k]);
}

static void on_code_write(void *opaque, const uint8_t *host, unsigned len)
{
    struct machine *m = opaque;
    block_cache_code_written(m->blocks, host, len);
}

/* PAM: 13 segments, four aliases each, all routed to PCI at reset
 * (platform.md §1.8; the MCH registers that switch them arrive with q35_mch). */
static void build_pam(struct machine *m)
{
    for (unsigned s = 0; s < 13; s++) {
        uint64_t start = s == 0 ? 0xF0000 : 0xC0000 + (s - 1) * 0x4000;
        uint64_t size = s == 0 ? 0x10000 : 0x4000;
        struct mem_region *ram = mem_region_alias(&m->mem, "pam-ram", m->ram, start, size);
        struct mem_region *pci = mem_region_alias(&m->mem, "pam-pci", m->pci, start, size);
        struct mem_region *rom = mem_region_alias(&m->mem, "pam-rom", m->ram, start, size);
        struct mem_region *pci_w = mem_region_alias(&m->mem, "pam-pci", m->ram, start, size);
        mem_region_set_readonly(rom, true);
        mem_region_set_enabled(ram, false);
        mem_region_set_enabled(rom, false);
        mem_region_set_enabled(pci_w, false);
        mem_region_add(m->system, ram, start, 1);
        mem_region_add(m->system, pci, start, 1);
        mem_region_add(m->system, rom, start, 1);
        mem_region_add(m->system, pci_w, start, 1);
    }
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

struct machine *machine_create(const struct machine_config *cfg, char *err, size_t err_size)
{
    if (cfg->ram_bytes < 32 * MiB) {
        snprintf(err, err_size, "-m: RAM size below 32 MiB is not supported");
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
    build_pam(m);
    if (!load_bios(m, err, err_size)) {
        machine_free(m);
        return NULL;
    }
    m->smram = mem_region_container(&m->mem, "smram", 4 * GiB);
    m->io_root = mem_region_container(&m->mem, "io", 0x10000);

    m->blocks = block_cache_create();
    for (unsigned k = 0; k < cfg->cpus; k++) {
        char name[32];
        snprintf(name, sizeof(name), "cpu-memory-%u", k);
        m->as_cpu_memory[k] = mem_space_create(&m->mem, name, m->system);
    }
    m->as_memory = mem_space_create(&m->mem, "memory", m->system);
    for (unsigned k = 0; k < cfg->cpus; k++) {
        char name[32];
        snprintf(name, sizeof(name), "cpu-smm-%u", k);
        struct mem_region *root = mem_region_container(&m->mem, "memory", UINT64_MAX);
        mem_region_add(root, mem_region_alias(&m->mem, "smram", m->smram, 0, 4 * GiB), 0, 1);
        mem_region_add(root, mem_region_alias(&m->mem, "memory", m->system, 0, UINT64_MAX), 0, 0);
        m->as_cpu_smm[k] = mem_space_create(&m->mem, name, root);
    }
    m->as_io = mem_space_create(&m->mem, "I/O", m->io_root);

    for (unsigned k = 0; k < cfg->n_debugcons; k++)
        debugcon_init(&m->debugcon[k], &m->mem, m->io_root, cfg->debugcons[k].port, cfg->debugcons[k].out);
    m->n_debugcons = cfg->n_debugcons;
    if (cfg->debug_exit)
        debug_exit_init(&m->debug_exit, &m->mem, m->io_root, cfg->debug_exit_port,
                        cfg->debug_exit_size, on_debug_exit, m);
    if (cfg->serial)
        uart_init(&m->uart, &m->mem, m->io_root, 0x3F8, cfg->serial);

    for (unsigned k = 0; k < cfg->cpus; k++) {
        struct cpu *c = xcalloc(1, sizeof(*c));
        cpu_init(c, k, m->blocks, m->as_cpu_memory[k], m->as_cpu_smm[k], m->as_io);
        c->virtual_time = &m->virtual_time;
        c->on_shutdown = on_cpu_shutdown;
        c->machine = m;
        c->log = cfg->log;
        c->log_guest_errors = cfg->log_guest_errors;
        c->tcg_smm_compat = cfg->tcg_smm_compat;
        m->cpus[k] = c;
    }
    m->n_cpus = cfg->cpus;
    return m;
}

void machine_free(struct machine *m)
{
    if (!m)
        return;
    for (unsigned k = 0; k < m->n_cpus; k++) {
        free(m->cpus[k]->scratch);
        free(m->cpus[k]);
    }
    block_cache_free(m->blocks);
    mem_system_free(&m->mem);
    free(m);
}

void machine_reset(struct machine *m)
{
    for (unsigned k = 0; k < m->n_cpus; k++)
        cpu_reset(m->cpus[k], k == 0);
    m->reset_requested = false;
}

int machine_run(struct machine *m, uint64_t max_ticks)
{
    uint64_t deadline = max_ticks ? m->virtual_time + max_ticks : UINT64_MAX;
    while (!m->exit_requested && m->virtual_time < deadline) {
        bool ran = false;
        uint64_t round_max = 0;
        uint64_t quantum = m->n_cpus == 1 ? 1u << 20 : QUANTUM_TICKS;
        if (deadline - m->virtual_time < quantum)
            quantum = deadline - m->virtual_time;
        for (unsigned k = 0; k < m->n_cpus && !m->exit_requested; k++) {
            struct cpu *c = m->cpus[k];
            if (!cpu_wants_to_run(c))
                continue;
            uint64_t t = cpu_run(c, quantum);
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
            /* Every CPU is halted or waiting, and no timer exists yet. */
            fprintf(stderr, "smmvm: all CPUs are halted and nothing can wake them; stopping\n");
            break;
        }
        m->virtual_time += round_max ? round_max : 1;
    }
    return m->exit_status;
}
