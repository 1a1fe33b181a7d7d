/*
 * cpu_impl.h - what the interpreter's files share and nobody else sees: the
 * decoded-instruction record, operand and memory-access helpers (the hot
 * paths, inline), flags, faults. Public API: cpu.h.
 */
#ifndef SMMVM_CPU_CPU_IMPL_H
#define SMMVM_CPU_CPU_IMPL_H

#include <string.h>

#include "cpu/cpu.h"
#include "util.h"

struct insn;
typedef void (*insn_fn)(struct cpu *c, const struct insn *i);

/* The decoded record (cpu.md §5.2). Decoding is a pure function of the bytes
 * and the code size; everything else is checked at execution. */
struct insn {
    insn_fn fn;
    insn_fn run;    /* threaded entry (handlers.h): fn, then the next record's run */
    uint64_t imm;   /* first immediate, sign- or zero-extended as the form wants */
    int32_t disp;
    uint16_t imm2;  /* far pointer selector; ENTER nesting level */
    int16_t offset; /* RIP = block RIP + offset (negative after a folded backward JMP) */
    uint8_t len;
    uint8_t op;     /* opcode byte (second byte for 0F xx) */
    uint8_t reg;    /* ModRM.reg with REX.R (handlers index gpr[] with (unsigned)i->reg and
                     * (unsigned)i->rm, the type reg_write() takes, so GCC loads and stores
                     * one register slot instead of computing the index twice) */
    uint8_t rm;     /* ModRM.rm with REX.B: the register when the operand is a register */
    uint8_t base;   /* REG_NONE, a GPR, or REG_RIP */
    uint8_t index;  /* REG_NONE or a GPR */
    uint8_t scale;  /* shift count 0..3 */
    uint8_t seg;    /* effective segment of the memory operand */
    uint8_t opsize; /* 2, 4, 8 bytes (the 'v' size); byte forms are separate handlers */
    uint8_t addrsize; /* 2, 4, 8 */
    uint8_t flags;
    uint8_t exact;  /* 0, or 1 + liveness.c's index of the handler that sets the flags fn drops */
};

#define REG_NONE 0xFF
#define REG_ZERO 0x10 /* gpr[REG_ZERO] is 0: the absent base or index of the legacy MOV forms */
#define REG_RIP  0x11

#define INSN_MEM   0x01 /* the ModRM operand is memory */
#define INSN_REP   0x02 /* F3 */
#define INSN_REPNE 0x04 /* F2 */
#define INSN_LOCK  0x08
#define INSN_REX   0x10 /* any REX prefix: byte registers 4-7 are SPL..DIL */
#define INSN_SEGOV 0x20 /* explicit segment override */
#define INSN_MODRM 0x40

/* Access kinds for translation and faults. */
enum access { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 };

/* ---- faults (except.c) ---- */
_Noreturn void cpu_fault(struct cpu *c, int vector, uint32_t error);
_Noreturn void cpu_fault_noerr(struct cpu *c, int vector);
#define UD(c) cpu_fault_noerr((c), EXC_UD)
#define GP0(c) cpu_fault((c), EXC_GP, 0)
/* Delivery of exceptions and interrupts: soft = INT n / INT3 / INTO (checks
 * gate DPL and pushes next_rip). */
enum intr_kind { INTR_EXCEPTION, INTR_EXTERNAL, INTR_SOFT, INTR_ICEBP };
void cpu_deliver(struct cpu *c, int vector, enum intr_kind kind, bool has_error, uint32_t error);
/* Shuts the CPU down (triple fault, unimplemented architectural state). */
_Noreturn void cpu_shutdown(struct cpu *c, const char *why);
void cpu_guest_error(struct cpu *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Makes c->rip, c->next_rip and c->icount exact for the record the run loop
 * is executing (cpu.c). Cheap, idempotent; called on cold paths only. */
void cpu_sync_rip_slow(struct cpu *c);
/* icount before blk_first in the run of the block going on now. */
static inline uint64_t cpu_blk_icount(const struct cpu *c)
{
    return c->blk_icount + (uint64_t)(c->loop_runs_from - c->loop_runs_left) * c->loop_per_run;
}
static inline void cpu_sync_rip(struct cpu *c)
{
    if (c->cur_insn)
        cpu_sync_rip_slow(c);
}

/* ---- flags (flags.c) ---- */
uint32_t flags_compute_arith(const struct lazy_flags *lf);
bool cpu_cond(struct cpu *c, unsigned cc);
static inline bool parity8(uint64_t v)
{
    return !__builtin_parity((unsigned)(v & 0xFF));
}
/* Every lazy producer stores CF eagerly in lf.carry (one compare, in parallel
 * with the result), so CF readers (ADC, SBB, INC/DEC, JB, RCL) need no switch. */
static inline void lazy_set(struct cpu *c, enum lazy_op op, unsigned bits, uint64_t res,
                            uint64_t a, uint64_t b, bool cf)
{
    c->lf.op = (uint8_t)op;
    c->lf.bits = (uint8_t)bits;
    c->lf.carry = cf;
    c->lf.res = res;
    c->lf.a = a;
    c->lf.b = b;
}
/* AND/OR/XOR/TEST: CF = OF = AF = 0, so the operands are not needed. */
static inline void lazy_set_logic(struct cpu *c, unsigned bits, uint64_t res)
{
    c->lf.op = LF_LOGIC;
    c->lf.bits = (uint8_t)bits;
    c->lf.carry = 0;
    c->lf.res = res;
}
/* CF alone, for a producer whose other flags the block overwrites unseen
 * (liveness.c): CF lives in lf.carry whatever lf.op is, so the other flags
 * stay whatever they were (dead). */
static inline void lazy_set_cf(struct cpu *c, bool cf)
{
    c->lf.carry = cf;
}
/* Materialises the lazy flags into rflags (so single flags can be read or
 * edited there; an edit of CF goes through flags_put_cf()). */
static inline void flags_sync(struct cpu *c)
{
    if (c->lf.op != LF_NONE) {
        c->rflags = (c->rflags & ~(uint64_t)FLAGS_ARITH) | flags_compute_arith(&c->lf);
        c->lf.op = LF_NONE;
    } else {
        c->rflags = (c->rflags & ~(uint64_t)FLAG_CF) | (c->lf.carry ? FLAG_CF : 0);
    }
}
/* Sets CF after flags_sync(), in both places that hold it. */
static inline void flags_put_cf(struct cpu *c, bool cf)
{
    c->lf.carry = cf;
    c->rflags = (c->rflags & ~(uint64_t)FLAG_CF) | (cf ? FLAG_CF : 0);
}
/* CF of a lazy record. */
static inline bool lazy_cf(const struct lazy_flags *lf)
{
    return lf->carry;
}
/* AF of a lazy record: from the operands for arithmetic, 0 after logic and shifts. */
static inline bool lazy_af(const struct lazy_flags *lf)
{
    return lf->op != LF_LOGIC && lf->op != LF_SHIFT && ((lf->a ^ lf->b ^ lf->res) & 0x10);
}
static inline bool get_cf_inline(const struct cpu *c)
{
    return c->lf.carry;
}
static inline bool get_cf(struct cpu *c)
{
    return get_cf_inline(c);
}
/* Sets the six arithmetic flags at once (eager producers: shifts, MUL, BCD). */
static inline void flags_set_arith(struct cpu *c, uint32_t f)
{
    c->lf.op = LF_NONE;
    c->lf.carry = (f & FLAG_CF) != 0;
    c->rflags = (c->rflags & ~(uint64_t)FLAGS_ARITH) | (f & FLAGS_ARITH);
}
static inline uint32_t flags_szp(uint64_t res, unsigned bits)
{
    uint64_t m = bits == 64 ? ~0ull : (1ull << bits) - 1;
    uint32_t f = 0;
    if ((res & m) == 0)
        f |= FLAG_ZF;
    if ((res >> (bits - 1)) & 1)
        f |= FLAG_SF;
    if (parity8(res))
        f |= FLAG_PF;
    return f;
}

/* ---- registers ---- */
static inline uint64_t size_mask(unsigned bytes)
{
    return bytes >= 8 ? ~0ull : (1ull << (bytes * 8)) - 1;
}
static inline uint64_t sext(uint64_t v, unsigned bytes)
{
    unsigned sh = 64 - bytes * 8;
    return bytes >= 8 ? v : (uint64_t)((int64_t)(v << sh) >> sh);
}
static inline uint8_t reg8_read(const struct cpu *c, unsigned r, bool rex)
{
    if (r < 4 || rex)
        return (uint8_t)c->gpr[r];
    return (uint8_t)(c->gpr[r - 4] >> 8);
}
/* Replaces the bits of `mask` in register r with v's (already in place) as
 * one 64-bit store: a later 64-bit load of the register cannot be forwarded
 * from a narrower store and waits for it to retire. The empty asm hides that
 * old is the register's own memory, or GCC turns the merge back into a
 * narrow store. */
static inline void reg_merge(struct cpu *c, unsigned r, uint64_t mask, uint64_t v)
{
    uint64_t old = c->gpr[r];
    __asm__("" : "+r"(old));
    c->gpr[r] = (old & ~mask) | (v & mask);
}
static inline void reg8_write(struct cpu *c, unsigned r, bool rex, uint8_t v)
{
    if (r < 4 || rex)
        reg_merge(c, r, 0xFF, v);
    else
        reg_merge(c, r - 4, 0xFF00, (uint64_t)v << 8);
}
static inline uint64_t reg_read(const struct cpu *c, unsigned r, unsigned size)
{
    return c->gpr[r] & size_mask(size);
}
/* 32-bit writes zero-extend, 16-bit writes merge (SDM Vol. 1, "64-bit mode"). */
static inline void reg_write(struct cpu *c, unsigned r, unsigned size, uint64_t v)
{
    switch (size) {
    case 2: /* bits 63:16 stay */
        reg_merge(c, r, 0xFFFF, v);
        break;
    case 4:
        c->gpr[r] = (uint32_t)v;
        break;
    default:
        c->gpr[r] = v;
        break;
    }
}

/* ---- the eight ALU operations (alu.c, mem_forms.c) ---- */
/* Numbered as ModRM.reg of group 1 and bits 5:3 of opcodes 00-3F. */
enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

/* Result of `a op b` at `size` bytes, and with set_flags its lazy flags.
 * Inlined with a constant op and size into the specialised handlers, where it
 * folds to a few instructions. */
static inline __attribute__((always_inline)) uint64_t alu_compute(struct cpu *c, unsigned op,
                                                                   unsigned size, uint64_t a,
                                                                   uint64_t b, bool set_flags)
{
    uint64_t m = size_mask(size);
    unsigned bits = size * 8;
    uint64_t r;
    a &= m;
    b &= m;
    switch (op) {
    case ALU_ADD:
        r = (a + b) & m;
        if (set_flags)
            lazy_set(c, LF_ADD, bits, r, a, b, r < a);
        return r;
    case ALU_OR:
        r = a | b;
        if (set_flags)
            lazy_set_logic(c, bits, r);
        return r;
    case ALU_ADC: {
        bool carry = get_cf_inline(c);
        r = (a + b + carry) & m;
        if (set_flags)
            lazy_set(c, LF_ADC, bits, r, a, b, carry ? r <= a : r < a);
        return r;
    }
    case ALU_SBB: {
        bool carry = get_cf_inline(c);
        r = (a - b - carry) & m;
        if (set_flags)
            lazy_set(c, LF_SBB, bits, r, a, b, carry ? a <= b : a < b);
        return r;
    }
    case ALU_AND:
        r = a & b;
        if (set_flags)
            lazy_set_logic(c, bits, r);
        return r;
    case ALU_XOR:
        r = a ^ b;
        if (set_flags)
            lazy_set_logic(c, bits, r);
        return r;
    default: /* SUB, CMP */
        r = (a - b) & m;
        if (set_flags)
            lazy_set(c, LF_SUB, bits, r, a, b, a < b);
        return r;
    }
}

/* ---- effective addresses and segmentation (seg.c) ---- */
static inline uint64_t insn_ea(const struct cpu *c, const struct insn *i)
{
    uint64_t ea = (uint64_t)(int64_t)i->disp;
    if (i->base != REG_NONE)
        ea += i->base == REG_RIP ? c->blk_rip + (uint64_t)(int64_t)i->offset + i->len
                                 : c->gpr[i->base];
    if (i->index != REG_NONE)
        ea += c->gpr[i->index] << i->scale;
    return ea & size_mask(i->addrsize);
}
uint64_t seg_linear_slow(struct cpu *c, unsigned seg, uint64_t off, unsigned size,
                         enum access acc);
/* Do the segment checks of an access of `size` bytes at offset `off` (at
 * most 32 bits: 16/32-bit code) pass without the slow path? One compare:
 * seg_refresh() folds the attributes into seg_fast_end. */
static inline bool seg_fast_ok(const struct cpu *c, unsigned seg, uint64_t off, unsigned size,
                               bool write)
{
    return off + size <= c->seg_fast_end[write][seg];
}
/* Linear address of seg:off for an access of `size` bytes; raises #GP/#SS. */
static inline uint64_t seg_linear(struct cpu *c, unsigned seg, uint64_t off, unsigned size,
                                  enum access acc)
{
    if (c->code_bits == 64) {
        uint64_t la = off + ((seg >= SEG_FS) ? c->seg[seg].base : 0);
        if (likely((uint64_t)((int64_t)(la << 16) >> 16) == la))
            return la;
        return seg_linear_slow(c, seg, off, size, acc);
    }
    if (likely(seg_fast_ok(c, seg, off, size, acc == ACC_WRITE)))
        return (uint32_t)(c->seg[seg].base + off);
    return seg_linear_slow(c, seg, off, size, acc);
}
void seg_load(struct cpu *c, unsigned seg, uint16_t selector);
void seg_load_real(struct cpu *c, unsigned seg, uint16_t selector);
/* Recomputes the per-segment fast-path bits after any segment or mode change. */
void seg_refresh(struct cpu *c);
/* Reads an 8-byte descriptor from the GDT/LDT (supervisor access); false if beyond the limit. */
bool desc_read(struct cpu *c, uint16_t selector, uint64_t *desc);
/* desc_read() for a selector that must not be null: #GP(0) if null, #GP(sel) if beyond the table. */
uint64_t desc_fetch(struct cpu *c, uint16_t selector);
void desc_set_accessed(struct cpu *c, uint16_t selector, uint64_t desc);
void seg_from_desc(struct segment *s, uint16_t selector, uint64_t desc);
uint64_t desc_base(uint64_t desc);
uint32_t desc_limit(uint64_t desc);

/* ---- memory (tlb.c, paging.c) ---- */
uint64_t mem_read_slow(struct cpu *c, uint64_t la, unsigned size, enum access acc, bool user);
void mem_write_slow(struct cpu *c, uint64_t la, unsigned size, uint64_t v, bool user);
/* Walks the page tables (paging.c): physical address for la, or #PF. */
uint64_t cpu_translate(struct cpu *c, uint64_t la, enum access acc, bool user, bool *writable,
                       bool *exec_ok, bool *dirty);
/* Translates and fills the TLB; raises #PF. Returns the entry. */
struct tlb_entry *tlb_fill(struct cpu *c, uint64_t la, enum access acc, bool user);
/* Throws #PF unless `la` could be written (used before multi-part writes). */
void mem_probe_write(struct cpu *c, uint64_t la, unsigned size);

/* Guest memory and the register file are accessed with host loads and stores
 * of the guest's little-endian layout. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "smmvm needs a little-endian host");
static inline uint64_t load_host(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1:
        return *p;
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    }
}
static inline void store_host(uint8_t *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1:
        *p = (uint8_t)v;
        break;
    case 2: {
        uint16_t w = (uint16_t)v;
        memcpy(p, &w, 2);
        break;
    }
    case 4: {
        uint32_t w = (uint32_t)v;
        memcpy(p, &w, 4);
        break;
    }
    default:
        memcpy(p, &v, 8);
        break;
    }
}

static inline uint64_t tlb_tag(const struct cpu *c, uint64_t la)
{
    return (la & ~0xFFFull) | c->tlb.epoch;
}

/* The host address of `size` bytes at `la` if the TLB grants the access
 * without the slow path (a hit, inside one page), else NULL. The TLB holds
 * canonical pages only, so a non-canonical address always misses: fast paths
 * built on this need no canonical check of their own. */
static inline __attribute__((always_inline)) bool tlb_host(const struct cpu *c, uint64_t la,
                                                            unsigned size, bool write,
                                                            uint8_t **host)
{
    const struct tlb_entry *e = &c->data_tlb[(la >> 12) & (TLB_SIZE - 1)];
    /* The tag of the last byte's page: an access crossing into the next page misses. */
    if (likely((write ? e->tag_write : e->tag_read) == tlb_tag(c, la + size - 1))) {
        *host = (uint8_t *)(uintptr_t)(la + e->addend);
        return true;
    }
    return false;
}

/* Linear-address loads and stores: TLB hit = host access, nothing else. */
static inline uint64_t lin_read(struct cpu *c, uint64_t la, unsigned size)
{
    struct tlb_entry *e = &c->data_tlb[(la >> 12) & (TLB_SIZE - 1)];
    if (likely(e->tag_read == tlb_tag(c, la + size - 1)))
        return load_host((const uint8_t *)(uintptr_t)(la + e->addend), size);
    return mem_read_slow(c, la, size, ACC_READ, c->cpl == 3);
}
static inline void lin_write(struct cpu *c, uint64_t la, unsigned size, uint64_t v)
{
    struct tlb_entry *e = &c->data_tlb[(la >> 12) & (TLB_SIZE - 1)];
    if (likely(e->tag_write == tlb_tag(c, la + size - 1))) {
        store_host((uint8_t *)(uintptr_t)(la + e->addend), size, v);
        return;
    }
    mem_write_slow(c, la, size, v, c->cpl == 3);
}
/* Supervisor-mode ("implicit") accesses: descriptor tables, TSS, IDT. */
static inline uint64_t sys_read(struct cpu *c, uint64_t la, unsigned size)
{
    return mem_read_slow(c, la, size, ACC_READ, false);
}
static inline void sys_write(struct cpu *c, uint64_t la, unsigned size, uint64_t v)
{
    mem_write_slow(c, la, size, v, false);
}

static inline uint64_t seg_read(struct cpu *c, unsigned seg, uint64_t off, unsigned size)
{
    return lin_read(c, seg_linear(c, seg, off, size, ACC_READ), size);
}
static inline void seg_write(struct cpu *c, unsigned seg, uint64_t off, unsigned size,
                             uint64_t v)
{
    lin_write(c, seg_linear(c, seg, off, size, ACC_WRITE), size, v);
}

/* Read-modify-write instructions whose flags come out of the same computation
 * as the value store it with rmw_store(): a store that faults (read-only or
 * not-present page) leaves RFLAGS as before the instruction, as on hardware. */
struct flags_before {
    struct lazy_flags lf;
    uint64_t rflags;
};
static inline struct flags_before flags_before(const struct cpu *c)
{
    return (struct flags_before){ c->lf, c->rflags };
}
static inline void rmw_store(struct cpu *c, uint64_t la, unsigned size, uint64_t v,
                             const struct flags_before *before)
{
    struct flags_before after = flags_before(c);
    c->lf = before->lf;
    c->rflags = before->rflags;
    lin_write(c, la, size, v);
    c->lf = after.lf;
    c->rflags = after.rflags;
}

/* ModRM operand access: register or memory. The register path is inlined;
 * the memory path is one call (tlb.c), so handlers stay small. */
uint64_t rm_read_mem(struct cpu *c, const struct insn *i, unsigned size);
void rm_write_mem(struct cpu *c, const struct insn *i, unsigned size, uint64_t v);
static inline __attribute__((always_inline)) uint64_t rm_read(struct cpu *c, const struct insn *i,
                                                              unsigned size)
{
    if (likely(!(i->flags & INSN_MEM)))
        return size == 1 ? reg8_read(c, i->rm, i->flags & INSN_REX) : reg_read(c, i->rm, size);
    return rm_read_mem(c, i, size);
}
static inline __attribute__((always_inline)) void rm_write(struct cpu *c, const struct insn *i,
                                                           unsigned size, uint64_t v)
{
    if (likely(!(i->flags & INSN_MEM))) {
        if (size == 1)
            reg8_write(c, i->rm, i->flags & INSN_REX, (uint8_t)v);
        else
            reg_write(c, i->rm, size, v);
        return;
    }
    rm_write_mem(c, i, size, v);
}

/* The destination of a read-modify-write: in memory, its linear address is
 * checked for writing before the value is read, and returned in *la for the
 * store (rmw_store or lin_write); a register destination sets *la to 0. */
static inline uint64_t rmw_load(struct cpu *c, const struct insn *i, unsigned size, uint64_t *la)
{
    if (i->flags & INSN_MEM) {
        *la = seg_linear(c, i->seg, insn_ea(c, i), size, ACC_WRITE);
        return lin_read(c, *la, size);
    }
    *la = 0;
    return rm_read(c, i, size);
}
static inline uint64_t greg_read(const struct cpu *c, const struct insn *i, unsigned size)
{
    return size == 1 ? reg8_read(c, i->reg, i->flags & INSN_REX) : reg_read(c, i->reg, size);
}
static inline void greg_write(struct cpu *c, const struct insn *i, unsigned size, uint64_t v)
{
    if (size == 1)
        reg8_write(c, i->reg, i->flags & INSN_REX, (uint8_t)v);
    else
        reg_write(c, i->reg, size, v);
}

/* INC/DEC of a ModRM operand, shared by groups 4 and 5 (alu.c). */
void alu_inc_dec_rm(struct cpu *c, const struct insn *i, unsigned s, bool dec);

/* ---- stack (stack.c; the inline forms serve the hot handlers) ---- */
void cpu_push(struct cpu *c, unsigned size, uint64_t v);
uint64_t cpu_pop(struct cpu *c, unsigned size);
/* Reads the stack slot `offset` bytes above the current top without popping. */
uint64_t cpu_stack_peek(struct cpu *c, uint64_t offset, unsigned size);
void cpu_stack_adjust(struct cpu *c, int64_t delta);
static inline uint64_t stack_mask(const struct cpu *c)
{
    return c->stack_bits == 64 ? ~0ull : c->stack_bits == 32 ? 0xFFFFFFFFull : 0xFFFFull;
}
/* Writes RSP with the stack-address size: SP only, ESP zero-extended, or RSP. */
static inline void stack_set_sp(struct cpu *c, uint64_t sp)
{
    switch (c->stack_bits) {
    case 16:
        c->gpr[R_SP] = (c->gpr[R_SP] & ~0xFFFFull) | (sp & 0xFFFF);
        break;
    case 32:
        c->gpr[R_SP] = (uint32_t)sp;
        break;
    default:
        c->gpr[R_SP] = sp;
        break;
    }
}
/* RSP is committed only after the memory access succeeded, so a faulting
 * push or pop is restartable. */
static inline void stack_push(struct cpu *c, unsigned size, uint64_t v)
{
    uint64_t sp = (c->gpr[R_SP] - size) & stack_mask(c);
    seg_write(c, SEG_SS, sp, size, v);
    stack_set_sp(c, sp);
}
static inline uint64_t stack_peek(struct cpu *c, unsigned size)
{
    return seg_read(c, SEG_SS, c->gpr[R_SP] & stack_mask(c), size);
}
static inline uint64_t stack_pop(struct cpu *c, unsigned size)
{
    uint64_t sp = c->gpr[R_SP] & stack_mask(c);
    uint64_t v = seg_read(c, SEG_SS, sp, size);
    stack_set_sp(c, sp + size);
    return v;
}

/* ---- control flow ---- */
/* Sets RIP for a near transfer: truncated to the operand size outside
 * 64-bit mode, canonical-checked in it (#GP). */
void cpu_jump_near(struct cpu *c, uint64_t target, unsigned opsize);
void cpu_far_jump(struct cpu *c, uint16_t sel, uint64_t off, unsigned opsize, bool call);
void cpu_far_return(struct cpu *c, unsigned opsize, uint16_t pop_extra);
void cpu_iret(struct cpu *c, unsigned opsize);

/* ---- system (system.c) ---- */
void cpu_write_cr0(struct cpu *c, uint64_t v);
void cpu_write_cr3(struct cpu *c, uint64_t v);
void cpu_write_cr4(struct cpu *c, uint64_t v);
bool cpu_write_efer(struct cpu *c, uint64_t v);
uint64_t cpu_tsc(const struct cpu *c);
void cpu_io_check(struct cpu *c, uint16_t port, unsigned size);
uint32_t cpu_port_in(struct cpu *c, uint16_t port, unsigned size);
void cpu_port_out(struct cpu *c, uint16_t port, unsigned size, uint32_t v);
void cpu_cpuid(struct cpu *c);
/* The advertised bits of one feature register (features.def numbering). */
uint32_t cpuid_feature_reg(unsigned which);
/* INIT: reset keeping SMBASE, APIC ID/base, TSC and a pending SMI (cpu.c). */
void cpu_do_init(struct cpu *c);
/* SMM entry (smm.c): writes the state-save map and enters at SMBASE+0x8000. */
void cpu_smm_enter(struct cpu *c);
/* RSM (smm.c): restores the state-save map and leaves SMM. */
void cpu_rsm(struct cpu *c);
void cpu_rdmsr(struct cpu *c);
void cpu_wrmsr(struct cpu *c);
/* Must the data path bypass the TLB (alignment checking on)? */
void cpu_update_data_class(struct cpu *c);

/* ---- decoded blocks (block.c) ---- */
#define BLOCK_MAX 32

/* A decoded block (cpu.md §5.3); the run loop reads it directly. */
#define BLOCK_RUNS 8 /* byte ranges a block may span by following JMP/CALL/RET inside its page */

struct block {
    const uint8_t *host; /* first byte */
    const uint8_t *page; /* host address of its page */
    struct ram_block *ram;
    uint64_t ram_page_offset; /* of the page in `ram` */
    uint16_t run_start[BLOCK_RUNS]; /* page offsets of the bytes decoded, */
    uint16_t run_bytes[BLOCK_RUNS]; /* in order; JMP, CALL and RET start a new run */
    uint8_t n_runs;
    uint8_t code_bits;
    uint8_t n;         /* records */
    bool fused_last;   /* the last record is a fused pair: n + 1 instructions */
    bool self_loop;    /* ends in a near direct branch, so it may be its own successor */
    bool loop_threaded; /* ends in a fused pair branching to its start, whose threaded
                         * entry runs the block again itself (fused.c) */
    bool valid;
    /* Successor cache: valid while the linear address, the cache generation
     * and the context key (TLB epoch, privilege class, code size) are what
     * they were. */
    uint8_t link_next;
    uint32_t link_key[2];
    struct block *link[2];
    uint64_t link_la[2];
    uint64_t link_gen[2];
    struct block *hash_next;
    struct block *page_next;
    struct insn insn[BLOCK_MAX];
};

/* The block at CS:RIP (decoding it if needed); raises #PF/#GP/#UD for the first instruction. */
struct block *block_lookup(struct cpu *c);
/* The block after `prev` (chained when still valid), else block_lookup(). */
struct block *block_next(struct cpu *c, struct block *prev);
struct block *block_scratch_create(void);
/* Bumped whenever a block is dropped: links die with it. */
const uint64_t *block_cache_generation(const struct block_cache *bc);

static inline uint64_t block_rip_linear(const struct cpu *c)
{
    return c->code_bits == 64 ? c->rip : (uint32_t)(c->seg[SEG_CS].base + c->rip);
}
/* What a link depends on besides the address: the TLB epoch (1..4095), the
 * privilege class and the code size. */
static inline uint32_t block_link_key(const struct cpu *c)
{
    return c->tlb.epoch | (uint32_t)(c->cpl == 3) << 12 | (uint32_t)c->code_bits << 13;
}
/* The successor of `prev` at the current CS:RIP if one of its links holds it. */
static inline struct block *block_chained(const struct cpu *c, const struct block *prev)
{
    uint64_t la = block_rip_linear(c);
    uint32_t key = block_link_key(c);
    uint64_t gen = *c->block_generation;
    for (unsigned k = 0; k < 2; k++)
        if (prev->link_la[k] == la && prev->link_key[k] == key && prev->link_gen[k] == gen &&
            prev->link[k])
            return prev->link[k];
    return NULL;
}

/* The single-instruction block at CS:RIP, never fused or cached (block.c). */
struct block *block_single(struct cpu *c);

/* ---- superinstructions (alu.c) ---- */
/* The threaded entry running register-only records `a` and the `b` after it
 * as one, or NULL if the pair has none. */
insn_fn pair_entry(insn_fn a, insn_fn b);
/* Both lists of pairable kinds name the same handlers in the same order (for the unit test). */
bool pair_kinds_agree(void);

/* ---- dead-flag elimination (liveness.c) ---- */
/* Gives every record of a decoded block whose flags the block overwrites
 * unseen the handler without them. */
uint16_t block_drop_dead_flags(struct block *b); /* returns the flags live at its start */
/* The handler that leaves RFLAGS exact: for a run that stops inside a block. */
insn_fn insn_exact_handler(const struct insn *i);

/* ---- decode (decode.c, fused.c) ---- */
/* The handler doing `first` (a register-form handler) and a following Jcc
 * with condition `cc` as one record, or NULL if the pair does not fuse. */
insn_fn fused_handler(insn_fn first, unsigned cc);
/* The threaded entry of fused record `fused` when it branches back to its
 * block's start (a loop that is one block), or NULL; with dead_flags, it
 * does not store its flags when it runs the block again. */
insn_fn fused_loop_entry(insn_fn fused, bool dead_flags);
/* The flags fused record `fn` writes and those it needs from before (faults
 * included); false if fn is not a fused handler. */
bool fused_flag_use(insn_fn fn, uint16_t *reads, uint16_t *writes);
/* Decodes one instruction from `bytes` (at most `avail` valid bytes).
 * Returns the length, 0 if more bytes are needed, or -1 for #UD (and -2
 * for a >15-byte instruction, #GP). */
int decode_insn(struct insn *i, const uint8_t *bytes, unsigned avail, unsigned code_bits);

#endif
