/*
 * control.S - stack and control-flow instructions and data movement: ENTER/LEAVE (nesting
 * levels 0-3, 16/32/64-bit), PUSHA/POPA, PUSH/POP of ESP and segment registers, RET imm16,
 * LOOP/LOOPE/LOOPNE/JCXZ/JECXZ/JRCXZ, near/far CALL and RET, XCHG, XLAT, BSWAP, MOVZX,
 * MOVSX, CBW..CQO, LEA address forms, MOV moffs, LDS/LES/LSS/LFS/LGS (SDM Vol. 2).
 * Values are printed relative to the stack pointer before each test where they are
 * addresses, so they do not depend on the stack's location.
 */
#include "rom.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: control\n"
    /* ---- real mode: PUSHA/POPA, 16-bit ENTER, LOOP with CX ---- */
    movl $STACK_RM, %esp
    movw $0x1111, %ax
    movw $0x2222, %cx
    movw $0x3333, %dx
    movw $0x4444, %bx
    movw $0x5555, %bp
    movw $0x6666, %si
    movw $0x7777, %di
    pushaw
    movw %sp, %bx
    movzwl %ss:14(%bx), %eax    /* AX is pushed first (highest address) */
    KV16 "rm.pushaw [sp+14] ax", %eax, 4
    movzwl %ss:6(%bx), %eax     /* SP as before PUSHA */
    subw $STACK_RM, %ax
    movzwl %ax, %eax
    KV16 "rm.pushaw [sp+6] sp-top", %eax, 4
    movzwl %ss:8(%bx), %eax
    KV16 "rm.pushaw [sp+8] bx", %eax, 4
    movzwl %ss:0(%bx), %eax
    KV16 "rm.pushaw [sp+0] di", %eax, 4
    movw $0xAAAA, %ss:6(%bx)    /* POPA skips the SP slot */
    xorw %ax, %ax
    xorw %di, %di
    popaw
    movzwl %sp, %eax
    subw $STACK_RM, %ax
    movzwl %ax, %eax
    KV16 "rm.popaw sp-top", %eax, 4
    movzwl %di, %eax
    KV16 "rm.popaw di", %eax, 4
    movzwl %bx, %eax
    KV16 "rm.popaw bx", %eax, 4
    movw $0x1234, %bp
    enterw $8, $0
    movzwl %bp, %eax
    subw $STACK_RM, %ax
    movzwl %ax, %eax
    KV16 "rm.enter 8,0 bp-top", %eax, 4
    movzwl %sp, %eax
    subw $STACK_RM, %ax
    movzwl %ax, %eax
    KV16 "rm.enter 8,0 sp-top", %eax, 4
    leavew
    movzwl %bp, %eax
    KV16 "rm.leave bp", %eax, 4
    movl $0x12340005, %ecx
    xorl %eax, %eax
1:  incl %eax
    loopw 1b                    /* CX only */
    KV16 "rm.loop cx count", %eax
    KV16 "rm.loop ecx after", %ecx
    xorl %ecx, %ecx
    movl $7, %eax
    jcxz 2f
    movl $0, %eax
2:  KV16 "rm.jcxz taken", %eax, 2

    RM_TO_PM32
    call idt32_init

    /* ---- PUSHAD/POPAD ---- */
    movl $0x11111111, %eax
    movl $0x22222222, %ecx
    movl $0x33333333, %edx
    movl $0x44444444, %ebx
    movl $0x55555555, %ebp
    movl $0x66666666, %esi
    movl $0x77777777, %edi
    movl %esp, TEST_VAR
    pushal
    movl 28(%esp), %eax
    KV32 "pushad [esp+28] eax", %eax
    movl 12(%esp), %eax
    subl TEST_VAR, %eax
    KV32 "pushad [esp+12] esp-before", %eax
    movl 16(%esp), %eax
    KV32 "pushad [esp+16] ebx", %eax
    movl $0xDEADBEEF, 12(%esp)
    popal
    movl %esp, %eax
    subl TEST_VAR, %eax
    KV32 "popad esp-before", %eax
    KV32 "popad ebx", %ebx
    KV32 "popad ebp", %ebp
    /* PUSH ESP pushes the value before the push; POP ESP loads the popped value */
    movl %esp, TEST_VAR
    pushl %esp
    popl %eax
    subl TEST_VAR, %eax
    KV32 "push esp value-esp", %eax
    pushl $0x12340000
    movl %esp, %ebx
    movl %esp, (%esp)
    popl %esp
    movl %esp, %eax
    subl %ebx, %eax
    KV32 "pop esp loads popped", %eax
    /* POP to memory addressed with ESP: the address uses ESP after the pop */
    movl %esp, TEST_VAR
    pushl $0xCAFE0001
    pushl $0xCAFE0002
    popl (%esp)
    movl (%esp), %eax
    KV32 "pop [esp] after-increment", %eax
    addl $4, %esp
    /* segment registers: PUSH pushes 4 bytes in 32-bit mode, POP loads */
    movl %esp, TEST_VAR
    pushl %ds
    movl TEST_VAR, %eax
    subl %esp, %eax
    KV32 "push ds size", %eax, 2
    popl %es
    movl %es, %eax
    KV32 "pop es", %eax, 4
    pushw %fs
    movl TEST_VAR, %eax
    subl %esp, %eax
    KV32 "pushw fs size", %eax, 2
    popw %gs
    /* RET imm16 */
    movl %esp, TEST_VAR
    pushl $1
    pushl $2
    call ret8
    movl TEST_VAR, %eax
    subl %esp, %eax
    KV32 "ret 8 esp-before", %eax
    KV32 "ret 8 callee saw", %ebx

    /* ---- ENTER nesting levels ---- */
    movl %esp, TEST_VAR
    movl $0xEBEB0000, %ebp
    enterl $0x10, $0
    movl %ebp, %eax
    subl TEST_VAR, %eax
    KV32 "enter 16,0 ebp-esp0", %eax
    movl %esp, %eax
    subl TEST_VAR, %eax
    KV32 "enter 16,0 esp-esp0", %eax
    enterl $4, $1
    movl $0x0C0C0C0C, -8(%ebp)  /* the local, copied by the next ENTER's display */
    movl %ebp, %eax
    subl TEST_VAR, %eax
    KV32 "enter 4,1 ebp-esp0", %eax
    movl %esp, %eax
    subl TEST_VAR, %eax
    KV32 "enter 4,1 esp-esp0", %eax
    movl -4(%ebp), %eax         /* level 1: the frame pointer itself */
    subl TEST_VAR, %eax
    KV32 "enter 4,1 [ebp-4]-esp0", %eax
    enterl $0, $3
    movl %esp, %eax
    subl TEST_VAR, %eax
    KV32 "enter 0,3 esp-esp0", %eax
    movl -4(%ebp), %eax         /* copied from the enclosing display */
    subl TEST_VAR, %eax
    KV32 "enter 0,3 [ebp-4]-esp0", %eax
    movl -8(%ebp), %eax
    KV32 "enter 0,3 [ebp-8]", %eax
    movl -12(%ebp), %eax        /* the new frame pointer */
    subl TEST_VAR, %eax
    KV32 "enter 0,3 [ebp-12]-esp0", %eax
    leavel
    leavel
    leavel
    movl %esp, %eax
    subl TEST_VAR, %eax
    KV32 "3x leave esp-esp0", %eax
    KV32 "3x leave ebp", %ebp
    movl TEST_VAR, %esp

    /* ---- LOOP family, JECXZ ---- */
    movl $4, %ecx
    xorl %eax, %eax
1:  incl %eax
    loop 1b
    KV32 "loop 4 count", %eax
    movl $10, %ecx
    xorl %eax, %eax
1:  incl %eax
    cmpl $3, %eax
    loopne 1b                   /* stops when EAX == 3 (ZF=1) */
    KV32 "loopne count", %eax
    KV32 "loopne ecx", %ecx
    movl $10, %ecx
    xorl %eax, %eax
1:  incl %eax
    cmpl $100, %eax
    loope 1b                    /* ZF=0 at once: one pass */
    KV32 "loope count", %eax
    KV32 "loope ecx", %ecx
    xorl %ecx, %ecx
    xorl %eax, %eax
1:  incl %eax
    cmpl $3, %eax
    je 2f
    loop 1b                     /* ECX=0 -> 0xFFFFFFFF: keeps looping */
2:  KV32 "loop from 0 wraps ecx", %ecx
    movl $0x10000, %ecx
    movl $1, %eax
    jecxz 3f
    movl $2, %eax
3:  KV32 "jecxz not taken", %eax, 2
    movl $0x10000, %ecx
    movl $1, %eax
    jcxz 3f                     /* 67 E3: CX = 0 */
    movl $2, %eax
3:  KV32 "jcxz (cx=0) taken", %eax, 2

    /* ---- data movement ---- */
    movl $0x11223344, %eax
    movl $0x55667788, %ebx
    xchgl %eax, %ebx
    KV32 "xchg eax", %eax
    KV32 "xchg ebx", %ebx
    movl $0xAABBCCDD, SCRATCH
    movl $0x12345678, %eax
    xchgb %al, SCRATCH
    KV32 "xchg mem", SCRATCH
    KV32 "xchg al", %eax
    movl $xlat_table, %ebx
    movl $0xFFFFFF03, %eax
    xlatb %cs:(%ebx)
    KV32 "xlat cs:", %eax
    movl $0x12345678, %eax
    bswapl %eax
    KV32 "bswap", %eax
    movl $0x8081, %ebx
    movzbl %bl, %eax
    KV32 "movzx b", %eax
    movsbl %bl, %eax
    KV32 "movsx b", %eax
    movswl %bx, %eax
    KV32 "movsx w", %eax
    movsbw %bl, %ax
    KV32 "movsx b->w keeps upper", %eax
    movl $0x8000, %eax
    cwtl
    KV32 "cwde", %eax
    movl $0x12345680, %eax
    cbtw
    KV32 "cbw", %eax
    movl $0x80000000, %eax
    movl $0, %edx
    cltd
    KV32 "cdq edx", %edx
    movl $0x00008000, %eax
    movl $0x12345678, %edx
    cwtd
    KV32 "cwd edx", %edx
    movl $0x1000, %ebx
    movl $0x20, %esi
    leal 0x7(%ebx,%esi,4), %eax
    KV32 "lea b+i*4+d", %eax
    leal -1(,%esi,8), %eax
    KV32 "lea i*8-1", %eax
    leaw 0x10(%ebx,%esi), %ax   /* 16-bit destination: truncated */
    KV32 "lea 16-bit dest", %eax
    leal 0x10(%bx,%si), %eax
    KV32 "lea 16-bit address", %eax
    movl $0xFFFF, %ebx
    movl $0x2, %esi
    leal (%bx,%si), %eax        /* wraps to 0x0001 */
    KV32 "lea 16-bit address wraps", %eax
    movl $0x5A5A5A5A, SCRATCH + 0x10
    movl SCRATCH + 0x10, %eax   /* A1 moffs32 */
    KV32 "mov moffs load", %eax
    movb $0x42, %al
    movb %al, SCRATCH + 0x11    /* A2 moffs8 */
    KV32 "mov moffs store", SCRATCH + 0x10
    /* far pointers */
    movl $0x13572468, SCRATCH + 0x20
    movw $SEL_DS32, SCRATCH + 0x24
    ldsl SCRATCH + 0x20, %eax
    movl %ds, %ebx
    KV32 "lds offset", %eax
    KV32 "lds ds", %ebx, 4
    lesl SCRATCH + 0x20, %ecx
    lfsl SCRATCH + 0x20, %edx
    movw $0xBEEF, SCRATCH + 0x38
    movw $SEL_DS32, SCRATCH + 0x3A
    lgsw SCRATCH + 0x38, %si
    movl %esi, %eax
    KV32 "lgs 16-bit offset", %eax
    movl %esp, TEST_VAR
    movl $(STACK0 - 0x100), SCRATCH + 0x28
    movw $SEL_DS32, SCRATCH + 0x2C
    lssl SCRATCH + 0x28, %esp
    movl %esp, %eax
    KV32 "lss esp", %eax
    movl TEST_VAR, %esp
    /* far CALL/RET to the same privilege */
    movl %esp, TEST_VAR
    lcall $SEL_CS32, $far_target
    KV32 "lcall pushed cs", %ebx, 4
    movl TEST_VAR, %eax
    subl %esp, %eax
    KV32 "lcall+lret esp delta", %eax
    movl $far_target, SCRATCH + 0x30
    movw $SEL_CS32, SCRATCH + 0x34
    lcall *SCRATCH + 0x30
    KV32 "lcall m16:32 pushed cs", %ebx, 4
    call *%cs:near_ptr
    KV32 "call m32 through cs:", %ecx

    /* ---- 16-bit near CALL/RET/JMP in 32-bit code: EIP is truncated to 16 bits, so the
     * code runs from a RAM copy below 64 KiB ---- */
    movl $near16_code, %esi
    movl $0x6000, %edi
    movl $(near16_code_end - near16_code), %ecx
    cld
    rep movsb
    movl %esp, TEST_VAR
    movl $0x6000, %eax
    call *%eax
    KV32 "call16 pushed ip", %ebx, 4
    KV32 "call16 esp delta in callee", %ecx
    KV32 "jmp16 reached", %edx

    /* ---- 64-bit: ENTER/LEAVE, JRCXZ, LOOP with RCX, PUSH imm, MOVSXD ---- */
    PM32_TO_LM64
    call idt64_init
    movq %rsp, TEST_VAR
    movabsq $0xEBEB0000EBEB0000, %rbp
    enterq $0x20, $1
    movq %rbp, %rax
    subq TEST_VAR, %rax
    KV64 "lm.enter 32,1 rbp-rsp0", %rax
    movq %rsp, %rax
    subq TEST_VAR, %rax
    KV64 "lm.enter 32,1 rsp-rsp0", %rax
    leaveq
    KV64 "lm.leave rbp", %rbp
    movq TEST_VAR, %rsp
    movabsq $0x100000000, %rcx
    movl $1, %eax
    jrcxz 1f
    movl $2, %eax
1:  KV64 "lm.jrcxz rcx=2^32 not taken", %rax, 2
    movabsq $0x100000000, %rcx
    movl $1, %eax
    jecxz 1f
    movl $2, %eax
1:  KV64 "lm.jecxz ecx=0 taken", %rax, 2
    movabsq $0x100000002, %rcx
    xorl %eax, %eax
1:  incl %eax
    cmpl $5, %eax
    je 2f
    loop 1b                     /* RCX: 3 passes would need 2^32+2 */
2:  KV64 "lm.loop rcx", %rcx
    movq %rsp, %rbx
    pushq $-1
    pushw $7
    movq %rbx, %rax
    subq %rsp, %rax
    KV64 "lm.push imm + pushw size", %rax, 2
    movq %rbx, %rsp
    movq %rsp, TEST_VAR
    call lm_ret16
    movq TEST_VAR, %rax
    subq %rsp, %rax
    KV64 "lm.call/ret 16 rsp delta", %rax
    movq TEST_VAR, %rsp
    movl $0x80000000, %eax
    movslq %eax, %rax
    KV64 "lm.movsxd", %rax
    /* PUSH/POP FS/GS are 8 bytes in 64-bit mode */
    movq %rsp, %rbx
    pushq %fs
    movq %rbx, %rax
    subq %rsp, %rax
    KV64 "lm.push fs size", %rax, 2
    popq %gs
    movl %gs, %eax
    KV64 "lm.pop gs", %rax, 4
    movabsq $0x8000000000000000, %rax
    cqto
    KV64 "lm.cqo rdx", %rdx
    movl $xlat_table, %ebx
    movl $2, %eax
    xlatb
    KV64 "lm.xlat", %rax
    movabsq $0x1122334455667788, %rax
    movabs %rax, SCRATCH + 0x40    /* moffs64 */
    movabs SCRATCH + 0x40, %rax
    KV64 "lm.movabs moffs64", %rax
    leaq 0x10(%rip), %rax
    leaq .Lrip_here(%rip), %rbx
.Lrip_here:
    subq %rbx, %rax
    KV64 "lm.lea rip+16 - next", %rax
    PUTS64 "done\n"
    EXIT 0

    .code32
/* copied to 0x6000: CALL rel16 (66 E8) to 0x6100 area, RET (66 C3) back; JMP rel16 (66 E9) */
near16_code:
    movl %esp, %edi
    .byte 0x66, 0xE8            /* call rel16 -> near16_callee */
    .word near16_callee - (. + 2)
    .byte 0x66, 0xE9            /* jmp rel16 -> near16_jmp */
    .word near16_jmp - (. + 2)
    movl $0xBAD, %edx
near16_jmp:
    movl $0x4A4D5031, %edx
    ret
near16_callee:
    movzwl (%esp), %ebx         /* the 16-bit return IP */
    movl %edi, %ecx
    subl %esp, %ecx
    .byte 0x66, 0xC3            /* ret (16-bit) */
near16_code_end:

ret8:
    movl 4(%esp), %ebx
    ret $8
far_target:
    movl 4(%esp), %ebx          /* the pushed CS */
    lret
near_target:
    movl $0x4E454152, %ecx
    ret
    .code64
lm_ret16:
    ret $16

    .section .rodata
xlat_table:
    .byte 0x10, 0x11, 0x12, 0x13, 0x14
    .balign 4
near_ptr:
    .long near_target
