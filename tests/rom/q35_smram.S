/*
 * q35_smram.S - MCH SMRAM 0x9D and ESMRAMC 0x9E through PCI config space (platform.md
 * §2.3, §2.4; conformance tests 1-4, 12-14, 19 and 24; QEMU's /q35/smram/lock).
 *
 * Phase 0 (power-on): reset values; a dword write 0x003802FF at 0x9C is a pure query;
 * D_OPEN clear/set; D_OPEN with H_SMRAME exposing the A segment at 0xFEDA0000; ESMRAMC
 * 0xFF -> 0xBF; D_LCK via 0x52 -> 0x12 (D_OPEN forced off) and the frozen registers;
 * system reset through 0xCF9.
 * Phase 1 (after reset): the lock is gone; 0xFF -> 0x3A and the locked sequence
 * 0x4A -> 0x1A, 0x22 -> 0x3A, 0x00 -> 0x1A.
 * Every value is what QEMU 7.2 (q35, -nodefaults) prints; there is no VGA, so the
 * A segment is RAM for non-SMM code whatever D_OPEN says (§2.9, "No-VGA caveat").
 */
#include "rom.h"
#include "q35_common.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: q35_smram\n"
    Q35_BOOT

    .code32
phase0:
    /* test 12: power-on values */
    SHOW 1, MCH, 0x9C, "po.9c"
    SHOW 1, MCH, 0x9D, "po.smram"
    SHOW 1, MCH, 0x9E, "po.esmramc"
    SHOW 2, MCH, 0x50, "po.ext_tseg"
    SHOW 4, MCH, 0x60, "po.pciexbar_lo"
    SHOW 4, MCH, 0x64, "po.pciexbar_hi"
    /* test 19: dword 0x003802FF at 0x9C queries 0x9C only */
    CFGWR 4, MCH, 0x9C, $0x003802FF
    SHOW 4, MCH, 0x9C, "dword_query.9c_9f"
    /* test 1: D_OPEN clear and set */
    SETSHOW 1, MCH, 0x9D, $0x02, "smram.write_02"
    SETSHOW 1, MCH, 0x9D, $0x42, "smram.write_42"
    /* test 24: D_OPEN = 1, H_SMRAME = 0: RAM at 0xA0000 (no VGA: RAM anyway) */
    movl $0x11223344, 0xA0000
    movl 0xA0000, %eax
    KV32 "aseg.open_low", %eax
    /* D_OPEN = 1 with H_SMRAME = 1: the same RAM at 0xFEDA0000 instead */
    SETSHOW 1, MCH, 0x9E, $0xB8, "esmramc.h_smrame"
    movl 0xFEDA0000, %eax
    KV32 "aseg.open_high_read", %eax
    movl $0x55667788, 0xFEDA0004
    movl 0xA0004, %eax
    KV32 "aseg.open_high_write_at_a0004", %eax
    SETSHOW 1, MCH, 0x9D, $0x02, "smram.close"
    SETSHOW 1, MCH, 0x9E, $0x38, "esmramc.back"
    movl 0xA0000, %eax
    KV32 "aseg.closed_low", %eax
    /* test 14, before the lock: 0xFF reads 0xBF */
    SETSHOW 1, MCH, 0x9E, $0xFF, "esmramc.write_ff"
    /* test 2, 3: D_LCK with D_OPEN -> 0x12; again -> 0x12 */
    SETSHOW 1, MCH, 0x9D, $0x52, "smram.lock_52"
    SETSHOW 1, MCH, 0x9D, $0x52, "smram.lock_52_again"
    /* locked: only D_CLS moves */
    SETSHOW 1, MCH, 0x9D, $0x4A, "locked.write_4a"
    SETSHOW 1, MCH, 0x9D, $0x22, "locked.write_22"
    SETSHOW 1, MCH, 0x9D, $0x00, "locked.write_00"
    /* test 14, after the lock: ESMRAMC frozen (T_EN and H_SMRAME included) */
    SETSHOW 1, MCH, 0x9E, $0x00, "locked.esmramc_write_00"
    SETSHOW 1, MCH, 0x9E, $0x38, "locked.esmramc_write_38"
    /* D_LCK cannot be cleared by a wide write either */
    CFGWR 4, MCH, 0x9C, $0x00000000
    SHOW 4, MCH, 0x9C, "locked.dword_00_at_9c"
    RESET_TO 1

phase1:
    /* test 4: system reset lifts the lock */
    SHOW 1, MCH, 0x9D, "reset.smram"
    SHOW 1, MCH, 0x9E, "reset.esmramc"
    SHOW 1, MCH, 0x9C, "reset.9c"
    SETSHOW 1, MCH, 0x9D, $0x02, "reset.write_02"
    SETSHOW 1, MCH, 0x9D, $0x42, "reset.write_42"
    /* test 13 */
    SETSHOW 1, MCH, 0x9D, $0xFF, "smram.write_ff"
    SETSHOW 1, MCH, 0x9D, $0x4A, "smram.then_4a"
    SETSHOW 1, MCH, 0x9D, $0x22, "smram.then_22"
    SETSHOW 1, MCH, 0x9D, $0x00, "smram.then_00"
    SHOW 1, MCH, 0x9E, "smram.esmramc_after"
    RESET_TO 2

phase2:
    /* a misaligned word at 0xCFD is an invalid access: reads 0, the write is dropped */
    CFGWR 2, MCH, 0x9D, $0x3918
    SHOW 2, MCH, 0x9D, "misaligned_word.9d"
    SHOW 1, MCH, 0x9D, "misaligned_word.smram"
    /* one dword access that locks and changes ESMRAMC: masks are taken before the
     * access, so ESMRAMC changes first, then everything freezes (§2.3) */
    CFGWR 4, MCH, 0x9C, $0x00391800
    SHOW 4, MCH, 0x9C, "dword_lock.9c_9f"
    SETSHOW 1, MCH, 0x9E, $0x38, "dword_lock.esmramc_frozen"
    PUTS32 "done\n"
    EXIT 0

    .section .rodata
    .balign 4
phase_table:
    .long phase0, phase1, phase2
