/*
 * monitor.c - HMP text commands over stdio or a unix socket. Contract:
 * DESIGN.md "Interfaces that users see"; output formats of `info mtree` are
 * platform.md §2.10 (printed by mem/), `info pci` follows QEMU's layout.
 *
 * Input is line-buffered per channel; a line is executed when its newline
 * arrives, between two scheduler rounds, so it acts at a round boundary.
 * Bad input gets one error line and the monitor keeps going.
 */
#include "monitor/monitor.h"

#include <stdlib.h>
#include <string.h>

#include "hw/pci.h"
#include "hw/q35_mch.h"
#include "machine/machine.h"
#include "mem/memory.h"
#include "monitor/channel.h"
#include "util.h"

#define LINE_MAX_BYTES 4096

struct monitor {
    struct machine *m;
    struct channel *ch;
    char line[LINE_MAX_BYTES];
    size_t len;
    bool overflow;
};

static const char banner[] = "smmvm monitor - type 'help' for more information\n";
static const char prompt[] = "(smmvm) ";

static void print_help(FILE *out)
{
    fputs("help                    -- list the commands\n"
          "info mtree [-f] [-D]    -- the memory-region tree (disabled regions included);\n"
          "                           -f: the flattened views\n"
          "info pci                -- the PCI functions\n"
          "info smram              -- SMRAM registers (0x9C, 0x9D, 0x9E, 0x50, TSEG), the negotiated\n"
          "                           SMI features, each CPU's SMBASE and whether it is in SMRAM\n"
          "info cpus               -- every CPU: APIC ID, run state, SMM, SMBASE, RIP\n"
          "info registers [-a]     -- the registers of CPU 0 (-a: of every CPU)\n"
          "info hotpluggable-cpus  -- every possible CPU slot, its topology and QOM path\n"
          "info status             -- running, paused or prelaunch\n"
          "info clock              -- virtual time and the instructions each CPU retired\n"
          "device_add qemu64-x86_64-cpu,socket-id=S,core-id=C,thread-id=T[,id=ID]\n"
          "                        -- hot-plug a CPU into a free slot (platform.md §5.6)\n"
          "device_del ID|QOM-PATH  -- ask the guest to eject a CPU (remove event, GPE0 bit 2)\n"
          "stop, cont              -- pause and resume the virtual CPUs\n"
          "system_reset            -- reset the system (platform.md §7.1)\n"
          "quit                    -- quit the emulator\n",
          out);
}

static unsigned split_words(char *s, char **words, unsigned max)
{
    unsigned n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == max)
            return max + 1;
        words[n++] = t;
    }
    return n;
}

static const char *run_state_name(const struct cpu *c)
{
    switch (c->state) {
    case CPU_RUNNING: return "running";
    case CPU_HALTED: return "halted";
    case CPU_WAIT_SIPI: return "wait-for-sipi";
    default: return "shutdown";
    }
}

/* Is [addr, addr+len) SMRAM: a black hole for non-SMM accesses and RAM for SMM? */
static bool range_is_smram(struct machine *m, unsigned cpu, uint64_t addr, uint64_t len)
{
    for (uint64_t a = addr; a < addr + len; a += 0x1000) {
        const struct flat_range *n = mem_space_lookup(m->as_memory, a);
        const struct flat_range *s = mem_space_lookup(m->as_cpu_smm[cpu], a);
        if (!n || n->mr->kind != MEM_BLACKHOLE || !s || s->mr->kind != MEM_RAM)
            return false;
    }
    return true;
}

static void print_cpus(struct machine *m, FILE *out)
{
    for (unsigned k = 0; k < m->n_slots; k++) {
        const struct cpu *c = m->cpus[k];
        if (!c)
            continue;
        fprintf(out, "%c CPU #%u: apic_id=%u state=%s smm=%s smbase=0x%08x rip=0x%016llx%s\n",
                k == 0 ? '*' : ' ', k, c->apic_id, run_state_name(c), c->in_smm ? "yes" : "no",
                c->smbase, (unsigned long long)c->rip,
                c->smi_pending ? " smi-pending" : "");
    }
}

#define INFO_ITEMS "mtree, pci, smram, cpus, registers, hotpluggable-cpus, status, clock"

/* The virtual clock (one retired instruction = one tick = 1 ns) and what each CPU retired. */
static void print_clock(struct machine *m, FILE *out)
{
    uint64_t total = 0;
    for (unsigned k = 0; k < m->n_slots; k++)
        if (m->cpus[k])
            total += m->cpus[k]->icount;
    fprintf(out, "virtual time: %llu ns; instructions retired by present CPUs: %llu\n",
            (unsigned long long)m->virtual_time, (unsigned long long)total);
    for (unsigned k = 0; k < m->n_slots; k++)
        if (m->cpus[k])
            fprintf(out, "cpu%u: %llu instructions\n", k, (unsigned long long)m->cpus[k]->icount);
}

const char *monitor_run_state_name(enum machine_run_state st)
{
    switch (st) {
    case MACHINE_RUNNING: return "running";
    case MACHINE_PAUSED: return "paused";
    default: return "prelaunch";
    }
}

/* QEMU's HMP layout of query-hotpluggable-cpus: highest slot first. */
static void print_hotpluggable_cpus(struct machine *m, FILE *out)
{
    fputs("Hotpluggable CPUs:\n", out);
    for (unsigned k = m->n_slots; k-- > 0;) {
        const struct cpu_slot *s = &m->slot[k];
        fprintf(out, "  type: \"%s\"\n  vcpus_count: \"1\"\n", MACHINE_CPU_TYPE);
        if (m->cpus[k])
            fprintf(out, "  qom_path: \"%s\"\n", s->qom_path);
        fprintf(out, "  CPUInstance Properties:\n    socket-id: \"%u\"\n    core-id: \"%u\"\n"
                     "    thread-id: \"%u\"\n",
                s->socket, s->core, s->thread);
    }
}

static void print_plug_error(const struct plug_error *e, FILE *out)
{
    fprintf(out, "Error: %s\n", e->desc);
    if (e->hint[0])
        fprintf(out, "%s\n", e->hint);
}

static void cmd_device_add(struct machine *m, const char *args, FILE *out)
{
    char buf[LINE_MAX_BYTES];
    struct dev_prop props[16];
    struct plug_error e;
    snprintf(buf, sizeof(buf), "%s", args);
    unsigned n = dev_props_parse(buf, props, 16);
    if (n > 16) {
        fputs("Error: too many properties\n", out);
        return;
    }
    if (!machine_device_add(m, props, n, false, &e))
        print_plug_error(&e, out);
}

static void cmd_device_del(struct machine *m, const char *id, FILE *out)
{
    struct plug_error e;
    if (!machine_device_del(m, id, &e))
        print_plug_error(&e, out);
}

static void cmd_info(struct machine *m, char **w, unsigned n, FILE *out)
{
    if (n < 2) {
        fputs("info: missing item (" INFO_ITEMS ")\n", out);
        return;
    }
    if (!strcmp(w[1], "hotpluggable-cpus") || !strcmp(w[1], "status") || !strcmp(w[1], "clock")) {
        if (n > 2) {
            fprintf(out, "info %s: unexpected argument '%s'\n", w[1], w[2]);
            return;
        }
        if (w[1][0] == 'h')
            print_hotpluggable_cpus(m, out);
        else if (w[1][0] == 'c')
            print_clock(m, out);
        else
            fprintf(out, "VM status: %s\n", monitor_run_state_name(m->run_state));
        return;
    }
    if (!strcmp(w[1], "cpus") || !strcmp(w[1], "registers")) {
        bool all = n == 3 && !strcmp(w[2], "-a");
        if (n > 3 || (n == 3 && !all) || (all && w[1][0] == 'c')) {
            fprintf(out, "info %s: unexpected argument '%s'\n", w[1], w[2]);
            return;
        }
        if (w[1][0] == 'c')
            print_cpus(m, out);
        else
            for (unsigned k = 0; k < (all ? m->n_slots : 1); k++)
                if (m->cpus[k])
                    cpu_print_registers(m->cpus[k], out);
        return;
    }
    if (!strcmp(w[1], "mtree")) {
        bool flat = false;
        for (unsigned k = 2; k < n; k++) {
            if (!strcmp(w[k], "-f")) {
                flat = true;
            } else if (!strcmp(w[k], "-D")) {
                /* QEMU hides disabled regions unless -D; we always show them, marked
                 * [disabled] (platform.md §2.10), so -D is accepted and changes nothing */
            } else {
                fprintf(out, "info mtree: invalid argument '%s' (only -f and -D are supported)\n",
                        w[k]);
                return;
            }
        }
        if (flat)
            mem_print_flat(&m->mem, out);
        else
            mem_print_tree(&m->mem, out);
    } else if (!strcmp(w[1], "pci") || !strcmp(w[1], "smram")) {
        if (n > 2) {
            fprintf(out, "info %s: unexpected argument '%s'\n", w[1], w[2]);
            return;
        }
        if (w[1][0] == 'p') {
            pci_print_info(&m->pci_host, out);
        } else {
            q35_mch_print_smram(&m->mch, out);
            const struct fw_cfg *fw = &m->chipset.fw_cfg;
            fprintf(out, "SMI features: host 0x%llx, negotiated 0x%llx (%s)\n",
                    (unsigned long long)fw_cfg_smi_host_features(fw),
                    (unsigned long long)fw_cfg_smi_negotiated(fw),
                    fw_cfg_smi_is_locked(fw) ? "locked" : "not negotiated");
            for (unsigned k = 0; k < m->n_slots; k++) {
                if (!m->cpus[k])
                    continue;
                uint32_t b = m->cpus[k]->smbase;
                /* The entry point and the save area must both be SMRAM (DESIGN.md, audit). */
                bool in = range_is_smram(m, k, (uint64_t)b + 0x8000, 0x1000) &&
                          range_is_smram(m, k, (uint64_t)b + 0xF000, 0x1000);
                fprintf(out, "cpu%u: SMBASE 0x%08x, %s, %s\n", k, b,
                        m->cpus[k]->in_smm ? "in SMM" : "not in SMM",
                        in ? "entry and save area in SMRAM" : "entry or save area NOT in SMRAM");
            }
        }
    } else {
        fprintf(out, "info: unknown item '%s' (" INFO_ITEMS ")\n", w[1]);
    }
}

void monitor_execute(struct machine *m, const char *line, FILE *out)
{
    char buf[LINE_MAX_BYTES];
    char *w[8];
    snprintf(buf, sizeof(buf), "%s", line);
    unsigned n = split_words(buf, w, 8);
    if (n == 0)
        return;
    if (n > 8) {
        fputs("error: too many arguments\n", out);
        return;
    }
    const char *cmd = w[0];
    if (!strcmp(cmd, "info")) {
        cmd_info(m, w, n, out);
        return;
    }
    if (!strcmp(cmd, "device_add") || !strcmp(cmd, "device_del")) {
        if (n != 2) {
            fprintf(out, n < 2 ? "%s: %s expected\nTry \"help %s\" for more information\n"
                               : "%s: extra argument (%s expected)\n",
                    cmd, cmd[7] == 'a' ? "device options" : "string", cmd);
            return;
        }
        if (cmd[7] == 'a')
            cmd_device_add(m, w[1], out);
        else
            cmd_device_del(m, w[1], out);
        return;
    }
    if (n > 1 && (!strcmp(cmd, "help") || !strcmp(cmd, "system_reset") || !strcmp(cmd, "quit") ||
                  !strcmp(cmd, "q") || !strcmp(cmd, "stop") || !strcmp(cmd, "cont") ||
                  !strcmp(cmd, "c"))) {
        fprintf(out, "%s: unexpected argument '%s'\n", cmd, w[1]);
        return;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "?"))
        print_help(out);
    else if (!strcmp(cmd, "system_reset"))
        machine_request_host_reset(m);
    else if (!strcmp(cmd, "stop"))
        machine_stop(m);
    else if (!strcmp(cmd, "cont") || !strcmp(cmd, "c"))
        machine_cont(m);
    else if (!strcmp(cmd, "quit") || !strcmp(cmd, "q"))
        machine_request_exit(m, 0);
    else
        fprintf(out, "unknown command: '%s' (try 'help')\n", cmd);
}

static void run_line(struct monitor *mon, const char *line)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out) {
        channel_write_str(mon->ch, "error: out of memory\n");
        return;
    }
    monitor_execute(mon->m, line, out);
    fclose(out);
    channel_write(mon->ch, text, size);
    free(text);
    if (!mon->m->exit_requested)
        channel_write_str(mon->ch, prompt);
}

static void on_data(void *opaque, const char *buf, size_t n)
{
    struct monitor *mon = opaque;
    for (size_t k = 0; k < n; k++) {
        char ch = buf[k];
        if (ch == '\n') {
            mon->line[mon->len] = 0;
            if (mon->overflow)
                channel_write_str(mon->ch, "error: line too long (at most 4095 bytes)\n");
            else
                run_line(mon, mon->line);
            mon->len = 0;
            mon->overflow = false;
            if (mon->m->exit_requested)
                return;
        } else if (mon->len + 1 < sizeof(mon->line)) {
            mon->line[mon->len++] = ch;
        } else {
            mon->overflow = true;
        }
    }
}

static void on_connected(void *opaque)
{
    struct monitor *mon = opaque;
    mon->len = 0;
    mon->overflow = false;
    channel_write_str(mon->ch, banner);
    channel_write_str(mon->ch, prompt);
}

static const struct channel_handler hmp_handler = {
    .connected = on_connected,
    .data = on_data,
};

struct monitor *monitor_open(struct machine *m, const char *spec, char *err, size_t err_size)
{
    struct monitor *mon = xcalloc(1, sizeof(*mon));
    mon->m = m;
    /* channel_open may call on_connected (stdio), which writes through mon->ch. */
    mon->ch = channel_open("-monitor", spec, &hmp_handler, mon, err, err_size);
    if (!mon->ch) {
        free(mon);
        return NULL;
    }
    if (!strcmp(spec, "stdio"))
        on_connected(mon);
    return mon;
}

struct channel *monitor_channel(struct monitor *mon)
{
    return mon->ch;
}

void monitor_close(struct monitor *mon)
{
    if (!mon)
        return;
    channel_close(mon->ch);
    free(mon);
}
