/*
 * machine.h - the Q35 board: its configuration, the memory map and address
 * spaces, the CPUs, the devices, the round-robin scheduler on a virtual
 * clock of retired instructions (cpu.md §5.9), reset and exit.
 */
#ifndef SMMVM_MACHINE_MACHINE_H
#define SMMVM_MACHINE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "hw/chardev.h"
#include "hw/debug_exit.h"
#include "hw/debugcon.h"
#include "hw/ich9_lpc.h"
#include "hw/pci.h"
#include "hw/q35_mch.h"
#include "hw/uart.h"
#include "machine/chipset.h"
#include "mem/memory.h"

#define MACHINE_MAX_CPUS 255
#define MACHINE_MAX_DEBUGCONS 4

struct debugcon_config {
    uint16_t port;
    struct chardev *out;
};

/* -fw_cfg name=NAME,file=PATH | name=NAME,string=STR */
struct fw_cfg_item_config {
    const char *name;
    const uint8_t *data; /* file contents, or NULL for a string */
    size_t len;
    const char *string;
};
#define MACHINE_MAX_FW_CFG_ITEMS 16

struct machine_config {
    uint64_t ram_bytes;
    const char *bios_path;
    unsigned cpus;
    unsigned max_cpus;
    unsigned sockets, cores, threads; /* 0: derived (QEMU 7.2 prefers cores) */
    bool smm;
    bool tcg_smm_compat;
    bool no_reboot;
    struct debugcon_config debugcons[MACHINE_MAX_DEBUGCONS];
    unsigned n_debugcons;
    bool debug_exit;
    uint16_t debug_exit_port;
    unsigned debug_exit_size;
    struct chardev *serial; /* NULL: no COM1 output */
    FILE *log;
    bool log_guest_errors;
    uint64_t seed;
    struct fw_cfg_item_config fw_cfg_items[MACHINE_MAX_FW_CFG_ITEMS];
    unsigned n_fw_cfg_items;
    struct q35_mch_props mch;     /* -global mch.* */
    struct ich9_lpc_props lpc;    /* -global ICH9-LPC.* */
};

/* Fills the defaults main.c starts from (and tests use). */
void machine_config_default(struct machine_config *cfg);

/* Called between scheduler rounds (idle = false, must not block) and, when every CPU is
 * halted, with idle = true (may wait for host input). Returns false when nothing can
 * ever arrive any more (e.g. the monitor's stdin reached EOF). */
typedef bool (*machine_poll_fn)(void *opaque, bool idle);

struct machine {
    struct machine_config cfg;
    struct mem_system mem;
    struct mem_region *system, *pci, *ram, *smram, *io_root, *bios;
    struct address_space *as_memory, *as_io;
    struct address_space *as_cpu_memory[MACHINE_MAX_CPUS];
    struct address_space *as_cpu_smm[MACHINE_MAX_CPUS];
    uint64_t below_4g_bytes, above_4g_bytes;

    struct block_cache *blocks;
    struct cpu *cpus[MACHINE_MAX_CPUS];
    unsigned n_cpus;

    struct debugcon debugcon[MACHINE_MAX_DEBUGCONS];
    unsigned n_debugcons;
    struct debug_exit debug_exit;
    struct uart uart;
    struct pci_host pci_host;
    struct q35_mch mch;
    struct ich9_lpc lpc;
    struct chipset chipset; /* APM, PM block, fw_cfg, interrupt controllers, timers, APIC bus */

    machine_poll_fn poll;
    void *poll_opaque;

    uint64_t virtual_time; /* ns; one retired instruction = one tick = 1 ns */
    bool exit_requested;
    int exit_status;
    bool reset_requested;
};

/* Builds the board; returns NULL and fills err on bad configuration. */
struct machine *machine_create(const struct machine_config *cfg, char *err, size_t err_size);
void machine_free(struct machine *m);
void machine_reset(struct machine *m);
/* Runs until the guest exits (isa-debug-exit), the machine stops, or
 * max_ticks of virtual time have passed (0 = no limit). Returns the exit status. */
int machine_run(struct machine *m, uint64_t max_ticks);
void machine_request_exit(struct machine *m, int status);
/* APIC ID of the CPU with index (slot) `k`: thread, core and socket fields
 * packed from bit 0 up, each as wide as its count needs (QEMU's rule). */
uint32_t machine_apic_id(const struct machine_config *cfg, unsigned k);
/* A system reset at the end of the current scheduler round (0xCF9, monitor). */
void machine_request_reset(struct machine *m);
void machine_set_poll(struct machine *m, machine_poll_fn poll, void *opaque);

#endif
