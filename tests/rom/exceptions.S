/*
 * exceptions.S - every exception vector with its error code, in 32-bit protected mode and
 * in 64-bit long mode: #DE #DB #BP #OF #BR #UD #NM #DF #TS #NP #SS #GP #PF (#AC: see
 * README.md), plus INT n / INT3 / INTO / INT1 and the IDT checks on the way.
 *
 * Line format: "name: vec=VV err=EEEEEEEE ip=+D" (lib/print.S): D is the saved EIP/RIP
 * minus the address of the first instruction of the test, so 0 for faults and the
 * instruction length for traps (SDM Vol. 3, "Exception and Interrupt Reference").
 * "vec=none": nothing was raised. For #DF the saved CS:EIP is undefined, so no ip.
 * In ring-3 tests "vec=41" means the code ran to its end (INT 0x41 is the way back).
 * Error codes: selector error code = index | TI | EXT; IDT error code = vector * 8 + 2 (IDT
 * bit) + EXT; EXT = 0 for INT n, 1 for events of external / nested origin.
 */
#include "rom.h"

#define SEL_NP      (SEL_TEST + 0x00)   /* data, not present */
#define SEL_XO      (SEL_TEST + 0x08)   /* code, execute-only */
#define SEL_RO      (SEL_TEST + 0x10)   /* data, read-only */
#define SEL_CONF    (SEL_TEST + 0x18)   /* 32-bit code, DPL 0, conforming (for #TS) */
#define SEL_DS_DPL3 (SEL_TEST + 0x20)   /* writable data, DPL 3, as used by ring-3 code */

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: exceptions\n"
    RM_TO_PM32
    call idt32_init
    call tss32_init
    /* test descriptors */
    movl $0x0000FFFF, GDT_BASE + SEL_NP
    movl $0x00CF1300, GDT_BASE + SEL_NP + 4         /* P=0 data */
    movl $0x0000FFFF, GDT_BASE + SEL_XO
    movl $0x00CF9900, GDT_BASE + SEL_XO + 4         /* execute-only code */
    movl $0x0000FFFF, GDT_BASE + SEL_RO
    movl $0x00CF9100, GDT_BASE + SEL_RO + 4         /* read-only data */
    movl $0x0000FFFF, GDT_BASE + SEL_CONF
    movl $0x00CF9F00, GDT_BASE + SEL_CONF + 4       /* conforming code, DPL 0 */

    /* ---------------- #DE ---------------- */
    xorl %ebx, %ebx
    movl $1, %eax
    xorl %edx, %edx
    TRY32 "pm.de div0", divl %ebx
    movl $0x80000000, %eax
    movl $0xFFFFFFFF, %edx
    movl $-1, %ebx
    TRY32 "pm.de idiv_overflow", idivl %ebx
    movl $0x0200, %eax
    movb $2, %bl
    TRY32 "pm.de divb_quotient_overflow", divb %bl
    TRY32 "pm.de aam0", .byte 0xD4, 0x00
    movw $0x8000, %ax
    movw $0xFFFF, %dx
    movw $-1, %bx
    TRY32 "pm.de idivw -32768/-1", idivw %bx
    movw $0x0001, %dx
    movw $0x0000, %ax
    movw $1, %bx
    TRY32 "pm.de divw quotient 0x10000", divw %bx
    movw $0xFF80, %ax
    movb $-1, %bl
    TRY32 "pm.de idivb -128/-1", idivb %bl
    movw $0xFF81, %ax
    movb $-1, %bl
    TRY32 "pm.de idivb -127/-1 ok", idivb %bl
    movl $0x7FFFFFFF, %edx      /* quotient must fit: -2^31 is the limit for IDIV */
    movl $0xFFFFFFFF, %eax
    movl $0x10000, %ebx
    TRY32 "pm.de idivl positive overflow", idivl %ebx

    /* ---------------- #DB ---------------- */
    movl %dr6, %eax
    andl $0xE00F, %eax
    KV32 "pm.dr6 initial B/BD/BS/BT", %eax, 4
    TRY32B
    pushl $0x102
    popfl
    nop
    TRY32E "pm.db single_step"
    movl %dr6, %eax
    andl $0xE00F, %eax
    KV32 "pm.dr6 after single_step", %eax, 4
    movl EXC_FLAGS, %eax
    andl $0x100, %eax
    KV32 "pm.db saved TF", %eax, 4

    /* ---------------- #BP #OF, INT n ---------------- */
    TRY32 "pm.bp int3", int3
    TRY32 "pm.bp int_3", int $3
    movb $0x7F, %al
    addb $1, %al
    TRY32 "pm.of into", into
    movb $0x10, %al
    addb $1, %al
    TRY32 "pm.of into_no_of", into
    TRY32 "pm.int 0x80", int $0x80
    TRY32 "pm.int 0xff", int $0xff

    /* ---------------- #BR ---------------- */
    movl $-5, SCRATCH
    movl $5, SCRATCH + 4
    movl $6, %eax
    TRY32 "pm.br above", boundl %eax, SCRATCH
    movl $-6, %eax
    TRY32 "pm.br below", boundl %eax, SCRATCH
    movl $5, %eax
    TRY32 "pm.br upper_bound_inclusive", boundl %eax, SCRATCH
    movw $0x8000, SCRATCH + 8
    movw $0x7FFF, SCRATCH + 10
    movw $0x8001, %ax
    TRY32 "pm.br 16-bit signed", boundw %ax, SCRATCH + 8

    /* ---------------- #UD ---------------- */
    TRY32 "pm.ud ud2", ud2
    TRY32 "pm.ud lock_nop", .byte 0xF0, 0x90
    TRY32 "pm.ud lock_reg_dest", .byte 0xF0, 0x01, 0xC3   /* lock add %eax,%ebx */
    movl $SCRATCH, %ebx
    TRY32 "pm.ud lock_cmp_mem", .byte 0xF0, 0x39, 0x03    /* lock cmp %eax,(%ebx) */
    /* LOCK BT / LOCK TEST / LOCK MOV to memory (#UD) are not tested: QEMU runs them */
    movl $0, %eax
    TRY32 "pm.lock_bts_mem ok", .byte 0xF0, 0x0F, 0xAB, 0x03 /* lock bts %eax,(%ebx) */
    TRY32 "pm.lock_xchg_mem ok", .byte 0xF0, 0x87, 0x03   /* lock xchg %eax,(%ebx) */
    TRY32 "pm.lock_not_mem ok", .byte 0xF0, 0xF7, 0x13    /* lock notl (%ebx) */
    TRY32 "pm.lock_inc_mem ok", .byte 0xF0, 0xFF, 0x03    /* lock incl (%ebx) */
    TRY32 "pm.ud mov_to_cs", .byte 0x8E, 0xC8
    TRY32 "pm.ud mov_sreg7", .byte 0x8E, 0xF8
    TRY32 "pm.ud lds_reg", .byte 0xC5, 0xC0
    TRY32 "pm.ud cmpxchg8b_reg", .byte 0x0F, 0xC7, 0xC8
    TRY32 "pm.ud lea_reg", .byte 0x8D, 0xC0
    TRY32 "pm.ud 0f0b_after_prefixes", .byte 0x66, 0x2E, 0x0F, 0x0B

    /* ---------------- #NM ---------------- */
    movl %cr0, %eax
    orl $0x8, %eax              /* TS */
    movl %eax, %cr0
    TRY32 "pm.nm ts fnop", fnop
    TRY32 "pm.nm ts_mp0 fwait", fwait
    movl %cr0, %eax
    orl $0x2, %eax              /* MP */
    movl %eax, %cr0
    TRY32 "pm.nm ts_mp1 fwait", fwait
    clts
    movl %cr0, %eax
    andl $0xFFFFFFF5, %eax
    orl $0x4, %eax              /* EM */
    movl %eax, %cr0
    TRY32 "pm.nm em fnop", fnop
    movl %cr0, %eax
    KV32 "pm.cr0 em", %eax
    andl $0xFFFFFFF1, %eax
    movl %eax, %cr0
    KV32 "pm.cr0 restored", %eax

    /* ---------------- #NP #SS #GP: segment loads ---------------- */
    movw $SEL_NP, %ax
    TRY32 "pm.np load_ds", movw %ax, %ds
    TRY32 "pm.ss load_ss_not_present", movw %ax, %ss
    movw $(SEL_NP | 4), %ax     /* TI=1: LDTR is null */
    TRY32 "pm.gp load_ds_ldt_null", movw %ax, %ds
    movw $0x0100, %ax           /* beyond the GDT limit 0xFF */
    TRY32 "pm.gp load_ds_beyond_limit", movw %ax, %ds
    movw $0x0103, %ax
    TRY32 "pm.gp load_ds_beyond_limit_rpl3", movw %ax, %ds
    movw $SEL_XO, %ax
    TRY32 "pm.gp load_ds_exec_only", movw %ax, %ds
    /* loads that succeed: DS is reloaded inside the test, because the report writes
     * through DS (a code segment or a null DS in DS would fault there, rightly) */
    movw $SEL_CS32, %ax
    movw $SEL_DS32, %cx
    TRY32B
    movw %ax, %ds
    movl (0), %ebx              /* reading through a readable code segment is fine */
    movw %cx, %ds
    TRY32E "pm.load_ds_readable_code ok"
    movw $SEL_RO, %ax
    TRY32 "pm.gp load_ss_read_only", movw %ax, %ss
    movw $SEL_CS32, %ax
    TRY32 "pm.gp load_ss_code", movw %ax, %ss
    xorw %ax, %ax
    TRY32 "pm.gp load_ss_null", movw %ax, %ss
    movw $SEL_DS32, %cx
    TRY32B
    movw %ax, %ds
    movw %cx, %ds
    TRY32E "pm.load_ds_null_ok"
    movw $(SEL_DS32 | 3), %ax
    TRY32 "pm.gp load_ss_rpl3", movw %ax, %ss
    movw $SEL_DS32U, %ax
    TRY32 "pm.gp load_ss_dpl3", movw %ax, %ss
    movw $(SEL_DS32 | 3), %ax
    TRY32 "pm.gp load_ds_rpl3_dpl0", movw %ax, %ds
    movw $SEL_DS32, %ax
    movw %ax, %ds
    movw $SEL_TSS, %ax
    TRY32 "pm.gp load_ds_system", movw %ax, %ds
    TRY32 "pm.gp ljmp_to_data", ljmp $SEL_DS32, $0
    TRY32 "pm.gp ljmp_null", ljmp $0, $0
    TRY32 "pm.gp ljmp_not_present_data", ljmp $SEL_NP, $0   /* type checked before P */

    /* ---------------- #GP: system ---------------- */
    TRY32 "pm.ud mov_cr1", .byte 0x0F, 0x22, 0xC9   /* mov %ecx,%cr1: reserved CR */
    TRY32 "pm.gp insn_16_bytes", .byte 0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x90
    TRY32 "pm.gp 15_bytes_ok", .byte 0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x90

    /* IDT limit: gates beyond it are #GP(vector * 8 + 2) */
    sidt SCRATCH + 0x20
    movw $(0x80 * 8 - 1), SCRATCH + 0x20
    lidt SCRATCH + 0x20
    TRY32 "pm.gp int_beyond_idt_limit", int $0x80
    movw $(256 * 8 - 1), SCRATCH + 0x20
    lidt SCRATCH + 0x20
    /* not-present gate: #NP(vector * 8 + 2) */
    andb $0x7F, IDT_BASE + 0x50 * 8 + 5
    TRY32 "pm.np int_gate_not_present", int $0x50
    orb $0x80, IDT_BASE + 0x50 * 8 + 5
    /* a trap gate (type 0xF) leaves IF alone; a gate with a bad type is #GP */
    movb $0x81, IDT_BASE + 0x51 * 8 + 5    /* type 1 (16-bit TSS) is not a gate */
    TRY32 "pm.gp int_bad_gate_type", int $0x51
    movb $0x8E, IDT_BASE + 0x51 * 8 + 5

    /* #DF: #DE while the #DE gate is not present -> #NP (contributory) -> #DF(0) */
    andb $0x7F, IDT_BASE + 0 * 8 + 5
    xorl %ebx, %ebx
    TRY32N "pm.df np_during_de", divl %ebx
    orb $0x80, IDT_BASE + 0 * 8 + 5
    /* benign then contributory is no #DF: #UD with its gate not present -> #NP with EXT=1 */
    movl $1, ERR_HIDE           /* QEMU leaves EXT out (README.md): print err&~1 */
    andb $0x7F, IDT_BASE + 6 * 8 + 5
    TRY32 "pm.np during ud (err&~EXT)", ud2
    orb $0x80, IDT_BASE + 6 * 8 + 5
    movl $0, ERR_HIDE
    /* the same for #BP (INT3 is a software interrupt: EXT=0) */
    andb $0x7F, IDT_BASE + 3 * 8 + 5
    TRY32 "pm.np for int3 (ext=0)", int3
    orb $0x80, IDT_BASE + 3 * 8 + 5

    /* ---------------- ring 3 ---------------- */
    RING3_TRY32 "pm3.ok", 0, nop
    RING3_TRY32 "pm3.gp hlt", 0, hlt
    RING3_TRY32 "pm3.gp cli_iopl0", 0, cli
    RING3_TRY32 "pm3.cli_iopl3", 3, cli
    RING3_TRY32 "pm3.gp out_iopl0", 0, outb %al, $0x80
    RING3_TRY32 "pm3.gp mov_cr0", 0, movl %cr0, %eax
    RING3_TRY32 "pm3.gp mov_dr7", 0, movl %dr7, %eax
    RING3_TRY32 "pm3.gp lgdt", 0, lgdt SCRATCH
    RING3_TRY32 "pm3.gp clts", 0, clts
    RING3_TRY32 "pm3.gp rdmsr", 0, rdmsr
    RING3_TRY32 "pm3.gp int_dpl0_gate", 0, int $0x80
    RING3_TRY32 "pm3.gp int3_dpl0_gate", 0, int3
    RING3_32B 0
    movb $0x7F, %al
    addb $1, %al
    into
    RING3_32E "pm3.gp into_dpl0_gate"
    RING3_32B 0
    movw $SEL_DS32, %ax
    movw %ax, %ds
    RING3_32E "pm3.gp load_ds_dpl0"
    RING3_32B 0
    movw $(SEL_DS32 | 3), %ax
    movw %ax, %ss
    RING3_32E "pm3.gp load_ss_dpl0"
    RING3_32B 0
    movw $SEL_DS32U, %ax
    movw %ax, %ds
    RING3_32E "pm3.load_ds_dpl3"
    /* IRET to CPL 3 nulls DS..GS that hold DPL-0 data segments (the use of a null DS
     * faulting is not checked: QEMU TCG does not check it, see README) */
    movl $0xFFFF, %ebx
    RING3_TRY32 "pm3.iret_nulls_ds", 0, movw %ds, %bx
    KV32 "pm3.ds after iret", %ebx, 4
    RING3_TRY32 "pm3.gp ljmp_to_ring0_code", 0, ljmp $SEL_CS32, $0
    movl $0xFFFFFFFF, TEST_VAR
    RING3_TRY32 "pm3.lcall_conforming_ok", 0, lcall $(SEL_CONF | 3), $pm3_conf_target
    movl TEST_VAR, %eax
    KV32 "pm3.conforming cpl", %eax, 2
    /* EFLAGS.IOPL and IF: POPF at CPL 3 with IOPL 0 silently keeps them */
    RING3_32B 0
    pushl $0x3202
    popfl
    pushfl
    popl %ebx
    RING3_32E "pm3.popf keeps IOPL/IF"
    andl $0x3200, %ebx
    KV32 "pm3.popf eflags&0x3200", %ebx, 4

    /* #TS: INT n from ring 3 with a bad SS0 in the TSS. The #TS gate leads to a conforming
     * segment (no stack switch), whose handler records, repairs SS0 and returns via 0x41. */
    pushl $0xEE
    pushl $SEL_CONF
    pushl $ts_handler
    pushl $0x0A
    call gate32_set
    movb $0xEE, IDT_BASE + 0x42 * 8 + 5
    movl $0xFFFFFFFF, TEST_VAR
    movw $SEL_CS32, TSS_BASE + 8        /* SS0 = a code segment */
    RING3_32B 0
    int $0x42
    RING3_32EN "pm3.ts int_bad_ss0"
    movl TEST_VAR, %eax
    KV32 "pm3.ts vector", %eax, 2
    movl TEST_VAR + 4, %eax
    KV32 "pm3.ts error_code", %eax, 4
    movl TEST_VAR + 8, %eax
    KV32 "pm3.ts cs_rpl", %eax, 2
    movw $0x0110, TSS_BASE + 8          /* SS0 beyond the GDT limit */
    movl $0xFFFFFFFF, TEST_VAR
    RING3_32B 0
    int $0x42
    RING3_32EN "pm3.ts int_ss0_beyond_limit"
    movl TEST_VAR + 4, %eax
    KV32 "pm3.ts error_code beyond", %eax, 4
    movw $SEL_DS32, TSS_BASE + 8
    pushl $0x8E
    pushl $SEL_CS32
    pushl $(stubs32 + 0x0A * 16)
    pushl $0x0A
    call gate32_set

    /* #AC: CR0.AM + EFLAGS.AC + CPL 3 + misaligned access (see README: QEMU TCG does not
     * implement alignment checking, so only the aligned and CPL-0 cases are checked). */
    movl %cr0, %eax
    orl $0x40000, %eax
    movl %eax, %cr0
    RING3_32B 0
    pushl $0x40002
    popfl
    movw $SEL_DS32U, %ax
    movw %ax, %ds
    movl SCRATCH, %eax
    RING3_32E "pm3.ac aligned_ok"
    pushl $0x40002
    popfl
    TRY32 "pm.ac cpl0_misaligned_ok", movl SCRATCH + 1, %eax
    pushl $2
    popfl
    movl %cr0, %eax
    andl $~0x40000, %eax
    movl %eax, %cr0

    /* ================= long mode ================= */
    PM32_TO_LM64
    call idt64_init
    call tss64_init
    xorl %ebx, %ebx
    TRY64 "lm.de div0", divq %rbx
    movabsq $0x8000000000000000, %rax
    movq $-1, %rdx
    movq $-1, %rbx
    TRY64 "lm.de idiv_overflow", idivq %rbx
    TRY64B
    pushq $0x102
    popfq
    nop
    TRY64E "lm.db single_step"
    TRY64 "lm.bp int3", int3
    TRY64 "lm.int 0x80", int $0x80
    TRY64 "lm.ud ud2", ud2
    TRY64 "lm.ud into", .byte 0xCE
    TRY64 "lm.ud aam", .byte 0xD4, 0x0A
    TRY64 "lm.ud daa", .byte 0x27
    TRY64 "lm.ud push_es", .byte 0x06
    TRY64 "lm.ud pusha", .byte 0x60
    TRY64 "lm.ud jmp_far_ptr", .byte 0xEA, 0, 0, 0, 0, 0, 0
    TRY64 "lm.ud lock_reg", .byte 0xF0, 0x48, 0x01, 0xC3
    TRY64 "lm.ud arpl_is_movsxd_ok", .byte 0x48, 0x63, 0xC3   /* movslq %ebx,%rax */
    movq %cr0, %rax
    orq $0x8, %rax
    movq %rax, %cr0
    TRY64 "lm.nm ts fnop", fnop
    clts
    /* #GP: non-canonical addresses, MSRs, CR bits */
    movabsq $0x0000800000000000, %rbx
    TRY64 "lm.gp noncanonical_load", movq (%rbx), %rax
    movabsq $0xFFFF7FFFFFFFFFFF, %rbx
    TRY64 "lm.gp noncanonical_store", movq %rax, (%rbx)
    /* CMOVcc reads its memory source even when the condition is false */
    movabsq $0x0000800000000000, %rbx
    pushq $(2 | F_ZF)
    popfq
    TRY64 "lm.gp cmovne_false_noncanonical", cmovneq (%rbx), %rax
    /* null SS at CPL 0 is allowed in 64-bit mode */
    xorl %eax, %eax
    TRY64 "lm.load_ss_null_ok", movw %ax, %ss
    movw $SEL_DS32, %ax
    movw %ax, %ss
    movw $SEL_NP, %ax
    TRY64 "lm.np load_ds", movw %ax, %ds
    TRY64 "lm.ss load_ss_not_present", movw %ax, %ss
    movw $0x0100, %ax
    TRY64 "lm.gp load_fs_beyond_limit", movw %ax, %fs
    /* #PF: the lib maps 0-4 GiB only */
    movabsq $0x100000000, %rbx
    TRY64 "lm.pf read_unmapped", movq (%rbx), %rax
    movq EXC_CR2, %rax
    KV64 "lm.pf read_unmapped cr2", %rax
    movabsq $0x100000123, %rbx
    TRY64 "lm.pf write_unmapped", movb %al, (%rbx)
    movq EXC_CR2, %rax
    KV64 "lm.pf write_unmapped cr2", %rax
    /* gates. The error codes of IDT faults in long mode are printed without their index
     * field: QEMU TCG reports vector * 16 + 2, the SDM vector * 8 + 2 (README.md). */
    movq $0xFFF8, ERR_HIDE
    andb $0x7F, IDT_BASE + 0x50 * 16 + 5
    TRY64 "lm.np int_gate_not_present (err&7)", int $0x50
    orb $0x80, IDT_BASE + 0x50 * 16 + 5
    movb $0x8C, IDT_BASE + 0x51 * 16 + 5   /* a 64-bit call gate type in the IDT */
    TRY64 "lm.gp int_call_gate_type (err&7)", int $0x51
    movb $0x8E, IDT_BASE + 0x51 * 16 + 5
    sidt SCRATCH + 0x20
    movw $(0x80 * 16 - 1), SCRATCH + 0x20
    lidt SCRATCH + 0x20
    TRY64 "lm.gp int_beyond_idt_limit (err&7)", int $0x90
    movw $(256 * 16 - 1), SCRATCH + 0x20
    lidt SCRATCH + 0x20
    movq $0, ERR_HIDE
    andb $0x7F, IDT_BASE + 0 * 16 + 5
    xorl %ebx, %ebx
    TRY64N "lm.df np_during_de", divl %ebx
    orb $0x80, IDT_BASE + 0 * 16 + 5
    movq $0xFFF9, ERR_HIDE
    andb $0x7F, IDT_BASE + 6 * 16 + 5
    TRY64 "lm.np during ud (err&6)", ud2
    orb $0x80, IDT_BASE + 6 * 16 + 5
    movq $0, ERR_HIDE
    /* ring 3 */
    RING3_TRY64 "lm3.ok", 0, nop
    RING3_TRY64 "lm3.gp hlt", 0, hlt
    RING3_TRY64 "lm3.gp swapgs", 0, swapgs
    RING3_TRY64 "lm3.gp wrmsr", 0, wrmsr
    RING3_TRY64 "lm3.gp mov_cr3", 0, movq %cr3, %rax
    movq $0xFFF8, ERR_HIDE
    RING3_TRY64 "lm3.gp int_dpl0_gate (err&7)", 0, int $0x80
    movq $0, ERR_HIDE
    RING3_TRY64 "lm3.gp in_iopl0", 0, inb $0x80, %al
    RING3_TRY64 "lm3.gp cli_iopl0", 0, cli
    RING3_TRY64 "lm3.pf user_write_ok", 0, movl $0x12345678, SCRATCH
    RING3_TRY64 "lm3.ud ud2", 0, ud2
    PUTS64 "done\n"
    EXIT 0

    .code32
pm3_conf_target:                /* reached at CPL 3 through a conforming segment */
    movw %cs, %ax
    andl $3, %eax
    movl %eax, %ss:TEST_VAR
    lret

/* #TS handler in a conforming segment: runs at CPL 3 on the ring-3 stack.
 * [esp]=error code [esp+4]=eip [esp+8]=cs [esp+12]=eflags */
ts_handler:
    pushl %eax
    movw $SEL_DS32U, %ax
    movw %ax, %ds
    movl $0x0A, TEST_VAR
    movl 4(%esp), %eax
    movl %eax, TEST_VAR + 4
    movw %cs, %ax
    andl $3, %eax
    movl %eax, TEST_VAR + 8
    movw $SEL_DS32, TSS_BASE + 8    /* repair SS0, then leave through the ring-0 gate */
    popl %eax
    int $0x41
