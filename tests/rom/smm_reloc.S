/*
 * smm_reloc.S - SMBASE relocation of the BSP through the save-state map (cpu.md §4.5,
 * platform.md §6.3, §6.6; SDM Vol. 3 "SMBASE Relocation").
 *
 * Every SMBASE used gets its own copy of the entry stub, which reports the SMBASE it was
 * installed for, so "entry.stub" names the copy that ran (= where the CPU entered).
 *   1. SMI at the default SMBASE 0x30000; the handler writes 0x50000 into FF00; RSM.
 *   2. The next SMI enters at 0x58000 (CS 0x5000); the map shows SMBASE 0x50000 and the
 *      revision 0x00020064. The handler writes 0x70000 into FF00 but clears bit 17 of the
 *      revision field: RSM must not relocate.
 *   3. The next SMI enters at 0x58000 again; the handler relocates to 0x07F00000 (where
 *      TSEG would sit with -m 128 and 1 MiB, here plain RAM): CS = (SMBASE >> 4) & 0xFFFF
 *      = 0x0000, base 0x07F00000.
 *   4. Entry at 0x07F08000; relocate back to 0x30000 (any value is accepted).
 *   5. Entry at 0x38000.
 * Each SMI comes from a self-IPI in 32-bit protected mode.
 */
#include "rom.h"
#include "smm_common.h"

#define STEP (SMV_TEST + 0)

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: smm_reloc\n"
    RM_TO_PM32
    call idt32_init
    movl $0x30000, %edi
    call smm_install32
    movl $0x50000, %edi
    call smm_install32
    movl $0x70000, %edi
    call smm_install32
    movl $0x07F00000, %edi
    call smm_install32
    SET_HOOK32 reloc_hook
    movl $1, STEP
    SMI_SELF32 smi1
    movl $2, STEP
    SMI_SELF32 smi2
    movl $3, STEP
    SMI_SELF32 smi3
    movl $4, STEP
    SMI_SELF32 smi4
    movl $5, STEP
    SMI_SELF32 smi5
    KV32 "smm.entries", SMV_COUNT
    PUTS32 "done\n"
    EXIT 0

    .code16
reloc_hook:
    KV16 "step", STEP, 2
    KV16 "entry.stub", %ebx
    movzwl SMV_ENTRY_CS, %eax
    KV16 "entry.cs", %eax, 4
    SSD "map.smbase", SS_SMBASE
    SSD "map.revision", SS_REVISION
    movl STEP, %eax
    cmpl $1, %eax
    jne 1f
    movl $0x50000, SS_SMBASE(%ebx)
    ret
1:  cmpl $2, %eax
    jne 2f
    movl $0x70000, SS_SMBASE(%ebx)
    andl $~0x20000, SS_REVISION(%ebx)
    ret
2:  cmpl $3, %eax
    jne 3f
    movl $0x07F00000, SS_SMBASE(%ebx)
    ret
3:  cmpl $4, %eax
    jne 4f
    movl $0x30000, SS_SMBASE(%ebx)
4:  ret
