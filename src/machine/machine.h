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
#include "hw/port92.h"
#include "hw/q35_mch.h"
#include "hw/uart.h"
#include "machine/chipset.h"
#include "mem/memory.h"

#define MACHINE_MAX_CPUS 255
#define MACHINE_MAX_DEBUGCONS 4
/* The one CPU model, under QEMU's QOM type name for -cpu qemu64. */
#define MACHINE_CPU_TYPE "qemu64-x86_64-cpu"
#define MACHINE_ID_MAX 64
#define MACHINE_MAX_DEVICES 16

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

/* A -device option, kept in command-line order: QEMU numbers the anonymous
 * ones in that order and creates CPUs after the -smp ones. */
struct cold_device_config {
    bool is_cpu;
    const char *id;   /* non-CPU device: its id or NULL */
    const char *opts; /* CPU: the whole "qemu64-x86_64-cpu,socket-id=..." string */
};

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
    struct cold_device_config cold_devices[MACHINE_MAX_DEVICES];
    unsigned n_cold_devices;
    bool start_paused;            /* -S */
    struct q35_mch_props mch;     /* -global mch.* */
    struct ich9_lpc_props lpc;    /* -global ICH9-LPC.* */
};

/* Fills the defaults main.c starts from (and tests use). */
void machine_config_default(struct machine_config *cfg);

/* Called between scheduler rounds (idle = false, must not block) and, when every CPU is
 * halted, with idle = true (may wait for host input). Returns false when nothing can
 * ever arrive any more (e.g. the monitor's stdin reached EOF). */
typedef bool (*machine_poll_fn)(void *opaque, bool idle);

/* What the monitor reports as QMP events (DESIGN.md, platform.md §5.5). */
enum machine_event_kind {
    MACHINE_EVENT_DEVICE_DELETED, /* device (may be ""), path */
    MACHINE_EVENT_ACPI_DEVICE_OST, /* device (may be ""), slot, source, status */
    MACHINE_EVENT_RESET,           /* guest, reason */
    MACHINE_EVENT_SHUTDOWN,        /* guest, reason */
    MACHINE_EVENT_STOP,
    MACHINE_EVENT_RESUME,
};

struct machine_event {
    enum machine_event_kind kind;
    const char *device, *path, *reason;
    unsigned slot;
    uint32_t source, status;
    bool guest;
};

typedef void (*machine_event_fn)(void *opaque, const struct machine_event *ev);

enum machine_run_state {
    MACHINE_RUNNING,
    MACHINE_PAUSED,    /* QMP stop / HMP stop */
    MACHINE_PRELAUNCH, /* -S: not started yet */
};

/* One entry of the possible-CPU list (platform.md §5.1): the slot's CPU if
 * present, and the device identity the monitor shows. */
struct cpu_slot {
    struct cpu *cpu;             /* NULL: empty */
    char id[MACHINE_ID_MAX];     /* device id, "" if none was given */
    char qom_path[96];           /* valid while cpu != NULL */
    unsigned socket, core, thread;
    uint32_t apic_id;
};

struct machine {
    struct machine_config cfg;
    struct mem_system mem;
    struct mem_region *system, *pci, *ram, *smram, *io_root, *bios;
    struct address_space *as_memory, *as_io;
    struct address_space *as_cpu_memory[MACHINE_MAX_CPUS];
    struct address_space *as_cpu_smm[MACHINE_MAX_CPUS];
    uint64_t below_4g_bytes, above_4g_bytes;

    struct block_cache *blocks;
    /* Indexed by slot (= QEMU's cpu-index); NULL for an empty slot. */
    struct cpu *cpus[MACHINE_MAX_CPUS];
    unsigned n_slots;   /* -smp maxcpus */
    unsigned n_present; /* CPUs that exist now (fw_cfg NB_CPUS) */
    struct cpu_slot slot[MACHINE_MAX_CPUS];
    struct cpu *doomed[MACHINE_MAX_CPUS]; /* ejected, freed when the running CPU stops */
    unsigned n_doomed;
    /* Ids of the non-CPU -device devices (for duplicates and device_del) and
     * the /machine/peripheral-anon/device[N] counter, in QEMU's order. */
    char device_ids[MACHINE_MAX_DEVICES][MACHINE_ID_MAX];
    unsigned n_device_ids;
    unsigned anon_devices;

    struct debugcon debugcon[MACHINE_MAX_DEBUGCONS];
    unsigned n_debugcons;
    struct debug_exit debug_exit;
    struct uart uart;
    struct pci_host pci_host;
    struct q35_mch mch;
    struct ich9_lpc lpc;
    struct port92 port92; /* fast A20 and fast reset at 0x92 */
    struct chipset chipset; /* APM, PM block, fw_cfg, interrupt controllers, timers, APIC bus */

    machine_poll_fn poll;
    void *poll_opaque;
    machine_event_fn on_event;
    void *event_opaque;
    enum machine_run_state run_state;

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
/* A system reset at the end of the current scheduler round, asked for by the
 * guest (0xCF9, triple fault). */
void machine_request_reset(struct machine *m);
/* The same, asked for by the monitor: QMP RESET says guest=false. */
void machine_request_host_reset(struct machine *m);
void machine_set_poll(struct machine *m, machine_poll_fn poll, void *opaque);
/* pmemsave: `size` bytes of guest-physical memory (the non-SMM view) from
 * `addr` into a new file; false and a message in err on failure. */
bool machine_save_physical(struct machine *m, uint64_t addr, uint64_t size, const char *path,
                           char *err, size_t err_size);
void machine_set_event_handler(struct machine *m, machine_event_fn fn, void *opaque);
void machine_emit(struct machine *m, const struct machine_event *ev);
/* stop / cont; each emits STOP / RESUME only when the state changes. */
void machine_stop(struct machine *m);
void machine_cont(struct machine *m);
/* Width of a topology field holding `count` values (QEMU's apicid_bitwidth_for_count). */
unsigned machine_bits_for(unsigned count);
/* Hooks a new CPU to the board (shutdown reporting). */
void machine_attach_cpu(struct machine *m, struct cpu *c);
/* The socket/core/thread position of slot k (platform.md §5.1). */
void machine_slot_topology(const struct machine_config *cfg, unsigned k, unsigned *socket,
                           unsigned *core, unsigned *thread);

/* ---- CPU hot-plug (cpu_plug.c; platform.md §5.5, §5.6) ---- */

enum plug_error_class {
    PLUG_GENERIC_ERROR,   /* QMP class GenericError */
    PLUG_DEVICE_NOT_FOUND /* QMP class DeviceNotFound */
};

struct plug_error {
    enum plug_error_class cls;
    char desc[256];
    char hint[160]; /* HMP prints it under the error; "" if none */
};

/* A device property as the monitor received it: QMP JSON values and HMP
 * "key=value" strings both become one of these. */
enum dev_prop_kind { DEV_PROP_STRING, DEV_PROP_INT, DEV_PROP_OTHER };
struct dev_prop {
    const char *name;
    enum dev_prop_kind kind;
    const char *str; /* DEV_PROP_STRING */
    int64_t num;     /* DEV_PROP_INT */
};

/* device_add of a CPU (or -device on the command line when cold): QEMU's
 * checks in QEMU's order; on refusal nothing changes and err is filled. */
bool machine_device_add(struct machine *m, const struct dev_prop *props, unsigned n, bool cold,
                        struct plug_error *err);
/* device_del ID|QOM-PATH: raises the remove event (platform.md §5.6, §5.7). */
bool machine_device_del(struct machine *m, const char *id, struct plug_error *err);
/* Registers a non-CPU device created on the command line, so its id is taken
 * (NULL: anonymous, it takes a peripheral-anon number); false on a duplicate id. */
bool machine_register_device(struct machine *m, const char *id);
/* Splits QEMU's "driver,key=value,key" option syntax (-device, HMP
 * device_add) in place: props[0] is the driver (name "driver"), a key
 * without '=' gets the value "on". Returns the count, or max + 1 if there
 * are more. */
unsigned dev_props_parse(char *opts, struct dev_prop *props, unsigned max);
/* The slot an ejected or present CPU occupies, by device id or QOM path; -1 if none. */
int machine_find_cpu_slot(const struct machine *m, const char *id_or_path);
/* Creates slot k's address space cpu-memory-k (smm = false) or cpu-smm-k, named by
 * cpu-index as QEMU does. */
void machine_create_cpu_space(struct machine *m, unsigned k, bool smm);
/* Creates the CPU of slot k at start-up (no insert event). */
void machine_create_boot_cpu(struct machine *m, unsigned k);
/* The 0x0CD8 block's eject (platform.md §5.5). */
void machine_eject_cpu(struct machine *m, unsigned k);
/* Frees the CPUs ejected while a CPU ran; called when none runs. */
void machine_free_doomed(struct machine *m);

#endif
