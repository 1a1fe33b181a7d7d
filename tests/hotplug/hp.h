/*
 * hp.h - constants and macros of the CPU hot-plug ROMs (tests/hotplug/hp_*.S), which play
 * the OS side of ACPI CPU hot-plug on a Q35 machine started with -smp 1,maxcpus=4 and no
 * firmware SMI handling (platform.md §3.1-3.4, §5, §6.8).
 *
 * Built on the test-ROM framework in tests/rom/lib (rom.h: reset vector, mode switches,
 * KV32/PUTS32 printing to the debug console at port 0xE9, exit through port 0xF4). The
 * routines declared here live in hp.S, which is linked into every hot-plug ROM. All of them
 * are 32-bit protected-mode code (flat segments, paging off) and run on the BSP unless their
 * name starts with ap_.
 *
 * Determinism: the ROMs print only values that the platform defines (register contents,
 * APIC IDs, values computed by the APs); never a loop count, a TSC value or how many SCIs it
 * took to see an event. Before each wait the BSP prints "ready: ..." and halts with IF=1; the
 * runner (run.py) issues its QMP commands only after seeing that line.
 */
#ifndef SMMVM_TESTS_HOTPLUG_HP_H
#define SMMVM_TESTS_HOTPLUG_HP_H

#include "rom.h"

#define MAXCPUS         4               /* -smp 1,maxcpus=4: slots 0..3, slot = APIC ID */

/* ICH9 LPC (PCI 00:1F.0) through configuration mechanism #1 */
#define LPC_CFG(off)    (0x8000F800 | (off))
#define PMBASE          0x600           /* the conventional firmware value (platform.md §3.1) */
#define PM1_STS         (PMBASE + 0x00)
#define PM1_EN          (PMBASE + 0x02)
#define PM1_CNT         (PMBASE + 0x04)
#define GPE0_STS        (PMBASE + 0x20)
#define GPE0_EN         (PMBASE + 0x28)
#define GPE_CPU_HOTPLUG 0x04            /* GPE0 bit 2 (platform.md §3.4) */

/* ACPI CPU hot-plug block (platform.md §5.3) */
#define CPUHP           0x0CD8
#define HP_SEL          (CPUHP + 0)     /* d write: selector; d read: CMD_DATA2 */
#define HP_STATUS       (CPUHP + 4)     /* b read: status; b write: control */
#define HP_CMD          (CPUHP + 5)     /* b write: command */
#define HP_DATA         (CPUHP + 8)     /* d: CMD_DATA */
#define ST_PRESENT      0x01
#define ST_INSERT       0x02
#define ST_REMOVE       0x04
#define ST_FW_REMOVE    0x10
#define ST_EVENTS       (ST_INSERT | ST_REMOVE | ST_FW_REMOVE)
#define CTL_CLR_INSERT  0x02
#define CTL_CLR_REMOVE  0x04
#define CTL_EJECT       0x08
#define CTL_FW_REMOVE   0x10
#define CMD_GET_PENDING 0
#define CMD_OST_EVENT   1
#define CMD_OST_STATUS  2
#define CMD_GET_ARCH_ID 3
#define OST_EJECT_EVENT 0x103           /* ACPI _OST source: eject request processing */

/* interrupt controllers */
#define IOAPIC          0xFEC00000      /* IOREGSEL; IOWIN at +0x10 */
#define LAPIC_ID        0xFEE00020
#define LAPIC_EOI       0xFEE000B0
#define LAPIC_SVR       0xFEE000F0
#define LAPIC_ICR_LO    0xFEE00300
#define LAPIC_ICR_HI    0xFEE00310
#define ICR_INIT        0x00004500      /* INIT, level assert, physical destination */
#define ICR_SIPI        0x00004600      /* | vector */
#define ICR_BUSY        0x00001000      /* delivery status */
#define SCI_VECTOR      0x39            /* IDT vector of the SCI (I/O APIC pin 9) */
#define MSR_APIC_BASE   0x1B

/* RAM used by these ROMs besides the framework's (rom.h): the real-mode AP trampoline at
 * 0x8000 (SIPI vector 0x08), shared variables at 0x9000, AP stacks at 0xC000-0xCFFF. */
#define AP_TRAMP        0x8000
#define HPV             0x9000
#define HPV_SCI         (HPV + 0x00)    /* SCIs taken since sci_arm */
#define HPV_GPE         (HPV + 0x04)    /* OR of the GPE0_STS byte 0 values the SCI handler read */
#define HPV_LOCK        (HPV + 0x08)    /* console lock of the APs (bit 0) */
#define HPV_DONE(id)    (HPV + 0x20 + 4 * (id))   /* AP -> BSP: 1 = reported, parked */
#define HPV_BASE(id)    (HPV + 0x40 + 4 * (id))   /* AP's IA32_APIC_BASE, low half */
#define HPV_RESULT(id)  (HPV + 0x60 + 4 * (id))   /* AP's computed value */
#define HPV_CLR(slot)   (HPV + 0x80 + 4 * (slot)) /* control value hp_insert clears insert with */
#define HPV_FLAGS       (HPV + 0xA0)    /* bit 0: hp_remove sets fw_remove before the eject */
#define HPV_ROM         (HPV + 0x100)   /* 0x9100-0x91FF: free for the ROM */
#define AP_STACK(id)    (0xC400 + 0x400 * (id))

#ifdef __ASSEMBLER__

/* SLOT_KV prefix, n, name, val[, digits]: prints "<prefix><n><name>: <val>", n one hex digit
 * (slot numbers and APIC IDs are 0..3). n may be any register or memory operand. */
.macro SLOT_KV prefix, n, name, val, digits=8
    PUTS32 "\prefix"
    pushl %eax
    pushl %ecx
    movl \n, %eax
    movl $1, %ecx
    call hex32
    popl %ecx
    popl %eax
    KV32 "\name", \val, \digits
.endm

/* WAIT_SCI "what", cond: arms the SCI bookkeeping, prints "ready: what" and halts (STI; HLT)
 * until an SCI with GPE0 bit 2 was taken and the routine cond (EAX != 0: satisfied) agrees.
 * Returns with IF = 0, the event still pending in the hot-plug block, then prints the GPE0
 * status the SCI handler saw and clears GPE0_STS again (see sci_wait in hp.S). */
.macro WAIT_SCI what, cond
    call sci_arm
    PUTS32 "ready: \what\n"
    pushl %esi
    movl $\cond, %esi
    call sci_wait
    popl %esi
    call sci_report
.endm

/* simple port accesses from 32-bit code (clobber EAX and EDX only) */
.macro OUTB_ port, val
    movw $(\port), %dx
    movb \val, %al
    outb %al, %dx
.endm
.macro INB_ port
    movw $(\port), %dx
    xorl %eax, %eax
    inb %dx, %al
.endm

#endif /* __ASSEMBLER__ */
#endif
