/*
 * smm_common.h - shared part of the SMM test ROMs (tests/rom/smm_*.S): save-state offsets,
 * RAM layout, the SMI entry stub and the common SMM handler, APIC helpers, AP start-up.
 *
 * Included once at the top of each smm_*.S (after rom.h); it emits code into .text.
 *
 * Save-state offsets (from SMBASE) mirror src/cpu/smm_state.h (cpu.md §4.3, platform.md
 * §6.5); they are #defined here because that header is C.
 *
 * The SMM handler: every SMBASE the ROM uses gets a copy of smm_stub at SMBASE + 0x8000.
 * The stub records its SMBASE (patched in at install time) and its CS and far-jumps into the ROM (smm_common, 16-bit,
 * CS = 0xF000, still in SMM with the 4 GiB data segments of the SMM entry state), which
 * records the entry state (SMV_*), switches to the SMM stack, counts the entry per APIC ID,
 * calls the test's hook (SMV_HOOK, a 16-bit offset; EBX = SMBASE; the hook may clobber
 * every register: RSM reloads them from the map) and executes RSM. SMIs are always
 * serialised by the ROMs (one CPU in SMM at a time), so the SMV_* variables are global.
 * If the saved CS:RIP points at `jmp .` (EB FE, the way every ROM waits for its own SMI)
 * the handler advances the saved RIP by 2: hardware takes a self-SMI right after the
 * triggering store/OUT, QEMU TCG at the next translation block, and both stop at that
 * `jmp .` with every register and flag untouched.
 */
#ifndef SMMVM_TESTS_ROM_SMM_COMMON_H
#define SMMVM_TESTS_ROM_SMM_COMMON_H

/* ---- save-state map (offsets from SMBASE) ---- */
#define SS_SEG(i)       (0xFE00 + 0x10 * (i))   /* ES CS SS DS FS GS */
#define SS_ES           SS_SEG(0)
#define SS_CS           SS_SEG(1)
#define SS_SS           SS_SEG(2)
#define SS_DS           SS_SEG(3)
#define SS_FS           SS_SEG(4)
#define SS_GS           SS_SEG(5)
#define SEG_SEL         0
#define SEG_ATTR        2
#define SEG_LIMIT       4
#define SEG_BASE        8
#define SS_GDTR_LIMIT   0xFE64
#define SS_GDTR_BASE    0xFE68
#define SS_LDTR         0xFE70                  /* selector, +2 attributes, +4 limit, +8 base */
#define SS_IDTR_LIMIT   0xFE84
#define SS_IDTR_BASE    0xFE88
#define SS_TR           0xFE90
#define SS_IO_RESTART   0xFEC8
#define SS_AUTO_HALT    0xFEC9
#define SS_EFER         0xFED0
#define SS_REVISION     0xFEFC
#define SS_SMBASE       0xFF00
#define SS_CR4          0xFF48
#define SS_CR3          0xFF50
#define SS_CR0          0xFF58
#define SS_DR7          0xFF60
#define SS_DR6          0xFF68
#define SS_RFLAGS       0xFF70
#define SS_RIP          0xFF78
#define SS_GPR(n)       (0xFFF8 - 8 * (n))      /* 0 RAX 1 RCX 2 RDX 3 RBX 4 RSP 5 RBP 6 RSI 7 RDI 8..15 R8..R15 */
#define SMM_REV_ID      0x00020064
#define DEFAULT_SMBASE  0x30000

/* ---- local APIC ---- */
#define APIC_ID         0xFEE00020
#define APIC_ICR_LO     0xFEE00300
#define APIC_ICR_HI     0xFEE00310
#define ICR_SMI_SELF    0x00044200              /* SMI, level assert, shorthand self */
#define ICR_NMI_SELF    0x00044400
#define ICR_SMI         0x00004200              /* SMI, physical destination in ICR_HI */
#define ICR_NMI         0x00004400
#define ICR_INIT        0x00004500
#define ICR_SIPI        0x00004600              /* | vector */
#define MSR_APIC_BASE   0x1B
#define MSR_SMI_COUNT   0x34

/* ---- RAM used by the SMM ROMs (besides lib/rom.h's layout) ----
 * 0x8000 AP trampoline (SIPI vector 0x08), 0xA000 second trampoline (vector 0x0A),
 * 0x9000-0x97FF SMM variables, 0xB000-0xBFFF AP stacks, 0xD000 round-trip snapshots,
 * 0xE000-0xEFFF SMM stack, 0x30000 default SMBASE, 0x50000 BSP SMBASE after relocation,
 * 0x60000 + 0x1000 * apic_id the APs' relocated SMBASEs. */
#define AP_TRAMP        0x8000
#define AP_TRAMP2       0xA000
#define SMV             0x9000
#define SMV_ENTRY_CS    (SMV + 0x00)            /* w: CS at SMBASE + 0x8000 */
#define SMV_ESP         (SMV + 0x04)
#define SMV_GPR(n)      (SMV + 0x08 + 4 * (n))  /* ECX EDX EBX - EBP ESI EDI at entry (n as SS_GPR) */
#define SMV_CR0         (SMV + 0x30)
#define SMV_CR3         (SMV + 0x34)
#define SMV_CR4         (SMV + 0x38)
#define SMV_DR7         (SMV + 0x3C)
#define SMV_EFLAGS      (SMV + 0x40)
#define SMV_EFER        (SMV + 0x44)            /* q */
#define SMV_SREG        (SMV + 0x4C)            /* w each: ES CS SS DS FS GS (CS = after the stub's jump) */
#define SMV_BASE        (SMV + 0x58)            /* SMBASE the executed stub was installed for */
#define SMV_HOOK        (SMV + 0x5C)            /* w: 16-bit hook offset (0: none) */
#define SMV_COUNT       (SMV + 0x60)            /* entries, all CPUs */
#define SMV_ID          (SMV + 0x64)            /* APIC ID of the CPU in SMM */
#define SMV_DONE        (SMV + 0x68)            /* incremented just before RSM */
#define SMV_NOSKIP      (SMV + 0x6C)            /* 1: do not skip `jmp .` */
#define SMV_CNT(id)     (SMV + 0x80 + 4 * (id)) /* entries per APIC ID (0..7) */
#define SMM_LOCK        (SMV + 0x70)            /* bit 0: taken by smm_stub_locked */
#define SMV_TEST        (SMV + 0x100)           /* 0x9100-0x97FF: free for the ROM */
#define AP_ALIVE(id)    (SMV + 0xA0 + 4 * (id))
#define AP_HB(id)       (SMV + 0xC0 + 4 * (id)) /* heartbeat of the idle loop */
#define AP_MAIN         (SMV + 0xE0)            /* 32-bit routine an AP runs after start-up */
#define AP_LAST         (SMV + 0xE4)            /* APIC ID of the last AP that checked in */
#define AP_STACK(id)    (0xB000 + 0x200 * (id))
#define SNAP            0xD000
#define SMM_STACK       0xF000

#ifdef __ASSEMBLER__

/* ---- printing a 64-bit value from 16-bit code: "name: HHHHHHHHLLLLLLLL" ---- */
.macro KVQ16 name, lo, hi
    pushl \hi
    pushl \lo
    pushw $9f
    call kvq16_impl
    NAMESTR "\name"
.endm
/* save-state fields relative to EBX = SMBASE (16-bit code in SMM) */
.macro SSD name, off, n=8
    pushl %eax
    movl \off(%ebx), %eax
    KV16 "\name", %eax, \n
    popl %eax
.endm
.macro SSW name, off
    pushl %eax
    movzwl \off(%ebx), %eax
    KV16 "\name", %eax, 4
    popl %eax
.endm
.macro SSB name, off
    pushl %eax
    movzbl \off(%ebx), %eax
    KV16 "\name", %eax, 2
    popl %eax
.endm
.macro SSQ name, off
    KVQ16 "\name", \off(%ebx), (\off + 4)(%ebx)
.endm

/* ---- self-SMI from each mode: the SMI arrives at the `jmp .`, which the handler skips ---- */
.macro SMI_SELF16 at                    /* FS must have a 4 GiB limit (unreal) */
    addr32 movl $ICR_SMI_SELF, %fs:APIC_ICR_LO
\at: jmp .
.endm
.macro SMI_SELF32 at
    movl $ICR_SMI_SELF, APIC_ICR_LO
\at: jmp .
.endm
.macro SMI_SELF64 at                    /* needs APIC_ALIAS64 */
    movl $ICR_SMI_SELF, 0xFFFFFFFFFEE00300
\at: jmp .
.endm
/* maps 0xFFFFFFFFFEE00000 (2 MiB) onto the APIC page in the lib's long-mode tables, so that
 * 64-bit code can write the ICR with an absolute (sign-extended disp32) address */
.macro APIC_ALIAS64
    movl $(0xFEE00000 | 0x9F), PT_BASE + 0x7000 + 503 * 8
    movl $0, PT_BASE + 0x7000 + 503 * 8 + 4
.endm

/* IPI32 dest, icr: a 32-bit-mode IPI with a physical destination (clobbers nothing) */
.macro IPI32 dest, icr
    movl $((\dest) << 24), APIC_ICR_HI
    movl $(\icr), APIC_ICR_LO
.endm

/* SET_HOOK16/32 sym: the next SMM entry calls sym (16-bit code in this ROM) */
.macro SET_HOOK32 sym
    movw $\sym, SMV_HOOK
.endm
.macro SET_HOOK16 sym
    movw $\sym, SMV_HOOK
.endm

/* WAIT32 addr, value: spins (bounded, then falls through) until the dword at addr >= value */
.macro WAIT32 addr, value
    pushl %ecx
    movl $50000000, %ecx
77: cmpl $(\value), \addr
    jae 78f
    pause
    loop 77b
78: popl %ecx
.endm

/* ---- code ---- */
    .text
    .code16
/* the stub copied to SMBASE + 0x8000 (position independent, 19 bytes); smm_install32
 * patches the immediate (at +5) with the SMBASE the copy is meant for */
    .globl smm_stub, smm_stub_end
smm_stub:
    movl $0, SMV_BASE
    movw %cs, %ax
    movw %ax, SMV_ENTRY_CS
    ljmp $0xF000, $smm_common
smm_stub_end:

/* the same, serialised by a spin lock (SMM_LOCK, released just before RSM) for SMIs that
 * reach several CPUs at once (broadcast). Its BTS leaves undefined flags in the entry
 * EFLAGS the handler records, so ROMs that print the entry state use smm_stub. */
smm_stub_locked:
1:  lock btsw $0, SMM_LOCK
    jc 1b
    movl $0, SMV_BASE
smm_stub_locked_imm:
    movw %cs, %ax
    movw %ax, SMV_ENTRY_CS
    ljmp $0xF000, $smm_common
smm_stub_locked_end:

smm_common:
    movl %esp, SMV_ESP
    movl %ecx, SMV_GPR(1)
    movl %edx, SMV_GPR(2)
    movl %ebx, SMV_GPR(3)
    movl %ebp, SMV_GPR(5)
    movl %esi, SMV_GPR(6)
    movl %edi, SMV_GPR(7)
    movl %cr0, %eax
    movl %eax, SMV_CR0
    movl %cr3, %eax
    movl %eax, SMV_CR3
    movl %cr4, %eax
    movl %eax, SMV_CR4
    movl %dr7, %eax
    movl %eax, SMV_DR7
    movw %es, SMV_SREG + 0
    movw %cs, SMV_SREG + 2
    movw %ss, SMV_SREG + 4
    movw %ds, SMV_SREG + 6
    movw %fs, SMV_SREG + 8
    movw %gs, SMV_SREG + 10
    movl $SMM_STACK, %esp
    pushfl
    popl SMV_EFLAGS
    movl $MSR_EFER, %ecx
    rdmsr
    movl %eax, SMV_EFER
    movl %edx, SMV_EFER + 4
    movl $APIC_ID, %esi
    movl (%esi), %eax
    shrl $24, %eax
    andl $7, %eax
    movl %eax, SMV_ID
    incl SMV_CNT(0)(,%eax,4)
    lock incl SMV_COUNT
    movl SMV_BASE, %ebx
    cld
    movw SMV_HOOK, %ax
    testw %ax, %ax
    jz 1f
    call *%ax
    movl SMV_BASE, %ebx
1:  cmpl $0, SMV_NOSKIP
    jne 2f
    movl SS_CS + SEG_BASE(%ebx), %esi
    addl SS_RIP(%ebx), %esi
    cmpw $0xFEEB, (%esi)
    jne 2f
    addl $2, SS_RIP(%ebx)
    adcl $0, SS_RIP + 4(%ebx)
2:  lock incl SMV_DONE
    movl $0, SMM_LOCK
    rsm

/* kvq16_impl: [sp+2]=name [sp+4]=lo [sp+8]=hi */
kvq16_impl:
    pushf
    pushal
    movl %esp, %ebp             /* pushal 32 + flags 2 + ret 2: name at +36 */
    movw 36(%ebp), %si
    call puts16
    movb $':', %al
    call putc16
    movb $' ', %al
    call putc16
    movl 42(%ebp), %eax
    movw $8, %cx
    call hex16
    movl 38(%ebp), %eax
    call hex16
    movb $'\n', %al
    call putc16
    popal
    popf
    ret $10

/* "name: ok" / "name: VALUE" lines: CHECK32 / CHECK64 / CHECKQ below (32/64-bit code). */

    .code32
/* smm_install32: EDI = SMBASE; copies smm_stub to SMBASE + 0x8000. Clobbers nothing. */
    .globl smm_install32
smm_install32:
    pushal
    movl $smm_stub, %esi
    movl %edi, %edx
    addl $0x8000, %edi
    movl $(smm_stub_end - smm_stub), %ecx
    cld
    rep movsb
    movl %edx, -(smm_stub_end - smm_stub) + 5(%edi)
    popal
    ret

/* smm_install_locked32: EDI = SMBASE; the same with smm_stub_locked */
smm_install_locked32:
    pushal
    movl $smm_stub_locked, %esi
    movl %edi, %edx
    addl $0x8000, %edi
    movl $(smm_stub_locked_end - smm_stub_locked), %ecx
    cld
    rep movsb
    movl %edx, -(smm_stub_locked_end - smm_stub_locked_imm) - 4(%edi)
    popal
    ret

/* ap_tramp_install32: EDI = trampoline address; copies `ljmp $0xF000, $ap_entry16` there */
ap_tramp_install32:
    pushal
    movl $ap_tramp, %esi
    movl $(ap_tramp_end - ap_tramp), %ecx
    cld
    rep movsb
    popal
    ret

/* ap_start32: EAX = APIC ID, EDX = SIPI vector: INIT, SIPI, SIPI, then waits (bounded) for
 * the AP to check in (AP_ALIVE). Clobbers nothing. */
ap_start32:
    pushal
    movl %eax, %ebx
    shll $24, %eax
    movl %eax, APIC_ICR_HI
    movl $ICR_INIT, APIC_ICR_LO
    call delay32
    movl %eax, APIC_ICR_HI
    movl %edx, %ecx
    orl $ICR_SIPI, %ecx
    movl %ecx, APIC_ICR_LO
    call delay32
    movl %eax, APIC_ICR_HI
    movl %ecx, APIC_ICR_LO
    leal AP_ALIVE(0)(,%ebx,4), %esi
    WAIT32 (%esi), 1
    popal
    ret

/* delay32: a short busy wait */
delay32:
    pushl %ecx
    movl $20000, %ecx
1:  pause
    loop 1b
    popl %ecx
    ret

/* check32: [esp+4]=name [esp+8]=got [esp+12]=expected: prints "name: ok" or "name: GOT" */
check32:
    pushf
    pushal
    movl 40(%esp), %esi
    call puts32
    movl 44(%esp), %eax
    cmpl 48(%esp), %eax
    jne 1f
    PUTS32 ": ok\n"
    jmp 2f
1:  PUTS32 ": "
    movl $8, %ecx
    call hex32
    PUTS32 "\n"
2:  popal
    popf
    ret $12
.macro CHECK32 name, got, exp
    pushl \exp
    pushl \got
    pushl $9f
    call check32
    NAMESTR "\name"
.endm

    .code64
/* check64: [rsp+8]=name [rsp+16]=got [rsp+24]=expected */
check64:
    pushfq
    pushq %rax
    pushq %rcx
    pushq %rsi
    movq 40(%rsp), %rsi
    call puts64
    movq 48(%rsp), %rax
    cmpq 56(%rsp), %rax
    jne 1f
    PUTS64 ": ok\n"
    jmp 2f
1:  PUTS64 ": "
    movl $16, %ecx
    call hex64
    PUTS64 "\n"
2:  popq %rsi
    popq %rcx
    popq %rax
    popfq
    ret $24
.macro CHECK64 name, got, exp
    pushq \exp
    pushq \got
    pushq $0
    movl $9f, (%rsp)
    call check64
    NAMESTR "\name"
.endm

.macro CHECKQ name, got, exp
    pushq %rax
    movabsq $(\exp), %rax
    pushq %rax
    movq 8(%rsp), %rax
    pushq \got
    pushq $0
    movl $9f, (%rsp)
    call check64
    NAMESTR "\name"
    popq %rax
.endm

/* ---- AP side ---- */
    .code16
ap_tramp:
    ljmp $0xF000, $ap_entry16
ap_tramp_end:

ap_entry16:
    cli
    cld
    movw $0, %ax
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
    movl APIC_ID, %ebp
    shrl $24, %ebp
    andl $7, %ebp
    movl %ebp, %eax
    shll $9, %eax
    addl $AP_STACK(0), %eax
    movl %eax, %esp
    movl %ebp, AP_LAST
    lock incl AP_ALIVE(0)(,%ebp,4)
    movl AP_MAIN, %eax
    testl %eax, %eax
    jz ap_idle
    movl %ebp, %eax
    call *AP_MAIN
ap_idle:                                /* EBP = APIC ID */
    lock incl AP_HB(0)(,%ebp,4)
    pause
    jmp ap_idle

    .code16
#endif /* __ASSEMBLER__ */
#endif
