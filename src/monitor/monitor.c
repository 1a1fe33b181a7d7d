/*
 * monitor.c - HMP text commands over stdio or a unix socket. Contract:
 * DESIGN.md "Interfaces that users see"; output formats of `info mtree` are
 * platform.md §2.10 (printed by mem/), `info pci` follows QEMU's layout.
 *
 * Input is line-buffered per channel; a line is executed when its newline
 * arrives, between two scheduler rounds, so it acts at a round boundary.
 * Bad input gets one error line and the monitor keeps going.
 */
#define _DEFAULT_SOURCE /* struct sockaddr_un on glibc with _POSIX_C_SOURCE */
#include "monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hw/pci.h"
#include "hw/q35_mch.h"
#include "machine/machine.h"
#include "mem/memory.h"
#include "util.h"

#define LINE_MAX_BYTES 4096
#define IDLE_WAIT_MS   100

struct monitor {
    struct machine *m;
    bool is_stdio;
    bool stdin_eof;
    int listen_fd; /* unix socket server, -1 if none */
    int in_fd;     /* stdin or the connected client, -1 if none */
    int out_fd;
    char line[LINE_MAX_BYTES];
    size_t len;
    bool overflow;
};

static const char banner[] = "smmvm monitor - type 'help' for more information\n";
static const char prompt[] = "(smmvm) ";

static void send_all(struct monitor *mon, const char *buf, size_t len)
{
    if (mon->is_stdio)
        fflush(stdout); /* guest output on stdout (debugcon, serial) goes out first */
    while (len > 0 && mon->out_fd >= 0) {
        ssize_t n = write(mon->out_fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* a vanished client is noticed on the next read */
        buf += n;
        len -= (size_t)n;
    }
}

static void send_str(struct monitor *mon, const char *s)
{
    send_all(mon, s, strlen(s));
}

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
    for (unsigned k = 0; k < m->n_cpus; k++) {
        const struct cpu *c = m->cpus[k];
        fprintf(out, "%c CPU #%u: apic_id=%u state=%s smm=%s smbase=0x%08x rip=0x%016llx%s\n",
                k == 0 ? '*' : ' ', k, c->apic_id, run_state_name(c), c->in_smm ? "yes" : "no",
                c->smbase, (unsigned long long)c->rip,
                c->smi_pending ? " smi-pending" : "");
    }
}

static void cmd_info(struct machine *m, char **w, unsigned n, FILE *out)
{
    if (n < 2) {
        fputs("info: missing item (mtree, pci, smram, cpus, registers)\n", out);
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
            for (unsigned k = 0; k < (all ? m->n_cpus : 1); k++)
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
            for (unsigned k = 0; k < m->n_cpus; k++) {
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
        fprintf(out, "info: unknown item '%s' (mtree, pci, smram, cpus, registers)\n", w[1]);
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
    if (n > 1 && (!strcmp(cmd, "help") || !strcmp(cmd, "system_reset") || !strcmp(cmd, "quit") ||
                  !strcmp(cmd, "q"))) {
        fprintf(out, "%s: unexpected argument '%s'\n", cmd, w[1]);
        return;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "?"))
        print_help(out);
    else if (!strcmp(cmd, "system_reset"))
        machine_request_reset(m);
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
        send_str(mon, "error: out of memory\n");
        return;
    }
    monitor_execute(mon->m, line, out);
    fclose(out);
    send_all(mon, text, size);
    free(text);
    if (!mon->m->exit_requested)
        send_str(mon, prompt);
}

static void close_client(struct monitor *mon)
{
    if (mon->is_stdio) {
        mon->stdin_eof = true;
        mon->in_fd = -1;
        return;
    }
    close(mon->in_fd);
    mon->in_fd = mon->out_fd = -1;
    mon->len = 0;
    mon->overflow = false;
}

static void consume(struct monitor *mon, const char *buf, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        char ch = buf[k];
        if (ch == '\n') {
            mon->line[mon->len] = 0;
            if (mon->overflow)
                send_str(mon, "error: line too long (at most 4095 bytes)\n");
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

static void accept_client(struct monitor *mon)
{
    int fd = accept(mon->listen_fd, NULL, NULL);
    if (fd < 0)
        return;
    if (mon->in_fd >= 0) { /* one client at a time, as QEMU's HMP socket */
        close(fd);
        return;
    }
    mon->in_fd = mon->out_fd = fd;
    send_str(mon, banner);
    send_str(mon, prompt);
}

bool monitor_poll(void *opaque, bool idle)
{
    struct monitor *mon = opaque;
    struct pollfd fds[2];
    unsigned nfds = 0;
    if (mon->listen_fd >= 0)
        fds[nfds++] = (struct pollfd){.fd = mon->listen_fd, .events = POLLIN};
    if (mon->in_fd >= 0)
        fds[nfds++] = (struct pollfd){.fd = mon->in_fd, .events = POLLIN};
    if (nfds == 0)
        return false; /* stdin closed and no socket: nothing can arrive */
    int r = poll(fds, nfds, idle ? IDLE_WAIT_MS : 0);
    if (r <= 0)
        return true;
    for (unsigned k = 0; k < nfds; k++) {
        if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (fds[k].fd == mon->listen_fd) {
            accept_client(mon);
            continue;
        }
        char buf[1024];
        ssize_t n = read(fds[k].fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            close_client(mon);
            continue;
        }
        consume(mon, buf, (size_t)n);
    }
    return mon->listen_fd >= 0 || mon->in_fd >= 0;
}

static bool open_unix(struct monitor *mon, const char *spec, char *err, size_t err_size)
{
    char *copy = xstrdup(spec + 5);
    char *save = NULL;
    char *path = strtok_r(copy, ",", &save);
    bool server = false, wait = true;
    for (char *t = strtok_r(NULL, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "server") || !strcmp(t, "server=on"))
            server = true;
        else if (!strcmp(t, "server=off"))
            server = false;
        else if (!strcmp(t, "wait=off") || !strcmp(t, "nowait"))
            wait = false;
        else if (!strcmp(t, "wait=on") || !strcmp(t, "wait"))
            wait = true;
        else {
            snprintf(err, err_size, "-monitor: unix: unknown parameter '%s'", t);
            free(copy);
            return false;
        }
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (!path || !*path || strlen(path) >= sizeof(addr.sun_path)) {
        snprintf(err, err_size,
                 "-monitor: unix: a socket path (shorter than %zu bytes) is required",
                 sizeof(addr.sun_path));
        free(copy);
        return false;
    }
    if (!server || wait) {
        snprintf(err, err_size, "-monitor: %s: only server=on,wait=off is supported", spec);
        free(copy);
        return false;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(path); /* QEMU replaces a stale socket too */
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
        snprintf(err, err_size, "-monitor: Failed to bind socket to %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(copy);
        return false;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    mon->listen_fd = fd;
    free(copy);
    return true;
}

struct monitor *monitor_open(struct machine *m, const char *spec, char *err, size_t err_size)
{
    struct monitor *mon = xcalloc(1, sizeof(*mon));
    *mon = (struct monitor){.m = m, .listen_fd = -1, .in_fd = -1, .out_fd = -1};
    if (!strcmp(spec, "stdio")) {
        mon->is_stdio = true;
        mon->in_fd = STDIN_FILENO;
        mon->out_fd = STDOUT_FILENO;
        fflush(stdout);
        send_str(mon, banner);
        send_str(mon, prompt);
    } else if (!strncmp(spec, "unix:", 5)) {
        if (!open_unix(mon, spec, err, err_size)) {
            free(mon);
            return NULL;
        }
    } else {
        snprintf(err, err_size,
                 "-monitor: '%s' is not supported (stdio or unix:PATH,server=on,wait=off)", spec);
        free(mon);
        return NULL;
    }
    return mon;
}

void monitor_close(struct monitor *mon)
{
    if (!mon)
        return;
    if (!mon->is_stdio && mon->in_fd >= 0)
        close(mon->in_fd);
    if (mon->listen_fd >= 0)
        close(mon->listen_fd);
    free(mon);
}
