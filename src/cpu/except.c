/*
 * except.c - exceptions and interrupts: raising a fault (unwinds to the run
 * loop), delivering a vector through the IVT or IDT in every mode, the
 * double-fault rules and shutdown. SDM Vol. 3, "Interrupt and Exception
 * Handling"; cpu.md §3 for priorities and restartability.
 */
#include <stdarg.h>

#include "cpu/cpu_impl.h"

static bool pushes_error_code(int vector)
{
    return vector == EXC_DF || (vector >= EXC_TS && vector <= EXC_PF) || vector == EXC_AC;
}

void cpu_fault(struct cpu *c, int vector, uint32_t error)
{
    cpu_sync_rip(c); /* the faulting instruction's RIP and retired count */
    c->cur_insn = NULL;
    c->pending_vector = vector;
    c->pending_error = error;
    c->pending_has_error = pushes_error_code(vector);
    longjmp(c->unwind, 1);
}

void cpu_fault_noerr(struct cpu *c, int vector)
{
    cpu_fault(c, vector, 0);
}

void cpu_guest_error(struct cpu *c, const char *fmt, ...)
{
    if (!c->log || !c->log_guest_errors)
        return;
    cpu_sync_rip(c);
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->log, "[t=%llu cpu%u] cpu: ", (unsigned long long)c->icount, c->index);
    vfprintf(c->log, fmt, ap);
    fputc('\n', c->log);
    va_end(ap);
}

void cpu_shutdown(struct cpu *c, const char *why)
{
    cpu_sync_rip(c);
    c->cur_insn = NULL;
    c->state = CPU_SHUTDOWN;
    if (c->on_shutdown)
        c->on_shutdown(c->machine, c, why);
    c->pending_vector = -1;
    longjmp(c->unwind, 2);
}

/* Error code for a fault on an IDT entry or a gate's target selector. */
static uint32_t idt_error(int vector, bool ext)
{
    return (uint32_t)(vector * 8 + 2 + (ext ? 1 : 0));
}

static void deliver_real(struct cpu *c, int vector, uint64_t ret_ip)
{
    uint64_t entry = (uint64_t)vector * 4;
    if (entry + 3 > c->idtr.limit)
        cpu_fault(c, EXC_GP, idt_error(vector, false));
    uint32_t ivt = (uint32_t)sys_read(c, (uint32_t)(c->idtr.base + entry), 4);
    cpu_push(c, 2, cpu_get_rflags(c));
    cpu_push(c, 2, c->seg[SEG_CS].selector);
    cpu_push(c, 2, ret_ip);
    c->rflags &= ~(uint64_t)(FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF);
    seg_load_real(c, SEG_CS, (uint16_t)(ivt >> 16));
    c->rip = ivt & 0xFFFF;
    cpu_update_mode(c);
}

/* Reads the stack pointer for privilege level `dpl` (or IST slot) from the TSS. */
static void tss_stack(struct cpu *c, unsigned dpl, unsigned ist, uint16_t *ss, uint64_t *sp)
{
    if (!(c->tr.attr & SEG_ATTR_P))
        cpu_fault(c, EXC_TS, c->tr.selector & ~3u);
    if (c->long_mode) {
        uint64_t off = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * dpl;
        if (off + 7 > c->tr.limit)
            cpu_fault(c, EXC_TS, c->tr.selector & ~3u);
        *sp = sys_read(c, c->tr.base + off, 8);
        *ss = (uint16_t)dpl;
        return;
    }
    bool tss32 = (c->tr.attr & 0x0F) == 0x09 || (c->tr.attr & 0x0F) == 0x0B;
    if (tss32) {
        uint64_t off = 4 + 8 * dpl;
        if (off + 5 > c->tr.limit)
            cpu_fault(c, EXC_TS, c->tr.selector & ~3u);
        *sp = sys_read(c, (uint32_t)(c->tr.base + off), 4);
        *ss = (uint16_t)sys_read(c, (uint32_t)(c->tr.base + off + 4), 2);
    } else {
        uint64_t off = 2 + 4 * dpl;
        if (off + 3 > c->tr.limit)
            cpu_fault(c, EXC_TS, c->tr.selector & ~3u);
        *sp = sys_read(c, (uint32_t)(c->tr.base + off), 2);
        *ss = (uint16_t)sys_read(c, (uint32_t)(c->tr.base + off + 2), 2);
    }
}

/* Writes one value below `sp` on the stack whose segment cache is `s`. */
static uint64_t push_raw(struct cpu *c, const struct segment *s, unsigned stack_bits, uint64_t sp,
                         unsigned size, uint64_t v)
{
    uint64_t m = stack_bits == 64 ? ~0ull : stack_bits == 32 ? 0xFFFFFFFFull : 0xFFFFull;
    sp = (sp - size) & m;
    uint64_t la = stack_bits == 64 ? sp : (uint32_t)(s->base + sp);
    if (stack_bits != 64 && sp + size - 1 > s->limit)
        cpu_fault(c, EXC_SS, 0);
    if (stack_bits == 64 && (uint64_t)((int64_t)(la << 16) >> 16) != la)
        cpu_fault(c, EXC_SS, 0);
    sys_write(c, la, size, v);
    return sp;
}

static void deliver_protected(struct cpu *c, int vector, enum intr_kind kind, bool has_error,
                              uint32_t error, uint64_t ret_ip)
{
    bool ext = kind == INTR_EXCEPTION || kind == INTR_EXTERNAL;
    unsigned entry_size = c->long_mode ? 16 : 8;
    uint64_t entry = (uint64_t)vector * entry_size;
    if (entry + entry_size - 1 > c->idtr.limit)
        cpu_fault(c, EXC_GP, idt_error(vector, ext));
    uint64_t la = c->idtr.base + entry;
    uint64_t lo = sys_read(c, c->long_mode ? la : (uint32_t)la, 8);
    uint64_t hi = c->long_mode ? sys_read(c, la + 8, 8) : 0;
    unsigned type = (lo >> 40) & 0xF, gate_dpl = (lo >> 45) & 3;
    bool valid = c->long_mode ? (type == 0xE || type == 0xF)
                              : (type == 0x6 || type == 0x7 || type == 0xE || type == 0xF);
    if (!c->long_mode && type == 0x5)
        cpu_shutdown(c, "interrupt through a task gate (not modelled)");
    if (!valid)
        cpu_fault(c, EXC_GP, idt_error(vector, ext));
    if ((kind == INTR_SOFT) && gate_dpl < c->cpl)
        cpu_fault(c, EXC_GP, idt_error(vector, false));
    if (!((lo >> 47) & 1))
        cpu_fault(c, EXC_NP, idt_error(vector, ext));
    uint16_t sel = (uint16_t)(lo >> 16);
    uint64_t target = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF0000);
    if (c->long_mode)
        target |= hi << 32;
    unsigned ist = c->long_mode ? (unsigned)((lo >> 32) & 7) : 0;
    bool gate32 = type >= 0xE;

    if ((sel & ~3u) == 0)
        cpu_fault(c, EXC_GP, ext ? 1 : 0);
    uint64_t d;
    if (!desc_read(c, sel, &d))
        cpu_fault(c, EXC_GP, (sel & ~3u) | (ext ? 1 : 0));
    unsigned ctype = (d >> 40) & 0xF, dpl = (d >> 45) & 3;
    if (!((d >> 44) & 1) || !(ctype & 0x8) || dpl > c->cpl)
        cpu_fault(c, EXC_GP, (sel & ~3u) | (ext ? 1 : 0));
    if (!((d >> 47) & 1))
        cpu_fault(c, EXC_NP, (sel & ~3u) | (ext ? 1 : 0));
    if (c->long_mode && (!((d >> 53) & 1) || ((d >> 54) & 1)))
        cpu_fault(c, EXC_GP, (sel & ~3u) | (ext ? 1 : 0)); /* must be a 64-bit code segment */
    bool conforming = ctype & 0x4;
    unsigned new_cpl = conforming ? c->cpl : dpl;
    uint64_t flags = cpu_get_rflags(c);

    struct segment new_ss = c->seg[SEG_SS];
    unsigned stack_bits = c->stack_bits;
    uint64_t sp = c->gpr[R_SP];
    bool inter = new_cpl < c->cpl;
    if (c->long_mode) {
        if (inter || ist) {
            uint16_t unused;
            tss_stack(c, new_cpl, ist, &unused, &sp);
        }
        if (inter) {
            new_ss = (struct segment){ (uint16_t)new_cpl, (uint16_t)(SEG_ATTR_P | SEG_ATTR_S | 0x03 | (new_cpl << 5)), 0xFFFFFFFF, 0 };
        }
        stack_bits = 64;
        sp &= ~15ull;
        if ((uint64_t)((int64_t)(sp << 16) >> 16) != sp)
            cpu_fault(c, EXC_SS, 0);
    } else if (inter) {
        uint16_t ss_sel;
        tss_stack(c, new_cpl, 0, &ss_sel, &sp);
        uint64_t sd;
        if ((ss_sel & ~3u) == 0 || !desc_read(c, ss_sel, &sd))
            cpu_fault(c, EXC_TS, (ss_sel & ~3u) | (ext ? 1 : 0));
        unsigned st = (sd >> 40) & 0xF;
        if ((ss_sel & 3) != new_cpl || ((sd >> 45) & 3) != new_cpl || !((sd >> 44) & 1) ||
            (st & 0x8) || !(st & 0x2))
            cpu_fault(c, EXC_TS, (ss_sel & ~3u) | (ext ? 1 : 0));
        if (!((sd >> 47) & 1))
            cpu_fault(c, EXC_SS, (ss_sel & ~3u) | (ext ? 1 : 0));
        seg_from_desc(&new_ss, ss_sel, sd | (1ull << 40));
        stack_bits = (new_ss.attr & SEG_ATTR_DB) ? 32 : 16;
    }

    unsigned psize = c->long_mode ? 8 : gate32 ? 4 : 2;
    uint64_t nsp = sp;
    if (inter || c->long_mode) { /* 64-bit mode always pushes SS:RSP */
        nsp = push_raw(c, &new_ss, stack_bits, nsp, psize, c->seg[SEG_SS].selector);
        nsp = push_raw(c, &new_ss, stack_bits, nsp, psize, c->gpr[R_SP]);
    }
    nsp = push_raw(c, &new_ss, stack_bits, nsp, psize, flags);
    nsp = push_raw(c, &new_ss, stack_bits, nsp, psize, c->seg[SEG_CS].selector);
    nsp = push_raw(c, &new_ss, stack_bits, nsp, psize, ret_ip);
    if (has_error)
        nsp = push_raw(c, &new_ss, stack_bits, nsp, psize, error);

    /* Commit. */
    if (!c->long_mode && target > desc_limit(d))
        cpu_fault(c, EXC_GP, 0);
    if (inter || c->long_mode)
        c->seg[SEG_SS] = new_ss;
    desc_set_accessed(c, sel, d);
    seg_from_desc(&c->seg[SEG_CS], (uint16_t)((sel & ~3u) | new_cpl), d | (1ull << 40));
    c->cpl = (uint8_t)new_cpl;
    cpu_update_mode(c);
    if (stack_bits == 64)
        c->gpr[R_SP] = nsp;
    else if (stack_bits == 32)
        c->gpr[R_SP] = (uint32_t)nsp;
    else
        c->gpr[R_SP] = (c->gpr[R_SP] & ~0xFFFFull) | (nsp & 0xFFFF);
    uint64_t clear = FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM;
    if (!(type & 1))
        clear |= FLAG_IF; /* interrupt gate */
    c->rflags &= ~clear;
    c->rip = gate32 || c->long_mode ? target : target & 0xFFFF;
    cpu_update_mode(c);
    seg_refresh(c);
}

/* Delivers `vector`: afterwards RIP is the handler's first instruction.
 * Exceptions push the faulting RIP (c->rip), traps and software interrupts
 * the next one. */
void cpu_deliver(struct cpu *c, int vector, enum intr_kind kind, bool has_error, uint32_t error)
{
    uint64_t ret_ip = (kind == INTR_SOFT || kind == INTR_ICEBP) ? c->next_rip : c->rip;
    if (vector == EXC_NMI && kind == INTR_EXTERNAL)
        c->nmi_blocked = true;
    if (!c->protected_mode)
        deliver_real(c, vector, ret_ip);
    else
        deliver_protected(c, vector, kind, has_error && c->protected_mode, error, ret_ip);
    /* The handler starts at c->rip; tell the instruction loop not to advance. */
    c->next_rip = c->rip;
    c->block_exit = true;
}
