/*
 * mixed.S - calls and branches: per iteration
 *   CALL f, f: ADD, CMP, RET                       4
 *   TEST, Jcc (alternates taken / not taken),
 *     not taken: INC, JMP     taken: DEC, NOP      4
 *   CALL g, g: JMP, XOR, RET                       4
 *   DEC, JNZ                                       2
 * = 14 instructions per iteration on either path.
 */
#include "bench.h"
#define PER_ITER 14

    .text
    .code16
    .globl main16
main16:
    BENCH_ENTER
#if LONG_MODE
    movl $1, %eax
    movl $3, %ebx
    movl $5, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    movl $ITERATIONS, %ebp
    .balign 16
1:  call f64
    testl $1, %ebp
    jz 2f
    incq %rdx
    jmp 3f
2:  decq %rdx
    nop
3:  call g64
    decl %ebp
    jnz 1b
    addq %rsi, %rax
    addq %rdx, %rax
    BENCH_REPORT mixed, PER_ITER
    .balign 16
f64: addq %rbx, %rax
    cmpq %rcx, %rax
    ret
g64: jmp 4f
4:  xorq %rax, %rsi
    ret
#else
    movw $1, %ax
    movw $3, %bx
    movw $5, %cx
    xorw %dx, %dx
    xorw %si, %si
    movl $ITERATIONS, %ebp
    .balign 16
1:  call f16
    testw $1, %bp
    jz 2f
    incw %dx
    jmp 3f
2:  decw %dx
    nop
3:  call g16
    decl %ebp
    jnz 1b
    addw %si, %ax
    addw %dx, %ax
    movzwl %ax, %eax
    BENCH_REPORT mixed, PER_ITER
    .balign 16
f16: addw %bx, %ax
    cmpw %cx, %ax
    ret
g16: jmp 4f
4:  xorw %ax, %si
    ret
#endif
