/*
 * strings.S - MOVS LODS STOS CMPS SCAS INS OUTS with REP/REPE/REPNE, 16/32/64-bit address
 * sizes, DF=1, segment overrides (SDM Vol. 2, each instruction; "REP/REPE/REPZ/REPNE/REPNZ").
 *
 * After each test: ESI/EDI/ECX (RSI/RDI/RCX), the bytes touched, and EFLAGS & (OF SF ZF AF
 * PF CF DF): CMPS/SCAS define all six arithmetic flags from the last comparison done;
 * MOVS/LODS/STOS/INS/OUTS leave them alone; a REP with a zero count does nothing at all.
 * OUTS/INS use only the debug console: OUTS output appears in this file as text, and INS
 * reads back 0xE9, the value QEMU's isa-debugcon returns for reads (README.md).
 */
#include "rom.h"

#define SRC     (SCRATCH + 0x000)
#define DST     (SCRATCH + 0x100)
#define FLAGMASK (F_ALU | F_DF)

/* STR_STATE name: prints name.esi/.edi/.ecx relative to SRC/DST and the flags */
.macro STATE32 name
    pushfl
    pushl %eax
    movl %esi, %eax
    subl $SRC, %eax
    KV32 "\name esi-SRC", %eax
    movl %edi, %eax
    subl $DST, %eax
    KV32 "\name edi-DST", %eax
    KV32 "\name ecx", %ecx
    movl 4(%esp), %eax
    andl $FLAGMASK, %eax
    KV32 "\name flags", %eax, 4
    popl %eax
    popfl
.endm
.macro DUMP32 name, addr
    pushl %eax
    movl \addr, %eax
    KV32 "\name [DST]", %eax
    movl \addr + 4, %eax
    KV32 "\name [DST+4]", %eax
    popl %eax
.endm
.macro FILL32
    movl $0x44332211, SRC
    movl $0x88776655, SRC + 4
    movl $0xCCBBAA99, SRC + 8
    movl $0x00FFEEDD, SRC + 12
    movl $0, DST
    movl $0, DST + 4
    movl $0, DST + 8
    movl $0, DST + 12
.endm

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: strings\n"
    /* ---- real mode: 16-bit addressing, DS:SI -> ES:DI ---- */
    movw $0x5000, %ax
    movw %ax, %ds
    movw $0x5100, %ax
    movw %ax, %es
    movl $0x44332211, 0
    movl $0x88776655, 4
    movw $0, %si
    movw $0, %di
    movw $3, %cx
    cld
    rep movsw
    movl %es:0, %eax
    movzwl %es:4, %edx
    xorw %bx, %bx
    movw %bx, %ds
    movw %bx, %es
    KV16 "rm.rep_movsw dst", %eax
    KV16 "rm.rep_movsw dst+4", %edx, 4
    movzwl %si, %eax
    KV16 "rm.rep_movsw si", %eax, 4
    movzwl %cx, %eax
    KV16 "rm.rep_movsw cx", %eax, 4
    /* SI wraps at 64 KiB in 16-bit addressing */
    movw $0x6000, %ax
    movw %ax, %ds
    movb $0x5A, 0xFFFF
    movb $0xA5, 0x0000
    movw $0xFFFF, %si
    cld
    lodsb
    movb %al, %bl
    lodsb
    movb %al, %bh
    xorw %ax, %ax
    movw %ax, %ds
    movzwl %bx, %eax
    KV16 "rm.lodsb wrap bytes", %eax, 4
    movzwl %si, %eax
    KV16 "rm.lodsb wrap si", %eax, 4

    RM_TO_PM32
    call idt32_init

    /* ---- REP MOVS ---- */
    FILL32
    movl $SRC, %esi
    movl $DST, %edi
    movl $5, %ecx
    pushl $2
    popfl
    rep movsb
    STATE32 "rep_movsb 5"
    DUMP32 "rep_movsb 5", DST
    FILL32
    movl $(SRC + 8), %esi
    movl $(DST + 8), %edi
    movl $3, %ecx
    pushl $(2 | F_DF | F_CF | F_ZF)
    popfl
    rep movsl
    STATE32 "rep_movsd df=1 3"
    DUMP32 "rep_movsd df=1 3", DST
    movl DST + 8, %eax
    KV32 "rep_movsd df=1 3 [DST+8]", %eax
    FILL32
    movl $SRC, %esi
    movl $DST, %edi
    xorl %ecx, %ecx
    pushl $(2 | F_ALU)
    popfl
    rep movsw
    STATE32 "rep_movsw 0"
    DUMP32 "rep_movsw 0", DST
    FILL32
    movl $SRC, %esi
    movl $DST, %edi
    movl $7, %ecx
    pushl $2
    popfl
    movsw                       /* no REP: one element, ECX untouched */
    STATE32 "movsw single"
    /* source segment override: FS with base 0x10 */
    movl $0x0010FFFF, GDT_BASE + SEL_TEST
    movl $0x00CF9300, GDT_BASE + SEL_TEST + 4
    movw $SEL_TEST, %ax
    movw %ax, %fs
    FILL32
    movl $(SRC - 0x10), %esi
    movl $DST, %edi
    movl $2, %ecx
    pushl $2
    popfl
    rep movsl %fs:(%esi), %es:(%edi)
    STATE32 "rep_movsd fs: 2"
    DUMP32 "rep_movsd fs: 2", DST
    /* the destination is always ES: a DS prefix on STOS is ignored; ES base 0x10 here */
    movw %ax, %es
    movl $(DST - 0x10), %edi
    movl $0x600DF00D, %eax
    .byte 0x3E                  /* DS override, ignored */
    stosl
    movw $SEL_DS32, %ax
    movw %ax, %es
    DUMP32 "stosd ds-prefix es-base", DST
    movw $SEL_DS32, %ax
    movw %ax, %fs

    /* ---- STOS LODS ---- */
    FILL32
    movl $DST, %edi
    movl $3, %ecx
    movl $0xA1B2C3D4, %eax
    pushl $2
    popfl
    rep stosl
    movl $SRC, %esi
    STATE32 "rep_stosd 3"
    DUMP32 "rep_stosd 3", DST
    movl DST + 8, %eax
    KV32 "rep_stosd 3 [DST+8]", %eax
    movl DST + 12, %eax
    KV32 "rep_stosd 3 [DST+12]", %eax
    FILL32
    movl $(DST + 3), %edi
    movl $2, %ecx
    movb $0xEE, %al
    pushl $(2 | F_DF)
    popfl
    rep stosb
    movl $SRC, %esi
    STATE32 "rep_stosb df=1 2"
    DUMP32 "rep_stosb df=1 2", DST
    FILL32
    movl $SRC, %esi
    movl $DST, %edi
    pushl $2
    popfl
    lodsb
    movzbl %al, %ebx
    KV32 "lodsb al", %ebx, 2
    lodsw
    movzwl %ax, %ebx
    KV32 "lodsw ax", %ebx, 4
    lodsl
    KV32 "lodsd eax", %eax
    movl $0, %ecx
    STATE32 "lods b+w+d"
    movl $SRC, %esi
    movl $3, %ecx
    rep lodsb
    movzbl %al, %ebx
    KV32 "rep_lodsb 3 al", %ebx, 2
    STATE32 "rep_lodsb 3"

    /* ---- CMPS SCAS ---- */
    movl $0x64636261, SRC       /* "abcdefgh" */
    movl $0x68676665, SRC + 4
    movl $0x78636261, DST       /* "abcxefgh" */
    movl $0x68676665, DST + 4
    movl $SRC, %esi
    movl $DST, %edi
    movl $8, %ecx
    pushl $2
    popfl
    repe cmpsb
    STATE32 "repe_cmpsb mismatch at 3"
    movl $SRC, %esi
    movl $DST, %edi
    movl $3, %ecx
    pushl $2
    popfl
    repe cmpsb
    STATE32 "repe_cmpsb equal 3"
    movl $(SRC + 4), %esi
    movl $(DST + 4), %edi
    movl $2, %ecx
    pushl $(2 | F_DF)
    popfl
    repe cmpsl
    STATE32 "repe_cmpsd df=1"
    movl $SRC, %esi
    movl $DST, %edi
    movl $8, %ecx
    pushl $2
    popfl
    repne cmpsb
    STATE32 "repne_cmpsb first equal"
    movl $SRC, %esi
    movl $DST, %edi
    xorl %ecx, %ecx
    pushl $(2 | F_CF | F_SF)
    popfl
    repe cmpsb
    STATE32 "repe_cmpsb count 0"
    movl $SRC, %esi
    movl $DST, %edi
    movl $5, %ecx
    pushl $2
    popfl
    cmpsw                       /* no REP */
    STATE32 "cmpsw single"
    movl $DST, %edi
    movl $SRC, %esi
    movl $8, %ecx
    movb $'f', %al
    pushl $2
    popfl
    repne scasb
    STATE32 "repne_scasb find f"
    movl $DST, %edi
    movl $4, %ecx
    movw $0x1234, %ax
    pushl $2
    popfl
    repne scasw
    STATE32 "repne_scasw not found"
    movl $DST, %edi
    movl $8, %ecx
    movb $'a', %al
    pushl $2
    popfl
    repe scasb
    STATE32 "repe_scasb a"
    movl $(DST + 4), %edi
    movl $2, %ecx
    movl $0x68676665, %eax
    pushl $2
    popfl
    scasl
    STATE32 "scasd single equal"

    /* ---- 16-bit address size in 32-bit code: SI/DI/CX, wrapping at 64 KiB ---- */
    movl $0x12345678, 0xFFFE
    movl $0x5555FFFE, %esi
    movl $0x00017000, %edi
    movl $0xABCD0002, %ecx
    pushl $2
    popfl
    addr16 rep movsw
    movl %esi, %eax
    KV32 "addr16 rep_movsw esi", %eax
    KV32 "addr16 rep_movsw edi", %edi
    KV32 "addr16 rep_movsw ecx", %ecx
    movl 0x7000, %eax
    KV32 "addr16 rep_movsw [0x7000]", %eax

    /* ---- OUTS / INS on the debug console ---- */
    movl $outs_text, %esi
    movl $(outs_text_end - outs_text), %ecx
    movw $PORT_DEBUGCON, %dx
    pushl $2
    popfl
    rep outsb %cs:(%esi), %dx
    movl %esi, %eax
    subl $outs_text_end, %eax
    KV32 "rep_outsb cs: esi-end", %eax
    KV32 "rep_outsb ecx", %ecx
    movl $0, DST
    movl $DST, %edi
    movl $3, %ecx
    rep insb %dx, %es:(%edi)
    movl DST, %eax
    KV32 "rep_insb 3 from 0xe9", %eax
    movl %edi, %eax
    subl $DST, %eax
    KV32 "rep_insb 3 edi-DST", %eax

    /* ---- 64-bit mode ---- */
    PM32_TO_LM64
    call idt64_init
    movabsq $0x1122334455667788, %rax
    movq %rax, SRC
    movabsq $0x99AABBCCDDEEFF00, %rax
    movq %rax, SRC + 8
    movq $0, DST
    movq $0, DST + 8
    movl $SRC, %esi
    movl $DST, %edi
    movl $2, %ecx
    pushq $2
    popfq
    rep movsq
    movq DST, %rax
    KV64 "lm.rep_movsq [DST]", %rax
    movq DST + 8, %rax
    KV64 "lm.rep_movsq [DST+8]", %rax
    movq %rsi, %rax
    subq $SRC, %rax
    KV64 "lm.rep_movsq rsi-SRC", %rax
    KV64 "lm.rep_movsq rcx", %rcx
    movl $DST, %edi
    movabsq $0x0123456789ABCDEF, %rax
    movl $1, %ecx
    rep stosq
    movq DST, %rax
    KV64 "lm.rep_stosq [DST]", %rax
    movl $SRC, %esi
    lodsq
    KV64 "lm.lodsq rax", %rax
    movl $SRC, %esi
    movl $DST, %edi
    movl $2, %ecx
    pushq $2
    popfq
    repe cmpsq
    pushfq
    popq %rax
    andl $FLAGMASK, %eax
    KV64 "lm.repe_cmpsq flags", %rax, 4
    KV64 "lm.repe_cmpsq rcx", %rcx
    movq %rsi, %rax
    subq $SRC, %rax
    KV64 "lm.repe_cmpsq rsi-SRC", %rax
    /* 32-bit address size in 64-bit mode: ECX is the count, ESI/EDI the pointers */
    movabsq $0xFFFFFFFF00000002, %rcx
    movl $SRC, %esi
    movl $DST, %edi
    addr32 rep movsb
    movl %ecx, %eax
    KV64 "lm.addr32 rep_movsb ecx", %rax, 8
    movq %rsi, %rax
    subq $SRC, %rax
    KV64 "lm.addr32 rep_movsb rsi-SRC", %rax
    /* segment override prefixes other than FS/GS are ignored in 64-bit mode */
    movl $SRC, %esi
    .byte 0x2E                  /* CS prefix: ignored */
    lodsb
    movzbl %al, %eax
    KV64 "lm.cs: lodsb ignored override", %rax, 2
    PUTS64 "done\n"
    EXIT 0

    .section .rodata
outs_text:
    .ascii "rep_outsb text: hello from outs\n"
outs_text_end:
