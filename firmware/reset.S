/*
 * reset.S - the reset vector and the climb from 16-bit real mode to 64-bit long mode, and the
 * final jump to the payload. Contract: ../shared/spec/firmware.md §3 steps 0 and 14.
 *
 * The 16-bit part runs with CS base 0xFFFF0000 straight from flash; it never executes through
 * the 0xC0000-0xFFFFF alias, because QEMU keeps PAM across a warm reset and that range may
 * then hold RAM. PAM is cleared before anything else.
 */
/* Boot scratch lives in 0xC0000-0xDFFFF, RAM through PAM1-4 and reserved in the memory map,
 * so neither a normal boot nor an S3 resume touches memory the OS owns (firmware.md §2.6). */
#define BOOT_PML4 0xc0000
#define BOOT_PDPT 0xc1000
#define BOOT_PD   0xc2000 /* four pages, 0xc2000-0xc5fff */

#include "platform.h"

    .section .reset16, "ax"
    .code16
    .globl reset16
reset16:
    cli
    cld
    /* Everything below relies on the Q35 MCH (PAM at 0x90): check it first. */
    movl $0x80000000, %eax
    movw $0xcf8, %dx
    outl %eax, %dx
    movw $0xcfc, %dx
    inl %dx, %eax
    cmpl $MCH_VENDOR_DEVICE, %eax
    je 3f
    movw $(not_q35_msg - 0xffff0000), %si
    movw $DEBUGCON_PORT, %dx
4:  movb %cs:(%si), %al
    testb %al, %al
    jz 2f
    outb %al, %dx
    incw %si
    jmp 4b
3:
    /* PAM0 and PAM5-6 := 0 (0xE0000-0xFFFFF to PCI, i.e. this flash), PAM1-4 := 0x33
     * (0xC0000-0xDFFFF read/write RAM for the boot scratch). MCH 0x97 is plain storage. */
    movl $0x80000090, %eax
    movw $0xcf8, %dx
    outl %eax, %dx
    movl $0x33333300, %eax
    movw $0xcfc, %dx
    outl %eax, %dx
    movl $0x80000094, %eax
    movw $0xcf8, %dx
    outl %eax, %dx
    movl $0x00000033, %eax
    movw $0xcfc, %dx
    outl %eax, %dx
    /* Only the BSP boots. On QEMU TCG an AP that took an SMI in wait-for-SIPI and was not
     * redirected would arrive here: park it. */
    movl $0x1b, %ecx
    rdmsr
    testl $0x100, %eax
    jnz 1f
2:  cli
    hlt
    jmp 2b
1:  lgdtl %cs:(boot_gdt_desc - 0xffff0000)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x18, $start32

not_q35_msg:
    .ascii "smmfw: start version=", SMMFW_VERSION, " boot=normal\n"
    .asciz "smmfw: fatal not-q35\n"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9b000000ffff /* 0x08 64-bit code */
    .quad 0x00cf93000000ffff /* 0x10 data */
    .quad 0x00cf9b000000ffff /* 0x18 32-bit code */
    .quad 0xff009bff0000ffff /* 0x20 16-bit code, base 0xffff0000 (S3 wake path) */
    .quad 0x000093000000ffff /* 0x28 16-bit data, base 0 */
boot_gdt_end:
boot_gdt_desc:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .code32
start32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    /* Identity map 0-4 GiB with 2 MiB pages at 0x1000-0x6fff (low RAM, outside the window and
     * the pen; abandoned at hand-off). 0xB0000000 and up uncached. */
    movl $BOOT_PML4, %edi
    xorl %eax, %eax
    movl $(6 * 4096 / 4), %ecx
    rep stosl
    movl $(BOOT_PDPT | 3), BOOT_PML4
    movl $(BOOT_PD | 3), BOOT_PDPT
    movl $(BOOT_PD + 0x1000 | 3), BOOT_PDPT + 8
    movl $(BOOT_PD + 0x2000 | 3), BOOT_PDPT + 16
    movl $(BOOT_PD + 0x3000 | 3), BOOT_PDPT + 24
    movl $BOOT_PD, %edi
    xorl %ebx, %ebx /* 2 MiB page index */
3:  movl %ebx, %eax
    shll $21, %eax
    orl $0x83, %eax
    cmpl $0x580, %ebx
    jb 4f
    orl $0x18, %eax /* PCD | PWT */
4:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $8, %edi
    incl %ebx
    cmpl $2048, %ebx
    jb 3b
    movl %cr4, %eax
    orl $0x20, %eax /* PAE */
    movl %eax, %cr4
    movl $BOOT_PML4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x900, %eax /* LME | NXE */
    wrmsr
    movl %cr0, %eax
    andl $0x9fffffff, %eax /* caches on: CD = NW = 0 */
    orl $0x80000021, %eax  /* PG | NE | PE */
    movl %eax, %cr0
    ljmpl $0x08, $start64

/* S3 wake, second half: 32-bit compatibility code -> paging off -> 16-bit protected ->
 * real mode (CS keeps its 0xffff0000 base, as at reset) -> far return to the vector. */
    .code32
s3_32:
    movl %cr0, %eax
    andl $0x7fffffff, %eax /* PG off: long mode inactive */
    movl %eax, %cr0
    movl $0xc0000080, %ecx
    xorl %eax, %eax
    xorl %edx, %edx
    wrmsr                  /* EFER := 0 */
    movl %eax, %cr4
    movl %eax, %cr3
    ljmpl $0x20, $(s3_16 - 0xffff0000)
    .code16
s3_16:
    movw $0x28, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl %cr0, %eax
    andl $0x7ffffffe, %eax /* PE off */
    movl %eax, %cr0
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw $0x9f00, %ax      /* scratch stack in the reserved pen page */
    movw %ax, %ss
    movw $0xf00, %sp
    movl %ebx, %eax
    shrl $4, %eax
    pushw %ax              /* CS = vector >> 4 */
    movl %ebx, %eax
    andl $0xf, %eax
    pushw %ax              /* IP = vector & 0xf */
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    lretw

    .section .reset_vector, "ax"
    .code16
    .globl reset_vector
reset_vector:
    jmp reset16
    .balign 16, 0xf4

    .text
    .code64
start64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movabsq $__boot_stack_top, %rsp
    /* .bss lives in low RAM (boot.ld); .data is copied there from flash. */
    movabsq $__bss_start, %rdi
    movabsq $__bss_end, %rcx
    subq %rdi, %rcx
    xorl %eax, %eax
    rep stosb
    movabsq $__data_start, %rdi
    movabsq $__data_end, %rcx
    subq %rdi, %rcx
    movabsq $__data_load, %rsi
    rep movsb
    movabsq $boot_main, %rax
    call *%rax
5:  cli
    hlt
    jmp 5b

/*
 * void handoff_jump(uint64_t cr3, uint64_t rsp, uint64_t entry, uint64_t bootinfo,
 *                   const void *gdt_desc)
 * Switches to the hand-off GDT and page tables and enters the payload with the register
 * state of firmware.md §3 step 14: RDI = boot info, [RSP] = 0, every other GPR 0.
 */
    .globl handoff_jump
handoff_jump:
    cli
    movq %rdx, %r10 /* entry; rdmsr below clobbers RDX and RCX */
    movq %rcx, %r11 /* boot info */
    lgdt (%r8)
    movq %rdi, %cr3
    movq %rsi, %rsp
    pushq $0x08
    movabsq $6f, %rax
    pushq %rax
    lretq
6:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movq $0x80050033, %rax /* PG | WP | NE | ET | MP | PE */
    movq %rax, %cr0
    /* CR4: PAE, plus OSFXSR | OSXMMEXCPT only where CPUID offers FXSR and SSE
     * (smmvm does not advertise them yet, and setting them there is a #GP). */
    movl $1, %eax
    cpuid
    movl $0x20, %eax
    btl $24, %edx
    jnc 7f
    btl $25, %edx
    jnc 7f
    orl $0x600, %eax
7:  movq %rax, %cr4
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x900, %eax
    wrmsr
    pushq $0x2
    popfq
    pushq $0      /* the fake return address: [RSP] = 0 at entry */
    pushq %r10    /* entry, consumed by ret */
    movq %r11, %rdi
    subq $16, %rsp
    movq $0, (%rsp)
    movq $0, 8(%rsp)
    lidt (%rsp)   /* IDTR limit 0, base 0 */
    addq $16, %rsp
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    xorl %ebp, %ebp
    xorl %r8d, %r8d
    xorl %r9d, %r9d
    xorl %r10d, %r10d
    xorl %r11d, %r11d
    xorl %r12d, %r12d
    xorl %r13d, %r13d
    xorl %r14d, %r14d
    xorl %r15d, %r15d
    ret

/* void s3_wake_jump(uint32_t vector): leave long mode for the OS's real-mode waking vector,
 * IF = 0 (firmware.md §9 step 8). */
    .globl s3_wake_jump
s3_wake_jump:
    cli
    movl %edi, %ebx
    pushq $0x18
    movabsq $s3_32, %rax
    pushq %rax
    lretq
