/*
 * prefixes.S - decoder corner cases: operand- and address-size prefixes in 16/32/64-bit code,
 * REX (W over 66, SPL/BPL/SIL/DIL versus
 * AH/CH/DH/BH, REX.B on 90 = XCHG, REX.X/B in SIB and the RIP-relative special case),
 * 16-bit ModRM forms, 32-bit SIB forms, immediate sign extension, NOP forms, XCHG EAX,EAX
 * versus NOP in 64-bit mode (SDM Vol. 2, "Instruction Format", "REX Prefixes",
 * "Addressing-Mode Encoding of ModR/M and SIB Bytes"). Raw encodings are given as bytes
 * so the assembler cannot pick another form.
 */
#include "rom.h"

#define BUF SCRATCH

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: prefixes\n"
    /* ---- 16-bit ModRM forms, DS=0x5000 so that offsets stay inside 64 KiB ---- */
    movw $0x5000, %ax
    movw %ax, %ds
    movw %ax, %ss               /* BP forms use SS: same base here */
    xorw %di, %di
1:  movw %di, %ax
    imulw $0x0101, %ax
    movw %ax, (%di)             /* memory word at 2n holds 0x0101 * n */
    addw $2, %di
    cmpw $0x200, %di
    jb 1b
    movw $0x10, %bx
    movw $0x20, %si
    movw $0x40, %di
    movw $0x80, %bp
.macro RM16 name, op:vararg
    \op
    movzwl %ax, %eax
    KV16 "\name", %eax, 4
.endm
    RM16 "rm16 [bx+si]", movw (%bx,%si), %ax
    RM16 "rm16 [bx+di]", movw (%bx,%di), %ax
    RM16 "rm16 [bp+si]", movw (%bp,%si), %ax
    RM16 "rm16 [bp+di]", movw (%bp,%di), %ax
    RM16 "rm16 [si]", movw (%si), %ax
    RM16 "rm16 [di]", movw (%di), %ax
    RM16 "rm16 [disp16]", movw 0x0102, %ax
    RM16 "rm16 [bx]", movw (%bx), %ax
    RM16 "rm16 [bx+si+disp8]", movw 4(%bx,%si), %ax
    RM16 "rm16 [bp+disp8]", movw 2(%bp), %ax
    RM16 "rm16 [bp+di+disp16]", movw 0x100(%bp,%di), %ax
    RM16 "rm16 [bx-disp8]", movw -4(%bx), %ax
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %ss
    movl $STACK_RM, %esp
    /* operand size in real mode */
    movl $0xFFFFFFFF, %eax
    .byte 0xB8, 0x34, 0x12      /* mov ax, 0x1234: upper half kept */
    KV16 "rm mov ax imm16 keeps upper", %eax
    .byte 0x66, 0xB8, 0x78, 0x56, 0x34, 0x12    /* 66: mov eax, imm32 */
    KV16 "rm 66 mov eax imm32", %eax
    .byte 0x66, 0x66, 0xB8, 0x21, 0x43, 0x65, 0x87  /* redundant 66 */
    KV16 "rm 66 66 mov eax imm32", %eax

    RM_TO_PM32
    call idt32_init
    /* ---- 32-bit: 66 and 67 ---- */
    movl $0xFFFFFFFF, %eax
    .byte 0x66, 0xB8, 0x34, 0x12
    KV32 "pm 66 mov ax imm16", %eax
    movl $0x11112222, BUF
    movl $BUF, %ebx
    .byte 0x8B, 0x03            /* mov eax,[ebx] */
    KV32 "pm mov eax,[ebx]", %eax
    movl $0x3333, 0x0100
    movl $0xFFFF0100, %ebx      /* 67: only BX is used */
    .byte 0x67, 0x8B, 0x07      /* mov eax,[bx] */
    KV32 "pm 67 mov eax,[bx]", %eax
    movl $-1, %eax
    .byte 0x66, 0x67, 0x8B, 0x07    /* mov ax,[bx] */
    KV32 "pm 66 67 mov ax,[bx]", %eax
    /* SIB forms */
    movl $BUF, %ebx
    movl $4, %esi
    movl $0xA0A0A0A0, BUF + 0x10
    movl $0xB0B0B0B0, BUF + 0x14
    movl $0xC0C0C0C0, BUF + 0x20
    .byte 0x8B, 0x44, 0xB3, 0x04    /* mov eax,[ebx+esi*4+4] */
    KV32 "sib base+index*4+disp8", %eax
    .byte 0x8B, 0x04, 0x25          /* mov eax,[disp32] (no base, no index) */
    .long BUF + 0x20
    KV32 "sib no base no index disp32", %eax
    .byte 0x8B, 0x04, 0xB5          /* mov eax,[esi*4+disp32] (base=101, mod 00) */
    .long BUF + 0x10
    KV32 "sib index*4+disp32 no base", %eax
    movl %esp, %edi
    movl $BUF + 0x14, %esp
    .byte 0x8B, 0x04, 0x24          /* mov eax,[esp] */
    movl %edi, %esp
    KV32 "sib base=esp", %eax
    movl $BUF + 0x10, %ebp
    .byte 0x8B, 0x45, 0x00          /* mov eax,[ebp+0] (needs disp8) */
    KV32 "modrm ebp+disp8", %eax
    .byte 0x8B, 0x44, 0x25, 0x04    /* mov eax,[ebp+4], index=100 means none */
    KV32 "sib index none base ebp disp8", %eax
    /* immediates */
    movl $0x10, %eax
    .byte 0x83, 0xC0, 0xFF          /* add eax, imm8 -1 */
    KV32 "add eax, imm8 sign-extended", %eax
    .byte 0x66, 0x83, 0xC0, 0x80    /* add ax, imm8 -128 */
    KV32 "66 add ax, imm8 sign-extended", %eax
    .byte 0x6B, 0xC0, 0xFE          /* imul eax,eax,-2 */
    KV32 "imul imm8 sign-extended", %eax
    movl $0, %eax
    .byte 0x6A, 0x80                /* push imm8 -128 */
    popl %eax
    KV32 "push imm8 sign-extended", %eax
    /* NOP forms and PAUSE run and change nothing */
    movl $0x12345678, %eax
    TRY32 "nop 0f1f /0 disp32 sib", .byte 0x0F, 0x1F, 0x84, 0x00, 0, 0, 0, 0
    TRY32 "nop 66 0f1f", .byte 0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00
    TRY32 "nop 66 90", .byte 0x66, 0x90
    TRY32 "pause", .byte 0xF3, 0x90
    KV32 "eax after nops", %eax

    /* ---- 64-bit ---- */
    PM32_TO_LM64
    call idt64_init
    movq $-1, %rax
    .byte 0x66, 0x48, 0xB8          /* REX.W wins over 66: mov rax, imm64 */
    .quad 0x0123456789ABCDEF
    KV64 "lm 66 48 mov rax imm64", %rax
    /* a REX followed by another prefix is ignored (SDM); QEMU still applies it, so that
     * case is not tested (README.md) */
    movq $-1, %rax
    .byte 0xB8, 0x01, 0, 0, 0       /* mov eax, imm32 zero-extends */
    KV64 "lm mov eax imm32", %rax
    movq $0, %rax
    .byte 0x48, 0xC7, 0xC0, 0x00, 0x00, 0x00, 0x80   /* mov rax, imm32 sign-extended */
    KV64 "lm mov rax simm32", %rax
    movq $0x10, %rax
    .byte 0x48, 0x05, 0xF0, 0xFF, 0xFF, 0xFF         /* add rax, simm32 */
    KV64 "lm add rax simm32", %rax
    /* byte registers: without REX AH..BH, with any REX SPL..DIL */
    movq $0x1122334455667788, %rax
    movabsq $0x0102030405060708, %rsp   /* no exception can happen until RSP is back */
    .byte 0x88, 0xE1                /* mov cl, ah */
    .byte 0x40, 0x88, 0xE2          /* mov dl, spl */
    movl $STACK0, %esp
    movzbl %cl, %eax
    KV64 "lm mov cl,ah", %rax, 2
    movzbl %dl, %eax
    KV64 "lm rex mov dl,spl", %rax, 2
    /* 90 is NOP (RAX untouched); 87 C0 (xchg eax,eax) zero-extends; 41 90 is xchg r8,rax */
    movq $-1, %rax
    .byte 0x90
    KV64 "lm 90 keeps rax", %rax
    .byte 0x87, 0xC0
    KV64 "lm xchg eax,eax zero-extends", %rax
    movq $5, %rax
    movq $7, %r8
    .byte 0x41, 0x90
    KV64 "lm 41 90 xchg r8,rax: rax", %rax
    KV64 "lm 41 90 xchg r8,rax: r8", %r8
    /* 67 in 64-bit mode: 32-bit addresses */
    movl $0x55556666, BUF
    movabsq $(0xFFFFFFFF00000000 + BUF), %rbx
    .byte 0x67, 0x8B, 0x03          /* mov eax,[ebx] */
    KV64 "lm 67 mov eax,[ebx]", %rax
    /* REX.B / REX.X in ModRM and SIB */
    movabsq $0x7777888899990000, %rax
    movq %rax, BUF + 0x40
    movl $(BUF + 0x40), %r13d
    .byte 0x49, 0x8B, 0x45, 0x00    /* mov rax,[r13+0]: r13 needs a disp8 */
    KV64 "lm mov rax,[r13+0]", %rax
    movl $(BUF + 0x40), %r12d
    .byte 0x49, 0x8B, 0x04, 0x24    /* mov rax,[r12]: needs a SIB */
    KV64 "lm mov rax,[r12]", %rax
    movl $BUF, %eax
    movl $0x40, %r12d
    .byte 0x4A, 0x8B, 0x04, 0x20    /* mov rax,[rax+r12]: REX.X makes index 100 = r12 */
    KV64 "lm mov rax,[rax+r12*1]", %rax
    movl $BUF, %eax
    movl $0x40, %esp
    .byte 0x48, 0x8B, 0x04, 0x20    /* no REX.X: index 100 = none, [rax] */
    movl $STACK0, %esp
    KV64 "lm mov rax,[rax] (index none)", %rax
    movl $(BUF + 0x40), %r13d
    .byte 0x49, 0x8B, 0x44, 0x25, 0x00 /* base r13 (101), index none, disp8 */
    KV64 "lm mov rax,[r13+disp8] via sib", %rax
    leaq 0x10(%rip), %rax           /* rm=101 mod=00 is RIP-relative, also with REX.B */
    .byte 0x4D, 0x8D, 0x2D, 0x00, 0x00, 0x00, 0x00  /* lea r13,[rip+0] */
    subq %r13, %rax
    KV64 "lm lea rip (rex.b) distance", %rax
    movabsq $0xFFFFFFFF80000000, %rbx
    .byte 0x63, 0xC3                /* movsxd eax, ebx without REX.W: a 32-bit move */
    KV64 "lm 63 without rex.w", %rax
    movabsq $0x0000000080000000, %rbx
    .byte 0x48, 0x63, 0xC3          /* movsxd rax, ebx */
    KV64 "lm 48 63 movsxd", %rax
    TRY64 "lm 15-byte insn ok", .byte 0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x48,0x8D,0x00
    TRY64 "lm 16-byte insn", .byte 0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x48,0x8D,0x00
    PUTS64 "done\n"
    EXIT 0
