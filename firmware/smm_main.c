/*
 * smm_main.c - the SMM run-time core: entry through a tile, identity check, SMI rounds with
 * slot 0 as monarch, the hot-plug and hot-unplug flows. Contract: ../shared/spec/firmware.md
 * §4, §6, §7, §8.3.
 *
 * SMM reads no normal RAM: every input is the CPU table in SMRAM, CPUID, the hot-plug block
 * (validated against the table) and APM_CNT. It writes normal RAM only to re-copy the pen.
 */
#include "cpu/smm_state.h" /* the save-state map, shared with the emulator */
#include "hw.h"
#include "lib.h"
#include "reloc.h"
#include "smram.h"

struct smm_data smm;

void smm_c_entry(uint32_t slot);
void smm_exception(uint64_t vector, uint64_t rip);

static uint32_t slot_status(unsigned slot)
{
    outl(CPUHP_SEL, slot);
    return inb(CPUHP_STATUS);
}

static void send_smi_to_missing(void)
{
    uint32_t e = smm.epoch;

    for (unsigned s = 0; s < smm.possible; s++) {
        struct cpu_entry *c = &smm.cpu[s];
        if (c->state == CPU_PRESENT && atomic_load32(&c->checkin) != e &&
            c->apic_id != cpu_apic_id())
            apic_send(c->apic_id, ICR_SMI);
    }
}

/* §11: the interrupted context of the CPU that hit the fatal error, from its own save area
 * (in SMRAM), printed just before the fatal line. */
static void print_fatal_state(void)
{
    uint32_t id = cpu_apic_id();

    for (unsigned s = 0; s < smm.possible; s++) {
        if (smm.cpu[s].apic_id != id || smm.cpu[s].state == CPU_ABSENT)
            continue;
        const struct smm_state_save *ss = (const struct smm_state_save *)(uintptr_t)(
            smm.cpu[s].smbase + SMM_SAVE_OFFSET);
        struct line l;
        line_begin(&l, "fatal-state");
        line_dec(&l, "apic", id);
        line_dec(&l, "slot", s);
        line_hex(&l, "rip", ss->rip);
        line_hex(&l, "cs", ss->seg[SMM_SEG_CS].selector);
        line_hex(&l, "cr0", (uint32_t)ss->cr0);
        line_hex(&l, "cr3", ss->cr3);
        line_hex(&l, "cr4", (uint32_t)ss->cr4);
        line_hex(&l, "efer", ss->efer);
        line_end(&l);
        return;
    }
}

__attribute__((noreturn)) void fatal_finish(struct line *l)
{
    if (!atomic_load32(&smm.fatal))
        print_fatal_state();
    line_end(l);
    atomic_store32(&smm.fatal, 1);
    if (apic_mode_ok())
        send_smi_to_missing();
    cpu_halt_forever();
}

void smm_exception(uint64_t vector, uint64_t rip)
{
    struct line l;

    line_begin(&l, "fatal smm-exception");
    line_dec(&l, "vector", vector);
    line_hex(&l, "rip", rip);
    fatal_finish(&l);
}

static __attribute__((noreturn)) void stop_on_fatal(void)
{
    cpu_halt_forever();
}

static void warn_slot(const char *code, unsigned slot)
{
    struct line l;

    line_begin(&l, "warn");
    line_append(&l, code);
    line_dec(&l, "apic", smm.cpu[slot].apic_id);
    line_dec(&l, "slot", slot);
    line_end(&l);
}

/* ---- §4.3 step 2: rendezvous ---- */

static int all_checked_in(uint32_t e)
{
    for (unsigned s = 1; s < smm.possible; s++) {
        struct cpu_entry *c = &smm.cpu[s];
        if (c->state == CPU_PRESENT && atomic_load32(&c->checkin) != e)
            return 0;
    }
    return 1;
}

static void wait_all_in(uint32_t e)
{
    struct deadline d;

    deadline_start(&d, T_SYNC);
    while (!all_checked_in(e) && !deadline_expired(&d))
        cpu_pause();
}

static unsigned count_state(uint32_t e, int checked_in)
{
    unsigned n = 0;

    for (unsigned s = 0; s < smm.possible; s++) {
        struct cpu_entry *c = &smm.cpu[s];
        if (c->state != CPU_PRESENT)
            continue;
        if ((atomic_load32(&c->checkin) == e) == checked_in)
            n++;
    }
    return n;
}

static void rendezvous(uint32_t e)
{
    wait_all_in(e);
    if (all_checked_in(e))
        return;
    /* §8.2: the OS may have moved or disabled the local APIC; never drive one we cannot trust */
    if (!apic_mode_ok())
        fatal_simple("apic-mode");
    send_smi_to_missing();
    wait_all_in(e);
    for (unsigned s = 1; s < smm.possible; s++) {
        struct cpu_entry *c = &smm.cpu[s];
        if (c->state != CPU_PRESENT || atomic_load32(&c->checkin) == e)
            continue;
        if (!(slot_status(s) & CPUHP_ST_ENABLED)) {
            c->state = CPU_ABSENT;
            warn_slot("cpu-vanished", s);
        } else {
            warn_slot("rendezvous-incomplete", s);
        }
    }
}

/* ---- §6.2/§6.3: enumeration with validation ---- */

static __attribute__((noreturn)) void hp_protocol(unsigned sel, uint32_t st)
{
    struct line l;

    line_begin(&l, "fatal hotplug-protocol");
    line_dec(&l, "sel", sel);
    line_hex(&l, "status", st);
    fatal_finish(&l);
}

static __attribute__((noreturn)) void hp_reason(const char *reason)
{
    struct line l;

    line_begin(&l, "fatal hotplug-protocol");
    line_str(&l, "reason", reason);
    fatal_finish(&l);
}

struct hp_lists {
    unsigned plug[SMMFW_MAX_CPUS], nplug;
    unsigned unplug[SMMFW_MAX_CPUS], nunplug;
    unsigned unknown[SMMFW_MAX_CPUS], nunknown;
};

static struct hp_lists lists;

static void hp_check_arch(unsigned p)
{
    outb(CPUHP_CMD, CPUHP_CMD_GET_ARCH_ID);
    uint32_t id = inl(CPUHP_DATA);
    uint32_t hi = inl(CPUHP_SEL);
    if (id != smm.cpu[p].apic_id || hi != 0) {
        struct line l;

        line_begin(&l, "fatal hotplug-apic-mismatch");
        line_dec(&l, "sel", p);
        line_dec(&l, "apic", id);
        line_dec(&l, "expected", smm.cpu[p].apic_id);
        fatal_finish(&l);
    }
}

static void hp_enumerate(void)
{
    unsigned P = smm.possible, cur = 0, iterations = 0;

    lists.nplug = lists.nunplug = lists.nunknown = 0;
    while (cur < P) {
        if (++iterations > P + 1)
            hp_reason("no-termination");
        outl(CPUHP_SEL, cur);
        outb(CPUHP_CMD, CPUHP_CMD_GET_PENDING);
        uint32_t p = inl(CPUHP_DATA);
        if (p >= P)
            hp_protocol(p, 0);
        if (p < cur)
            break;
        uint32_t st = inb(CPUHP_STATUS);
        if (!(st & (CPUHP_ST_INSERT | CPUHP_ST_REMOVE | CPUHP_ST_FW_REMOVE)))
            break;
        struct cpu_entry *c = &smm.cpu[p];
        if (st & CPUHP_ST_INSERT) {
            if (!(st & CPUHP_ST_ENABLED) || (st & CPUHP_ST_FW_REMOVE))
                hp_protocol(p, st);
            hp_check_arch(p);
            if (c->state == CPU_PRESENT) {
                struct line l;

                line_begin(&l, "hotplug skip");
                line_dec(&l, "apic", c->apic_id);
                line_dec(&l, "sel", p);
                line_str(&l, "reason", "present");
                line_end(&l);
            } else if (c->state == CPU_ABSENT) {
                lists.plug[lists.nplug++] = p;
            } else {
                hp_protocol(p, st);
            }
        } else if (st & CPUHP_ST_FW_REMOVE) {
            if (!(st & CPUHP_ST_ENABLED) || p == 0)
                hp_protocol(p, st);
            hp_check_arch(p);
            if (c->state == CPU_PRESENT)
                lists.unplug[lists.nunplug++] = p;
            else if (c->state == CPU_ABSENT)
                lists.unknown[lists.nunknown++] = p;
            else
                hp_protocol(p, st);
        }
        /* remove-only events belong to OSPM */
        cur = p + 1;
    }
}

/* §7 step 4: eject one slot now that its CPU is parked (or never took part). */
static void eject_slot(unsigned s)
{
    uint32_t st = slot_status(s);

    if ((st & (CPUHP_ST_ENABLED | CPUHP_ST_FW_REMOVE)) != (CPUHP_ST_ENABLED | CPUHP_ST_FW_REMOVE)) {
        struct line l;

        line_begin(&l, "fatal eject-failed");
        line_dec(&l, "slot", s);
        line_hex(&l, "status", st);
        fatal_finish(&l);
    }
    outb(CPUHP_STATUS, CPUHP_CTL_EJECT);
    st = slot_status(s);
    if (st != 0) {
        struct line l;

        line_begin(&l, "fatal eject-failed");
        line_dec(&l, "slot", s);
        line_hex(&l, "status", st);
        fatal_finish(&l);
    }
    struct cpu_entry *c = &smm.cpu[s];
    c->state = CPU_ABSENT;
    c->expected = c->arrived = c->parked = 0;
    struct line l;
    line_begin(&l, "ejected cpu");
    line_dec(&l, "apic", c->apic_id);
    line_dec(&l, "slot", s);
    line_end(&l);
}

static void hp_dispatch(void)
{
    hp_enumerate();

    struct line l;
    line_begin(&l, "hotplug scan");
    line_dec(&l, "plugged", lists.nplug);
    line_dec(&l, "unplug", lists.nunplug + lists.nunknown);
    line_end(&l);

    if (lists.nplug && !apic_mode_ok())
        fatal_simple("apic-mode");
    for (unsigned i = 0; i < lists.nplug; i++) {
        unsigned s = lists.plug[i];

        line_begin(&l, "hotplug add");
        line_dec(&l, "apic", smm.cpu[s].apic_id);
        line_dec(&l, "sel", s);
        line_end(&l);
        if (i == 0)
            reloc_copy_pen();
        if (reloc_cpu(&smm, s, PHASE_HOTPLUG) != RELOC_OK) {
            line_begin(&l, "warn relocation-failed");
            line_dec(&l, "apic", smm.cpu[s].apic_id);
            line_dec(&l, "slot", s);
            line_str(&l, "reason", "no-smm-entry");
            line_end(&l);
        }
    }
    for (unsigned i = 0; i < lists.nunplug; i++) {
        unsigned s = lists.unplug[i];

        line_begin(&l, "hotplug remove");
        line_dec(&l, "apic", smm.cpu[s].apic_id);
        line_dec(&l, "sel", s);
        line_end(&l);
        smm.cpu[s].parked = 0;
        smm.cpu[s].state = CPU_EJECTING;
    }
}

/* ---- monarch and AP paths, §4.3 ---- */

static void monarch(void)
{
    uint32_t e = smm.epoch + 1;
    struct line l;

    atomic_store32(&smm.epoch, e);
    atomic_store32(&smm.cpu[0].checkin, e);
    atomic_store32(&smm.open, 1);

    rendezvous(e);

    uint8_t cmd = inb(APM_CNT);
    unsigned arrived = count_state(e, 1);
    unsigned missing = count_state(e, 0);
    line_begin(&l, "smi");
    line_hex(&l, "cmd", cmd);
    line_dec(&l, "epoch", e);
    line_dec(&l, "arrived", arrived);
    line_dec(&l, "missing", missing);
    line_dec(&l, "waiting", FSC_CTX->waiting);
    line_end(&l);

    if (cmd == APM_CMD_HOTPLUG)
        hp_dispatch();

    /* Publish the eject list (slot states) before the release. */
    atomic_store32(&smm.released, e);

    for (unsigned i = 0; i < lists.nunknown; i++) {
        unsigned s = lists.unknown[i];

        line_begin(&l, "warn unknown-eject");
        line_dec(&l, "apic", smm.cpu[s].apic_id);
        line_dec(&l, "slot", s);
        line_end(&l);
        eject_slot(s);
    }
    if (lists.nunplug) {
        struct deadline d;
        deadline_start(&d, T_PARK);
        for (unsigned i = 0; i < lists.nunplug; i++) {
            struct cpu_entry *c = &smm.cpu[lists.unplug[i]];
            if (atomic_load32(&c->checkin) != e)
                continue; /* never checked in: ejected without parking */
            while (!atomic_load32(&c->parked)) {
                if (deadline_expired(&d)) {
                    line_begin(&l, "fatal eject-park");
                    line_dec(&l, "apic", c->apic_id);
                    line_dec(&l, "slot", lists.unplug[i]);
                    fatal_finish(&l);
                }
                cpu_pause();
            }
        }
        for (unsigned i = 0; i < lists.nunplug; i++)
            eject_slot(lists.unplug[i]);
    }
    lists.nplug = lists.nunplug = lists.nunknown = 0;
    atomic_store32(&smm.ejects_done, e);

    /* Wait for everybody who checked in to check out. */
    struct deadline d;
    deadline_start(&d, T_RELEASE);
    for (unsigned s = 1; s < smm.possible; s++) {
        struct cpu_entry *c = &smm.cpu[s];
        while (c->state == CPU_PRESENT && atomic_load32(&c->checkin) == e &&
               atomic_load32(&c->checkout) != e) {
            if (deadline_expired(&d))
                break;
            cpu_pause();
        }
    }
    atomic_store32(&smm.open, 0);
}

static void wait_epoch(volatile uint32_t *field, uint32_t e)
{
    struct deadline d;

    deadline_start(&d, T_RELEASE);
    while (atomic_load32(field) != e) {
        if (atomic_load32(&smm.fatal))
            stop_on_fatal();
        if (deadline_expired(&d))
            return;
        cpu_pause();
    }
}

static void ap(unsigned slot)
{
    struct cpu_entry *c = &smm.cpu[slot];
    struct deadline d;
    uint32_t e;

    deadline_start(&d, T_SYNC);
    for (;;) {
        if (atomic_load32(&smm.fatal))
            stop_on_fatal();
        if (atomic_load32(&smm.open)) {
            e = atomic_load32(&smm.epoch);
            if (atomic_load32(&smm.released) != e && c->checkin != e)
                break;
        }
        if (deadline_expired(&d)) {
            smm.stray++;
            return;
        }
        cpu_pause();
    }
    atomic_store32(&c->checkin, e);
    wait_epoch(&smm.released, e);
    if (c->state == CPU_EJECTING) {
        atomic_store32(&c->parked, 1);
        cpu_halt_forever();
    }
    wait_epoch(&smm.ejects_done, e);
    atomic_store32(&c->checkout, e);
}

void smm_c_entry(uint32_t slot)
{
    console_use_lock(&smm.console_lock);
    if (atomic_load32(&smm.fatal))
        stop_on_fatal();
    if (slot >= smm.possible)
        fatal_simple("smbase-collision");
    struct cpu_entry *c = &smm.cpu[slot];
    uint32_t id = cpu_apic_id();
    if (id != c->apic_id || c->state == CPU_ABSENT) {
        struct line l;

        line_begin(&l, "fatal smbase-collision");
        line_dec(&l, "apic", id);
        line_dec(&l, "slot", slot);
        fatal_finish(&l);
    }
    if (atomic_load32(&c->expected)) {
        atomic_store32(&c->expected, 0);
        atomic_store32(&c->arrived, 1);
        /* The relocation proof (§5.5). Boot and S3 relocation run without rounds. */
        if (!atomic_load32(&smm.open))
            return;
    }
    if (!atomic_load32(&smm.runtime))
        return;
    if (slot == 0)
        monarch();
    else
        ap(slot);
}
