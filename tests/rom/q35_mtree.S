/*
 * q35_mtree.S - programs the register state of the §2.10 example (the firmware lock
 * sequence) and stops: ESMRAMC 0x3F (TSEG = extended-tseg-mbytes = 16 MiB), SMRAM 0x1A
 * (G_SMRAME, D_LCK), 0x9C query + lock, PAM1 = 0x31 (a read-only and a RAM segment).
 * In the ROM suite it prints the registers and exits; tests/mtree/run.sh starts it
 * without isa-debug-exit, so it halts in EXIT's HLT loop and the monitor's `info mtree`
 * output of smmvm and QEMU is compared in that state.
 */
#include "rom.h"
#include "q35_common.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: q35_mtree\n"
    RM_TO_PM32
    SETSHOW 1, MCH, 0x91, $0x31, "pam1"
    SETSHOW 2, MCH, 0x50, $0xFFFF, "ext_tseg"
    SETSHOW 1, MCH, 0x9C, $0xFF, "smbase.query"
    SETSHOW 1, MCH, 0x9E, $0x3F, "esmramc"
    SETSHOW 1, MCH, 0x9D, $0x1A, "smram"
    SETSHOW 1, MCH, 0x9C, $0x02, "smbase.lock"
    MEMB "window", 0x30000
    MEMB "tseg", 0x07000000
    PUTS32 "done\n"
    EXIT 0
