/*
 * smm_halt.S - an SMI interrupting HLT (-smp 2: the AP sends a directed SMI IPI to the
 * halted BSP). Auto-HALT restart (cpu.md §4.7; SDM Vol. 3 "Auto HALT Restart"; AMD64 APM
 * Vol. 2 "Auto-Halt Restart") is where the two behaviours differ, so there are two
 * expected files:
 *
 *   hardware (expected/smm_halt.txt, smmvm default): entry writes FEC9 bit 0 = 1 (the SMI
 *     interrupted HLT); the saved RIP points after the HLT. Part 1: the handler clears the
 *     bit, RSM resumes after the HLT. Part 2: the handler leaves the bit set, RSM puts the
 *     CPU back into the halt state; only the NMI the AP sends later wakes it (NMI frame
 *     EIP = after the HLT).
 *   QEMU TCG (expected/smm_halt.tcg.txt, smmvm -machine q35,x-tcg-smm=on): FEC9 is not
 *     written and RSM ignores it: the BSP resumes after the HLT both times; the bit is not
 *     printed (the byte is one the map leaves untouched there).
 *
 * Both: the HLT is left for the SMI, the saved RIP is the instruction after the HLT.
 */
#include "rom.h"
#include "smm_common.h"

#define STEP        (SMV_TEST + 0x00)
#define GO          (SMV_TEST + 0x04)
#define RESUMED2    (SMV_TEST + 0x08)
#define AP_SAW      (SMV_TEST + 0x0C)
#define NMI_COUNT   (SMV_TEST + 0x10)
#define NMI_EIP     (SMV_TEST + 0x14)
#define AP_DONE     (SMV_TEST + 0x18)

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: smm_halt\n"
    RM_TO_PM32
    call idt32_init
    pushl $0x8E
    pushl $SEL_CS32
    pushl $nmi32
    pushl $2
    call gate32_set
    movl $AP_TRAMP, %edi
    call ap_tramp_install32
    movl $DEFAULT_SMBASE, %edi
    call smm_install32
    SET_HOOK32 halt_hook
    movl $ap_halt_main, AP_MAIN
    movl $1, %eax
    movl $(AP_TRAMP >> 12), %edx
    call ap_start32
    KV32 "ap.checked_in", AP_ALIVE(1), 2

    /* part 1: the handler clears auto-HALT */
    movl $1, STEP
    movl $1, GO
    hlt
after_hlt1:
    KV32 "halt1.resumed", STEP, 2
    KV32 "halt1.smm_entries", SMV_COUNT, 2

    /* part 2: the handler leaves auto-HALT as entry wrote it */
    movl $2, STEP
    movl $2, GO
    hlt
after_hlt2:
    movl $1, RESUMED2
    WAIT32 AP_DONE, 1
    WAIT32 NMI_COUNT, 1
    KV32 "halt2.smm_entries", SMV_COUNT, 2
    KV32 "halt2.bsp_resumed_before_the_nmi", AP_SAW, 2
    cmpl $0, AP_SAW
    jne 1f
    movl NMI_EIP, %eax
    subl $after_hlt2, %eax
    KV32 "halt2.nmi_woke_the_halt_at_eip-after_hlt", %eax
1:  KV32 "halt2.nmis", NMI_COUNT, 2
    PUTS32 "done\n"
    EXIT 0

nmi32:
    pushl %eax
    movl 4(%esp), %eax
    movl %eax, NMI_EIP
    lock incl NMI_COUNT
    popl %eax
    iret

/* the AP (32-bit, EAX = EBP = APIC ID): SMIs the BSP once it has halted */
ap_halt_main:
    WAIT32 GO, 1
    call ap_delay
    IPI32 0, ICR_SMI
    WAIT32 SMV_DONE, 1
    WAIT32 GO, 2
    call ap_delay
    IPI32 0, ICR_SMI
    WAIT32 SMV_DONE, 2
    call ap_delay
    call ap_delay
    movl RESUMED2, %eax
    movl %eax, AP_SAW
    movl $1, AP_DONE
    IPI32 0, ICR_NMI
    ret

ap_delay:
    pushl %ecx
    movl $300000, %ecx
1:  pause
    loop 1b
    popl %ecx
    ret

/* in SMM on the BSP, EBX = SMBASE */
    .code16
halt_hook:
    movl STEP, %eax
    cmpl $1, %eax
    jne 2f
    movl SS_RIP(%ebx), %eax
    subl $after_hlt1, %eax
    KV16 "halt1.smm.map.rip-after_hlt", %eax
    testb $1, SS_AUTO_HALT(%ebx)
    jz 1f
    PUTS16 "halt1.smm.map.auto_halt: 1\n"
1:  andb $~1, SS_AUTO_HALT(%ebx)
    ret
2:  movl SS_RIP(%ebx), %eax
    subl $after_hlt2, %eax
    KV16 "halt2.smm.map.rip-after_hlt", %eax
    testb $1, SS_AUTO_HALT(%ebx)
    jz 3f
    PUTS16 "halt2.smm.map.auto_halt: 1\n"
3:  ret
