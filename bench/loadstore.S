/*
 * loadstore.S - load/store loop: 8 memory instructions (4 loads, 3 stores, 1 load-op-store)
 * + ADD (pointer) + AND (wrap) + DEC + JNZ = 12 instructions per iteration. The pointer
 * walks a 4 KiB buffer in 16-byte steps (SCRATCH16 in real mode, SCRATCH in long mode).
 */
#include "bench.h"
#define PER_ITER 12

    .text
    .code16
    .globl main16
main16:
    BENCH_ENTER
#if LONG_MODE
    xorl %eax, %eax
    movl $7, %ecx
    xorl %esi, %esi
    movl $SCRATCH, %ebx
    movl $ITERATIONS, %ebp
    .balign 16
1:  movq (%rbx,%rsi), %rax
    movq %rax, 8(%rbx,%rsi)
    movq 16(%rbx,%rsi), %rdx
    addq %rcx, 24(%rbx,%rsi)
    movq %rdx, 32(%rbx,%rsi)
    movq 40(%rbx,%rsi), %rdi
    movq %rdi, 48(%rbx,%rsi)
    movq 24(%rbx,%rsi), %rax
    addq $16, %rsi
    andq $0xFFF, %rsi
    decl %ebp
    jnz 1b
#else
    xorw %ax, %ax
    movw $7, %cx
    xorw %si, %si
    movw $SCRATCH16, %bx
    movl $ITERATIONS, %ebp
    .balign 16
1:  movw (%bx,%si), %ax
    movw %ax, 2(%bx,%si)
    movw 4(%bx,%si), %dx
    addw %cx, 6(%bx,%si)
    movw %dx, 8(%bx,%si)
    movw 10(%bx,%si), %di
    movw %di, 12(%bx,%si)
    movw 6(%bx,%si), %ax
    addw $16, %si
    andw $0xFFF, %si
    decl %ebp
    jnz 1b
    movzwl %ax, %eax
#endif
    BENCH_REPORT loadstore, PER_ITER
