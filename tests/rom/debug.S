/*
 * debug.S - single-step traps (EFLAGS.TF) in protected and long mode: which instructions
 * trap and where, the trap after the instruction that sets TF being skipped, the MOV SS /
 * POP SS shadow, POPF clearing TF, REP string instructions, INT3 under TF, DR6.BS
 * (SDM Vol. 3, "Debug Exceptions": "Single-Step Exception Condition"; Vol. 2 MOV, POPF).
 *
 * A #DB handler of its own logs each saved EIP (relative to the start of the stepped
 * block) and returns with IRET; the log is printed afterwards as "step N: +OFFSET".
 */
#include "rom.h"

#define LOG      (TEST_VAR + 0x100)   /* count, then offsets */
#define LOG_BASE (TEST_VAR + 0x0F8)

.macro PRINT_LOG32 name
    movl LOG, %ecx
    KV32 "\name steps", %ecx, 2
    xorl %esi, %esi
1:  cmpl %ecx, %esi
    jae 2f
    movl LOG + 4(,%esi,4), %eax
    KV32 "\name step", %eax, 4
    incl %esi
    jmp 1b
2:
.endm

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: debug\n"
    RM_TO_PM32
    call idt32_init
    pushl $0x8E
    pushl $SEL_CS32
    pushl $db32
    pushl $1
    call gate32_set

    /* ---- a straight block: the POPF that sets TF is not followed by a trap ---- */
    movl $0, LOG
    movl $blk1, LOG_BASE
    pushfl
    orl $F_TF, (%esp)
blk1:
    popfl                       /* TF=1 from here: no trap after this one */
    nop                         /* +1: trap, saved EIP = +2 */
    movl %eax, %ebx             /* trap, +4 */
    addl $1, %ebx               /* trap, +7 */
    pushfl
    andl $~F_TF, (%esp)
    popfl                       /* clears TF: this one still traps */
    nop
    PRINT_LOG32 "pm.block"
    movl %dr6, %eax
    andl $0xE00F, %eax
    KV32 "pm.dr6 bs", %eax, 4

    /* ---- MOV SS and POP SS delay the trap by one instruction ---- */
    movl $0, LOG
    movl $blk2, LOG_BASE
    movw %ss, %dx
    pushfl
    orl $F_TF, (%esp)
blk2:
    popfl
    nop                         /* trap */
    movw %dx, %ss               /* no trap here ... */
    nop                         /* ... but after this one */
    pushl %edx
    popl %ss                    /* the same for POP SS */
    nop
    nop
    pushfl
    andl $~F_TF, (%esp)
    popfl
    nop
    PRINT_LOG32 "pm.movss"

    /* ---- REP MOVSB: a trap after every iteration, EIP still at the REP ---- */
    movl $SCRATCH, %esi
    movl $SCRATCH + 0x100, %edi
    movl $3, %ecx
    movl $0, LOG
    movl $blk3, LOG_BASE
    pushfl
    orl $F_TF, (%esp)
blk3:
    popfl
    nop
    rep movsb
    nop
    pushfl
    andl $~F_TF, (%esp)
    popfl
    nop
    KV32 "pm.rep ecx", %ecx
    PRINT_LOG32 "pm.rep"

    /* INT3/INT n under TF is not tested: whether a single-step trap is reported at the
     * handler's first instruction is not pinned down by the SDM text */

    /* ================= long mode ================= */
    PM32_TO_LM64
    call idt64_init
    movl $1, %edi
    movl $db64, %esi
    movl $0x8E, %edx
    call gate64_set
    movl $0, LOG
    movl $blk5, LOG_BASE
    pushfq
    orq $F_TF, (%rsp)
blk5:
    popfq
    nop
    movq %rax, %rbx
    pushq %rax
    popq %rax
    pushfq
    andq $~F_TF, (%rsp)
    popfq
    nop
    movl LOG, %ecx
    KV64 "lm.block steps", %rcx, 2
    xorl %esi, %esi
1:  cmpl %ecx, %esi
    jae 2f
    movl LOG + 4(,%rsi,4), %eax
    KV64 "lm.block step", %rax, 4
    incl %esi
    jmp 1b
2:
    PUTS64 "done\n"
    EXIT 0

/* #DB handlers: log EIP - LOG_BASE, return */
    .code32
db32:
    pushl %eax
    pushl %ebx
    movl LOG, %ebx
    movl 8(%esp), %eax
    subl LOG_BASE, %eax
    movl %eax, LOG + 4(,%ebx,4)
    incl %ebx
    movl %ebx, LOG
    popl %ebx
    popl %eax
    iret
    .code64
db64:
    pushq %rax
    pushq %rbx
    movl LOG, %ebx
    movq 16(%rsp), %rax
    subq LOG_BASE, %rax
    movl %eax, LOG + 4(,%rbx,4)
    incl %ebx
    movl %ebx, LOG
    popq %rbx
    popq %rax
    iretq
