/*
 * smm_apm.S - the chipset's SMI sources and locks as firmware programs them (-smp 2):
 * ICH9 LPC PMBASE / ACPI_CNTL, SMI_EN and SMI_STS (32-bit accesses only), the APM ports
 * 0xB2/0xB3 and when a write to 0xB2 raises an SMI (only on the writing CPU: no SMI feature
 * negotiation in this ROM), GEN_PMCON_1.SMI_LOCK freezing SMI_EN.GBL_SMI_EN, the MCH 0x9C
 * default-SMBASE lock, TSEG and D_LCK, each seen from normal code and from SMM.
 *
 * Expected values (platform.md §2.3-2.7, §2.9, §3.1-3.9, tests 27-36; ICH9 datasheet
 * "LPC Interface Bridge Registers", "Power Management I/O Registers"):
 *   PMBASE power-on 0x00000001, := 0x601 reads 0x601; the PM block decodes only with
 *   ACPI_CNTL bit 7; SMI_EN resets to 0; byte and word accesses to SMI_EN read 0 and are
 *   dropped; SMI_STS reads 0, also after APM SMIs.
 *   0xB2 write: SMI on the writer iff APMC_EN (GBL_SMI_EN not consulted); 0x02/0x03 never
 *   SMI and set/clear PM1_CNT.SCI_EN; the handler reads back both latches (a word OUT to
 *   0xB2 writes 0xB2 then 0xB3).
 *   SMI_LOCK set with GBL_SMI_EN = 0: 0x21 written reads 0x20; SMI_LOCK cannot be cleared.
 *   0x9C: 0xFF -> 0x01, then 0x02 -> 0x02: 0x30000-0x4FFFF reads all-ones from normal code,
 *   SMM still enters at 0x38000 and sees the stub there.
 *   TSEG (ESMRAMC 0x39 = 1 MiB, T_EN; SMRAM 0x0A = G_SMRAME): 0x07F00000 is a black hole for
 *   normal code, RAM for SMM. D_LCK: 0x1A; then 0x4A -> 0x1A, 0x02 -> 0x1A, 0x22 -> 0x3A;
 *   ESMRAMC frozen (TSEG stays on).
 */
#include "rom.h"
#include "smm_common.h"

#define LPC         0x8000F800
#define MCH         0x80000000
#define PMBASE      0x600
#define SMI_EN      (PMBASE + 0x30)
#define SMI_STS     (PMBASE + 0x34)
#define PM1_CNT     (PMBASE + 0x04)
#define TSEG        0x07F00000
#define STEP        (SMV_TEST + 0x00)

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: smm_apm\n"
    RM_TO_PM32
    call idt32_init
    movl $AP_TRAMP, %edi
    call ap_tramp_install32
    movl $DEFAULT_SMBASE, %edi
    call smm_install32
    SET_HOOK32 apm_hook
    movl $1, %eax
    movl $(AP_TRAMP >> 12), %edx
    call ap_start32
    KV32 "ap.checked_in", AP_ALIVE(1), 2

    /* ---- LPC PM block ---- */
    movl $(LPC + 0x40), %eax
    call pci_rd32
    KV32 "lpc.pmbase.poweron", %eax
    movl $(LPC + 0x40), %eax
    movl $0x601, %ecx
    call pci_wr32
    call pci_rd32
    KV32 "lpc.pmbase", %eax
    movl $(LPC + 0x44), %eax
    call pci_rd8
    KV32 "lpc.acpi_cntl.poweron", %eax, 2
    movl $(LPC + 0x44), %eax
    movl $0x80, %ecx
    call pci_wr8
    call pci_rd8
    KV32 "lpc.acpi_cntl", %eax, 2
    movw $SMI_EN, %dx
    inl %dx, %eax
    KV32 "smi_en.reset", %eax
    inb %dx, %al
    movzbl %al, %eax
    KV32 "smi_en.byte_read", %eax, 2
    inw %dx, %ax
    movzwl %ax, %eax
    KV32 "smi_en.word_read", %eax, 4
    movl $0x21, %eax
    outl %eax, %dx
    inl %dx, %eax
    KV32 "smi_en.after_0x21", %eax
    movb $0, %al
    outb %al, %dx
    movw $0, %ax
    outw %ax, %dx
    inl %dx, %eax
    KV32 "smi_en.after_byte_word_writes", %eax
    movw $SMI_STS, %dx
    inl %dx, %eax
    KV32 "smi_sts", %eax

    /* ---- APM: word OUT 0x6655 to 0xB2 -> SMI on this CPU, latches 0x55 / 0x66 ---- */
    movl $1, STEP
    movw $0x6655, %ax
    outw %ax, $0xB2
smi1:
    jmp .
    KV32 "apm1.bsp_smm_entries", SMV_CNT(0), 2
    KV32 "apm1.ap_smm_entries", SMV_CNT(1), 2
    movl $2, STEP
    movb $0x00, %al
    outb %al, $0xB2
    jmp .
    KV32 "apm2.bsp_smm_entries", SMV_CNT(0), 2

    /* APMC_EN = 0, GBL_SMI_EN = 1: no SMI */
    movw $SMI_EN, %dx
    movl $0x01, %eax
    outl %eax, %dx
    movb $0x07, %al
    outb %al, $0xB2
    call delay32
    KV32 "apmc_en0.smm_entries", SMV_COUNT, 2
    inb $0xB2, %al
    movzbl %al, %eax
    KV32 "apmc_en0.apm_cnt", %eax, 2
    /* APMC_EN = 1, GBL_SMI_EN = 0: SMI */
    movl $0x20, %eax
    outl %eax, %dx
    movl $3, STEP
    movb $0x01, %al
    outb %al, $0xB2
    jmp .
    KV32 "gbl0.smm_entries", SMV_COUNT, 2
    /* 0x02 / 0x03: ACPI enable / disable, never an SMI */
    movb $0x02, %al
    outb %al, $0xB2
    call delay32
    movw $PM1_CNT, %dx
    inw %dx, %ax
    andl $1, %eax
    KV32 "apm02.sci_en", %eax, 2
    KV32 "apm02.smm_entries", SMV_COUNT, 2
    movb $0x03, %al
    outb %al, $0xB2
    call delay32
    movw $PM1_CNT, %dx
    inw %dx, %ax
    andl $1, %eax
    KV32 "apm03.sci_en", %eax, 2
    KV32 "apm03.smm_entries", SMV_COUNT, 2
    movw $SMI_STS, %dx
    inl %dx, %eax
    KV32 "smi_sts.after_apm_smis", %eax

    /* ---- SMI_LOCK ---- */
    movl $(LPC + 0xA0), %eax
    call pci_rd16
    KV32 "gen_pmcon_1.poweron", %eax, 4
    movl $(LPC + 0xA0), %eax
    movl $0x10, %ecx
    call pci_wr16
    call pci_rd16
    KV32 "gen_pmcon_1.smi_lock", %eax, 4
    movw $SMI_EN, %dx
    movl $0x21, %eax
    outl %eax, %dx
    inl %dx, %eax
    KV32 "smi_lock.smi_en_after_0x21", %eax
    movl $(LPC + 0xA0), %eax
    movl $0, %ecx
    call pci_wr16
    call pci_rd16
    KV32 "gen_pmcon_1.after_clear", %eax, 4
    movw $SMI_EN, %dx
    movl $0x21, %eax
    outl %eax, %dx
    inl %dx, %eax
    KV32 "smi_lock.smi_en_still", %eax

    /* ---- MCH 0x9C: lock the default-SMBASE window ---- */
    movl $(MCH + 0x9C), %eax
    call pci_rd8
    KV32 "mch.9c.poweron", %eax, 2
    movl $(MCH + 0x9C), %eax
    movl $0xFF, %ecx
    call pci_wr8
    call pci_rd8
    KV32 "mch.9c.query", %eax, 2
    movl $(MCH + 0x9C), %eax
    movl $0x02, %ecx
    call pci_wr8
    call pci_rd8
    KV32 "mch.9c.lock", %eax, 2
    KV32 "window.normal_read_38000", 0x38000
    movl $4, STEP
    movb $0x00, %al
    outb %al, $0xB2
    jmp .
    KV32 "window.smm_entries", SMV_COUNT, 2

    /* ---- TSEG and D_LCK ---- */
    movl $0x7E5E6000, TSEG
    movl $(MCH + 0x9D), %eax
    call pci_rd8
    KV32 "mch.9d.poweron", %eax, 2
    movl $(MCH + 0x9E), %eax
    call pci_rd8
    KV32 "mch.9e.poweron", %eax, 2
    movl $(MCH + 0x9E), %eax
    movl $0x39, %ecx
    call pci_wr8
    call pci_rd8
    KV32 "mch.9e.tseg_1m", %eax, 2
    movl $(MCH + 0x9D), %eax
    movl $0x0A, %ecx
    call pci_wr8
    call pci_rd8
    KV32 "mch.9d.g_smrame", %eax, 2
    KV32 "tseg.normal_read", TSEG
    movl $0x11111111, TSEG
    KV32 "tseg.normal_read_after_write", TSEG
    movl $5, STEP
    movb $0x00, %al
    outb %al, $0xB2
    jmp .
    movl $(MCH + 0x9D), %eax
    movl $0x1A, %ecx
    call pci_wr8
    call pci_rd8
    KV32 "mch.9d.d_lck", %eax, 2
    movl $(MCH + 0x9D), %eax
    movl $0x4A, %ecx
    call pci_wr8
    call pci_rd8
    KV32 "mch.9d.after_0x4a", %eax, 2
    movl $(MCH + 0x9D), %eax
    movl $0x02, %ecx
    call pci_wr8
    call pci_rd8
    KV32 "mch.9d.after_0x02", %eax, 2
    movl $(MCH + 0x9D), %eax
    movl $0x22, %ecx
    call pci_wr8
    call pci_rd8
    KV32 "mch.9d.after_0x22", %eax, 2
    movl $(MCH + 0x9E), %eax
    movl $0x38, %ecx
    call pci_wr8
    call pci_rd8
    KV32 "mch.9e.after_lock_write", %eax, 2
    KV32 "tseg.normal_read_after_lock", TSEG
    movl $6, STEP
    movb $0x00, %al
    outb %al, $0xB2
    jmp .
    KV32 "bsp.smm_entries", SMV_CNT(0), 2
    KV32 "ap.smm_entries", SMV_CNT(1), 2
    PUTS32 "done\n"
    EXIT 0

/* PCI configuration mechanism #1: EAX = 0x80000000 | bus/dev/fn | reg, ECX = value */
pci_rd32:
    pushl %edx
    pushl %eax
    andl $~3, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $0xCFC, %dx
    inl %dx, %eax
    addl $4, %esp
    popl %edx
    ret
pci_wr32:
    pushl %edx
    pushl %eax
    andl $~3, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $0xCFC, %dx
    movl %ecx, %eax
    outl %eax, %dx
    popl %eax
    popl %edx
    ret
pci_rd16:
    pushl %edx
    pushl %eax
    call pci_sel
    inw %dx, %ax
    movzwl %ax, %eax
    addl $4, %esp
    popl %edx
    ret
pci_wr16:
    pushl %edx
    pushl %eax
    call pci_sel
    movl %ecx, %eax
    outw %ax, %dx
    popl %eax
    popl %edx
    ret
pci_rd8:
    pushl %edx
    pushl %eax
    call pci_sel
    inb %dx, %al
    movzbl %al, %eax
    addl $4, %esp
    popl %edx
    ret
pci_wr8:
    pushl %edx
    pushl %eax
    call pci_sel
    movl %ecx, %eax
    outb %al, %dx
    popl %eax
    popl %edx
    ret
pci_sel:                            /* EAX = address; returns DX = 0xCFC + (reg & 3) */
    pushl %eax
    andl $~3, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    popl %eax
    andl $3, %eax
    movw $0xCFC, %dx
    addw %ax, %dx
    ret

/* in SMM on the CPU that wrote 0xB2, EBX = SMBASE */
    .code16
apm_hook:
    KV16 "smm.step", STEP, 2
    KV16 "smm.apic_id", SMV_ID, 2
    inb $0xB2, %al
    movzbl %al, %eax
    KV16 "smm.apm_cnt", %eax, 2
    inb $0xB3, %al
    movzbl %al, %eax
    KV16 "smm.apm_sts", %eax, 2
    movl STEP, %eax
    cmpl $1, %eax
    jne 1f
    movl SS_RIP(%ebx), %eax
    subl $smi1, %eax
    KV16 "smm.map.rip-after_out", %eax
    ret
1:  cmpl $4, %eax
    jne 2f
    movl $0x38000, %esi
    movzwl (%esi), %eax
    KV16 "smm.read_38000", %eax, 4
    ret
2:  cmpl $5, %eax
    jne 3f
    movl $TSEG, %esi
    movl (%esi), %eax
    KV16 "smm.tseg_read", %eax
    movl $0x5EC0DE00, (%esi)
    ret
3:  cmpl $6, %eax
    jne 4f
    movl $TSEG, %esi
    movl (%esi), %eax
    KV16 "smm.tseg_read_after_lock", %eax
4:  ret
