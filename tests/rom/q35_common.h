/*
 * q35_common.h - macros shared by the q35_*.S chipset ROMs: PCI configuration access
 * through 0xCF8/0xCFC (mechanism #1), system reset through the ICH9 reset control
 * register 0xCF9, and a boot-phase counter in RAM that survives the reset (RAM is kept
 * across a system reset, platform.md §7.1). All macros are 32-bit protected-mode code.
 *
 * A ROM using this starts main16 with Q35_BOOT: it switches to 32-bit protected mode,
 * prints "phase: N" and jumps to phaseN (N = 0 on the first boot).
 */
#ifndef SMMVM_TESTS_ROM_Q35_COMMON_H
#define SMMVM_TESTS_ROM_Q35_COMMON_H

#define MCH     0x00 /* devfn 00.0 */
#define LPC     0xF8 /* devfn 1F.0 */
#define PHASE   (TEST_VAR + 0xE00) /* boot-phase counter, kept across resets */
#define CF8_EN  0x80000000

#ifdef __ASSEMBLER__

/* CFGRD size, devfn, off: %eax = config register (zero-extended). Clobbers %edx. */
.macro CFGRD sz, devfn, off
    movl $(CF8_EN | ((\devfn) << 8) | ((\off) & 0xFC)), %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $(0xCFC + ((\off) & 3)), %dx
    xorl %eax, %eax
    .if \sz == 1
    inb %dx, %al
    .elseif \sz == 2
    inw %dx, %ax
    .else
    inl %dx, %eax
    .endif
.endm

/* CFGWR size, devfn, off, val: val is an immediate ($n) or a register other than
 * %eax/%edx. Clobbers %eax, %ebx, %edx. */
.macro CFGWR sz, devfn, off, val
    movl \val, %ebx
    movl $(CF8_EN | ((\devfn) << 8) | ((\off) & 0xFC)), %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $(0xCFC + ((\off) & 3)), %dx
    movl %ebx, %eax
    .if \sz == 1
    outb %al, %dx
    .elseif \sz == 2
    outw %ax, %dx
    .else
    outl %eax, %dx
    .endif
.endm

/* SHOW size, devfn, off, name: prints "name: value" (2/4/8 hex digits by size). */
.macro SHOW sz, devfn, off, name
    CFGRD \sz, \devfn, \off
    .if \sz == 1
    KV32 "\name", %eax, 2
    .elseif \sz == 2
    KV32 "\name", %eax, 4
    .else
    KV32 "\name", %eax, 8
    .endif
.endm

/* SETSHOW size, devfn, off, val, name: writes val, then prints the register. */
.macro SETSHOW sz, devfn, off, val, name
    CFGWR \sz, \devfn, \off, \val
    SHOW \sz, \devfn, \off, "\name"
.endm

/* MEMB name, addr: prints the byte at addr (normal view). Clobbers %eax. */
.macro MEMB name, addr
    movzbl \addr, %eax
    KV32 "\name", %eax, 2
.endm

/* RESET_TO n: sets the boot phase to n and resets the system (0xCF9 := RST_CPU|SYS_RST). */
.macro RESET_TO n
    movl $\n, PHASE
    movb $0x06, %al
    movw $0xCF9, %dx
    outb %al, %dx
98: cli
    hlt
    jmp 98b
.endm

/* Q35_BOOT nphases: real mode -> 32-bit protected mode, print the phase, dispatch. */
.macro Q35_BOOT
    RM_TO_PM32
    movl PHASE, %eax
    KV32 "phase", %eax, 2
    movl PHASE, %eax
    jmp *phase_table(,%eax,4)
.endm

#endif
#endif
