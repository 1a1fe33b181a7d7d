/*
 * cpu_hotplug.c - the 0x0CD8 block. Contract: platform.md §5.2-5.5, §5.9.
 *
 * Modern-mode dispatch is on the exact starting offset of the access:
 *   read  0  CMD_DATA2: arch ID bits 63:32 (0) for GET_ARCH_ID, else 0
 *   read  4  status: enabled, insert, remove, fw_remove
 *   read  8  CMD_DATA: selector (GET_PENDING), APIC ID (GET_ARCH_ID), else 0
 *   write 0  selector, stored as written
 *   write 4  control: the first set bit of 1, 2, 3, 4 acts
 *   write 5  command 0-3 (larger values ignored; GET_PENDING searches at once)
 *   write 8  CMD_DATA: OST event / OST status
 * With the selector out of range every read is 0 and only offset 0 accepts writes.
 * Nothing here is reset: the mode, selector, command and events survive
 * system reset and S3 (§5.9).
 */
#include "hw/cpu_hotplug.h"

#include "mem/memory.h"

static bool slot_present(const struct cpu_hotplug *hp, unsigned s)
{
    return s < hp->n_slots && hp->hooks->present(hp->owner, s);
}

static uint64_t legacy_read(void *opaque, uint64_t off, unsigned size)
{
    const struct cpu_hotplug *hp = opaque;
    (void)size;
    uint8_t v = 0;
    for (unsigned b = 0; b < 8; b++) {
        unsigned apic = (unsigned)off * 8 + b;
        for (unsigned s = 0; s < hp->n_slots; s++)
            if (slot_present(hp, s) && hp->hooks->arch_id(hp->owner, s) == apic)
                v |= (uint8_t)(1u << b);
    }
    return v;
}

static void set_mode(struct cpu_hotplug *hp, bool modern)
{
    hp->modern_mode = modern;
    mem_region_set_enabled(hp->legacy, !modern);
    mem_region_set_enabled(hp->modern, modern);
}

static void legacy_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    struct cpu_hotplug *hp = opaque;
    (void)size;
    /* mem splits wider writes into bytes: only offset 0 matters, and only
     * value 0 there switches (a wider write of 0 gives a 0 byte at 0 too). */
    if (off == 0 && (value & 0xFF) == 0)
        set_mode(hp, true);
}

static const struct mem_ops legacy_ops = {
    .name = "acpi-cpu-hotplug",
    .read = legacy_read,
    .write = legacy_write,
    .min_access = 1,
    .max_access = 1,
};

static bool selected(const struct cpu_hotplug *hp)
{
    return hp->selector < hp->n_slots;
}

static uint64_t modern_read(void *opaque, uint64_t off, unsigned size)
{
    const struct cpu_hotplug *hp = opaque;
    (void)size;
    if (!selected(hp))
        return 0;
    unsigned s = hp->selector;
    const struct cpu_hotplug_slot *sl = &hp->slot[s];
    switch (off) {
    case 0:
        return 0; /* arch IDs fit in 32 bits on x86 */
    case 4:
        return (slot_present(hp, s) ? CPUHP_STS_ENABLED : 0) | (sl->insert ? CPUHP_STS_INSERT : 0) |
               (sl->remove ? CPUHP_STS_REMOVE : 0) | (sl->fw_remove ? CPUHP_STS_FW_REMOVE : 0);
    case 8:
        if (hp->command == CPUHP_CMD_GET_PENDING)
            return hp->selector;
        if (hp->command == CPUHP_CMD_GET_ARCH_ID) /* every possible slot has one (§5.3) */
            return hp->hooks->arch_id(hp->owner, s);
        return 0;
    default:
        return 0;
    }
}

static void get_pending(struct cpu_hotplug *hp)
{
    for (unsigned k = 0; k < hp->n_slots; k++) {
        unsigned s = (hp->selector + k) % hp->n_slots;
        const struct cpu_hotplug_slot *sl = &hp->slot[s];
        if (sl->insert || sl->remove || sl->fw_remove) {
            hp->selector = s;
            return;
        }
    }
}

static void control_write(struct cpu_hotplug *hp, uint8_t v)
{
    unsigned s = hp->selector;
    struct cpu_hotplug_slot *sl = &hp->slot[s];
    if (v & CPUHP_CTL_CLEAR_INSERT) {
        sl->insert = false;
    } else if (v & CPUHP_CTL_CLEAR_REMOVE) {
        sl->remove = false;
    } else if (v & CPUHP_CTL_EJECT) {
        if (s != 0 && slot_present(hp, s)) {
            sl->fw_remove = false;
            hp->hooks->eject(hp->owner, s);
        }
    } else if (v & CPUHP_CTL_FW_REMOVE) {
        if (s != 0 && slot_present(hp, s))
            sl->fw_remove = true;
    }
}

static void modern_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    struct cpu_hotplug *hp = opaque;
    (void)size;
    if (off == 0) {
        hp->selector = (uint32_t)value;
        return;
    }
    if (!selected(hp))
        return;
    switch (off) {
    case 4:
        control_write(hp, (uint8_t)value);
        return;
    case 5:
        if ((value & 0xFF) >= 4)
            return; /* unknown commands are ignored; the previous one stays */
        hp->command = (uint8_t)value;
        if (hp->command == CPUHP_CMD_GET_PENDING)
            get_pending(hp);
        return;
    case 8:
        if (hp->command == CPUHP_CMD_OST_EVENT) {
            hp->slot[hp->selector].ost_event = (uint32_t)value;
        } else if (hp->command == CPUHP_CMD_OST_STATUS) {
            hp->slot[hp->selector].ost_status = (uint32_t)value;
            if (hp->hooks->ost)
                hp->hooks->ost(hp->owner, hp->selector, hp->slot[hp->selector].ost_event,
                               (uint32_t)value);
        }
        return;
    default:
        return;
    }
}

static const struct mem_ops modern_ops = {
    .name = "acpi-cpu-hotplug",
    .read = modern_read,
    .write = modern_write,
    .min_access = 1,
    .max_access = 4,
};

void cpu_hotplug_init(struct cpu_hotplug *hp, struct mem_system *sys, struct mem_region *io,
                      unsigned n_slots, const struct cpu_hotplug_hooks *hooks, void *owner,
                      FILE *log)
{
    *hp = (struct cpu_hotplug){ .n_slots = n_slots > CPU_HOTPLUG_MAX_SLOTS ? CPU_HOTPLUG_MAX_SLOTS
                                                                           : n_slots,
                                .hooks = hooks, .owner = owner, .log = log };
    hp->legacy = mem_region_mmio(sys, "acpi-cpu-hotplug", CPU_HOTPLUG_LEGACY_SIZE, &legacy_ops, hp);
    hp->modern = mem_region_mmio(sys, "acpi-cpu-hotplug", CPU_HOTPLUG_MODERN_SIZE, &modern_ops, hp);
    mem_region_add(io, hp->legacy, CPU_HOTPLUG_BASE, 0);
    mem_region_add(io, hp->modern, CPU_HOTPLUG_BASE, 0);
    set_mode(hp, false);
}

void cpu_hotplug_insert(struct cpu_hotplug *hp, unsigned slot)
{
    if (slot >= hp->n_slots)
        return;
    hp->slot[slot].insert = true;
    /* The legacy bitmap has no bit for an APIC ID >= 256 (platform.md §5.2). */
    if (!hp->modern_mode && hp->hooks->arch_id(hp->owner, slot) >= 256)
        set_mode(hp, true);
    hp->hooks->gpe(hp->owner);
}

void cpu_hotplug_request_remove(struct cpu_hotplug *hp, unsigned slot)
{
    if (slot >= hp->n_slots)
        return;
    hp->slot[slot].remove = true;
    hp->hooks->gpe(hp->owner);
}
