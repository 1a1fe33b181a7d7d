/*
 * alu16.S - the ALU groups in real mode, where 16 bits is the default operand size: ADD
 * ADC SUB SBB CMP AND OR XOR TEST INC DEC NEG, shifts and rotates on 8- and 16-bit operands,
 * and 66-prefixed 32-bit forms. Line format and flag masks as in alu_flags.S (the same
 * macros, printed through rf16); checked by tools/alu_model.py as well.
 */
#include "alu.h"

    .set ALU_CODE16, 1

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: alu16\n"
    .irp op, add, adc, sub, sbb, cmp
    .irp a, 0, 0x7fff, 0x8000, 0xffff
    .irp b, 1, 0x8000, 0xffff
    ALU2 \op, w, \a, \b, 1
    .endr
    .endr
    .irp a, 0x7f, 0x80
    .irp b, 0x01, 0xff
    ALU2 \op, b, \a, \b, 0
    .endr
    .endr
    ALU2 \op, l, 0x7fffffff, 1, 0
    ALU2 \op, l, 0x80000000, 0xffffffff, 1
    .endr
    .irp op, and, or, xor, test
    ALU2 \op, w, 0x8001, 0xff00, ALLF, DEFS_LOGIC
    ALU2 \op, b, 0x5a, 0xa5, ALLF, DEFS_LOGIC
    ALU2 \op, l, 0x80000001, 0xffff0000, 0, DEFS_LOGIC
    .endr
    .irp op, inc, dec, neg
    .irp a, 0, 0x7fff, 0x8000, 0xffff
    ALU1 \op, w, \a, ALLF
    ALU1 \op, w, \a, 0
    .endr
    ALU1 \op, b, 0x80, 0
    ALU1 \op, l, 0x7fffffff, 0
    .endr
    .irp op, shl, shr, sar, rol, ror, rcl, rcr
    .irp cnt, 0, 1, 7, 15, 16, 17, 31, 33
    SHIFT \op, w, 0x8001, \cnt, 0
    SHIFT \op, w, 0x4000, \cnt, ALLF
    .endr
    SHIFT \op, b, 0x81, 9, ALLF
    SHIFT \op, l, 0x80000001, 31, 0
    .endr
    PUTS16 "done\n"
    EXIT 0
