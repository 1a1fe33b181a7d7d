/*
 * exc.S - exception and interrupt handlers that record what happened.
 *
 * One 16-byte stub per vector for real mode (rm_stubs), 32-bit protected mode (stubs32)
 * and long mode (stubs64). A stub pushes a dummy error code where the CPU pushes none
 * (everything except 8, 10-14, 17, 21, 29, 30), pushes the vector and jumps to the common
 * handler, which fills the record at VARS (rom.h) and then, by REC_IP:
 *   0  -> unexpected: prints "UNEXPECTED vec=.. err=.. ip=.. cs=.. cr2=.." and exits with 3;
 *   1  -> resumes with IRET (for traps: INT n, INT3, INTO, single-step);
 *   else  sets REC_IP to 0, loads SP from REC_SP and jumps to the old REC_IP (ring 0), with
 *         the general registers of the interrupted code (flags are the handler's).
 * Software INT n to a vector that has a CPU error code is not supported by the stubs.
 */
#include "rom.h"

#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
                    (v) == 29 || (v) == 30)

/* ================= real mode ================= */
    .text
    .code16
    .balign 16
    .globl rm_stubs
rm_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    pushw $vec
    jmp rm_common
    .set vec, vec + 1
    .endr

rm_common:                      /* [sp]=vec [sp+2]=ip [sp+4]=cs [sp+6]=flags */
    pushw %ds
    pushw %ax
    pushl %ebp
    xorw %ax, %ax
    movw %ax, %ds
    movl %esp, %ebp
    movw 8(%ebp), %ax
    movw %ax, EXC_VEC
    movw 10(%ebp), %ax
    movw %ax, EXC_IP
    movw 12(%ebp), %ax
    movw %ax, EXC_CS
    movw 14(%ebp), %ax
    movw %ax, EXC_FLAGS
    incw EXC_COUNT
    movw REC_IP, %ax
    cmpw $1, %ax
    je 1f
    testw %ax, %ax
    jz 2f
    movw $0, REC_IP
    movw REC_SP, %sp
    jmp *%ax
1:  popl %ebp
    popw %ax
    popw %ds
    addw $2, %sp
    iret
2:  PUTS16 "UNEXPECTED rm"
    KV16 " vec", EXC_VEC, 4
    KV16 " ip", EXC_IP, 4
    KV16 " cs", EXC_CS, 4
    EXIT 3

/* ================= 32-bit protected mode ================= */
    .code32
    .balign 16
    .globl stubs32
stubs32:
    .set vec, 0
    .rept 256
    .balign 16
    .if !HAS_ERR(vec)
    pushl $0
    .endif
    pushl $vec
    jmp exc_common32
    .set vec, vec + 1
    .endr

exc_common32:   /* [esp]=vec [esp+4]=err [esp+8]=eip [esp+12]=cs [esp+16]=eflags [+20 esp, ss] */
    pushl %ds
    pushl %eax
    movw $SEL_DS32, %ax
    movw %ax, %ds
    movl 8(%esp), %eax
    movl %eax, EXC_VEC
    movl 12(%esp), %eax
    movl %eax, EXC_ERR
    movl 16(%esp), %eax
    movl %eax, EXC_IP
    movl 20(%esp), %eax
    movl %eax, EXC_CS
    movl 24(%esp), %eax
    movl %eax, EXC_FLAGS
    movl $0, EXC_SP
    movl $0, EXC_SS
    testb $3, EXC_CS
    jz 1f
    movl 28(%esp), %eax
    movl %eax, EXC_SP
    movl 32(%esp), %eax
    movl %eax, EXC_SS
1:  movl %cr2, %eax
    movl %eax, EXC_CR2
    incl EXC_COUNT
    movl REC_IP, %eax
    cmpl $1, %eax
    je 2f
    testl %eax, %eax
    jz 3f
    movl %eax, REC_TARGET
    movl $0, REC_IP
    popl %eax                   /* the interrupted EAX */
    movl %eax, REC_SAVE
    movl REC_SP, %esp
    movw $SEL_DS32, %ax
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl REC_SAVE, %eax
    jmp *REC_TARGET
2:  popl %eax
    popl %ds
    addl $8, %esp
    iret
3:  PUTS32 "UNEXPECTED pm"
    KV32 " vec", EXC_VEC, 2
    KV32 " err", EXC_ERR
    KV32 " eip", EXC_IP
    KV32 " cs", EXC_CS, 4
    KV32 " cr2", EXC_CR2
    EXIT 3

/* idt32_init: 256 interrupt gates (DPL 0) to stubs32 at IDT_BASE, LIDT. */
    .globl idt32_init
idt32_init:
    pushal
    movl $IDT_BASE, %edi
    movl $stubs32, %edx
    movl $256, %ecx
1:  movl %edx, %eax
    andl $0xFFFF, %eax
    orl $(SEL_CS32 << 16), %eax
    movl %eax, (%edi)
    movl %edx, %eax
    andl $0xFFFF0000, %eax
    orl $0x8E00, %eax
    movl %eax, 4(%edi)
    addl $16, %edx
    addl $8, %edi
    loop 1b
    lidt idt32_desc
    popal
    ret

/* gate32_set: [esp+4]=vector [esp+8]=handler [esp+12]=selector [esp+16]=type byte (e.g. 0xEE) */
    .globl gate32_set
gate32_set:
    pushal
    movl 36(%esp), %edi
    leal IDT_BASE(,%edi,8), %edi
    movl 40(%esp), %edx
    movl %edx, %eax
    andl $0xFFFF, %eax
    movl 44(%esp), %ecx
    shll $16, %ecx
    orl %ecx, %eax
    movl %eax, (%edi)
    movl %edx, %eax
    andl $0xFFFF0000, %eax
    movl 48(%esp), %ecx
    shll $8, %ecx
    orl %ecx, %eax
    movl %eax, 4(%edi)
    popal
    ret $16

/* tss32_init: 32-bit TSS at TSS_BASE (SS0:ESP0 = SEL_DS32:STACK0_TSS, no I/O bitmap),
 * descriptor at SEL_TSS, LTR; gate 0x41 becomes DPL 3 (the ring-3 way back, rom.h). */
    .globl tss32_init
tss32_init:
    pushal
    movl $TSS_BASE, %edi
    movl $(0x2000 / 4), %ecx
    xorl %eax, %eax
    cld
    rep stosl
    movl $STACK0_TSS, TSS_BASE + 4
    movl $SEL_DS32, TSS_BASE + 8
    movw $0x2000, TSS_BASE + 0x66       /* I/O map base beyond the limit: no bitmap */
    movl $(((TSS_BASE & 0xFFFF) << 16) | 0x67), GDT_BASE + SEL_TSS
    movl $((TSS_BASE & 0xFF000000) | 0x8900 | ((TSS_BASE >> 16) & 0xFF)), GDT_BASE + SEL_TSS + 4
    movl $0, GDT_BASE + SEL_TSS + 8
    movl $0, GDT_BASE + SEL_TSS + 12
    movw $SEL_TSS, %ax
    ltr %ax
    movb $0xEE, IDT_BASE + 0x41 * 8 + 5
    popal
    ret

    .section .rodata, "a"
    .balign 8
idt32_desc:
    .word 256 * 8 - 1
    .long IDT_BASE
idt64_desc:
    .word 256 * 16 - 1
    .long IDT_BASE
    .long 0

/* ================= long mode ================= */
    .text
    .code64
    .balign 16
    .globl stubs64
stubs64:
    .set vec, 0
    .rept 256
    .balign 16
    .if !HAS_ERR(vec)
    pushq $0
    .endif
    pushq $vec
    jmp exc_common64
    .set vec, vec + 1
    .endr

exc_common64:   /* [rsp]=vec +8 err +16 rip +24 cs +32 rflags +40 rsp +48 ss */
    pushq %rax
    movq 8(%rsp), %rax
    movq %rax, EXC_VEC
    movq 16(%rsp), %rax
    movq %rax, EXC_ERR
    movq 24(%rsp), %rax
    movq %rax, EXC_IP
    movq 32(%rsp), %rax
    movq %rax, EXC_CS
    movq 40(%rsp), %rax
    movq %rax, EXC_FLAGS
    movq 48(%rsp), %rax
    movq %rax, EXC_SP
    movq 56(%rsp), %rax
    movq %rax, EXC_SS
    movq %cr2, %rax
    movq %rax, EXC_CR2
    incq EXC_COUNT
    movq REC_IP, %rax
    cmpq $1, %rax
    je 2f
    testq %rax, %rax
    jz 3f
    movq %rax, REC_TARGET
    movq $0, REC_IP
    popq %rax
    movq %rax, REC_SAVE
    movq REC_SP, %rsp
    movw $SEL_DS32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq REC_SAVE, %rax
    jmp *REC_TARGET
2:  popq %rax
    addq $16, %rsp
    iretq
3:  PUTS64 "UNEXPECTED lm"
    KV64 " vec", EXC_VEC, 2
    KV64 " err", EXC_ERR, 8
    KV64 " rip", EXC_IP
    KV64 " cs", EXC_CS, 4
    KV64 " cr2", EXC_CR2
    EXIT 3

/* idt64_init: 256 interrupt gates (DPL 0, IST 0) to stubs64, LIDT. */
    .globl idt64_init
idt64_init:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rdi
    movl $IDT_BASE, %edi
    movl $stubs64, %edx
    movl $256, %ecx
1:  movl %edx, %eax
    andl $0xFFFF, %eax
    orl $(SEL_CS64 << 16), %eax
    movl %eax, (%rdi)
    movl %edx, %eax
    andl $0xFFFF0000, %eax
    orl $0x8E00, %eax
    movl %eax, 4(%rdi)
    movq $0, 8(%rdi)
    addl $16, %edx
    addl $16, %edi
    loop 1b
    lidt idt64_desc(%rip)
    popq %rdi
    popq %rdx
    popq %rcx
    popq %rax
    ret

/* gate64_set: RDI=vector, RSI=handler (low 4 GiB), EDX = type byte | ist << 8 (CS64). */
    .globl gate64_set
gate64_set:
    pushq %rax
    pushq %rdi
    shlq $4, %rdi
    addq $IDT_BASE, %rdi
    movl %esi, %eax
    andl $0xFFFF, %eax
    orl $(SEL_CS64 << 16), %eax
    movl %eax, (%rdi)
    movl %esi, %eax
    andl $0xFFFF0000, %eax
    pushq %rdx
    movzbl %dl, %edx
    shll $8, %edx
    orl %edx, %eax
    popq %rdx
    pushq %rdx
    shrl $8, %edx
    andl $7, %edx
    orl %edx, %eax
    popq %rdx
    movl %eax, 4(%rdi)
    movq $0, 8(%rdi)
    popq %rdi
    popq %rax
    ret

/* tss64_init: 64-bit TSS at TSS_BASE, RSP0 = STACK0_TSS, IST1 = STACK_IST, no I/O bitmap,
 * 16-byte descriptor at SEL_TSS, LTR; gate 0x41 becomes DPL 3. */
    .globl tss64_init
tss64_init:
    pushq %rax
    pushq %rcx
    pushq %rdi
    movl $TSS_BASE, %edi
    movl $(0x2000 / 8), %ecx
    xorl %eax, %eax
    cld
    rep stosq
    movq $STACK0_TSS, TSS_BASE + 4
    movq $STACK_IST, TSS_BASE + 0x24
    movw $0x2000, TSS_BASE + 0x66
    movl $(((TSS_BASE & 0xFFFF) << 16) | 0x67), GDT_BASE + SEL_TSS
    movl $((TSS_BASE & 0xFF000000) | 0x8900 | ((TSS_BASE >> 16) & 0xFF)), GDT_BASE + SEL_TSS + 4
    movl $0, GDT_BASE + SEL_TSS + 8
    movl $0, GDT_BASE + SEL_TSS + 12
    movw $SEL_TSS, %ax
    ltr %ax
    movb $0xEE, IDT_BASE + 0x41 * 16 + 5
    popq %rdi
    popq %rcx
    popq %rax
    ret
