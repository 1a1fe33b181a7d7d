/*
 * smi.S - SMI+RSM round trip: an APM SMI (OUT to 0xB2 with SMI_EN.APMC_EN)
 * whose handler at the default SMBASE entry 0x38000 is a bare RSM, in real
 * mode and in 64-bit long mode (cpu.md §6 "Benchmark"). No negotiation, so
 * the SMI goes to the writing CPU only.
 *
 * Per iteration: OUT, DEC, JNZ in the loop and the RSM in SMM = 4 instructions
 * (the SMI entry itself retires none).
 */
#include "bench.h"
#define PER_ITER 4

    .text
    .code16
    .globl main16
main16:
    /* ICH9 LPC 00:1F.0: PMBASE 0x40 := 0x601, ACPI_CTRL 0x44 := ACPI_EN. */
    movl $0x8000F840, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movl $0x601, %eax
    movw $0xCFC, %dx
    outl %eax, %dx
    movl $0x8000F844, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movb $0x80, %al
    movw $0xCFC, %dx
    outb %al, %dx
    /* SMI_EN (PMBASE + 0x30) := APMC_EN, a 32-bit write. */
    movl $0x20, %eax
    movw $0x630, %dx
    outl %eax, %dx
    /* The handler: RSM (0F AA) at 0x38000. */
    movw $0x3800, %ax
    movw %ax, %es
    movw $0xAA0F, %es:0
    xorw %ax, %ax
    movw %ax, %es
    BENCH_ENTER
    movl $ITERATIONS, %ebp
    xorl %eax, %eax
    .balign 16
1:  outb %al, $0xB2
    decl %ebp
    jnz 1b
    xorl %eax, %eax
    BENCH_REPORT smi, PER_ITER
