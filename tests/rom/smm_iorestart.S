/*
 * smm_iorestart.S - I/O instruction restart (cpu.md §4.7; AMD64 APM Vol. 2 "SMM I/O
 * Trapping", "I/O Instruction Restart"): an SMI raised by the CPU's own OUT to 0xB2 from
 * 32-bit protected mode. Two behaviours, two expected files:
 *
 *   hardware (expected/smm_iorestart.txt, smmvm default): entry fills FEA0-FEB8 with RIP,
 *     RCX, RSI, RDI as they were before the OUT and writes FEC8 = 0. The handler writes
 *     0xFF to FEC8 and a different RCX into the GPR part of the map; RSM reloads RIP, RCX,
 *     RSI, RDI from FEA0-FEB8, so the OUT executes again with the old RCX and raises a
 *     second SMI, whose handler leaves FEC8 alone: 2 entries, RCX as before the OUT.
 *   QEMU TCG (expected/smm_iorestart.tcg.txt, smmvm -machine q35,x-tcg-smm=on): FEA0-FEC9
 *     are neither written nor read: one entry, RCX = what the handler wrote. The I/O
 *     fields are printed only when they no longer hold the pattern planted before the SMI.
 * The FEC0 trap-information layout is not printed (only the behaviour it enables).
 */
#include "rom.h"
#include "smm_common.h"

#define LPC         0x8000F800
#define SMI_EN      0x630
#define STEP        (SMV_TEST + 0x00)
#define IOMAP       (DEFAULT_SMBASE + 0xFEA0)

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: smm_iorestart\n"
    RM_TO_PM32
    call idt32_init
    movl $DEFAULT_SMBASE, %edi
    call smm_install32
    SET_HOOK32 io_hook
    /* PMBASE 0x600, ACPI_EN, SMI_EN = GBL_SMI_EN | APMC_EN */
    movw $0xCF8, %dx
    movl $(LPC + 0x40), %eax
    outl %eax, %dx
    movw $0xCFC, %dx
    movl $0x601, %eax
    outl %eax, %dx
    movw $0xCF8, %dx
    movl $(LPC + 0x44), %eax
    outl %eax, %dx
    movw $0xCFC, %dx
    movb $0x80, %al
    outb %al, %dx
    movw $SMI_EN, %dx
    movl $0x21, %eax
    outl %eax, %dx
    /* plant a pattern over FEA0-FECF */
    movl $IOMAP, %edi
    movl $0xA5A5A5A5, %eax
    movl $12, %ecx
    cld
    rep stosl

    movl $1, STEP
    movl $0x0000C0C0, %ecx
    movl $0x0000515E, %esi
    movl $0x0000D1D1, %edi
    movb $0x42, %al
io_out:
    outb %al, $0xB2
    jmp .
    KV32 "io.entries", SMV_COUNT, 2
    KV32 "io.rcx_after_rsm", %ecx
    KV32 "io.rsi_after_rsm", %esi
    PUTS32 "done\n"
    EXIT 0

/* in SMM, EBX = SMBASE */
    .code16
io_hook:
    movl STEP, %eax
    cmpl $1, %eax
    jne 2f
    movl $2, STEP
    inb $0xB2, %al
    movzbl %al, %eax
    KV16 "io.first_entry.apm_cnt", %eax, 2
    cmpl $0xA5A5A5A5, 0xFEA0(%ebx)
    je 1f
    movl 0xFEA0(%ebx), %eax
    subl $io_out, %eax
    KV16 "io.map.restart_rip-at_out", %eax
    SSD "io.map.restart_rcx", 0xFEA8
    SSD "io.map.restart_rsi", 0xFEB0
    SSD "io.map.restart_rdi", 0xFEB8
    SSB "io.map.io_restart", SS_IO_RESTART
1:  movb $0xFF, SS_IO_RESTART(%ebx)
    movl $0xBAD, SS_GPR(1)(%ebx)
    ret
2:  PUTS16 "io.second_entry\n"
    SSB "io.second_entry.map.io_restart", SS_IO_RESTART
    movl SS_GPR(1)(%ebx), %eax
    KV16 "io.second_entry.map.rcx", %eax
    ret
