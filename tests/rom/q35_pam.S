/*
 * q35_pam.S - PAM0-PAM6 (MCH 0x90-0x96; platform.md §1.8, conformance tests 22 and 23).
 *
 * Phase 0: power-on values; all eight bits stored; the four fields on the 0xC0000
 * segment (0 PCI: the read-only pc.rom, 1 read RAM/write lost, 2 and 3 RAM) and the
 * upper half (bits 5:4) on 0xC4000; wide writes over several PAM bytes. Then the BIOS
 * is shadowed: PAM 0x33 everywhere and a copy of this ROM at 0xF0000, so the next boot,
 * which runs from 0xF0000 through PAM0, finds the same code in RAM.
 * Phase 1 (after a system reset): PAM is not reset (QEMU quirk), the segments are
 * still RAM, and we booted from the shadow copy.
 * The code runs at 0xFFFF0000 in protected mode, so PAM changes never move it.
 */
#include "rom.h"
#include "q35_common.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: q35_pam\n"
    Q35_BOOT

    .code32
phase0:
    SHOW 4, MCH, 0x90, "po.pam0_3"
    SHOW 4, MCH, 0x94, "po.pam4_6"
    /* field 3 on 0xC0000: RAM read/write */
    SETSHOW 1, MCH, 0x91, $0x03, "c0000.field3"
    movl $0x5A5A1234, 0xC0000
    movl 0xC0000, %eax
    KV32 "c0000.field3.read", %eax
    /* field 1: reads RAM, writes lost */
    SETSHOW 1, MCH, 0x91, $0x01, "c0000.field1"
    movl $0xA5A5A5A5, 0xC0000
    movl 0xC0000, %eax
    KV32 "c0000.field1.read", %eax
    /* field 0: PCI space (the read-only option-ROM area pc.rom) */
    SETSHOW 1, MCH, 0x91, $0x00, "c0000.field0"
    movl 0xC0000, %eax
    KV32 "c0000.field0.read", %eax
    movl $0x77777777, 0xC0000
    movl 0xC0000, %eax
    KV32 "c0000.field0.after_write", %eax
    /* field 2: RAM read/write in QEMU's approximation */
    SETSHOW 1, MCH, 0x91, $0x02, "c0000.field2"
    movl 0xC0000, %eax
    KV32 "c0000.field2.read", %eax
    movl $0x22222222, 0xC0000
    movl 0xC0000, %eax
    KV32 "c0000.field2.after_write", %eax
    SETSHOW 1, MCH, 0x91, $0x03, "c0000.field3_again"
    movl 0xC0000, %eax
    KV32 "c0000.field3_again.read", %eax
    /* the upper half of PAM1 (bits 5:4) is 0xC4000; bits 7:6 and 3:2 are stored */
    SETSHOW 1, MCH, 0x91, $0xF0, "c4000.upper_only"
    movl $0x44444444, 0xC4000
    movl 0xC4000, %eax
    KV32 "c4000.read", %eax
    movl 0xC0000, %eax
    KV32 "c4000.c0000_is_pci", %eax
    SETSHOW 1, MCH, 0x91, $0xFF, "pam1.all_bits"
    /* PAM6 upper half is 0xEC000 */
    SETSHOW 1, MCH, 0x96, $0x30, "ec000.field3"
    movl $0x66666666, 0xEC000
    movl 0xEC000, %eax
    KV32 "ec000.read", %eax
    /* a dword write spans PAM0-PAM3, a word PAM5-6 */
    CFGWR 4, MCH, 0x90, $0x11111111
    SHOW 4, MCH, 0x90, "wide.pam0_3"
    CFGWR 2, MCH, 0x94, $0x2222
    SHOW 4, MCH, 0x94, "wide.pam4_7"
    /* shadow the BIOS and make everything RAM */
    CFGWR 4, MCH, 0x90, $0x33333333
    CFGWR 4, MCH, 0x94, $0x00333333
    cld
    movl $0xFFFF0000, %esi
    movl $0xF0000, %edi
    movl $0x4000, %ecx
    rep movsl
    movl 0xFFFF0000, %eax
    cmpl 0xF0000, %eax
    sete %al
    movzbl %al, %eax
    KV32 "shadow.copied", %eax, 2
    RESET_TO 1

phase1:
    /* test 22: PAM survives the reset */
    SHOW 4, MCH, 0x90, "reset.pam0_3"
    SHOW 4, MCH, 0x94, "reset.pam4_6"
    movl 0xC0000, %eax
    KV32 "reset.c0000", %eax
    movl 0xC4000, %eax
    KV32 "reset.c4000", %eax
    /* the shadow is RAM: writable now, the ROM at 4 GiB - 64 KiB is not */
    movl $0x0BADC0DE, 0xF0000 + 0xFF00
    movl 0xF0000 + 0xFF00, %eax
    KV32 "reset.shadow_writable", %eax
    movl 0xFFFFFF00, %eax
    KV32 "reset.rom_unchanged", %eax
    /* back to the ROM below 1 MiB */
    SETSHOW 1, MCH, 0x90, $0x00, "pam0.to_pci"
    movl 0xF0000 + 0xFF00, %eax
    KV32 "pam0.pci.read", %eax
    PUTS32 "done\n"
    EXIT 0

    .section .rodata
    .balign 4
phase_table:
    .long phase0, phase1
