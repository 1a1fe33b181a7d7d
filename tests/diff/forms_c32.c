/*
 * forms_c32.c - the forms that run in compatibility mode (the host's 32-bit
 * user code segment: legacy-only instructions, 32-bit sizes and stacks,
 * segment loads) and the segment-register forms of 64-bit mode.
 */
#include <string.h>

#include "forms.h"

/* Compatibility mode (the host's 32-bit user code segment): the legacy-only
 * instructions, 32-bit default sizes, 16-bit address arithmetic (LEA). */
void forms_compat(struct table *t)
{
    struct form *f;
    static const struct {
        const char *name;
        uint8_t op, sub, imm;
    } bcd[6] = {
        {"c32: daa", 0x27, 0, 0}, {"c32: das", 0x2F, 0, 0},    {"c32: aaa", 0x37, 1, 0},
        {"c32: aas", 0x3F, 1, 0}, {"c32: aam Ib", 0xD4, 2, 1}, {"c32: aad Ib", 0xD5, 2, 1},
    };
    for (unsigned k = 0; k < 6; k++) {
        f = form_add(t, FAM_BCD, 1, "%s", bcd[k].name);
        form_opcode(f, 1, bcd[k].op, 0, 0);
        f->sub = bcd[k].sub;
        f->e = E_NONE;
        f->flags = FF_NOMODRM | FF_COMPAT;
        f->imm = bcd[k].imm;
        f->gen = GEN_ACC;
        f->implicit = BIT(AX);
    }
    f = form_add(t, FAM_NONE, 1, "c32: salc");
    form_opcode(f, 1, 0xD6, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM | FF_COMPAT;
    f->implicit = BIT(AX);
    f = form_add(t, FAM_ARITH, 4, "c32: inc r32");
    form_opcode(f, 1, 0x40, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM | FF_PLUSR | FF_COMPAT;
    f = form_add(t, FAM_ARITH, 2, "c32: dec r16");
    form_opcode(f, 1, 0x48, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM | FF_PLUSR | FF_COMPAT;
    static const struct {
        const char *name;
        uint8_t op, size, gen;
    } st[6] = {
        {"c32: pusha", 0x60, 4, GEN_STACK},    {"c32: popa", 0x61, 4, GEN_STACK},
        {"c32: pusha 16", 0x60, 2, GEN_STACK}, {"c32: popa 16", 0x61, 2, GEN_STACK},
        {"c32: push r32", 0x50, 4, GEN_STACK}, {"c32: pop r32", 0x58, 4, GEN_STACK},
    };
    for (unsigned k = 0; k < 6; k++) {
        f = form_add(t, FAM_NONE, st[k].size, "%s", st[k].name);
        form_opcode(f, 1, st[k].op, 0, 0);
        f->e = E_NONE;
        f->flags = (uint16_t)(FF_NOMODRM | FF_COMPAT | (k >= 4 ? FF_PLUSR : 0));
        f->gen = st[k].gen;
        f->implicit = BIT(4);
    }
    f = form_add(t, FAM_NONE, 4, "c32: into");
    form_opcode(f, 1, 0xCE, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM | FF_COMPAT;
    f = form_add(t, FAM_NONE, 4, "c32: bound Gv,Ma 32");
    form_opcode(f, 1, 0x62, 0, 0);
    f->e = E_MEM;
    f->flags = FF_COMPAT;
    f->gen = GEN_BOUND;
    f = form_add(t, FAM_NONE, 2, "c32: bound Gv,Ma 16");
    form_opcode(f, 1, 0x62, 0, 0);
    f->e = E_MEM;
    f->flags = FF_COMPAT;
    f->gen = GEN_BOUND;
    f = form_add(t, FAM_ARITH, 1, "c32: add Eb,Ib (82 alias)");
    form_opcode(f, 1, 0x82, 0, 0);
    f->ext = 0;
    f->e = E_ANY;
    f->imm = 1;
    f->flags = FF_COMPAT;
    f = form_add(t, FAM_ARITH, 4, "c32: sub Ev,Gv 32");
    form_opcode(f, 1, 0x29, 0, 0);
    f->e = E_ANY;
    f->flags = FF_COMPAT;
    f = form_add(t, FAM_ARITH, 2, "c32: adc Gv,Ev 16");
    form_opcode(f, 1, 0x13, 0, 0);
    f->e = E_ANY;
    f->flags = FF_COMPAT;
    f = form_add(t, FAM_NONE, 4, "c32: mov Gv,Ev 32");
    form_opcode(f, 1, 0x8B, 0, 0);
    f->e = E_ANY;
    f->flags = FF_COMPAT;
    f = form_add(t, FAM_LOGIC, 1, "c32: xor Gb,Eb");
    form_opcode(f, 1, 0x32, 0, 0);
    f->e = E_ANY;
    f->flags = FF_COMPAT;
    f = form_add(t, FAM_SHIFT, 4, "c32: shl E,CL 32");
    form_opcode(f, 1, 0xD3, 0, 0);
    f->ext = 4;
    f->sub = 4;
    f->e = E_ANY;
    f->gen = GEN_COUNT_CL;
    f->implicit = BIT(CX);
    f->flags = FF_COMPAT;
    f = form_add(t, FAM_DIV, 4, "c32: div E 32");
    form_opcode(f, 1, 0xF7, 0, 0);
    f->ext = 6;
    f->e = E_ANY;
    f->gen = GEN_DIV;
    f->implicit = BIT(AX) | BIT(DX);
    f->flags = FF_COMPAT;
    f = form_add(t, FAM_MUL, 2, "c32: imul Gv,Ev,Iz 16");
    form_opcode(f, 1, 0x69, 0, 0);
    f->e = E_ANY;
    f->imm = 2;
    f->flags = FF_COMPAT;
    for (unsigned s = 2; s <= 4; s += 2) {
        f = form_add(t, FAM_NONE, s, "c32: lea Gv,M a16 %u", s * 8);
        form_opcode(f, 1, 0x8D, 0, 0);
        f->e = E_MEM;
        f->flags = FF_COMPAT | FF_A16;
    }
    f = form_add(t, FAM_NONE, 4, "c32: lea Gv,M 32");
    form_opcode(f, 1, 0x8D, 0, 0);
    f->e = E_MEM;
    f->flags = FF_COMPAT;
    f = form_add(t, FAM_NONE, 4, "c32: call rel32");
    form_opcode(f, 1, 0xE8, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM | FF_REL | FF_COMPAT;
    f->imm = 4;
    f->gen = GEN_STACK;
    f->implicit = BIT(4);
    f = form_add(t, FAM_NONE, 4, "c32: ret");
    form_opcode(f, 1, 0xC3, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM | FF_COMPAT;
    f->gen = GEN_RET;
    f->implicit = BIT(4);
    f = form_add(t, FAM_NONE, 4, "c32: jle rel8");
    form_opcode(f, 1, 0x7E, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM | FF_REL | FF_COMPAT;
    f->imm = 1;
    f->gen = GEN_JCC;
    f = form_add(t, FAM_NONE, 4, "c32: loop rel8");
    form_opcode(f, 1, 0xE2, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM | FF_REL | FF_COMPAT;
    f->imm = 1;
    f->gen = GEN_LOOP;
    f->implicit = BIT(CX);
    f = form_add(t, FAM_NONE, 1, "c32: rep movsb");
    form_opcode(f, 1, 0xA4, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM | FF_F3 | FF_COMPAT;
    f->gen = GEN_STRING;
    f->implicit = BIT(AX) | BIT(CX) | BIT(6) | BIT(7);
    f = form_add(t, FAM_ARITH, 4, "c32: repne scasd");
    form_opcode(f, 1, 0xAF, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM | FF_F2 | FF_COMPAT;
    f->gen = GEN_STRING;
    f->implicit = BIT(AX) | BIT(CX) | BIT(6) | BIT(7);

    /* More of the everyday set, in 32-bit code. */
    static const struct {
        const char *name;
        uint8_t fam, size, n, op0, op1, ext, e, imm, gen;
        uint16_t flags, implicit;
    } more[] = {
        /* ARPL through a CS override: the SDM lists #GP for a non-writable
         * destination, Intel raises it only when ARPL writes (RPL raised). */
        {"c32: arpl Ew,Gw", FAM_NONE, 2, 1, 0x63, 0, 0xFF, E_ANY, 0, GEN_PLAIN, FF_NO_CS, 0},
        {"c32: enter Iw,Ib", FAM_NONE, 4, 1, 0xC8, 0, 0xFF, E_NONE, 3, GEN_ENTER, FF_NOMODRM,
         BIT(4) | BIT(5)},
        {"c32: leave", FAM_NONE, 4, 1, 0xC9, 0, 0xFF, E_NONE, 0, GEN_LEAVE, FF_NOMODRM,
         BIT(4) | BIT(5)},
        {"c32: pushfd", FAM_NONE, 4, 1, 0x9C, 0, 0xFF, E_NONE, 0, GEN_STACK, FF_NOMODRM, BIT(4)},
        {"c32: popfd", FAM_NONE, 4, 1, 0x9D, 0, 0xFF, E_NONE, 0, GEN_POPF, FF_NOMODRM, BIT(4)},
        {"c32: push Ib", FAM_NONE, 4, 1, 0x6A, 0, 0xFF, E_NONE, 1, GEN_STACK, FF_NOMODRM, BIT(4)},
        {"c32: push r16", FAM_NONE, 2, 1, 0x50, 0, 0xFF, E_NONE, 0, GEN_STACK,
         FF_NOMODRM | FF_PLUSR, BIT(4)},
        {"c32: pop Ev 16", FAM_NONE, 2, 1, 0x8F, 0, 0, E_ANY, 0, GEN_STACK, 0, BIT(4)},
        {"c32: call Ev", FAM_NONE, 4, 1, 0xFF, 0, 2, E_ANY, 0, GEN_INDIRECT, 0, BIT(4)},
        {"c32: jmp Ev", FAM_NONE, 4, 1, 0xFF, 0, 4, E_ANY, 0, GEN_INDIRECT, 0, BIT(4)},
        {"c32: jecxz rel8", FAM_NONE, 4, 1, 0xE3, 0, 0xFF, E_NONE, 1, GEN_LOOP, FF_NOMODRM | FF_REL,
         BIT(CX)},
        {"c32: loop rel8 a16 (CX)", FAM_NONE, 4, 1, 0xE2, 0, 0xFF, E_NONE, 1, GEN_LOOP,
         FF_NOMODRM | FF_REL | FF_A16, BIT(CX)},
        {"c32: bswap r32", FAM_NONE, 4, 2, 0x0F, 0xC8, 0xFF, E_NONE, 0, GEN_PLAIN,
         FF_NOMODRM | FF_PLUSR, 0},
        {"c32: movzx Gv,Eb 32", FAM_NONE, 4, 2, 0x0F, 0xB6, 0xFF, E_ANY, 0, GEN_PLAIN, 0, 0},
        {"c32: movsx Gv,Ew 16", FAM_NONE, 2, 2, 0x0F, 0xBF, 0xFF, E_ANY, 0, GEN_PLAIN, 0, 0},
        {"c32: cmovbe Gv,Ev 32", FAM_NONE, 4, 2, 0x0F, 0x46, 0xFF, E_ANY, 0, GEN_PLAIN, 0, 0},
        {"c32: setl Eb", FAM_NONE, 1, 2, 0x0F, 0x9C, 0, E_ANY, 0, GEN_PLAIN, 0, 0},
        {"c32: bts Ev,Gv 32", FAM_BT, 4, 2, 0x0F, 0xAB, 0xFF, E_ANY, 0, GEN_BT_REG, 0, 0},
        {"c32: shrd Ev,Gv,CL 16", FAM_SHXD, 2, 2, 0x0F, 0xAD, 0xFF, E_ANY, 0, GEN_COUNT_CL, 0,
         BIT(CX)},
        {"c32: cmpxchg8b Mq", FAM_NONE, 4, 2, 0x0F, 0xC7, 1, E_MEM, 0, GEN_CMPXCHG8, 0,
         BIT(AX) | BIT(CX) | BIT(DX) | BIT(3)},
        {"c32: xadd Eb,Gb", FAM_ARITH, 1, 2, 0x0F, 0xC0, 0xFF, E_ANY, 0, GEN_PLAIN, 0, 0},
        {"c32: rcr E,Ib 8", FAM_ROT, 1, 1, 0xC0, 0, 3, E_ANY, 1, GEN_COUNT_IMM, 0, 0},
        {"c32: mul E 16", FAM_MUL, 2, 1, 0xF7, 0, 4, E_ANY, 0, GEN_MUL, 0, BIT(AX) | BIT(DX)},
        {"c32: idiv E 8", FAM_DIV, 1, 1, 0xF6, 0, 7, E_ANY, 0, GEN_IDIV, 0, BIT(AX) | BIT(DX)},
        {"c32: cwde", FAM_NONE, 4, 1, 0x98, 0, 0xFF, E_NONE, 0, GEN_ACC, FF_NOMODRM, BIT(AX)},
        {"c32: cwd", FAM_NONE, 2, 1, 0x99, 0, 0xFF, E_NONE, 0, GEN_ACC, FF_NOMODRM,
         BIT(AX) | BIT(DX)},
        {"c32: lahf", FAM_NONE, 4, 1, 0x9F, 0, 0xFF, E_NONE, 0, GEN_ACC, FF_NOMODRM, BIT(AX)},
        {"c32: xlat", FAM_NONE, 1, 1, 0xD7, 0, 0xFF, E_NONE, 0, GEN_XLAT, FF_NOMODRM,
         BIT(AX) | BIT(3)},
        {"c32: mov AL,moffs32", FAM_NONE, 1, 1, 0xA0, 0, 0xFF, E_NONE, 4, GEN_MOFFS, FF_NOMODRM,
         BIT(AX)},
    };
    for (unsigned k = 0; k < sizeof(more) / sizeof(more[0]); k++) {
        f = form_add(t, more[k].fam, more[k].size, "%s", more[k].name);
        form_opcode(f, more[k].n, more[k].op0, more[k].op1, 0);
        f->ext = more[k].ext == 0xFF ? -1 : (int8_t)more[k].ext;
        f->e = more[k].e;
        f->imm = more[k].imm;
        f->gen = more[k].gen;
        f->flags = (uint16_t)(more[k].flags | FF_COMPAT);
        f->implicit = more[k].implicit;
        if (more[k].fam == FAM_ROT)
            f->sub = 3;
        if (more[k].gen == GEN_ENTER)
            f->sub = 0xFF;
    }

    /* Segment registers: reading selectors, pushing them, and loading DS/ES. */
    static const char *const sreg[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
    static const uint8_t push_op[4] = {0x06, 0x0E, 0x16, 0x1E};
    for (unsigned k = 0; k < 4; k++) {
        f = form_add(t, FAM_NONE, k == 2 ? 2 : 4, "c32: push %s%s", sreg[k], k == 2 ? " 16" : "");
        form_opcode(f, 1, push_op[k], 0, 0);
        f->e = E_NONE;
        f->flags = FF_NOMODRM | FF_COMPAT;
        f->gen = GEN_PUSH_SREG;
        f->implicit = BIT(4);
    }
    static const uint8_t pop_op[2] = {0x07, 0x1F};
    for (unsigned k = 0; k < 2; k++) {
        f = form_add(t, FAM_NONE, 4, "c32: pop %s; mov eax,%s", k ? "ds" : "es", k ? "ds" : "es");
        form_opcode(f, 1, pop_op[k], 0, 0);
        f->e = E_NONE;
        f->flags = FF_NOMODRM | FF_COMPAT;
        f->gen = GEN_SREG_VAL;
        f->implicit = BIT(4) | BIT(AX);
        form_suffix(f, 2, (const uint8_t[]){0x8C, (uint8_t)(0xC0 | ((k ? 3 : 0) << 3))});
    }
    for (unsigned k = 0; k < 2; k++) {
        f = form_add(t, FAM_NONE, 2, "c32: mov %s,Ew; mov eax,%s", k ? "ds" : "es",
                     k ? "ds" : "es");
        form_opcode(f, 1, 0x8E, 0, 0);
        f->ext = (int8_t)(k ? 3 : 0);
        f->e = E_ANY;
        f->flags = FF_COMPAT;
        f->gen = GEN_SREG_VAL;
        f->implicit = BIT(AX);
        form_suffix(f, 2, (const uint8_t[]){0x8C, (uint8_t)(0xC0 | ((k ? 3 : 0) << 3))});
    }
}

/* Segment registers in 64-bit mode: MOV Ev,Sw for all six, PUSH FS/GS. */
void forms_sregs(struct table *t)
{
    static const char *const sreg[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
    static const uint8_t sizes[6] = {8, 4, 2, 4, 8, 4};
    struct form *f;
    for (unsigned k = 0; k < 6; k++) {
        f = form_add(t, FAM_NONE, sizes[k], "mov Ev,%s %u", sreg[k], sizes[k] * 8);
        form_opcode(f, 1, 0x8C, 0, 0);
        f->ext = (int8_t)k;
        f->e = E_ANY;
    }
    for (unsigned k = 0; k < 2; k++) {
        f = form_add(t, FAM_NONE, 8, "push %s", k ? "gs" : "fs");
        form_opcode(f, 2, 0x0F, k ? 0xA8 : 0xA0, 0);
        f->e = E_NONE;
        f->flags = FF_NOMODRM | FF_NOREX_W;
        f->gen = GEN_PUSH_SREG;
        f->implicit = BIT(4);
    }
}
