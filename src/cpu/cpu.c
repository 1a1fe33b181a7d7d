/*
 * cpu.c - CPU life cycle and the run loop: power-on/reset/INIT state, event
 * recognition at instruction boundaries, exception unwinding and the
 * double-fault rules (cpu.md §3, §5.4).
 */
#include <stdlib.h>

#include "cpu/handlers.h"
#include "mem/memory.h"

void cpu_init(struct cpu *c, unsigned index, struct block_cache *blocks,
              struct address_space *normal, struct address_space *smm, struct address_space *io)
{
    memset(c, 0, sizeof(*c));
    c->index = index;
    c->apic_id = index;
    c->blocks = blocks;
    c->block_generation = block_cache_generation(blocks);
    c->as_normal = normal;
    c->as_smm = smm ? smm : normal;
    c->as = normal;
    c->io = io;
    c->tlb.epoch = 1;
    c->scratch = block_scratch_create();
    block_cache_register_cpu(blocks, c);
    cpu_reset(c, index == 0);
}

void cpu_destroy(struct cpu *c)
{
    block_cache_unregister_cpu(c->blocks, c);
    free(c->scratch);
    c->scratch = NULL;
}

static void load_reset_segments(struct cpu *c)
{
    for (unsigned s = 0; s < SEG_COUNT; s++)
        c->seg[s] = (struct segment){ 0, 0x0093, 0xFFFF, 0 };
    c->seg[SEG_CS] = (struct segment){ 0xF000, 0x009B, 0xFFFF, 0xFFFF0000 };
    c->ldtr = (struct segment){ 0, 0x0082, 0xFFFF, 0 };
    c->tr = (struct segment){ 0, 0x008B, 0xFFFF, 0 };
    c->gdtr = (struct dtable){ 0, 0xFFFF };
    c->idtr = (struct dtable){ 0, 0xFFFF };
}

/* State shared by reset and INIT (SDM Vol. 3, "Processor State After Reset"). */
static void load_init_state(struct cpu *c)
{
    memset(c->gpr, 0, sizeof(c->gpr));
    c->gpr[R_DX] = (6u << 8) | (0xFu << 4) | 11u; /* processor signature, as CPUID.1:EAX */
    c->rip = 0xFFF0;
    c->lf.op = LF_NONE;
    c->lf.carry = 0;
    c->rflags = 2;
    load_reset_segments(c);
    c->cr0 = 0x60000010;
    c->cr2 = c->cr3 = c->cr4 = c->cr8 = 0;
    c->efer = 0;
    memset(c->dr, 0, sizeof(c->dr));
    c->dr[6] = 0xFFFF0FF0;
    c->dr[7] = 0x400;
    c->interrupt_shadow = false;
    c->nmi_pending = false;
    c->nmi_blocked = false;
    c->in_smm = false;
    c->as = c->as_normal;
    c->star = c->lstar = c->cstar = c->sfmask = c->kernel_gs_base = 0;
    c->a20_mask = ~0ull;
    cpu_tlb_flush(c);
    cpu_update_mode(c);
}

void cpu_do_init(struct cpu *c)
{
    bool bsp = c->apic_base & 0x100;
    load_init_state(c);
    c->init_latched = false;
    apic_reset(c);
    c->state = bsp ? CPU_RUNNING : CPU_WAIT_SIPI;
    c->block_exit = true;
    cpu_yield(c);
}

void cpu_reset(struct cpu *c, bool bsp)
{
    load_init_state(c);
    c->smbase = 0x30000;
    c->smi_pending = false;
    c->init_latched = false;
    c->smi_count = 0;
    c->feature_control = 0;
    c->tsc_offset = 0;
    c->sysenter_cs = c->sysenter_esp = c->sysenter_eip = 0;
    c->pat = 0x0007040600070406ull;
    c->apic_base = 0xFEE00000ull | 0x800 | (bsp ? 0x100 : 0);
    apic_reset(c);
    c->state = bsp ? CPU_RUNNING : CPU_WAIT_SIPI;
}

/* ---- exceptions: the double-fault rules ---- */

static bool contributory(int v)
{
    return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

/* Delivers c->pending_vector; a fault during delivery combines per the SDM
 * table ("Interrupt and Exception Handling", double-fault conditions). */
static void raise_pending(struct cpu *c)
{
    volatile int first = -1;
    for (;;) {
        volatile int vec = c->pending_vector;
        volatile bool has_err = c->pending_has_error;
        volatile uint32_t err = c->pending_error;
        if (first >= 0) {
            if (first == EXC_DF) {
                if (c->log)
                    fprintf(c->log, "[t=%llu cpu%u] cpu: triple fault\n",
                            (unsigned long long)c->icount, c->index);
                c->state = CPU_SHUTDOWN;
                if (c->on_shutdown)
                    c->on_shutdown(c->machine, c, "triple fault");
                return;
            }
            bool df = (contributory(first) && contributory(vec)) ||
                      (first == EXC_PF && (contributory(vec) || vec == EXC_PF));
            if (df) {
                vec = EXC_DF;
                has_err = true;
                err = 0;
            }
        }
        if (setjmp(c->unwind) == 0) {
            cpu_deliver(c, vec, INTR_EXCEPTION, has_err, err);
            return;
        }
        if (c->state == CPU_SHUTDOWN)
            return;
        first = vec;
    }
}

/* ---- events at instruction boundaries (cpu.md §3; platform.md §6.2) ---- */

static inline bool maskable_pending(const struct cpu *c)
{
    return (c->rflags & FLAG_IF) && (c->apic_intr || (c->intr_line && apic_accepts_pic(c)));
}

/* A latched INIT waits for RSM, except under QEMU TCG's semantics (cpu.md §4.6, §4.8). */
static inline bool init_acts_now(const struct cpu *c)
{
    return c->init_latched && (!c->in_smm || c->tcg_smm_compat);
}

static inline bool interrupts_pending(const struct cpu *c)
{
    return c->smi_pending || c->nmi_pending || init_acts_now(c) || maskable_pending(c);
}
/* Takes the highest-priority pending event, if any. Returns true if the CPU
 * can run instructions afterwards. */
static bool take_events(struct cpu *c)
{
    if (c->state == CPU_SHUTDOWN)
        return false;
    if (c->state == CPU_WAIT_SIPI) {
        /* Hardware holds an SMI until a SIPI starts the CPU; QEMU TCG takes
         * it at once, in the reset state (cpu.md §4.6, §4.8). */
        if (!(c->tcg_smm_compat && c->smi_pending))
            return false;
        c->smi_pending = false;
        cpu_smm_enter(c);
        return true;
    }
    if (init_acts_now(c)) {
        cpu_do_init(c);
        return c->state == CPU_RUNNING;
    }
    if (c->smi_pending && !c->in_smm) {
        c->smi_pending = false;
        cpu_smm_enter(c);
        return true;
    }
    if (c->nmi_pending && !c->nmi_blocked) {
        c->nmi_pending = false;
        c->state = CPU_RUNNING;
        cpu_deliver(c, EXC_NMI, INTR_EXTERNAL, false, 0);
        return true;
    }
    if ((c->rflags & FLAG_IF) && c->apic_intr) {
        int vector = apic_pending_vector(c);
        if (vector >= 0) {
            apic_accept(c, vector);
            c->state = CPU_RUNNING;
            cpu_deliver(c, vector, INTR_EXTERNAL, false, 0);
            return true;
        }
    }
    if (c->intr_line && (c->rflags & FLAG_IF) && apic_accepts_pic(c) && c->intr_ack) {
        int vector = c->intr_ack(c->board, c);
        if (vector >= 0) {
            c->state = CPU_RUNNING;
            cpu_deliver(c, vector, INTR_EXTERNAL, false, 0);
            return true;
        }
    }
    return c->state == CPU_RUNNING;
}

void cpu_sync_rip_slow(struct cpu *c)
{
    const struct insn *i = c->cur_insn;
    uint64_t rip = c->blk_rip + (uint64_t)(int64_t)i->offset, next = rip + i->len;
    if (c->code_bits != 64) {
        rip = (uint32_t)rip;
        next = (uint32_t)next;
    }
    c->rip = rip;
    c->next_rip = next;
    c->icount = cpu_blk_icount(c) + (uint64_t)(i - c->blk_first);
}

/* The threaded entry of a handler that may fault, call a device or end the
 * block early: RIP must be recoverable (cur_insn), and the chain stops when
 * it asks to. */
void t_generic(struct cpu *c, const struct insn *i)
{
    c->cur_insn = i;
    i->fn(c, i);
    if (unlikely(c->block_exit))
        return;
    NEXT_RECORD(c, i);
}

void t_block_end(struct cpu *c, const struct insn *i)
{
    (void)i;
    c->cur_insn = NULL;
}

insn_fn threaded_entry(const struct insn *i, unsigned code_bits)
{
    insn_fn fn = i->fn;
    if (fn == h_call_folded || fn == h_ret_folded) { /* block.c folds these sizes only */
        bool call = fn == h_call_folded;
        if (code_bits == 64)
            return call ? t_call_folded_64 : t_ret_folded_64;
        return i->opsize == 4 ? (call ? t_call_folded_32 : t_ret_folded_32)
                              : (call ? t_call_folded_16 : t_ret_folded_16);
    }
#define THREADED_PAIR(name) {name, t_##name},
    static const struct {
        insn_fn fn, run;
    } pairs[] = {THREADED_LIST(THREADED_PAIR)};
#undef THREADED_PAIR
    for (unsigned k = 0; k < ARRAY_SIZE(pairs); k++)
        if (pairs[k].fn == fn)
            return pairs[k].run;
    return t_generic;
}

/* A loop entry (fused.c) runs its block again inside the threaded chain at
 * most this many times before the chain returns here: each run is a tail
 * call at -O2, but a build without sibling-call optimisation (the -O1
 * sanitizer build, -O0) nests a stack frame per record, so the depth must
 * stay bounded. Returning costs one pass through the loop below. */
#define LOOP_RUNS_PER_CHAIN 64u

/* Runs block b whole (no TF, no interrupt shadow, its instructions fit in
 * the budget): the threaded chain up to its last record, then the last record
 * with exact RIP. While the block is its own successor (a loop that fits in
 * one block) and ran to its end, it runs again at once. Returns
 * whether the last run reached the block's end, so its successor may be
 * chained. */
static inline bool run_whole(struct cpu *c, struct block *b, uint64_t end)
{
    const struct insn *insns = b->insn, *last = insns + b->n - 1;
    bool wrap32 = c->code_bits != 64;
    uint64_t start = c->rip;
    c->cur_block = b;
    c->blk_first = insns;
    for (;;) {
        c->block_exit = false;
        uint64_t rip = c->rip;
        c->blk_rip = rip;
        if (b->loop_threaded || last != insns) {
            /* Every record but the last runs with RIP and icount implicit:
             * cpu_sync_rip() recovers both from cur_insn where a fault or a
             * device needs them. No record before the last changes RIP (block
             * enders end blocks), so RIP = block RIP + offset. */
            c->blk_icount = c->icount;
            if (b->loop_threaded) {
                /* Runs that fit in the budget, within the cap (one at least:
                 * the caller checked), less this one. */
                uint64_t per_run = b->n + 1u, fit = end - c->icount;
                fit = fit >= LOOP_RUNS_PER_CHAIN * per_run ? LOOP_RUNS_PER_CHAIN : fit / per_run;
                c->loop_runs_left = c->loop_runs_from = (uint32_t)fit - 1;
                c->loop_per_run = (uint32_t)per_run;
            }
            insns->run(c, insns);
            if (unlikely(c->block_exit)) {
                const struct insn *i = c->cur_insn + 1;
                c->cur_insn = NULL;
                /* (not +=: cpu_sync_rip() may have stored an exact icount meanwhile) */
                c->icount = cpu_blk_icount(c) + (uint64_t)(i - insns);
                c->loop_per_run = 0;
                if (c->block_exit_redirect) {
                    c->block_exit_redirect = false;
                    rip = c->block_exit_rip;
                } else {
                    rip += (uint64_t)(int64_t)i->offset;
                }
                c->rip = wrap32 ? (uint32_t)rip : rip;
                c->cur_block = NULL;
                return false;
            }
            if (b->loop_threaded) { /* its last record ran, looping while it could */
                if (c->rip == start && c->icount + b->n + 1 <= end && !c->yield)
                    continue;
                break;
            }
            c->icount = c->blk_icount + (uint64_t)(b->n - 1);
            rip += (uint64_t)(int64_t)last->offset;
            if (wrap32)
                rip = (uint32_t)rip;
        }
        /* The last record may transfer control: it sees exact state. */
        c->rip = rip;
        uint64_t next = rip + last->len;
        c->next_rip = wrap32 ? (uint32_t)next : next;
        last->fn(c, last);
        c->rip = c->next_rip;
        c->icount++;
        if (unlikely(c->block_exit)) {
            c->cur_block = NULL;
            return false;
        }
        /* Nothing else can have changed: TF, IF, CPL, the code size and the
         * TLB change only in block enders, and an event becomes pending only
         * through a device access, which ends the block (tlb.c); timers are
         * the machine's events, which `end` does not pass. */
        if (!(b->self_loop && c->rip == start && c->icount + b->n + b->fused_last <= end &&
              !c->yield))
            break;
    }
    c->cur_block = NULL;
    return true;
}

/* Runs the first `n` records of b (fewer than a whole run) one by one with
 * their exact handlers: the run stops inside the block, where RFLAGS may be
 * observed (liveness.c). */
static void run_part(struct cpu *c, struct block *b, unsigned n, bool tf)
{
    const struct insn *insns = b->insn;
    c->cur_block = b;
    c->block_exit = false;
    c->tf_suppress = false;
    c->ss_shadow = false;
    uint64_t rip = c->rip;
    bool wrap32 = c->code_bits != 64;
    const struct insn *i = insns, *last = insns + n - 1;
    c->blk_first = insns;
    c->blk_rip = rip;
    if (i < last) {
        c->blk_icount = c->icount;
        do {
            c->cur_insn = i;
            insn_exact_handler(i)(c, i);
            i++;
        } while (i < last && !c->block_exit);
        c->cur_insn = NULL;
        c->icount = c->blk_icount + (uint64_t)(i - insns);
        rip += (uint64_t)(int64_t)i->offset;
        if (wrap32)
            rip = (uint32_t)rip;
        if (unlikely(c->block_exit_redirect)) {
            c->block_exit_redirect = false;
            rip = c->block_exit_rip;
        }
    }
    if (!c->block_exit) {
        c->rip = rip;
        uint64_t next = rip + i->len;
        c->next_rip = wrap32 ? (uint32_t)next : next;
        insn_exact_handler(i)(c, i);
        rip = c->next_rip;
        c->icount++;
    }
    c->rip = rip;
    c->cur_block = NULL;
    if (tf && !c->tf_suppress && !c->ss_shadow && c->state == CPU_RUNNING) {
        c->dr[6] |= 0x4000; /* BS */
        cpu_deliver(c, EXC_DB, INTR_EXCEPTION, false, 0);
    }
}

/* Runs decoded blocks until the quantum ends. Returns at block boundaries only. */
/* Kept out of line: inlined next to setjmp() the compiler keeps its locals in memory. */
__attribute__((noinline)) static void run_blocks(struct cpu *c, uint64_t end)
{
    struct block *prev = NULL;
    while (c->icount < end && !c->yield) {
        bool shadow = c->interrupt_shadow;
        if (unlikely(shadow || c->state != CPU_RUNNING || interrupts_pending(c))) {
            c->interrupt_shadow = false;
            if (!shadow && !take_events(c))
                return;
            if (c->state != CPU_RUNNING)
                return;
        }
        bool tf = c->rflags & FLAG_TF;
        struct block *b = prev ? block_chained(c, prev) : NULL;
        if (!b)
            b = block_next(c, prev);
        unsigned n = b->n;
        uint64_t left = end - c->icount;
        if (likely(n + b->fused_last <= left && !shadow && !tf)) {
            prev = run_whole(c, b, end) ? b : NULL;
            continue;
        }
        if (n > left)
            n = (unsigned)left;
        if (shadow || tf)
            n = 1;
        /* A fused pair runs whole or not at all: stop before it, or run its
         * first instruction alone (cpu.md §5.2). */
        if (b->fused_last && n == b->n && --n == 0) {
            b = block_single(c);
            n = 1;
        }
        run_part(c, b, n, tf);
        /* Chain only after a block that ran to its end without dropping itself. */
        prev = c->block_exit || n < b->n ? NULL : b;
    }
}

void cpu_yield(struct cpu *c)
{
    c->yield = true;
    /* A loop entry running its block again (fused.c) stops at its next
     * back-edge; moving the count's origin along keeps cpu_blk_icount(). */
    c->loop_runs_from -= c->loop_runs_left;
    c->loop_runs_left = 0;
}

uint64_t cpu_run(struct cpu *c, uint64_t max_ticks)
{
    uint64_t start = c->icount;
    uint64_t end = start + max_ticks;
    c->run_start_icount = start;
    c->yield = false;
    for (;;) {
        if (setjmp(c->unwind) == 0) {
            run_blocks(c, end);
            break;
        }
        c->cur_block = NULL;
        c->cur_insn = NULL;
        c->loop_per_run = 0; /* (a fault left a loop's chain) */
        if (c->state == CPU_SHUTDOWN)
            break;
        raise_pending(c);
        if (c->state == CPU_SHUTDOWN)
            break;
        if (c->icount >= end || c->yield)
            break;
    }
    if (c->state == CPU_HALTED || c->state == CPU_SHUTDOWN)
        c->yield = true;
    return c->icount - start;
}

bool cpu_wants_to_run(const struct cpu *c)
{
    if (c->state == CPU_RUNNING)
        return true;
    if (c->state == CPU_HALTED)
        return interrupts_pending(c);
    if (c->state == CPU_WAIT_SIPI)
        return c->tcg_smm_compat && c->smi_pending;
    return false;
}

void cpu_print_registers(struct cpu *c, FILE *out)
{
    uint64_t f = cpu_get_rflags(c);
    static const char *names[16] = { "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
                                     "R8",  "R9",  "R10", "R11", "R12", "R13", "R14", "R15" };
    static const int order[16] = { R_AX, R_BX, R_CX, R_DX, R_SI, R_DI, R_BP, R_SP,
                                   8, 9, 10, 11, 12, 13, 14, 15 };
    fprintf(out, "CPU#%u%s\n", c->index, c->in_smm ? " (SMM)" : "");
    for (int k = 0; k < 16; k++)
        fprintf(out, "%s=%016llx%s", names[k], (unsigned long long)c->gpr[order[k]],
                (k % 4 == 3) ? "\n" : " ");
    fprintf(out, "RIP=%016llx RFL=%08llx CPL=%u %s\n", (unsigned long long)c->rip,
            (unsigned long long)f, c->cpl,
            c->code_bits == 64 ? "64-bit" : c->protected_mode ? (c->code_bits == 32 ? "PM32" : "PM16") : "real");
    static const char *sn[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    for (unsigned s = 0; s < SEG_COUNT; s++)
        fprintf(out, "%s =%04x %016llx %08x %04x\n", sn[s], c->seg[s].selector,
                (unsigned long long)c->seg[s].base, c->seg[s].limit, c->seg[s].attr);
    fprintf(out, "LDT=%04x %016llx %08x %04x\n", c->ldtr.selector,
            (unsigned long long)c->ldtr.base, c->ldtr.limit, c->ldtr.attr);
    fprintf(out, "TR =%04x %016llx %08x %04x\n", c->tr.selector, (unsigned long long)c->tr.base,
            c->tr.limit, c->tr.attr);
    fprintf(out, "GDT=     %016llx %08x\nIDT=     %016llx %08x\n",
            (unsigned long long)c->gdtr.base, c->gdtr.limit, (unsigned long long)c->idtr.base,
            c->idtr.limit);
    fprintf(out, "CR0=%08llx CR2=%016llx CR3=%016llx CR4=%08llx\n", (unsigned long long)c->cr0,
            (unsigned long long)c->cr2, (unsigned long long)c->cr3, (unsigned long long)c->cr4);
    fprintf(out, "EFER=%016llx SMBASE=%08x\n", (unsigned long long)c->efer, c->smbase);
}
