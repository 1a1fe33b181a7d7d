/*
 * block.c - the decoded-block cache (cpu.md §5.3). A block is up to
 * BLOCK_MAX decoded records from one physical page, keyed by the host
 * address of its first byte and the code size, so aliases and both memory
 * views share it. Each RAM page keeps a bitmap of 128-byte chunks holding
 * decoded code (mem/memory.h); the TLB never grants a fast write to such a
 * page, and a slow write into a marked chunk drops the blocks it hits.
 * Decoding follows direct JMP/CALL into the same page and a RET back behind
 * such a CALL (return prediction, checked at run time), and fuses a final
 * register DEC/CMP/SUB/TEST + Jcc into one record (fused.c).
 */
#include <stdlib.h>

#include "cpu/handlers.h"
#include "mem/memory.h"

#define BLOCK_LIMIT 65536 /* then everything is dropped and decoding starts afresh */
#define HASH_BITS 16

struct page_list {
    const uint8_t *page;
    struct ram_block *ram;
    uint64_t ram_offset;
    struct block *blocks;
    struct page_list *next;
};

struct block_cache {
    struct block *hash[1u << HASH_BITS];
    struct page_list *pages[1u << HASH_BITS];
    struct block *graveyard; /* dropped blocks, freed when no CPU runs them */
    struct cpu **cpus;
    unsigned n_cpus;
    unsigned n_blocks;
    uint64_t generation; /* bumped whenever a block is dropped: links die with it */
};

static unsigned hash_ptr(const void *p, unsigned salt)
{
    uintptr_t v = (uintptr_t)p ^ ((uintptr_t)salt << 3);
    v ^= v >> 17;
    v *= 0x9E3779B97F4A7C15ull;
    return (unsigned)(v >> (64 - HASH_BITS));
}

struct block_cache *block_cache_create(void)
{
    return xcalloc(1, sizeof(struct block_cache));
}

static void free_graveyard(struct block_cache *bc)
{
    while (bc->graveyard) {
        struct block *b = bc->graveyard;
        bc->graveyard = b->hash_next;
        free(b);
    }
}

static void drop_all(struct block_cache *bc)
{
    bc->generation++;
    for (unsigned h = 0; h < (1u << HASH_BITS); h++) {
        for (struct block *b = bc->hash[h], *next; b; b = next) {
            next = b->hash_next;
            free(b);
        }
        bc->hash[h] = NULL;
        for (struct page_list *p = bc->pages[h], *next; p; p = next) {
            next = p->next;
            ram_block_clear_code(p->ram, p->ram_offset, 0x1000);
            free(p);
        }
        bc->pages[h] = NULL;
    }
    bc->n_blocks = 0;
}

void block_cache_free(struct block_cache *bc)
{
    if (!bc)
        return;
    drop_all(bc);
    free_graveyard(bc);
    free(bc->cpus);
    free(bc);
}

void block_cache_register_cpu(struct block_cache *bc, struct cpu *c)
{
    bc->cpus = xrealloc(bc->cpus, (bc->n_cpus + 1) * sizeof(*bc->cpus));
    bc->cpus[bc->n_cpus++] = c;
}

void block_cache_unregister_cpu(struct block_cache *bc, struct cpu *c)
{
    for (unsigned k = 0; k < bc->n_cpus; k++) {
        if (bc->cpus[k] == c) {
            bc->cpus[k] = bc->cpus[--bc->n_cpus];
            return;
        }
    }
}

static struct page_list *page_find(struct block_cache *bc, const uint8_t *page, bool create,
                                   struct ram_block *ram, uint64_t ram_offset)
{
    unsigned h = hash_ptr(page, 0);
    for (struct page_list *p = bc->pages[h]; p; p = p->next)
        if (p->page == page)
            return p;
    if (!create)
        return NULL;
    struct page_list *p = xcalloc(1, sizeof(*p));
    p->page = page;
    p->ram = ram;
    p->ram_offset = ram_offset;
    p->next = bc->pages[h];
    bc->pages[h] = p;
    return p;
}

/* A page just became a code page: no CPU may keep a fast write path to it. */
static void revoke_fast_writes(struct block_cache *bc, struct ram_block *ram, uint64_t page_offset)
{
    for (unsigned k = 0; k < bc->n_cpus; k++) {
        struct tlb *t = &bc->cpus[k]->tlb;
        for (unsigned cls = 0; cls < TLB_CLASSES; cls++)
            for (unsigned e = 0; e < TLB_SIZE; e++)
                if (t->entry[cls][e].block == ram && t->entry[cls][e].block_offset == page_offset)
                    t->entry[cls][e].tag_write = 0;
    }
}

static void unlink_hash(struct block_cache *bc, struct block *b)
{
    struct block **pp = &bc->hash[hash_ptr(b->host, b->code_bits)];
    while (*pp && *pp != b)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = b->hash_next;
}

static bool block_overlaps(const struct block *b, const uint8_t *host, unsigned len)
{
    for (unsigned r = 0; r < b->n_runs; r++) {
        const uint8_t *start = b->page + b->run_start[r];
        if (start < host + len && host < start + b->run_bytes[r])
            return true;
    }
    return false;
}

static void mark_code(const struct block *b)
{
    for (unsigned r = 0; r < b->n_runs; r++)
        ram_block_mark_code(b->ram, b->ram_page_offset + b->run_start[r], b->run_bytes[r]);
}

void block_cache_code_written(struct block_cache *bc, const uint8_t *host, unsigned len)
{
    const uint8_t *first = (const uint8_t *)((uintptr_t)host & ~(uintptr_t)0xFFF);
    const uint8_t *last = (const uint8_t *)((uintptr_t)(host + len - 1) & ~(uintptr_t)0xFFF);
    for (const uint8_t *page = first; page <= last; page += 0x1000) {
        struct page_list *p = page_find(bc, page, false, NULL, 0);
        if (!p)
            continue;
        struct block **pp = &p->blocks;
        while (*pp) {
            struct block *b = *pp;
            if (block_overlaps(b, host, len)) {
                *pp = b->page_next;
                unlink_hash(bc, b);
                bc->generation++;
                b->valid = false;
                b->hash_next = bc->graveyard;
                bc->graveyard = b;
                bc->n_blocks--;
                for (unsigned k = 0; k < bc->n_cpus; k++)
                    if (bc->cpus[k]->cur_block == b)
                        bc->cpus[k]->block_exit = true; /* self-modifying code (cpu.md §5.3) */
                continue;
            }
            pp = &b->page_next;
        }
        /* Re-mark the chunks of the blocks that survive. */
        ram_block_clear_code(p->ram, p->ram_offset, 0x1000);
        for (struct block *b = p->blocks; b; b = b->page_next)
            mark_code(b);
    }
}

/* Does this handler end a block (it may change RIP, mode, CS, paging, IF or
 * raise device events)? */
static bool ends_block(insn_fn fn)
{
    static const insn_fn enders[] = {
        h_jcc_rel, h_jmp_rel, h_call_rel, h_ret, h_ret_Iw, h_jmp_far,
        h_call_far, h_retf, h_retf_Iw, h_iret, h_int3, h_int_Ib, h_into, h_int1, h_loop, h_loope,
        h_loopne, h_jcxz, h_syscall, h_sysret, h_grp5_Ev, h_hlt, h_in_Ib, h_out_Ib, h_in_DX,
        h_out_DX, h_ins, h_outs, h_mov_CdRd, h_mov_DdRd, h_grp6, h_grp7, h_wrmsr, h_rsm, h_sti,
        h_cli, h_popf, h_mov_SwEw, h_pop_sreg, h_lxs, h_xchg_AX_r, h_ud, h_clts, h_bound,
        h_movs, h_cmps, h_stos, h_lods, h_scas,
    };
    for (unsigned k = 0; k < ARRAY_SIZE(enders); k++)
        if (enders[k] == fn)
            return true;
    return false;
}

/* Return addresses (page offsets) of the CALLs folded so far whose RET has
 * not been decoded yet, innermost last: the decoder's return prediction. */
struct ret_prediction {
    uint16_t offset[BLOCK_RUNS];
    unsigned n;
};

/* A direct JMP or CALL whose target lies in the same page, outside the bytes
 * decoded so far, does not end the block: decoding goes on at the target and
 * the record becomes h_jmp_folded / h_call_folded, which check at run time
 * that the target is where the block continues (cpu.md §5.4). A near RET
 * after such a CALL continues at the CALL's return address the same way
 * (h_ret_folded checks the address it pops). `end` is the page offset after
 * the instruction. Returns false if the block ends here. */
static bool fold_transfer(struct block *b, struct insn *i, unsigned end, unsigned code_bits,
                          struct ret_prediction *rp)
{
    int64_t target;
    bool ret = i->fn == h_ret;
    if (i->fn != h_jmp_rel && i->fn != h_call_rel && !ret)
        return false;
    if ((code_bits != 64 || ret) && i->opsize != (code_bits == 64 ? 8 : code_bits / 8))
        return false; /* 66-prefixed: another target width, or a 2-byte RET */
    if (b->n >= BLOCK_MAX || b->n_runs >= BLOCK_RUNS)
        return false;
    if (ret) {
        if (rp->n == 0)
            return false;
        target = rp->offset[rp->n - 1];
    } else {
        target = (int64_t)end + (int64_t)i->imm;
    }
    if (target < 0 || target >= 0x1000)
        return false;
    for (unsigned r = 0; r < b->n_runs; r++)
        if (target >= b->run_start[r] && target < b->run_start[r] + b->run_bytes[r])
            return false; /* a loop: its next pass starts a block of its own */
    if (ret)
        rp->n--;
    else if (i->fn == h_call_rel)
        rp->offset[rp->n++] = (uint16_t)end; /* n < BLOCK_RUNS: one run per folded CALL */
    i->fn = i->fn == h_jmp_rel ? h_jmp_folded : i->fn == h_call_rel ? h_call_folded : h_ret_folded;
    b->run_start[b->n_runs] = (uint16_t)target;
    b->run_bytes[b->n_runs] = 0;
    b->n_runs++;
    return true;
}

/* Undoes fold_transfer() for the block's last record: nothing could be
 * decoded at its target. */
static void unfold_last(struct block *b)
{
    struct insn *last = &b->insn[b->n - 1];
    if (last->fn == h_jmp_folded)
        last->fn = h_jmp_rel;
    else if (last->fn == h_call_folded)
        last->fn = h_call_rel;
    else if (last->fn == h_ret_folded)
        last->fn = h_ret;
    else
        return;
    b->n_runs--;
}

/* A Jcc right after a register DEC, CMP, SUB or TEST merges into that
 * instruction's record (fused.c), which becomes the block's last. Returns
 * true if it did. */
static bool fuse_with_previous(struct block *b, unsigned code_bits)
{
    if (b->n < 2 || b->insn[b->n - 1].fn != h_jcc_rel)
        return false;
    struct insn *jcc = &b->insn[b->n - 1], *first = jcc - 1;
    if (jcc->opsize != (code_bits == 64 ? 8 : code_bits / 8))
        return false;
    if (first->offset + first->len != jcc->offset)
        return false;
    insn_fn fused = fused_handler(first->fn, jcc->op & 15);
    if (!fused)
        return false;
    first->fn = fused;
    first->base = jcc->op & 15;
    first->disp = (int32_t)jcc->imm;
    first->imm2 = first->len;
    first->len = (uint8_t)(first->len + jcc->len);
    b->n--;
    b->fused_last = true;
    return true;
}

/* Fetches instruction bytes through the TLB (may raise #PF or #GP). */
static unsigned fetch_bytes(struct cpu *c, uint64_t la, uint8_t *buf, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        buf[k] = (uint8_t)mem_read_slow(c, la + k, 1, ACC_EXEC, c->cpl == 3);
    return n;
}

/* CS limit check for a fetch of `n` bytes at offset `off` outside 64-bit mode. */
static void check_cs_limit(struct cpu *c, uint64_t off, unsigned n)
{
    if (c->code_bits != 64 && off + n - 1 > c->seg[SEG_CS].limit)
        GP0(c);
}

static int decode_or_fault(struct cpu *c, struct insn *i, const uint8_t *bytes, unsigned avail)
{
    int len = decode_insn(i, bytes, avail, c->code_bits);
    if (len == -1)
        UD(c);
    if (len == -2)
        GP0(c);
    return len;
}

/* Decodes one instruction whose bytes are not in one RAM page (MMIO, page
 * crossing) into the CPU's scratch block; never cached. */
static struct block *decode_scratch(struct cpu *c, uint64_t la)
{
    uint8_t buf[16];
    uint64_t off = c->rip;
    unsigned avail = 0;
    struct block *b = c->scratch;
    int len = 0;
    while (len == 0) {
        if (avail == 15)
            GP0(c);
        check_cs_limit(c, off, avail + 1);
        uint64_t a = la + avail;
        if (!c->long_mode)
            a = (uint32_t)a;
        fetch_bytes(c, a, buf + avail, 1);
        avail++;
        len = decode_or_fault(c, &b->insn[0], buf, avail);
    }
    b->n = 1;
    b->fused_last = false;
    b->valid = true;
    return b;
}

struct block *block_single(struct cpu *c)
{
    return decode_scratch(c, block_rip_linear(c));
}

struct block *block_lookup(struct cpu *c)
{
    struct block_cache *bc = c->blocks;
    uint64_t la = c->code_bits == 64 ? c->rip : (uint32_t)(c->seg[SEG_CS].base + c->rip);
    if (c->code_bits == 64 && (uint64_t)((int64_t)(la << 16) >> 16) != la)
        GP0(c);
    bool user = c->cpl == 3;
    struct tlb_entry *e = &c->tlb.entry[user ? TLB_USER : TLB_SUPERVISOR][(la >> 12) & (TLB_SIZE - 1)];
    if (e->tag_exec != tlb_tag(c, la)) {
        check_cs_limit(c, c->rip, 1);
        e = tlb_fill(c, la, ACC_EXEC, user);
        if (e->tag_exec != tlb_tag(c, la))
            return decode_scratch(c, la); /* MMIO, black hole, unassigned */
    }
    const uint8_t *host = (const uint8_t *)(uintptr_t)(la + e->addend);
    unsigned h = hash_ptr(host, c->code_bits);
    for (struct block *b = bc->hash[h]; b; b = b->hash_next)
        if (b->host == host && b->code_bits == c->code_bits)
            return b;

    free_graveyard(bc);
    if (bc->n_blocks >= BLOCK_LIMIT)
        drop_all(bc);
    /* Decode a new block up to the page end. */
    if (c->code_bits != 64 && c->rip > c->seg[SEG_CS].limit)
        GP0(c);
    struct block *b = xcalloc(1, sizeof(*b));
    unsigned start = (unsigned)(la & 0xFFF);
    unsigned pos = start; /* page offset of the next instruction */
    struct ret_prediction rp = { .n = 0 };
    b->n_runs = 1;
    b->run_start[0] = (uint16_t)start;
    while (b->n < BLOCK_MAX && pos < 0x1000) {
        unsigned avail = 0x1000 - pos;
        if (avail > 15)
            avail = 15;
        if (c->code_bits != 64) {
            /* Bytes up to the CS limit only (RIP of this instruction = rip + pos - start). */
            uint64_t ip = (uint32_t)(c->rip + pos - start);
            uint64_t limit_left = ip > c->seg[SEG_CS].limit ? 0 : c->seg[SEG_CS].limit - ip + 1;
            if (avail > limit_left)
                avail = (unsigned)limit_left;
        }
        struct insn *i = &b->insn[b->n];
        int len = avail ? decode_insn(i, host - start + pos, avail, c->code_bits) : 0;
        if (len <= 0) {
            /* Incomplete at the page end or CS limit, or invalid: let the first
             * instruction fault precisely; otherwise end the block before it. */
            if (b->n == 0) {
                free(b);
                if (len == 0 && avail < 15 && avail == 0x1000 - pos)
                    return decode_scratch(c, la);
                check_cs_limit(c, c->rip, len == 0 ? avail + 1 : 1);
                struct insn probe;
                decode_or_fault(c, &probe, host, avail);
                GP0(c); /* unreachable: decode_or_fault raised */
            }
            break;
        }
        i->offset = (int16_t)(pos - start);
        pos += (unsigned)len;
        b->run_bytes[b->n_runs - 1] = (uint16_t)(pos - b->run_start[b->n_runs - 1]);
        b->n++;
        if (!ends_block(i->fn))
            continue;
        if (fuse_with_previous(b, c->code_bits))
            break;
        if (!fold_transfer(b, i, pos, c->code_bits, &rp))
            break;
        pos = b->run_start[b->n_runs - 1];
    }
    unfold_last(b);
    uint16_t live_at_start = block_drop_dead_flags(b);
    for (unsigned k = 0; k + 1 < b->n; k++)
        b->insn[k].run = threaded_entry(&b->insn[k], c->code_bits);
    /* Pairs of register-only records run as one (alu.c); the second of a pair
     * must not be the last record, which the chain reaches by its own entry. */
    for (unsigned k = 0; k + 2 < b->n;) {
        insn_fn pair = pair_entry(b->insn[k].fn, b->insn[k + 1].fn);
        if (pair) {
            b->insn[k].run = pair;
            k += 2;
        } else {
            k++;
        }
    }
    if (b->n) {
        const struct insn *last = &b->insn[b->n - 1];
        b->insn[b->n - 1].run = t_block_end;
        /* A near direct branch changes RIP only: if it lands on the block's
         * start, the run loop may run the block again without a lookup. */
        b->self_loop = b->fused_last || last->fn == h_jcc_rel || last->fn == h_jmp_rel ||
                       last->fn == h_loop || last->fn == h_loope || last->fn == h_loopne ||
                       last->fn == h_jcxz;
        /* A fused pair whose branch lands on the block's start: its loop entry
         * runs the block again inside the threaded chain. */
        if (b->fused_last && (int64_t)last->offset + last->len + last->disp == 0) {
            struct insn *l = &b->insn[b->n - 1];
            uint16_t reads, writes;
            /* Running the block again, the pair's flags are dead if the block
             * overwrites them before anything could look (liveness.c). */
            bool dead = fused_flag_use(l->fn, &reads, &writes) && !(writes & live_at_start);
            l->run = fused_loop_entry(last->fn, dead);
            l->index = (uint8_t)(b->n + 1);
            b->loop_threaded = true;
        }
    }
    b->host = host;
    b->page = host - start;
    b->code_bits = c->code_bits;
    b->valid = true;
    b->ram = e->block;
    b->ram_page_offset = e->block_offset;
    b->hash_next = bc->hash[h];
    bc->hash[h] = b;
    bc->n_blocks++;
    struct page_list *p = page_find(bc, b->page, true, e->block, e->block_offset);
    b->page_next = p->blocks;
    p->blocks = b;
    bool was_code = ram_block_page_has_code(e->block, e->block_offset);
    mark_code(b);
    if (!was_code)
        revoke_fast_writes(bc, e->block, e->block_offset);
    return b;
}

struct block *block_scratch_create(void)
{
    return xcalloc(1, sizeof(struct block));
}

const uint64_t *block_cache_generation(const struct block_cache *bc)
{
    return &bc->generation;
}

struct block *block_next(struct cpu *c, struct block *prev)
{
    if (!prev || prev == c->scratch)
        return block_lookup(c);
    struct block *n = block_chained(c, prev);
    if (n)
        return n;
    struct block_cache *bc = c->blocks;
    uint64_t gen = bc->generation;
    uint64_t la = block_rip_linear(c);
    n = block_lookup(c);
    if (n != c->scratch && gen == bc->generation) {
        unsigned k = prev->link_next;
        prev->link_next ^= 1;
        prev->link[k] = n;
        prev->link_la[k] = la;
        prev->link_gen[k] = bc->generation;
        prev->link_key[k] = block_link_key(c);
    }
    return n;
}
