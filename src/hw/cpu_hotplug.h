/*
 * cpu_hotplug.h - QEMU's ACPI CPU hot-plug register block at I/O 0x0CD8:
 * the legacy presence bitmap, the one-way switch to modern mode, and the
 * modern selector/status/control/command/data registers (platform.md §5).
 *
 * The board owns the CPUs; the block asks it through the hooks whether a
 * slot is present and what its APIC ID is, and tells it to eject. The
 * board calls cpu_hotplug_insert()/cpu_hotplug_request_remove() for
 * device_add/device_del and gets GPE0 bit 2 raised through `gpe`.
 */
#ifndef SMMVM_HW_CPU_HOTPLUG_H
#define SMMVM_HW_CPU_HOTPLUG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct mem_system;
struct mem_region;

#define CPU_HOTPLUG_BASE 0x0CD8
#define CPU_HOTPLUG_LEGACY_SIZE 32
#define CPU_HOTPLUG_MODERN_SIZE 12
#define CPU_HOTPLUG_MAX_SLOTS 256

#define CPUHP_STS_ENABLED   0x01
#define CPUHP_STS_INSERT    0x02
#define CPUHP_STS_REMOVE    0x04
#define CPUHP_STS_FW_REMOVE 0x10
#define CPUHP_CTL_CLEAR_INSERT 0x02
#define CPUHP_CTL_CLEAR_REMOVE 0x04
#define CPUHP_CTL_EJECT        0x08
#define CPUHP_CTL_FW_REMOVE    0x10
#define CPUHP_CMD_GET_PENDING 0
#define CPUHP_CMD_OST_EVENT   1
#define CPUHP_CMD_OST_STATUS  2
#define CPUHP_CMD_GET_ARCH_ID 3

struct cpu_hotplug_hooks {
    bool (*present)(void *owner, unsigned slot);
    uint32_t (*arch_id)(void *owner, unsigned slot);
    void (*eject)(void *owner, unsigned slot);
    void (*gpe)(void *owner);                      /* raise GPE0 bit 2 */
    void (*ost)(void *owner, unsigned slot, uint32_t event, uint32_t status);
};

struct cpu_hotplug_slot {
    bool insert, remove, fw_remove;
    uint32_t ost_event, ost_status;
};

struct cpu_hotplug {
    struct mem_region *legacy, *modern;
    bool modern_mode;
    uint32_t selector;
    uint8_t command;
    unsigned n_slots; /* maxcpus */
    struct cpu_hotplug_slot slot[CPU_HOTPLUG_MAX_SLOTS];
    const struct cpu_hotplug_hooks *hooks;
    void *owner;
    FILE *log;
};

void cpu_hotplug_init(struct cpu_hotplug *hp, struct mem_system *sys, struct mem_region *io,
                      unsigned n_slots, const struct cpu_hotplug_hooks *hooks, void *owner,
                      FILE *log);
/* device_add: the board created the CPU in `slot`. */
void cpu_hotplug_insert(struct cpu_hotplug *hp, unsigned slot);
/* device_del accepted: the remove event is raised (the CPU stays until ejected). */
void cpu_hotplug_request_remove(struct cpu_hotplug *hp, unsigned slot);

#endif
