/*
 * hp_multi.S - three CPUs hot-plugged into slots 1-3, two of them while the first one's
 * insert event is still pending, all started; then the middle one (slot 2) unplugged and
 * ejected while its neighbours stay (platform.md §5.3-5.5, §5.7, §6.8; tests 48-52).
 *
 * Runner script (run.py): after "ready: waiting for hot-plug of slots 1 and 2" device_add cpu1
 * and device_add cpu2 back to back; after "ready: waiting for hot-plug of slot 3" device_add
 * cpu3; after "ready: waiting for unplug of slot 2" device_del cpu2, then ACPI_DEVICE_OST and
 * DEVICE_DELETED for cpu2; exit status 1.
 *
 * The first wait ends only when both slot 1 and slot 2 show an insert event, so the second
 * device_add always lands while slot 1's insert is pending (the ROM never clears an insert
 * before both are there), however the two SCIs fall: one SCI for both or one each, the output
 * is the same. One GET_PENDING pass then finds slot 1 and slot 2 in order.
 *
 * The inserts are acknowledged three ways (test 50): slot 1 with the plain control byte 0x02;
 * slot 2 with 0x0A (clear-insert and eject both set: only the first set bit acts, so the CPU
 * must stay, and it is started and runs afterwards); slot 3 with a 16-bit write 0x0302 at
 * offset 4 (a control write only: insert cleared, the command byte, left at 1, unchanged).
 */
#include "hp.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: hp_multi\n"
    RM_TO_PM32
    call idt32_init
    call hp_platform_init
    call hp_modern_init
    call hp_show_slots
    call irq_init
    movl $(CTL_CLR_INSERT | CTL_EJECT), HPV_CLR(2)
    movl $0x0302, HPV_CLR(3)

    WAIT_SCI "waiting for hot-plug of slots 1 and 2", cond_slots12
    call hp_scan
    call hp_show_slots

    WAIT_SCI "waiting for hot-plug of slot 3", cond_any_event
    call hp_scan
    call hp_show_slots

    WAIT_SCI "waiting for unplug of slot 2", cond_any_event
    call hp_scan
    call hp_show_slots
    PUTS32 "done\n"
    EXIT 0

/* cond_slots12: both slot 1 and slot 2 have their insert event (EAX != 0) */
cond_slots12:
    pushl %ebx
    movl $1, %eax
    call hp_select
    call hp_status
    movl %eax, %ebx
    movl $2, %eax
    call hp_select
    call hp_status
    andl %ebx, %eax
    andl $ST_INSERT, %eax
    popl %ebx
    ret
