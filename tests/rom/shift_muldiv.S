/*
 * shift_muldiv.S - results and flags of SHL SHR SAR ROL ROR RCL RCR (CL, 1 and imm8 forms,
 * count 0, 1, masking), SHLD SHRD, MUL IMUL (1/2/3 operands) DIV IDIV, BT BTS BTR BTC
 * (register and memory bit offsets), BSF BSR, in 32-bit protected mode, plus a few 64-bit
 * forms. Line format and flag masks: see alu_flags.S.
 */
#include "alu.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: shift_muldiv\n"
    RM_TO_PM32
    call idt32_init

    /* ---------------- shifts and rotates ---------------- */
    .irp op, shl, shr, sar, rol, ror, rcl, rcr
    .irp cnt, 0, 1, 2, 7, 8, 9, 17, 31, 32, 33
    SHIFT \op, b, 0x81, \cnt, 0
    SHIFT \op, b, 0x41, \cnt, ALLF
    .endr
    .irp cnt, 0, 1, 4, 15, 16, 17, 31, 33
    SHIFT \op, w, 0x8001, \cnt, 0
    SHIFT \op, w, 0x4000, \cnt, ALLF
    .endr
    .irp cnt, 0, 1, 4, 31, 32, 33, 63
    SHIFT \op, l, 0x80000001, \cnt, 0
    SHIFT \op, l, 0x40000000, \cnt, ALLF
    .endr
    .endr
    /* the short forms: shift by 1 (D1) and by imm8 (C1) */
    movl $0x80000001, %eax
    SETF 0
    shll $1, %eax
    RF l, F_ALU & ~F_AF, "shl1.l 0x80000001"
    movl $0x40000000, %eax
    SETF 0
    sarl $1, %eax
    RF l, F_ALU & ~F_AF, "sar1.l 0x40000000"
    movl $0x80000000, %eax
    SETF 0
    rorl $1, %eax
    RF l, F_ALU, "ror1.l 0x80000000"
    movl $0x12345678, %eax
    SETF ALLF
    shrl $36, %eax              /* imm8 masked to 4 */
    RF l, F_CF | F_PF | F_ZF | F_SF, "shr_imm.l 0x12345678,36"
    movl $0x12345678, %eax
    SETF ALLF
    roll $32, %eax              /* masked to 0: nothing changes */
    RF l, F_ALU, "rol_imm.l 0x12345678,32"

    /* ---------------- SHLD SHRD ---------------- */
    .irp op, shld, shrd
    .irp cnt, 0, 1, 4, 31, 32, 36
    .set mc, (\cnt) & 31
    .if mc == 0
    .set dmask, F_ALU
    .elseif mc == 1
    .set dmask, F_ALU & ~F_AF
    .else
    .set dmask, F_CF | F_PF | F_ZF | F_SF
    .endif
    movl $0x80000001, %eax
    movl $0x9ABCDEF0, %ebx
    movb $\cnt, %cl
    SETF 0
    \op\()l %cl, %ebx, %eax
    RF l, dmask, "\op\().l 0x80000001,0x9abcdef0,\cnt"
    .endr
    movw $0x8001, %ax
    movw $0x1234, %bx
    SETF ALLF
    \op\()w $4, %bx, %ax
    RF w, F_CF | F_PF | F_ZF | F_SF, "\op\().w 0x8001,0x1234,4"
    .endr

    /* ---------------- MUL IMUL DIV IDIV ---------------- */
    .irp a, 0, 1, 0x7f, 0x80, 0xff
    .irp b, 1, 0x7f, 0x80, 0xff
    movl $\a, %eax
    movl $\b, %ebx
    SETF 0
    mulb %bl
    RF w, F_CF | F_OF, "mul.b \a,\b"
    movl $\a, %eax
    SETF 0
    imulb %bl
    RF w, F_CF | F_OF, "imul.b \a,\b"
    .endr
    .endr
    .irp a, 0x7fff, 0x8000, 0xffff
    .irp b, 2, 0x8000, 0xffff
    movl $\a, %eax
    movl $\b, %ebx
    movl $0x5555, %edx
    SETF 0
    mulw %bx
    pushfl
    shll $16, %edx
    movw %ax, %dx
    movl %edx, %eax
    popfl
    RF l, F_CF | F_OF, "mul.w \a,\b (dx:ax)"
    movl $\a, %eax
    SETF 0
    imulw %bx
    pushfl
    shll $16, %edx
    movw %ax, %dx
    movl %edx, %eax
    popfl
    RF l, F_CF | F_OF, "imul.w \a,\b (dx:ax)"
    .endr
    .endr
    .irp a, 1, 0x7fffffff, 0x80000000, 0xffffffff
    .irp b, 2, 0xffffffff
    movl $\a, %eax
    movl $\b, %ebx
    SETF 0
    mull %ebx
    KV32 "mul.l \a,\b edx", %edx
    RF l, F_CF | F_OF, "mul.l \a,\b eax"
    movl $\a, %eax
    SETF 0
    imull %ebx
    KV32 "imul.l \a,\b edx", %edx
    RF l, F_CF | F_OF, "imul.l \a,\b eax"
    movl $\a, %eax
    SETF 0
    imull %ebx, %eax
    RF l, F_CF | F_OF, "imul2.l \a,\b"
    movl $\a, %ebx
    SETF 0
    imull $-3, %ebx, %eax
    RF l, F_CF | F_OF, "imul3.l \a,-3"
    .endr
    .endr
    movw $0x4000, %bx
    SETF 0
    imulw $2, %bx, %ax
    RF w, F_CF | F_OF, "imul3.w 0x4000,2"
    movw $0x4000, %bx
    SETF 0
    imulw $-2, %bx, %ax
    RF w, F_CF | F_OF, "imul3.w 0x4000,-2"

    /* DIV/IDIV: quotient and remainder (flags undefined); faults in exceptions.S */
.macro DIVT op, sz, hi, lo, d
    movl $(\hi), %edx
    movl $(\lo), %eax
    movl $(\d), %ebx
    .ifc \sz,b
    movl $((\hi) << 8 | (\lo)), %eax
    \op\sz %bl
    movzwl %ax, %eax
    KV32 "\op\().\sz \hi:\lo/\d ah:al", %eax, 4
    .endif
    .ifc \sz,w
    \op\sz %bx
    shll $16, %edx
    movw %ax, %dx
    KV32 "\op\().\sz \hi:\lo/\d dx:ax", %edx
    .endif
    .ifc \sz,l
    \op\sz %ebx
    KV32 "\op\().\sz \hi:\lo/\d eax", %eax
    KV32 "\op\().\sz \hi:\lo/\d edx", %edx
    .endif
.endm
    DIVT div, b, 0x00, 0xff, 0x10
    DIVT div, b, 0x0f, 0xff, 0x10
    DIVT idiv, b, 0xff, 0x80, 0x02
    DIVT idiv, b, 0xff, 0x81, 0xfe
    DIVT idiv, b, 0x00, 0x7f, 0xfd
    DIVT div, w, 0x0001, 0x0000, 0x0003
    DIVT idiv, w, 0xffff, 0xfff9, 0x0002
    DIVT idiv, w, 0x0000, 0x0007, 0xfffe
    DIVT div, l, 0x00000001, 0x00000000, 0x00000010
    DIVT div, l, 0x00000000, 0xffffffff, 0x00000007
    DIVT idiv, l, 0xffffffff, 0xfffffff9, 0x00000002
    DIVT idiv, l, 0xffffffff, 0x80000000, 0x00000001
    DIVT idiv, l, 0x00000000, 0x00000007, 0xfffffffe

    /* ---------------- BT BTS BTR BTC, BSF BSR ---------------- */
    .irp op, bt, bts, btr, btc
    .irp bit, 0, 5, 31, 32, 37
    movl $0x80000021, %eax
    movl $\bit, %ebx
    SETF 0
    \op\()l %ebx, %eax
    RF l, F_CF | F_ZF, "\op\().l reg 0x80000021,\bit"
    movl $0x80000021, %eax
    SETF ALLF
    \op\()l $\bit, %eax
    RF l, F_CF | F_ZF, "\op\().l imm 0x80000021,\bit"
    .endr
    .irp bit, 1, 16, 31
    movw $0x8002, %ax
    movw $\bit, %bx
    SETF 0
    \op\()w %bx, %ax
    RF w, F_CF | F_ZF, "\op\().w reg 0x8002,\bit"
    .endr
    /* memory forms: the register bit offset is signed and selects another dword */
    .irp bit, 3, 35, 64, -1, -29
    movl $0x00000008, SCRATCH + 0x100
    movl $0x00000008, SCRATCH + 0x104
    movl $0x80000000, SCRATCH + 0x0FC
    movl $0x00000000, SCRATCH + 0x108
    xorl %eax, %eax
    movl $(\bit), %ebx
    SETF 0
    \op\()l %ebx, SCRATCH + 0x100
    RF l, F_CF | F_ZF, "\op\().l mem \bit"
    movl SCRATCH + 0x0FC, %eax
    KV32 "\op\().l mem \bit dword-1", %eax
    movl SCRATCH + 0x100, %eax
    KV32 "\op\().l mem \bit dword0", %eax
    movl SCRATCH + 0x104, %eax
    KV32 "\op\().l mem \bit dword1", %eax
    movl SCRATCH + 0x108, %eax
    KV32 "\op\().l mem \bit dword2", %eax
    .endr
    .endr
    .irp op, bsf, bsr
    .irp v, 1, 0x80000000, 0x00f0f000, 0xffffffff
    movl $\v, %ebx
    movl $0xdead, %eax
    SETF 0
    \op\()l %ebx, %eax
    RF l, F_ZF, "\op\().l \v"
    .endr
    movw $0x0180, %bx
    SETF 0
    \op\()w %bx, %ax
    RF w, F_ZF, "\op\().w 0x0180"
    xorl %ebx, %ebx
    SETF 0
    \op\()l %ebx, %eax
    pushfl
    popl %eax
    andl $F_ZF, %eax
    KV32 "\op\().l 0 zf", %eax, 4    /* destination undefined, not printed */
    .endr
    /* popcnt is not tested: QEMU's default CPU model does not advertise it */

    PUTS32 "done\n"
    EXIT 0
