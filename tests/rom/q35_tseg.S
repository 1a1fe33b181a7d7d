/*
 * q35_tseg.S - TSEG sizes and placement, extended TSEG 0x50 (platform.md §2.5, §2.6;
 * conformance tests 5, 15 and 17 with the default extended-tseg-mbytes=16; QEMU's
 * /q35/tseg-size/1mb, /2mb, /8mb and /ext/16mb). -m 128, so TOLUD = 0x08000000.
 *
 * Phases 0-3, one per size (ESMRAMC 0x39/0x3B/0x3D/0x3F = 1/2/8/16 MiB): write ESMRAMC,
 * SMRAM 0x2A, SMRAM 0x3A (locks); the byte below TSEG is RAM, the first TSEG byte is a
 * black hole (reads 0xFF, writes lost). A system reset between sizes lifts the lock.
 * Phase 4: TSEG stays RAM while G_SMRAME = 0 (test 15); the 0x50 query protocol.
 * Phase 5: 0x50 returns to ext after reset even when scratch was written.
 */
#include "rom.h"
#include "q35_common.h"

.macro TSEG_CASE esmramc, mib
    SETSHOW 1, MCH, 0x9E, $\esmramc, "tseg\mib\().esmramc"
    SETSHOW 1, MCH, 0x9D, $0x2A, "tseg\mib\().smram_2a"
    SETSHOW 1, MCH, 0x9D, $0x3A, "tseg\mib\().smram_3a"
    movl $((128 - \mib) * 0x100000 - 1), %esi
    movzbl (%esi), %eax
    KV32 "tseg\mib\().below.read", %eax, 2
    movb $1, (%esi)
    movzbl (%esi), %eax
    KV32 "tseg\mib\().below.after_write", %eax, 2
    movzbl 1(%esi), %eax
    KV32 "tseg\mib\().first.read", %eax, 2
    movb $1, 1(%esi)
    movzbl 1(%esi), %eax
    KV32 "tseg\mib\().first.after_write", %eax, 2
    movl 0x07FFFFFC, %eax
    KV32 "tseg\mib\().last_dword", %eax
    /* locked: ESMRAMC can no longer turn TSEG off */
    SETSHOW 1, MCH, 0x9E, $0x38, "tseg\mib\().esmramc_locked"
    movzbl 1(%esi), %eax
    KV32 "tseg\mib\().first.still_hole", %eax, 2
.endm

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: q35_tseg\n"
    Q35_BOOT

    .code32
phase0:
    TSEG_CASE 0x39, 1
    RESET_TO 1
phase1:
    TSEG_CASE 0x3B, 2
    RESET_TO 2
phase2:
    TSEG_CASE 0x3D, 8
    RESET_TO 3
phase3:
    TSEG_CASE 0x3F, 16
    RESET_TO 4
phase4:
    /* the 1 MiB hole written in phase 0 lost its write: RAM still 0 after reset */
    MEMB "after_reset.tseg1_first", 0x07F00000
    MEMB "after_reset.tseg1_below", 0x07EFFFFF
    /* test 15: T_EN without G_SMRAME: no TSEG */
    SETSHOW 1, MCH, 0x9E, $0x39, "no_g_smrame.esmramc"
    SETSHOW 1, MCH, 0x9D, $0x00, "no_g_smrame.smram"
    movb $0x5C, 0x07FFFFFF
    MEMB "no_g_smrame.tolud_minus_1", 0x07FFFFFF
    /* G_SMRAME without T_EN: no TSEG either */
    SETSHOW 1, MCH, 0x9E, $0x38, "no_t_en.esmramc"
    SETSHOW 1, MCH, 0x9D, $0x08, "no_t_en.smram"
    MEMB "no_t_en.tolud_minus_1", 0x07FFFFFF
    /* ... and then T_EN: the hole appears without any lock */
    SETSHOW 1, MCH, 0x9E, $0x39, "t_en.esmramc"
    MEMB "t_en.tolud_minus_1", 0x07FFFFFF
    SETSHOW 1, MCH, 0x9E, $0x38, "t_en_off.esmramc"
    MEMB "t_en_off.tolud_minus_1", 0x07FFFFFF
    /* test 17: 0x50 */
    SHOW 2, MCH, 0x50, "ext.power_on"
    SETSHOW 2, MCH, 0x50, $0xFFFF, "ext.query"
    SETSHOW 2, MCH, 0x50, $0x1234, "ext.scratch"
    SETSHOW 1, MCH, 0x50, $0xFF, "ext.byte_ff_at_50"
    SHOW 2, MCH, 0x50, "ext.word_after_byte_50"
    SETSHOW 1, MCH, 0x51, $0xFF, "ext.byte_ff_at_51"
    SHOW 2, MCH, 0x50, "ext.word_after_byte_51"
    CFGWR 4, MCH, 0x50, $0x0000FFFF
    SHOW 4, MCH, 0x50, "ext.dword_query"
    SETSHOW 2, MCH, 0x50, $0x1234, "ext.scratch_before_reset"
    RESET_TO 5
phase5:
    SHOW 2, MCH, 0x50, "ext.after_reset"
    PUTS32 "done\n"
    EXIT 0

    .section .rodata
    .balign 4
phase_table:
    .long phase0, phase1, phase2, phase3, phase4, phase5
