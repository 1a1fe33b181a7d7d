/*
 * q35_tseg_ext0.S - extended TSEG switched off (q35_tseg_ext0.flags:
 * -global mch.extended-tseg-mbytes=0; platform.md §2.6, conformance tests 16 and 17).
 * 0x50 reads 0 at power-on, a query write of 0xFFFF stays 0xFFFF ("no extended TSEG"),
 * scratch survives a system reset, and TSEG_SZ = 11b gives no TSEG at all.
 */
#include "rom.h"
#include "q35_common.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: q35_tseg_ext0\n"
    Q35_BOOT

    .code32
phase0:
    SHOW 2, MCH, 0x50, "ext0.power_on"
    SETSHOW 2, MCH, 0x50, $0xFFFF, "ext0.query"
    SETSHOW 2, MCH, 0x50, $0x1234, "ext0.scratch"
    /* test 16: TSEG_SZ 11b with ext = 0 is no TSEG, even locked */
    SETSHOW 1, MCH, 0x9E, $0x3F, "ext0.esmramc"
    SETSHOW 1, MCH, 0x9D, $0x08, "ext0.smram"
    movb $0x77, 0x07FFFFFF
    MEMB "ext0.tolud_minus_1", 0x07FFFFFF
    SETSHOW 1, MCH, 0x9D, $0x18, "ext0.smram_locked"
    movb $0x78, 0x07FFFFFF
    MEMB "ext0.locked.tolud_minus_1", 0x07FFFFFF
    RESET_TO 1
phase1:
    SHOW 2, MCH, 0x50, "ext0.after_reset"
    SHOW 1, MCH, 0x9D, "ext0.after_reset.smram"
    PUTS32 "done\n"
    EXIT 0

    .section .rodata
    .balign 4
phase_table:
    .long phase0, phase1
