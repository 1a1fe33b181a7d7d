/*
 * smm_init.S - INIT sent to an AP that is spinning in its SMI handler (-smp 2). Two
 * behaviours, two expected files (cpu.md §4.6, §4.8; platform.md §6.7, tests 61/62; SDM
 * Vol. 3 "System Management Mode": INIT is blocked while in SMM):
 *
 *   hardware (expected/smm_init.txt, smmvm default): the INIT is latched; the AP keeps
 *     spinning in SMM, finishes its handler when released and executes RSM, and only then
 *     acts on the INIT (wait-for-SIPI, SMBASE kept).
 *   QEMU TCG (expected/smm_init.tcg.txt, smmvm -machine q35,x-tcg-smm=on): the INIT acts at
 *     once: the AP stops spinning and leaves SMM without RSM (its handler never finishes).
 *
 * Both: a SIPI (vector 0x0A) then starts the AP at 0A00:0000 outside SMM, and its next SMI
 * enters at the SMBASE it relocated to before (0x61000): INIT keeps SMBASE.
 */
#include "rom.h"
#include "smm_common.h"

#define STEP        (SMV_TEST + 0x00)
#define IN_SMM      (SMV_TEST + 0x04)
#define SMM_HB      (SMV_TEST + 0x08)
#define RELEASE     (SMV_TEST + 0x0C)
#define TRAMP2_RAN  (SMV_TEST + 0x10)

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: smm_init\n"
    RM_TO_PM32
    call idt32_init
    movl $AP_TRAMP, %edi
    call ap_tramp_install32
    movl $tramp2, %esi                  /* second trampoline at 0xA000 */
    movl $AP_TRAMP2, %edi
    movl $(tramp2_end - tramp2), %ecx
    rep movsb
    movl $DEFAULT_SMBASE, %edi
    call smm_install32
    movl $0x61000, %edi
    call smm_install32
    SET_HOOK32 init_hook
    movl $1, %eax
    movl $(AP_TRAMP >> 12), %edx
    call ap_start32
    KV32 "ap.checked_in", AP_ALIVE(1), 2

    /* relocate the AP to 0x61000 */
    movl $1, STEP
    IPI32 1, ICR_SMI
    WAIT32 SMV_DONE, 1

    /* the AP spins in SMM; INIT it */
    movl $2, STEP
    IPI32 1, ICR_SMI
    WAIT32 IN_SMM, 1
    KV32 "bsp.ap_in_smm", IN_SMM, 2
    IPI32 1, ICR_INIT
    call long_delay
    movl SMM_HB, %ebx
    call long_delay
    movl SMM_HB, %eax
    cmpl %eax, %ebx
    setne %al
    movzbl %al, %eax
    KV32 "bsp.ap_still_spinning_in_smm_after_init", %eax, 2
    movl $1, RELEASE
    movl $2000000, %ecx
1:  cmpl $2, SMV_DONE
    jae 2f
    pause
    loop 1b
2:  KV32 "bsp.ap_handler_finished", SMV_DONE, 2
    call long_delay

    /* SIPI 0x0A: the AP waits for SIPI in both behaviours */
    IPI32 1, (ICR_SIPI | (AP_TRAMP2 >> 12))
    WAIT32 AP_ALIVE(1), 2
    KV32 "bsp.ap_started_by_sipi_0a", TRAMP2_RAN, 2
    KV32 "bsp.ap_check_ins", AP_ALIVE(1), 2

    /* the SMBASE survived INIT */
    movl SMV_DONE, %edi
    incl %edi
    movl $3, STEP
    IPI32 1, ICR_SMI
    movl $2000000, %ecx
3:  cmpl %edi, SMV_DONE
    jae 4f
    pause
    loop 3b
4:  KV32 "bsp.ap_smm_entries", SMV_CNT(1), 2
    PUTS32 "done\n"
    EXIT 0

long_delay:
    pushl %ecx
    movl $500000, %ecx
1:  pause
    loop 1b
    popl %ecx
    ret

    .code16
tramp2:                                 /* at 0A00:0000, DS = 0 after INIT */
    movw $0, %ax
    movw %ax, %ds
    movl $1, TRAMP2_RAN
    ljmp $0xF000, $ap_entry16
tramp2_end:

/* in SMM on the AP, EBX = SMBASE */
init_hook:
    movl STEP, %eax
    cmpl $1, %eax
    jne 1f
    KV16 "ap.smm.entry.stub", %ebx
    movl $0x61000, SS_SMBASE(%ebx)
    PUTS16 "ap.smm.relocated\n"
    ret
1:  cmpl $2, %eax
    jne 3f
    movl $1, IN_SMM
2:  lock incl SMM_HB
    pause
    cmpl $0, RELEASE
    je 2b
    PUTS16 "ap.smm.released\n"
    ret
3:  KV16 "ap.smm.entry.stub", %ebx
    SSD "ap.smm.map.smbase", SS_SMBASE
    SSW "ap.smm.map.cs.sel", SS_CS + SEG_SEL
    ret
