/*
 * alu_flags.S - results and flags of ADD ADC SUB SBB CMP AND OR XOR TEST INC DEC NEG NOT,
 * CMPXCHG XADD CMPXCHG8B CMPXCHG16B, BCD (DAA DAS AAA AAS AAM AAD), LAHF SAHF PUSHF POPF CLC STC CMC
 * STD CLD, SETcc and CMOVcc, in 32-bit protected mode (8/16/32-bit operands) and 64-bit
 * mode (64-bit operands).
 *
 * Line format: "op.size a,b fIN: r=RESULT f=FLAGS", where fIN is the EFLAGS value loaded
 * (with POPF) before the instruction and FLAGS is EFLAGS after it ANDed with the flags the
 * SDM defines for that instruction and case (Vol. 2, each instruction's "Flags Affected"):
 *   ADD ADC SUB SBB CMP NEG XADD CMPXCHG: OF SF ZF AF PF CF
 *   AND OR XOR TEST: OF=CF=0, SF ZF PF; AF undefined
 *   INC DEC: OF SF ZF AF PF; CF unaffected (so defined: it must keep its input value)
 *   SHL SHR SAR, masked count 0: no flag changes; 1: all but AF; 2..width-1: CF SF ZF PF;
 *     >= width (SHL/SHR): SF ZF PF only (CF undefined); SAR: CF SF ZF PF
 *   ROL ROR RCL RCR: only CF and OF change; OF defined only for masked count 1; masked
 *     count 0 changes nothing
 *   SHLD SHRD (32-bit, count <= 31): like shifts; counts over the width not tested
 *   MUL IMUL: CF OF only; DIV IDIV: no flags (none printed)
 *   BT BTS BTR BTC: CF (ZF unaffected); BSF BSR: ZF (destination printed only if source != 0)
 *   DAA DAS: CF AF SF ZF PF; AAA AAS: CF AF; AAM AAD: SF ZF PF
 * Undefined results (BSF/BSR of 0, SHLD/SHRD beyond the width) are never printed.
 */
#include "alu.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: alu_flags\n"
    RM_TO_PM32
    call idt32_init

    /* ---------------- ADD ADC SUB SBB CMP ---------------- */
    .irp op, add, sub, cmp
    .irp a, 0, 1, 0x7f, 0x80, 0xff
    .irp b, 0, 1, 0x7f, 0x80, 0xff
    ALU2 \op, b, \a, \b
    .endr
    .endr
    .endr
    .irp op, adc, sbb
    .irp fin, 0, 1
    .irp a, 0, 1, 0x7f, 0x80, 0xff
    .irp b, 0, 1, 0x7f, 0x80, 0xff
    ALU2 \op, b, \a, \b, \fin
    .endr
    .endr
    .endr
    .endr
    .irp op, add, adc, sub, sbb, cmp
    .irp a, 0, 0x7fff, 0x8000, 0xffff
    .irp b, 1, 0x8000, 0xffff
    ALU2 \op, w, \a, \b, 1
    .endr
    .endr
    .irp a, 0, 0x7fffffff, 0x80000000, 0xffffffff
    .irp b, 1, 0x80000000, 0xffffffff
    ALU2 \op, l, \a, \b, 1
    .endr
    .endr
    ALU2 \op, l, 0x12345678, 0x0fedcba9, ALLF
    ALU2 \op, l, 0x0000000f, 0x00000001, 0
    .endr

    /* ---------------- AND OR XOR TEST ---------------- */
    .irp op, and, or, xor, test
    .irp a, 0, 0x80, 0xff, 0x5a
    .irp b, 0, 0x80, 0xff, 0xa5
    ALU2 \op, b, \a, \b, ALLF, DEFS_LOGIC
    .endr
    .endr
    ALU2 \op, w, 0x8001, 0xff00, ALLF, DEFS_LOGIC
    ALU2 \op, l, 0x80000001, 0xffff0000, ALLF, DEFS_LOGIC
    ALU2 \op, l, 0x00000003, 0x00000001, 0, DEFS_LOGIC
    .endr

    /* ---------------- INC DEC NEG NOT ---------------- */
    .irp op, inc, dec, neg
    .irp fin, 0, ALLF
    .irp a, 0, 1, 0x0f, 0x7f, 0x80, 0xff
    ALU1 \op, b, \a, \fin
    .endr
    ALU1 \op, w, 0x7fff, \fin
    ALU1 \op, w, 0x8000, \fin
    ALU1 \op, l, 0x7fffffff, \fin
    ALU1 \op, l, 0x80000000, \fin
    ALU1 \op, l, 0xffffffff, \fin
    ALU1 \op, l, 0, \fin
    .endr
    .endr
    ALU1 not, b, 0x5a, ALLF
    ALU1 not, w, 0x1234, 0
    ALU1 not, l, 0x80000001, ALLF

    /* ---------------- CMPXCHG XADD ---------------- */
    movl $5, %eax
    movl $5, SCRATCH
    movl $9, %ebx
    SETF 0
    cmpxchgl %ebx, SCRATCH
    RF l, F_ALU, "cmpxchg.l equal eax"
    movl SCRATCH, %eax
    KV32 "cmpxchg.l equal mem", %eax
    movl $4, %eax
    movl $5, SCRATCH
    movl $9, %ebx
    SETF 0
    cmpxchgl %ebx, SCRATCH
    RF l, F_ALU, "cmpxchg.l differ eax"
    movl SCRATCH, %eax
    KV32 "cmpxchg.l differ mem", %eax
    movb $0x80, %al
    movb $0x7f, %bl
    movb $0x33, %cl
    SETF 0
    cmpxchgb %cl, %bl
    RF b, F_ALU, "cmpxchg.b differ al"
    movzbl %bl, %eax
    KV32 "cmpxchg.b differ bl", %eax, 2
    movl $0x7fffffff, %eax
    movl $1, %ebx
    SETF 0
    xaddl %eax, %ebx
    pushfl
    KV32 "xadd.l 0x7fffffff,1 src", %eax
    movl %ebx, %eax
    popfl
    RF l, F_ALU, "xadd.l 0x7fffffff,1 dst"
    movb $0xff, %al
    movb $0x01, SCRATCH
    SETF 0
    lock xaddb %al, SCRATCH
    pushfl
    movzbl %al, %eax
    KV32 "xadd.b lock src", %eax, 2
    movzbl SCRATCH, %eax
    popfl
    RF b, F_ALU, "xadd.b lock dst"
    movl $0x11111111, %eax
    movl $0x22222222, %edx
    movl $0x11111111, SCRATCH
    movl $0x22222222, SCRATCH + 4
    movl $0x33333333, %ebx
    movl $0x44444444, %ecx
    SETF 0
    cmpxchg8b SCRATCH
    pushfl
    popl %esi
    andl $F_ZF, %esi
    KV32 "cmpxchg8b equal zf", %esi, 4
    movl SCRATCH + 4, %eax
    KV32 "cmpxchg8b equal mem_hi", %eax
    movl $0, %eax
    movl $0, %edx
    SETF F_ZF
    cmpxchg8b SCRATCH
    pushfl
    popl %esi
    andl $F_ZF, %esi
    KV32 "cmpxchg8b differ zf", %esi, 4
    KV32 "cmpxchg8b differ edx", %edx
    KV32 "cmpxchg8b differ eax", %eax

    /* ---------------- BCD (legacy modes only) ---------------- */
.macro BCD op, ax, fin, mask
    movl $(\ax), %eax
    SETF \fin
    \op
    RF w, \mask, "\op \ax f\fin"
.endm
    .irp v, 0x0000, 0x0009, 0x000a, 0x0019, 0x009a, 0x00a0, 0x00ff, 0x0199
    BCD daa, \v, 0, F_CF | F_AF | F_SF | F_ZF | F_PF
    BCD daa, \v, F_AF, F_CF | F_AF | F_SF | F_ZF | F_PF
    BCD das, \v, 0, F_CF | F_AF | F_SF | F_ZF | F_PF
    BCD das, \v, F_CF, F_CF | F_AF | F_SF | F_ZF | F_PF
    BCD aaa, \v, 0, F_CF | F_AF
    BCD aaa, \v, F_AF, F_CF | F_AF
    BCD aas, \v, 0, F_CF | F_AF
    BCD aas, \v, F_AF, F_CF | F_AF
    BCD aam, \v, 0, F_SF | F_ZF | F_PF
    BCD aad, \v, 0, F_SF | F_ZF | F_PF
    .endr
    movl $0x0063, %eax
    SETF 0
    aam $16
    RF w, F_SF | F_ZF | F_PF, "aam16 0x63"
    movl $0x0305, %eax
    SETF 0
    aad $16
    RF w, F_SF | F_ZF | F_PF, "aad16 0x305"

    /* ---------------- LAHF SAHF PUSHF POPF CLC STC CMC ---------------- */
    .irp v, 0x00, 0xff, 0xd5, 0x2a
    movl $(\v << 8), %eax
    SETF 0
    sahf
    pushfl
    popl %ebx
    KV32 "sahf \v eflags", %ebx
    movl $0, %eax
    lahf
    KV32 "lahf after sahf \v", %eax, 4
    .endr
    pushl $0xFFFFFCFF           /* everything except TF and IF */
    popfl
    pushfl
    popl %eax
    pushl $2
    popfl
    KV32 "popf all_but_tf_if", %eax
    pushl $0
    popfl
    pushfl
    popl %eax
    KV32 "popf zero", %eax
    pushw $0xFFFF & ~F_TF & ~F_IF
    popfw
    pushfw
    popw %ax
    movzwl %ax, %eax
    pushl $2
    popfl
    KV32 "popfw", %eax, 4
    SETF 0
    stc
    pushfl
    cmc
    pushfl
    clc
    pushfl
    std
    pushfl
    cld
    pushfl
    popl %eax
    KV32 "cld", %eax
    popl %eax
    KV32 "std", %eax
    popl %eax
    KV32 "clc", %eax
    popl %eax
    KV32 "cmc", %eax
    popl %eax
    KV32 "stc", %eax

    /* ---------------- SETcc / CMOVcc over flag patterns ----------------
     * For each input pattern of CF PF ZF SF OF, a 16-bit mask whose bit n is SETcc with
     * condition code n (o no b ae e ne be a s ns p np l ge le g). */
    xorl %edi, %edi
1:  movl %edi, %eax
    xorl %edx, %edx             /* build EFLAGS from the 5 bits of EDI */
    testb $1, %al
    jz 2f
    orl $F_CF, %edx
2:  testb $2, %al
    jz 2f
    orl $F_PF, %edx
2:  testb $4, %al
    jz 2f
    orl $F_ZF, %edx
2:  testb $8, %al
    jz 2f
    orl $F_SF, %edx
2:  testb $16, %al
    jz 2f
    orl $F_OF, %edx
2:  orl $2, %edx
    xorl %ebx, %ebx
    .irp cc, o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
    pushl %edx
    popfl
    set\cc %al
    shll $1, %ebx
    orb %al, %bl
    .endr
    movl %ebx, %esi
    /* the same conditions through CMOVcc: 16 bits more, must equal the SETcc ones */
    xorl %ebx, %ebx
    .irp cc, o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
    movl $0, %eax
    movl $1, %ecx
    pushl %edx
    popfl
    cmov\cc %ecx, %eax
    shll $1, %ebx
    orl %eax, %ebx
    .endr
    shll $16, %ebx
    orl %esi, %ebx
    pushl %ebx
    pushl %edx
    call print_cc
    incl %edi
    cmpl $32, %edi
    jb 1b

    /* ---------------- 64-bit operands ---------------- */
    PM32_TO_LM64
    call idt64_init
    .irp op, add, adc, sub, sbb
    .irp a, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff
    .irp b, 1, 0xffffffffffffffff
    ALU64 \op, \a, \b, 1
    .endr
    .endr
    .endr
    ALU64 and, 0xff00ff00ff00ff00, 0x8000000000000001, ALLF, DEFS_LOGIC
    ALU64 xor, 0x8000000000000000, 0x8000000000000000, ALLF, DEFS_LOGIC
    .irp op, shl, shr, sar
    .irp cnt, 0, 1, 33, 63, 64, 65
    .set mc, (\cnt) & 63
    .if mc == 0
    .set smask, F_ALU
    .elseif mc == 1
    .set smask, F_ALU & ~F_AF
    .else
    .set smask, F_CF | F_PF | F_ZF | F_SF
    .endif
    movabsq $0x8000000000000001, %rax
    movb $\cnt, %cl
    pushq $2
    popfq
    \op\()q %cl, %rax
    RF64 smask, "\op\().q 0x8000000000000001,\cnt"
    .endr
    .endr
    movabsq $0x0000000100000000, %rax
    movabsq $0x0000000100000000, %rbx
    mulq %rbx
    pushfq
    KV64 "mul.q rdx", %rdx
    popfq
    RF64 F_CF | F_OF, "mul.q rax"
    movq $-2, %rax
    movq $3, %rbx
    imulq %rbx
    pushfq
    KV64 "imul.q rdx", %rdx
    popfq
    RF64 F_CF | F_OF, "imul.q rax"
    movq $-7, %rax
    cqto
    movq $2, %rbx
    idivq %rbx
    KV64 "idiv.q -7/2 rax", %rax
    KV64 "idiv.q -7/2 rdx", %rdx
    movl $0x80, %eax
    cbtw
    cwtl
    cltq
    KV64 "cbw_cwde_cdqe 0x80", %rax
    movabsq $0x8000000000000000, %rbx
    bsrq %rbx, %rax
    RF64 F_ZF, "bsr.q 0x8000000000000000"
    movl $63, %ebx
    movq $1, %rax
    pushq $(2 | F_ZF)
    popfq
    btsq %rbx, %rax
    RF64 F_CF | F_ZF, "bts.q 1,63"
    /* CMOV with a 32-bit destination writes (zero-extends) even when false */
    movq $-1, %rax
    movl $5, %ecx
    pushq $(2 | F_ZF)
    popfq
    cmovnel %ecx, %eax
    KV64 "cmovne.l false zero-extends", %rax
    movq $-1, %rax
    pushq $(2 | F_ZF)
    popfq
    cmovneq %rcx, %rax
    KV64 "cmovne.q false keeps", %rax
    /* CMPXCHG16B (CX16 is advertised by both reference models); needs 16-byte alignment */
    movabsq $0x1111111111111111, %rax
    movabsq $0x2222222222222222, %rdx
    movq %rax, SCRATCH + 0x40
    movq %rdx, SCRATCH + 0x48
    movabsq $0x3333333333333333, %rbx
    movabsq $0x4444444444444444, %rcx
    pushq $2
    popfq
    lock cmpxchg16b SCRATCH + 0x40
    pushfq
    popq %rsi
    andl $F_ZF, %esi
    KV64 "cmpxchg16b equal zf", %rsi, 4
    movq SCRATCH + 0x48, %rsi
    KV64 "cmpxchg16b equal mem_hi", %rsi
    xorl %eax, %eax
    xorl %edx, %edx
    cmpxchg16b SCRATCH + 0x40
    pushfq
    popq %rsi
    andl $F_ZF, %esi
    KV64 "cmpxchg16b differ zf", %rsi, 4
    KV64 "cmpxchg16b differ rdx", %rdx
    KV64 "cmpxchg16b differ rax", %rax
    TRY64 "cmpxchg16b misaligned", cmpxchg16b SCRATCH + 0x48
    movabsq $0x0123456789abcdef, %rax
    bswapq %rax
    KV64 "bswap.q", %rax
    movl $0x80000000, %eax
    movslq %eax, %rbx
    KV64 "movsxd", %rbx
    /* LAHF/SAHF in 64-bit mode need CPUID LAHF_LM, which both reference models have */
    movl $0xd500, %eax
    sahf
    movl $0, %eax
    lahf
    KV64 "lahf 64-bit", %rax, 4

    PUTS64 "done\n"
    EXIT 0

