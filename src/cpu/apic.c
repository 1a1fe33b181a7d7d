/*
 * apic.c - the local xAPIC: register file, priorities (TPR/PPR), IRR/ISR/
 * TMR, EOI, LVT, the timer on virtual time, the ICR with every delivery
 * mode and destination form, and the CPU-side meaning of INIT, SIPI, SMI
 * and NMI (SDM Vol. 3 "Advanced Programmable Interrupt Controller"; cpu.md
 * §4.6 for SMM; platform.md §6.7 for the QEMU-TCG variant).
 */
#include "cpu/apic.h"

#include "cpu/cpu_impl.h"

#define APIC_BASE_EN     0x800ull
#define APIC_VERSION     0x00050014u /* version 0x14, 6 LVT entries */
#define APIC_SVR_ENABLE  0x100u
#define APIC_LVT_MASKED  0x10000u
#define APIC_LVT_LEVEL   0x8000u
#define LVT_CMCI 0
#define LVT_TIMER 1
#define LVT_THERMAL 2
#define LVT_PERF 3
#define LVT_LINT0 4
#define LVT_LINT1 5
#define LVT_ERROR 6

static uint64_t cpu_now(const struct cpu *c)
{
    return c->virtual_time ? *c->virtual_time + (c->icount - c->run_start_icount) : c->icount;
}

static bool apic_hw_enabled(const struct cpu *c)
{
    return c->apic_base & APIC_BASE_EN;
}

static bool apic_sw_enabled(const struct cpu *c)
{
    return c->apic.svr & APIC_SVR_ENABLE;
}

static int highest_bit(const uint32_t *bits)
{
    for (int w = 7; w >= 0; w--)
        if (bits[w])
            return w * 32 + 31 - __builtin_clz(bits[w]);
    return -1;
}

static void set_bit(uint32_t *bits, unsigned v)
{
    bits[v >> 5] |= 1u << (v & 31);
}

static void clear_bit(uint32_t *bits, unsigned v)
{
    bits[v >> 5] &= ~(1u << (v & 31));
}

static uint32_t apic_ppr(const struct lapic *a)
{
    int isr = highest_bit(a->isr);
    uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr;
    return (a->tpr & 0xF0) >= (isrv & 0xF0) ? a->tpr & 0xFF : isrv & 0xF0;
}

int apic_pending_vector(const struct cpu *c)
{
    if (!apic_hw_enabled(c) || !apic_sw_enabled(c))
        return -1;
    int v = highest_bit(c->apic.irr);
    if (v < 0 || ((unsigned)v & 0xF0) <= (apic_ppr(&c->apic) & 0xF0))
        return -1;
    return v;
}

static void apic_update(struct cpu *c)
{
    c->apic_intr = apic_pending_vector(c) >= 0;
    c->cr8 = (c->apic.tpr >> 4) & 0xF;
}

void apic_set_tpr(struct cpu *c, uint32_t tpr)
{
    c->apic.tpr = tpr & 0xFF;
    apic_update(c);
}

void apic_accept(struct cpu *c, int vector)
{
    clear_bit(c->apic.irr, (unsigned)vector);
    set_bit(c->apic.isr, (unsigned)vector);
    apic_update(c);
}

bool apic_accepts_pic(const struct cpu *c)
{
    /* As QEMU: the 8259 reaches the CPU while the APIC is hardware-disabled
     * or LINT0 is unmasked (virtual-wire mode, ExtINT). */
    return !apic_hw_enabled(c) || !(c->apic.lvt[LVT_LINT0] & APIC_LVT_MASKED);
}

static void accept_fixed(struct cpu *c, uint8_t vector, bool level)
{
    if (vector < 16) {
        c->apic.esr_pending |= 0x40; /* received illegal vector */
        return;
    }
    set_bit(c->apic.irr, vector);
    if (level)
        set_bit(c->apic.tmr, vector);
    else
        clear_bit(c->apic.tmr, vector);
    apic_update(c); /* a halted CPU wakes: cpu_wants_to_run() sees apic_intr */
}

void apic_reset(struct cpu *c)
{
    uint32_t id = c->apic_id << 24;
    c->apic = (struct lapic){ .id = id, .dfr = 0xFFFFFFFF, .svr = 0xFF,
                              .timer_deadline = UINT64_MAX };
    for (unsigned k = 0; k < 7; k++)
        c->apic.lvt[k] = APIC_LVT_MASKED;
    apic_update(c);
}

bool apic_claims(const struct cpu *c, uint64_t paddr)
{
    return apic_hw_enabled(c) && (paddr & ~0xFFFull) == (c->apic_base & 0xFFFFFFFFFF000ull);
}

/* ---- timer ---- */

static unsigned timer_divisor(uint32_t dcr)
{
    unsigned code = ((dcr >> 1) & 4) | (dcr & 3);
    return code == 7 ? 1 : 2u << code;
}

static void timer_changed(struct cpu *c)
{
    if (c->on_apic_timer)
        c->on_apic_timer(c->machine, c);
}

static void timer_load(struct cpu *c, uint64_t now)
{
    struct lapic *a = &c->apic;
    a->timer_start = now;
    if (a->timer_initial == 0)
        a->timer_deadline = UINT64_MAX;
    else
        a->timer_deadline = now + (uint64_t)a->timer_initial * timer_divisor(a->timer_divide);
    timer_changed(c);
}

static uint32_t timer_current(const struct cpu *c, uint64_t now)
{
    const struct lapic *a = &c->apic;
    if (a->timer_deadline == UINT64_MAX || now >= a->timer_deadline)
        return 0;
    return (uint32_t)((a->timer_deadline - now + timer_divisor(a->timer_divide) - 1) /
                      timer_divisor(a->timer_divide));
}

void apic_timer_expire(struct cpu *c, uint64_t now)
{
    struct lapic *a = &c->apic;
    if (a->timer_deadline == UINT64_MAX || now < a->timer_deadline)
        return;
    uint32_t lvt = a->lvt[LVT_TIMER];
    if (!(lvt & APIC_LVT_MASKED))
        accept_fixed(c, lvt & 0xFF, false);
    if (((lvt >> 17) & 3) == 1) { /* periodic */
        uint64_t period = (uint64_t)a->timer_initial * timer_divisor(a->timer_divide);
        a->timer_start = a->timer_deadline;
        a->timer_deadline += period ? period : 1;
        if (a->timer_deadline <= now) /* catch up without a burst */
            a->timer_deadline = now + (period ? period : 1);
    } else {
        a->timer_deadline = UINT64_MAX;
    }
    timer_changed(c);
}

/* ---- register file ---- */

uint32_t apic_mmio_read(struct cpu *c, uint64_t paddr, unsigned size)
{
    struct lapic *a = &c->apic;
    unsigned off = (unsigned)(paddr & 0xFF0);
    uint32_t v;
    switch (off) {
    case 0x20: v = a->id; break;
    case 0x30: v = APIC_VERSION; break;
    case 0x80: v = a->tpr; break;
    case 0x90: v = 0; break; /* APR */
    case 0xA0: v = apic_ppr(a); break;
    case 0xD0: v = a->ldr; break;
    case 0xE0: v = a->dfr; break;
    case 0xF0: v = a->svr; break;
    case 0x280: v = a->esr; break;
    case 0x300: v = a->icr_low & ~(1u << 12); break; /* delivery always idle */
    case 0x310: v = a->icr_high; break;
    case 0x380: v = a->timer_initial; break;
    case 0x390: v = timer_current(c, cpu_now(c)); break;
    case 0x3E0: v = a->timer_divide; break;
    default:
        if (off >= 0x100 && off < 0x180)
            v = a->isr[(off - 0x100) >> 4];
        else if (off >= 0x180 && off < 0x200)
            v = a->tmr[(off - 0x180) >> 4];
        else if (off >= 0x200 && off < 0x280)
            v = a->irr[(off - 0x200) >> 4];
        else if (off == 0x2F0)
            v = a->lvt[LVT_CMCI];
        else if (off >= 0x320 && off <= 0x370)
            v = a->lvt[LVT_TIMER + ((off - 0x320) >> 4)];
        else
            v = 0;
        break;
    }
    unsigned shift = (unsigned)(paddr & 3) * 8;
    v >>= shift;
    return size >= 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void lvt_write(struct cpu *c, unsigned idx, uint32_t v)
{
    static const uint32_t writable[7] = { 0x117FF, 0x700FF, 0x107FF, 0x107FF, 0x1A7FF, 0x1A7FF, 0x100FF };
    if (!apic_sw_enabled(c))
        v |= APIC_LVT_MASKED; /* a software-disabled APIC keeps every LVT masked */
    c->apic.lvt[idx] = v & writable[idx];
    if (idx == LVT_TIMER)
        timer_changed(c);
}

static void apic_eoi(struct cpu *c)
{
    int v = highest_bit(c->apic.isr);
    if (v < 0)
        return;
    clear_bit(c->apic.isr, (unsigned)v);
    if ((c->apic.tmr[v >> 5] >> (v & 31)) & 1) {
        clear_bit(c->apic.tmr, (unsigned)v);
        if (c->on_level_eoi) /* level-triggered: the I/O APIC clears its remote IRR */
            c->on_level_eoi(c->board, (uint8_t)v);
    }
    apic_update(c);
}

void apic_mmio_write(struct cpu *c, uint64_t paddr, unsigned size, uint32_t value)
{
    struct lapic *a = &c->apic;
    unsigned off = (unsigned)(paddr & 0xFF0);
    if (size != 4 || (paddr & 3)) {
        cpu_guest_error(c, "apic: %u-byte write at offset 0x%x ignored (32-bit accesses only)",
                        size, (unsigned)(paddr & 0xFFF));
        return;
    }
    switch (off) {
    case 0x20: a->id = value & 0xFF000000; c->apic_id = value >> 24; break;
    case 0x80: a->tpr = value & 0xFF; apic_update(c); break;
    case 0xB0: apic_eoi(c); break;
    case 0xD0: a->ldr = value & 0xFF000000; break;
    case 0xE0: a->dfr = value | 0x0FFFFFFF; break;
    case 0xF0:
        a->svr = value & 0x3FF;
        if (!apic_sw_enabled(c))
            for (unsigned k = 0; k < 7; k++)
                a->lvt[k] |= APIC_LVT_MASKED;
        apic_update(c);
        break;
    case 0x280: a->esr = a->esr_pending; a->esr_pending = 0; break;
    case 0x2F0: lvt_write(c, LVT_CMCI, value); break;
    case 0x300: {
        a->icr_low = value & ~(1u << 12);
        unsigned mode = (value >> 8) & 7;
        bool level = value & (1u << 14), trigger = value & (1u << 15);
        if (mode == APIC_DM_INIT && !level && trigger)
            break; /* INIT level de-assert: no effect on P6 and later */
        if (c->apic_bus)
            apic_bus_deliver(c->apic_bus, c, a->icr_high >> 24, value & (1u << 11),
                             (value >> 18) & 3, (enum apic_delivery)mode, value & 0xFF, level,
                             trigger);
        c->block_exit = true; /* the target may be this CPU: recognise it at the next boundary */
        break;
    }
    case 0x310: a->icr_high = value & 0xFF000000; break;
    case 0x380: a->timer_initial = value; timer_load(c, cpu_now(c)); break;
    case 0x3E0: a->timer_divide = value & 0xB; break;
    default:
        if (off >= 0x320 && off <= 0x370)
            lvt_write(c, LVT_TIMER + ((off - 0x320) >> 4), value);
        break; /* read-only and reserved registers ignore writes */
    }
}

/* ---- the APIC bus ---- */

static bool logical_match(const struct cpu *c, uint32_t dest)
{
    uint32_t ldr = c->apic.ldr >> 24;
    if ((c->apic.dfr >> 28) == 0xF) /* flat model */
        return (ldr & dest) != 0;
    /* cluster model: high nibble is the cluster, low nibble a bitmap */
    return ((dest >> 4) == (ldr >> 4) || (dest >> 4) == 0xF) && (dest & ldr & 0xF);
}

static bool is_target(const struct cpu *t, const struct cpu *src, uint32_t dest, bool logical,
                      unsigned shorthand)
{
    switch (shorthand) {
    case 1: return t == src;
    case 2: return true;
    case 3: return t != src;
    default:
        if (logical)
            return dest == 0xFF || logical_match(t, dest);
        return dest == 0xFF || t->apic_id == dest;
    }
}

static void deliver_one(struct cpu *t, enum apic_delivery mode, uint8_t vector, bool trigger)
{
    switch (mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        if (t->state != CPU_WAIT_SIPI)
            accept_fixed(t, vector, trigger);
        break;
    case APIC_DM_SMI: cpu_signal_smi(t); break;
    case APIC_DM_NMI: cpu_signal_nmi(t); break;
    case APIC_DM_INIT: cpu_signal_init(t); break;
    case APIC_DM_STARTUP: cpu_signal_sipi(t, vector); break;
    default:
        /* ExtINT as a message is only meaningful from the I/O APIC to the 8259
         * path, which the machine routes itself. */
        break;
    }
}

void apic_bus_deliver(struct apic_bus *bus, struct cpu *src, uint32_t dest, bool logical,
                      unsigned shorthand, enum apic_delivery mode, uint8_t vector, bool level,
                      bool trigger_level)
{
    (void)level;
    if (mode == APIC_DM_LOWEST && shorthand == 0) {
        /* Lowest priority: the target with the lowest PPR, ties to the lowest
         * APIC ID, so the choice is deterministic. */
        struct cpu *best = NULL;
        for (unsigned k = 0; k < bus->n; k++) {
            struct cpu *t = bus->cpus[k];
            if (!t || !is_target(t, src, dest, logical, 0))
                continue;
            if (!best || apic_ppr(&t->apic) < apic_ppr(&best->apic) ||
                (apic_ppr(&t->apic) == apic_ppr(&best->apic) && t->apic_id < best->apic_id))
                best = t;
        }
        if (best)
            deliver_one(best, mode, vector, trigger_level);
        return;
    }
    for (unsigned k = 0; k < bus->n; k++) {
        struct cpu *t = bus->cpus[k];
        if (t && is_target(t, src, dest, logical, shorthand))
            deliver_one(t, mode, vector, trigger_level);
    }
}

/* ---- INIT, SIPI, SMI, NMI at the CPU ---- */

void cpu_signal_smi(struct cpu *c)
{
    c->smi_pending = true; /* several collapse into one (cpu.md §4.1) */
}

void cpu_signal_nmi(struct cpu *c)
{
    if (c->state == CPU_WAIT_SIPI)
        return; /* discarded (cpu.md §4.6, a choice) */
    c->nmi_pending = true;
}

void cpu_signal_init(struct cpu *c)
{
    if (c->state == CPU_WAIT_SIPI && !c->in_smm) {
        cpu_do_init(c); /* not executing: re-armed at once, a later SIPI still starts it */
        return;
    }
    if (c->in_smm && c->tcg_smm_compat) {
        /* QEMU TCG resets the CPU at once, out of SMM, and keeps only a
         * pending SIPI: the pending SMI is lost (firmware.md §1.4). */
        c->smi_pending = false;
    }
    /* Latched and acted on at the next instruction boundary (in SMM with hardware
     * semantics: after RSM). The target may be the CPU whose ICR write sent it,
     * still inside that instruction: resetting it here would let the write's
     * completion overwrite the reset RIP. */
    c->init_latched = true;
    c->block_exit = true;
}

void cpu_signal_sipi(struct cpu *c, uint8_t vector)
{
    if (c->state != CPU_WAIT_SIPI)
        return; /* discarded when running, halted or in SMM */
    c->seg[SEG_CS] = (struct segment){ (uint16_t)(vector << 8), 0x009B, 0xFFFF,
                                       (uint64_t)vector << 12 };
    c->rip = 0;
    c->state = CPU_RUNNING;
    cpu_update_mode(c);
}
