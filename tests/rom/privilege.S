/*
 * privilege.S - transfers across privilege levels: far RET and IRET from ring 0 to ring 3,
 * INT from ring 3 with the TSS stack switch (32-bit SS0:ESP0, 64-bit RSP0 with SS = null,
 * IST), the 16-byte stack alignment of 64-bit interrupt frames, IRETQ (always pops SS:RSP,
 * to the same level and to compatibility mode), LRETQ to ring 3, IRET/RET to an inner level
 * (#GP), POPF/CLI under IOPL, and the TSS I/O permission bitmap (SDM Vol. 3, "Privilege
 * Level Checking", "Interrupt and Exception Handling", "Task Management": "I/O Permission
 * Bit Map"; Vol. 2 IRET, RET, INT n).
 *
 * Stack values are printed relative to the stack the test set up, frames as the handler
 * found them: [eip|rip] relative to the instruction after INT.
 */
#include "rom.h"

#define SAVE        (TEST_VAR + 0x40)   /* handler record: see h43 */
#define BACK_SP     (TEST_VAR + 0x80)
#define BACK_IP     (TEST_VAR + 0x88)
#define R3_SP       (STACK3 - 0x40)

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: privilege\n"
    RM_TO_PM32
    call idt32_init
    call tss32_init
    pushl $0xEE                 /* gate 0x43: DPL 3 interrupt gate to h43_32 */
    pushl $SEL_CS32
    pushl $h43_32
    pushl $0x43
    call gate32_set

    /* ---- far RET to ring 3, INT back through the TSS ---- */
    movl %esp, BACK_SP
    movl $.Lback1, BACK_IP
    pushl $2
    popfl
    pushl $SEL_DS32U
    pushl $R3_SP
    pushl $SEL_CS32U
    pushl $r3_code1
    lret
.Lback1:
    KV32 "pm.lret->r3 cs", %ebx, 4
    KV32 "pm.lret->r3 ss", %ecx, 4
    movl %edx, %eax
    subl $R3_SP, %eax
    KV32 "pm.lret->r3 esp-R3_SP", %eax
    KV32 "pm.lret->r3 ds (nulled)", %esi, 4
    movl $r3_code1_after, %edi
    movl $R3_SP, %esi
    call show_frame32
    /* IRET to ring 3 with IOPL 3: IOPL-sensitive CLI works there */
    movl %esp, BACK_SP
    movl $.Lback2, BACK_IP
    pushl $SEL_DS32U
    pushl $R3_SP
    pushl $0x3002
    pushl $SEL_CS32U
    pushl $r3_code2
    iret
.Lback2:
    andl $(F_IF | 0x3000), %ebx
    KV32 "pm.iret->r3 iopl3 eflags&0x3200 after cli", %ebx, 4
    movl $r3_code2_after, %edi
    movl $R3_SP, %esi
    call show_frame32
    /* an IRET or far RET from ring 3 to ring 0 code is #GP(CS selector) */
    RING3_32B 0
    pushl $2
    pushl $SEL_CS32
    pushl $0
    iret
    RING3_32E "pm3.iret to ring 0"
    RING3_32B 0
    pushl $SEL_CS32
    pushl $0
    lret
    RING3_32E "pm3.lret to ring 0"
    /* ring 0 IRET can change IOPL; ring 3 POPF cannot */
    pushl $0x2002
    popfl
    pushfl
    popl %eax
    KV32 "pm.popf iopl2 at cpl0", %eax
    pushl $2
    popfl

    /* ---- the I/O permission bitmap: only port 0xE9 allowed ---- */
    movw $0x68, TSS_BASE + 0x66
    movl $TSS_BASE + 0x68, %edi
    movl $32, %ecx
    movb $0xFF, %al
    cld
    rep stosb
    movb $0xFD, TSS_BASE + 0x68 + (0xE9 >> 3)  /* bit 1 of byte 29: port 0xE9 */
    movw $(0x68 + 32 - 1), GDT_BASE + SEL_TSS  /* limit covers the 32 bitmap bytes */
    movb $0x89, GDT_BASE + SEL_TSS + 5  /* not busy, so that LTR reloads the new limit */
    movw $SEL_TSS, %ax
    ltr %ax
    PUTS32 "iomap out 0xe9 from ring 3: "
    RING3_32B 0
    movb $'Y', %al
    outb %al, $0xE9
    movb $'\n', %al
    movw $0xE9, %dx
    outb %al, %dx
    RING3_32E "pm3.iomap outb 0xe9"
    RING3_32B 0
    outw %ax, $0xE9             /* needs 0xEA too */
    RING3_32E "pm3.iomap outw 0xe9"
    RING3_32B 0
    outb %al, $0xE8
    RING3_32E "pm3.iomap outb 0xe8"
    RING3_32B 0
    inb $0x80, %al
    RING3_32E "pm3.iomap inb 0x80"
    RING3_32B 0
    movw $0x400, %dx            /* beyond the TSS limit */
    inb %dx, %al
    RING3_32E "pm3.iomap inb beyond limit"
    movw $0x2000, TSS_BASE + 0x66
    movw $0x67, GDT_BASE + SEL_TSS
    movb $0x89, GDT_BASE + SEL_TSS + 5
    movw $SEL_TSS, %ax
    ltr %ax

    /* ================= long mode ================= */
    PM32_TO_LM64
    call idt64_init
    call tss64_init
    movl $0x43, %edi
    movl $h43_64, %esi
    movl $0xEE, %edx
    call gate64_set
    movl $0x44, %edi            /* gate 0x44: IST 1 */
    movl $h43_64, %esi
    movl $(0xEE | 0x100), %edx
    call gate64_set
    /* LRETQ to ring 3, INT back: RSP0, SS = null */
    movq %rsp, BACK_SP
    movl $.Lback3, BACK_IP
    movl $0, BACK_IP + 4
    pushq $2
    popfq
    pushq $SEL_DS32U
    pushq $R3_SP
    pushq $SEL_CS64U
    pushq $0
    movl $r3_code64, (%rsp)
    lretq
.Lback3:
    KV64 "lm.lretq->r3 cs", %rbx, 4
    KV64 "lm.lretq->r3 ss", %rcx, 4
    movq %rdx, %rax
    subq $R3_SP, %rax
    KV64 "lm.lretq->r3 rsp-R3_SP", %rax
    KV64 "lm.int from r3: handler ss (null)", SAVE + 0x08, 4
    movl $r3_code64_after, %edi
    movl $R3_SP, %esi
    call show_frame64
    /* INT at CPL 0 with RSP = 8 mod 16: the frame is aligned to 16 first */
    movq %rsp, BACK_SP
    movl $.Lback4, BACK_IP
    movl $0, BACK_IP + 4
    pushq $2
    popfq
    movq $(STACK0 - 0x208), %rsp
    int $0x43
.Lback4:
    KV64 "lm.int cpl0: handler ss (unchanged)", SAVE + 0x08, 4
    movl $.Lback4, %edi
    movl $(STACK0 - 0x208), %esi
    call show_frame64
    /* IST 1 */
    movq %rsp, BACK_SP
    movl $.Lback5, BACK_IP
    movl $0, BACK_IP + 4
    pushq $2
    popfq
    movq $(STACK0 - 0x300), %rsp
    int $0x44
.Lback5:
    movq SAVE + 0x00, %rax
    subq $STACK_IST, %rax
    KV64 "lm.ist1 handler rsp-STACK_IST", %rax
    movl $.Lback5, %edi
    movl $(STACK0 - 0x300), %esi
    call show_frame64
    /* IRETQ to the same level pops SS:RSP too */
    movq %rsp, %rbx
    pushq $SEL_DS32
    pushq $(STACK0 - 0x400)
    pushq $0x002
    pushq $SEL_CS64
    leaq .Liretq_same(%rip), %rax
    pushq %rax
    iretq
.Liretq_same:
    movq %rsp, %rax
    subq $STACK0, %rax
    movq %rbx, %rsp
    KV64 "lm.iretq same level rsp-STACK0", %rax
    /* IRETQ to compatibility mode at ring 0 */
    movq %rsp, %rbx
    pushq $SEL_DS32
    pushq $(STACK0 - 0x500)
    pushq $0x002
    pushq $SEL_CS32
    pushq $0
    movl $.Liretq_compat, (%rsp)
    iretq
    .code32
.Liretq_compat:
    movl %cs, %eax
    movl %esp, %ecx
    ljmp $SEL_CS64, $.Liretq_compat_back
    .code64
.Liretq_compat_back:
    movq %rbx, %rsp
    KV64 "lm.iretq->compat cs", %rax, 4
    subl $STACK0, %ecx
    KV64 "lm.iretq->compat esp-STACK0", %rcx, 8
    /* ring 3 IRETQ to ring 0 is #GP(CS) */
    RING3_64B 0
    pushq $0
    pushq $0
    pushq $2
    pushq $SEL_CS64
    pushq $0
    iretq
    RING3_64E "lm3.iretq to ring 0"
    /* 64-bit I/O bitmap */
    movw $0x68, TSS_BASE + 0x66
    movl $TSS_BASE + 0x68, %edi
    movl $32, %ecx
    movb $0xFF, %al
    cld
    rep stosb
    movb $0xFD, TSS_BASE + 0x68 + (0xE9 >> 3)
    movw $(0x68 + 32 - 1), GDT_BASE + SEL_TSS
    movb $0x89, GDT_BASE + SEL_TSS + 5
    movw $SEL_TSS, %ax
    ltr %ax
    PUTS64 "lm iomap out 0xe9 from ring 3: "
    RING3_64B 0
    movb $'Z', %al
    outb %al, $0xE9
    movb $'\n', %al
    outb %al, $0xE9
    RING3_64E "lm3.iomap outb 0xe9"
    RING3_64B 0
    outb %al, $0xF4             /* denied: never reaches the exit device */
    RING3_64E "lm3.iomap outb 0xf4"
    PUTS64 "done\n"
    EXIT 0

/* ---- ring-3 bodies ---- */
    .code32
r3_code1:
    movl %cs, %ebx
    movl %ss, %ecx
    movl %esp, %edx
    movl %ds, %esi
    int $0x43
r3_code1_after:
r3_code2:
    cli
    pushfl
    popl %ebx
    int $0x43
r3_code2_after:
    .code64
r3_code64:
    movl %cs, %ebx
    movl %ss, %ecx
    movq %rsp, %rdx
    int $0x43
r3_code64_after:

/* ---- handlers: record the frame, go back to BACK_IP on BACK_SP (ring 0) ----
 * SAVE+0x00 handler SP, +0x08 handler SS, +0x10 ip, +0x18 cs, +0x20 flags, +0x28 sp, +0x30 ss */
    .code32
h43_32:
    pushl %eax
    movw $SEL_DS32, %ax
    movw %ax, %ds
    leal 4(%esp), %eax
    movl %eax, SAVE + 0x00
    movl %ss, %eax
    movl %eax, SAVE + 0x08
    movl 4(%esp), %eax
    movl %eax, SAVE + 0x10
    movl 8(%esp), %eax
    movl %eax, SAVE + 0x18
    movl 12(%esp), %eax
    movl %eax, SAVE + 0x20
    movl 16(%esp), %eax
    movl %eax, SAVE + 0x28
    movl 20(%esp), %eax
    movl %eax, SAVE + 0x30
    popl %eax
    movl BACK_SP, %esp
    movw $SEL_DS32, %ax
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    jmp *BACK_IP

/* show_frame32: EDI = expected frame EIP, ESI = expected frame ESP */
show_frame32:
    movl SAVE + 0x00, %eax
    subl $STACK0_TSS, %eax
    KV32 "  handler esp-ESP0", %eax
    KV32 "  handler ss", SAVE + 0x08, 4
    movl SAVE + 0x10, %eax
    subl %edi, %eax
    KV32 "  frame eip-expected", %eax
    KV32 "  frame cs", SAVE + 0x18, 4
    KV32 "  frame eflags", SAVE + 0x20
    movl SAVE + 0x28, %eax
    subl %esi, %eax
    KV32 "  frame esp-expected", %eax
    KV32 "  frame ss", SAVE + 0x30, 4
    ret

    .code64
h43_64:
    movq %rsp, SAVE + 0x00
    pushq %rax
    movl %ss, %eax
    movq %rax, SAVE + 0x08
    movq 8(%rsp), %rax
    movq %rax, SAVE + 0x10
    movq 16(%rsp), %rax
    movq %rax, SAVE + 0x18
    movq 24(%rsp), %rax
    movq %rax, SAVE + 0x20
    movq 32(%rsp), %rax
    movq %rax, SAVE + 0x28
    movq 40(%rsp), %rax
    movq %rax, SAVE + 0x30
    popq %rax
    movq BACK_SP, %rsp
    movw $SEL_DS32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    jmp *BACK_IP

/* show_frame64: RDI = expected frame RIP, RSI = expected frame RSP */
show_frame64:
    movq SAVE + 0x00, %rax
    andl $0xF, %eax
    KV64 "  handler rsp mod 16", %rax, 2
    movq SAVE + 0x10, %rax
    subq %rdi, %rax
    KV64 "  frame rip-expected", %rax
    KV64 "  frame cs", SAVE + 0x18, 4
    KV64 "  frame rflags", SAVE + 0x20, 8
    movq SAVE + 0x28, %rax
    subq %rsi, %rax
    KV64 "  frame rsp-expected", %rax
    KV64 "  frame ss", SAVE + 0x30, 4
    ret
