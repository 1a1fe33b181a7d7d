/*
 * hp_replug.S - a CPU plugged into slot 2, run, unplugged and ejected, then plugged into the
 * same slot again and run again (platform.md §5.5, §5.9, §6.8).
 *
 * Runner script (run.py): after "ready: waiting for hot-plug" device_add cpu2; after "ready:
 * waiting for unplug" device_del cpu2 (ACPI_DEVICE_OST, DEVICE_DELETED); after "ready: waiting
 * for re-plug" device_add cpu2 again; exit status 1.
 *
 * QEMU 7.2 aborts on the second device_add ("free(): invalid pointer"): the ejected CPU
 * object is never finalized. Its output up to "ready: waiting for re-plug" is the reference;
 * the rest of expected/hp_replug.txt is written from the specification: the eject leaves
 * insert and remove as the OS left them (both cleared) and fw_remove clear, so the new CPU
 * shows exactly the events of a first plug (status 0x03), gets the same APIC ID from the
 * slot, starts from wait-for-SIPI like any hot-added CPU (§6.8: IA32_APIC_BASE without the
 * BSP flag, the same computed value) and brings the counts back to two CPUs.
 */
#include "hp.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: hp_replug\n"
    RM_TO_PM32
    call idt32_init
    call hp_platform_init
    call hp_modern_init
    call hp_show_slots
    call irq_init

    WAIT_SCI "waiting for hot-plug", cond_any_event
    call hp_scan
    call hp_show_slots

    WAIT_SCI "waiting for unplug", cond_any_event
    call hp_scan
    call hp_show_slots

    WAIT_SCI "waiting for re-plug", cond_any_event
    call hp_scan
    call hp_show_slots
    PUTS32 "done\n"
    EXIT 0
