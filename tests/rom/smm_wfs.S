/*
 * smm_wfs.S - an SMI sent to a CPU that waits for SIPI (-smp 2): the AP after reset gets
 * a directed SMI IPI, then INIT-SIPI-SIPI (vector 0x08). Two behaviours, two expected
 * files (cpu.md §4.6, §4.8; platform.md §6.7, test 35/63; SDM Vol. 3 "System Management
 * Interrupt (SMI)": an SMI to a processor in wait-for-SIPI is held until it is started):
 *
 *   hardware (expected/smm_wfs.txt, smmvm default): the SMI stays pending; the AP does not
 *     enter SMM before the SIPI. The SIPI starts it and the SMI is taken before its first
 *     instruction: saved CS 0x0800, base 0x8000, RIP 0. After RSM the AP runs the
 *     trampoline at 0800:0000 and checks in.
 *   QEMU TCG (expected/smm_wfs.tcg.txt, smmvm -machine q35,x-tcg-smm=on): the AP takes the
 *     SMI at once, with the reset state saved (CS 0xF000, base 0xFFFF0000, RIP 0xFFF0);
 *     after RSM it runs the reset vector (this ROM notices it is not the BSP and halts);
 *     INIT-SIPI-SIPI then starts it at the trampoline without another SMM entry.
 *
 * Every line is printed by one CPU while the other waits, so the order is fixed.
 */
#include "rom.h"
#include "smm_common.h"

#define AP_RESET_RAN (SMV_TEST + 0)

    .text
    .code16
    .globl main16
main16:
    movl $MSR_APIC_BASE, %ecx
    rdmsr
    testw $0x100, %ax
    jz ap_after_reset
    PUTS16 "rom: smm_wfs\n"
    RM_TO_PM32
    call idt32_init
    movl $AP_TRAMP, %edi
    call ap_tramp_install32
    movl $DEFAULT_SMBASE, %edi
    call smm_install32
    SET_HOOK32 wfs_hook

    /* directed SMI to APIC ID 1, which waits for SIPI since reset */
    IPI32 1, ICR_SMI
    movl $2000000, %ecx
1:  cmpl $1, SMV_DONE
    jae 2f
    pause
    loop 1b
2:  KV32 "bsp.ap_entered_smm_before_sipi", SMV_DONE, 2
    cmpl $1, SMV_DONE
    jb 4f
    movl $2000000, %ecx
3:  cmpl $1, AP_RESET_RAN
    jae 4f
    pause
    loop 3b
4:  KV32 "bsp.ap_ran_reset_vector_after_rsm", AP_RESET_RAN, 2

    /* INIT-SIPI-SIPI */
    movl $1, %eax
    movl $(AP_TRAMP >> 12), %edx
    call ap_start32
    KV32 "bsp.ap_checked_in", AP_ALIVE(1), 2
    KV32 "bsp.ap_smm_entries", SMV_CNT(1), 2
    KV32 "bsp.bsp_smm_entries", SMV_CNT(0), 2
    PUTS32 "done\n"
    EXIT 0

/* an AP running the reset vector (QEMU TCG, after RSM from the early SMI) */
    .code16
ap_after_reset:
    movw $0, %ax
    movw %ax, %ds
    lock incl AP_RESET_RAN
1:  cli
    hlt
    jmp 1b

/* in SMM on the AP, EBX = SMBASE */
wfs_hook:
    KV16 "ap.smm.apic_id", SMV_ID, 2
    KV16 "ap.smm.entry.stub", %ebx
    SSW "ap.smm.map.cs.sel", SS_CS + SEG_SEL
    SSQ "ap.smm.map.cs.base", SS_CS + SEG_BASE
    SSD "ap.smm.map.cs.limit", SS_CS + SEG_LIMIT
    SSQ "ap.smm.map.rip", SS_RIP
    SSD "ap.smm.map.cr0", SS_CR0
    SSD "ap.smm.map.smbase", SS_SMBASE
    ret
