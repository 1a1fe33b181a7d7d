/*
 * smm_entry.S - the first SMI after reset, taken in real mode through a self-IPI (local
 * APIC ICR, delivery mode SMI, shorthand self): where the CPU enters (SMBASE 0x30000 + 0x8000),
 * the SMM entry state the handler sees, the save-state map it finds, and RSM back; RSM
 * outside SMM in real, protected and long mode.
 *
 * Expected values (cpu.md §4.2-4.4, platform.md §6.4-6.6; SDM Vol. 3 "System Management
 * Mode": "SMRAM State Save Map", "Processor Register State on SMM entry"; AMD64 APM Vol. 2
 * "SMM Save State"):
 *   entry: CS = SMBASE >> 4 = 0x3000, CR0 = CR0 & ~(PE|EM|TS|PG), CR4 = 0, EFLAGS = 2,
 *   DR7 = 0x400, EFER = 0, DS/ES/SS/FS/GS selectors 0, ESP, CR3 and the GPRs unchanged.
 *   map: revision 0x00020064 at FEFC, SMBASE 0x30000 at FF00, CS F000/009B/FFFF/F0000,
 *   data segments 0093 with 64 KiB limits (FS keeps the 4 GiB cache of unreal mode, C093),
 *   LDTR 0000/0082/FFFF, TR 0000/008B/FFFF (reset values), DR6 FFFF0FF0, DR7 400,
 *   RFLAGS as set, RIP = the instruction after the ICR store.
 *   RSM outside SMM: #UD in every mode.
 *   MSR 0x34 (SMI count) grows by one per SMM entry (printed as a difference).
 */
#include "rom.h"
#include "smm_common.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: smm_entry\n"
    IVT_SET 6
    TRY16 "rm.rsm_outside_smm", rsm

    RM_TO_PM32
    call idt32_init
    TRY32 "pm32.rsm_outside_smm", rsm
    movl $DEFAULT_SMBASE, %edi
    call smm_install32
    SET_HOOK32 entry_hook
    /* back to real mode with only FS unreal (4 GiB limit) for the ICR store */
    movw $SEL_DS32, %ax
    movw %ax, %fs
    ljmp $SEL_CS16, $RM(1f)
    .code16
1:  movw $SEL_DS16, %ax
    movw %ax, %ss
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %gs
    movl %cr0, %eax
    andl $0x7FFFFFFE, %eax
    movl %eax, %cr0
    ljmp $0xF000, $2f
2:  xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $STACK_RM, %esp
    lidt %cs:ivt_desc

    movl $MSR_SMI_COUNT, %ecx
    rdmsr
    movl %eax, SMV_TEST
    /* the state the SMI interrupts */
    movl $0x11111111, %ebx
    movl $0x22222222, %ecx
    movl $0x33333333, %edx
    movl $0x44444444, %esi
    movl $0x55555555, %edi
    movl $0x66666666, %ebp
    pushl $0x00000CD7           /* OF DF SF ZF AF PF CF */
    popfl
    SMI_SELF16 smi_rm
    pushfl
    popl %eax
    cld
    KV16 "rm.after_rsm.eflags", %eax
    KV16 "rm.after_rsm.ebx", %ebx
    KV16 "rm.after_rsm.ecx", %ecx
    KV16 "rm.after_rsm.edx", %edx
    KV16 "rm.after_rsm.esi", %esi
    KV16 "rm.after_rsm.edi", %edi
    KV16 "rm.after_rsm.ebp", %ebp
    movw %ds, %ax
    movw %es, %bx
    orw %bx, %ax
    movw %ss, %bx
    orw %bx, %ax
    movw %fs, %bx
    orw %bx, %ax
    movw %gs, %bx
    orw %bx, %ax
    movzwl %ax, %eax
    KV16 "rm.after_rsm.ds_es_ss_fs_gs_or", %eax, 4
    /* FS keeps its 4 GiB cache through SMM: reads what the handler wrote at 2 MiB */
    addr32 movl %fs:0x200000, %eax
    KV16 "rm.after_rsm.fs_unreal_read", %eax
    movl %esp, %eax
    KV16 "rm.after_rsm.esp", %eax
    movw %cs, %ax
    movzwl %ax, %eax
    KV16 "rm.after_rsm.cs", %eax, 4
    movl %cr0, %eax
    KV16 "rm.after_rsm.cr0", %eax
    KV16 "smm.entries", SMV_COUNT
    movl $MSR_SMI_COUNT, %ecx
    rdmsr
    subl SMV_TEST, %eax
    KV16 "msr34.delta", %eax

    RM_TO_PM32
    call idt32_init
    PM32_TO_LM64
    call idt64_init
    TRY64 "lm.rsm_outside_smm", rsm
    PUTS64 "done\n"
    EXIT 0

/* runs in SMM (16-bit, CS = 0xF000), EBX = SMBASE */
    .code16
entry_hook:
    movzwl SMV_ENTRY_CS, %eax
    KV16 "entry.cs", %eax, 4
    KV16 "entry.smbase", %ebx
    KV16 "entry.cr0", SMV_CR0
    KV16 "entry.cr4", SMV_CR4
    KV16 "entry.dr7", SMV_DR7
    KV16 "entry.eflags", SMV_EFLAGS
    KVQ16 "entry.efer", SMV_EFER, SMV_EFER + 4
    movzwl SMV_SREG + 0, %eax
    KV16 "entry.es", %eax, 4
    movzwl SMV_SREG + 4, %eax
    KV16 "entry.ss", %eax, 4
    movzwl SMV_SREG + 6, %eax
    KV16 "entry.ds", %eax, 4
    movzwl SMV_SREG + 8, %eax
    KV16 "entry.fs", %eax, 4
    movzwl SMV_SREG + 10, %eax
    KV16 "entry.gs", %eax, 4
    /* unchanged: ESP, CR3, GPRs (compared with the map) */
    movl SMV_ESP, %eax
    subl SS_GPR(4)(%ebx), %eax
    KV16 "entry.esp-saved_rsp", %eax
    movl SMV_CR3, %eax
    subl SS_CR3(%ebx), %eax
    KV16 "entry.cr3-saved_cr3", %eax
    xorl %ecx, %ecx
    movl SMV_GPR(1), %eax
    xorl SS_GPR(1)(%ebx), %eax
    orl %eax, %ecx
    movl SMV_GPR(2), %eax
    xorl SS_GPR(2)(%ebx), %eax
    orl %eax, %ecx
    movl SMV_GPR(3), %eax
    xorl SS_GPR(3)(%ebx), %eax
    orl %eax, %ecx
    movl SMV_GPR(5), %eax
    xorl SS_GPR(5)(%ebx), %eax
    orl %eax, %ecx
    movl SMV_GPR(6), %eax
    xorl SS_GPR(6)(%ebx), %eax
    orl %eax, %ecx
    movl SMV_GPR(7), %eax
    xorl SS_GPR(7)(%ebx), %eax
    orl %eax, %ecx
    KV16 "entry.gprs_xor_saved", %ecx
    /* the 4 GiB limit of the SMM data segments: a 32-bit address above 1 MiB works */
    movl $0x200000, %esi
    movl $0x5A5AA5A5, (%esi)
    movl (%esi), %eax
    KV16 "entry.ds_4g_access", %eax

    /* the save-state map */
    SSD "map.revision", SS_REVISION
    SSD "map.smbase", SS_SMBASE
    SSW "map.cs.sel", SS_CS + SEG_SEL
    SSW "map.cs.attr", SS_CS + SEG_ATTR
    SSD "map.cs.limit", SS_CS + SEG_LIMIT
    SSQ "map.cs.base", SS_CS + SEG_BASE
    SSW "map.ss.sel", SS_SS + SEG_SEL
    SSW "map.ss.attr", SS_SS + SEG_ATTR
    SSD "map.ss.limit", SS_SS + SEG_LIMIT
    SSQ "map.ss.base", SS_SS + SEG_BASE
    SSW "map.ds.attr", SS_DS + SEG_ATTR
    SSD "map.ds.limit", SS_DS + SEG_LIMIT
    SSW "map.es.attr", SS_ES + SEG_ATTR
    SSW "map.fs.attr", SS_FS + SEG_ATTR
    SSD "map.fs.limit", SS_FS + SEG_LIMIT
    SSQ "map.fs.base", SS_FS + SEG_BASE
    SSW "map.gs.attr", SS_GS + SEG_ATTR
    SSD "map.gs.limit", SS_GS + SEG_LIMIT
    SSD "map.gdtr.limit", SS_GDTR_LIMIT
    SSQ "map.gdtr.base", SS_GDTR_BASE
    SSD "map.idtr.limit", SS_IDTR_LIMIT
    SSQ "map.idtr.base", SS_IDTR_BASE
    SSW "map.ldtr.sel", SS_LDTR + SEG_SEL
    SSW "map.ldtr.attr", SS_LDTR + SEG_ATTR
    SSD "map.ldtr.limit", SS_LDTR + SEG_LIMIT
    SSQ "map.ldtr.base", SS_LDTR + SEG_BASE
    SSW "map.tr.sel", SS_TR + SEG_SEL
    SSW "map.tr.attr", SS_TR + SEG_ATTR
    SSD "map.tr.limit", SS_TR + SEG_LIMIT
    SSQ "map.tr.base", SS_TR + SEG_BASE
    SSQ "map.efer", SS_EFER
    SSD "map.cr0", SS_CR0
    SSQ "map.cr3", SS_CR3
    SSD "map.cr4", SS_CR4
    SSD "map.dr6", SS_DR6
    SSD "map.dr7", SS_DR7
    SSD "map.rflags", SS_RFLAGS
    movl SS_RIP(%ebx), %eax
    subl $RM(smi_rm), %eax
    KV16 "map.rip-smi_rm", %eax
    SSD "map.rbx", SS_GPR(3)
    SSD "map.rcx", SS_GPR(1)
    SSD "map.rdx", SS_GPR(2)
    SSD "map.rsi", SS_GPR(6)
    SSD "map.rdi", SS_GPR(7)
    SSD "map.rbp", SS_GPR(5)
    SSD "map.rsp", SS_GPR(4)
    movl $0xDEAD0000, %edi          /* RSM must restore these too */
    movl %edi, %ebp
    ret
