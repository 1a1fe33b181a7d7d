/*
 * system.S - system instructions and registers: SGDT/SIDT (at reset and after LGDT/LIDT,
 * 16-bit LGDT), LLDT/SLDT and LDT segments, LTR/STR and the TSS busy bit, SMSW/LMSW/CLTS,
 * CR2/CR4 and DR0-DR7, RDTSC, CPUID/WBINVD/INVD (run, never printed), LAR/LSL/VERR/VERW,
 * RDMSR/WRMSR of EFER, STAR, LSTAR, CSTAR, SFMASK, FS_BASE, GS_BASE, KERNEL_GS_BASE,
 * SYSENTER_CS and the TSC, SWAPGS, SYSCALL/SYSRET (64-bit and to compatibility mode).
 * (SDM Vol. 2 per instruction; Vol. 3 "System Instruction Summary", "SYSCALL and SYSRET".)
 *
 * LAR prints the access rights ANDed with 0x00F0FF00 (bits 19:16 are the limit, which
 * LAR's 00FxFF00H mask leaves unspecified) and ZF; LSL the limit and ZF; VERR/VERW ZF.
 */
#include "rom.h"

#define SEL_LDTD    (SEL_TEST + 0x00)   /* LDT descriptor */
#define SEL_XO      (SEL_TEST + 0x08)   /* execute-only code */
#define SEL_RO      (SEL_TEST + 0x10)   /* read-only data */
#define SEL_CONF    (SEL_TEST + 0x18)   /* conforming code, DPL 0 */
#define SEL_GATE    (SEL_TEST + 0x20)   /* a 32-bit interrupt gate type in the GDT */
#define SEL_B10     (SEL_TEST + 0x28)   /* data with base 0x10 */
#define LDT_ADDR    0x5800

/* ZF32 name: prints "name zf: 0/1" (from the flags of the last instruction) */
.macro ZF32 name
    pushl %eax
    setz %al
    movzbl %al, %eax
    KV32 "\name zf", %eax, 2
    popl %eax
.endm
.macro LAR32 name, sel
    movl $0xDEAD, %eax
    movw $\sel, %bx
    larl %ebx, %eax
    ZF32 "\name"
    andl $0x00F0FF00, %eax
    KV32 "\name lar", %eax
.endm
.macro LSL32 name, sel
    movl $0xDEAD, %eax
    movw $\sel, %bx
    lsll %ebx, %eax
    ZF32 "\name"
    KV32 "\name lsl", %eax
.endm
.macro VER32 op, name, sel
    movw $\sel, %bx
    \op %bx
    ZF32 "\op \name"
.endm

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: system\n"
    sgdtl SCRATCH16
    movzwl SCRATCH16, %eax
    KV16 "rm.reset gdtr limit", %eax, 4
    movl SCRATCH16 + 2, %eax
    KV16 "rm.reset gdtr base", %eax
    sidtl SCRATCH16
    movzwl SCRATCH16, %eax
    KV16 "rm.reset idtr limit", %eax, 4
    movl SCRATCH16 + 2, %eax
    KV16 "rm.reset idtr base", %eax
    movl %dr6, %eax
    KV16 "rm.reset dr6", %eax
    movl %dr7, %eax
    KV16 "rm.reset dr7", %eax
    movl %cr4, %eax
    KV16 "rm.reset cr4", %eax
    movl %cr2, %eax
    KV16 "rm.reset cr2", %eax
    movl %cr3, %eax
    KV16 "rm.reset cr3", %eax
    smsw %ax
    movzwl %ax, %eax
    KV16 "rm.smsw", %eax, 4
    movl $MSR_EFER, %ecx
    rdmsr
    KV16 "rm.reset efer", %eax

    RM_TO_PM32
    call idt32_init
    sgdtl SCRATCH
    movzwl SCRATCH, %eax
    KV32 "pm.sgdt limit", %eax, 4
    KV32 "pm.sgdt base", SCRATCH + 2
    sidtl SCRATCH
    movzwl SCRATCH, %eax
    KV32 "pm.sidt limit", %eax, 4
    KV32 "pm.sidt base", SCRATCH + 2
    /* 16-bit LGDT loads a 24-bit base */
    movw $0x1234, SCRATCH + 0x10
    movl $0xAB123456, SCRATCH + 0x12
    lgdtw SCRATCH + 0x10
    sgdtl SCRATCH
    lgdtl gdt_desc
    movzwl SCRATCH, %eax
    KV32 "pm.lgdtw limit", %eax, 4
    KV32 "pm.lgdtw base (24 bits)", SCRATCH + 2

    /* test descriptors */
    movl $((LDT_ADDR << 16) | 0x0F), GDT_BASE + SEL_LDTD
    movl $0x00008200, GDT_BASE + SEL_LDTD + 4       /* LDT, base 0x5800, limit 0xF */
    movl $0x0000FFFF, GDT_BASE + SEL_XO
    movl $0x00CF9900, GDT_BASE + SEL_XO + 4
    movl $0x0000FFFF, GDT_BASE + SEL_RO
    movl $0x00CF9100, GDT_BASE + SEL_RO + 4
    movl $0x0000FFFF, GDT_BASE + SEL_CONF
    movl $0x00CF9F00, GDT_BASE + SEL_CONF + 4
    movl $0x00080000, GDT_BASE + SEL_GATE
    movl $0x00008E00, GDT_BASE + SEL_GATE + 4
    movl $0x0010FFFF, GDT_BASE + SEL_B10
    movl $0x00CF9300, GDT_BASE + SEL_B10 + 4
    movl $0, LDT_ADDR
    movl $0, LDT_ADDR + 4
    movl $0x0000FFFF, LDT_ADDR + 8                  /* LDT[1]: data base 0x60000 */
    movl $0x00009306, LDT_ADDR + 12

    /* ---- a segment load sets the descriptor's accessed bit ---- */
    movb $0x92, GDT_BASE + SEL_B10 + 5       /* data, A=0 */
    movw $SEL_B10, %ax
    movw %ax, %gs
    movzbl GDT_BASE + SEL_B10 + 5, %eax
    KV32 "pm.accessed bit after load", %eax, 2
    movw $SEL_DS32, %ax
    movw %ax, %gs
    /* MOV from a segment register to a 32-bit register zero-extends */
    movl $0xFFFFFFFF, %eax
    movl %ds, %eax
    KV32 "pm.mov ds to eax", %eax

    /* ---- LLDT / SLDT ---- */
    sldt %ax
    movzwl %ax, %eax
    KV32 "pm.sldt initial", %eax, 4
    movw $SEL_LDTD, %ax
    lldt %ax
    sldt %ebx
    KV32 "pm.sldt", %ebx, 4
    movw $0x000C, %ax           /* LDT index 1 */
    movw %ax, %es
    movl $0x1DDA7A, %es:0x10
    movw $SEL_DS32, %ax
    movw %ax, %es
    movl 0x60010, %eax
    KV32 "pm.ldt segment write", %eax
    LAR32 "pm.ldt data", 0x000C
    LSL32 "pm.ldt data", 0x000C
    movw $SEL_DS32, %ax
    TRY32 "pm.lldt non-ldt", lldt %ax
    xorw %ax, %ax
    lldt %ax
    sldt %eax
    KV32 "pm.sldt after null", %eax, 4
    movw $0x000C, %ax
    TRY32 "pm.load ldt selector with null ldtr", movw %ax, %es

    /* ---- LTR / STR ---- */
    str %eax
    KV32 "pm.str initial", %eax, 4
    call tss32_init
    str %eax
    KV32 "pm.str", %eax, 4
    movzbl GDT_BASE + SEL_TSS + 5, %eax
    KV32 "pm.tss type after ltr (busy)", %eax, 2
    movw $SEL_TSS, %ax
    TRY32 "pm.ltr busy", ltr %ax
    movw $SEL_DS32, %ax
    TRY32 "pm.ltr data", ltr %ax
    /* LTR with a null selector (#GP(0)) is not tested: QEMU loads it (README.md) */

    /* ---- SMSW LMSW CLTS, CRs, DRs ---- */
    smsw %ax
    movzwl %ax, %eax
    KV32 "pm.smsw", %eax, 4
    movw $0x000E, %ax
    lmsw %ax
    movl %cr0, %eax
    KV32 "pm.lmsw 0xe cr0", %eax
    clts
    movl %cr0, %eax
    KV32 "pm.clts cr0", %eax
    xorw %ax, %ax
    lmsw %ax                    /* cannot clear PE */
    movl %cr0, %eax
    KV32 "pm.lmsw 0 cr0", %eax
    movw $0x0008, SCRATCH
    lmsw SCRATCH
    smsw SCRATCH + 2
    movzwl SCRATCH + 2, %eax
    KV32 "pm.lmsw/smsw memory", %eax, 4
    clts
    movl $0x12345678, %eax
    movl %eax, %cr2
    movl %cr2, %eax
    KV32 "pm.cr2 write/read", %eax
    movl $0x94, %eax            /* TSD, PSE, PGE */
    movl %eax, %cr4
    movl %cr4, %eax
    KV32 "pm.cr4 tsd|pse|pge", %eax
    xorl %eax, %eax
    movl %eax, %cr4
    movl $0x11111111, %eax
    movl %eax, %dr0
    movl $0x22222222, %eax
    movl %eax, %dr1
    movl $0x33333333, %eax
    movl %eax, %dr2
    movl $0x44444444, %eax
    movl %eax, %dr3
    movl %dr0, %eax
    KV32 "pm.dr0", %eax
    movl %dr1, %eax
    KV32 "pm.dr1", %eax
    movl %dr2, %eax
    KV32 "pm.dr2", %eax
    movl %dr3, %eax
    KV32 "pm.dr3", %eax
    xorl %eax, %eax
    movl %eax, %dr0
    movl %eax, %dr1
    movl %eax, %dr2
    movl %eax, %dr3

    /* ---- instructions that run but whose values are host/model-specific ---- */
    xorl %eax, %eax
    TRY32 "pm.cpuid runs", cpuid
    TRY32 "pm.wbinvd runs", wbinvd
    TRY32 "pm.invd runs", invd
    rdtsc
    movl %eax, %esi
    movl %edx, %edi
    movl $1000, %ecx
1:  loop 1b
    rdtsc
    subl %esi, %eax
    sbbl %edi, %edx
    orl %edx, %eax
    setnz %al
    movzbl %al, %eax
    KV32 "pm.rdtsc advances", %eax, 2
    /* WRMSR IA32_TSC is not tested: QEMU TCG ignores the write (README.md) */

    /* ---- LAR LSL VERR VERW ---- */
    LAR32 "pm.cs32", SEL_CS32
    LAR32 "pm.ds32", SEL_DS32
    LAR32 "pm.ds32u", SEL_DS32U
    LAR32 "pm.cs16", SEL_CS16
    LAR32 "pm.tss busy", SEL_TSS
    LAR32 "pm.ldt descriptor", SEL_LDTD
    LAR32 "pm.conforming rpl3", SEL_CONF | 3
    LAR32 "pm.ds32 rpl3", SEL_DS32 | 3
    LAR32 "pm.null", 0
    LAR32 "pm.beyond limit", 0x100
    LAR32 "pm.int gate type", SEL_GATE
    LSL32 "pm.cs32", SEL_CS32
    LSL32 "pm.ds16", SEL_DS16
    LSL32 "pm.tss", SEL_TSS
    LSL32 "pm.ldt descriptor", SEL_LDTD
    LSL32 "pm.null", 0
    LSL32 "pm.int gate type", SEL_GATE
    VER32 verr, "cs32", SEL_CS32
    VER32 verr, "execute-only", SEL_XO
    VER32 verr, "ds32", SEL_DS32
    VER32 verr, "conforming rpl3", SEL_CONF | 3
    VER32 verr, "null", 0
    VER32 verr, "tss", SEL_TSS
    VER32 verw, "ds32", SEL_DS32
    VER32 verw, "cs32", SEL_CS32
    VER32 verw, "read-only", SEL_RO
    VER32 verw, "ds32 rpl3", SEL_DS32 | 3
    VER32 verw, "ds32u rpl3", SEL_DS32U
    /* from CPL 3 a DPL-0 segment is invisible to LAR and VERR */
    RING3_32B 0
    movw $SEL_DS32, %bx
    larl %ebx, %eax
    setz %cl
    verr %bx
    setz %ch
    movw $SEL_DS32U, %bx
    verw %bx
    setz %dl
    RING3_32E "pm3.lar/verr/verw"
    movzwl %cx, %eax
    KV32 "pm3.lar dpl0 zf, verr dpl0 zf (ch:cl)", %eax, 4
    movzbl %dl, %eax
    KV32 "pm3.verw dpl3 zf", %eax, 2

    /* ---- MSRs in protected mode ---- */
    movl $MSR_EFER, %ecx
    rdmsr
    KV32 "pm.efer", %eax
    orl $1, %eax                /* SCE */
    wrmsr
    rdmsr
    KV32 "pm.efer sce", %eax
    movl $MSR_STAR, %ecx
    movl $0x00280018, %edx      /* [63:48] = 0x28, [47:32] = 0x18 */
    movl $0xCAFEBABE, %eax
    wrmsr
    rdmsr
    KV32 "pm.star edx", %edx
    KV32 "pm.star eax", %eax
    movl $0x174, %ecx           /* IA32_SYSENTER_CS */
    movl $0x0008, %eax
    xorl %edx, %edx
    wrmsr
    rdmsr
    KV32 "pm.sysenter_cs", %eax

    /* ================= long mode ================= */
    PM32_TO_LM64
    call idt64_init
    call tss64_init
    sgdt SCRATCH
    movzwl SCRATCH, %eax
    KV64 "lm.sgdt limit", %rax, 4
    movq SCRATCH + 2, %rax
    KV64 "lm.sgdt base (8 bytes)", %rax
    sidt SCRATCH
    movzwl SCRATCH, %eax
    KV64 "lm.sidt limit", %rax, 4
    movq SCRATCH + 2, %rax
    KV64 "lm.sidt base (8 bytes)", %rax
    str %eax
    KV64 "lm.str", %rax, 4
    movl $0xDEAD, %eax
    movw $SEL_TSS, %bx
    larl %ebx, %eax
    setz %cl
    andl $0x00F0FF00, %eax
    KV64 "lm.lar tss64 busy", %rax, 8
    movzbl %cl, %eax
    KV64 "lm.lar tss64 zf", %rax, 2
    movw $SEL_CS64, %bx
    larl %ebx, %eax
    andl $0x00F0FF00, %eax
    KV64 "lm.lar cs64", %rax, 8
    movw $SEL_TSS, %bx
    lsll %ebx, %eax
    KV64 "lm.lsl tss64", %rax, 8

.macro MSRW index, value
    movl $\index, %ecx
    movabsq $\value, %rax
    movq %rax, %rdx
    shrq $32, %rdx
    wrmsr
.endm
.macro MSRR name, index
    movl $\index, %ecx
    rdmsr
    shlq $32, %rdx
    movl %eax, %eax
    orq %rdx, %rax
    KV64 "\name", %rax
.endm
    MSRR "lm.efer", MSR_EFER
    MSRW MSR_LSTAR, 0xFFFFFFFF81000000
    MSRR "lm.lstar", MSR_LSTAR
    MSRW MSR_CSTAR, 0x00007FFFFFFFF000
    MSRR "lm.cstar", MSR_CSTAR
    MSRW MSR_SFMASK, 0x0000000000000701
    MSRR "lm.sfmask", MSR_SFMASK
    MSRW MSR_FS_BASE, 0xFFFF800012345000
    MSRR "lm.fs_base", MSR_FS_BASE
    MSRW MSR_GS_BASE, 0x0000123456789000
    MSRR "lm.gs_base", MSR_GS_BASE
    MSRW MSR_KERNEL_GS_BASE, 0xFFFFFFFFFFFFF000
    MSRR "lm.kernel_gs_base", MSR_KERNEL_GS_BASE
    swapgs
    MSRR "lm.swapgs gs_base", MSR_GS_BASE
    MSRR "lm.swapgs kernel_gs_base", MSR_KERNEL_GS_BASE
    swapgs
    MSRR "lm.swapgs twice gs_base", MSR_GS_BASE
    /* the bases are used: FS_BASE = SCRATCH, GS_BASE = SCRATCH + 0x100 */
    movl $0xF5F5F5F5, SCRATCH + 0x08
    movl $0x65656565, SCRATCH + 0x108
    MSRW MSR_FS_BASE, SCRATCH
    MSRW MSR_GS_BASE, (SCRATCH + 0x100)
    movl %fs:0x08, %eax
    KV64 "lm.fs: read", %rax, 8
    movl %gs:0x08, %eax
    KV64 "lm.gs: read", %rax, 8
    MSRW MSR_KERNEL_GS_BASE, SCRATCH
    swapgs
    movl %gs:0x08, %eax
    KV64 "lm.gs: read after swapgs", %rax, 8
    swapgs
    /* loading FS with a selector replaces the base with the descriptor's */
    movw $SEL_B10, %ax
    movw %ax, %fs
    MSRR "lm.fs_base after mov fs", MSR_FS_BASE
    /* a DS base is ignored in 64-bit mode */
    movw $SEL_B10, %ax
    movw %ax, %ds
    movl SCRATCH + 0x08, %eax
    KV64 "lm.ds base ignored", %rax, 8
    movw $SEL_DS32, %ax
    movw %ax, %ds

    /* ---- SYSCALL / SYSRET ---- */
    MSRW MSR_STAR, 0x0028001800000000
    leaq syscall_entry(%rip), %rax
    movq %rax, %rdx
    shrq $32, %rdx
    movl $MSR_LSTAR, %ecx
    wrmsr
    MSRW MSR_SFMASK, 0x0000000000000501     /* DF, TF, CF */
    movq %rsp, TEST_VAR + 0x80              /* kernel RSP to come back to */
    leaq user64(%rip), %rcx
    movq $0x483, %r11                       /* DF SF CF */
    movq $(STACK3 - 0x10), %rsp
    sysretq
    .code64
user64:                         /* CPL 3, 64-bit */
    movl %cs, %r12d
    movl %ss, %r13d
    pushfq
    popq %r14
    movq %rsp, %r15
    syscall
user64_after_syscall:
    ud2
syscall_entry:                  /* CPL 0, RSP is still the user's */
    movl %cs, %eax
    movq %rax, TEST_VAR + 0x00
    movl %ss, %eax
    movq %rax, TEST_VAR + 0x08
    pushfq
    popq %rax
    movq %rax, TEST_VAR + 0x10
    movq %rsp, TEST_VAR + 0x18
    movq %rcx, TEST_VAR + 0x20
    movq %r11, TEST_VAR + 0x28
    movq TEST_VAR + 0x80, %rsp
    pushq $2
    popfq
    KV64 "sysret64 user cs", %r12, 4
    KV64 "sysret64 user ss", %r13, 4
    KV64 "sysret64 user rflags", %r14, 8
    movq %r15, %rax
    subq $(STACK3 - 0x10), %rax
    KV64 "sysret64 user rsp delta", %rax, 8
    KV64 "syscall kernel cs", TEST_VAR + 0x00, 4
    KV64 "syscall kernel ss", TEST_VAR + 0x08, 4
    movq TEST_VAR + 0x10, %rax
    andq $~F_ALU, %rax          /* QEMU TCG loses SF and the other ALU flags (README.md) */
    KV64 "syscall kernel rflags & ~alu", %rax, 8
    movq TEST_VAR + 0x18, %rax
    subq $(STACK3 - 0x10), %rax
    KV64 "syscall rsp unchanged delta", %rax, 8
    movq TEST_VAR + 0x20, %rax
    leaq user64_after_syscall(%rip), %rbx
    subq %rbx, %rax
    KV64 "syscall rcx - next rip", %rax, 8
    KV64 "syscall r11", TEST_VAR + 0x28, 8
    /* SYSRET to compatibility mode: CS = STAR[63:48] | 3 */
    movq %rsp, TEST_VAR + 0x80
    movl $0xFFFFFFFF, TEST_VAR + 0x30
    movl $.Lsysret32_back, REC_IP
    movl $0, REC_IP + 4
    movq %rsp, REC_SP
    movl $user32, %ecx
    movq $0x002, %r11
    movq $(STACK3 - 0x10), %rsp
    sysretl
    .code32
user32:                         /* CPL 3, compatibility mode */
    movl %cs, %eax
    movl %eax, %ss:TEST_VAR + 0x30
    int $0x41
    .code64
.Lsysret32_back:
    movq $0, REC_IP
    movl TEST_VAR + 0x30, %eax
    KV64 "sysret32 user cs", %rax, 4
    KV64 "sysret32 back via int vec", EXC_VEC, 2
    /* faults */
    RING3_TRY64 "lm3.sysret at cpl3", 0, sysretq
    movl $MSR_EFER, %ecx
    rdmsr
    andl $~1, %eax
    wrmsr
    TRY64 "lm.syscall sce=0", syscall
    TRY64 "lm.sysret sce=0", sysretq
    PUTS64 "done\n"
    EXIT 0
