/*
 * q35_smbase_off.S - 0x9C with the feature off (q35_smbase_off.flags:
 * -global mch.smbase-smram=off; platform.md §2.7 "Feature off", conformance test 11;
 * QEMU's /q35/smram/legacy_smbase). 0x9C is a plain byte: every value reads back,
 * including the query 0xFF (how firmware detects the absence), and the window at
 * 0x30000 stays RAM. System reset sets the byte to 0.
 */
#include "rom.h"
#include "q35_common.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: q35_smbase_off\n"
    Q35_BOOT

    .code32
phase0:
    SHOW 1, MCH, 0x9C, "off.power_on"
    movb $0x32, 0x30000
    MEMB "off.window", 0x30000
    xorl %ecx, %ecx
    xorl %edi, %edi             /* count of i not reading back as i */
1:  CFGWR 1, MCH, 0x9C, %ecx
    CFGRD 1, MCH, 0x9C
    cmpl %ecx, %eax
    je 2f
    incl %edi
2:  incl %ecx
    cmpl $0x100, %ecx
    jne 1b
    KV32 "off.values_not_reading_back", %edi
    SETSHOW 1, MCH, 0x9C, $0xFF, "off.query"
    SETSHOW 1, MCH, 0x9C, $0x02, "off.lock_value"
    movb $0x33, 0x30000
    MEMB "off.window_after_lock_value", 0x30000
    SHOW 1, MCH, 0x9D, "off.smram"
    RESET_TO 1
phase1:
    SHOW 1, MCH, 0x9C, "off.after_reset"
    MEMB "off.after_reset.window", 0x30000
    PUTS32 "done\n"
    EXIT 0

    .section .rodata
    .balign 4
phase_table:
    .long phase0, phase1
