/*
 * q35_pci.S - PCI configuration mechanism #1, the MCH and LPC identities, absent
 * functions, PCIe ECAM through PCIEXBAR, the storage-only MCH registers and the LPC
 * registers this board models (platform.md §1.6, §1.7, §2.2, §3.1; conformance tests
 * 12, 25 and the config part of 27). QEMU also has SATA at 1F.2 and SMBus at 1F.3,
 * which smmvm does not model; this ROM never looks there.
 */
#include "rom.h"
#include "q35_common.h"

#define ECAM 0xB0000000
#define ECAM_FN(devfn, off) (ECAM + ((devfn) << 12) + (off))

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: q35_pci\n"
    Q35_BOOT

    .code32
phase0:
    /* CONFIG_ADDRESS reads back; narrower writes do not change it */
    movl $0x8000F8A0, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    inl %dx, %eax
    KV32 "cf8.readback", %eax
    movw $0x1234, %ax
    outw %ax, %dx
    inl %dx, %eax
    KV32 "cf8.after_word_write", %eax
    /* identities */
    SHOW 4, MCH, 0x00, "mch.id"
    SHOW 4, MCH, 0x08, "mch.class_rev"
    SHOW 1, MCH, 0x0E, "mch.header_type"
    SHOW 4, MCH, 0x2C, "mch.subsystem"
    SHOW 4, LPC, 0x00, "lpc.id"
    SHOW 4, LPC, 0x08, "lpc.class_rev"
    SHOW 1, LPC, 0x0E, "lpc.header_type"
    SHOW 4, LPC, 0x2C, "lpc.subsystem"
    SHOW 1, MCH, 0x01, "mch.byte1"
    SHOW 2, MCH, 0x02, "mch.word2"
    /* absent functions read all-ones at every width and ignore writes */
    SHOW 4, 0x08, 0x00, "absent.00_01_0.dword"
    SHOW 2, 0x08, 0x02, "absent.00_01_0.word"
    SHOW 1, 0xF9, 0x00, "absent.00_1f_1.byte"
    CFGWR 4, 0x08, 0x04, $0x00000007
    SHOW 4, 0x08, 0x04, "absent.after_write"
    /* bus 1 has nothing */
    SHOW 4, 0x100, 0x00, "absent.bus1"
    /* enable bit clear: CONFIG_DATA reads all-ones */
    xorl %eax, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $0xCFC, %dx
    inl %dx, %eax
    KV32 "cf8.disabled.read", %eax
    /* storage-only MCH registers */
    SETSHOW 2, MCH, 0x52, $0x1234, "mch.ggc"
    SETSHOW 4, MCH, 0xA4, $0x07800000, "mch.gbsm"
    SETSHOW 4, MCH, 0xA8, $0x07800001, "mch.bgsm"
    SETSHOW 4, MCH, 0xAC, $0x07000001, "mch.tsegmb"
    SETSHOW 2, MCH, 0xB0, $0x0800, "mch.tolud"
    SETSHOW 1, MCH, 0x48, $0xA5, "mch.byte48"
    /* LPC: PMBASE bits 15:7 writable, bit 0 reads 1 */
    SHOW 4, LPC, 0x40, "lpc.pmbase.po"
    SETSHOW 4, LPC, 0x40, $0x0000FFFF, "lpc.pmbase.write_ffff"
    SETSHOW 4, LPC, 0x40, $0xFFFFFFFF, "lpc.pmbase.write_ffffffff"
    SETSHOW 4, LPC, 0x40, $0x00000600, "lpc.pmbase.write_600"
    SHOW 1, LPC, 0x44, "lpc.acpi_ctrl.po"
    SETSHOW 1, LPC, 0x44, $0x07, "lpc.acpi_ctrl.sci_irq"
    SETSHOW 1, LPC, 0x44, $0xFF, "lpc.acpi_ctrl.write_ff"
    SETSHOW 1, LPC, 0x44, $0x00, "lpc.acpi_ctrl.back"
    /* GEN_PMCON_1: storage, SMI_LOCK (bit 4) write-once */
    SETSHOW 4, LPC, 0xA0, $0xFFFFFFFF, "lpc.gen_pmcon_1.write_ones"
    SETSHOW 4, LPC, 0xA0, $0x00000000, "lpc.gen_pmcon_1.write_zero"
    SETSHOW 4, LPC, 0xF0, $0xFFFFFFFF, "lpc.rcba.write_ones"
    SETSHOW 4, LPC, 0xF0, $0x00000000, "lpc.rcba.write_zero"
    /* header: command bits 0-2, 8, 10 writable; status 0; cache line / int line */
    SETSHOW 2, LPC, 0x04, $0xFFFF, "lpc.command"
    SETSHOW 2, MCH, 0x04, $0xFFFF, "mch.command"
    SHOW 2, MCH, 0x06, "mch.status"
    SETSHOW 1, MCH, 0x0C, $0xFF, "mch.cache_line"
    SETSHOW 1, MCH, 0x0D, $0xFF, "mch.latency"
    SETSHOW 1, MCH, 0x3C, $0xFF, "mch.int_line"
    SETSHOW 2, MCH, 0x00, $0x1234, "mch.vendor_readonly"
    SHOW 4, LPC, 0x60, "lpc.pirq_a_d.po"
    SHOW 4, LPC, 0x68, "lpc.pirq_e_h.po"
    SHOW 2, LPC, 0xA0, "lpc.gen_pmcon_1.po"
    /* PCIEXBAR: ECAM off at power-on; enable 256 MiB at 0xB0000000 */
    SETSHOW 4, MCH, 0x60, $0xB0000001, "pciexbar.enable"
    movl ECAM_FN(MCH, 0x00), %eax
    KV32 "ecam.mch.id", %eax
    movl ECAM_FN(LPC, 0x00), %eax
    KV32 "ecam.lpc.id", %eax
    movzbl ECAM_FN(MCH, 0x9E), %eax
    KV32 "ecam.mch.esmramc", %eax, 2
    movzwl ECAM_FN(MCH, 0x50), %eax
    KV32 "ecam.mch.ext_tseg", %eax, 4
    movl ECAM_FN(0x08, 0x00), %eax
    KV32 "ecam.absent", %eax
    movl ECAM + (1 << 20), %eax
    KV32 "ecam.bus1", %eax
    movl ECAM_FN(MCH, 0x100), %eax
    KV32 "ecam.mch.0x100", %eax
    movl ECAM_FN(MCH, 0xFFC), %eax
    KV32 "ecam.mch.0xffc", %eax
    /* an ECAM write reaches the same register as CF8/CFC */
    movb $0x42, ECAM_FN(MCH, 0x9D)
    SHOW 1, MCH, 0x9D, "ecam.write.smram"
    movb $0x02, ECAM_FN(MCH, 0x9D)
    SHOW 1, MCH, 0x9D, "ecam.write.smram_back"
    movl $0x0000FFFF, ECAM_FN(LPC, 0x40)
    SHOW 4, LPC, 0x40, "ecam.write.lpc_pmbase"
    /* 64 and 128 MiB lengths, at bases aligned to 256 MiB: QEMU 7.2 takes base bits
     * 35:28 plus bit 25 (64 MiB) or bits 26:25 (128 MiB) instead of 35:26 / 35:27, so
     * only such bases agree between QEMU and the chipset (smmvm follows §1.7). */
    SETSHOW 4, MCH, 0x60, $0xB0000005, "pciexbar.64m"
    movl 0xB0000000, %eax
    KV32 "ecam64.mch.id", %eax
    movl 0xB0000000 + (LPC << 12), %eax
    KV32 "ecam64.lpc.id", %eax
    movl 0xB0000000 + (63 << 20), %eax
    KV32 "ecam64.bus63", %eax
    SETSHOW 4, MCH, 0x60, $0xC0000003, "pciexbar.128m"
    movl 0xC0000000, %eax
    KV32 "ecam128.mch.id", %eax
    movl 0xC0000000 + (LPC << 12) + 8, %eax
    KV32 "ecam128.lpc.class_rev", %eax
    /* all bits read back, high dword too */
    SETSHOW 4, MCH, 0x64, $0x0000000F, "pciexbar.hi"
    SETSHOW 4, MCH, 0x64, $0x00000000, "pciexbar.hi_back"
    /* disable */
    SETSHOW 4, MCH, 0x60, $0xB0000000, "pciexbar.disable"
    SETSHOW 4, MCH, 0x60, $0xB0000001, "pciexbar.enable_again"
    RESET_TO 1

phase1:
    /* reset: PCIEXBAR back to 0xB0000000 (ECAM off), PMBASE 1, storage kept */
    SHOW 4, MCH, 0x60, "reset.pciexbar"
    SHOW 4, LPC, 0x40, "reset.lpc.pmbase"
    SHOW 1, LPC, 0x44, "reset.lpc.acpi_ctrl"
    SHOW 2, MCH, 0x52, "reset.mch.ggc"
    SHOW 4, MCH, 0xAC, "reset.mch.tsegmb"
    SHOW 1, MCH, 0x48, "reset.mch.byte48"
    SHOW 4, LPC, 0xA0, "reset.lpc.gen_pmcon_1"
    SHOW 2, MCH, 0x04, "reset.mch.command"
    SHOW 1, MCH, 0x3C, "reset.mch.int_line"
    PUTS32 "done\n"
    EXIT 0

    .section .rodata
    .balign 4
phase_table:
    .long phase0, phase1
