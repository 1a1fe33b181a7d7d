/*
 * system.c - system instructions: MOV to/from CRn and DRn, descriptor-table
 * instructions (group 6 and 7), LAR/LSL/VERR/VERW, CLTS, INVD/WBINVD, HLT,
 * port I/O with IOPL and TSS-bitmap checks, CPUID, RDMSR/WRMSR, RDTSC.
 * SDM Vol. 2 per instruction; CR/EFER rules from SDM Vol. 3 "Control
 * Registers" and cpu.md §2.3.
 */
#include "cpu/handlers.h"
#include "mem/memory.h"

static void require_cpl0(struct cpu *c)
{
    if (c->protected_mode && c->cpl != 0)
        GP0(c);
}

static void require_protected(struct cpu *c)
{
    if (!c->protected_mode)
        UD(c);
}

void cpu_update_data_class(struct cpu *c)
{
    if ((c->cr0 & CR0_AM) && (c->rflags & FLAG_AC) && c->cpl == 3)
        c->data_class = TLB_NOFILL; /* alignment checks need the slow path */
    else
        c->data_class = c->cpl == 3 ? TLB_USER : TLB_SUPERVISOR;
    c->data_tlb = c->tlb.entry[c->data_class];
}

void cpu_update_mode(struct cpu *c)
{
    c->protected_mode = c->cr0 & CR0_PE;
    c->paging = c->protected_mode && (c->cr0 & CR0_PG);
    c->long_mode = c->efer & EFER_LMA;
    if (!c->protected_mode)
        c->cpl = 0;
    uint16_t cs = c->seg[SEG_CS].attr;
    if (c->long_mode && (cs & SEG_ATTR_L))
        c->code_bits = 64;
    else
        c->code_bits = (cs & SEG_ATTR_DB) ? 32 : 16;
    if (c->code_bits == 64)
        c->stack_bits = 64;
    else
        c->stack_bits = (c->seg[SEG_SS].attr & SEG_ATTR_DB) ? 32 : 16;
    cpu_update_data_class(c);
    seg_refresh(c);
}

void cpu_write_cr0(struct cpu *c, uint64_t v)
{
    if (v >> 32)
        GP0(c);
    v |= CR0_ET; /* hard-wired to 1 on P6 and later */
    if ((v & CR0_PG) && !(v & CR0_PE))
        GP0(c);
    if ((v & CR0_NW) && !(v & CR0_CD))
        GP0(c);
    bool pg_on = (v & CR0_PG) && !(c->cr0 & CR0_PG);
    bool pg_off = !(v & CR0_PG) && (c->cr0 & CR0_PG);
    if (pg_on && (c->efer & EFER_LME)) {
        if (!(c->cr4 & CR4_PAE))
            GP0(c);
        if (c->seg[SEG_CS].attr & SEG_ATTR_L)
            GP0(c);
    }
    if (pg_off && c->code_bits == 64)
        GP0(c);
    uint64_t changed = c->cr0 ^ v;
    c->cr0 = v;
    if (pg_on && (c->efer & EFER_LME))
        c->efer |= EFER_LMA;
    if (pg_off)
        c->efer &= ~(uint64_t)EFER_LMA;
    if (changed & (CR0_PG | CR0_WP | CR0_PE))
        cpu_tlb_flush(c);
    cpu_update_mode(c);
    c->block_exit = true;
}

void cpu_write_cr3(struct cpu *c, uint64_t v)
{
    if (c->long_mode && (v >> 52))
        GP0(c);
    c->cr3 = c->long_mode ? v : (uint32_t)v;
    cpu_tlb_flush(c);
    c->block_exit = true;
}

#define CR4_ALLOWED (CR4_TSD | CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCE)

void cpu_write_cr4(struct cpu *c, uint64_t v)
{
    if (v & ~(uint64_t)CR4_ALLOWED)
        GP0(c);
    if (c->long_mode && !(v & CR4_PAE))
        GP0(c);
    uint64_t changed = c->cr4 ^ v;
    c->cr4 = v;
    if (changed & (CR4_PSE | CR4_PAE | CR4_PGE))
        cpu_tlb_flush(c);
    c->block_exit = true;
}

bool cpu_write_efer(struct cpu *c, uint64_t v)
{
    uint64_t allowed = EFER_SCE | EFER_LME | EFER_NXE | EFER_LMA;
    if (v & ~allowed)
        return false;
    if ((c->cr0 & CR0_PG) && ((v ^ c->efer) & EFER_LME))
        return false;
    uint64_t changed = c->efer ^ v;
    c->efer = (v & ~(uint64_t)EFER_LMA) | (c->efer & EFER_LMA); /* LMA is read-only */
    if (changed & EFER_NXE)
        cpu_tlb_flush(c);
    cpu_update_mode(c);
    return true;
}

void h_mov_RdCd(struct cpu *c, const struct insn *i)
{
    require_cpl0(c);
    unsigned size = c->code_bits == 64 ? 8 : 4;
    uint64_t v;
    switch (i->reg) {
    case 0: v = c->cr0; break;
    case 2: v = c->cr2; break;
    case 3: v = c->cr3; break;
    case 4: v = c->cr4; break;
    case 8:
        if (c->code_bits != 64)
            UD(c);
        v = c->cr8;
        break;
    default: UD(c);
    }
    reg_write(c, i->rm, size, v);
}

void h_mov_CdRd(struct cpu *c, const struct insn *i)
{
    require_cpl0(c);
    uint64_t v = c->code_bits == 64 ? c->gpr[i->rm] : (uint32_t)c->gpr[i->rm];
    switch (i->reg) {
    case 0: cpu_write_cr0(c, v); break;
    case 2: c->cr2 = v; break;
    case 3: cpu_write_cr3(c, v); break;
    case 4: cpu_write_cr4(c, v); break;
    case 8:
        if (c->code_bits != 64)
            UD(c);
        if (v >> 4)
            GP0(c);
        apic_set_tpr(c, (uint32_t)(v << 4)); /* CR8 is TPR[7:4] */
        break;
    default: UD(c);
    }
}

static unsigned dr_index(struct cpu *c, unsigned r)
{
    if (r == 4 || r == 5) {
        if (c->cr4 & CR4_DE)
            UD(c);
        return r + 2;
    }
    if (r > 7)
        UD(c);
    return r;
}

void h_mov_RdDd(struct cpu *c, const struct insn *i)
{
    require_cpl0(c);
    unsigned r = dr_index(c, i->reg);
    uint64_t v = c->dr[r];
    if (r == 6)
        v = (v & 0xE00F) | 0xFFFF0FF0;
    else if (r == 7)
        v = (v & ~0xD800ull) | 0x400;
    reg_write(c, i->rm, c->code_bits == 64 ? 8 : 4, v);
}

void h_mov_DdRd(struct cpu *c, const struct insn *i)
{
    require_cpl0(c);
    unsigned r = dr_index(c, i->reg);
    uint64_t v = c->code_bits == 64 ? c->gpr[i->rm] : (uint32_t)c->gpr[i->rm];
    if ((r == 6 || r == 7) && (v >> 32))
        GP0(c);
    c->dr[r] = v;
}

/* ---- descriptor tables ---- */

static void load_ldtr(struct cpu *c, uint16_t sel)
{
    if ((sel & ~3u) == 0) {
        c->ldtr = (struct segment){ sel, 0, 0, 0 };
        return;
    }
    if (sel & 4)
        cpu_fault(c, EXC_GP, sel & ~3u);
    uint64_t d;
    if (!desc_read(c, sel, &d))
        cpu_fault(c, EXC_GP, sel & ~3u);
    if (((d >> 44) & 1) || ((d >> 40) & 0xF) != 2)
        cpu_fault(c, EXC_GP, sel & ~3u);
    if (!((d >> 47) & 1))
        cpu_fault(c, EXC_NP, sel & ~3u);
    seg_from_desc(&c->ldtr, sel, d);
    if (c->long_mode) {
        uint64_t hi = sys_read(c, c->gdtr.base + (sel & ~7u) + 8, 8);
        c->ldtr.base |= (hi & 0xFFFFFFFF) << 32;
    }
}

static void load_tr(struct cpu *c, uint16_t sel)
{
    if ((sel & ~3u) == 0 || (sel & 4))
        cpu_fault(c, EXC_GP, sel & ~3u);
    uint64_t d;
    if (!desc_read(c, sel, &d))
        cpu_fault(c, EXC_GP, sel & ~3u);
    unsigned type = (d >> 40) & 0xF;
    bool ok = !((d >> 44) & 1) && (type == 9 || (!c->long_mode && type == 1));
    if (!ok)
        cpu_fault(c, EXC_GP, sel & ~3u);
    if (!((d >> 47) & 1))
        cpu_fault(c, EXC_NP, sel & ~3u);
    uint64_t hi = 0;
    if (c->long_mode)
        hi = sys_read(c, c->gdtr.base + (sel & ~7u) + 8, 8);
    uint64_t busy = d | (2ull << 40);
    sys_write(c, (c->long_mode ? c->gdtr.base : (uint32_t)c->gdtr.base) + (sel & ~7u) + 5, 1,
              (uint8_t)(busy >> 40));
    seg_from_desc(&c->tr, sel, busy);
    c->tr.base |= (hi & 0xFFFFFFFF) << 32;
}

/* VERR/VERW/LAR/LSL privilege rule: DPL >= CPL and DPL >= RPL, except conforming code. */
static bool desc_visible(const struct cpu *c, uint16_t sel, uint64_t d)
{
    unsigned type = (d >> 40) & 0xF, dpl = (d >> 45) & 3;
    bool s = (d >> 44) & 1;
    if (s && (type & 0xC) == 0xC)
        return true;
    return dpl >= c->cpl && dpl >= (sel & 3u);
}

static void set_zf(struct cpu *c, bool z)
{
    flags_sync(c);
    if (z)
        c->rflags |= FLAG_ZF;
    else
        c->rflags &= ~(uint64_t)FLAG_ZF;
}

void h_grp6(struct cpu *c, const struct insn *i)
{
    require_protected(c);
    unsigned op = i->reg & 7;
    switch (op) {
    case 0: /* SLDT */
    case 1: { /* STR */
        uint16_t v = op == 0 ? c->ldtr.selector : c->tr.selector;
        if (i->flags & INSN_MEM)
            seg_write(c, i->seg, insn_ea(c, i), 2, v);
        else
            reg_write(c, i->rm, i->opsize, v);
        return;
    }
    case 2:
        require_cpl0(c);
        load_ldtr(c, (uint16_t)rm_read(c, i, 2));
        return;
    case 3:
        require_cpl0(c);
        load_tr(c, (uint16_t)rm_read(c, i, 2));
        return;
    default: { /* VERR, VERW */
        uint16_t sel = (uint16_t)rm_read(c, i, 2);
        uint64_t d;
        bool ok = (sel & ~3u) && desc_read(c, sel, &d) && ((d >> 44) & 1) && desc_visible(c, sel, d);
        if (ok) {
            unsigned type = (d >> 40) & 0xF;
            if (op == 4)
                ok = !(type & 0x8) || (type & 0x2);
            else
                ok = !(type & 0x8) && (type & 0x2);
        }
        set_zf(c, ok);
        return;
    }
    }
}

static bool system_type_ok(const struct cpu *c, unsigned type, bool lar)
{
    if (c->long_mode)
        return type == 2 || type == 9 || type == 0xB || (lar && type == 0xC);
    switch (type) {
    case 1: case 2: case 3: case 9: case 0xB:
        return true;
    case 4: case 5: case 0xC:
        return lar;
    default:
        return false;
    }
}

static void lar_lsl(struct cpu *c, const struct insn *i, bool lar)
{
    require_protected(c);
    uint16_t sel = (uint16_t)rm_read(c, i, 2);
    uint64_t d;
    bool ok = (sel & ~3u) && desc_read(c, sel, &d) && desc_visible(c, sel, d);
    if (ok && !((d >> 44) & 1))
        ok = system_type_ok(c, (d >> 40) & 0xF, lar);
    set_zf(c, ok);
    if (!ok)
        return;
    if (lar)
        reg_write(c, i->reg, i->opsize, (d >> 32) & (i->opsize == 2 ? 0xFF00 : 0xF0FF00));
    else
        reg_write(c, i->reg, i->opsize, desc_limit(d));
}

void h_lar(struct cpu *c, const struct insn *i)
{
    lar_lsl(c, i, true);
}

void h_lsl(struct cpu *c, const struct insn *i)
{
    lar_lsl(c, i, false);
}

void h_grp7(struct cpu *c, const struct insn *i)
{
    unsigned op = i->reg & 7;
    if (!(i->flags & INSN_MEM)) {
        unsigned rm = i->rm & 7;
        if (op == 4) { /* SMSW r */
            reg_write(c, i->rm, i->opsize, c->cr0);
            return;
        }
        if (op == 6)
            goto lmsw;
        if (op == 7 && rm == 0) { /* SWAPGS */
            if (c->code_bits != 64)
                UD(c);
            require_cpl0(c);
            uint64_t t = c->seg[SEG_GS].base;
            c->seg[SEG_GS].base = c->kernel_gs_base;
            c->kernel_gs_base = t;
            return;
        }
        UD(c); /* VMX, MONITOR/MWAIT, XGETBV, RDTSCP: not advertised */
    }
    uint64_t ea = insn_ea(c, i);
    switch (op) {
    case 0:
    case 1: { /* SGDT, SIDT: the full 32-bit base outside 64-bit mode (SDM) */
        const struct dtable *t = op == 0 ? &c->gdtr : &c->idtr;
        uint64_t la = seg_linear(c, i->seg, ea, c->code_bits == 64 ? 10 : 6, ACC_WRITE);
        mem_probe_write(c, la, c->code_bits == 64 ? 10 : 6);
        seg_write(c, i->seg, ea, 2, t->limit);
        seg_write(c, i->seg, (ea + 2) & size_mask(i->addrsize), c->code_bits == 64 ? 8 : 4, t->base);
        return;
    }
    case 2:
    case 3: { /* LGDT, LIDT */
        require_cpl0(c);
        uint64_t limit = seg_read(c, i->seg, ea, 2);
        uint64_t base = seg_read(c, i->seg, (ea + 2) & size_mask(i->addrsize), c->code_bits == 64 ? 8 : 4);
        if (c->code_bits == 64) {
            if ((uint64_t)((int64_t)(base << 16) >> 16) != base)
                GP0(c);
        } else if (i->opsize == 2) {
            base &= 0xFFFFFF;
        }
        struct dtable *t = op == 2 ? &c->gdtr : &c->idtr;
        t->base = base;
        t->limit = (uint32_t)limit;
        return;
    }
    case 4: /* SMSW m16 */
        seg_write(c, i->seg, ea, 2, c->cr0 & 0xFFFF);
        return;
    case 6:
    lmsw: {
        require_cpl0(c);
        uint64_t v = rm_read(c, i, 2) & 0xF;
        /* LMSW sets PE but cannot clear it. */
        cpu_write_cr0(c, (c->cr0 & ~0xEull) | v | (c->cr0 & CR0_PE));
        return;
    }
    case 7: /* INVLPG */
        require_cpl0(c);
        cpu_tlb_flush(c);
        c->block_exit = true;
        return;
    default:
        UD(c);
    }
}

void h_clts(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c);
    c->cr0 &= ~(uint64_t)CR0_TS;
}

void h_invd(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c); /* caches are not modelled: INVD and WBINVD only check privilege */
}

void h_ud(struct cpu *c, const struct insn *i)
{
    (void)i;
    UD(c);
}

/* x87 is phase 2 (cpu.md §1.2) and not advertised. What already holds: with
 * CR0.EM or CR0.TS set every x87 instruction raises #NM (SDM, "Device Not
 * Available"); without them the absent FPU answers #UD. */
void h_x87(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_fault_noerr(c, EXC_NM);
    UD(c);
}

/* WAIT/FWAIT: #NM when CR0.TS and CR0.MP are both set, otherwise nothing to wait for. */
void h_fwait(struct cpu *c, const struct insn *i)
{
    (void)i;
    if ((c->cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP))
        cpu_fault_noerr(c, EXC_NM);
}

void h_hlt(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c);
    c->state = CPU_HALTED;
    c->block_exit = true;
    cpu_yield(c);
}

/* ---- port I/O ---- */

void cpu_io_check(struct cpu *c, uint16_t port, unsigned size)
{
    if (!c->protected_mode || c->cpl <= ((c->rflags & FLAG_IOPL) >> 12))
        return;
    /* The TSS I/O permission bitmap (32- or 64-bit TSS only). */
    unsigned type = c->tr.attr & 0xF;
    if (!(c->tr.attr & SEG_ATTR_P) || (type != 9 && type != 0xB) || c->tr.limit < 0x67)
        GP0(c);
    uint64_t base = c->long_mode ? c->tr.base : (uint32_t)c->tr.base;
    uint32_t map = (uint32_t)sys_read(c, base + 0x66, 2);
    uint32_t byte = map + port / 8;
    if (byte + 1 > c->tr.limit)
        GP0(c);
    uint32_t bits = (uint32_t)sys_read(c, base + byte, 2);
    if ((bits >> (port & 7)) & ((1u << size) - 1))
        GP0(c);
}

/* Records the instruction context of a port access; if the access makes an
 * SMI pending on this CPU, SMM entry saves it for I/O restart (cpu.md §4.7). */
static void io_trap_begin(struct cpu *c, uint16_t port, unsigned size, bool in)
{
    c->io_trap.rip = c->rip;
    c->io_trap.rcx = c->gpr[R_CX];
    c->io_trap.rsi = c->gpr[R_SI];
    c->io_trap.rdi = c->gpr[R_DI];
    c->io_trap.info = ((uint32_t)port << 16) | (size == 4 ? 0x40u : size == 2 ? 0x20u : 0x10u) |
                      (c->io_trap_string ? 0x4u : 0) | (c->io_trap_rep ? 0x8u : 0) | 0x2u |
                      (in ? 0x1u : 0);
}

static void io_trap_end(struct cpu *c, bool smi_was_pending)
{
    if (!smi_was_pending && c->smi_pending)
        c->io_smi_trap = true;
}

uint32_t cpu_port_in(struct cpu *c, uint16_t port, unsigned size)
{
    if (c->before_io)
        c->before_io(c->board, c);
    bool was = c->smi_pending;
    io_trap_begin(c, port, size, true);
    uint32_t v = (uint32_t)mem_read(c->io, port, size);
    io_trap_end(c, was);
    return v;
}

void cpu_port_out(struct cpu *c, uint16_t port, unsigned size, uint32_t v)
{
    if (c->before_io)
        c->before_io(c->board, c);
    bool was = c->smi_pending;
    io_trap_begin(c, port, size, false);
    mem_write(c->io, port, v, size);
    io_trap_end(c, was);
}

static unsigned io_size(const struct insn *i)
{
    return (i->op & 1) ? (i->opsize == 2 ? 2 : 4) : 1;
}

static void io_in(struct cpu *c, const struct insn *i, uint16_t port)
{
    unsigned s = io_size(i);
    cpu_io_check(c, port, s);
    uint32_t v = cpu_port_in(c, port, s);
    if (s == 1)
        reg8_write(c, R_AX, false, (uint8_t)v);
    else
        reg_write(c, R_AX, s, v);
    c->block_exit = true; /* a device may have raised an event */
}

static void io_out(struct cpu *c, const struct insn *i, uint16_t port)
{
    unsigned s = io_size(i);
    cpu_io_check(c, port, s);
    cpu_port_out(c, port, s, (uint32_t)c->gpr[R_AX]);
    c->block_exit = true;
}

void h_in_Ib(struct cpu *c, const struct insn *i)
{
    io_in(c, i, (uint16_t)(i->imm & 0xFF));
}

void h_out_Ib(struct cpu *c, const struct insn *i)
{
    io_out(c, i, (uint16_t)(i->imm & 0xFF));
}

void h_in_DX(struct cpu *c, const struct insn *i)
{
    io_in(c, i, (uint16_t)c->gpr[R_DX]);
}

void h_out_DX(struct cpu *c, const struct insn *i)
{
    io_out(c, i, (uint16_t)c->gpr[R_DX]);
}

/* ---- CPUID, MSRs, TSC ---- */

void h_cpuid(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_cpuid(c);
}

uint64_t cpu_tsc(const struct cpu *c)
{
    /* The machine clock advances per scheduling round; within the round this
     * CPU's own retired instructions are the ticks since it started. */
    uint64_t now = c->virtual_time ? *c->virtual_time + (c->icount - c->run_start_icount) : c->icount;
    return now + c->tsc_offset;
}

void h_rdtsc(struct cpu *c, const struct insn *i)
{
    (void)i;
    if ((c->cr4 & CR4_TSD) && c->protected_mode && c->cpl != 0)
        GP0(c);
    cpu_sync_rip(c); /* the TSC counts retired instructions */
    uint64_t t = cpu_tsc(c);
    reg_write(c, R_AX, 4, (uint32_t)t);
    reg_write(c, R_DX, 4, t >> 32);
}

void h_rdmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c);
    cpu_sync_rip(c); /* TSC and APIC timer MSRs read the clock */
    cpu_rdmsr(c);
}

void h_wrmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c);
    cpu_wrmsr(c);
    c->block_exit = true;
}

void h_rsm(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (!c->in_smm)
        UD(c);
    cpu_rsm(c);
}
