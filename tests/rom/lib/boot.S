/*
 * boot.S - reset vector, GDT template and the lib's long-mode identity map.
 *
 * Reset: CS base 0xFFFF0000, IP 0xFFF0, real mode. We far-jump to the alias below 1 MiB
 * (CS=0xF000), zero the data segments, copy the GDT template to GDT_BASE (RAM, so LTR can
 * set the busy bit and tests can edit descriptors) and enter the ROM's main16.
 */
#include "rom.h"

    .section .reset, "ax"
    .code16
    .globl reset_vector
reset_vector:
    cli
    ljmp $0xF000, $boot16

    .section .text.first, "ax"
    .code16
boot16:
    cld
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $STACK_RM, %esp
    movw $gdt_template, %si
    movw $GDT_BASE, %di
    movw $(gdt_template_end - gdt_template), %cx
    rep movsb %cs:(%si), %es:(%di)
    pushl $2                    /* defined EFLAGS for main16 (XOR left AF undefined) */
    popfl
    jmp main16

    .section .rodata, "a"
    .balign 8
    .globl gdt_template, gdt_template_end, gdt_desc, ivt_desc
gdt_template:
    .quad 0                     /* 0x00 null */
    .quad 0x00CF9B000000FFFF    /* 0x08 CS32 flat, DPL 0 (accessed) */
    .quad 0x00CF93000000FFFF    /* 0x10 DS32 flat, DPL 0 */
    .quad 0x00AF9B000000FFFF    /* 0x18 CS64, DPL 0 */
    .quad 0x00CF93000000FFFF    /* 0x20 DS flat, DPL 0 (SYSCALL SS) */
    .quad 0x00CFFB000000FFFF    /* 0x28 CS32 flat, DPL 3 */
    .quad 0x00CFF3000000FFFF    /* 0x30 DS32 flat, DPL 3 */
    .quad 0x00AFFB000000FFFF    /* 0x38 CS64, DPL 3 */
    .quad 0x00009B0F0000FFFF    /* 0x40 CS16 base 0xF0000 limit 0xFFFF */
    .quad 0x000093000000FFFF    /* 0x48 DS16 base 0 limit 0xFFFF */
gdt_template_end:
gdt_desc:
    .word GDT_LIMIT
    .long GDT_BASE
ivt_desc:
    .word 0x3FF
    .long 0

/*
 * build_pt64 (32-bit, paging off): identity map 0-4 GiB with 2 MiB pages at PT_BASE, and
 * the top 2 MiB of the 64-bit space (0xFFFFFFFFFFE00000) onto 0xFFE00000.
 *   0x10000 PML4, 0x11000 PDPT, 0x12000-0x15FFF four PDs, 0x16000 PDPT hi, 0x17000 PD hi.
 * All entries have P, R/W, U/S. Clobbers nothing.
 */
    .text
    .code32
    .globl build_pt64
build_pt64:
    pushal
    cld
    movl $PT_BASE, %edi
    movl $(0x8000 / 4), %ecx
    xorl %eax, %eax
    rep stosl
    movl $(PT_BASE + 0x1000 + 7), PT_BASE
    movl $(PT_BASE + 0x6000 + 7), PT_BASE + 511 * 8
    movl $(PT_BASE + 0x2000 + 7), PT_BASE + 0x1000
    movl $(PT_BASE + 0x3000 + 7), PT_BASE + 0x1008
    movl $(PT_BASE + 0x4000 + 7), PT_BASE + 0x1010
    movl $(PT_BASE + 0x5000 + 7), PT_BASE + 0x1018
    movl $(PT_BASE + 0x2000), %edi
    movl $0x87, %eax
    movl $2048, %ecx
1:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b
    movl $(PT_BASE + 0x7000 + 7), PT_BASE + 0x6000 + 511 * 8
    movl $(0xFFE00000 + 0x87), PT_BASE + 0x7000 + 511 * 8
    popal
    ret
