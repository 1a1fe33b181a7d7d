/*
 * smm_nmi.S - NMIs and SMIs around SMM on one CPU (cpu.md §4.1, §4.6; platform.md §6.2,
 * §6.6, §6.7, tests 58 and 60; SDM Vol. 3 "NMI Handling While in SMM", "Exiting From SMM").
 *
 *   A. A self-NMI sent inside SMM is held (NMIs are blocked from SMM entry) and taken
 *      right after RSM, at the restored RIP.
 *   B. Two self-SMIs sent inside SMM collapse into one pending SMI, taken right after RSM
 *      (saved RIP = where the first RSM returned to): exactly one more entry.
 *   C. An IRET inside SMM unblocks NMIs: a self-NMI sent in SMM is taken in SMM (through
 *      the real-mode IVT the handler loads with LIDT) right after that IRET; RSM restores
 *      the interrupted IDTR; no NMI is left for after RSM.
 *   D. An SMI taken inside an NMI handler leaves NMIs blocked after RSM: a self-NMI sent
 *      after that RSM, still in the NMI handler, waits for the handler's IRET.
 * All in 32-bit protected mode; SMIs and NMIs through the local APIC ICR (shorthand self).
 */
#include "rom.h"
#include "smm_common.h"

#define NMI_COUNT   (SMV_TEST + 0x00)
#define NMI_EIP     (SMV_TEST + 0x04)
#define NMI_MODE    (SMV_TEST + 0x08)
#define NMI_INNER   (SMV_TEST + 0x0C)
#define SMM_NMIS    (SMV_TEST + 0x10)
#define STEP        (SMV_TEST + 0x14)

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: smm_nmi\n"
    RM_TO_PM32
    call idt32_init
    pushl $0x8E
    pushl $SEL_CS32
    pushl $nmi32
    pushl $2
    call gate32_set
    movl $DEFAULT_SMBASE, %edi
    call smm_install32
    SET_HOOK32 nmi_hook
    /* SMM's IVT entry 2 (used in part C) */
    movw $smm_nmi16, 2 * 4
    movw $0xF000, 2 * 4 + 2

    /* A */
    movl $1, STEP
    SMI_SELF32 smi_a
after_a:
    KV32 "a.nmis_after_rsm", NMI_COUNT, 2
    movl NMI_EIP, %eax
    subl $after_a, %eax
    KV32 "a.nmi_eip-after_rsm_rip", %eax

    /* B */
    movl $2, STEP
    SMI_SELF32 smi_b
after_b:
    KV32 "b.smm_entries", SMV_COUNT, 2

    /* C */
    movl $4, STEP
    SMI_SELF32 smi_c
    KV32 "c.nmis_after_rsm", NMI_COUNT, 2
    sidt SNAP
    movzwl SNAP, %eax
    KV32 "c.idtr.limit_after_rsm", %eax, 4
    KV32 "c.idtr.base_after_rsm", SNAP + 2

    /* D */
    movl $5, STEP
    movl $0, NMI_COUNT
    movl $1, NMI_MODE
    movl $ICR_NMI_SELF, APIC_ICR_LO
    movl $50000000, %ecx
1:  cmpl $2, NMI_COUNT
    jae 2f
    pause
    loop 1b
2:  KV32 "d.nmis_before_iret", NMI_INNER, 2
    KV32 "d.nmis_total", NMI_COUNT, 2
    KV32 "smm.entries", SMV_COUNT, 2
    PUTS32 "done\n"
    EXIT 0

/* NMI handler (32-bit interrupt gate) */
nmi32:
    pushl %eax
    incl NMI_COUNT
    movl 4(%esp), %eax
    movl %eax, NMI_EIP
    cmpl $1, NMI_MODE
    jne 2f
    movl $0, NMI_MODE
    SMI_SELF32 smi_d                /* SMI inside the NMI handler */
    movl $ICR_NMI_SELF, APIC_ICR_LO
    pushl %ecx
    movl $200000, %ecx
1:  pause
    loop 1b
    popl %ecx
    movl NMI_COUNT, %eax
    movl %eax, NMI_INNER
2:  popl %eax
    iret

/* in SMM, EBX = SMBASE */
    .code16
smm_nmi16:                          /* an NMI taken inside SMM (part C) */
    incl SMM_NMIS
    iret

nmi_hook:
    movl STEP, %eax
    cmpl $1, %eax
    jne 1f
    /* A: self-NMI inside SMM */
    movl $APIC_ICR_LO, %esi
    movl $ICR_NMI_SELF, (%esi)
    call delay16
    KV16 "a.nmis_in_smm", NMI_COUNT, 2
    ret
1:  cmpl $2, %eax
    jne 2f
    /* B: two self-SMIs inside SMM */
    movl $3, STEP
    movl $APIC_ICR_LO, %esi
    movl $ICR_SMI_SELF, (%esi)
    call delay16
    movl $ICR_SMI_SELF, (%esi)
    call delay16
    KV16 "b.smm_entries_in_first_smi", SMV_COUNT, 2
    ret
2:  cmpl $3, %eax
    jne 3f
    /* B, second entry: right after the first RSM */
    movl SS_RIP(%ebx), %eax
    subl $after_b, %eax
    KV16 "b.second_entry.rip-after_rsm_rip", %eax
    KV16 "b.second_entry.count", SMV_COUNT, 2
    ret
3:  cmpl $4, %eax
    jne 4f
    /* C: IRET inside SMM unblocks NMIs */
    lidtl %cs:smm_ivt_desc
    movl $APIC_ICR_LO, %esi
    movl $ICR_NMI_SELF, (%esi)
    call delay16
    KV16 "c.smm_nmis_before_iret", SMM_NMIS, 2
    pushfw
    pushw %cs
    pushw $5f
    iret
5:  call delay16
    KV16 "c.smm_nmis_after_iret", SMM_NMIS, 2
    ret
4:  /* D: the SMI inside the NMI handler */
    KV16 "d.smm_entry_in_nmi_handler", STEP, 2
    ret

delay16:
    pushl %ecx
    movl $200000, %ecx
1:  pause
    addr32 loop 1b
    popl %ecx
    ret

    .section .rodata
smm_ivt_desc:
    .word 0x3FF
    .long 0
