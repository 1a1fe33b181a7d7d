/*
 * paging.S - legacy 32-bit paging (4 KiB and 4 MiB PSE pages), PAE paging (4 KiB, 2 MiB,
 * NX) and 4-level long-mode paging (4 KiB, 2 MiB, 1 GiB pages, upper-level U/S and R/W,
 * the higher half): #PF error codes and CR2, WP, U/S, NX, reserved bits, A/D bits,
 * INVLPG and CR3 reloads (SDM Vol. 3, "Paging": "Page-Fault Exceptions", "Accessed and
 * Dirty Flags", "Invalidation of TLBs and Paging-Structure Caches").
 *
 * #PF error code: P=1 (protection, else not present), W/R=2, U/S=4, RSVD=8, I/D=0x10 (only
 * with PAE and EFER.NXE). Fault lines as in exceptions.S, CR2 printed on its own line.
 * Only behaviour after an invalidation is checked; what a stale TLB entry does is not.
 */
#include "rom.h"

/* legacy tables */
#define PD32    0x20000
#define PT32_0  0x21000     /* identity 0-4 MiB, 4 KiB pages */
#define PT32_2  0x22000     /* test pages at 0x800000 */
/* PAE tables */
#define PDPT_P  0x23000
#define PD_P0   0x24000     /* 0-1 GiB */
#define PD_P3   0x25000     /* 3-4 GiB: the ROM */
#define PT_P    0x26000     /* test pages at 0x800000 */
/* long-mode test tables, hung below the lib's PML4 (PT_BASE) */
#define PDPT_L  0x28000     /* PML4[1] and PML4[256] */
#define PD_L    0x29000
#define PT_L    0x2A000
#define PDPT_RO 0x2B000     /* PML4[2], R/W=0 at PML4 level */
#define PDPT_SU 0x2C000     /* PML4[3], U/S=0 at PML4 level */

/* physical data pages, each starting with a marker */
#define PAGE_A  0x60000     /* marker 0xAAAA0000 */
#define PAGE_B  0x61000     /* marker 0xBBBB0000 */
#define PAGE_C  0x62000     /* marker 0xCCCC0000 */
#define PAGE_R  0x63000     /* holds a RET (0xC3) */

.macro CR2_32 name
    movl EXC_CR2, %eax
    KV32 "\name cr2", %eax
.endm
.macro CR2_64 name
    movq EXC_CR2, %rax
    KV64 "\name cr2", %rax
.endm

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: paging\n"
    RM_TO_PM32
    call idt32_init
    call tss32_init
    movl $0xAAAA0000, PAGE_A
    movl $0xBBBB0000, PAGE_B
    movl $0xCCCC0000, PAGE_C
    movb $0xC3, PAGE_R

    /* ================= legacy 32-bit paging ================= */
    cld
    movl $PD32, %edi
    movl $(0x3000 / 4), %ecx
    xorl %eax, %eax
    rep stosl
    movl $PT32_0, %edi          /* PT32_0: identity, P R/W U/S */
    movl $7, %eax
    movl $1024, %ecx
1:  stosl
    addl $0x1000, %eax
    loop 1b
    movl $(PT32_0 | 7), PD32 + 0 * 4
    movl $(0x00000000 | 0x87), PD32 + 1 * 4     /* 4 MiB page: alias of 0-4 MiB at 4 MiB */
    movl $(PT32_2 | 7), PD32 + 2 * 4            /* test 4 KiB pages at 8 MiB */
    movl $(0x00000000 | 0x85), PD32 + 3 * 4     /* 4 MiB page, read-only, at 12 MiB */
    movl $(PT32_2 | 3), PD32 + 5 * 4            /* supervisor PDE over user PTEs, 20 MiB */
    movl $(0xFFC00000 | 0x87), PD32 + 0x3FF * 4 /* the ROM */
    /* test PTEs: 0x800000 not present; 0x801000 -> A read-only user; 0x802000 -> B
     * supervisor; 0x803000 -> C user; 0x804000 -> A user */
    movl $(PAGE_A | 5), PT32_2 + 1 * 4
    movl $(PAGE_B | 3), PT32_2 + 2 * 4
    movl $(PAGE_C | 7), PT32_2 + 3 * 4
    movl $(PAGE_A | 7), PT32_2 + 4 * 4
    movl $PD32, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $0x10, %eax             /* PSE */
    movl %eax, %cr4
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
    movl %cr0, %eax
    KV32 "pg32.cr0", %eax
    movl %cr4, %eax
    KV32 "pg32.cr4", %eax

    movl 0x801000, %eax
    KV32 "pg32.4k read PAGE_A", %eax
    movl $0x12345678, SCRATCH
    movl 0x400000 + SCRATCH, %eax
    KV32 "pg32.4m alias read", %eax
    TRY32 "pg32.pf read not_present_pte", movl 0x800123, %eax
    CR2_32 "pg32.pf read not_present_pte"
    TRY32 "pg32.pf write not_present_pte", movl %eax, 0x800FFC
    CR2_32 "pg32.pf write not_present_pte"
    TRY32 "pg32.pf read not_present_pde", movb 0x1000010, %al
    CR2_32 "pg32.pf read not_present_pde"
    TRY32 "pg32.pf page_crossing_write", movl %eax, 0x7FFFFE   /* 2nd page not present */
    CR2_32 "pg32.pf page_crossing_write"
    movzwl 0x7FFFFE, %eax       /* the first page was not written (restartable) */
    KV32 "pg32.page_crossing first page untouched", %eax
    /* a REP STOSB running into a not-present page faults at the first byte there, with
     * ECX/EDI of that iteration; the bytes before it are written */
    movl $0x7FFFFC, %edi
    movl $8, %ecx
    movb $0x77, %al
    cld
    TRY32 "pg32.pf rep_stosb into not_present", rep stosb
    CR2_32 "pg32.pf rep_stosb into not_present"
    KV32 "pg32.pf rep_stosb ecx left", %ecx
    KV32 "pg32.pf rep_stosb edi", %edi
    movl 0x7FFFFC, %eax
    KV32 "pg32.pf rep_stosb bytes written", %eax
    /* WP */
    TRY32 "pg32.wp0 supervisor write read_only ok", movl $0x11111111, 0x801004
    movl PAGE_A + 4, %eax
    KV32 "pg32.wp0 written", %eax
    movl %cr0, %eax
    orl $0x10000, %eax
    movl %eax, %cr0
    TRY32 "pg32.wp1 supervisor write read_only", movl $0x22222222, 0x801008
    CR2_32 "pg32.wp1 supervisor write read_only"
    TRY32 "pg32.wp1 supervisor write read_only_4m", movl $0x22222222, 0xC00000 + SCRATCH
    CR2_32 "pg32.wp1 supervisor write read_only_4m"
    TRY32 "pg32.wp1 supervisor read read_only ok", movl 0x801008, %eax
    /* U/S at CPL 3 */
    RING3_32B 0
    movw $SEL_DS32U, %ax
    movw %ax, %ds
    movl 0x802000, %eax
    RING3_32E "pg32.us user read supervisor_pte"
    CR2_32 "pg32.us user read supervisor_pte"
    RING3_32B 0
    movw $SEL_DS32U, %ax
    movw %ax, %ds
    movl %eax, 0x802010
    RING3_32E "pg32.us user write supervisor_pte"
    CR2_32 "pg32.us user write supervisor_pte"
    RING3_32B 0
    movw $SEL_DS32U, %ax
    movw %ax, %ds
    movl %eax, 0x801010
    RING3_32E "pg32.us user write read_only"
    CR2_32 "pg32.us user write read_only"
    RING3_32B 0
    movw $SEL_DS32U, %ax
    movw %ax, %ds
    movl 0x1403000, %eax
    RING3_32E "pg32.us user read supervisor_pde"
    CR2_32 "pg32.us user read supervisor_pde"
    RING3_32B 0
    movw $SEL_DS32U, %ax
    movw %ax, %ds
    movl 0x803000, %eax
    movl %eax, 0x803004
    RING3_32E "pg32.us user read_write user ok"
    RING3_32B 0
    movw $SEL_DS32U, %ax
    movw %ax, %ds
    movl 0x800000, %eax
    RING3_32E "pg32.us user read not_present"
    CR2_32 "pg32.us user read not_present"
    /* instruction fetch from a not-present page: no I/D bit without PAE+NXE */
    movl $0x800000, %ebx
    TRY32B
    call *%ebx
    TRY32EN "pg32.pf fetch not_present"
    CR2_32 "pg32.pf fetch not_present"
    movl EXC_IP, %eax
    KV32 "pg32.pf fetch saved eip", %eax
    /* A/D bits: a fresh PTE and PDE */
    movl $(PAGE_C | 7), PT32_2 + 6 * 4
    andl $~0x60, PD32 + 2 * 4
    movl %cr3, %eax
    movl %eax, %cr3
    movl 0x806000, %eax
    movl PT32_2 + 6 * 4, %eax
    andl $0x60, %eax
    KV32 "pg32.ad pte after read", %eax, 2
    movl PD32 + 2 * 4, %eax
    andl $0x60, %eax
    KV32 "pg32.ad pde after read", %eax, 2
    movl %eax, 0x806100
    movl PT32_2 + 6 * 4, %eax
    andl $0x60, %eax
    KV32 "pg32.ad pte after write", %eax, 2
    andl $~0x60, PD32 + 1 * 4   /* 4 MiB page */
    movl %cr3, %eax
    movl %eax, %cr3
    movl 0x400000 + SCRATCH, %eax
    movl PD32 + 1 * 4, %eax
    andl $0x60, %eax
    KV32 "pg32.ad 4m pde after read", %eax, 2
    movl %eax, 0x400000 + SCRATCH + 0x10
    movl PD32 + 1 * 4, %eax
    andl $0x60, %eax
    KV32 "pg32.ad 4m pde after write", %eax, 2
    /* no A/D update when the access faults */
    movl $(PAGE_C | 5), PT32_2 + 7 * 4
    movl %cr3, %eax
    movl %eax, %cr3
    TRY32 "pg32.ad faulting write", movl %eax, 0x807000
    movl PT32_2 + 7 * 4, %eax
    andl $0x40, %eax            /* D stays clear; whether A is set is not architectural */
    KV32 "pg32.ad pte D after faulting write", %eax, 2
    /* INVLPG and CR3 reload make a changed PTE visible */
    movl 0x804000, %eax
    KV32 "pg32.tlb before remap", %eax
    movl $(PAGE_B | 7), PT32_2 + 4 * 4
    invlpg 0x804000
    movl 0x804000, %eax
    KV32 "pg32.tlb after invlpg", %eax
    movl $(PAGE_C | 7), PT32_2 + 4 * 4
    movl %cr3, %eax
    movl %eax, %cr3
    movl 0x804000, %eax
    KV32 "pg32.tlb after cr3 reload", %eax
    movl $0, PT32_2 + 4 * 4
    invlpg 0x804000
    TRY32 "pg32.tlb after unmap+invlpg", movl 0x804000, %eax
    /* paging off again */
    movl %cr0, %eax
    andl $0x7FFEFFFF, %eax
    movl %eax, %cr0

    /* ================= PAE paging ================= */
    movl $PDPT_P, %edi
    movl $(0x8000 / 4), %ecx    /* PDPT_P .. PT_P + 0x1FFF */
    xorl %eax, %eax
    rep stosl
    movl $(PD_P0 | 1), PDPT_P + 0 * 8   /* PDPTEs have no R/W, U/S */
    movl $(PD_P3 | 1), PDPT_P + 3 * 8
    movl $0x87, PD_P0 + 0 * 8           /* 2 MiB identity */
    movl $0x87, PD_P0 + 1 * 8           /* 2 MiB alias of 0 at 2 MiB */
    movl $(PT_P | 7), PD_P0 + 4 * 8     /* 4 KiB test pages at 8 MiB */
    movl $(0xFFE00000 | 0x87), PD_P3 + 511 * 8
    movl $(PAGE_A | 7), PT_P + 1 * 8
    movl $(PAGE_R | 7), PT_P + 2 * 8    /* executable RET */
    movl $(PAGE_R | 7), PT_P + 3 * 8    /* the same, XD */
    movl $0x80000000, PT_P + 3 * 8 + 4
    movl $(PAGE_B | 7), PT_P + 4 * 8    /* reserved bit 51 */
    movl $0x00080000, PT_P + 4 * 8 + 4
    movl $PDPT_P, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
    movl 0x801000, %eax
    KV32 "pae.4k read PAGE_A", %eax
    movl 0x200000 + SCRATCH, %eax
    KV32 "pae.2m alias read", %eax
    movl $0x802000, %ebx
    TRY32 "pae.fetch executable ok", call *%ebx
    movl $0x803000, %ebx
    movl $1, ERR_HIDE    /* QEMU leaves P out of RSVD faults (README) */
    TRY32 "pae.nxe0 read xd_page (reserved) (err&~P)", movl (%ebx), %eax
    movl $0, ERR_HIDE
    CR2_32 "pae.nxe0 read xd_page"
    movl $MSR_EFER, %ecx
    rdmsr
    orl $0x800, %eax            /* NXE */
    wrmsr
    movl $0x803000, %ebx
    TRY32 "pae.nxe1 read xd_page ok", movl (%ebx), %eax
    TRY32B
    call *%ebx
    TRY32EN "pae.nxe1 fetch xd_page"
    CR2_32 "pae.nxe1 fetch xd_page"
    movl $0x800000, %ebx
    TRY32B
    call *%ebx
    TRY32EN "pae.nxe1 fetch not_present"
    CR2_32 "pae.nxe1 fetch not_present"
    movl $1, ERR_HIDE    /* QEMU leaves P out of RSVD faults (README) */
    TRY32 "pae.rsvd read bit51 (err&~P)", movl 0x804000, %eax
    movl $0, ERR_HIDE
    CR2_32 "pae.rsvd read bit51"
    movl $1, ERR_HIDE    /* QEMU leaves P out of RSVD faults (README) */
    TRY32 "pae.rsvd write bit51 (err&~P)", movl %eax, 0x804000
    movl $0, ERR_HIDE
    TRY32 "pae.pf not_present_pdpte", movl 0x40000000, %eax
    CR2_32 "pae.pf not_present_pdpte"
    TRY32 "pae.pf not_present_pde", movl 0x600000, %eax
    CR2_32 "pae.pf not_present_pde"
    andl $~0x60, PD_P0 + 1 * 8
    movl %cr3, %eax
    movl %eax, %cr3
    movl 0x200000 + SCRATCH, %eax
    movl PD_P0 + 1 * 8, %eax
    andl $0x60, %eax
    KV32 "pae.ad 2m pde after read", %eax, 2
    movl %eax, 0x200000 + SCRATCH + 0x10
    movl PD_P0 + 1 * 8, %eax
    andl $0x60, %eax
    KV32 "pae.ad 2m pde after write", %eax, 2
    movl %cr0, %eax
    andl $0x7FFFFFFF, %eax
    movl %eax, %cr0
    movl $MSR_EFER, %ecx
    rdmsr
    andl $~0x800, %eax
    wrmsr
    movl %cr4, %eax
    andl $~0x30, %eax
    movl %eax, %cr4

    /* ================= 4-level paging ================= */
    PM32_TO_LM64
    call idt64_init
    call tss64_init
    cld
    movl $PDPT_L, %edi
    movl $(0x5000 / 8), %ecx
    xorl %eax, %eax
    rep stosq
    movq $(PDPT_L | 7), PT_BASE + 1 * 8
    movq $(PDPT_L | 7), PT_BASE + 256 * 8   /* 0xFFFF800000000000 */
    movq $(PDPT_RO | 5), PT_BASE + 2 * 8    /* R/W=0 at PML4 level */
    movq $(PDPT_SU | 3), PT_BASE + 3 * 8    /* U/S=0 at PML4 level */
    movq $0x87, PDPT_L + 0 * 8              /* 1 GiB page: 0x8000000000 -> 0 */
    movq $(PD_L | 7), PDPT_L + 1 * 8
    movq $0x87, PD_L + 0 * 8                /* 2 MiB page: 0x8040000000 -> 0 */
    movq $(PT_L | 7), PD_L + 1 * 8          /* 4 KiB pages at 0x8040200000 */
    movq $(PAGE_A | 7), PT_L + 0 * 8
    movq $(PAGE_R | 7), PT_L + 1 * 8
    movabsq $(0x8000000000000000 | PAGE_R | 7), %rax
    movq %rax, PT_L + 2 * 8                 /* XD */
    movabsq $(0x0008000000000000 | PAGE_B | 7), %rax
    movq %rax, PT_L + 3 * 8                 /* reserved bit 51 */
    movq $(PAGE_C | 5), PT_L + 4 * 8        /* read-only user */
    movq $(PAGE_C | 3), PT_L + 5 * 8        /* supervisor */
    movq $0x87, PDPT_RO + 0 * 8             /* 1 GiB R/W page below a R/O PML4E */
    movq $0x87, PDPT_SU + 0 * 8             /* 1 GiB U/S page below a supervisor PML4E */
    movq %cr3, %rax
    movq %rax, %cr3
    movabsq $0x8040200000, %rbx
    movq (%rbx), %rax
    KV64 "lm4.4k read PAGE_A", %rax, 8
    movl $0x12345678, SCRATCH
    movabsq $(0x8040000000 + SCRATCH), %rbx
    movl (%rbx), %eax
    KV64 "lm4.2m alias read", %rax, 8
    movabsq $(0x8000000000 + SCRATCH), %rbx
    movl (%rbx), %eax
    KV64 "lm4.1g alias read", %rax, 8
    movabsq $(0xFFFF800000000000 + SCRATCH), %rbx
    movl (%rbx), %eax
    KV64 "lm4.higher_half alias read", %rax, 8
    movabsq $0x8040201000, %rbx
    TRY64 "lm4.fetch executable ok", call *%rbx
    movl $MSR_EFER, %ecx
    rdmsr
    orl $0x800, %eax
    wrmsr
    movabsq $0x8040202000, %rbx
    TRY64 "lm4.nx read xd_page ok", movq (%rbx), %rax
    TRY64B
    call *%rbx
    TRY64EN "lm4.nx fetch xd_page"
    CR2_64 "lm4.nx fetch xd_page"
    movabsq $0x8040203000, %rbx
    movq $1, ERR_HIDE    /* QEMU leaves P out of RSVD faults (README) */
    TRY64 "lm4.rsvd read bit51 (err&~P)", movq (%rbx), %rax
    movq $0, ERR_HIDE
    CR2_64 "lm4.rsvd read bit51"
    movabsq $0x8080000000, %rbx
    TRY64 "lm4.pf not_present_pdpte", movq (%rbx), %rax
    CR2_64 "lm4.pf not_present_pdpte"
    movabsq $0x8040400000, %rbx
    TRY64 "lm4.pf not_present_pde", movq (%rbx), %rax
    CR2_64 "lm4.pf not_present_pde"
    movabsq $0x8040206008, %rbx
    TRY64 "lm4.pf not_present_pte write", movq %rax, (%rbx)
    CR2_64 "lm4.pf not_present_pte write"
    movabsq $0x20000000000, %rbx            /* PML4[4] not present */
    TRY64 "lm4.pf not_present_pml4e", movq (%rbx), %rax
    CR2_64 "lm4.pf not_present_pml4e"
    /* WP with R/W=0 at the PML4 level */
    movabsq $(0x10000000000 + SCRATCH), %rbx
    TRY64 "lm4.wp0 write below ro_pml4e ok", movq %rax, (%rbx)
    movq %cr0, %rax
    orq $0x10000, %rax
    movq %rax, %cr0
    TRY64 "lm4.wp1 write below ro_pml4e", movq %rax, (%rbx)
    CR2_64 "lm4.wp1 write below ro_pml4e"
    movabsq $0x8040204000, %rbx
    TRY64 "lm4.wp1 write ro_pte", movq %rax, (%rbx)
    movq %cr0, %rax
    andq $~0x10000, %rax
    movq %rax, %cr0
    /* U/S at CPL 3 */
    RING3_64B 0
    movabsq $0x8040205000, %rbx
    movq (%rbx), %rax
    RING3_64E "lm4.us user read supervisor_pte"
    CR2_64 "lm4.us user read supervisor_pte"
    RING3_64B 0
    movabsq $(0x18000000000 + SCRATCH), %rbx
    movq (%rbx), %rax
    RING3_64E "lm4.us user read below supervisor_pml4e"
    CR2_64 "lm4.us user read below supervisor_pml4e"
    RING3_64B 0
    movabsq $0x8040204000, %rbx
    movq %rax, (%rbx)
    RING3_64E "lm4.us user write ro_pte"
    RING3_64B 0
    movabsq $(0x10000000000 + SCRATCH), %rbx
    movq %rax, (%rbx)
    RING3_64E "lm4.us user write below ro_pml4e"
    RING3_64B 0
    movabsq $0x8040202000, %rbx
    call *%rbx
    RING3_64EN "lm4.us user fetch xd_page"
    CR2_64 "lm4.us user fetch xd_page"
    RING3_64B 0
    movabsq $0x8040201000, %rbx
    call *%rbx
    movabsq $0x8040200000, %rbx
    movq (%rbx), %rax
    RING3_64E "lm4.us user fetch+read ok"
    /* A/D bits at every level of a 4 KiB walk, and of 2 MiB and 1 GiB pages */
    andq $~0x60, PT_BASE + 1 * 8
    andq $~0x60, PDPT_L + 1 * 8
    andq $~0x60, PD_L + 1 * 8
    andq $~0x60, PT_L + 0 * 8
    andq $~0x60, PD_L + 0 * 8
    andq $~0x60, PDPT_L + 0 * 8
    movq %cr3, %rax
    movq %rax, %cr3
    movabsq $0x8040200000, %rbx
    movq (%rbx), %rax
    movq PT_BASE + 1 * 8, %rax
    andl $0x60, %eax
    KV64 "lm4.ad pml4e after read", %rax, 2
    movq PDPT_L + 1 * 8, %rax
    andl $0x60, %eax
    KV64 "lm4.ad pdpte after read", %rax, 2
    movq PD_L + 1 * 8, %rax
    andl $0x60, %eax
    KV64 "lm4.ad pde after read", %rax, 2
    movq PT_L + 0 * 8, %rax
    andl $0x60, %eax
    KV64 "lm4.ad pte after read", %rax, 2
    movq %rax, 8(%rbx)
    movq PT_L + 0 * 8, %rax
    andl $0x60, %eax
    KV64 "lm4.ad pte after write", %rax, 2
    movabsq $(0x8040000000 + SCRATCH), %rbx
    movq %rax, (%rbx)
    movq PD_L + 0 * 8, %rax
    andl $0x60, %eax
    KV64 "lm4.ad 2m pde after write", %rax, 2
    movabsq $(0x8000000000 + SCRATCH), %rbx
    movq (%rbx), %rax
    movq PDPT_L + 0 * 8, %rax
    andl $0x60, %eax
    KV64 "lm4.ad 1g pdpte after read", %rax, 2
    /* INVLPG in long mode */
    movabsq $0x8040200000, %rbx
    movq $(PAGE_B | 7), PT_L + 0 * 8
    invlpg (%rbx)
    movl (%rbx), %eax
    KV64 "lm4.tlb after invlpg", %rax, 8
    /* global pages: a CR4.PGE toggle (and INVLPG) drops global translations */
    movq %cr4, %rax
    orq $0x80, %rax             /* PGE */
    movq %rax, %cr4
    movq $(PAGE_A | 0x107), PT_L + 0 * 8        /* G=1 */
    invlpg (%rbx)
    movl (%rbx), %eax
    KV64 "lm4.pge global page", %rax, 8
    movq $(PAGE_C | 0x107), PT_L + 0 * 8
    movq %cr4, %rax
    andq $~0x80, %rax
    movq %rax, %cr4
    orq $0x80, %rax
    movq %rax, %cr4
    movl (%rbx), %eax
    KV64 "lm4.pge after cr4.pge toggle", %rax, 8
    movq $(PAGE_B | 0x107), PT_L + 0 * 8
    invlpg (%rbx)
    movl (%rbx), %eax
    KV64 "lm4.pge after invlpg of a global page", %rax, 8
    movq %cr4, %rax
    andq $~0x80, %rax
    movq %rax, %cr4
    /* more reserved bits: above MAXPHYADDR (40), PS in a PML4E, bits 20:13 of a 2 MiB PDE */
    movq $1, ERR_HIDE           /* QEMU leaves P out of RSVD faults (README) */
    movabsq $(0x0000010000000000 | PAGE_A | 7), %rax
    movq %rax, PT_L + 6 * 8                     /* bit 40 */
    movabsq $0x8040206000, %rbx
    TRY64 "lm4.rsvd pte bit40 (err&~P)", movq (%rbx), %rax
    movq $(PDPT_L | 0x87), PT_BASE + 4 * 8      /* PML4[4] with PS */
    movabsq $0x20000000000, %rbx
    TRY64 "lm4.rsvd pml4e ps (err&~P)", movq (%rbx), %rax
    movq $0, PT_BASE + 4 * 8
    movq $(0x2000 | 0x87), PD_L + 2 * 8         /* 2 MiB PDE with bit 13 set */
    movabsq $0x8040400000, %rbx
    TRY64 "lm4.rsvd 2m pde bit13 (err&~P)", movq (%rbx), %rax
    CR2_64 "lm4.rsvd 2m pde bit13"
    movq $0, ERR_HIDE
    PUTS64 "done\n"
    EXIT 0
