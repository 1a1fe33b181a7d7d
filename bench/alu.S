/*
 * alu.S - register ALU loop: 10 ALU instructions + DEC + JNZ = 12 instructions per
 * iteration, no memory access. Real mode uses 16-bit registers (32-bit counter EBP),
 * long mode 64-bit registers.
 */
#include "bench.h"
#define PER_ITER 12

    .text
    .code16
    .globl main16
main16:
    BENCH_ENTER
#if LONG_MODE
    movl $1, %eax
    movl $2, %ebx
    movl $3, %ecx
    movl $4, %edx
    movl $5, %esi
    movl $6, %edi
    movl $ITERATIONS, %ebp
    .balign 16
1:  addq %rbx, %rax
    adcq %rcx, %rdx
    xorq %rax, %rsi
    subq %rdx, %rdi
    andq $0x7FFFFFFF, %rbx
    orq %rsi, %rcx
    shlq $1, %rdx
    incq %rbx
    rolq $3, %rax
    negq %rsi
    decl %ebp
    jnz 1b
    addq %rsi, %rax
#else
    movw $1, %ax
    movw $2, %bx
    movw $3, %cx
    movw $4, %dx
    movw $5, %si
    movw $6, %di
    movl $ITERATIONS, %ebp
    .balign 16
1:  addw %bx, %ax
    adcw %cx, %dx
    xorw %ax, %si
    subw %dx, %di
    andw $0x7FFF, %bx
    orw %si, %cx
    shlw $1, %dx
    incw %bx
    rolw $3, %ax
    negw %si
    decl %ebp
    jnz 1b
    addw %si, %ax
    movzwl %ax, %eax
#endif
    BENCH_REPORT alu, PER_ITER
