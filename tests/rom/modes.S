/*
 * modes.S - mode switches: real -> unreal -> 16/32-bit protected -> long (64-bit) ->
 * compatibility -> 64-bit -> protected -> real, with state and behaviour checked in each.
 *
 * Expected values (SDM Vol. 3 "Processor Management and Initialization", "Mode
 * Switching"; Vol. 1 "Operand-size and address-size attributes"):
 *   CR0 after reset = 0x60000010 (CD, NW, ET); EFLAGS after reset = 0x00000002.
 *   Real-mode linear = seg * 16 + offset; 16-bit effective addresses wrap at 64 KiB.
 *   A real-mode segment load changes only selector and base: limits loaded in protected
 *   mode survive (unreal mode).
 *   EFER.LMA = 1 while paging is on with LME = 1, in 64-bit and compatibility mode.
 *   A 16-bit (286) interrupt gate pushes a 6-byte frame (FLAGS, CS, IP).
 *   In 64-bit mode a 32-bit write zero-extends, 8/16-bit writes merge; PUSH is 8 bytes,
 *   PUSHW 2; in compatibility mode PUSH is 4 bytes and 0x40 is INC EAX.
 */
#include "rom.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: modes\n"
    movl %cr0, %eax
    KV16 "rm.cr0", %eax
    pushfl
    popl %eax
    KV16 "rm.eflags_after_popfd_2", %eax
    movw %cs, %ax
    movzwl %ax, %eax
    KV16 "rm.cs", %eax, 4
    movw %ss, %ax
    movzwl %ax, %eax
    KV16 "rm.ss", %eax, 4

    /* segment arithmetic: 0x1234:0x0010 is linear 0x12350 = 0x1235:0x0000 */
    movw $0x1234, %ax
    movw %ax, %ds
    movw $0xBEEF, 0x10
    movw $0x1235, %ax
    movw %ax, %es
    movzwl %es:0, %eax
    xorw %bx, %bx
    movw %bx, %ds
    KV16 "rm.seg_alias", %eax, 4
    /* 16-bit addressing wraps: BX+SI = 0xFFFF+2 -> offset 1 */
    movw $0x2000, %ax
    movw %ax, %es
    movw $0xFFFF, %bx
    movw $2, %si
    movb $0x5A, %es:(%bx,%si)
    movzbl %es:1, %eax
    KV16 "rm.ea_wrap", %eax, 2
    /* BP-based addressing defaults to SS */
    movw $0x3000, %ax
    movw %ax, %ss
    movw $0x0040, %bp
    movw $0x7777, (%bp)
    xorw %ax, %ax
    movw %ax, %ss
    movw $0x3004, %ax
    movw %ax, %es
    movzwl %es:0, %eax
    KV16 "rm.bp_uses_ss", %eax, 4
    /* 32-bit operand and address size in real mode */
    movl $0x5000, %ebx
    movl $0xCAFEBABE, (%ebx)
    movl 0x5000, %eax
    KV16 "rm.addr32", %eax
    movl $0x80000000, %eax
    addl %eax, %eax
    setc %al
    movzbl %al, %eax
    KV16 "rm.add32_carry", %eax, 2
    /* stack widths */
    movl %esp, %ebx
    pushl $0x11223344
    movl %esp, %ecx
    subl %ecx, %ebx
    popl %eax
    KV16 "rm.pushl_size", %ebx, 2
    KV16 "rm.pushl_value", %eax
    movl %esp, %ebx
    pushw $0x5566
    movl %esp, %ecx
    subl %ecx, %ebx
    popw %ax
    KV16 "rm.pushw_size", %ebx, 2

    /* software interrupt through the IVT, with a handler of our own */
    movw $rm_int40, IVT_BASE + 4 * 0x40
    movw $0xF000, IVT_BASE + 4 * 0x40 + 2
    movl $0, %ebx
    pushw $0x0203               /* IF, CF */
    popfw
    int $0x40
    pushfw
    popw %ax
    movzwl %ax, %eax
    KV16 "rm.int40_flags_after_iret", %eax, 4
    cli
    KV16 "rm.int40_ebx", %ebx
    KV16 "rm.int40_flags_in_handler", %ecx, 4
    KV16 "rm.int40_cs_pushed", %edx, 4
    /* exceptions in real mode: IP pushed is the faulting instruction for faults, the next
     * one for INT3/INTO */
    IVT_SET 0
    IVT_SET 3
    IVT_SET 4
    IVT_SET 5
    IVT_SET 6
    xorb %bl, %bl
    movw $0x1234, %ax
    TRY16 "rm.div0", divb %bl
    TRY16 "rm.int3", int3
    movb $0x7F, %al
    addb $1, %al
    TRY16 "rm.into_of1", into
    movb $0x10, %al
    addb $1, %al
    TRY16 "rm.into_of0", into
    movw $10, SCRATCH16
    movw $20, SCRATCH16 + 2
    movw $21, %ax
    TRY16 "rm.bound_above", boundw %ax, SCRATCH16
    movw $10, %ax
    TRY16 "rm.bound_inside", boundw %ax, SCRATCH16
    TRY16 "rm.ud2", ud2

    /* ---------------- 32-bit protected mode ---------------- */
    RM_TO_PM32
    call idt32_init
    movl %cr0, %eax
    KV32 "pm32.cr0", %eax
    movl %cs, %eax
    KV32 "pm32.cs", %eax, 4
    movl %ss, %eax
    KV32 "pm32.ss", %eax, 4
    movl %esp, %ebx
    pushw $1
    movl %esp, %ecx
    subl %ecx, %ebx
    popw %ax
    KV32 "pm32.pushw_size", %ebx, 2
    TRY32 "pm32.ud2", ud2

    /* a 16-bit data segment with base 0x50000 for the 16-bit code below */
    movl $0x0000FFFF, GDT_BASE + SEL_TEST
    movl $0x00009305, GDT_BASE + SEL_TEST + 4

    /* a 16-bit (286) interrupt gate at 0x60 into the 16-bit code segment */
    movl $((SEL_CS16 << 16) | 0), IDT_BASE + 0x60 * 8
    movl $0x00008600, IDT_BASE + 0x60 * 8 + 4
    movw $pm16_int60, IDT_BASE + 0x60 * 8

    /* ---------------- 16-bit protected mode ---------------- */
    ljmp $SEL_CS16, $RM(pm16)
    .code16
pm16:
    movl %esp, %edi
    pushw $0x08D7               /* OF SF ZF AF PF CF: defined flags for the frame */
    popfw
    int $0x60
    movl %edi, %eax
    subl %esi, %eax
    KV16 "pm16.int 16-bit gate frame size", %eax, 2
    KV16 "pm16.int 16-bit gate pushed cs", %edx, 4
    movzwl %cx, %eax
    KV16 "pm16.int 16-bit gate flags inside", %eax, 4
    movw %cs, %ax
    movzwl %ax, %eax
    KV16 "pm16.cs", %eax, 4
    movl %esp, %ebx
    pushw $1
    movl %esp, %ecx
    subl %ecx, %ebx
    popw %ax
    KV16 "pm16.pushw_size", %ebx, 2
    movw $SEL_TEST, %ax
    movw %ax, %es
    movw $0xA55A, %es:0x10
    movw $0x600D, %es:0xFFFE
    movw $SEL_DS32, %ax         /* a 4 GiB data segment: 32-bit offsets work in 16-bit code */
    movw %ax, %es
    movl $0x123456, %ebx
    movl $0x13579BDF, %es:(%ebx)
    ljmpl $SEL_CS32, $pm32_back
    .code32
pm32_back:
    movw $SEL_DS32, %ax
    movw %ax, %es
    movzwl 0x50010, %eax
    KV32 "pm16.base_write", %eax, 4
    movzwl 0x5FFFE, %eax
    KV32 "pm16.limit_top_write", %eax, 4
    movl 0x123456, %eax
    KV32 "pm16.addr32_write", %eax

    /* ---------------- unreal mode ---------------- */
    movw $SEL_DS32, %ax         /* 4 GiB limit caches in FS and GS */
    movw %ax, %fs
    movw %ax, %gs
    PM32_TO_RM 0
    movl %cr0, %eax
    KV16 "unreal.cr0", %eax
    movl $0x1000000, %ebx
    movl $0x0BADF00D, %fs:(%ebx)
    movw $0x1000, %ax           /* base 0x10000, limit stays 4 GiB */
    movw %ax, %gs
    movl $0x12345678, %gs:(%ebx)
    movl %fs:(%ebx), %eax
    KV16 "unreal.fs_read", %eax
    movl %fs:0x10000(%ebx), %eax
    KV16 "unreal.gs_alias_read", %eax

    RM_TO_PM32
    call idt32_init
    movl 0x1000000, %eax
    KV32 "unreal.flat_1000000", %eax
    movl 0x1010000, %eax
    KV32 "unreal.flat_1010000", %eax

    /* ---------------- long mode ---------------- */
    PM32_TO_LM64
    call idt64_init
    movl $MSR_EFER, %ecx
    rdmsr
    shlq $32, %rdx
    orq %rdx, %rax
    KV64 "lm.efer", %rax
    movq %cr0, %rax
    KV64 "lm.cr0", %rax
    movq %cr4, %rax
    KV64 "lm.cr4", %rax
    movq %cr3, %rax
    KV64 "lm.cr3", %rax
    movl %cs, %eax
    KV64 "lm.cs", %rax, 4
    movabsq $0x123456789ABCDEF0, %rax
    movabsq $0x0FEDCBA987654321, %rbx
    addq %rbx, %rax
    KV64 "lm.add64", %rax
    movq $-1, %rax
    movl $1, %eax
    KV64 "lm.mov32_zero_extends", %rax
    movq $-1, %rax
    movw $1, %ax
    KV64 "lm.mov16_merges", %rax
    movq $-1, %rax
    movb $1, %al
    KV64 "lm.mov8_merges", %rax
    movq $-1, %r8
    movl $2, %r8d
    movabsq $0x8000000000000000, %r15
    addq %r15, %r15
    setc %r15b
    KV64 "lm.r8", %r8
    KV64 "lm.r15", %r15
    movq $-1, %rsi
    movb $0x42, %sil
    KV64 "lm.sil", %rsi
    movq %rsp, %rbx
    pushq $-2
    movq %rsp, %rcx
    popq %rax
    subq %rcx, %rbx
    KV64 "lm.push_size", %rbx, 2
    KV64 "lm.push_imm_sign_extends", %rax
    movq %rsp, %rbx
    pushw $3
    movq %rsp, %rcx
    popw %ax
    subq %rcx, %rbx
    KV64 "lm.pushw_size", %rbx, 2
    leaq lm_here(%rip), %rax
lm_here:
    movl $lm_here, %ebx
    subq %rbx, %rax
    KV64 "lm.rip_relative", %rax
    movl $0x11111111, SCRATCH
    movl $0x22222222, SCRATCH + 4
    movq SCRATCH, %rax
    KV64 "lm.load64", %rax
    movl $SCRATCH, %ebx
    movl $1, %ecx
    movl (%rbx,%rcx,4), %eax
    KV64 "lm.sib_load", %rax
    TRY64 "lm.ud2", ud2
    TRY64 "lm.into_is_ud", .byte 0xCE

    /* ---------------- compatibility mode ---------------- */
    pushq $SEL_CS32
    leaq compat(%rip), %rax
    pushq %rax
    lretq
    .code32
compat:
    movl $MSR_EFER, %ecx
    rdmsr
    KV32 "cm.efer", %eax
    movl %cs, %eax
    KV32 "cm.cs", %eax, 4
    movl %esp, %ebx
    pushl $0
    movl %esp, %ecx
    popl %eax
    subl %ecx, %ebx
    KV32 "cm.push_size", %ebx, 2
    movl $5, %eax
    .byte 0x40                  /* INC EAX in compatibility mode, REX in 64-bit mode */
    KV32 "cm.inc_eax", %eax
    ljmp $SEL_CS64, $lm_again
    .code64
lm_again:
    movl %cs, %eax
    KV64 "lm2.cs", %rax, 4
    movl $5, %eax
    .byte 0x40                  /* REX prefix: the NOP-like MOV below is unaffected */
    movl %eax, %ebx
    KV64 "lm2.rex40_mov", %rbx

    /* ---------------- back to protected and real mode ---------------- */
    LM64_TO_PM32
    call idt32_init
    movl $MSR_EFER, %ecx
    rdmsr
    KV32 "pm32b.efer", %eax
    movl %cr0, %eax
    KV32 "pm32b.cr0", %eax
    PM32_TO_RM 1
    movl %cr0, %eax
    KV16 "rmb.cr0", %eax
    movw %cs, %ax
    movzwl %ax, %eax
    KV16 "rmb.cs", %eax, 4
    movl $0, %ebx
    int $0x40
    KV16 "rmb.int40_ebx", %ebx
    xorb %bl, %bl
    TRY16 "rmb.div0", divb %bl
    PUTS16 "done\n"
    EXIT 0

/* INT 0x60 through a 16-bit interrupt gate (protected mode): ESI = SP inside, EDX = the
 * pushed CS, CX = FLAGS inside (IF, TF, NT cleared); returns with a 16-bit IRET */
    .code16
pm16_int60:
    movl %esp, %esi
    pushf
    popw %cx
    movl %esp, %ebp
    movzwl 2(%ebp), %edx
    iret

/* INT 0x40 handler: EBX = marker, ECX = FLAGS inside (IF, TF cleared), EDX = pushed CS */
rm_int40:
    movl $0x40404040, %ebx
    pushf
    popw %cx
    movzwl %cx, %ecx
    movw %sp, %bp
    movzwl 2(%bp), %edx
    iret
