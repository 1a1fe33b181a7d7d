/*
 * realmode.S - real-address mode: INT/IRET (FLAGS, CS, IP pushed; IF, TF, AC cleared), far
 * CALL/RET/JMP (direct, m16:16, RET imm16, another segment:offset for the same code), LDS/LES, POPF of IOPL/NT, the 16-bit stack
 * wrapping at 64 KiB, the IDT limit (LIDT) and #UD/#GP delivery through the IVT
 * (SDM Vol. 3, "8086 Emulation": "Real-Address Mode Operation", "Interrupt and Exception
 * Handling in Real-Address Mode"; Vol. 2 INT n, IRET, CALL, RET).
 */
#include "rom.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: realmode\n"
    /* ---- INT n: frame and flags ---- */
    movw $rm_int50, IVT_BASE + 4 * 0x50
    movw $0xF000, IVT_BASE + 4 * 0x50 + 2
    pushl $(0x40000 | F_DF | F_CF)  /* AC, DF, CF (IF stays 0: no device is set up) */
    popfl
    movl %esp, %edi
    int $0x50
.Lafter_int50:
    pushfl
    popl %esi
    pushl $2
    popfl
    KV16 "int handler eflags (if/tf/ac clear)", %ecx
    KV16 "int pushed flags", %edx, 4
    movzwl TEST_VAR, %eax
    KV16 "int pushed cs", %eax, 4
    movzwl TEST_VAR + 2, %eax
    subw $.Lafter_int50, %ax
    KV16 "int pushed ip - next", %eax, 4
    movl %edi, %eax
    subl TEST_VAR + 4, %eax
    KV16 "int frame size", %eax, 2
    KV16 "eflags after iret", %esi

    /* ---- IRET restores FLAGS from the frame ---- */
    pushw $0x0CD5               /* OF DF SF ZF AF PF CF */
    pushw %cs
    pushw $.Liret_target
    iret
.Liret_target:
    pushfw
    popw %ax
    movzwl %ax, %eax
    pushl $2
    popfl
    KV16 "iret loaded flags", %eax, 4

    /* ---- POPF in real mode sets IOPL and NT; bit 15 stays 0 ---- */
    pushw $0xFCFF
    popfw
    pushfw
    popw %ax
    movzwl %ax, %eax
    pushl $2
    popfl
    KV16 "popf 0xfcff", %eax, 4

    /* ---- far transfers ---- */
    movl %esp, %edi
    lcall $0xF000, $far16
    KV16 "lcall pushed cs", %ebx, 4
    movl %edi, %eax
    subl %esp, %eax
    KV16 "lcall/lret sp delta", %eax, 2
    movw $far16, SCRATCH16
    movw $0xF000, SCRATCH16 + 2
    lcallw *SCRATCH16
    KV16 "lcall m16:16 pushed cs", %ebx, 4
    pushw $0x1111
    pushw $0x2222
    lcall $0xF000, $far16_ret4
    movl %edi, %eax
    subl %esp, %eax
    KV16 "lret 4 sp delta", %eax, 2
    movw $.Ljmp_back, SCRATCH16 + 4
    movw $0xF000, SCRATCH16 + 6
    ljmpw *SCRATCH16 + 4
    movl $0xBAD, %eax
.Ljmp_back:
    movw %cs, %ax
    movzwl %ax, %eax
    KV16 "ljmp m16:16 cs", %eax, 4
    /* a far jump to the same code through another segment:offset pair */
    ljmp $0xEF00, $.Lalias + 0x1000    /* linear 0xEF000 + off + 0x1000: the same byte */
.Lalias:
    movw %cs, %ax
    movzwl %ax, %eax
    ljmp $0xF000, $.Lalias_back
.Lalias_back:
    KV16 "ljmp ef00:(off+0x1000) cs", %eax, 4

    /* ---- LDS LES ---- */
    movw $0x1234, SCRATCH16 + 8
    movw $0x5678, SCRATCH16 + 10
    lesw SCRATCH16 + 8, %bx
    movw %es, %ax
    movzwl %ax, %eax
    KV16 "les es", %eax, 4
    movzwl %bx, %eax
    KV16 "les bx", %eax, 4
    xorw %ax, %ax
    movw %ax, %es

    /* ---- the stack wraps at 64 KiB ---- */
    movw $0x6000, %ax
    movw %ax, %ss
    movl $0, %esp
    pushw $0x1234
    movl %esp, %ebx
    movzwl %ss:0xFFFE, %ecx
    xorw %ax, %ax
    movw %ax, %ss
    movl $STACK_RM, %esp
    KV16 "push at sp=0: esp", %ebx
    KV16 "push at sp=0: [ss:fffe]", %ecx, 4

    /* ---- faults through the IVT ---- */
    IVT_SET 6
    IVT_SET 13
    TRY16 "lock nop", .byte 0xF0, 0x90
    TRY16 "ud2", ud2
    TRY16 "mov cs", .byte 0x8E, 0xC8
    movw $0x3F, SCRATCH16 + 16  /* IVT limit: vectors 0-15 only */
    movl $0, SCRATCH16 + 18
    lidt SCRATCH16 + 16
    TRY16 "int 0x50 beyond idt limit", int $0x50
    lidt %cs:ivt_desc
    TRY16 "int 0x50 within limit", int $0x50

    PUTS16 "done\n"
    EXIT 0

/* INT 0x50: ECX = EFLAGS inside, EDX = pushed FLAGS, TEST_VAR = pushed CS, IP, SP */
rm_int50:
    pushfl
    popl %ecx
    movl %esp, %ebp
    movzwl 4(%bp), %edx
    movw 2(%bp), %ax
    movw %ax, TEST_VAR
    movw 0(%bp), %ax
    movw %ax, TEST_VAR + 2
    movl %esp, TEST_VAR + 4
    iret
far16:
    movl %esp, %ebp
    movzwl 2(%bp), %ebx
    lret
far16_ret4:
    lret $4
