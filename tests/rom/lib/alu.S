/*
 * alu.S - print helpers of lib/alu.h: rf32, rf64 ("name: r=... f=...") and print_cc.
 */
#include "rom.h"

    .text
    .globl rf16, rf32, rf64, print_cc
/* rf16 (16-bit code): [sp+2]=name [+4]=digits [+8]=mask [+12]=result [+16]=eflags; ret $18 */
    .code16
rf16:
    pushal
    movl %esp, %ebp             /* pushal 32: name at +34 */
    movw 34(%ebp), %si
    call puts16
    movw $s_r, %si
    call puts16
    movl 44(%ebp), %eax
    movl 36(%ebp), %ecx
    call hex16
    movw $s_f, %si
    call puts16
    movl 48(%ebp), %eax
    andl 40(%ebp), %eax
    movw $4, %cx
    call hex16
    movw $s_nl, %si
    call puts16
    popal
    ret $18

/* rf32: [esp+4]=name [+8]=digits [+12]=mask [+16]=result [+20]=eflags; ret $20 */
    .code32
rf32:
    pushal
    movl 36(%esp), %esi
    call puts32
    movl $s_r, %esi
    call puts32
    movl 48(%esp), %eax
    movl 40(%esp), %ecx
    call hex32
    movl $s_f, %esi
    call puts32
    movl 52(%esp), %eax
    andl 44(%esp), %eax
    movl $4, %ecx
    call hex32
    movl $s_nl, %esi
    call puts32
    popal
    ret $20

/* print_cc: [esp+4]=eflags pattern [+8]=cmov<<16|setcc */
print_cc:
    pushal
    movl $s_cc, %esi
    call puts32
    movl 36(%esp), %eax
    movl $4, %ecx
    call hex32
    movl $s_colon, %esi
    call puts32
    movl 40(%esp), %eax
    movl $8, %ecx
    call hex32
    movl $s_nl, %esi
    call puts32
    popal
    ret $8

/* rf64: [rsp+8]=name [+16]=mask [+24]=result [+32]=rflags; ret $32 */
    .code64
rf64:
    pushq %rax
    pushq %rcx
    pushq %rsi
    movq 32(%rsp), %rsi
    call puts64
    movl $s_r, %esi
    call puts64
    movq 48(%rsp), %rax
    movl $16, %ecx
    call hex64
    movl $s_f, %esi
    call puts64
    movq 56(%rsp), %rax
    andq 40(%rsp), %rax
    movl $4, %ecx
    call hex64
    movl $s_nl, %esi
    call puts64
    popq %rsi
    popq %rcx
    popq %rax
    ret $32

    .section .rodata.str, "a"
s_r:    .asciz ": r="
s_f:    .asciz " f="
s_nl:   .asciz "\n"
s_cc:   .asciz "setcc/cmovcc flags="
s_colon: .asciz ": "
