/*
 * print.S - text output to the debug console (port 0xE9) from 16-, 32- and 64-bit code.
 *
 * Strings live in the ROM and are read through CS (16-bit code: CS base 0xF0000 and the
 * low 16 bits of the address; 32/64-bit code: flat CS). Every routine preserves all
 * registers and flags, so a test can print between an instruction and its flag check.
 * Stack-argument routines pop their arguments (ret $n); the macros in rom.h push them.
 */
#include "rom.h"

/* ================= 16-bit =================
 * Stack arguments are addressed through EBP: the upper half of ESP is zero in real mode
 * (the lib sets ESP with MOVL) and may be used with a 32-bit stack in 16-bit code. */
    .text
    .code16
    .globl putc16, puts16, hex16
putc16:                         /* AL */
    pushw %dx
    movw $PORT_DEBUGCON, %dx
    outb %al, %dx
    popw %dx
    ret
puts16:                         /* CS:SI, NUL-terminated */
    pushw %ax
    pushw %si
1:  movb %cs:(%si), %al
    testb %al, %al
    jz 2f
    call putc16
    incw %si
    jmp 1b
2:  popw %si
    popw %ax
    ret
hex16:                          /* EAX, CX digits (1..8) */
    pushal
    movw %cx, %bx
    shlw $2, %bx                /* bit position after the top digit */
1:  subw $4, %bx
    movl %eax, %edx
    movb %bl, %cl
    shrl %cl, %edx
    andb $0xF, %dl
    addb $'0', %dl
    cmpb $'9', %dl
    jbe 2f
    addb $('a' - '9' - 1), %dl
2:  pushl %eax
    movb %dl, %al
    call putc16
    popl %eax
    testw %bx, %bx
    jnz 1b
    popal
    ret

    .globl puts16_stk
puts16_stk:                     /* [sp+2] = string */
    pushf
    pushw %si
    pushl %ebp
    movl %esp, %ebp
    movw 10(%ebp), %si
    call puts16
    popl %ebp
    popw %si
    popf
    ret $2

    .globl kv16_8, kv16_4, kv16_2
kv16_8:
    pushw %cx
    movw $8, %cx
    jmp kv16_common
kv16_4:
    pushw %cx
    movw $4, %cx
    jmp kv16_common
kv16_2:
    pushw %cx
    movw $2, %cx
kv16_common:                    /* [sp]=cx [sp+2]=ret [sp+4]=name [sp+6]=value */
    pushf
    pushal
    movl %esp, %ebp             /* pushal 32 + flags 2: name at +38, value at +40 */
    movw 38(%ebp), %si
    call puts16
    movb $':', %al
    call putc16
    movb $' ', %al
    call putc16
    movl 40(%ebp), %eax
    call hex16
    movb $'\n', %al
    call putc16
    popal
    popf
    popw %cx
    ret $6

    .globl report16
report16:                       /* [sp+2]=name [sp+4]=label offset; real-mode record */
    pushf
    pushal
    movl %esp, %ebp             /* name at +36, label at +38 */
    movw 36(%ebp), %si
    call puts16
    movw $s_vec, %si
    call puts16
    cmpw $0xFFFF, EXC_VEC
    jne 1f
    movw $s_none, %si
    call puts16
    jmp 2f
1:  movzwl EXC_VEC, %eax
    movw $2, %cx
    call hex16
    movw $s_ip, %si
    call puts16
    movzwl EXC_IP, %eax
    subw 38(%ebp), %ax
    movw $4, %cx
    call hex16
2:  movb $'\n', %al
    call putc16
    popal
    popf
    ret $4

/* ================= 32-bit ================= */
    .code32
putc32:
    pushl %edx
    movw $PORT_DEBUGCON, %dx
    outb %al, %dx
    popl %edx
    ret
    .globl puts32
puts32:                         /* CS:ESI */
    pushl %eax
    pushl %esi
1:  movb %cs:(%esi), %al
    testb %al, %al
    jz 2f
    call putc32
    incl %esi
    jmp 1b
2:  popl %esi
    popl %eax
    ret
    .globl hex32
hex32:                          /* EAX, ECX digits (1..8) */
    pushal
    movl %ecx, %ebx
    shll $2, %ebx
1:  subl $4, %ebx
    movl %eax, %edx
    movb %bl, %cl
    shrl %cl, %edx
    andb $0xF, %dl
    addb $'0', %dl
    cmpb $'9', %dl
    jbe 2f
    addb $('a' - '9' - 1), %dl
2:  pushl %eax
    movb %dl, %al
    call putc32
    popl %eax
    testl %ebx, %ebx
    jnz 1b
    popal
    ret

    .globl puts32_stk
puts32_stk:                     /* [esp+4] = string */
    pushf
    pushl %esi
    movl 12(%esp), %esi
    call puts32
    popl %esi
    popf
    ret $4

    .globl kv32_8, kv32_4, kv32_2
kv32_8:
    pushl %ecx
    movl $8, %ecx
    jmp kv32_common
kv32_4:
    pushl %ecx
    movl $4, %ecx
    jmp kv32_common
kv32_2:
    pushl %ecx
    movl $2, %ecx
kv32_common:                    /* [esp]=ecx [esp+4]=ret [esp+8]=name [esp+12]=value */
    pushf
    pushal                      /* name at esp+44, value at esp+48 */
    movl 44(%esp), %esi
    call puts32
    movb $':', %al
    call putc32
    movb $' ', %al
    call putc32
    movl 48(%esp), %eax
    call hex32
    movb $'\n', %al
    call putc32
    popal
    popf
    popl %ecx
    ret $8

    .globl report32
report32:                       /* [esp+4]=name [esp+8]=label */
    pushf
    pushal                      /* name at esp+40, label at esp+44 */
    movl 40(%esp), %esi
    call puts32
    movl $s_vec, %esi
    call puts32
    cmpl $0xFFFFFFFF, EXC_VEC
    jne 1f
    movl $s_none, %esi
    call puts32
    jmp 2f
1:  movl EXC_VEC, %eax
    movl $2, %ecx
    call hex32
    movl $s_err, %esi
    call puts32
    movl ERR_HIDE, %eax
    notl %eax
    andl EXC_ERR, %eax
    movl $8, %ecx
    call hex32
    cmpl $0, 44(%esp)           /* label 0: IP not architecturally defined (#DF) */
    je 2f
    movl $s_ip, %esi
    call puts32
    movl EXC_IP, %eax
    subl 44(%esp), %eax
    movl $8, %ecx
    call hex32
2:  movb $'\n', %al
    call putc32
    popal
    popf
    ret $8

/* ================= 64-bit ================= */
    .code64
putc64:
    pushq %rdx
    movw $PORT_DEBUGCON, %dx
    outb %al, %dx
    popq %rdx
    ret
    .globl puts64
puts64:                         /* RSI */
    pushq %rax
    pushq %rsi
1:  movb (%rsi), %al
    testb %al, %al
    jz 2f
    call putc64
    incq %rsi
    jmp 1b
2:  popq %rsi
    popq %rax
    ret
    .globl hex64
hex64:                          /* RAX, ECX digits (1..16) */
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    movl %ecx, %ebx
    shll $2, %ebx
1:  subl $4, %ebx
    movq %rax, %rdx
    movb %bl, %cl
    shrq %cl, %rdx
    andb $0xF, %dl
    addb $'0', %dl
    cmpb $'9', %dl
    jbe 2f
    addb $('a' - '9' - 1), %dl
2:  pushq %rax
    movb %dl, %al
    call putc64
    popq %rax
    testl %ebx, %ebx
    jnz 1b
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    ret

    .globl puts64_stk
puts64_stk:                     /* [rsp+8] = string */
    pushfq
    pushq %rsi
    movq 24(%rsp), %rsi
    call puts64
    popq %rsi
    popfq
    ret $8

    .globl kv64_16, kv64_8, kv64_4, kv64_2
kv64_16:
    pushq %rcx
    movl $16, %ecx
    jmp kv64_common
kv64_8:
    pushq %rcx
    movl $8, %ecx
    jmp kv64_common
kv64_4:
    pushq %rcx
    movl $4, %ecx
    jmp kv64_common
kv64_2:
    pushq %rcx
    movl $2, %ecx
kv64_common:                    /* [rsp]=rcx [rsp+8]=ret [rsp+16]=name [rsp+24]=value */
    pushfq
    pushq %rax
    pushq %rsi                  /* name at rsp+40, value at rsp+48 */
    movq 40(%rsp), %rsi
    call puts64
    movb $':', %al
    call putc64
    movb $' ', %al
    call putc64
    movq 48(%rsp), %rax
    call hex64
    movb $'\n', %al
    call putc64
    popq %rsi
    popq %rax
    popfq
    popq %rcx
    ret $16

    .globl report64
report64:                       /* [rsp+8]=name [rsp+16]=label */
    pushfq
    pushq %rax
    pushq %rcx
    pushq %rsi                  /* name at rsp+40, label at rsp+48 */
    movq 40(%rsp), %rsi
    call puts64
    movl $s_vec, %esi
    call puts64
    cmpq $-1, EXC_VEC
    jne 1f
    movl $s_none, %esi
    call puts64
    jmp 2f
1:  movq EXC_VEC, %rax
    movl $2, %ecx
    call hex64
    movl $s_err, %esi
    call puts64
    movq ERR_HIDE, %rax
    notq %rax
    andq EXC_ERR, %rax
    movl $8, %ecx
    call hex64
    cmpq $0, 48(%rsp)
    je 2f
    movl $s_ip, %esi
    call puts64
    movq EXC_IP, %rax
    subq 48(%rsp), %rax
    movl $8, %ecx
    call hex64
2:  movb $'\n', %al
    call putc64
    popq %rsi
    popq %rcx
    popq %rax
    popfq
    ret $16

    .section .rodata.str, "a"
s_vec:  .asciz ": vec="
s_none: .asciz "none"
s_err:  .asciz " err="
s_ip:   .asciz " ip=+"
