/*
 * smm_roundtrip.S - SMI (self-IPI) from 32-bit protected mode with paging and from 64-bit
 * long mode: the SMM entry state, selected save-state fields, and the full state round
 * trip through RSM (every GPR, RFLAGS with the arithmetic flags, DF, AC and IOPL, the
 * segment selectors, FS/GS bases, CR0/CR2/CR3/CR4, DR7, EFER, GDTR/IDTR, TR, RSP), plus
 * RSM loading a map the handler edited (R8, RAX, RFLAGS.CF, RIP).
 *
 * Expected values (cpu.md §4.2-4.4, platform.md §6.4-6.6; SDM Vol. 3 "System Management
 * Mode"): on entry CR0 loses PE, EM, TS and PG and keeps the rest, CR4 = 0, EFER = 0,
 * EFLAGS = 2, DR7 = 0x400, CS = 0x3000; the map holds the interrupted state (attributes
 * as descriptor byte 5 | high nibble of byte 6 << 12, EFER with LMA in long mode, 64-bit
 * RIP/GPRs); RSM restores all of it. CR2, DR0-3 and KERNEL_GS_BASE are not in the map and
 * are left alone by SMM. The handler clobbers EAX-EBP and DS-GS before RSM.
 * Left out: TR attributes after LTR (QEMU caches type 9, available; hardware 11, busy),
 * the upper halves of RAX/RIP saved from 32-bit code.
 */
#include "rom.h"
#include "smm_common.h"

#define PD32        PT_FREE                 /* 4 MiB pages, identity */
#define PM_CR0      0xE001003F              /* PG CD NW WP NE ET TS EM MP PE */
#define PM_CR4      0x00000090              /* PGE PSE */
#define PM_FLAGS    0x00043CD7              /* AC IOPL3 OF DF SF ZF AF PF CF */
#define PM_ESP      0x0009EF00
#define PM_CR2      0xC0DE2222
#define LM_CR4      0x000000B0              /* PGE PAE PSE */
#define LM_EFER     0x00000D01              /* NXE LMA LME SCE */
#define LM_CR0      0x80010033              /* PG WP NE ET MP PE */
#define LM_FSBASE   0x0000123456789000
#define LM_GSBASE   0xFFFF800000001000
#define LM_KGSBASE  0x00007FFF00002000
#define LM_CR2      0xFFFF8000C0DE2222

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: smm_roundtrip\n"
    RM_TO_PM32
    call idt32_init
    call tss32_init
    movl $DEFAULT_SMBASE, %edi
    call smm_install32

    /* ---------------- 32-bit protected mode, paging on ---------------- */
    movl $PD32, %edi
    movl $0x87, %eax
    movl $1024, %ecx
1:  movl %eax, (%edi)
    addl $0x400000, %eax
    addl $4, %edi
    loop 1b
    movl $PD32, %eax
    movl %eax, %cr3
    movl $PM_CR4, %eax
    movl %eax, %cr4
    movl $PM_CR0, %eax
    movl %eax, %cr0
    jmp 2f
2:  movl $PM_CR2, %eax
    movl %eax, %cr2
    movl $0x700, %eax
    movl %eax, %dr7
    SET_HOOK32 pm_hook
    movw $SEL_DS64, %ax
    movw %ax, %es
    movw $SEL_DS16, %ax
    movw %ax, %fs
    movw $SEL_DS32U, %ax
    movw %ax, %gs
    movl $0xA1A1A1A1, %eax
    movl $0xB2B2B2B2, %ebx
    movl $0xC3C3C3C3, %ecx
    movl $0xD4D4D4D4, %edx
    movl $0xE5E5E5E5, %esi
    movl $0xF6F6F6F6, %edi
    movl $0x17171717, %ebp
    movl $PM_ESP, %esp
    pushl $PM_FLAGS
    popfl
    SMI_SELF32 smi_pm
    movl %eax, SNAP + 0x00
    movl %ecx, SNAP + 0x04
    movl %edx, SNAP + 0x08
    movl %ebx, SNAP + 0x0C
    movl %esp, SNAP + 0x10
    movl %ebp, SNAP + 0x14
    movl %esi, SNAP + 0x18
    movl %edi, SNAP + 0x1C
    pushfl
    popl SNAP + 0x20
    movl $0, SNAP + 0x40
    movw %cs, SNAP + 0x40
    movl $0, SNAP + 0x44
    movw %ss, SNAP + 0x44
    movl $0, SNAP + 0x48
    movw %ds, SNAP + 0x48
    movl $0, SNAP + 0x4C
    movw %es, SNAP + 0x4C
    movl $0, SNAP + 0x50
    movw %fs, SNAP + 0x50
    movl $0, SNAP + 0x54
    movw %gs, SNAP + 0x54
    cld
    movw $SEL_DS32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movl $STACK0, %esp
    CHECK32 "pm.rt.eax", SNAP + 0x00, $0xA1A1A1A1
    CHECK32 "pm.rt.ecx", SNAP + 0x04, $0xC3C3C3C3
    CHECK32 "pm.rt.edx", SNAP + 0x08, $0xD4D4D4D4
    CHECK32 "pm.rt.ebx", SNAP + 0x0C, $0xB2B2B2B2
    CHECK32 "pm.rt.esp", SNAP + 0x10, $PM_ESP
    CHECK32 "pm.rt.ebp", SNAP + 0x14, $0x17171717
    CHECK32 "pm.rt.esi", SNAP + 0x18, $0xE5E5E5E5
    CHECK32 "pm.rt.edi", SNAP + 0x1C, $0xF6F6F6F6
    CHECK32 "pm.rt.eflags", SNAP + 0x20, $PM_FLAGS
    CHECK32 "pm.rt.cs", SNAP + 0x40, $SEL_CS32
    CHECK32 "pm.rt.ss", SNAP + 0x44, $SEL_DS32
    CHECK32 "pm.rt.ds", SNAP + 0x48, $SEL_DS32
    CHECK32 "pm.rt.es", SNAP + 0x4C, $SEL_DS64
    CHECK32 "pm.rt.fs", SNAP + 0x50, $SEL_DS16
    CHECK32 "pm.rt.gs", SNAP + 0x54, $SEL_DS32U
    movl %cr0, %eax
    CHECK32 "pm.rt.cr0", %eax, $PM_CR0
    movl %cr2, %eax
    CHECK32 "pm.rt.cr2", %eax, $PM_CR2
    movl %cr3, %eax
    CHECK32 "pm.rt.cr3", %eax, $PD32
    movl %cr4, %eax
    CHECK32 "pm.rt.cr4", %eax, $PM_CR4
    movl %dr7, %eax
    CHECK32 "pm.rt.dr7", %eax, $0x700
    movl $MSR_EFER, %ecx
    rdmsr
    CHECK32 "pm.rt.efer", %eax, $0
    sgdt SNAP + 0x60
    movzwl SNAP + 0x60, %eax
    CHECK32 "pm.rt.gdtr.limit", %eax, $GDT_LIMIT
    CHECK32 "pm.rt.gdtr.base", SNAP + 0x62, $GDT_BASE
    sidt SNAP + 0x68
    movzwl SNAP + 0x68, %eax
    CHECK32 "pm.rt.idtr.limit", %eax, $(256 * 8 - 1)
    CHECK32 "pm.rt.idtr.base", SNAP + 0x6A, $IDT_BASE
    xorl %eax, %eax
    str %ax
    CHECK32 "pm.rt.tr", %eax, $SEL_TSS
    /* the restored caches work: FS has a 64 KiB limit and base 0, GS is the DPL-3 segment */
    lsl %eax, %eax                      /* TR limit */
    CHECK32 "pm.rt.tr.limit", %eax, $0x67
    KV32 "smm.entries", SMV_COUNT

    /* paging off again for the switch to long mode */
    movl $0x60000011, %eax
    movl %eax, %cr0
    jmp 3f
3:  xorl %eax, %eax
    movl %eax, %cr4
    movl %eax, %dr7

    /* ---------------- 64-bit long mode ---------------- */
    PM32_TO_LM64
    call idt64_init
    call tss64_init
    APIC_ALIAS64
    movq %cr4, %rax
    orq $LM_CR4, %rax
    movq %rax, %cr4
    movl $MSR_EFER, %ecx
    rdmsr
    orl $0x801, %eax
    wrmsr
    movq %cr0, %rax
    andq $~0x60000000, %rax
    orq $0x10022, %rax
    movq %rax, %cr0
    movabsq $LM_CR2, %rax
    movq %rax, %cr2
    movl $0x700, %eax
    movq %rax, %dr7
    SET_HOOK32 lm_hook
    movw $SEL_DS64, %ax
    movw %ax, %es
    movw $SEL_DS16, %ax
    movw %ax, %fs
    xorl %eax, %eax
    movw %ax, %gs
    movl $MSR_FS_BASE, %ecx
    movabsq $LM_FSBASE, %rax
    movq %rax, %rdx
    shrq $32, %rdx
    wrmsr
    movl $MSR_GS_BASE, %ecx
    movabsq $LM_GSBASE, %rax
    movq %rax, %rdx
    shrq $32, %rdx
    wrmsr
    movl $MSR_KERNEL_GS_BASE, %ecx
    movabsq $LM_KGSBASE, %rax
    movq %rax, %rdx
    shrq $32, %rdx
    wrmsr
    movabsq $0x0101010101010101, %rax
    movabsq $0x0303030303030303, %rcx
    movabsq $0x0202020202020202, %rdx
    movabsq $0x0404040404040404, %rbx
    movabsq $0x0505050505050505, %rbp
    movabsq $0x0606060606060606, %rsi
    movabsq $0x0707070707070707, %rdi
    movabsq $0x8888888888888888, %r8
    movabsq $0x9999999999999999, %r9
    movabsq $0xAAAAAAAAAAAAAAAA, %r10
    movabsq $0xBBBBBBBBBBBBBBBB, %r11
    movabsq $0xCCCCCCCCCCCCCCCC, %r12
    movabsq $0xDDDDDDDDDDDDDDDD, %r13
    movabsq $0xEEEEEEEEEEEEEEEE, %r14
    movabsq $0xFFFFFFFF00000000, %r15
    movl $PM_ESP, %esp
    pushq $PM_FLAGS
    popfq
    SMI_SELF64 smi_lm
    movq %rax, SNAP + 0x00
    movq %rcx, SNAP + 0x08
    movq %rdx, SNAP + 0x10
    movq %rbx, SNAP + 0x18
    movq %rsp, SNAP + 0x20
    movq %rbp, SNAP + 0x28
    movq %rsi, SNAP + 0x30
    movq %rdi, SNAP + 0x38
    movq %r8, SNAP + 0x40
    movq %r9, SNAP + 0x48
    movq %r10, SNAP + 0x50
    movq %r11, SNAP + 0x58
    movq %r12, SNAP + 0x60
    movq %r13, SNAP + 0x68
    movq %r14, SNAP + 0x70
    movq %r15, SNAP + 0x78
    pushfq
    popq SNAP + 0x80
    movq $0, SNAP + 0x88
    movw %cs, SNAP + 0x88
    movq $0, SNAP + 0x90
    movw %ss, SNAP + 0x90
    movq $0, SNAP + 0x98
    movw %ds, SNAP + 0x98
    movq $0, SNAP + 0xA0
    movw %es, SNAP + 0xA0
    movq $0, SNAP + 0xA8
    movw %fs, SNAP + 0xA8
    movq $0, SNAP + 0xB0
    movw %gs, SNAP + 0xB0
    cld
    movl $STACK0, %esp
    CHECKQ "lm.rt.rax", SNAP + 0x00, 0x0101010101010101
    CHECKQ "lm.rt.rcx", SNAP + 0x08, 0x0303030303030303
    CHECKQ "lm.rt.rdx", SNAP + 0x10, 0x0202020202020202
    CHECKQ "lm.rt.rbx", SNAP + 0x18, 0x0404040404040404
    CHECKQ "lm.rt.rsp", SNAP + 0x20, PM_ESP
    CHECKQ "lm.rt.rbp", SNAP + 0x28, 0x0505050505050505
    CHECKQ "lm.rt.rsi", SNAP + 0x30, 0x0606060606060606
    CHECKQ "lm.rt.rdi", SNAP + 0x38, 0x0707070707070707
    CHECKQ "lm.rt.r8", SNAP + 0x40, 0x8888888888888888
    CHECKQ "lm.rt.r9", SNAP + 0x48, 0x9999999999999999
    CHECKQ "lm.rt.r10", SNAP + 0x50, 0xAAAAAAAAAAAAAAAA
    CHECKQ "lm.rt.r11", SNAP + 0x58, 0xBBBBBBBBBBBBBBBB
    CHECKQ "lm.rt.r12", SNAP + 0x60, 0xCCCCCCCCCCCCCCCC
    CHECKQ "lm.rt.r13", SNAP + 0x68, 0xDDDDDDDDDDDDDDDD
    CHECKQ "lm.rt.r14", SNAP + 0x70, 0xEEEEEEEEEEEEEEEE
    CHECKQ "lm.rt.r15", SNAP + 0x78, 0xFFFFFFFF00000000
    CHECKQ "lm.rt.rflags", SNAP + 0x80, PM_FLAGS
    CHECKQ "lm.rt.cs", SNAP + 0x88, SEL_CS64
    CHECKQ "lm.rt.ss", SNAP + 0x90, SEL_DS32
    CHECKQ "lm.rt.ds", SNAP + 0x98, SEL_DS32
    CHECKQ "lm.rt.es", SNAP + 0xA0, SEL_DS64
    CHECKQ "lm.rt.fs", SNAP + 0xA8, SEL_DS16
    CHECKQ "lm.rt.gs", SNAP + 0xB0, 0
    movl $MSR_FS_BASE, %ecx
    call rdmsr64
    CHECKQ "lm.rt.fs_base", %rax, LM_FSBASE
    movl $MSR_GS_BASE, %ecx
    call rdmsr64
    CHECKQ "lm.rt.gs_base", %rax, LM_GSBASE
    movl $MSR_KERNEL_GS_BASE, %ecx
    call rdmsr64
    CHECKQ "lm.rt.kernel_gs_base", %rax, LM_KGSBASE
    movl $MSR_EFER, %ecx
    call rdmsr64
    CHECKQ "lm.rt.efer", %rax, LM_EFER
    movq %cr0, %rax
    CHECKQ "lm.rt.cr0", %rax, LM_CR0
    movq %cr2, %rax
    CHECKQ "lm.rt.cr2", %rax, LM_CR2
    movq %cr3, %rax
    CHECKQ "lm.rt.cr3", %rax, PT_BASE
    movq %cr4, %rax
    CHECKQ "lm.rt.cr4", %rax, LM_CR4
    movq %dr7, %rax
    CHECKQ "lm.rt.dr7", %rax, 0x700
    sgdt SNAP + 0xC0
    movzwl SNAP + 0xC0, %eax
    CHECKQ "lm.rt.gdtr.limit", %rax, GDT_LIMIT
    CHECKQ "lm.rt.gdtr.base", SNAP + 0xC2, GDT_BASE
    sidt SNAP + 0xD0
    movzwl SNAP + 0xD0, %eax
    CHECKQ "lm.rt.idtr.limit", %rax, (256*16-1)
    CHECKQ "lm.rt.idtr.base", SNAP + 0xD2, IDT_BASE
    xorl %eax, %eax
    str %ax
    CHECKQ "lm.rt.tr", %rax, SEL_TSS
    KV64 "smm.entries", SMV_COUNT, 8

    /* ---- RSM loads what the handler wrote into the map ---- */
    SET_HOOK32 edit_hook
    movabsq $0x1111111111111111, %r8
    movabsq $0x2222222222222222, %rax
    movl $0x600DBEEF, %ebx
    xorl %edx, %edx
    pushq $0x2                      /* CF = 0 */
    popfq
    SMI_SELF64 smi_edit
    ud2                             /* the handler moves the saved RIP to edit_target */
edit_target:
    movl $1, %edx
    setc %cl
    movzbl %cl, %ecx
    KV64 "lm.edit.r8", %r8
    KV64 "lm.edit.rax", %rax
    KV64 "lm.edit.rbx", %rbx
    KV64 "lm.edit.cf", %rcx, 2
    KV64 "lm.edit.rip_moved", %rdx, 2
    PUTS64 "done\n"
    EXIT 0

rdmsr64:
    rdmsr
    shlq $32, %rdx
    orq %rdx, %rax
    ret


/* ---- SMM hooks (16-bit, EBX = SMBASE) ---- */
    .code16
clobber16:
    movl $0xDEAD0000, %eax
    movl %eax, %ecx
    movl %eax, %edx
    movl %eax, %esi
    movl %eax, %edi
    movl %eax, %ebp
    movw $0x0000, %ax
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    ret

pm_hook:
    movzwl SMV_ENTRY_CS, %eax
    KV16 "pm.entry.cs", %eax, 4
    KV16 "pm.entry.cr0", SMV_CR0
    KV16 "pm.entry.cr4", SMV_CR4
    KV16 "pm.entry.eflags", SMV_EFLAGS
    KV16 "pm.entry.dr7", SMV_DR7
    KVQ16 "pm.entry.efer", SMV_EFER, SMV_EFER + 4
    movl SMV_ESP, %eax
    KV16 "pm.entry.esp", %eax
    movl SMV_CR3, %eax
    KV16 "pm.entry.cr3", %eax
    SSD "pm.map.revision", SS_REVISION
    SSD "pm.map.smbase", SS_SMBASE
    SSD "pm.map.cr0", SS_CR0
    SSQ "pm.map.cr3", SS_CR3
    SSD "pm.map.cr4", SS_CR4
    SSQ "pm.map.efer", SS_EFER
    SSD "pm.map.dr7", SS_DR7
    SSD "pm.map.rflags", SS_RFLAGS
    movl SS_RIP(%ebx), %eax
    subl $smi_pm, %eax
    KV16 "pm.map.rip-at_jmp", %eax
    SSW "pm.map.cs.sel", SS_CS + SEG_SEL
    SSW "pm.map.cs.attr", SS_CS + SEG_ATTR
    SSD "pm.map.cs.limit", SS_CS + SEG_LIMIT
    SSQ "pm.map.cs.base", SS_CS + SEG_BASE
    SSW "pm.map.ss.attr", SS_SS + SEG_ATTR
    SSW "pm.map.fs.sel", SS_FS + SEG_SEL
    SSW "pm.map.fs.attr", SS_FS + SEG_ATTR
    SSD "pm.map.fs.limit", SS_FS + SEG_LIMIT
    SSW "pm.map.gs.sel", SS_GS + SEG_SEL
    SSW "pm.map.gs.attr", SS_GS + SEG_ATTR
    SSW "pm.map.tr.sel", SS_TR + SEG_SEL
    SSD "pm.map.tr.limit", SS_TR + SEG_LIMIT
    SSQ "pm.map.tr.base", SS_TR + SEG_BASE
    SSD "pm.map.gdtr.limit", SS_GDTR_LIMIT
    SSQ "pm.map.gdtr.base", SS_GDTR_BASE
    SSD "pm.map.idtr.limit", SS_IDTR_LIMIT
    SSQ "pm.map.idtr.base", SS_IDTR_BASE
    SSD "pm.map.eax", SS_GPR(0)
    SSD "pm.map.esp", SS_GPR(4)
    jmp clobber16

lm_hook:
    movzwl SMV_ENTRY_CS, %eax
    KV16 "lm.entry.cs", %eax, 4
    KV16 "lm.entry.cr0", SMV_CR0
    KV16 "lm.entry.cr4", SMV_CR4
    KV16 "lm.entry.eflags", SMV_EFLAGS
    KVQ16 "lm.entry.efer", SMV_EFER, SMV_EFER + 4
    KV16 "lm.entry.dr7", SMV_DR7
    SSD "lm.map.revision", SS_REVISION
    SSD "lm.map.smbase", SS_SMBASE
    SSD "lm.map.cr0", SS_CR0
    SSQ "lm.map.cr3", SS_CR3
    SSD "lm.map.cr4", SS_CR4
    SSQ "lm.map.efer", SS_EFER
    SSD "lm.map.rflags", SS_RFLAGS
    movl SS_RIP(%ebx), %eax
    subl $smi_lm, %eax
    KV16 "lm.map.rip-at_jmp", %eax
    SSD "lm.map.rip.hi", SS_RIP + 4
    SSW "lm.map.cs.sel", SS_CS + SEG_SEL
    SSW "lm.map.cs.attr", SS_CS + SEG_ATTR
    SSQ "lm.map.fs.base", SS_FS + SEG_BASE
    SSQ "lm.map.gs.base", SS_GS + SEG_BASE
    SSQ "lm.map.tr.base", SS_TR + SEG_BASE
    SSQ "lm.map.rax", SS_GPR(0)
    SSQ "lm.map.rsp", SS_GPR(4)
    SSQ "lm.map.r8", SS_GPR(8)
    SSQ "lm.map.r15", SS_GPR(15)
    jmp clobber16

edit_hook:
    movl $0x89ABCDEF, SS_GPR(8)(%ebx)
    movl $0x01234567, SS_GPR(8) + 4(%ebx)
    notl SS_GPR(0)(%ebx)
    orl $F_CF, SS_RFLAGS(%ebx)
    movl $edit_target, SS_RIP(%ebx)
    movl $0, SS_RIP + 4(%ebx)
    movl $1, SMV_NOSKIP
    call clobber16
    ret
