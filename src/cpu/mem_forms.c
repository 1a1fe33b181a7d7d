/*
 * mem_forms.c - decode-time specialisations of the commonest memory-operand
 * forms (cpu.md §5.2): ALU with a memory operand (Ev,Gv  Gv,Ev  Ev,Iz/Ib),
 * one handler per operation and operand size, and MOV between a register and
 * memory in 16- and 32-bit code, one per operand and address size. The
 * generic handlers (alu.c, data.c) remain for every other form; the 64-bit
 * MOV forms are in data.c. Semantics as there: SDM Vol. 2 per instruction.
 */
#include "cpu/handlers.h"

/* [mem] = [mem] op b. The store comes before the flags change, so a store that
 * faults (a read-only page) leaves RFLAGS as it was. */
static inline __attribute__((always_inline)) void alu_to_mem(struct cpu *c,
                                                             const struct insn *i,
                                                             unsigned op, unsigned s,
                                                             uint64_t b)
{
    uint64_t la = seg_linear(c, i->seg, insn_ea(c, i), s, op == ALU_CMP ? ACC_READ : ACC_WRITE);
    uint64_t a = lin_read(c, la, s);
    if (op != ALU_CMP)
        lin_write(c, la, s, alu_compute(c, op, s, a, b, false));
    alu_compute(c, op, s, a, b, true);
}

/* mr: [mem] op= reg (01, 09, ... 39); rm: reg op= [mem] (03, 0B, ... 3B);
 * mi: [mem] op= imm (81, 83). */
#define ALU_MEM_ONE(name, op, bits)                                                                \
    void h_##name##_mr##bits(struct cpu *c, const struct insn *i)                                  \
    {                                                                                              \
        alu_to_mem(c, i, op, bits / 8, c->gpr[(unsigned)i->reg]);                                            \
    }                                                                                              \
    void h_##name##_mi##bits(struct cpu *c, const struct insn *i)                                  \
    {                                                                                              \
        alu_to_mem(c, i, op, bits / 8, i->imm);                                                    \
    }                                                                                              \
    void h_##name##_rm##bits(struct cpu *c, const struct insn *i)                                  \
    {                                                                                              \
        uint64_t b = seg_read(c, i->seg, insn_ea(c, i), bits / 8);                                 \
        uint64_t r = alu_compute(c, op, bits / 8, c->gpr[(unsigned)i->reg], b, true);                        \
        if (op != ALU_CMP)                                                                         \
            reg_write(c, i->reg, bits / 8, r);                                                     \
    }
#define ALU_MEM_SIZES(name, op)                                                                    \
    ALU_MEM_ONE(name, op, 16) ALU_MEM_ONE(name, op, 32) ALU_MEM_ONE(name, op, 64)
ALU_MEM_SIZES(add, ALU_ADD)
ALU_MEM_SIZES(or, ALU_OR)
ALU_MEM_SIZES(adc, ALU_ADC)
ALU_MEM_SIZES(sbb, ALU_SBB)
ALU_MEM_SIZES(and, ALU_AND)
ALU_MEM_SIZES(sub, ALU_SUB)
ALU_MEM_SIZES(xor, ALU_XOR)
ALU_MEM_SIZES(cmp, ALU_CMP)

/* Effective address with 16- or 32-bit addressing (no RIP base outside 64-bit mode). */
static inline __attribute__((always_inline)) uint64_t ea_legacy(const struct cpu *c,
                                                                const struct insn *i,
                                                                unsigned addrsize)
{
    /* (decode.c gives the legacy MOV forms REG_ZERO for an absent register;
     * 16-bit addressing has no scale) */
    uint64_t ea = (uint64_t)(int64_t)i->disp + c->gpr[(unsigned)i->base];
    if (addrsize == 2)
        return (ea + c->gpr[(unsigned)i->index]) & 0xFFFF;
    return (ea + (c->gpr[(unsigned)i->index] << i->scale)) & 0xFFFFFFFF;
}

/* seg_linear() for these forms: never 64-bit mode, and an offset of at most
 * 32 bits cannot wrap in the limit check (a real-mode 64 KiB segment takes the
 * fast path up to offset 0x10000 - size). */
static inline __attribute__((always_inline)) uint64_t la_legacy(struct cpu *c,
                                                                const struct insn *i,
                                                                unsigned addrsize, unsigned size,
                                                                enum access acc)
{
    uint64_t off = ea_legacy(c, i, addrsize);
    if (likely(seg_fast_ok(c, i->seg, off, size, acc == ACC_WRITE)))
        return (uint32_t)(c->seg[i->seg].base + off);
    return seg_linear_slow(c, i->seg, off, size, acc);
}

/* MOV Gv,Ev (8B) and Ev,Gv (89) with a memory operand in 16/32-bit code. */
#define MOV_LEGACY_ONE(bits, abits)                                                                \
    void h_mov_load##bits##_a##abits(struct cpu *c, const struct insn *i)                          \
    {                                                                                              \
        uint64_t la = la_legacy(c, i, abits / 8, bits / 8, ACC_READ);                              \
        reg_write(c, i->reg, bits / 8, lin_read(c, la, bits / 8));                                 \
    }                                                                                              \
    void h_mov_store##bits##_a##abits(struct cpu *c, const struct insn *i)                         \
    {                                                                                              \
        lin_write(c, la_legacy(c, i, abits / 8, bits / 8, ACC_WRITE), bits / 8, c->gpr[(unsigned)i->reg]);  \
    }
MOV_LEGACY_ONE(16, 16)
MOV_LEGACY_ONE(16, 32)
MOV_LEGACY_ONE(32, 16)
MOV_LEGACY_ONE(32, 32)

/* ---- threaded entries: the TLB-hit path inline, everything else (segment
 * checks that fail, misses, MMIO, code pages) through the plain handler. A
 * hit never reaches a device or decoded code, so it cannot stop the block. */

/* Host address of the memory operand if the segment checks pass at once and
 * the TLB grants the access. */
static inline __attribute__((always_inline)) bool operand_host(const struct cpu *c,
                                                               const struct insn *i, unsigned size,
                                                               bool write, uint8_t **host)
{
    uint64_t off = insn_ea(c, i);
    if (c->code_bits == 64) /* canonical or not: tlb_host() misses for the latter */
        return tlb_host(c, off + (i->seg >= SEG_FS ? c->seg[i->seg].base : 0), size, write, host);
    return seg_fast_ok(c, i->seg, off, size, write) &&
           tlb_host(c, (uint32_t)(c->seg[i->seg].base + off), size, write, host);
}

/* The same for the MOV forms' 16/32-bit addressing (la_legacy()'s checks). */
static inline __attribute__((always_inline)) bool legacy_host(const struct cpu *c,
                                                              const struct insn *i,
                                                              unsigned addrsize, unsigned size,
                                                              bool write, uint8_t **host)
{
    uint64_t off = ea_legacy(c, i, addrsize);
    return seg_fast_ok(c, i->seg, off, size, write) &&
           tlb_host(c, (uint32_t)(c->seg[i->seg].base + off), size, write, host);
}

#define ALU_MEM_THREADED_ONE(name, op, bits)                                                       \
    THREADED_HIT(h_##name##_mr##bits, operand_host(c, i, bits / 8, op != ALU_CMP, &p), {          \
        uint64_t r = alu_compute(c, op, bits / 8, load_host(p, bits / 8), c->gpr[(unsigned)i->reg], true);  \
        if (op != ALU_CMP)                                                                         \
            store_host(p, bits / 8, r);                                                            \
    })                                                                                             \
    THREADED_HIT(h_##name##_mi##bits, operand_host(c, i, bits / 8, op != ALU_CMP, &p), {          \
        uint64_t r = alu_compute(c, op, bits / 8, load_host(p, bits / 8), i->imm, true);          \
        if (op != ALU_CMP)                                                                         \
            store_host(p, bits / 8, r);                                                            \
    })                                                                                             \
    THREADED_HIT(h_##name##_rm##bits, operand_host(c, i, bits / 8, false, &p), {                   \
        uint64_t r = alu_compute(c, op, bits / 8, c->gpr[(unsigned)i->reg], load_host(p, bits / 8), true);  \
        if (op != ALU_CMP)                                                                         \
            reg_write(c, i->reg, bits / 8, r);                                                     \
    })
#define ALU_MEM_THREADED_SIZES(name, op)                                                           \
    ALU_MEM_THREADED_ONE(name, op, 16) ALU_MEM_THREADED_ONE(name, op, 32)                          \
    ALU_MEM_THREADED_ONE(name, op, 64)
ALU_MEM_THREADED_SIZES(add, ALU_ADD)
ALU_MEM_THREADED_SIZES(or, ALU_OR)
ALU_MEM_THREADED_SIZES(adc, ALU_ADC)
ALU_MEM_THREADED_SIZES(sbb, ALU_SBB)
ALU_MEM_THREADED_SIZES(and, ALU_AND)
ALU_MEM_THREADED_SIZES(sub, ALU_SUB)
ALU_MEM_THREADED_SIZES(xor, ALU_XOR)
ALU_MEM_THREADED_SIZES(cmp, ALU_CMP)

#define MOV_LEGACY_THREADED_ONE(bits, abits)                                                       \
    THREADED_HIT(h_mov_load##bits##_a##abits, legacy_host(c, i, abits / 8, bits / 8, false, &p), \
                 reg_write(c, i->reg, bits / 8, load_host(p, bits / 8)))                           \
    THREADED_HIT(h_mov_store##bits##_a##abits, legacy_host(c, i, abits / 8, bits / 8, true, &p), \
                 store_host(p, bits / 8, c->gpr[(unsigned)i->reg]))
MOV_LEGACY_THREADED_ONE(16, 16)
MOV_LEGACY_THREADED_ONE(16, 32)
MOV_LEGACY_THREADED_ONE(32, 16)
MOV_LEGACY_THREADED_ONE(32, 32)
