/*
 * reloc.c - the relocator of firmware.md §5.2: admit exactly one unrelocated CPU through the
 * gate at 0x30000, let the first-SMI handler (stub.S) store its new SMBASE, and accept the
 * relocation only when the CPU has entered SMM again through its own tile (§5.5).
 *
 * The wfs-SMI mode (§5.1) decides how the target is made to enter SMM: `taken` (QEMU TCG) uses
 * directed SMIs only, `held` (hardware, smmvm default) adds INIT-SIPI(-SIPI). The mode starts
 * unknown and the first AP relocation decides it.
 */
#include "reloc.h"

#include "hw.h"
#include "lib.h"

/* A switch, not a table of pointers: the SMM image must contain no absolute relocation. */
static const char *phase_name(enum reloc_phase phase)
{
    switch (phase) {
    case PHASE_S3:
        return "s3";
    case PHASE_HOTPLUG:
        return "hotplug";
    default:
        return "boot";
    }
}

void reloc_copy_pen(void)
{
    memcpy((void *)(uintptr_t)PEN_BASE, pen_start, (size_t)(pen_end - pen_start));
    *(volatile uint8_t *)(uintptr_t)PEN_FLAG = 0;
}

static void reloc_fatal(const char *stage, uint32_t apic)
{
    struct line l;

    line_begin(&l, "fatal relocation");
    line_str(&l, "stage", stage);
    line_dec(&l, "apic", apic);
    fatal_finish(&l);
}

static int gate_wait_closed(uint64_t ticks)
{
    struct deadline d;

    deadline_start(&d, ticks);
    for (;;) {
        if (__atomic_load_n(FSC_GATE, __ATOMIC_ACQUIRE) == FSC_GATE_CLOSED)
            return 1;
        if (deadline_expired(&d))
            return 0;
        cpu_pause();
    }
}

static int wait_flag(volatile uint32_t *flag, uint64_t ticks)
{
    struct deadline d;

    deadline_start(&d, ticks);
    for (;;) {
        if (atomic_load32(flag))
            return 1;
        if (deadline_expired(&d))
            return 0;
        cpu_pause();
    }
}

static void mode_decided(struct smm_data *d, uint32_t mode, uint32_t apic)
{
    struct line l;

    d->wfs_mode = mode;
    line_begin(&l, "wfs-smi");
    line_str(&l, "mode", mode == WFS_TAKEN ? "taken" : "held");
    line_dec(&l, "apic", apic);
    line_end(&l);
}

/* INIT, then SIPI to the pen, and a second SIPI if the gate is still open (held mode). */
static void held_sequence(uint32_t a)
{
    apic_send(a, ICR_INIT);
    delay_ticks(T_INIT);
    apic_send(a, ICR_SIPI | PEN_VECTOR);
    delay_ticks(T_SIPI);
    if (__atomic_load_n(FSC_GATE, __ATOMIC_ACQUIRE) == a)
        apic_send(a, ICR_SIPI | PEN_VECTOR);
}

int reloc_cpu(struct smm_data *d, unsigned slot, enum reloc_phase phase)
{
    volatile struct first_smi_ctx *c = FSC_CTX;
    struct cpu_entry *e = &d->cpu[slot];
    uint32_t a = e->apic_id;
    int self = a == cpu_apic_id();
    const char *path = "smi";
    int closed;
    unsigned attempt = 0;

again:
    attempt++;
    e->state = CPU_RELOCATING;
    c->new_smbase = e->smbase;
    c->about_to_leave = 0;
    c->status = 0;
    atomic_store32(&e->arrived, 0);
    atomic_store32(&e->expected, 1);

    if (!cas64(FSC_GATE, FSC_GATE_CLOSED, a))
        reloc_fatal("gate-busy", a);
    /* Always our own directed SMI, whatever a broadcast did (race R2). */
    apic_send(a, self ? ICR_SMI | ICR_SELF : ICR_SMI);

    if (self || d->wfs_mode == WFS_TAKEN) {
        closed = gate_wait_closed(T_GATE_TAKEN);
    } else if (d->wfs_mode == WFS_HELD) {
        held_sequence(a);
        path = "init-sipi";
        closed = gate_wait_closed(T_GATE_HELD);
    } else {
        closed = gate_wait_closed(T_DETECT);
        if (closed) {
            if (c->entry_cs_base == 0xffff0000u && c->entry_rip == 0xfff0u)
                mode_decided(d, WFS_TAKEN, a);
        } else {
            held_sequence(a);
            path = "init-sipi";
            closed = gate_wait_closed(T_GATE_HELD);
            if (closed && c->entry_cs_base == PEN_BASE)
                mode_decided(d, WFS_HELD, a);
        }
    }
    if (!closed) {
        if (cas64(FSC_GATE, a, FSC_GATE_CLOSED)) {
            /* Never passed the gate: its SMBASE is still 0x30000. */
            atomic_store32(&e->expected, 0);
            e->state = CPU_ABSENT;
            return RELOC_NO_ENTRY;
        }
    }
    {
        struct deadline dl;

        deadline_start(&dl, T_LEAVE);
        while (!__atomic_load_n((volatile uint8_t *)(uintptr_t)(WINDOW_BASE + 0x15), __ATOMIC_ACQUIRE)) {
            if (deadline_expired(&dl))
                reloc_fatal("leave", a);
            cpu_pause();
        }
    }
    if (c->status != 0) {
        struct line l;

        line_begin(&l, "fatal save-state-layout");
        line_dec(&l, "apic", a);
        line_dec(&l, "status", c->status);
        fatal_finish(&l);
    }
    if (c->relocated_apic != a)
        reloc_fatal("leave", a);

    if (!wait_flag(&e->arrived, T_SPONT)) {
        apic_send(a, self ? ICR_SMI | ICR_SELF : ICR_SMI); /* the ping */
        if (!wait_flag(&e->arrived, T_ARRIVE)) {
            if (d->wfs_mode == WFS_HELD && !self) {
                apic_send(a, ICR_SIPI | PEN_VECTOR); /* recovery */
                path = "recovery";
                if (!wait_flag(&e->arrived, T_ARRIVE))
                    reloc_fatal("arrive", a);
            } else if (!self && attempt < 3) {
                /*
                 * Measured on QEMU 7.2 TCG (two CPUs hot-added before one broadcast): a second
                 * unrelocated CPU entering SMM at 0x30000 after this CPU's handler stored its
                 * new SMBASE rewrites the shared save area, SMBASE field included, so this CPU
                 * RSMs with SMBASE 0x30000 (and the neighbour's reset-vector state: it parks in
                 * reset16). The ping then brings it back to the closed gate inside the locked
                 * window. By now every such CPU is already in SMM, so admitting it once more
                 * is safe; the arrival stays the only proof.
                 */
                struct line l;

                line_begin(&l, "warn relocation-retry");
                line_dec(&l, "apic", a);
                line_dec(&l, "slot", slot);
                line_str(&l, "reason", "no-arrival");
                line_end(&l);
                goto again;
            } else {
                reloc_fatal("arrive", a);
            }
        }
    }
    e->state = CPU_PRESENT;

    struct line l;
    line_begin(&l, "relocated cpu");
    line_dec(&l, "apic", a);
    line_dec(&l, "slot", slot);
    line_hex(&l, "smbase", e->smbase);
    line_str(&l, "path", path);
    line_str(&l, "phase", phase_name(phase));
    line_end(&l);
    return RELOC_OK;
}
