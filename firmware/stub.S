/*
 * stub.S - template of the per-slot SMM entry stub and the two blobs that live outside TSEG:
 * the first-SMI handler (copied to 0x38000) and the pen (copied to 0x9F000).
 * Contract: ../shared/spec/firmware.md §4.1 (stub), §5.3 (handler), §5.4 (pen).
 *
 * All three are position-independent byte strings: the installer copies them and fills in
 * the stub's parameter block (struct stub_params in smram.h). They use no register value,
 * descriptor table or memory of the interrupted context.
 */
#define P_SELF   0x00
#define P_GDTR   0x08
#define P_JMP32  0x10
#define P_JMP64  0x18
#define P_CR3    0x20
#define P_SLOT   0x24
#define P_RSP    0x28
#define P_IDTR   0x30
#define P_ENTRY  0x40
#define PARAMS   (0x8000 + 0x100) /* offset from SMBASE, i.e. from CS base */

    .section .rodata.smmblobs, "a"

/* ---- per-slot entry stub: SMBASE + 0x8000, 16-bit, CS base = SMBASE ---- */
    .code16
    .globl smm_stub_start, smm_stub_end, smm_stub_32, smm_stub_64
smm_stub_start:
    movl %cs:(PARAMS + P_SELF), %ebp
    lgdtl %cs:(PARAMS + P_GDTR)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl *%cs:(PARAMS + P_JMP32)
    .code32
smm_stub_32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $0x20, %eax /* PAE */
    movl %eax, %cr4
    movl P_CR3(%ebp), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x900, %eax /* LME | NXE */
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax /* PG | WP | PE */
    movl %eax, %cr0
    ljmpl *P_JMP64(%ebp)
    .code64
smm_stub_64:
    movl %ebp, %ebp
    movq P_RSP(%rbp), %rsp
    lidt P_IDTR(%rbp)
    movl P_SLOT(%rbp), %edi
    movq P_ENTRY(%rbp), %rax
    call *%rax
    rsm
smm_stub_end:
    .if (smm_stub_end - smm_stub_start) > 0x100
    .error "stub code overlaps its parameter block"
    .endif

/* ---- first-SMI handler: 0x38000, 16-bit, CS base 0x30000, DS base 0 limit 4 GiB ---- */
#define CTX_GATE      0x30000
#define CTX_SMBASE    0x30008
#define CTX_FC_HI     0x3000c
#define CTX_FC_LO     0x30010
#define CTX_FC_VALID  0x30014
#define CTX_LEAVE     0x30015
#define CTX_PENSEG    0x30016
#define CTX_STATUS    0x30018
#define CTX_RELOC     0x3001c
#define CTX_WAITING   0x30020
#define CTX_CSBASE    0x30024
#define CTX_RIP       0x30028
#include "save_offsets.h"
#define SS_CS_SEL     (0x30000 + SAVE_CS_SELECTOR)
#define SS_CS_ATTR    (0x30000 + SAVE_CS_ATTR)
#define SS_CS_LIMIT   (0x30000 + SAVE_CS_LIMIT)
#define SS_CS_BASE    (0x30000 + SAVE_CS_BASE)
#define SS_AUTOHALT   (0x30000 + SAVE_AUTO_HALT)
#define SS_REVISION   (0x30000 + SAVE_REVISION)
#define SS_SMBASE     (0x30000 + SAVE_SMBASE)
#define SS_CR0        (0x30000 + SAVE_CR0)
#define SS_RFLAGS     (0x30000 + SAVE_RFLAGS)
#define SS_RIP        (0x30000 + SAVE_RIP)

    .code16
    .globl first_smi_start, first_smi_end
first_smi_start:
    addr32 lock incl CTX_WAITING
    /* own APIC ID: CPUID leaf 0xB EDX if leaf 0xB exists with EBX[15:0] != 0, else leaf 1 */
    xorl %eax, %eax
    cpuid
    cmpl $0xb, %eax
    jb 1f
    movl $0xb, %eax
    xorl %ecx, %ecx
    cpuid
    testw %bx, %bx
    jz 1f
    movl %edx, %esi
    jmp 2f
1:  movl $1, %eax
    cpuid
    shrl $24, %ebx
    movl %ebx, %esi
2:  /* wait at the gate: compare-exchange A_own -> closed, reloading everything each time */
    movl %esi, %eax
    xorl %edx, %edx
    movl $0xffffffff, %ebx
    movl %ebx, %ecx
    addr32 lock cmpxchg8b CTX_GATE
    je 3f
    pause
    jmp 2b
3:  addr32 lock decl CTX_WAITING
    addr32 movl SS_CS_BASE, %eax
    addr32 movl %eax, CTX_CSBASE
    addr32 movl SS_RIP, %eax
    addr32 movl %eax, CTX_RIP
    addr32 movl SS_REVISION, %eax
    cmpw $0x0064, %ax
    je 4f
    movl $1, %ebx
    jmp 9f
4:  testl $0x20000, %eax
    jnz 5f
    movl $2, %ebx
9:  addr32 movl %ebx, CTX_STATUS
    addr32 movb $1, CTX_LEAVE
8:  cli
    hlt
    jmp 8b
5:  addr32 movl CTX_SMBASE, %eax
    addr32 movl %eax, SS_SMBASE
    addr32 cmpb $0, CTX_FC_VALID
    je 6f
    movl $0x3a, %ecx
    addr32 movl CTX_FC_HI, %edx
    addr32 movl CTX_FC_LO, %eax
    wrmsr
6:  addr32 testb $1, SS_CR0
    jnz 7f
    /* interrupted in real mode (reset state in `taken` mode, SIPI vector in `held` mode):
     * resume in the pen */
    addr32 movw CTX_PENSEG, %ax
    addr32 movw %ax, SS_CS_SEL
    addr32 movw $0x009b, SS_CS_ATTR
    addr32 movl $0xffff, SS_CS_LIMIT
    movzwl %ax, %eax
    shll $4, %eax
    addr32 movl %eax, SS_CS_BASE
    addr32 movl $0, SS_CS_BASE + 4
    addr32 movl $0, SS_RIP
    addr32 movl $0, SS_RIP + 4
    addr32 movl $2, SS_RFLAGS
    addr32 andb $0xfe, SS_AUTOHALT
7:  addr32 movl %esi, CTX_RELOC
    addr32 movl $0, CTX_STATUS
    addr32 movb $1, CTX_LEAVE
    rsm
first_smi_end:

/* ---- pen: 0x9F000, entered at 0x9F00:0000 ---- */
    .globl pen_start, pen_end
pen_start:
    cli
    movw %cs, %ax
    movw %ax, %ds
    movb $1, 0xfff
1:  cli
    hlt
    jmp 1b
pen_end:
