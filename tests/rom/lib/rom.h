/*
 * rom.h - shared constants and GNU as macros of the smmvm test and benchmark ROMs.
 *
 * Every ROM is one .S file that includes this header, defines `main16` (16-bit real-mode
 * code, entered with CS=0xF000, DS=ES=SS=FS=GS=0, SP=STACK_RM, IF=0, the GDT template copied
 * to GDT_BASE) and is linked with lib/boot.S, lib/print.S and lib/exc.S by lib/rom.ld.
 *
 * Output goes to the debug console (port 0xE9) as text lines "name: value"; the ROM ends
 * by writing to isa-debug-exit (port 0xF4). No other device is touched.
 *
 * Conventions for code addresses: the image is linked at 0xFFFF0000. 32- and 64-bit code
 * runs there (flat segments; long mode identity-maps the low 4 GiB). 16-bit code runs with
 * a CS base of 0xF0000 (the platform's alias of the image below 1 MiB), so its offsets are
 * the low 16 bits of the link address. In a 16-bit field write the plain symbol (ld's
 * R_386_16 bit-field check keeps the low 16 bits); in a 32-bit field write RM(sym).
 * In 64-bit code never write `push $sym` or `mov $sym, %r64`: both sign-extend the 32-bit
 * address; use `movl $sym, %e..` or `lea sym(%rip)`. (The tables also map the image at
 * 0xFFFFFFFFFFFF0000 as a safety net.)
 */
#ifndef SMMVM_TESTS_ROM_LIB_ROM_H
#define SMMVM_TESTS_ROM_LIB_ROM_H

#define ROM_BASE    0xFFFF0000
#define RM(sym)     ((sym) - ROM_BASE)

/* Debug console and exit ports: the only devices a ROM may touch. */
#define PORT_DEBUGCON 0xE9
#define PORT_EXIT     0xF4

/* RAM layout (RAM is zero at power-on; nothing else is assumed). */
#define IVT_BASE    0x0000
#define GDT_BASE    0x1000  /* 32 descriptors copied from gdt_template, limit 0xFF */
#define GDT_LIMIT   0xFF
#define IDT_BASE    0x2000  /* 256 gates of 8 (legacy) or 16 (long mode) bytes */
#define TSS_BASE    0x3000  /* 32-bit or 64-bit TSS, I/O bitmap at TSS_BASE+0x100 */
#define VARS        0x4000  /* exception record, see below */
#define SCRATCH16   0x5000  /* 0x5000-0x6FFF scratch for tests */
#define STACK_RM    0x7000  /* real-mode stack top, SS=0 */
#define STACK_IST   0x7F000 /* IST1 / spare stack top */
#define STACK3      0x8F000 /* ring-3 stack top */
#define STACK0      0x9F000 /* ring-0 stack top (protected and long mode) */
#define STACK0_TSS  0x9E000 /* TSS ESP0/RSP0: below the ring-0 stack the tests run on */
#define PT_BASE     0x10000 /* lib long-mode tables, 0x10000-0x17FFF */
#define PT_FREE     0x20000 /* 0x20000-0x2FFFF free for tests' own page tables */
#define SCRATCH     0x50000 /* 0x50000-0x6FFFF scratch data for tests */

/* Exception record written by the lib handlers (8-byte slots). */
#define EXC_VEC     (VARS + 0x00)
#define EXC_ERR     (VARS + 0x08)
#define EXC_IP      (VARS + 0x10)
#define EXC_CS      (VARS + 0x18)
#define EXC_FLAGS   (VARS + 0x20)
#define EXC_SP      (VARS + 0x28)
#define EXC_SS      (VARS + 0x30)
#define EXC_CR2     (VARS + 0x38)
#define REC_IP      (VARS + 0x40) /* 0: unexpected (report, exit 3); 1: resume; else jump here
                                     (ring 0, SP = REC_SP, general registers preserved) */
#define REC_SP      (VARS + 0x48)
#define EXC_COUNT   (VARS + 0x50)
#define REC_TARGET  (VARS + 0x58) /* lib-internal: recovery jump target */
#define REC_SAVE    (VARS + 0x60) /* lib-internal: EAX/RAX across the recovery */
#define ERR_HIDE    (VARS + 0x68) /* error-code bits the reports leave out (0 at power-on) */
#define TEST_VAR    (VARS + 0x100) /* free for tests: 0x4100-0x4FFF */

/* GDT template (lib/boot.S). SYSCALL/SYSRET need K_CS64, K_CS64+8 and U_CS32, +8, +16. */
#define SEL_CS32    0x08 /* flat 4 GiB code, 32-bit, DPL 0 */
#define SEL_DS32    0x10 /* flat 4 GiB data, DPL 0 */
#define SEL_CS64    0x18 /* 64-bit code, DPL 0 */
#define SEL_DS64    0x20 /* flat data, DPL 0 (SYSCALL SS) */
#define SEL_CS32U   0x2B /* flat 32-bit code, DPL 3 (SYSRET base 0x28) */
#define SEL_DS32U   0x33 /* flat data, DPL 3 */
#define SEL_CS64U   0x3B /* 64-bit code, DPL 3 */
#define SEL_CS16    0x40 /* 16-bit code, base 0xF0000, limit 0xFFFF */
#define SEL_DS16    0x48 /* 16-bit data, base 0, limit 0xFFFF (real-mode-like cache) */
#define SEL_TSS     0x50 /* TSS, 16 bytes in long mode; built at run time */
#define SEL_TEST    0x60 /* 0x60-0xF8 free for tests */

#define MSR_EFER            0xC0000080
#define MSR_STAR            0xC0000081
#define MSR_LSTAR           0xC0000082
#define MSR_CSTAR           0xC0000083
#define MSR_SFMASK          0xC0000084
#define MSR_FS_BASE         0xC0000100
#define MSR_GS_BASE         0xC0000101
#define MSR_KERNEL_GS_BASE  0xC0000102

/* Architectural flag bits, for masks of defined flags. */
#define F_CF 0x0001
#define F_PF 0x0004
#define F_AF 0x0010
#define F_ZF 0x0040
#define F_SF 0x0080
#define F_TF 0x0100
#define F_IF 0x0200
#define F_DF 0x0400
#define F_OF 0x0800
#define F_ALU (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

#ifdef __ASSEMBLER__

/* ---- termination (same bytes in every mode) ---- */
.macro EXIT code=0
    movb $\code, %al
    outb %al, $PORT_EXIT
99: cli
    hlt
    jmp 99b
.endm

/* ---- printing; every macro preserves all registers and flags ---- */
.macro NAMESTR name
    .pushsection .rodata.str, "a"
9:  .asciz "\name"
    .popsection
.endm

/* KVnn name, value[, digits]: prints "name: <value in hex, digits wide>\n". */
.macro KV16 name, val, n=8
    pushl \val
    pushw $9f
    call kv16_\n
    NAMESTR "\name"
.endm
.macro KV32 name, val, n=8
    pushl \val
    pushl $9f
    call kv32_\n
    NAMESTR "\name"
.endm
.macro KV64 name, val, n=16
    pushq \val
    pushq $0
    movl $9f, (%rsp)
    call kv64_\n
    NAMESTR "\name"
.endm

/* PUTSnn "text": prints text as is (no newline added). */
.macro PUTS16 text
    pushw $9f
    call puts16_stk
    NAMESTR "\text"
.endm
.macro PUTS32 text
    pushl $9f
    call puts32_stk
    NAMESTR "\text"
.endm
.macro PUTS64 text
    pushq $0
    movl $9f, (%rsp)
    call puts64_stk
    NAMESTR "\text"
.endm

/* ---- mode switches (inline: the code width changes under them) ---- */

/* Real mode -> 32-bit protected mode, flat segments, ESP = STACK0, paging off. */
.macro RM_TO_PM32
    cli
    lgdtl %cs:gdt_desc
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $SEL_CS32, $.Lpm32\@
    .code32
.Lpm32\@:
    movw $SEL_DS32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $STACK0, %esp
.endm

/* 32-bit protected mode -> real mode. With segs=1 the data segments are first loaded with
 * SEL_DS16 (64 KiB limit, as real mode expects); with segs=0 their caches are kept
 * (unreal mode). Ends with CS=0xF000, DS=ES=FS=GS=SS=0, SP=STACK_RM, IDTR = IVT. */
.macro PM32_TO_RM segs=1
    ljmp $SEL_CS16, $RM(.Lpm16\@)
    .code16
.Lpm16\@:
    movw $SEL_DS16, %ax
    movw %ax, %ss
    .if \segs
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    .endif
    movl %cr0, %eax
    andl $0x7FFFFFFE, %eax
    movl %eax, %cr0
    ljmp $0xF000, $.Lrm\@
.Lrm\@:
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $STACK_RM, %esp
    lidt %cs:ivt_desc
.endm

/* 32-bit protected mode (paging off) -> 64-bit long mode with the lib's identity map
 * (0-4 GiB in 2 MiB pages, U/S=1, R/W=1). RSP = STACK0. */
.macro PM32_TO_LM64
    call build_pt64
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl $PT_BASE, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
    ljmp $SEL_CS64, $.Llm64\@
    .code64
.Llm64\@:
    movw $SEL_DS32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $STACK0, %esp
.endm

/* 64-bit mode -> compatibility mode -> paging off, LME off: 32-bit protected mode. */
.macro LM64_TO_PM32
    pushq $SEL_CS32
    leaq .Lcm\@(%rip), %rax
    pushq %rax
    lretq
    .code32
.Lcm\@:
    movl %cr0, %eax
    andl $0x7FFFFFFF, %eax
    movl %eax, %cr0
    movl $MSR_EFER, %ecx
    rdmsr
    andl $~0x100, %eax
    wrmsr
    movl %cr4, %eax
    andl $~0x20, %eax
    movl %eax, %cr4
    movw $SEL_DS32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
.endm

/* ---- exceptions: run one instruction (or several) expecting a fault ----
 * TRYnn name, insns...: sets the recovery point, runs insns, and prints
 *   "name: vec=VV err=EEEEEEEE ip=+D" (ip relative to the first instruction)
 * or "name: vec=none" when nothing was raised. Uses no registers after the fault. */
.macro TRY32 name, insn:vararg
    movl $.Lrec\@, REC_IP
    movl %esp, REC_SP
    movl $0xFFFFFFFF, EXC_VEC
.Lf\@:
    \insn
.Lrec\@:
    movl $0, REC_IP
    pushl $.Lf\@
    pushl $9f
    call report32
    NAMESTR "\name"
.endm
.macro TRY64 name, insn:vararg
    movl $.Lrec\@, REC_IP
    movl $0, REC_IP+4
    movq %rsp, REC_SP
    movq $-1, EXC_VEC
.Lf\@:
    \insn
.Lrec\@:
    movq $0, REC_IP
    pushq $0
    movl $.Lf\@, (%rsp)
    pushq $0
    movl $9f, (%rsp)
    call report64
    NAMESTR "\name"
.endm

/* TRY16 name, insns...: the same in real mode (handlers installed with IVT_SET). */
.macro TRY16 name, insn:vararg
    movw $.Lrec\@, REC_IP
    movw %sp, REC_SP
    movw $0xFFFF, EXC_VEC
.Lf\@:
    \insn
.Lrec\@:
    movw $0, REC_IP
    pushw $.Lf\@
    pushw $9f
    call report16
    NAMESTR "\name"
.endm

/* IVT_SET vec: points real-mode vector vec at the lib's recording stub (lib/exc.S). */
.macro IVT_SET vec
    movw $rm_stubs + 16 * \vec, IVT_BASE + 4 * \vec
    movw $0xF000, IVT_BASE + 4 * \vec + 2
.endm

/* TRY32N/TRY64N: the same, without the IP (for #DF, whose saved CS:EIP is undefined). */
.macro TRY32N name, insn:vararg
    movl $.Lrec\@, REC_IP
    movl %esp, REC_SP
    movl $0xFFFFFFFF, EXC_VEC
    \insn
.Lrec\@:
    movl $0, REC_IP
    pushl $0
    pushl $9f
    call report32
    NAMESTR "\name"
.endm
.macro TRY64N name, insn:vararg
    movl $.Lrec\@, REC_IP
    movl $0, REC_IP+4
    movq %rsp, REC_SP
    movq $-1, EXC_VEC
    \insn
.Lrec\@:
    movq $0, REC_IP
    pushq $0
    pushq $0
    movl $9f, (%rsp)
    call report64
    NAMESTR "\name"
.endm

/* RING3_TRY32 name, insns...: runs insns at CPL 3 (CS=SEL_CS32U, SS=SEL_DS32U, ESP=STACK3,
 * EFLAGS=2 | iopl << 12; DS..GS become null) after tss32_init and a DPL-3 gate at 0x41
 * (ring3_kit32). A fault is reported like TRY32 (ip relative to the first ring-3
 * instruction); falling through ends with INT 0x41, reported as "vec=41". */
.macro RING3_TRY32 name, iopl, insn:vararg
    movl $.Lrec\@, REC_IP
    movl %esp, REC_SP
    movl $0xFFFFFFFF, EXC_VEC
    pushl $SEL_DS32U
    pushl $STACK3
    pushl $(2 | (\iopl << 12))
    pushl $SEL_CS32U
    pushl $.Lf\@
    iret
.Lf\@:
    \insn
    int $0x41
.Lrec\@:
    movl $0, REC_IP
    pushl $.Lf\@
    pushl $9f
    call report32
    NAMESTR "\name"
.endm
.macro RING3_TRY64 name, iopl, insn:vararg
    movl $.Lrec\@, REC_IP
    movl $0, REC_IP+4
    movq %rsp, REC_SP
    movq $-1, EXC_VEC
    pushq $SEL_DS32U
    pushq $STACK3
    pushq $(2 | (\iopl << 12))
    pushq $SEL_CS64U
    pushq $0
    movl $.Lf\@, (%rsp)
    iretq
.Lf\@:
    \insn
    int $0x41
.Lrec\@:
    movq $0, REC_IP
    pushq $0
    movl $.Lf\@, (%rsp)
    pushq $0
    movl $9f, (%rsp)
    call report64
    NAMESTR "\name"
.endm

/* Multi-instruction bodies (GAS ends a macro call at ';'): TRYnnB; body...; TRYnnE name.
 * These use the local labels 7 and 8, so a body must not define them. */
.macro TRY32B
    movl $8f, REC_IP
    movl %esp, REC_SP
    movl $0xFFFFFFFF, EXC_VEC
7:
.endm
.macro TRY32E name
8:  movl $0, REC_IP
    pushl $7b
    pushl $9f
    call report32
    NAMESTR "\name"
.endm
.macro TRY64B
    movl $8f, REC_IP
    movl $0, REC_IP+4
    movq %rsp, REC_SP
    movq $-1, EXC_VEC
7:
.endm
.macro TRY64E name
8:  movq $0, REC_IP
    pushq $0
    movl $7b, (%rsp)
    pushq $0
    movl $9f, (%rsp)
    call report64
    NAMESTR "\name"
.endm
.macro RING3_32B iopl
    movl $8f, REC_IP
    movl %esp, REC_SP
    movl $0xFFFFFFFF, EXC_VEC
    pushl $SEL_DS32U
    pushl $STACK3
    pushl $(2 | (\iopl << 12))
    pushl $SEL_CS32U
    pushl $7f
    iret
7:
.endm
.macro RING3_32E name
    int $0x41
    TRY32E "\name"
.endm
/* ...EN: the same without the IP (when the way back is not the end of the body) */
.macro TRY32EN name
8:  movl $0, REC_IP
    pushl $0
    pushl $9f
    call report32
    NAMESTR "\name"
.endm
.macro RING3_32EN name
    int $0x41
    TRY32EN "\name"
.endm
.macro RING3_64B iopl
    movl $8f, REC_IP
    movl $0, REC_IP+4
    movq %rsp, REC_SP
    movq $-1, EXC_VEC
    pushq $SEL_DS32U
    pushq $STACK3
    pushq $(2 | (\iopl << 12))
    pushq $SEL_CS64U
    pushq $0
    movl $7f, (%rsp)
    iretq
7:
.endm
.macro RING3_64E name
    int $0x41
    TRY64E "\name"
.endm
.macro TRY64EN name
8:  movq $0, REC_IP
    pushq $0
    pushq $0
    movl $9f, (%rsp)
    call report64
    NAMESTR "\name"
.endm
.macro RING3_64EN name
    int $0x41
    TRY64EN "\name"
.endm

/* Lets the next exception return (IRET) to the interrupted code after recording it. */
.macro RESUME32
    movl $1, REC_IP
.endm
.macro RESUME64
    movq $1, REC_IP
.endm

#endif /* __ASSEMBLER__ */
#endif /* SMMVM_TESTS_ROM_LIB_ROM_H */
