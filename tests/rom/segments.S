/*
 * segments.S - segment bases at work in protected and long mode: linear = base + offset
 * modulo 2^32 (a base of 0xFFFF0000 wraps), a code segment with a non-zero base (EIP and
 * the return addresses CALL pushes are offsets into it), a stack segment with a base,
 * 16-bit stack segments (B=0: SP only), segment override prefixes on every form, and in
 * 64-bit mode the FS/GS bases (wrapping modulo 2^64) while CS/DS/ES/SS bases are ignored
 * (SDM Vol. 3, "Segmentation": "Logical and Linear Addresses"; "Segmentation in IA-32e
 * Mode").
 */
#include "rom.h"

#define SEL_HI_DS   (SEL_TEST + 0x00)   /* data, base 0xFFFF0000 */
#define SEL_HI_CS   (SEL_TEST + 0x08)   /* 32-bit code, base 0xFFFF0000 (the ROM) */
#define SEL_SS_B    (SEL_TEST + 0x10)   /* 32-bit stack, base 0x80000 */
#define SEL_SS16    (SEL_TEST + 0x18)   /* 16-bit stack (B=0), base 0x80000 */
#define SEL_B100    (SEL_TEST + 0x20)   /* data, base 0x100 */

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: segments\n"
    RM_TO_PM32
    call idt32_init
    movl $0x0000FFFF, GDT_BASE + SEL_HI_DS
    movl $0xFFCF93FF, GDT_BASE + SEL_HI_DS + 4
    movl $0x0000FFFF, GDT_BASE + SEL_HI_CS
    movl $0xFFCF9BFF, GDT_BASE + SEL_HI_CS + 4
    movl $0x0000FFFF, GDT_BASE + SEL_SS_B
    movl $0x00CF9308, GDT_BASE + SEL_SS_B + 4
    movl $0x0000FFFF, GDT_BASE + SEL_SS16
    movl $0x00009308, GDT_BASE + SEL_SS16 + 4
    movl $0x0100FFFF, GDT_BASE + SEL_B100
    movl $0x00CF9300, GDT_BASE + SEL_B100 + 4

    /* base + offset wraps at 4 GiB */
    movl $0x600DCAFE, SCRATCH
    movw $SEL_HI_DS, %ax
    movw %ax, %es
    movl %es:(SCRATCH + 0x10000), %eax
    KV32 "es base 0xffff0000 + 0x10000+SCRATCH wraps", %eax
    movl %es:0xFFF0, %eax       /* 0xFFFF0000 + 0xFFF0 = the ROM's reset vector bytes */
    movl $0xFFFFFFF0, %ebx
    cmpl (%ebx), %eax
    sete %al
    movzbl %al, %eax
    KV32 "es:0xfff0 is the reset vector", %eax, 2
    /* every segment override reaches its segment */
    movl $0x11111111, 0x100 + SCRATCH
    movw $SEL_B100, %ax
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %es
    movl %fs:SCRATCH, %eax
    KV32 "fs: base 0x100", %eax
    movl %gs:SCRATCH, %eax
    KV32 "gs: base 0x100", %eax
    movl %es:SCRATCH, %eax
    KV32 "es: base 0x100", %eax
    movl %cs:SCRATCH + 0x100, %eax
    KV32 "cs: base 0", %eax
    movl %ss:SCRATCH + 0x100, %eax
    KV32 "ss: base 0", %eax
    movl $SCRATCH, %ebp         /* EBP addresses SS by default, DS with an override */
    movl 0x100(%ebp), %eax
    KV32 "[ebp] uses ss", %eax
    movl %fs:(%ebp), %eax
    KV32 "fs:[ebp]", %eax
    movw $SEL_DS32, %ax
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs

    /* a code segment with base 0xFFFF0000: offsets are the ROM's low 16 bits */
    lcall $SEL_HI_CS, $RM(hi_code)
.Lhi_ret:
    KV32 "hi cs: cs", %ebx, 4
    KV32 "hi cs: near call pushed (offset)", %ecx
    KV32 "hi cs: lcall pushed eip - ret label", %edx
    movl $RM(hi_label), %eax
    KV32 "hi cs: expected offset", %eax

    /* a stack segment with base 0x80000 */
    movl %esp, %edi
    movw $SEL_SS_B, %ax
    movw %ax, %ss
    movl $0x1000, %esp
    pushl $0x5EED
    movl %esp, %ebx
    movw $SEL_DS32, %ax
    movw %ax, %ss
    movl %edi, %esp
    KV32 "ss base 0x80000: esp after push", %ebx
    movl 0x80FFC, %eax
    KV32 "ss base 0x80000: [0x80ffc]", %eax
    /* a 16-bit stack segment (B=0): PUSH uses and changes SP only */
    movw $SEL_SS16, %ax
    movw %ax, %ss
    movl $0xABCD0000, %esp      /* SP = 0: wraps to 0xFFFE */
    pushl $0x16161616
    movl %esp, %ebx
    movw $SEL_DS32, %ax
    movw %ax, %ss
    movl %edi, %esp
    KV32 "16-bit ss: esp after push at sp=0", %ebx
    movl 0x8FFFC, %eax
    KV32 "16-bit ss: [0x8fffc]", %eax

    /* ---- 64-bit mode ---- */
    PM32_TO_LM64
    call idt64_init
    movw $SEL_B100, %ax         /* a DS/ES/SS base is ignored in 64-bit mode */
    movw %ax, %ds
    movw %ax, %ss
    movl SCRATCH + 0x100, %eax
    KV64 "lm ds: base ignored", %rax, 8
    movl $SCRATCH, %ebp
    movl 0x100(%rbp), %eax
    KV64 "lm ss: base ignored", %rax, 8
    movw $SEL_DS32, %ax
    movw %ax, %ds
    movw %ax, %ss
    /* (an explicit ES/DS/SS/CS override is not tested: QEMU adds the base, README.md) */
    movl $MSR_FS_BASE, %ecx     /* FS base -1: base + offset wraps modulo 2^64 */
    movl $0xFFFFFFFF, %eax
    movl $0xFFFFFFFF, %edx
    wrmsr
    movl %fs:(SCRATCH + 0x101), %eax
    KV64 "lm fs base -1 wraps", %rax, 8
    movl $MSR_GS_BASE, %ecx
    movl $0x100, %eax
    xorl %edx, %edx
    wrmsr
    movl $SCRATCH, %ebx
    movl %gs:(%rbx), %eax
    KV64 "lm gs base 0x100", %rax, 8
    PUTS64 "done\n"
    EXIT 0

/* runs with CS base 0xFFFF0000: EBX = CS, ECX = near CALL's pushed offset, EDX = far
 * return EIP relative to its label */
    .code32
hi_code:
    movl %cs, %ebx
    call hi_label
hi_label:
    popl %ecx
    movl 0(%esp), %edx
    subl $.Lhi_ret, %edx
    lret
