/*
 * hp.S - the OS side of ACPI CPU hot-plug, shared by the hot-plug ROMs (see hp.h).
 *
 *   platform:  hp_platform_init (LPC PMBASE/ACPI_EN, PM1_CNT.SCI_EN, GPE0_EN bit 2),
 *              hp_modern_init (legacy bitmap, switch to modern mode, §5.2 detection),
 *              irq_init (8259 pair masked, local APIC enabled, I/O APIC pin 9 -> SCI_VECTOR)
 *   SCI:       sci_isr, sci_arm, sci_wait, sci_report (used through WAIT_SCI)
 *   block:     hp_select, hp_command, hp_control, hp_control16, hp_status, hp_data,
 *              hp_data2, hp_data_write, hp_next, hp_scan, hp_insert, hp_remove,
 *              hp_show_slots, hp_show_arch_ids, hp_counts, cond_any_event
 *   APs:       ap_start (INIT-SIPI-SIPI, waits for the AP's report), ap_tramp/ap_entry16
 *
 * Why the I/O APIC and not the 8259: the SCI is a level-triggered, active-high line
 * (platform.md §3.4) and the I/O APIC takes that without extra ELCR programming; the remote
 * IRR it sets holds the line off until our EOI, by which time the handler has cleared
 * GPE0_STS and the line is low. The 8259 pair is initialised and fully masked so that nothing
 * arrives through LINT0 (QEMU resets the BSP's LINT0 to ExtINT, "virtual wire"), and every
 * I/O APIC pin except 9 stays masked as at reset: the only interrupt that can end a HLT of
 * the BSP is the SCI, so a missing SCI shows up as a hang (the runner's time-out), never as
 * a wrong wake-up.
 */
#include "hp.h"

    .text
    .code32

/* ---------------------------------------------------------------- PCI configuration */
/* pci_rdN: EAX = CF8 address (enable | bus/dev/fn | offset) -> EAX = value, zero-extended.
 * pci_wrN: EAX = address, ECX = value. All preserve every other register. */
    .globl pci_rd8, pci_rd32, pci_wr8, pci_wr32
pci_rd8:
    pushl %edx
    pushl %eax
    andl $~3, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    popl %edx
    andl $3, %edx
    addw $0xCFC, %dx
    xorl %eax, %eax
    inb %dx, %al
    popl %edx
    ret
pci_wr8:
    pushl %edx
    pushl %eax
    andl $~3, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movl (%esp), %edx
    andl $3, %edx
    addw $0xCFC, %dx
    movl %ecx, %eax
    outb %al, %dx
    popl %eax
    popl %edx
    ret
pci_rd32:
    pushl %edx
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $0xCFC, %dx
    inl %dx, %eax
    popl %edx
    ret
pci_wr32:
    pushl %edx
    pushl %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $0xCFC, %dx
    movl %ecx, %eax
    outl %eax, %dx
    popl %eax
    popl %edx
    ret

/* ---------------------------------------------------------------- hot-plug block access
 * The widths are the ones platform.md §5.3 tells firmware to use: dword at 0 and 8, byte at
 * 4 and 5. Setters take EAX and preserve everything; getters return EAX. */
    .globl hp_select, hp_command, hp_control, hp_control16, hp_status, hp_data, hp_data2
    .globl hp_data_write
hp_select:
    pushl %edx
    movw $HP_SEL, %dx
    outl %eax, %dx
    popl %edx
    ret
hp_command:
    pushl %edx
    movw $HP_CMD, %dx
    outb %al, %dx
    popl %edx
    ret
hp_control:
    pushl %edx
    movw $HP_STATUS, %dx
    outb %al, %dx
    popl %edx
    ret
hp_control16:                   /* a 16-bit write at offset 4: a control write only (§5.3) */
    pushl %edx
    movw $HP_STATUS, %dx
    outw %ax, %dx
    popl %edx
    ret
hp_status:
    pushl %edx
    movw $HP_STATUS, %dx
    xorl %eax, %eax
    inb %dx, %al
    popl %edx
    ret
hp_data:
    pushl %edx
    movw $HP_DATA, %dx
    inl %dx, %eax
    popl %edx
    ret
hp_data2:
    pushl %edx
    movw $HP_SEL, %dx
    inl %dx, %eax
    popl %edx
    ret
hp_data_write:
    pushl %edx
    movw $HP_DATA, %dx
    outl %eax, %dx
    popl %edx
    ret

/* ---------------------------------------------------------------- platform set-up */
/* hp_platform_init: what an ACPI OS finds done by firmware, done here by the ROM (no firmware
 * runs): PM block at 0x600 and decoded (ACPI_CTRL.ACPI_EN, SCI on IRQ 9 = bits 2:0 zero),
 * ACPI mode (PM1_CNT.SCI_EN written directly: an APM 0x02 command would do the same, but no
 * SMI of any kind is wanted here), no PM1 events, GPE0 bit 2 (CPU hot-plug) enabled. */
    .globl hp_platform_init
hp_platform_init:
    pushal
    movl $LPC_CFG(0x40), %eax
    movl $(PMBASE | 1), %ecx
    call pci_wr32
    call pci_rd32
    KV32 "lpc.pmbase", %eax
    movl $LPC_CFG(0x44), %eax
    movl $0x80, %ecx
    call pci_wr8
    call pci_rd8
    KV32 "lpc.acpi_ctrl", %eax, 2
    movw $PM1_EN, %dx
    xorl %eax, %eax
    outw %ax, %dx
    movw $PM1_CNT, %dx
    inw %dx, %ax
    orw $1, %ax
    outw %ax, %dx
    xorl %eax, %eax
    inw %dx, %ax
    KV32 "pm1_cnt", %eax, 4
    INB_ GPE0_STS
    KV32 "gpe0_sts", %eax, 2
    OUTB_ GPE0_EN, $GPE_CPU_HOTPLUG
    INB_ GPE0_EN
    KV32 "gpe0_en", %eax, 2
    popal
    ret

/* hp_modern_init: the power-on legacy view (bitmap: APIC ID 0 present; byte 12 of the 32 is
 * still the bitmap), the switch (write 0 to offset 0), the §5.2 detection sequence (selector 0
 * twice, command 0, dword read at 0 gives 0 only in modern mode) and the end of the legacy
 * decode: 0x0CE4 is past the 12-byte modern block, an unclaimed port. */
    .globl hp_modern_init
hp_modern_init:
    pushal
    INB_ CPUHP
    KV32 "hp.legacy.byte0", %eax, 2
    movw $CPUHP, %dx
    inl %dx, %eax
    KV32 "hp.legacy.dword0", %eax
    INB_ (CPUHP + 12)
    KV32 "hp.legacy.byte12", %eax, 2
    xorl %eax, %eax
    call hp_select              /* legacy -> modern */
    call hp_select              /* the detection sequence proper */
    call hp_select
    call hp_command
    call hp_data2
    KV32 "hp.detect", %eax
    INB_ (CPUHP + 12)
    KV32 "hp.modern.byte12", %eax, 2
    popal
    ret

/* irq_init: SCI delivery through the I/O APIC (see the header comment). */
    .globl irq_init
irq_init:
    pushal
    OUTB_ 0x20, $0x11           /* master: ICW1 (edge, cascade, ICW4) */
    OUTB_ 0x21, $0x20           /* ICW2: vectors 0x20-0x27 */
    OUTB_ 0x21, $0x04           /* ICW3: slave on IR2 */
    OUTB_ 0x21, $0x01           /* ICW4: 8086 mode */
    OUTB_ 0xA0, $0x11
    OUTB_ 0xA1, $0x28
    OUTB_ 0xA1, $0x02
    OUTB_ 0xA1, $0x01
    OUTB_ 0x21, $0xFF           /* OCW1: everything masked */
    OUTB_ 0xA1, $0xFF
    movl $0x1FF, LAPIC_SVR      /* APIC software-enabled, spurious vector 0xFF */
    movl $0x23, IOAPIC          /* RTE 9 (register 0x10 + 2 * 9), high half: destination APIC ID 0 */
    movl $0, IOAPIC + 0x10
    movl $0x22, IOAPIC          /* RTE 9, low half: fixed, physical, active high, level */
    movl $(0x8000 | SCI_VECTOR), IOAPIC + 0x10
    movl $0x22, IOAPIC
    movl IOAPIC + 0x10, %eax
    KV32 "ioapic.rte9", %eax
    pushl $0x8E
    pushl $SEL_CS32
    pushl $sci_isr
    pushl $SCI_VECTOR
    call gate32_set
    popal
    ret

/* ---------------------------------------------------------------- SCI */
/* The SCI handler, as an OS's GPE dispatcher starts: read GPE0_STS, clear the hot-plug bit
 * (write-1-to-clear) so that the level-triggered line drops, then EOI (the I/O APIC's remote
 * IRR clears; the pin would be delivered again at once if another event had raised it). The
 * events themselves stay in the hot-plug block for the main code to scan. */
sci_isr:
    pushl %eax
    pushl %edx
    movw $GPE0_STS, %dx
    inb %dx, %al
    orb %al, HPV_GPE
    movb $GPE_CPU_HOTPLUG, %al
    outb %al, %dx
    lock incl HPV_SCI
    movl $0, LAPIC_EOI
    popl %edx
    popl %eax
    iret

    .globl sci_arm, sci_wait, sci_report
sci_arm:
    movl $0, HPV_SCI
    movl $0, HPV_GPE
    ret

/* sci_wait: ESI = condition routine (returns EAX != 0 when satisfied, preserves the rest).
 * Halts until (an SCI that saw GPE0 bit 2 was taken) and (the condition holds); tests both
 * with IF = 0 and halts with STI; HLT (the STI shadow covers the HLT, so an SCI arriving
 * between the test and the HLT still wakes us). How many SCIs that took depends on timing
 * (two device_adds may raise one SCI or two) and is never printed. Returns with IF = 0. */
sci_wait:
    pushl %eax
1:  cli
    testb $GPE_CPU_HOTPLUG, HPV_GPE
    jz 2f
    call *%esi
    testl %eax, %eax
    jnz 3f
2:  sti
    hlt
    jmp 1b
3:  popl %eax
    ret

/* sci_report: the GPE0 status the handler saw (always exactly bit 2: no other GPE is used),
 * then GPE0_STS cleared once more and read back. The second clear matters when an event
 * came in after the handler ran but before the condition was met (the line is then high with
 * the SCI still pending in the local APIC; it is taken, harmlessly, at the next STI). */
sci_report:
    pushal
    movzbl HPV_GPE, %eax
    KV32 "sci.gpe0_sts", %eax, 2
    OUTB_ GPE0_STS, $GPE_CPU_HOTPLUG
    INB_ GPE0_STS
    KV32 "gpe0_sts.cleared", %eax, 2
    popal
    ret

/* cond_any_event: GET_PENDING from slot 0 finds a slot with insert, remove or fw_remove. */
    .globl cond_any_event
cond_any_event:
    xorl %eax, %eax
    call hp_select
    call hp_command             /* command 0 = GET_PENDING */
    call hp_status
    andl $ST_EVENTS, %eax
    ret

/* ---------------------------------------------------------------- scanning */
/* hp_next: EAX = first slot to look at. GET_PENDING searches from there, wrapping around
 * once; a hit below the start means the search wrapped to a slot this pass already handled,
 * and a selected slot without event bits means there was nothing. Returns EAX = slot and
 * EDX = its status, or EAX = -1. */
    .globl hp_next
hp_next:
    pushl %ebx
    movl %eax, %ebx
    call hp_select
    movl $CMD_GET_PENDING, %eax
    call hp_command
    call hp_data
    cmpl %ebx, %eax
    jb 1f
    movl %eax, %ebx
    call hp_status
    testl $ST_EVENTS, %eax
    jz 1f
    movl %eax, %edx
    movl %ebx, %eax
    popl %ebx
    ret
1:  movl $-1, %eax
    popl %ebx
    ret

/* hp_scan: one pass over the block, as the DSDT's CSCN would do it for the OS: every slot
 * with an insert event gets hp_insert (CPU started), every slot with a remove event gets
 * hp_remove (ejected). Prints "slotN.event: STATUS" for each hit and "scan: done". */
    .globl hp_scan
hp_scan:
    pushal
    xorl %ebx, %ebx
1:  movl %ebx, %eax
    call hp_next
    cmpl $-1, %eax
    je 6f
    movl %eax, %ebx
    SLOT_KV "slot", %ebx, ".event", %edx, 2
    testl $ST_INSERT, %edx
    jz 2f
    call hp_insert
    jmp 3f
2:  testl $ST_REMOVE, %edx
    jz 3f
    call hp_remove
3:  incl %ebx
    cmpl $MAXCPUS, %ebx
    jb 1b
6:  PUTS32 "scan: done\n"
    popal
    ret

/* hp_insert: EAX = slot with an insert event. GET_ARCH_ID (and command 7, which must be
 * ignored: CMD_DATA still gives the APIC ID, test 49; CMD_DATA2 = 0 on x86), clear insert
 * with the control value HPV_CLR(slot) (0: the plain byte 0x02; above 0xFF: that value as a
 * 16-bit write at offset 4, done under command 1 so that a write wrongly landing in the
 * command byte would show up in CMD_DATA, test 50), then start the CPU. */
    .globl hp_insert
hp_insert:
    pushal
    movl %eax, %ebx
    call hp_select
    movl $CMD_GET_ARCH_ID, %eax
    call hp_command
    call hp_data
    movl %eax, %esi
    SLOT_KV "slot", %ebx, ".arch_id", %esi
    movl $7, %eax
    call hp_command
    call hp_data
    SLOT_KV "slot", %ebx, ".arch_id.after_cmd7", %eax
    call hp_data2
    SLOT_KV "slot", %ebx, ".arch_id_hi", %eax
    movl HPV_CLR(0)(,%ebx,4), %ecx
    testl %ecx, %ecx
    jnz 1f
    movl $CTL_CLR_INSERT, %ecx
1:  cmpl $0xFF, %ecx
    ja 2f
    movl %ecx, %eax
    call hp_control
    jmp 3f
2:  movl $CMD_OST_EVENT, %eax
    call hp_command
    movl %ecx, %eax
    call hp_control16
    call hp_data
    SLOT_KV "slot", %ebx, ".cmd_data.after_word_ctl", %eax
3:  call hp_status
    SLOT_KV "slot", %ebx, ".insert_cleared", %eax, 2
    movl $CMD_GET_PENDING, %eax
    call hp_command
    movl %esi, %eax
    call ap_start
    popal
    ret

/* hp_remove: EAX = slot with a remove event: the eject request as an OS without SMI-based
 * unplug handles it (platform.md §5.7): acknowledge it (clear remove), report _OST
 * (event 0x103 "eject request", status 0 "success"; QEMU emits ACPI_DEVICE_OST on the status
 * write), then _EJ0: control bit 3 removes the CPU, which is parked (CLI; HLT) since it
 * reported back. With HPV_FLAGS bit 0 the §5.5 transcript's fw_remove step comes first:
 * fw_remove is an event GET_PENDING finds, and the eject clears it. */
    .globl hp_remove
hp_remove:
    pushal
    movl %eax, %ebx
    call hp_select
    movl $CTL_CLR_REMOVE, %eax
    call hp_control
    call hp_status
    SLOT_KV "slot", %ebx, ".remove_cleared", %eax, 2
    testl $1, HPV_FLAGS
    jz 1f
    movl $CTL_FW_REMOVE, %eax
    call hp_control
    call hp_status
    SLOT_KV "slot", %ebx, ".fw_remove_set", %eax, 2
    xorl %eax, %eax
    call hp_select
    call hp_command             /* GET_PENDING from 0 finds the fw_remove slot */
    call hp_data
    KV32 "pending.from0", %eax
    movl %ebx, %eax
    call hp_select
1:  movl $CMD_OST_EVENT, %eax
    call hp_command
    movl $OST_EJECT_EVENT, %eax
    call hp_data_write
    movl $CMD_OST_STATUS, %eax
    call hp_command
    xorl %eax, %eax
    call hp_data_write
    call hp_data                /* commands 1 and 2 read CMD_DATA as 0 */
    SLOT_KV "slot", %ebx, ".ost.cmd_data", %eax
    movl $CTL_EJECT, %eax
    call hp_control
    call hp_status
    SLOT_KV "slot", %ebx, ".ejected", %eax, 2
    movl $CMD_GET_PENDING, %eax
    call hp_command
    popal
    ret

/* ---------------------------------------------------------------- state dumps */
/* hp_show_slots: the status byte of every slot, then the platform's CPU counts. Leaves
 * selector 0, command 0. */
    .globl hp_show_slots
hp_show_slots:
    pushal
    xorl %eax, %eax
    call hp_command
    xorl %ebx, %ebx
1:  movl %ebx, %eax
    call hp_select
    call hp_status
    SLOT_KV "slot", %ebx, ".status", %eax, 2
    incl %ebx
    cmpl $MAXCPUS, %ebx
    jb 1b
    call hp_counts
    xorl %eax, %eax
    call hp_select
    popal
    ret

/* hp_show_arch_ids: GET_ARCH_ID of every slot, empty ones included (the arch ID belongs to
 * the slot, platform.md §5.1: APIC ID = slot with 1 socket x 4 cores). */
    .globl hp_show_arch_ids
hp_show_arch_ids:
    pushal
    xorl %ebx, %ebx
1:  movl %ebx, %eax
    call hp_select
    movl $CMD_GET_ARCH_ID, %eax
    call hp_command
    call hp_data
    SLOT_KV "slot", %ebx, ".arch_id", %eax
    incl %ebx
    cmpl $MAXCPUS, %ebx
    jb 1b
    xorl %eax, %eax
    call hp_command
    call hp_select
    popal
    ret

/* hp_counts: the two other places the platform publishes the CPU count (platform.md §1.9,
 * §4.4): CMOS 0x5F = present CPUs - 1 and fw_cfg NB_CPUS (key 5, u16 LE). */
    .globl hp_counts
hp_counts:
    pushal
    OUTB_ 0x70, $0x5F
    INB_ 0x71
    KV32 "cpus.cmos_5f", %eax, 2
    movw $0x510, %dx
    movw $0x0005, %ax
    outw %ax, %dx
    movw $0x511, %dx
    inb %dx, %al
    movb %al, %bl
    inb %dx, %al
    movb %al, %bh
    movzwl %bx, %eax
    KV32 "cpus.fw_cfg_nb", %eax, 4
    popal
    ret

/* ---------------------------------------------------------------- starting an AP */
/* ap_start: EAX = APIC ID of a CPU in wait-for-SIPI (a fresh hot-added one, platform.md
 * §6.8). INIT, SIPI, SIPI (vector 0x08: the trampoline at 0x8000, rewritten each time), then
 * waits, bounded, for the AP's report and prints what it found. The BSP prints nothing while
 * an AP runs, so the lines come out in one order on every emulator. */
    .globl ap_start
ap_start:
    pushal
    movl %eax, %ebx
    movl $0, HPV_DONE(0)(,%ebx,4)
    movl $0, HPV_BASE(0)(,%ebx,4)
    movl $0, HPV_RESULT(0)(,%ebx,4)
    cld
    movl $ap_tramp, %esi
    movl $AP_TRAMP, %edi
    movl $(ap_tramp_end - ap_tramp), %ecx
    rep movsb
    shll $24, %eax
    movl %eax, LAPIC_ICR_HI
    movl $ICR_INIT, LAPIC_ICR_LO
    call icr_wait
    call delay
    movl %eax, LAPIC_ICR_HI
    movl $(ICR_SIPI | (AP_TRAMP >> 12)), LAPIC_ICR_LO
    call icr_wait
    call delay
    movl %eax, LAPIC_ICR_HI     /* the second SIPI is discarded by a CPU already running */
    movl $(ICR_SIPI | (AP_TRAMP >> 12)), LAPIC_ICR_LO
    call icr_wait
    movl $5000000, %ecx
1:  cmpl $0, HPV_DONE(0)(,%ebx,4)
    jne 2f
    pause
    loop 1b
    SLOT_KV "cpu", %ebx, ".report", $0, 2
    jmp 3f
2:  movl HPV_BASE(0)(,%ebx,4), %eax
    SLOT_KV "cpu", %ebx, ".apic_base", %eax
    movl HPV_RESULT(0)(,%ebx,4), %eax
    SLOT_KV "cpu", %ebx, ".result", %eax
3:  popal
    ret

icr_wait:                       /* until the ICR's delivery status is idle (bounded) */
    pushl %ecx
    movl $100000, %ecx
1:  testl $ICR_BUSY, LAPIC_ICR_LO
    jz 2f
    pause
    loop 1b
2:  popl %ecx
    ret

delay:                          /* the INIT -> SIPI pause; its length is never observable */
    pushl %ecx
    movl $20000, %ecx
1:  pause
    loop 1b
    popl %ecx
    ret

/* ---- the AP side ----
 * ap_tramp is copied to 0x8000: the CPU starts there in real mode (CS = 0x0800, IP = 0) and
 * jumps into the ROM's alias below 1 MiB, enters 32-bit protected mode with the lib's GDT,
 * takes the console lock, prints its hello line, records IA32_APIC_BASE (BSP flag clear on
 * a hot-added CPU) and a value computed from its APIC ID, reports, and parks with CLI; HLT:
 * the state in which the OS hands a CPU to _EJ0. */
    .code16
ap_tramp:
    ljmp $0xF000, $ap_entry16
ap_tramp_end:

ap_entry16:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %ss
    lgdtl %cs:gdt_desc
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $SEL_CS32, $ap_pm32

    .code32
ap_pm32:
    movw $SEL_DS32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl LAPIC_ID, %ebp
    shrl $24, %ebp
    andl $(MAXCPUS - 1), %ebp
    movl %ebp, %eax
    shll $10, %eax
    addl $AP_STACK(0), %eax
    movl %eax, %esp
1:  lock btsl $0, HPV_LOCK
    jnc 2f
    pause
    jmp 1b
2:  PUTS32 "ap: hello apic="
    movl %ebp, %eax
    movl $1, %ecx
    call hex32
    PUTS32 "\n"
    movl $MSR_APIC_BASE, %ecx
    rdmsr
    movl %eax, HPV_BASE(0)(,%ebp,4)
    movl %ebp, %eax             /* a little work: 1000 steps of an LCG seeded with the ID */
    movl $1000, %ecx
3:  imull $1103515245, %eax, %eax
    addl $12345, %eax
    loop 3b
    movl %eax, HPV_RESULT(0)(,%ebp,4)
    lock btrl $0, HPV_LOCK
    movl $1, HPV_DONE(0)(,%ebp,4)
4:  cli
    hlt
    jmp 4b
