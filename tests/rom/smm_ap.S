/*
 * smm_ap.S - SMBASE relocation of the application processors (-smp 8) and directed SMI
 * IPIs (cpu.md §4.1, §4.5, platform.md §6.1, §6.3; SDM Vol. 3 "Multiple-Processor
 * Management" (INIT-SIPI-SIPI), "SMBASE Relocation").
 *
 * The BSP starts the APs one at a time with INIT-SIPI-SIPI (vector 0x08: a trampoline at
 * 0x8000 that jumps into the ROM and enters 32-bit protected mode). Each AP checks in
 * with its APIC ID and idles. The BSP then sends it a directed SMI IPI (physical
 * destination = APIC ID): the AP enters at the default SMBASE 0x30000 (the stub copy
 * there runs), reports its APIC ID and relocates to 0x60000 + 0x1000 * APIC ID; a second
 * directed SMI shows it entering at the new base (CS = new base >> 4, map SMBASE = new
 * base). The BSP waits for each handler to finish, so only one CPU is ever in SMM and the
 * shared default save area is never raced. Finally one directed SMI to APIC ID 3 only:
 * the per-CPU entry counts show that no other CPU entered SMM.
 */
#include "rom.h"
#include "smm_common.h"

#define NCPU 8

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: smm_ap\n"
    RM_TO_PM32
    call idt32_init
    movl $AP_TRAMP, %edi
    call ap_tramp_install32
    movl $DEFAULT_SMBASE, %edi
    call smm_install32
    movl $1, %ebx
1:  movl %ebx, %edi
    shll $12, %edi
    addl $0x60000, %edi
    call smm_install32
    incl %ebx
    cmpl $NCPU, %ebx
    jb 1b
    SET_HOOK32 ap_hook
    movl APIC_ID, %eax
    shrl $24, %eax
    KV32 "bsp.apic_id", %eax, 2

    movl $1, %ebx                       /* APIC ID of the AP */
    xorl %edi, %edi                     /* SMM entries so far */
2:  movl %ebx, %eax
    movl $(AP_TRAMP >> 12), %edx
    call ap_start32
    KV32 "ap.checked_in", AP_LAST, 2
    /* first SMI: default SMBASE, relocation */
    incl %edi
    call smi_to_ebx
    /* second SMI: the new SMBASE */
    incl %edi
    call smi_to_ebx
    incl %ebx
    cmpl $NCPU, %ebx
    jb 2b

    /* a directed SMI to APIC ID 3 only */
    movl $3, %ebx
    incl %edi
    call smi_to_ebx
    xorl %ebx, %ebx
3:  movl SMV_CNT(0)(,%ebx,4), %eax
    PUTS32 "cpu"
    pushl %eax
    movl %ebx, %eax
    movl $1, %ecx
    call hex32
    popl %eax
    KV32 ".smm_entries", %eax, 2
    incl %ebx
    cmpl $NCPU, %ebx
    jb 3b
    KV32 "smm.entries", SMV_COUNT, 2
    PUTS32 "done\n"
    EXIT 0

/* smi_to_ebx: directed SMI IPI to APIC ID EBX, then waits until SMV_DONE reaches EDI */
smi_to_ebx:
    pushl %eax
    movl %ebx, %eax
    shll $24, %eax
    movl %eax, APIC_ICR_HI
    movl $ICR_SMI, APIC_ICR_LO
    pushl %ecx
    movl $50000000, %ecx
1:  cmpl %edi, SMV_DONE
    jae 2f
    pause
    loop 1b
    PUTS32 "timeout waiting for the SMI handler\n"
2:  popl %ecx
    popl %eax
    ret

/* in SMM on the AP (16-bit), EBX = SMBASE of the stub that ran */
    .code16
ap_hook:
    KV16 "smm.apic_id", SMV_ID, 2
    KV16 "smm.entry.stub", %ebx
    movzwl SMV_ENTRY_CS, %eax
    KV16 "smm.entry.cs", %eax, 4
    SSD "smm.map.smbase", SS_SMBASE
    SSD "smm.map.revision", SS_REVISION
    cmpl $DEFAULT_SMBASE, %ebx
    jne 1f
    movl SMV_ID, %eax
    shll $12, %eax
    addl $0x60000, %eax
    movl %eax, SS_SMBASE(%ebx)
    KV16 "smm.relocate_to", %eax
1:  ret
