/*
 * forms.c - the form table: the arithmetic, logic, shift and bit-operation
 * forms (the rest are in forms_more.c), and, in one place for all forms, the
 * flags the SDM leaves undefined (SDM Vol. 2, the "Flags Affected"
 * paragraph of each instruction). What smmvm computes for those
 * flags is listed in README.md; --report-undefined shows where the host
 * chooses differently.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "forms.h"

struct form *form_add(struct table *t, unsigned fam, unsigned size, const char *fmt, ...)
{
    static struct form overflow; /* absorbs writes past max; forms_build reports it */
    if (t->n >= t->max) {
        t->n++;
        return &overflow;
    }
    struct form *f = &t->f[t->n++];
    memset(f, 0, sizeof(*f));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->name, sizeof(f->name), fmt, ap);
    va_end(ap);
    f->fam = (uint8_t)fam;
    f->size = (uint8_t)size;
    f->msize = (uint8_t)size;
    f->ext = -1;
    f->e = E_REG;
    return f;
}

void form_opcode(struct form *f, unsigned n, unsigned b0, unsigned b1, unsigned b2)
{
    f->opc_len = (uint8_t)n;
    f->opc[0] = (uint8_t)b0;
    f->opc[1] = (uint8_t)b1;
    f->opc[2] = (uint8_t)b2;
}

const unsigned form_vsizes[3] = {2, 4, 8};
const char *const form_cc_names[16] = {"o", "no", "b", "ae", "z", "nz", "be", "a",
                                       "s", "ns", "p", "np", "l", "ge", "le", "g"};

static void add_alu(struct table *t)
{
    static const char *const names[8] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
    for (unsigned op = 0; op < 8; op++) {
        const char *nm = names[op];
        unsigned fam = (op == 1 || op == 4 || op == 6) ? FAM_LOGIC : FAM_ARITH;
        uint16_t lockable = op != 7 ? FF_LOCKABLE : 0;
        struct form *f = form_add(t, fam, 1, "%s Eb,Gb", nm);
        form_opcode(f, 1, op * 8, 0, 0);
        f->e = E_ANY;
        f->flags = lockable;
        for (unsigned k = 0; k < 3; k++) {
            f = form_add(t, fam, form_vsizes[k], "%s Ev,Gv r%u", nm, form_vsizes[k] * 8);
            form_opcode(f, 1, op * 8 + 1, 0, 0);
        }
        f = form_add(t, fam, 1, "%s Gb,Eb m8", nm);
        form_opcode(f, 1, op * 8 + 2, 0, 0);
        f->e = E_MEM;
        for (unsigned k = 0; k < 3; k++) {
            f = form_add(t, fam, form_vsizes[k], "%s Gv,Ev m%u", nm, form_vsizes[k] * 8);
            form_opcode(f, 1, op * 8 + 3, 0, 0);
            f->e = E_MEM;
        }
        f = form_add(t, fam, 1, "%s AL,Ib", nm);
        form_opcode(f, 1, op * 8 + 4, 0, 0);
        f->e = E_NONE;
        f->flags = FF_NOMODRM;
        f->imm = 1;
        f->implicit = BIT(AX);
        for (unsigned k = 0; k < 3; k++) {
            f = form_add(t, fam, form_vsizes[k], "%s rAX,Iz %u", nm, form_vsizes[k] * 8);
            form_opcode(f, 1, op * 8 + 5, 0, 0);
            f->e = E_NONE;
            f->flags = FF_NOMODRM;
            f->imm = form_vsizes[k] == 2 ? 2 : 4;
            f->implicit = BIT(AX);
        }
        f = form_add(t, fam, 1, "%s Eb,Ib", nm);
        form_opcode(f, 1, 0x80, 0, 0);
        f->ext = (int8_t)op;
        f->e = E_ANY;
        f->imm = 1;
        f->flags = lockable;
        for (unsigned k = 0; k < 3; k++) {
            f = form_add(t, fam, form_vsizes[k], "%s Ev,Iz %u", nm, form_vsizes[k] * 8);
            form_opcode(f, 1, 0x81, 0, 0);
            f->ext = (int8_t)op;
            f->e = E_ANY;
            f->imm = form_vsizes[k] == 2 ? 2 : 4;
            f->flags = lockable;
        }
        for (unsigned k = 1; k < 3; k++) {
            f = form_add(t, fam, form_vsizes[k], "%s Ev,Ib %u", nm, form_vsizes[k] * 8);
            form_opcode(f, 1, 0x83, 0, 0);
            f->ext = (int8_t)op;
            f->e = E_ANY;
            f->imm = 1;
            f->flags = lockable;
        }
    }
}

static void add_group3(struct table *t)
{
    static const unsigned sizes[4] = {1, 2, 4, 8};
    for (unsigned k = 0; k < 4; k++) {
        unsigned s = sizes[k], o = s == 1 ? 0xF6 : 0xF7, w = s * 8;
        struct form *f = form_add(t, FAM_NONE, s, "not E %u", w);
        form_opcode(f, 1, o, 0, 0);
        f->ext = 2;
        f->e = E_ANY;
        f->flags = FF_LOCKABLE;
        f = form_add(t, FAM_ARITH, s, "neg E %u", w);
        form_opcode(f, 1, o, 0, 0);
        f->ext = 3;
        f->e = E_ANY;
        f->flags = FF_LOCKABLE;
        f = form_add(t, FAM_MUL, s, "mul E %u", w);
        form_opcode(f, 1, o, 0, 0);
        f->ext = 4;
        f->e = E_ANY;
        f->gen = GEN_MUL;
        f->implicit = BIT(AX) | BIT(DX);
        f = form_add(t, FAM_MUL, s, "imul E %u", w);
        form_opcode(f, 1, o, 0, 0);
        f->ext = 5;
        f->e = E_ANY;
        f->gen = GEN_MUL;
        f->implicit = BIT(AX) | BIT(DX);
        f = form_add(t, FAM_DIV, s, "div E %u", w);
        form_opcode(f, 1, o, 0, 0);
        f->ext = 6;
        f->e = E_ANY;
        f->gen = GEN_DIV;
        f->implicit = BIT(AX) | BIT(DX);
        f = form_add(t, FAM_DIV, s, "idiv E %u", w);
        form_opcode(f, 1, o, 0, 0);
        f->ext = 7;
        f->e = E_ANY;
        f->gen = GEN_IDIV;
        f->implicit = BIT(AX) | BIT(DX);
        f = form_add(t, FAM_LOGIC, s, "test E,I %u", w);
        form_opcode(f, 1, o, 0, 0);
        f->ext = 0;
        f->e = E_ANY;
        f->imm = s == 8 ? 4 : s;
        f = form_add(t, FAM_ARITH, s, "inc E %u", w);
        form_opcode(f, 1, s == 1 ? 0xFE : 0xFF, 0, 0);
        f->ext = 0;
        f->e = E_ANY;
        f->flags = FF_LOCKABLE;
        f = form_add(t, FAM_ARITH, s, "dec E %u", w);
        form_opcode(f, 1, s == 1 ? 0xFE : 0xFF, 0, 0);
        f->ext = 1;
        f->e = E_ANY;
        f->flags = FF_LOCKABLE;
    }
    struct form *f = form_add(t, FAM_LOGIC, 1, "test Eb,Ib /1 (alias)");
    form_opcode(f, 1, 0xF6, 0, 0);
    f->ext = 1;
    f->e = E_ANY;
    f->imm = 1;
    f = form_add(t, FAM_LOGIC, 1, "test Eb,Gb");
    form_opcode(f, 1, 0x84, 0, 0);
    f->e = E_ANY;
    for (unsigned k = 0; k < 3; k++) {
        f = form_add(t, FAM_LOGIC, form_vsizes[k], "test Ev,Gv %u", form_vsizes[k] * 8);
        form_opcode(f, 1, 0x85, 0, 0);
        f->e = E_ANY;
    }
    f = form_add(t, FAM_LOGIC, 1, "test AL,Ib");
    form_opcode(f, 1, 0xA8, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM;
    f->imm = 1;
    f->implicit = BIT(AX);
    f = form_add(t, FAM_LOGIC, 8, "test rAX,Iz 64");
    form_opcode(f, 1, 0xA9, 0, 0);
    f->e = E_NONE;
    f->flags = FF_NOMODRM;
    f->imm = 4;
    f->implicit = BIT(AX);
}

static void add_imul(struct table *t)
{
    for (unsigned k = 0; k < 3; k++) {
        unsigned s = form_vsizes[k];
        struct form *f = form_add(t, FAM_MUL, s, "imul Gv,Ev %u", s * 8);
        form_opcode(f, 2, 0x0F, 0xAF, 0);
        f->e = E_ANY;
        f = form_add(t, FAM_MUL, s, "imul Gv,Ev,Iz %u", s * 8);
        form_opcode(f, 1, 0x69, 0, 0);
        f->e = E_ANY;
        f->imm = s == 2 ? 2 : 4;
        f = form_add(t, FAM_MUL, s, "imul Gv,Ev,Ib %u", s * 8);
        form_opcode(f, 1, 0x6B, 0, 0);
        f->e = E_ANY;
        f->imm = 1;
    }
}

static void add_shifts(struct table *t)
{
    static const char *const names[8] = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"};
    static const unsigned sizes[4] = {1, 2, 4, 8};
    for (unsigned op = 0; op < 8; op++) {
        if (op == 6)
            continue;
        unsigned fam = op < 4 ? FAM_ROT : FAM_SHIFT;
        for (unsigned k = 0; k < 4; k++) {
            unsigned s = sizes[k], b = s == 1 ? 0 : 1;
            struct form *f = form_add(t, fam, s, "%s E,1 %u", names[op], s * 8);
            form_opcode(f, 1, 0xD0 + b, 0, 0);
            f->ext = (int8_t)op;
            f->sub = (uint8_t)op;
            f->e = E_ANY;
            f = form_add(t, fam, s, "%s E,CL %u", names[op], s * 8);
            form_opcode(f, 1, 0xD2 + b, 0, 0);
            f->ext = (int8_t)op;
            f->sub = (uint8_t)op;
            f->e = E_ANY;
            f->gen = GEN_COUNT_CL;
            f->implicit = BIT(CX);
            f = form_add(t, fam, s, "%s E,Ib %u", names[op], s * 8);
            form_opcode(f, 1, 0xC0 + b, 0, 0);
            f->ext = (int8_t)op;
            f->sub = (uint8_t)op;
            f->e = E_ANY;
            f->imm = 1;
            f->gen = GEN_COUNT_IMM;
        }
    }
    /* /6 is an undocumented alias of SHL on every Intel and AMD CPU. */
    struct form *f = form_add(t, FAM_SHIFT, 4, "sal E,CL /6 32");
    form_opcode(f, 1, 0xD3, 0, 0);
    f->ext = 6;
    f->sub = 4;
    f->e = E_ANY;
    f->gen = GEN_COUNT_CL;
    f->implicit = BIT(CX);
    f = form_add(t, FAM_SHIFT, 1, "sal E,Ib /6 8");
    form_opcode(f, 1, 0xC0, 0, 0);
    f->ext = 6;
    f->sub = 4;
    f->e = E_ANY;
    f->imm = 1;
    f->gen = GEN_COUNT_IMM;

    for (unsigned k = 0; k < 3; k++) {
        unsigned s = form_vsizes[k];
        for (unsigned right = 0; right < 2; right++) {
            const char *nm = right ? "shrd" : "shld";
            unsigned base = right ? 0xAC : 0xA4;
            f = form_add(t, FAM_SHXD, s, "%s Ev,Gv,Ib %u", nm, s * 8);
            form_opcode(f, 2, 0x0F, base, 0);
            f->sub = (uint8_t)right;
            f->e = E_ANY;
            f->imm = 1;
            f->gen = GEN_COUNT_IMM;
            f = form_add(t, FAM_SHXD, s, "%s Ev,Gv,CL %u", nm, s * 8);
            form_opcode(f, 2, 0x0F, base + 1, 0);
            f->sub = (uint8_t)right;
            f->e = E_ANY;
            f->gen = GEN_COUNT_CL;
            f->implicit = BIT(CX);
        }
    }
}

static void add_bits(struct table *t)
{
    static const char *const names[4] = {"bt", "bts", "btr", "btc"};
    static const unsigned reg_op[4] = {0xA3, 0xAB, 0xB3, 0xBB};
    for (unsigned k = 0; k < 3; k++) {
        unsigned s = form_vsizes[k];
        for (unsigned op = 0; op < 4; op++) {
            struct form *f = form_add(t, FAM_BT, s, "%s Ev,Gv %u", names[op], s * 8);
            form_opcode(f, 2, 0x0F, reg_op[op], 0);
            f->e = E_ANY;
            f->gen = GEN_BT_REG;
            f->flags = op ? FF_LOCKABLE : 0;
            f = form_add(t, FAM_BT, s, "%s Ev,Ib %u", names[op], s * 8);
            form_opcode(f, 2, 0x0F, 0xBA, 0);
            f->ext = (int8_t)(4 + op);
            f->e = E_ANY;
            f->imm = 1;
            f->flags = op ? FF_LOCKABLE : 0;
        }
        struct form *f = form_add(t, FAM_BSX, s, "bsf Gv,Ev %u", s * 8);
        form_opcode(f, 2, 0x0F, 0xBC, 0);
        f->e = E_ANY;
        f->gen = GEN_BSX;
        f = form_add(t, FAM_BSX, s, "bsr Gv,Ev %u", s * 8);
        form_opcode(f, 2, 0x0F, 0xBD, 0);
        f->e = E_ANY;
        f->gen = GEN_BSX;
        f = form_add(t, FAM_NONE, s, "popcnt Gv,Ev %u", s * 8);
        form_opcode(f, 2, 0x0F, 0xB8, 0);
        f->e = E_ANY;
        f->flags = FF_F3;
    }
    for (unsigned s = 4; s <= 8; s += 4) {
        struct form *f = form_add(t, FAM_NONE, s, "bswap r%u", s * 8);
        form_opcode(f, 2, 0x0F, 0xC8, 0);
        f->e = E_NONE;
        f->flags = FF_PLUSR | FF_NOMODRM;
    }
}

unsigned forms_build(struct form *out, unsigned max)
{
    struct table t = {out, 0, max};
    add_alu(&t);
    add_group3(&t);
    add_imul(&t);
    add_shifts(&t);
    add_bits(&t);
    forms_moves(&t);
    forms_misc(&t);
    forms_control(&t);
    forms_stack(&t);
    forms_strings(&t);
    forms_faults(&t);
    forms_pairs(&t);
    forms_extra(&t);
    forms_compat(&t);
    forms_sregs(&t);
    if (t.n > max) {
        fprintf(stderr, "diff: %u forms do not fit the table of %u\n", t.n, max);
        return 0;
    }
    return t.n;
}

/*
 * Undefined flags, per SDM Vol. 2 "Flags Affected":
 *   ADD ADC SUB SBB CMP NEG INC DEC XADD CMPXCHG   none
 *   AND OR XOR TEST                                AF
 *   MUL IMUL (all forms)                           SF ZF AF PF
 *   DIV IDIV                                       CF OF SF ZF AF PF
 *   SHL SHR SAR    masked count 0: none (flags unchanged); else AF, OF unless the
 *                  count is 1, CF for SHL/SHR when the count >= operand width
 *   ROL ROR RCL RCR  masked count 0: none; else OF unless the count is 1
 *   SHLD SHRD      count 0: none; else AF, OF unless the count is 1
 *                  (16-bit counts above 16 are not generated: result undefined)
 *   BT BTS BTR BTC                                 OF SF AF PF
 *   BSF BSR                                        CF OF SF AF PF
 *   DAA DAS                                        OF
 *   AAA AAS                                        OF SF ZF PF
 *   AAM AAD                                        OF AF CF
 *   POPCNT, SAHF, LAHF, CLC, STC, CMC, moves       none
 */
bool form_chainable(const struct form *f)
{
    if (f->fam != FAM_ARITH && f->fam != FAM_LOGIC && f->fam != FAM_NONE)
        return false;
    if (f->suffix_len || (f->flags & (FF_REL | FF_LOCK | FF_PAD | FF_F2 | FF_A32 | FF_COMPAT)))
        return false;
    if (f->gen != GEN_PLAIN && f->gen != GEN_CMPXCHG && f->gen != GEN_ACC)
        return false;
    if (f->e == E_MEM && !(f->opc_len == 1 && f->opc[0] == 0x8D))
        return false;                                 /* LEA only: it does not access memory */
    bool lahf = f->opc_len == 1 && f->opc[0] == 0x9F; /* would expose an undefined AF */
    bool pause = (f->flags & FF_F3) && f->opc_len == 1 && f->opc[0] == 0x90;
    bool ud2 = f->opc_len == 2 && f->opc[0] == 0x0F && f->opc[1] == 0x0B;
    return !lahf && !pause && !ud2;
}

uint32_t diff_undefined_flags(const struct form *f, const struct diff_case *k)
{
    if (f->gen == GEN_SEQ)
        return k->seq_undef;
    unsigned bits = f->size * 8;
    unsigned count = k->count & (f->size == 8 ? 63 : 31);
    uint32_t u;
    switch (f->fam) {
    case FAM_LOGIC:
        return RFL_AF;
    case FAM_MUL:
        return RFL_SF | RFL_ZF | RFL_AF | RFL_PF;
    case FAM_DIV:
        return RFL_ARITH;
    case FAM_SHIFT:
        if (count == 0)
            return 0;
        u = RFL_AF | (count != 1 ? RFL_OF : 0);
        if (f->sub != 7 && count >= bits)
            u |= RFL_CF;
        return u;
    case FAM_ROT:
        if (count == 0)
            return 0;
        return count != 1 ? RFL_OF : 0;
    case FAM_SHXD:
        if (count == 0)
            return 0;
        return RFL_AF | (count != 1 ? RFL_OF : 0);
    case FAM_BT:
        return RFL_OF | RFL_SF | RFL_AF | RFL_PF;
    case FAM_BSX:
        return RFL_CF | RFL_OF | RFL_SF | RFL_AF | RFL_PF;
    case FAM_BCD:
        return f->sub == 0   ? RFL_OF
               : f->sub == 1 ? RFL_OF | RFL_SF | RFL_ZF | RFL_PF
                             : RFL_OF | RFL_AF | RFL_CF;
    default:
        return 0;
    }
}
