/*
 * smc.S - self-modifying code: code copied to RAM, run, patched and run again; a store
 * that patches the very next instruction; a patch through another linear address (a
 * paging alias) and through a REP MOVS; code crossing a page boundary patched in its
 * second page; an instruction fetched from a page made present just before; the same bytes
 * run as 32-bit and as 64-bit code (SDM Vol. 3,
 * "Self-Modifying Code": P6 and later processors detect writes to code that is about to
 * run, by physical address, and execute the new bytes).
 */
#include "rom.h"

#define CODE     0x60000            /* RAM copies of the routines */
#define CODE2    (0x61000 - 4)      /* a routine crossing into the next page */

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: smc\n"
    RM_TO_PM32
    call idt32_init

    /* copy r_imm, run, patch its immediate, run again */
    movl $r_imm, %esi
    movl $CODE, %edi
    movl $(r_imm_end - r_imm), %ecx
    cld
    rep movsb
    movl $CODE, %ebx
    call *%ebx
    KV32 "copied routine", %eax
    movl $0x22222222, CODE + 1  /* the imm32 of its MOV */
    call *%ebx
    KV32 "after patching its immediate", %eax
    movb $0x40, CODE + 5        /* the first RET -> INC EAX; the second RET follows */
    call *%ebx
    KV32 "after patching ret into inc", %eax

    /* a store that patches the next instruction */
    movl $r_next, %esi
    movl $(CODE + 0x100), %edi
    movl $(r_next_end - r_next), %ecx
    rep movsb
    movl $(CODE + 0x100), %ebx
    call *%ebx
    KV32 "store patching the next instruction", %eax
    call *%ebx                  /* the patch stays */
    KV32 "run again", %eax

    /* a REP MOVS over code that already ran */
    movl $0x33333333, SCRATCH + 1
    movb $0xB8, SCRATCH
    movl $(SCRATCH), %esi
    movl $CODE, %edi
    movl $5, %ecx
    rep movsb                   /* mov eax, 0x33333333 */
    movl $CODE, %ebx
    call *%ebx
    KV32 "after rep movs patch", %eax

    /* code crossing a page boundary, patched in the second page */
    movl $r_cross, %esi
    movl $CODE2, %edi
    movl $(r_cross_end - r_cross), %ecx
    rep movsb
    movl $CODE2, %ebx
    call *%ebx
    KV32 "page-crossing routine", %eax
    movb $0x77, CODE2 + 4       /* the imm32's top byte, in the second page */
    call *%ebx
    KV32 "page-crossing patched in page 2", %eax

    /* a patch through another linear address: 4 MiB alias of 0-4 MiB at 4 MiB */
    movl $0x20000, %edi
    movl $1024, %ecx
    xorl %eax, %eax
    rep stosl
    movl $(0x00000000 | 0x83), 0x20000 + 0 * 4     /* 4 MiB page: identity */
    movl $(0x00000000 | 0x83), 0x20000 + 1 * 4     /* 4 MiB page: alias at 4 MiB */
    movl $(0xFFC00000 | 0x83), 0x20000 + 0x3FF * 4 /* the ROM */
    movl $0x20000, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $0x10, %eax
    movl %eax, %cr4
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
    movl $0x44444444, 0x400000 + CODE + 1   /* through the alias */
    movl $CODE, %ebx
    call *%ebx
    KV32 "patched through a linear alias", %eax
    /* an instruction page made present just before the call */
    movl $(0x00000000 | 0x83), 0x20000 + 2 * 4     /* 8 MiB: alias again */
    movl $0x800000 + CODE, %ebx
    call *%ebx
    KV32 "run from a page mapped just before", %eax
    movl %cr0, %eax
    andl $0x7FFFFFFF, %eax
    movl %eax, %cr0
    movl %cr4, %eax
    andl $~0x10, %eax
    movl %eax, %cr4

    /* the same bytes in two modes: 40 C3 is INC EAX; RET in 32-bit code and a REX-prefixed
     * RET in 64-bit code (a decoded-instruction cache must tell the modes apart) */
    movw $0xC340, CODE + 0x200
    movl $5, %eax
    movl $(CODE + 0x200), %ebx
    call *%ebx
    KV32 "40 c3 as 32-bit code", %eax
    PM32_TO_LM64
    movl $5, %eax
    movl $(CODE + 0x200), %ebx
    call *%rbx
    KV64 "40 c3 as 64-bit code", %rax, 8
    PUTS64 "done\n"
    EXIT 0

/* routines, copied to RAM */
r_imm:
    movl $0x11111111, %eax      /* B8 imm32 */
    ret                         /* CODE + 5 */
    ret
r_imm_end:
r_next:
    movb $0x42, 1f + 1 - r_next + CODE + 0x100    /* patches the imm8 below */
1:  movb $0x00, %al
    movzbl %al, %eax
    ret
r_next_end:
r_cross:
    movl $0x00112233, %eax      /* B8 at CODE2, imm32 at CODE2+1..+4: crosses at +4 */
    ret
r_cross_end:
