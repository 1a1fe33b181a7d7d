/*
 * hp_plug.S - one CPU hot-plugged into slot 2 and unplugged again, with the OS side of ACPI
 * CPU hot-plug played by this ROM (platform.md §3.1-3.4, §5, §6.8; tests 46-52).
 *
 * Runner script (run.py): after "ready: waiting for hot-plug" device_add cpu2 (core-id 2);
 * after "ready: waiting for unplug" device_del cpu2, then ACPI_DEVICE_OST (cpu2, source 0x103,
 * status 0) and DEVICE_DELETED cpu2; exit status 1.
 *
 * Slot 2 with slot 1 left empty mirrors the observed transcript of §5.5 (GET_PENDING has to
 * skip an empty slot; fw_remove 0x10 -> status 0x11 and GET_PENDING still finds the slot).
 * Register checks on the way:
 *   boot:   legacy bitmap and the switch (46); selector 4 (= maxcpus) reads 0 and ignores a
 *           command write (48); eject and fw_remove on slot 0 and on empty slot 1 do nothing
 *           and leave no event for GET_PENDING (51)
 *   plug:   selector 6 (slot 2 + maxcpus: an implementation that wraps the selector would hit
 *           slot 2) reads status 0 and its control write does not clear slot 2's insert (48);
 *           command 7 after command 3 is ignored (49, in hp_insert)
 *   unplug: clear remove, fw_remove, OST (52), eject; status 0 and the CPU counts drop
 */
#include "hp.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: hp_plug\n"
    RM_TO_PM32
    call idt32_init
    call hp_platform_init
    call hp_modern_init
    call hp_show_arch_ids
    call hp_show_slots

    /* test 48: selector 4 is past the last slot: status and CMD_DATA read 0, CMD_DATA2 too.
     * A command written while it is selected is ignored: slot 1 was left in command 1 (OST
     * event, CMD_DATA reads 0); had the command-0 write under selector 4 gone through, slot 1
     * would read CMD_DATA = 1 (its selector) afterwards. */
    movl $1, %eax
    call hp_select
    movl $CMD_OST_EVENT, %eax
    call hp_command
    movl $4, %eax
    call hp_select
    call hp_status
    KV32 "slot4.status", %eax, 2
    call hp_data
    KV32 "slot4.cmd_data", %eax
    call hp_data2
    KV32 "slot4.cmd_data2", %eax
    movl $CMD_GET_PENDING, %eax
    call hp_command
    movl $1, %eax
    call hp_select
    call hp_data
    KV32 "slot4.command_write_ignored", %eax

    /* test 51: eject and fw_remove are ignored for slot 0 (the boot CPU) and an empty slot */
    xorl %eax, %eax
    call hp_select
    movl $CTL_EJECT, %eax
    call hp_control
    call hp_status
    KV32 "slot0.after_eject", %eax, 2
    movl $CTL_FW_REMOVE, %eax
    call hp_control
    call hp_status
    KV32 "slot0.after_fw_remove", %eax, 2
    movl $1, %eax
    call hp_select
    movl $CTL_EJECT, %eax
    call hp_control
    call hp_status
    KV32 "slot1.after_eject", %eax, 2
    movl $CTL_FW_REMOVE, %eax
    call hp_control
    call hp_status
    KV32 "slot1.after_fw_remove", %eax, 2
    xorl %eax, %eax             /* nothing pending anywhere: the selector stays at 0 */
    call hp_select
    movl $CMD_GET_PENDING, %eax
    call hp_command
    call hp_data
    KV32 "pending.from0", %eax
    call hp_status
    KV32 "pending.status", %eax, 2

    call irq_init
    WAIT_SCI "waiting for hot-plug", cond_any_event

    /* test 48 with an event pending: selector 6 reads 0, and control 0x02 there must not
     * clear the insert bit of slot 2 */
    movl $6, %eax
    call hp_select
    call hp_status
    KV32 "slot6.status", %eax, 2
    movl $CTL_CLR_INSERT, %eax
    call hp_control
    movl $2, %eax
    call hp_select
    call hp_status
    KV32 "slot2.after_slot6_control", %eax, 2

    call hp_scan
    call hp_show_slots

    movl $1, HPV_FLAGS          /* the transcript's fw_remove step before the eject */
    WAIT_SCI "waiting for unplug", cond_any_event
    call hp_scan
    call hp_show_slots
    movl $2, %eax               /* the slot keeps its arch ID after the eject */
    call hp_select
    movl $CMD_GET_ARCH_ID, %eax
    call hp_command
    call hp_data
    KV32 "slot2.arch_id.after_eject", %eax
    PUTS32 "done\n"
    EXIT 0
