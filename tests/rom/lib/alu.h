/*
 * alu.h - macros of the ALU ROMs (alu_flags.S, shift_muldiv.S): load operands and EFLAGS,
 * run one instruction, print "name: r=RESULT f=FLAGS" with FLAGS masked to the flags the
 * SDM defines for that instruction and case. The print helpers are in lib/alu.S.
 */
#ifndef SMMVM_TESTS_ROM_LIB_ALU_H
#define SMMVM_TESTS_ROM_LIB_ALU_H
#include "rom.h"

#define DEFS_LOGIC (F_CF | F_PF | F_ZF | F_SF | F_OF)
#define ALLF 0x8D5  /* OF SF ZF AF PF CF all set, as an input pattern */

.macro SETF fin
    pushl $(2 | (\fin))
    popfl
.endm
.macro RF sz, mask, name
    .ifdef ALU_CODE16           /* set by a ROM that runs these macros in 16-bit code */
    pushfl
    pushl %eax
    pushl $(\mask)
    .ifc \sz,b
    pushl $2
    .endif
    .ifc \sz,w
    pushl $4
    .endif
    .ifc \sz,l
    pushl $8
    .endif
    pushw $9f
    call rf16
    .else
    pushfl
    pushl %eax
    pushl $(\mask)
    .ifc \sz,b
    pushl $2
    .endif
    .ifc \sz,w
    pushl $4
    .endif
    .ifc \sz,l
    pushl $8
    .endif
    pushl $9f
    call rf32
    .endif
    NAMESTR "\name"
.endm

/* two-operand: op %b, %a */
.macro ALU2 op, sz, a, b, fin=0, mask=F_ALU
    movl $(\a), %eax
    movl $(\b), %ebx
    SETF \fin
    .ifc \sz,b
    \op\sz %bl, %al
    .endif
    .ifc \sz,w
    \op\sz %bx, %ax
    .endif
    .ifc \sz,l
    \op\sz %ebx, %eax
    .endif
    RF \sz, \mask, "\op\().\sz \a,\b f\fin"
.endm
/* one-operand: op %a */
.macro ALU1 op, sz, a, fin=0, mask=F_ALU
    movl $(\a), %eax
    SETF \fin
    .ifc \sz,b
    \op\sz %al
    .endif
    .ifc \sz,w
    \op\sz %ax
    .endif
    .ifc \sz,l
    \op\sz %eax
    .endif
    RF \sz, \mask, "\op\().\sz \a f\fin"
.endm

/* shifts and rotates by CL, with the defined-flag mask computed from the count */
.macro SHIFT op, sz, a, cnt, fin=0
    .ifc \sz,b
    .set width, 8
    .endif
    .ifc \sz,w
    .set width, 16
    .endif
    .ifc \sz,l
    .set width, 32
    .endif
    .set mc, (\cnt) & 31
    .set smask, F_ALU
    .if mc != 0
      .set isrot, 0
      .ifc \op,rol
        .set isrot, 1
      .endif
      .ifc \op,ror
        .set isrot, 1
      .endif
      .ifc \op,rcl
        .set isrot, 1
      .endif
      .ifc \op,rcr
        .set isrot, 1
      .endif
      .if isrot
        .if mc != 1
          .set smask, F_ALU & ~F_OF
        .endif
      .else
        .if mc == 1
          .set smask, F_ALU & ~F_AF
        .elseif mc < width
          .set smask, F_CF | F_PF | F_ZF | F_SF
        .else
          .set smask, F_PF | F_ZF | F_SF
          .ifc \op,sar
            .set smask, F_CF | F_PF | F_ZF | F_SF
          .endif
        .endif
      .endif
    .endif
    movl $(\a), %eax
    movb $(\cnt), %cl
    SETF \fin
    .ifc \sz,b
    \op\sz %cl, %al
    .endif
    .ifc \sz,w
    \op\sz %cl, %ax
    .endif
    .ifc \sz,l
    \op\sz %cl, %eax
    .endif
    RF \sz, smask, "\op\().\sz \a,\cnt f\fin"
.endm

.macro RF64 mask, name
    pushfq
    pushq %rax
    pushq $(\mask)
    pushq $0
    movl $9f, (%rsp)
    call rf64
    NAMESTR "\name"
.endm
.macro ALU64 op, a, b, fin=0, mask=F_ALU
    movabsq $(\a), %rax
    movabsq $(\b), %rbx
    pushq $(2 | (\fin))
    popfq
    \op\()q %rbx, %rax
    RF64 \mask, "\op\().q \a,\b f\fin"
.endm

#endif
