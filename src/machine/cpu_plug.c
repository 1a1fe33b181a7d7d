/*
 * cpu_plug.c - CPU objects over their life: creation in a slot of the
 * possible-CPU list at start-up or by device_add, the remove request of
 * device_del, the eject the 0x0CD8 block performs, and a re-plug of the same
 * slot. Contract: platform.md §5.1, §5.5-5.7, §6.8; QEMU 7.2's messages and
 * check order, observed over QMP (tests/qmp).
 *
 * Check order of device_add, as QEMU does it: driver, id, properties (names
 * and types), CPU type, the SMI negotiation rule, then topology and slot.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"
#include "util.h"

#define UNSET (-1)

static bool fail(struct plug_error *err, enum plug_error_class cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(struct plug_error *err, enum plug_error_class cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->cls = cls;
    vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
    err->hint[0] = 0;
    va_end(ap);
    return false;
}

unsigned dev_props_parse(char *opts, struct dev_prop *props, unsigned max)
{
    unsigned n = 0;
    char *save = NULL;
    for (char *t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == max)
            return max + 1;
        char *eq = strchr(t, '=');
        if (n == 0 && !eq) {
            props[n++] = (struct dev_prop){ .name = "driver", .kind = DEV_PROP_STRING, .str = t };
            continue;
        }
        if (eq)
            *eq = 0;
        props[n++] = (struct dev_prop){ .name = t, .kind = DEV_PROP_STRING, .str = eq ? eq + 1 : "on" };
    }
    return n;
}

void machine_slot_topology(const struct machine_config *cfg, unsigned k, unsigned *socket,
                           unsigned *core, unsigned *thread)
{
    unsigned threads = cfg->threads ? cfg->threads : 1, cores = cfg->cores ? cfg->cores : 1;
    *thread = k % threads;
    *core = (k / threads) % cores;
    *socket = k / (threads * cores);
}

/* QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
static bool id_wellformed(const char *id)
{
    if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')))
        return false;
    for (const char *p = id + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_'))
            return false;
    return strlen(id) < MACHINE_ID_MAX;
}

static bool id_taken(const struct machine *m, const char *id)
{
    for (unsigned k = 0; k < m->n_slots; k++)
        if (m->cpus[k] && !strcmp(m->slot[k].id, id))
            return true;
    for (unsigned k = 0; k < m->n_device_ids; k++)
        if (!strcmp(m->device_ids[k], id))
            return true;
    return false;
}

bool machine_register_device(struct machine *m, const char *id)
{
    if (!id) {
        m->anon_devices++;
        return true;
    }
    if (id_taken(m, id) || m->n_device_ids == MACHINE_MAX_DEVICES)
        return false;
    snprintf(m->device_ids[m->n_device_ids++], MACHINE_ID_MAX, "%s", id);
    return true;
}

/* A property value as an integer: QMP numbers, and strings QEMU's visitors
 * accept ("2", "0x2"); is_signed selects int32_t, else uint32_t. */
static bool prop_int(const struct dev_prop *p, bool is_signed, int64_t *out, struct plug_error *err)
{
    int64_t v;
    if (p->kind == DEV_PROP_INT) {
        v = p->num;
    } else if (p->kind == DEV_PROP_STRING && p->str[0]) {
        char *end;
        long long x = strtoll(p->str, &end, 0);
        if (*end)
            return fail(err, PLUG_GENERIC_ERROR, "Parameter '%s' expects integer", p->name);
        v = x;
    } else {
        return fail(err, PLUG_GENERIC_ERROR, "Parameter '%s' expects integer", p->name);
    }
    if (is_signed ? (v < INT32_MIN || v > INT32_MAX) : (v < 0 || v > UINT32_MAX))
        return fail(err, PLUG_GENERIC_ERROR, "Parameter '%s' expects %s", p->name,
                    is_signed ? "int32_t" : "uint32_t");
    *out = v;
    return true;
}

/* The properties a CPU device takes, parsed. */
struct cpu_request {
    const char *driver, *id;
    int64_t socket, die, core, thread;
    int64_t apic_id; /* UNSET if not given */
};

static bool is_x86_cpu_type(const char *driver)
{
    size_t n = strlen(driver), sfx = strlen("-x86_64-cpu");
    return n > sfx && !strcmp(driver + n - sfx, "-x86_64-cpu");
}

static bool parse_request(const struct machine *m, const struct dev_prop *props, unsigned n,
                          struct cpu_request *rq, struct plug_error *err)
{
    *rq = (struct cpu_request){ .socket = UNSET, .die = UNSET, .core = UNSET, .thread = UNSET,
                                .apic_id = UNSET };
    char driver_buf[32];
    for (unsigned k = 0; k < n; k++) {
        if (strcmp(props[k].name, "driver"))
            continue;
        if (props[k].kind == DEV_PROP_STRING) {
            rq->driver = props[k].str;
        } else if (props[k].kind == DEV_PROP_INT) { /* QEMU prints a number it was given */
            snprintf(driver_buf, sizeof(driver_buf), "%" PRId64, props[k].num);
            return fail(err, PLUG_GENERIC_ERROR, "'%s' is not a valid device model name", driver_buf);
        } else {
            return fail(err, PLUG_GENERIC_ERROR, "Parameter 'driver' expects string");
        }
    }
    if (!rq->driver)
        return fail(err, PLUG_GENERIC_ERROR, "Parameter 'driver' is missing");
    if (strcmp(rq->driver, MACHINE_CPU_TYPE) && !is_x86_cpu_type(rq->driver)) {
        if (!strcmp(rq->driver, "isa-debugcon") || !strcmp(rq->driver, "isa-debug-exit"))
            return fail(err, PLUG_GENERIC_ERROR, "Bus 'isa.0' does not support hotplugging");
        return fail(err, PLUG_GENERIC_ERROR, "'%s' is not a valid device model name", rq->driver);
    }
    for (unsigned k = 0; k < n; k++) {
        if (strcmp(props[k].name, "id"))
            continue;
        if (props[k].kind != DEV_PROP_STRING || !id_wellformed(props[k].str))
            return fail(err, PLUG_GENERIC_ERROR, "Parameter 'id' expects an identifier");
        rq->id = props[k].str;
    }
    if (rq->id && id_taken(m, rq->id))
        return fail(err, PLUG_GENERIC_ERROR, "Duplicate device ID '%s'", rq->id);
    for (unsigned k = 0; k < n; k++) {
        const struct dev_prop *p = &props[k];
        int64_t *slot = NULL;
        bool is_signed = true;
        if (!strcmp(p->name, "driver") || !strcmp(p->name, "id"))
            continue;
        if (!strcmp(p->name, "socket-id"))
            slot = &rq->socket;
        else if (!strcmp(p->name, "die-id"))
            slot = &rq->die;
        else if (!strcmp(p->name, "core-id"))
            slot = &rq->core;
        else if (!strcmp(p->name, "thread-id"))
            slot = &rq->thread;
        else if (!strcmp(p->name, "apic-id"))
            slot = &rq->apic_id, is_signed = false;
        else if (strcmp(p->name, "node-id")) /* no NUMA: any node-id is accepted, as QEMU does */
            return fail(err, PLUG_GENERIC_ERROR, "Property '%s.%s' not found", rq->driver, p->name);
        int64_t v = 0;
        if (!prop_int(p, is_signed, &v, err))
            return false;
        if (slot)
            *slot = v;
    }
    return true;
}

static unsigned count_of(unsigned v)
{
    return v ? v : 1;
}

/* Slot of a request, QEMU's x86_cpu_pre_plug() order. */
static bool resolve_slot(const struct machine *m, struct cpu_request *rq, unsigned *slot_out,
                         struct plug_error *err)
{
    const struct machine_config *cfg = &m->cfg;
    unsigned sockets = count_of(cfg->sockets), cores = count_of(cfg->cores),
             threads = count_of(cfg->threads);
    if (rq->apic_id == UNSET) {
        if (rq->socket < 0)
            return fail(err, PLUG_GENERIC_ERROR, "CPU socket-id is not set");
        if (rq->socket > sockets - 1)
            return fail(err, PLUG_GENERIC_ERROR, "Invalid CPU socket-id: %u must be in range 0:%u",
                        (unsigned)rq->socket, sockets - 1);
        if (rq->die < 0)
            rq->die = 0; /* one die per socket: QEMU fills it in */
        if (rq->die > 0)
            return fail(err, PLUG_GENERIC_ERROR, "Invalid CPU die-id: %u must be in range 0:0",
                        (unsigned)rq->die);
        if (rq->core < 0)
            return fail(err, PLUG_GENERIC_ERROR, "CPU core-id is not set");
        if (rq->core > cores - 1)
            return fail(err, PLUG_GENERIC_ERROR, "Invalid CPU core-id: %u must be in range 0:%u",
                        (unsigned)rq->core, cores - 1);
        if (rq->thread < 0)
            return fail(err, PLUG_GENERIC_ERROR, "CPU thread-id is not set");
        if (rq->thread > threads - 1)
            return fail(err, PLUG_GENERIC_ERROR, "Invalid CPU thread-id: %u must be in range 0:%u",
                        (unsigned)rq->thread, threads - 1);
        unsigned k = ((unsigned)rq->socket * cores + (unsigned)rq->core) * threads + (unsigned)rq->thread;
        rq->apic_id = machine_apic_id(cfg, k);
    }
    int found = -1;
    for (unsigned k = 0; k < m->n_slots; k++)
        if (m->slot[k].apic_id == (uint32_t)rq->apic_id)
            found = (int)k;
    uint32_t apic = (uint32_t)rq->apic_id;
    unsigned tb = machine_bits_for(threads), cb = machine_bits_for(cores);
    unsigned a_socket = apic >> (tb + cb), a_core = (apic >> tb) & ((1u << cb) - 1),
             a_thread = apic & ((1u << tb) - 1);
    if (found < 0)
        return fail(err, PLUG_GENERIC_ERROR,
                    "Invalid CPU [socket: %u, die: 0, core: %u, thread: %u] with APIC ID %" PRIu32
                    ", valid index range 0:%u",
                    a_socket, a_core, a_thread, apic, m->n_slots - 1);
    if (m->cpus[found])
        return fail(err, PLUG_GENERIC_ERROR, "CPU[%d] with APIC ID %" PRIu32 " exists", found, apic);
    const struct { const char *name; int64_t given; unsigned actual; } match[] = {
        { "socket-id", rq->socket, a_socket },
        { "die-id", rq->die, 0 },
        { "core-id", rq->core, a_core },
        { "thread-id", rq->thread, a_thread },
    };
    for (unsigned k = 0; k < 4; k++)
        if (match[k].given != UNSET && match[k].given != (int64_t)match[k].actual)
            return fail(err, PLUG_GENERIC_ERROR,
                        "property %s: %u doesn't match set apic-id: 0x%" PRIx32 " (%s: %u)",
                        match[k].name, (unsigned)match[k].given, apic, match[k].name,
                        match[k].actual);
    *slot_out = (unsigned)found;
    return true;
}

/* NB_CPUS and CMOS 0x5F follow the present count (platform.md §5.5, test 45). */
static void present_changed(struct machine *m)
{
    fw_cfg_set_nb_cpus(&m->chipset.fw_cfg, (uint16_t)m->n_present);
    rtc_cmos_set(&m->chipset.rtc, 0x5F, (uint8_t)(m->n_present - 1));
}

void machine_create_cpu_space(struct machine *m, unsigned k, bool smm)
{
    char name[32];
    snprintf(name, sizeof(name), smm ? "cpu-smm-%u" : "cpu-memory-%u", k);
    if (!smm) {
        m->as_cpu_memory[k] = mem_space_create(&m->mem, name, m->system);
        return;
    }
    /* SMM view: SMRAM over the normal system memory (platform.md §1.4). */
    struct mem_region *root = mem_region_container(&m->mem, "memory", UINT64_MAX);
    mem_region_add(root, mem_region_alias(&m->mem, "smram", m->smram, 0, 4ull << 30), 0, 1);
    mem_region_add(root, mem_region_alias(&m->mem, "memory", m->system, 0, UINT64_MAX), 0, 0);
    m->as_cpu_smm[k] = mem_space_create(&m->mem, name, root);
}

static void create_cpu(struct machine *m, unsigned k, const char *qom_path, const char *id)
{
    if (!m->as_cpu_memory[k]) {
        /* First use of the slot: an eject hides its spaces and a re-plug shows them again. */
        machine_create_cpu_space(m, k, false);
        machine_create_cpu_space(m, k, true);
    }
    mem_space_set_hidden(m->as_cpu_memory[k], false);
    mem_space_set_hidden(m->as_cpu_smm[k], false);
    struct cpu *c = xcalloc(1, sizeof(*c));
    cpu_init(c, k, m->blocks, m->as_cpu_memory[k], m->as_cpu_smm[k], m->as_io);
    const struct machine_config *cfg = &m->cfg;
    unsigned threads = count_of(cfg->threads), cores = count_of(cfg->cores);
    c->apic_id = m->slot[k].apic_id;
    c->topo_threads = (uint16_t)threads;
    c->topo_cores = (uint16_t)cores;
    c->topo_thread_bits = (uint8_t)machine_bits_for(threads);
    c->topo_core_bits = (uint8_t)machine_bits_for(cores);
    cpu_reset(c, k == 0); /* again, so the APIC ID register holds the topology ID */
    c->virtual_time = &m->virtual_time;
    c->machine = m;
    c->log = cfg->log;
    c->log_guest_errors = cfg->log_guest_errors;
    c->tcg_smm_compat = cfg->tcg_smm_compat;
    machine_attach_cpu(m, c);
    chipset_add_cpu(&m->chipset, c, k);
    m->cpus[k] = c;
    snprintf(m->slot[k].qom_path, sizeof(m->slot[k].qom_path), "%s", qom_path);
    snprintf(m->slot[k].id, sizeof(m->slot[k].id), "%s", id ? id : "");
    m->n_present++;
    present_changed(m);
}

void machine_create_boot_cpu(struct machine *m, unsigned k)
{
    char path[96];
    /* -smp CPUs are QEMU's first unattached objects. */
    snprintf(path, sizeof(path), "/machine/unattached/device[%u]", k);
    create_cpu(m, k, path, NULL);
}

bool machine_device_add(struct machine *m, const struct dev_prop *props, unsigned n, bool cold,
                        struct plug_error *err)
{
    struct cpu_request rq;
    if (!parse_request(m, props, n, &rq, err))
        return false;
    if (strcmp(rq.driver, MACHINE_CPU_TYPE))
        return fail(err, PLUG_GENERIC_ERROR, "Invalid CPU type, expected cpu type: '%s'",
                    MACHINE_CPU_TYPE);
    /* The device exists from here on in QEMU, so an anonymous one takes a number
     * even when the checks below refuse it. */
    unsigned anon = m->anon_devices;
    if (!rq.id)
        m->anon_devices++;
    uint64_t negotiated = fw_cfg_smi_negotiated(&m->chipset.fw_cfg);
    if ((negotiated & 1) && !(negotiated & 2)) {
        fail(err, PLUG_GENERIC_ERROR, "cpu hotplug with SMI wasn't enabled by firmware");
        snprintf(err->hint, sizeof(err->hint),
                 "update machine type to newer than 5.1 and firmware that suppors CPU hotplug with SMM");
        return false;
    }
    unsigned k = 0;
    if (!resolve_slot(m, &rq, &k, err))
        return false;
    char path[96];
    if (rq.id)
        snprintf(path, sizeof(path), "/machine/peripheral/%s", rq.id);
    else
        snprintf(path, sizeof(path), "/machine/peripheral-anon/device[%u]", anon);
    create_cpu(m, k, path, rq.id);
    if (!cold) {
        /* A hot-added CPU waits for INIT-SIPI-SIPI and takes part in every later SMI
         * broadcast (platform.md §6.8); the OS learns of it through GPE0 bit 2. */
        cpu_hotplug_insert(&m->chipset.hotplug, k);
    }
    return true;
}

int machine_find_cpu_slot(const struct machine *m, const char *id_or_path)
{
    for (unsigned k = 0; k < m->n_slots; k++) {
        if (!m->cpus[k])
            continue;
        if ((m->slot[k].id[0] && !strcmp(m->slot[k].id, id_or_path)) ||
            !strcmp(m->slot[k].qom_path, id_or_path))
            return (int)k;
    }
    return -1;
}

bool machine_device_del(struct machine *m, const char *id, struct plug_error *err)
{
    int k = machine_find_cpu_slot(m, id);
    if (k < 0) {
        for (unsigned d = 0; d < m->n_device_ids; d++) {
            char path[96];
            snprintf(path, sizeof(path), "/machine/peripheral/%s", m->device_ids[d]);
            if (!strcmp(m->device_ids[d], id) || !strcmp(path, id))
                return fail(err, PLUG_GENERIC_ERROR, "Bus 'isa.0' does not support hotplugging");
        }
        return fail(err, PLUG_DEVICE_NOT_FOUND, "Device '%s' not found", id);
    }
    if (k == 0)
        return fail(err, PLUG_GENERIC_ERROR, "Boot CPU is unpluggable");
    if (!m->chipset.hotplug.modern_mode)
        return fail(err, PLUG_GENERIC_ERROR,
                    "acpi: device unplug request for not supported device type: %s", MACHINE_CPU_TYPE);
    uint64_t negotiated = fw_cfg_smi_negotiated(&m->chipset.fw_cfg);
    if ((negotiated & 1) && !(negotiated & 4))
        return fail(err, PLUG_GENERIC_ERROR, "cpu hot-unplug with SMI wasn't enabled by firmware");
    cpu_hotplug_request_remove(&m->chipset.hotplug, (unsigned)k);
    return true;
}

void machine_eject_cpu(struct machine *m, unsigned k)
{
    struct cpu *c = k < m->n_slots ? m->cpus[k] : NULL;
    if (!c || k == 0)
        return;
    /* It never executes another instruction, and what it had pending dies with it
     * (platform.md §5.5). The object itself may be the CPU running this OUT, so it
     * is freed only when that CPU's turn ends. */
    c->state = CPU_SHUTDOWN;
    c->smi_pending = c->nmi_pending = c->init_latched = false;
    c->yield = c->block_exit = true;
    chipset_remove_cpu(&m->chipset, k);
    m->cpus[k] = NULL;
    m->doomed[m->n_doomed++] = c;
    mem_space_set_hidden(m->as_cpu_memory[k], true);
    mem_space_set_hidden(m->as_cpu_smm[k], true);
    m->n_present--;
    present_changed(m);
    struct cpu_slot *s = &m->slot[k];
    char lapic[112];
    /* QEMU 7.2 reports the CPU's lapic child; smmvm then reports the CPU itself,
     * which is what a client waiting for its device id needs. */
    snprintf(lapic, sizeof(lapic), "%s/lapic", s->qom_path);
    machine_emit(m, &(struct machine_event){ .kind = MACHINE_EVENT_DEVICE_DELETED, .path = lapic });
    machine_emit(m, &(struct machine_event){ .kind = MACHINE_EVENT_DEVICE_DELETED,
                                             .device = s->id, .path = s->qom_path });
    s->id[0] = 0;
    s->qom_path[0] = 0;
}

void machine_free_doomed(struct machine *m)
{
    for (unsigned k = 0; k < m->n_doomed; k++) {
        cpu_destroy(m->doomed[k]);
        free(m->doomed[k]);
    }
    m->n_doomed = 0;
}
