/*
 * forms_more.c - the forms beyond arithmetic, logic and bit operations: data
 * movement, CBW..CQO and the flag instructions, 0x67 addressing, control
 * transfers, the stack, string instructions, faulting forms and the
 * two-instruction flag producer/consumer pairs. forms.c holds the rest and
 * the undefined-flag table.
 */
#include <string.h>

#include "forms.h"

void forms_moves(struct table *t)
{
    struct form *f;
    for (unsigned k = 0; k < 3; k++) {
        unsigned s = form_vsizes[k];
        f = form_add(t, FAM_NONE, s, "movzx Gv,Eb %u", s * 8);
        form_opcode(f, 2, 0x0F, 0xB6, 0);
        f->msize = 1;
        f->e = E_ANY;
        f = form_add(t, FAM_NONE, s, "movsx Gv,Eb %u", s * 8);
        form_opcode(f, 2, 0x0F, 0xBE, 0);
        f->msize = 1;
        f->e = E_ANY;
        if (s == 2)
            continue;
        f = form_add(t, FAM_NONE, s, "movzx Gv,Ew %u", s * 8);
        form_opcode(f, 2, 0x0F, 0xB7, 0);
        f->msize = 2;
        f->e = E_ANY;
        f = form_add(t, FAM_NONE, s, "movsx Gv,Ew %u", s * 8);
        form_opcode(f, 2, 0x0F, 0xBF, 0);
        f->msize = 2;
        f->e = E_ANY;
        f = form_add(t, FAM_NONE, s, "movsxd Gv,Ed %u", s * 8);
        form_opcode(f, 1, 0x63, 0, 0);
        f->msize = 4;
        f->e = E_ANY;
    }
    for (unsigned cc = 0; cc < 16; cc++) {
        f = form_add(t, FAM_NONE, 4, "cmov%s Gv,Ev 32", form_cc_names[cc]);
        form_opcode(f, 2, 0x0F, 0x40 + cc, 0);
        f->e = E_ANY;
        f = form_add(t, FAM_NONE, 1, "set%s Eb", form_cc_names[cc]);
        form_opcode(f, 2, 0x0F, 0x90 + cc, 0);
        f->e = E_ANY;
        f->ext = 0; /* the reg field is ignored; /0 is the documented encoding */
    }
    f = form_add(t, FAM_NONE, 8, "cmovb Gv,Ev 64");
    form_opcode(f, 2, 0x0F, 0x42, 0);
    f->e = E_ANY;
    f = form_add(t, FAM_NONE, 2, "cmovle Gv,Ev 16");
    form_opcode(f, 2, 0x0F, 0x4E, 0);
    f->e = E_ANY;

    f = form_add(t, FAM_NONE, 1, "xchg Eb,Gb");
    form_opcode(f, 1, 0x86, 0, 0);
    f->e = E_ANY;
    f->flags = FF_LOCKABLE;
    for (unsigned k = 0; k < 3; k++) {
        f = form_add(t, FAM_NONE, form_vsizes[k], "xchg Ev,Gv %u", form_vsizes[k] * 8);
        form_opcode(f, 1, 0x87, 0, 0);
        f->e = E_ANY;
        f->flags = FF_LOCKABLE;
    }
    for (unsigned s = 4; s <= 8; s += 4) {
        f = form_add(t, FAM_NONE, s, "xchg rAX,r %u", s * 8);
        form_opcode(f, 1, 0x90, 0, 0);
        f->e = E_NONE;
        f->flags = FF_PLUSR | FF_NOMODRM;
        f->implicit = BIT(AX);
    }
    f = form_add(t, FAM_ARITH, 1, "xadd Eb,Gb");
    form_opcode(f, 2, 0x0F, 0xC0, 0);
    f->e = E_ANY;
    f->flags = FF_LOCKABLE;
    f = form_add(t, FAM_ARITH, 1, "cmpxchg Eb,Gb");
    form_opcode(f, 2, 0x0F, 0xB0, 0);
    f->e = E_ANY;
    f->flags = FF_LOCKABLE;
    f->gen = GEN_CMPXCHG;
    f->implicit = BIT(AX);
    for (unsigned k = 0; k < 3; k++) {
        f = form_add(t, FAM_ARITH, form_vsizes[k], "xadd Ev,Gv %u", form_vsizes[k] * 8);
        form_opcode(f, 2, 0x0F, 0xC1, 0);
        f->e = E_ANY;
        f->flags = FF_LOCKABLE;
        f = form_add(t, FAM_ARITH, form_vsizes[k], "cmpxchg Ev,Gv %u", form_vsizes[k] * 8);
        form_opcode(f, 2, 0x0F, 0xB1, 0);
        f->e = E_ANY;
        f->flags = FF_LOCKABLE;
        f->gen = GEN_CMPXCHG;
        f->implicit = BIT(AX);
        f = form_add(t, FAM_NONE, form_vsizes[k], "lea Gv,M %u", form_vsizes[k] * 8);
        form_opcode(f, 1, 0x8D, 0, 0);
        f->e = E_MEM;
    }
    f = form_add(t, FAM_NONE, 4, "lea Gv,M a32 32");
    form_opcode(f, 1, 0x8D, 0, 0);
    f->e = E_MEM;
    f->flags = FF_A32;
    f = form_add(t, FAM_NONE, 8, "lea Gv,M a32 64");
    form_opcode(f, 1, 0x8D, 0, 0);
    f->e = E_MEM;
    f->flags = FF_A32;

    f = form_add(t, FAM_NONE, 1, "mov Eb,Gb");
    form_opcode(f, 1, 0x88, 0, 0);
    f->e = E_ANY;
    f = form_add(t, FAM_NONE, 8, "mov Ev,Gv 64");
    form_opcode(f, 1, 0x89, 0, 0);
    f->e = E_ANY;
    f = form_add(t, FAM_NONE, 1, "mov Gb,Eb");
    form_opcode(f, 1, 0x8A, 0, 0);
    f->e = E_ANY;
    f = form_add(t, FAM_NONE, 4, "mov Gv,Ev 32");
    form_opcode(f, 1, 0x8B, 0, 0);
    f->e = E_ANY;
    f = form_add(t, FAM_NONE, 2, "mov Gv,Ev 16");
    form_opcode(f, 1, 0x8B, 0, 0);
    f->e = E_ANY;
    f = form_add(t, FAM_NONE, 1, "mov Eb,Ib");
    form_opcode(f, 1, 0xC6, 0, 0);
    f->ext = 0;
    f->e = E_ANY;
    f->imm = 1;
    f = form_add(t, FAM_NONE, 8, "mov Ev,Iz 64");
    form_opcode(f, 1, 0xC7, 0, 0);
    f->ext = 0;
    f->e = E_ANY;
    f->imm = 4;
    f = form_add(t, FAM_NONE, 8, "mov r,Iq 64");
    form_opcode(f, 1, 0xB8, 0, 0);
    f->e = E_NONE;
    f->flags = FF_PLUSR | FF_NOMODRM;
    f->imm = 8;
    f = form_add(t, FAM_NONE, 1, "mov rb,Ib");
    form_opcode(f, 1, 0xB0, 0, 0);
    f->e = E_NONE;
    f->flags = FF_PLUSR | FF_NOMODRM;
    f->imm = 1;
}

void forms_misc(struct table *t)
{
    static const char *const cbw[3] = {"cbw", "cwde", "cdqe"};
    static const char *const cwd[3] = {"cwd", "cdq", "cqo"};
    struct form *f;
    for (unsigned k = 0; k < 3; k++) {
        f = form_add(t, FAM_NONE, form_vsizes[k], "%s", cbw[k]);
        form_opcode(f, 1, 0x98, 0, 0);
        f->e = E_NONE;
        f->flags = FF_NOMODRM;
        f->gen = GEN_ACC;
        f->implicit = BIT(AX);
        f = form_add(t, FAM_NONE, form_vsizes[k], "%s", cwd[k]);
        form_opcode(f, 1, 0x99, 0, 0);
        f->e = E_NONE;
        f->flags = FF_NOMODRM;
        f->gen = GEN_ACC;
        f->implicit = BIT(AX) | BIT(DX);
    }
    static const struct {
        const char *name;
        uint8_t op;
    } one[5] = {{"lahf", 0x9F}, {"sahf", 0x9E}, {"clc", 0xF8}, {"stc", 0xF9}, {"cmc", 0xF5}};
    for (unsigned k = 0; k < 5; k++) {
        f = form_add(t, FAM_NONE, 4, "%s", one[k].name);
        form_opcode(f, 1, one[k].op, 0, 0);
        f->e = E_NONE;
        f->flags = FF_NOMODRM;
        f->gen = GEN_ACC;
        f->implicit = BIT(AX);
    }

    /* 32-bit addressing (0x67) on forms that read, write and read-modify-write memory. */
    f = form_add(t, FAM_ARITH, 4, "add Gv,Ev a32 32");
    form_opcode(f, 1, 0x03, 0, 0);
    f->e = E_MEM;
    f->flags = FF_A32;
    f = form_add(t, FAM_NONE, 8, "mov Ev,Gv a32 64");
    form_opcode(f, 1, 0x89, 0, 0);
    f->e = E_MEM;
    f->flags = FF_A32;
    f = form_add(t, FAM_ARITH, 2, "inc Ev a32 16");
    form_opcode(f, 1, 0xFF, 0, 0);
    f->ext = 0;
    f->e = E_MEM;
    f->flags = FF_A32;
    f = form_add(t, FAM_BT, 4, "bts Ev,Gv a32 32");
    form_opcode(f, 2, 0x0F, 0xAB, 0);
    f->e = E_MEM;
    f->flags = FF_A32;
    f->gen = GEN_BT_REG;
    f = form_add(t, FAM_ARITH, 8, "cmpxchg Ev,Gv a32 64");
    form_opcode(f, 2, 0x0F, 0xB1, 0);
    f->e = E_MEM;
    f->flags = FF_A32;
    f->gen = GEN_CMPXCHG;
    f->implicit = BIT(AX);
}

void forms_control(struct table *t)
{
    struct form *f;
    for (unsigned cc = 0; cc < 16; cc++) {
        f = form_add(t, FAM_NONE, 4, "j%s rel8", form_cc_names[cc]);
        form_opcode(f, 1, 0x70 + cc, 0, 0);
        f->e = E_NONE;
        f->flags = FF_NOMODRM | FF_REL;
        f->imm = 1;
        f->gen = GEN_JCC;
        f = form_add(t, FAM_NONE, 4, "j%s rel32", form_cc_names[cc]);
        form_opcode(f, 2, 0x0F, 0x80 + cc, 0);
        f->e = E_NONE;
        f->flags = FF_NOMODRM | FF_REL;
        f->imm = 4;
        f->gen = GEN_JCC;
    }
    static const struct {
        const char *name;
        uint8_t op, imm, gen;
        uint16_t flags, implicit;
    } rel[9] = {
        {"jmp rel8", 0xEB, 1, GEN_JCC, 0, 0},
        {"jmp rel32", 0xE9, 4, GEN_JCC, 0, 0},
        {"call rel32", 0xE8, 4, GEN_STACK, 0, BIT(4)},
        {"loop rel8", 0xE2, 1, GEN_LOOP, 0, BIT(CX)},
        {"loope rel8", 0xE1, 1, GEN_LOOP, 0, BIT(CX)},
        {"loopne rel8", 0xE0, 1, GEN_LOOP, 0, BIT(CX)},
        {"jrcxz rel8", 0xE3, 1, GEN_LOOP, 0, BIT(CX)},
        {"loop rel8 a32", 0xE2, 1, GEN_LOOP, FF_A32, BIT(CX)},
        {"jecxz rel8 a32", 0xE3, 1, GEN_LOOP, FF_A32, BIT(CX)},
    };
    for (unsigned k = 0; k < 9; k++) {
        f = form_add(t, FAM_NONE, 4, "%s", rel[k].name);
        form_opcode(f, 1, rel[k].op, 0, 0);
        f->e = E_NONE;
        f->flags = (uint16_t)(FF_NOMODRM | FF_REL | rel[k].flags);
        f->imm = rel[k].imm;
        f->gen = rel[k].gen;
        f->implicit = rel[k].implicit;
    }
    f = form_add(t, FAM_NONE, 4, "ret");
    form_opcode(f, 1, 0xC3, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM;
    f->gen = GEN_RET;
    f->implicit = BIT(4);
    f = form_add(t, FAM_NONE, 4, "ret Iw");
    form_opcode(f, 1, 0xC2, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM;
    f->imm = 2;
    f->gen = GEN_RET;
    f->implicit = BIT(4);
    f = form_add(t, FAM_NONE, 8, "jmp Ev 64");
    form_opcode(f, 1, 0xFF, 0, 0);
    f->ext = 4;
    f->e = E_ANY;
    f->flags = FF_NOREX_W;
    f->gen = GEN_INDIRECT;
    f->implicit = BIT(4);
    f = form_add(t, FAM_NONE, 8, "call Ev 64");
    form_opcode(f, 1, 0xFF, 0, 0);
    f->ext = 2;
    f->e = E_ANY;
    f->flags = FF_NOREX_W;
    f->gen = GEN_INDIRECT;
    f->implicit = BIT(4);
}

void forms_stack(struct table *t)
{
    static const struct {
        const char *name;
        uint8_t op, size, imm, ext, e, gen;
        uint16_t flags;
    } st[11] = {
        {"push r64", 0x50, 8, 0, 0, E_NONE, GEN_STACK, FF_PLUSR | FF_NOMODRM},
        {"push r16", 0x50, 2, 0, 0, E_NONE, GEN_STACK, FF_PLUSR | FF_NOMODRM},
        {"pop r64", 0x58, 8, 0, 0, E_NONE, GEN_STACK, FF_PLUSR | FF_NOMODRM},
        {"pop r16", 0x58, 2, 0, 0, E_NONE, GEN_STACK, FF_PLUSR | FF_NOMODRM},
        {"push Ib", 0x6A, 8, 1, 0, E_NONE, GEN_STACK, FF_NOMODRM},
        {"push Iz", 0x68, 8, 4, 0, E_NONE, GEN_STACK, FF_NOMODRM},
        {"push Ev 64", 0xFF, 8, 0, 6, E_ANY, GEN_STACK, 0},
        {"pop Ev 64", 0x8F, 8, 0, 0, E_ANY, GEN_STACK, 0},
        {"pushfq", 0x9C, 8, 0, 0, E_NONE, GEN_STACK, FF_NOMODRM},
        {"popfq", 0x9D, 8, 0, 0, E_NONE, GEN_POPF, FF_NOMODRM},
        {"leave", 0xC9, 8, 0, 0, E_NONE, GEN_LEAVE, FF_NOMODRM},
    };
    for (unsigned k = 0; k < 11; k++) {
        struct form *f = form_add(t, FAM_NONE, st[k].size, "%s", st[k].name);
        form_opcode(f, 1, st[k].op, 0, 0);
        f->e = st[k].e;
        f->ext = st[k].e == E_NONE ? -1 : (int8_t)st[k].ext;
        f->flags = (uint16_t)(st[k].flags | FF_NOREX_W);
        f->imm = st[k].imm;
        f->gen = st[k].gen;
        f->implicit = st[k].gen == GEN_LEAVE ? (BIT(4) | BIT(5)) : BIT(4);
    }
}

void forms_strings(struct table *t)
{
    static const struct {
        const char *name;
        uint8_t op, size, fam;
        uint16_t flags;
    } str[21] = {
        {"movsb", 0xA4, 1, FAM_NONE, 0},
        {"movsq", 0xA5, 8, FAM_NONE, 0},
        {"stosb", 0xAA, 1, FAM_NONE, 0},
        {"stosd", 0xAB, 4, FAM_NONE, 0},
        {"lodsb", 0xAC, 1, FAM_NONE, 0},
        {"lodsq", 0xAD, 8, FAM_NONE, 0},
        {"scasb", 0xAE, 1, FAM_ARITH, 0},
        {"scasw", 0xAF, 2, FAM_ARITH, 0},
        {"cmpsb", 0xA6, 1, FAM_ARITH, 0},
        {"cmpsd", 0xA7, 4, FAM_ARITH, 0},
        {"rep movsb", 0xA4, 1, FAM_NONE, FF_F3},
        {"rep movsq", 0xA5, 8, FAM_NONE, FF_F3},
        {"rep stosb", 0xAA, 1, FAM_NONE, FF_F3},
        {"rep stosd", 0xAB, 4, FAM_NONE, FF_F3},
        {"rep lodsb", 0xAC, 1, FAM_NONE, FF_F3},
        {"repe cmpsb", 0xA6, 1, FAM_ARITH, FF_F3},
        {"repne cmpsd", 0xA7, 4, FAM_ARITH, FF_F2},
        {"repe scasw", 0xAF, 2, FAM_ARITH, FF_F3},
        {"repne scasb", 0xAE, 1, FAM_ARITH, FF_F2},
        {"rep movsd a32", 0xA5, 4, FAM_NONE, FF_F3 | FF_A32},
        {"repne scasq a32", 0xAF, 8, FAM_ARITH, FF_F2 | FF_A32},
    };
    for (unsigned k = 0; k < 21; k++) {
        struct form *f = form_add(t, str[k].fam, str[k].size, "%s", str[k].name);
        form_opcode(f, 1, str[k].op, 0, 0);
        f->e = E_NONE;
        f->flags = (uint16_t)(str[k].flags | FF_NOMODRM);
        f->gen = GEN_STRING;
        f->implicit = BIT(AX) | BIT(CX) | BIT(6) | BIT(7);
    }
}

void forms_faults(struct table *t)
{
    struct form *f = form_add(t, FAM_NONE, 4, "ud2 (#UD)");
    form_opcode(f, 2, 0x0F, 0x0B, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM;
    f = form_add(t, FAM_ARITH, 4, "lock add Ev,Gv reg (#UD)");
    form_opcode(f, 1, 0x01, 0, 0);
    f->flags = FF_LOCK;
    f = form_add(t, FAM_ARITH, 1, "lock cmp Eb,Gb mem (#UD)");
    form_opcode(f, 1, 0x38, 0, 0);
    f->e = E_MEM;
    f->flags = FF_LOCK;
    f = form_add(t, FAM_NONE, 8, "mov Gv,Ev non-canonical (#GP/#SS)");
    form_opcode(f, 1, 0x8B, 0, 0);
    f->e = E_MEM;
    f->gen = GEN_NONCANON;
    f = form_add(t, FAM_ARITH, 4, "add Ev,Gv non-canonical (#GP/#SS)");
    form_opcode(f, 1, 0x01, 0, 0);
    f->e = E_MEM;
    f->gen = GEN_NONCANON;
    f = form_add(t, FAM_NONE, 4, "cmpxchg8b Mq");
    form_opcode(f, 2, 0x0F, 0xC7, 0);
    f->ext = 1;
    f->e = E_MEM;
    f->gen = GEN_CMPXCHG8;
    f->flags = FF_LOCKABLE;
    f->implicit = BIT(AX) | BIT(CX) | BIT(DX) | BIT(3);
    f = form_add(t, FAM_NONE, 8, "cmpxchg16b Mdq");
    form_opcode(f, 2, 0x0F, 0xC7, 0);
    f->ext = 1;
    f->e = E_MEM;
    f->gen = GEN_CMPXCHG8;
    f->flags = FF_LOCKABLE;
    f->implicit = BIT(AX) | BIT(CX) | BIT(DX) | BIT(3);
}

void form_suffix(struct form *f, unsigned n, const uint8_t *bytes)
{
    memcpy(f->suffix, bytes, n);
    f->suffix_len = (uint8_t)n;
}

/* Two-instruction forms: a flag producer, then a consumer that reads the
 * flags the lazy evaluator keeps (cpu.md §5.5: the CMP/SUB fast path of
 * cpu_cond, INC/DEC's saved CF, ADC/SBB carry-in). */
void forms_pairs(struct table *t)
{
    static const unsigned sizes[4] = {1, 2, 4, 8};
    struct form *f;
    for (unsigned cc = 0; cc < 16; cc++) {
        unsigned s = sizes[cc % 4], s2 = sizes[3 - cc % 4];
        /* Every condition at every width: cpu_cond compares the saved CMP operands. */
        for (unsigned k = 0; k < 4; k++) {
            unsigned w = sizes[k];
            f = form_add(t, FAM_ARITH, w, "cmp E,G %u; set%s r11b", w * 8, form_cc_names[cc]);
            form_opcode(f, 1, w == 1 ? 0x38 : 0x39, 0, 0);
            f->e = E_ANY;
            form_suffix(f, 4, (const uint8_t[]){0x41, 0x0F, (uint8_t)(0x90 + cc), 0xC3});
        }
        f = form_add(t, FAM_ARITH, s2, "neg E %u; set%s r11b", s2 * 8, form_cc_names[cc]);
        form_opcode(f, 1, s2 == 1 ? 0xF6 : 0xF7, 0, 0);
        f->ext = 3;
        f->e = E_ANY;
        form_suffix(f, 4, (const uint8_t[]){0x41, 0x0F, (uint8_t)(0x90 + cc), 0xC3});
        f = form_add(t, FAM_ARITH, s, "add E,G %u; set%s r11b", s * 8, form_cc_names[cc]);
        form_opcode(f, 1, s == 1 ? 0x00 : 0x01, 0, 0);
        f->e = E_ANY;
        form_suffix(f, 4, (const uint8_t[]){0x41, 0x0F, (uint8_t)(0x90 + cc), 0xC3});
        f = form_add(t, FAM_ARITH, s2, "sub G,E %u; cmov%s r11,r12", s2 * 8, form_cc_names[cc]);
        form_opcode(f, 1, s2 == 1 ? 0x2A : 0x2B, 0, 0);
        f->e = E_ANY;
        form_suffix(f, 4, (const uint8_t[]){0x4D, 0x0F, (uint8_t)(0x40 + cc), 0xDC});
        f = form_add(t, FAM_ARITH, s, "cmp E,I %u; j%s", s * 8, form_cc_names[cc]);
        form_opcode(f, 1, s == 1 ? 0x80 : 0x81, 0, 0);
        f->ext = 7;
        f->e = E_ANY;
        f->imm = s == 1 ? 1 : s == 2 ? 2 : 4;
        f->flags = FF_SUFFIX_JCC;
        form_suffix(f, 2, (const uint8_t[]){(uint8_t)(0x70 + cc), 0x20});
    }
    static const uint8_t adc[3] = {0x4D, 0x11, 0xE3}, sbb[3] = {0x4D, 0x19, 0xE3};
    static const uint8_t lahf[1] = {0x9F};
    const struct {
        const char *name;
        uint8_t fam, size, op, ext, imm;
        const uint8_t *suf;
        uint8_t suf_len;
    } p[] = {
        {"add E,G 32; adc r11,r12", FAM_ARITH, 4, 0x01, 0xFF, 0, adc, 3},
        {"sub E,G 64; sbb r11,r12", FAM_ARITH, 8, 0x29, 0xFF, 0, sbb, 3},
        {"inc E 32; adc r11,r12", FAM_ARITH, 4, 0xFF, 0, 0, adc, 3},
        {"dec E 8; sbb r11,r12", FAM_ARITH, 1, 0xFE, 1, 0, sbb, 3},
        {"inc E 64; lahf", FAM_ARITH, 8, 0xFF, 0, 0, lahf, 1},
        {"dec E 16; lahf", FAM_ARITH, 2, 0xFF, 1, 0, lahf, 1},
        {"neg E 32; lahf", FAM_ARITH, 4, 0xF7, 3, 0, lahf, 1},
        {"adc E,G 16; lahf", FAM_ARITH, 2, 0x11, 0xFF, 0, lahf, 1},
        {"sbb E,G 8; lahf", FAM_ARITH, 1, 0x18, 0xFF, 0, lahf, 1},
        {"add E,I 8; lahf", FAM_ARITH, 1, 0x80, 0, 1, lahf, 1},
        {"sub E,I 64; lahf", FAM_ARITH, 8, 0x81, 5, 4, lahf, 1},
        {"cmp E,G 32; lahf", FAM_ARITH, 4, 0x39, 0xFF, 0, lahf, 1},
        {"and E,G 64; adc r11,r12", FAM_ARITH, 8, 0x21, 0xFF, 0, adc, 3},
        {"xor E,G 8; sbb r11,r12", FAM_ARITH, 1, 0x30, 0xFF, 0, sbb, 3},
        {"adc E,G 64; sbb r11,r12", FAM_ARITH, 8, 0x11, 0xFF, 0, sbb, 3},
        {"inc E 16; setbe r11b", FAM_ARITH, 2, 0xFF, 0, 0,
         (const uint8_t[]){0x41, 0x0F, 0x96, 0xC3}, 4},
        {"dec E 32; setle r11b", FAM_ARITH, 4, 0xFF, 1, 0,
         (const uint8_t[]){0x41, 0x0F, 0x9E, 0xC3}, 4},
        {"dec E 64; seto r11b", FAM_ARITH, 8, 0xFF, 1, 0, (const uint8_t[]){0x41, 0x0F, 0x90, 0xC3},
         4},
        {"neg E 8; setb r11b", FAM_ARITH, 1, 0xF6, 3, 0, (const uint8_t[]){0x41, 0x0F, 0x92, 0xC3},
         4},
        {"and E,G 32; setle r11b", FAM_LOGIC, 4, 0x21, 0xFF, 0,
         (const uint8_t[]){0x41, 0x0F, 0x9E, 0xC3}, 4},
        {"or E,G 16; setp r11b", FAM_LOGIC, 2, 0x09, 0xFF, 0,
         (const uint8_t[]){0x41, 0x0F, 0x9A, 0xC3}, 4},
        {"test E,G 64; cmovg r11,r12", FAM_LOGIC, 8, 0x85, 0xFF, 0,
         (const uint8_t[]){0x4D, 0x0F, 0x4F, 0xDC}, 4},
        {"xadd E,G 32; seta r11b", FAM_ARITH, 4, 0xC1, 0xFE, 0,
         (const uint8_t[]){0x41, 0x0F, 0x97, 0xC3}, 4},
        {"add E,G 16; jo", FAM_ARITH, 2, 0x01, 0xFF, 0, (const uint8_t[]){0x70, 0x20}, 2},
        {"inc E 8; jle", FAM_ARITH, 1, 0xFE, 0, 0, (const uint8_t[]){0x7E, 0x20}, 2},
        {"sub E,G 32; jbe", FAM_ARITH, 4, 0x29, 0xFF, 0, (const uint8_t[]){0x76, 0x20}, 2},
        {"bt E,G 32; setb r11b", FAM_BT, 4, 0xA3, 0xFD, 0,
         (const uint8_t[]){0x41, 0x0F, 0x92, 0xC3}, 4},
        {"add E,G 64; cmc", FAM_ARITH, 8, 0x01, 0xFF, 0, (const uint8_t[]){0xF5}, 1},
        {"sub E,G 8; stc", FAM_ARITH, 1, 0x28, 0xFF, 0, (const uint8_t[]){0xF9}, 1},
        {"inc E 32; clc", FAM_ARITH, 4, 0xFF, 0, 0, (const uint8_t[]){0xF8}, 1},
        {"dec E 16; cmc", FAM_ARITH, 2, 0xFF, 1, 0, (const uint8_t[]){0xF5}, 1},
        {"adc E,G 32; sahf", FAM_NONE, 4, 0x11, 0xFF, 0, (const uint8_t[]){0x9E}, 1},
        {"xor E,G 64; cmc", FAM_LOGIC, 8, 0x31, 0xFF, 0, (const uint8_t[]){0xF5}, 1},
        {"cmpxchg E,G 32; setl r11b", FAM_ARITH, 4, 0xB1, 0xFE, 0,
         (const uint8_t[]){0x41, 0x0F, 0x9C, 0xC3}, 4},
        {"sub E,G 32; pushfq", FAM_ARITH, 4, 0x29, 0xFF, 0, (const uint8_t[]){0x9C}, 1},
        {"inc E 8; pushfq", FAM_ARITH, 1, 0xFE, 0, 0, (const uint8_t[]){0x9C}, 1},
        /* Pairs fused into one record (fused.c) on registers. */
        {"dec E 32; jnz", FAM_ARITH, 4, 0xFF, 1, 0, (const uint8_t[]){0x75, 0x20}, 2},
        {"dec E 64; jle", FAM_ARITH, 8, 0xFF, 1, 0, (const uint8_t[]){0x7E, 0x20}, 2},
        {"dec E 16; jo", FAM_ARITH, 2, 0xFF, 1, 0, (const uint8_t[]){0x70, 0x20}, 2},
        {"test E,G 16; js", FAM_LOGIC, 2, 0x85, 0xFF, 0, (const uint8_t[]){0x78, 0x20}, 2},
        {"test E,G 32; jp", FAM_LOGIC, 4, 0x85, 0xFF, 0, (const uint8_t[]){0x7A, 0x20}, 2},
        {"test E,I 64; jz", FAM_LOGIC, 8, 0xF7, 0, 4, (const uint8_t[]){0x74, 0x20}, 2},
        {"cmp E,G 64; jl", FAM_ARITH, 8, 0x39, 0xFF, 0, (const uint8_t[]){0x7C, 0x20}, 2},
        {"cmp E,G 16; jg", FAM_ARITH, 2, 0x39, 0xFF, 0, (const uint8_t[]){0x7F, 0x20}, 2},
        {"sub E,I 32; jae", FAM_ARITH, 4, 0x81, 5, 4, (const uint8_t[]){0x73, 0x20}, 2},
        {"sub E,G 64; jns", FAM_ARITH, 8, 0x29, 0xFF, 0, (const uint8_t[]){0x79, 0x20}, 2},
        /* ROL/ROR keep SF ZF AF PF of a lazy producer (LF_ROT). */
        {"add E,G 32; rol r11,1", FAM_ARITH, 4, 0x01, 0xFF, 0, (const uint8_t[]){0x49, 0xD1, 0xC3},
         3},
        {"sub E,G 16; ror r11,1", FAM_ARITH, 2, 0x29, 0xFF, 0, (const uint8_t[]){0x49, 0xD1, 0xCB},
         3},
        {"inc E 8; ror r11,1", FAM_ARITH, 1, 0xFE, 0, 0, (const uint8_t[]){0x49, 0xD1, 0xCB}, 3},
        {"and E,G 64; rol r11,1", FAM_LOGIC, 8, 0x21, 0xFF, 0, (const uint8_t[]){0x49, 0xD1, 0xC3},
         3},
        {"adc E,G 16; rol r11w,1", FAM_ARITH, 2, 0x11, 0xFF, 0,
         (const uint8_t[]){0x66, 0x41, 0xD1, 0xC3}, 4},
        {"dec E 64; ror r11d,1", FAM_ARITH, 8, 0xFF, 1, 0, (const uint8_t[]){0x41, 0xD1, 0xCB}, 3},
    };
    for (unsigned k = 0; k < sizeof(p) / sizeof(p[0]); k++) {
        f = form_add(t, p[k].fam, p[k].size, "%s", p[k].name);
        if (p[k].ext == 0xFE) /* 0F xx Ev,Gv */
            form_opcode(f, 2, 0x0F, p[k].op, 0);
        else if (p[k].ext == 0xFD)
            form_opcode(f, 2, 0x0F, p[k].op, 0);
        else
            form_opcode(f, 1, p[k].op, 0, 0);
        f->ext = p[k].ext >= 0xFD ? -1 : (int8_t)p[k].ext;
        f->e = E_ANY;
        f->imm = p[k].imm;
        f->gen = p[k].ext == 0xFD ? GEN_BT_REG : GEN_PLAIN;
        if (p[k].suf[0] == 0x9C) { /* PUSHFQ: a stack in the scratch area */
            f->gen = GEN_STACK;
            f->implicit = BIT(4);
        }
        if (p[k].op == 0xB1) {
            f->gen = GEN_CMPXCHG;
            f->implicit = BIT(AX);
        }
        if (p[k].suf[0] >= 0x70 && p[k].suf[0] < 0x80)
            f->flags = FF_SUFFIX_JCC;
        form_suffix(f, p[k].suf_len, p[k].suf);
    }
}

/* Data movement and stack forms the tables above do not reach: moffs, XLAT,
 * ENTER, NOP Ev, PAUSE, 16-bit stack operations, more string sizes, padded
 * encodings, and memory operands that must not or must fault. */
void forms_extra(struct table *t)
{
    struct form *f;
    static const struct {
        const char *name;
        uint8_t op, size, imm;
        uint16_t flags;
    } moffs[4] = {
        {"mov AL,moffs64", 0xA0, 1, 8, 0},
        {"mov moffs64,rAX 64", 0xA3, 8, 8, 0},
        {"mov eAX,moffs32 a32", 0xA1, 4, 4, FF_A32},
        {"mov moffs32,AX a32", 0xA3, 2, 4, FF_A32},
    };
    for (unsigned k = 0; k < 4; k++) {
        f = form_add(t, FAM_NONE, moffs[k].size, "%s", moffs[k].name);
        form_opcode(f, 1, moffs[k].op, 0, 0);
        f->e = E_NONE;
        f->flags = (uint16_t)(FF_NOMODRM | moffs[k].flags);
        f->imm = moffs[k].imm;
        f->gen = GEN_MOFFS;
        f->implicit = BIT(AX);
    }
    for (unsigned a = 0; a < 2; a++) {
        f = form_add(t, FAM_NONE, 1, "xlat%s", a ? " a32" : "");
        form_opcode(f, 1, 0xD7, 0, 0);
        f->e = E_NONE;
        f->flags = (uint16_t)(FF_NOMODRM | (a ? FF_A32 : 0));
        f->gen = GEN_XLAT;
        f->implicit = BIT(AX) | BIT(3);
    }
    static const uint8_t levels[3] = {0, 1, 0xFF};
    for (unsigned k = 0; k < 3; k++) {
        f = form_add(t, FAM_NONE, 8, "enter Iw,%s", k == 0 ? "0" : k == 1 ? "1" : "Ib");
        form_opcode(f, 1, 0xC8, 0, 0);
        f->e = E_NONE;
        f->flags = FF_NOMODRM | FF_NOREX_W;
        f->imm = 3;
        f->sub = levels[k];
        f->gen = GEN_ENTER;
        f->implicit = BIT(4) | BIT(5);
    }
    f = form_add(t, FAM_NONE, 4, "nop Ev");
    form_opcode(f, 2, 0x0F, 0x1F, 0);
    f->ext = 0;
    f->e = E_ANY;
    f = form_add(t, FAM_NONE, 4, "nop Ev non-canonical (no access)");
    form_opcode(f, 2, 0x0F, 0x1F, 0);
    f->ext = 0;
    f->e = E_MEM;
    f->gen = GEN_NONCANON;
    f = form_add(t, FAM_NONE, 8, "lea Gv,M non-canonical (no access)");
    form_opcode(f, 1, 0x8D, 0, 0);
    f->e = E_MEM;
    f->gen = GEN_NONCANON;
    f = form_add(t, FAM_NONE, 4, "cmovnz Gv,Ev non-canonical (#GP/#SS)");
    form_opcode(f, 2, 0x0F, 0x45, 0);
    f->e = E_MEM;
    f->gen = GEN_NONCANON;
    f = form_add(t, FAM_NONE, 4, "pause");
    form_opcode(f, 1, 0x90, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM | FF_F3;

    static const struct {
        const char *name;
        uint8_t op, ext, e, imm, gen;
        uint16_t flags;
    } st16[6] = {
        {"push Ev 16", 0xFF, 6, E_ANY, 0, GEN_STACK, 0},
        {"pop Ev 16", 0x8F, 0, E_ANY, 0, GEN_STACK, 0},
        {"push Iw", 0x68, 0, E_NONE, 2, GEN_STACK, FF_NOMODRM},
        {"pushf 16", 0x9C, 0, E_NONE, 0, GEN_STACK, FF_NOMODRM},
        {"popf 16", 0x9D, 0, E_NONE, 0, GEN_POPF, FF_NOMODRM},
        {"leave 16", 0xC9, 0, E_NONE, 0, GEN_LEAVE, FF_NOMODRM},
    };
    for (unsigned k = 0; k < 6; k++) {
        f = form_add(t, FAM_NONE, 2, "%s", st16[k].name);
        form_opcode(f, 1, st16[k].op, 0, 0);
        f->e = st16[k].e;
        f->ext = st16[k].e == E_NONE ? -1 : (int8_t)st16[k].ext;
        f->flags = st16[k].flags;
        f->imm = st16[k].imm;
        f->gen = st16[k].gen;
        f->implicit = st16[k].gen == GEN_LEAVE ? (BIT(4) | BIT(5)) : BIT(4);
    }

    static const struct {
        const char *name;
        uint8_t op, size, fam;
        uint16_t flags;
    } str[7] = {
        {"movsw", 0xA5, 2, FAM_NONE, 0},           {"stosq", 0xAB, 8, FAM_NONE, 0},
        {"lodsw", 0xAD, 2, FAM_NONE, 0},           {"scasd", 0xAF, 4, FAM_ARITH, 0},
        {"cmpsq", 0xA7, 8, FAM_ARITH, 0},          {"rep stosw", 0xAB, 2, FAM_NONE, FF_F3},
        {"repe cmpsq", 0xA7, 8, FAM_ARITH, FF_F3},
    };
    for (unsigned k = 0; k < 7; k++) {
        f = form_add(t, str[k].fam, str[k].size, "%s", str[k].name);
        form_opcode(f, 1, str[k].op, 0, 0);
        f->e = E_NONE;
        f->flags = (uint16_t)(str[k].flags | FF_NOMODRM);
        f->gen = GEN_STRING;
        f->implicit = BIT(AX) | BIT(CX) | BIT(6) | BIT(7);
    }

    /* Self-modifying code: the store rewrites the next instruction's
     * immediate, which sits in the same decoded block (cpu.md §5.3). */
    f = form_add(t, FAM_NONE, 1, "smc: mov [rip],Ib; mov r11b,Ib");
    form_opcode(f, 1, 0xC6, 0, 0);
    f->ext = 0;
    f->e = E_MEM;
    f->imm = 1;
    f->gen = GEN_SMC;
    f->sub = 2;
    form_suffix(f, 3, (const uint8_t[]){0x41, 0xB3, 0x00});
    f = form_add(t, FAM_NONE, 4, "smc: mov [rip],Id; mov r11d,Id");
    form_opcode(f, 1, 0xC7, 0, 0);
    f->ext = 0;
    f->e = E_MEM;
    f->imm = 4;
    f->gen = GEN_SMC;
    f->sub = 2;
    form_suffix(f, 6, (const uint8_t[]){0x41, 0xBB, 0x00, 0x00, 0x00, 0x00});
    f = form_add(t, FAM_ARITH, 1, "smc: add [rip],Gb; add r11d,Id");
    form_opcode(f, 1, 0x00, 0, 0);
    f->e = E_MEM;
    f->gen = GEN_SMC;
    f->sub = 3 + 0; /* the immediate's low byte: 41 81 C3 ii ii ii ii */
    form_suffix(f, 7, (const uint8_t[]){0x41, 0x81, 0xC3, 0x11, 0x22, 0x33, 0x44});

    /* Register-only sequences run as one decoded block: the hot loop's
     * RIP and operand handling across instructions. */
    static const uint8_t seq_len[4] = {3, 5, 8, 8};
    for (unsigned k = 0; k < 4; k++) {
        f = form_add(t, FAM_NONE, 4, "seq: 2..%u instructions%s", seq_len[k], k == 3 ? " (b)" : "");
        f->e = E_NONE;
        f->flags = FF_NOMODRM;
        f->gen = GEN_SEQ;
        f->sub = seq_len[k];
    }

    f = form_add(t, FAM_ARITH, 4, "add Gv,Ev padded to 14..17 bytes");
    form_opcode(f, 1, 0x03, 0, 0);
    f->e = E_ANY;
    f->flags = FF_PAD;
    f = form_add(t, FAM_NONE, 8, "mov r,Iq padded to 14..17 bytes");
    form_opcode(f, 1, 0xB8, 0, 0);
    f->e = E_NONE;
    f->flags = FF_PLUSR | FF_NOMODRM | FF_PAD;
    f->imm = 8;
}
