/*
 * main.c - the command line: a QEMU-compatible subset with QEMU's spelling
 * (DESIGN.md, "Interfaces that users see"). It only parses, builds a
 * machine_config and hands it to src/machine. Every bad option gets one
 * line naming the option and the value, then exit status 1.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"
#include "monitor/channel.h"
#include "monitor/monitor.h"
#include "monitor/qmp.h"
#include "util.h"

#define SMMVM_VERSION "0.1.0"
#define MAX_CHARDEVS 8
#define MAX_QMP 4

struct cli {
    struct machine_config cfg;
    struct chardev chardevs[MAX_CHARDEVS];
    unsigned n_chardevs;
    struct chardev debugcon_chardev, serial_chardev;
    const char *log_path;
    const char *monitor_spec;
    const char *qmp_specs[MAX_QMP];
    unsigned n_qmp;
};

_Noreturn static void die(const char *opt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "smmvm: %s: ", opt);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void usage(void)
{
    puts("usage: smmvm [options]\n"
         "\n"
         "A deterministic x86-64 Q35 PC emulator built around System Management Mode.\n"
         "Options use QEMU's spelling:\n"
         "  -machine q35[,smm=on|off|auto][,x-tcg-smm=on|off]   board (pc-q35-7.2 is a synonym)\n"
         "  -m SIZE                 RAM size (default unit MiB; suffixes K, M, G), default 128M\n"
         "  -smp N[,maxcpus=M]      number of CPUs\n"
         "  -bios FILE              firmware image (size a multiple of 64 KiB)\n"
         "  -debugcon DEV           debug console on port 0xE9 (DEV: stdio, file:PATH, null)\n"
         "  -chardev file,id=ID,path=PATH | stdio,id=ID\n"
         "  -device isa-debugcon,iobase=PORT,chardev=ID\n"
         "  -device isa-debug-exit[,iobase=PORT][,iosize=N]   a write of v exits with (v<<1)|1\n"
         "  -serial DEV             COM1 at 0x3F8 (stdio, file:PATH, null, none)\n"
         "  -no-reboot              exit instead of resetting on a triple fault\n"
         "  -d guest_errors         log guest errors; -D FILE sends the log to FILE\n"
         "  -display none, -nographic, -nodefaults, -accel tcg   accepted for compatibility\n"
         "  -fw_cfg name=NAME,file=PATH | name=NAME,string=STR   add a fw_cfg file\n"
         "  -seed N                 seed for any exploration (deterministic)\n"
         "  -global mch.smbase-smram=on|off, -global mch.extended-tseg-mbytes=N (0-4095)\n"
         "  -global ICH9-LPC.{x-smi-broadcast,x-smi-cpu-hotplug,x-smi-cpu-hotunplug}=on|off\n"
         "  -global ICH9-LPC.{disable_s3,disable_s4,s4_val}=N\n"
         "  -monitor stdio | unix:PATH,server=on,wait=off | none   HMP text monitor\n"
         "  -qmp stdio | unix:PATH,server=on,wait=off   QMP (JSON) monitor; may be repeated\n"
         "  -S                      start paused (prelaunch); QMP/HMP 'cont' starts the CPUs\n"
         "  -device qemu64-x86_64-cpu,socket-id=S,core-id=C,thread-id=T[,id=ID]   cold-plug a CPU\n"
         "  --help, --version");
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || *s == '-')
        return false;
    *out = v;
    return true;
}

static uint64_t parse_size(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v <= 0)
        die(opt, "'%s' is not a valid size", s);
    uint64_t mult = 1ull << 20;
    if (*end) {
        switch (*end) {
        case 'K': case 'k': mult = 1ull << 10; break;
        case 'M': case 'm': mult = 1ull << 20; break;
        case 'G': case 'g': mult = 1ull << 30; break;
        case 'T': case 't': mult = 1ull << 40; break;
        case 'B': case 'b': mult = 1; break;
        default: die(opt, "'%s' is not a valid size", s);
        }
        if (end[1] && !(end[1] == 'B' && !end[2]))
            die(opt, "'%s' is not a valid size", s);
    }
    return (uint64_t)(v * (double)mult);
}

/* Splits "a,b=c,d=e" in place; the first item may be a bare value. */
struct kv {
    char *key, *value;
};

static unsigned split_options(char *s, struct kv *out, unsigned max)
{
    unsigned n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = 0;
            out[n++] = (struct kv){ tok, eq + 1 };
        } else {
            out[n++] = (struct kv){ tok, NULL };
        }
    }
    return n;
}

static bool parse_onoff(const char *opt, const char *key, const char *v)
{
    if (!v || !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "auto"))
        return true;
    if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"))
        return false;
    die(opt, "Parameter '%s' expects 'on' or 'off', not '%s'", key, v);
}

static void parse_machine(struct cli *cli, char *arg)
{
    struct kv kv[16];
    unsigned n = split_options(arg, kv, 16);
    for (unsigned k = 0; k < n; k++) {
        if (!kv[k].value && k == 0) {
            if (strcmp(kv[k].key, "q35") && strcmp(kv[k].key, "pc-q35-7.2"))
                die("-machine", "unsupported machine type '%s' (only q35 / pc-q35-7.2)", kv[k].key);
            continue;
        }
        if (!strcmp(kv[k].key, "type")) {
            if (!kv[k].value || (strcmp(kv[k].value, "q35") && strcmp(kv[k].value, "pc-q35-7.2")))
                die("-machine", "unsupported machine type '%s' (only q35 / pc-q35-7.2)",
                    kv[k].value ? kv[k].value : "");
        } else if (!strcmp(kv[k].key, "smm")) {
            cli->cfg.smm = parse_onoff("-machine", "smm", kv[k].value);
        } else if (!strcmp(kv[k].key, "x-tcg-smm")) {
            cli->cfg.tcg_smm_compat = parse_onoff("-machine", "x-tcg-smm", kv[k].value);
        } else if (!strcmp(kv[k].key, "accel")) {
            if (!kv[k].value || strcmp(kv[k].value, "tcg"))
                die("-machine", "accel '%s' is not available (smmvm is its own accelerator; use tcg)",
                    kv[k].value ? kv[k].value : "");
        } else {
            die("-machine", "Property 'q35.%s' not found", kv[k].key);
        }
    }
}

static void parse_smp(struct cli *cli, char *arg)
{
    struct kv kv[8];
    unsigned n = split_options(arg, kv, 8);
    uint64_t v;
    for (unsigned k = 0; k < n; k++) {
        const char *key = kv[k].value ? kv[k].key : "cpus";
        const char *val = kv[k].value ? kv[k].value : kv[k].key;
        if (!parse_u64(val, &v) || v == 0 || v > MACHINE_MAX_CPUS)
            die("-smp", "'%s' is not a number between 1 and %u", val, MACHINE_MAX_CPUS);
        if (!strcmp(key, "cpus"))
            cli->cfg.cpus = (unsigned)v;
        else if (!strcmp(key, "maxcpus"))
            cli->cfg.max_cpus = (unsigned)v;
        else if (!strcmp(key, "sockets"))
            cli->cfg.sockets = (unsigned)v;
        else if (!strcmp(key, "cores"))
            cli->cfg.cores = (unsigned)v;
        else if (!strcmp(key, "threads"))
            cli->cfg.threads = (unsigned)v;
        else if (!strcmp(key, "dies"))
            ; /* accepted; a die level above 1 does not exist on q35 */
        else
            die("-smp", "Parameter '%s' is unexpected", key);
    }
}

static struct chardev *find_chardev(struct cli *cli, const char *id)
{
    for (unsigned k = 0; k < cli->n_chardevs; k++)
        if (!strcmp(cli->chardevs[k].id, id))
            return &cli->chardevs[k];
    return NULL;
}

static void parse_chardev(struct cli *cli, char *arg)
{
    struct kv kv[8];
    unsigned n = split_options(arg, kv, 8);
    if (n == 0 || kv[0].value)
        die("-chardev", "a backend (file or stdio) must come first");
    const char *id = NULL, *path = NULL;
    for (unsigned k = 1; k < n; k++) {
        if (!strcmp(kv[k].key, "id"))
            id = kv[k].value;
        else if (!strcmp(kv[k].key, "path"))
            path = kv[k].value;
        else if (!strcmp(kv[k].key, "signal") || !strcmp(kv[k].key, "mux"))
            ;
        else
            die("-chardev", "Invalid parameter '%s'", kv[k].key);
    }
    if (!id)
        die("-chardev", "Parameter 'id' is missing");
    if (find_chardev(cli, id))
        die("-chardev", "Duplicate ID '%s' for chardev", id);
    if (cli->n_chardevs == MAX_CHARDEVS)
        die("-chardev", "too many character devices (at most %u)", MAX_CHARDEVS);
    struct chardev *cd = &cli->chardevs[cli->n_chardevs++];
    snprintf(cd->id, sizeof(cd->id), "%s", id);
    char err[256];
    if (!strcmp(kv[0].key, "file")) {
        if (!path)
            die("-chardev", "chardev: file: no filename given");
        if (!chardev_open_file(cd, path, err, sizeof(err)))
            die("-chardev", "%s", err);
    } else if (!strcmp(kv[0].key, "stdio")) {
        cd->out = stdout;
    } else if (!strcmp(kv[0].key, "null")) {
        cd->out = NULL;
    } else {
        die("-chardev", "'%s' is not a valid char driver name (file, stdio, null)", kv[0].key);
    }
}

static uint16_t parse_port(const char *opt, const char *v)
{
    uint64_t p;
    if (!v || !parse_u64(v, &p) || p > 0xFFFF)
        die(opt, "'%s' is not a valid I/O port", v ? v : "");
    return (uint16_t)p;
}

static void add_cold_device(struct cli *cli, struct cold_device_config d)
{
    if (cli->cfg.n_cold_devices == MACHINE_MAX_DEVICES)
        die("-device", "too many devices (at most %u)", MACHINE_MAX_DEVICES);
    cli->cfg.cold_devices[cli->cfg.n_cold_devices++] = d;
}

static void parse_device(struct cli *cli, char *arg)
{
    if (!strncmp(arg, MACHINE_CPU_TYPE, strlen(MACHINE_CPU_TYPE)) ||
        strstr(arg, "-x86_64-cpu")) {
        /* A cold-plugged CPU: checked by the machine once the slots exist. */
        add_cold_device(cli, (struct cold_device_config){ .is_cpu = true, .opts = arg });
        return;
    }
    struct kv kv[8];
    unsigned n = split_options(arg, kv, 8);
    if (n == 0 || kv[0].value)
        die("-device", "a device type must come first");
    const char *type = kv[0].key;
    const char *id = NULL;
    for (unsigned k = 1; k < n; k++) {
        if (!strcmp(kv[k].key, "id")) {
            id = kv[k].value ? kv[k].value : "";
            kv[k--] = kv[--n]; /* every device takes an id; the rest is per type */
        }
    }
    if (!strcmp(type, "isa-debugcon") || !strcmp(type, "isa-debug-exit"))
        add_cold_device(cli, (struct cold_device_config){ .id = id });
    if (!strcmp(type, "isa-debugcon")) {
        uint16_t port = 0xE9;
        struct chardev *cd = NULL;
        for (unsigned k = 1; k < n; k++) {
            if (!strcmp(kv[k].key, "iobase"))
                port = parse_port("-device isa-debugcon", kv[k].value);
            else if (!strcmp(kv[k].key, "chardev")) {
                cd = kv[k].value ? find_chardev(cli, kv[k].value) : NULL;
                if (!cd)
                    die("-device isa-debugcon", "Property 'chardev' can't find value '%s'",
                        kv[k].value ? kv[k].value : "");
            } else {
                die("-device isa-debugcon", "Property '%s' not found", kv[k].key);
            }
        }
        if (!cd)
            die("-device isa-debugcon", "Property 'chardev' is required");
        if (cli->cfg.n_debugcons == MACHINE_MAX_DEBUGCONS)
            die("-device isa-debugcon", "too many debug consoles");
        cli->cfg.debugcons[cli->cfg.n_debugcons++] = (struct debugcon_config){ port, cd };
    } else if (!strcmp(type, "isa-debug-exit")) {
        cli->cfg.debug_exit = true;
        cli->cfg.debug_exit_port = 0x501;
        cli->cfg.debug_exit_size = 2;
        for (unsigned k = 1; k < n; k++) {
            if (!strcmp(kv[k].key, "iobase")) {
                cli->cfg.debug_exit_port = parse_port("-device isa-debug-exit", kv[k].value);
            } else if (!strcmp(kv[k].key, "iosize")) {
                uint64_t s;
                if (!kv[k].value || !parse_u64(kv[k].value, &s) || (s != 1 && s != 2 && s != 4))
                    die("-device isa-debug-exit", "iosize must be 1, 2 or 4, not '%s'",
                        kv[k].value ? kv[k].value : "");
                cli->cfg.debug_exit_size = (unsigned)s;
            } else {
                die("-device isa-debug-exit", "Property '%s' not found", kv[k].key);
            }
        }
    } else {
        die("-device", "'%s' is not a valid device model name", type);
    }
}

struct event_sinks {
    struct qmp **qmps;
    unsigned n;
};

static void send_event_to_qmp(void *opaque, const struct machine_event *ev)
{
    const struct event_sinks *sinks = opaque;
    for (unsigned k = 0; k < sinks->n; k++)
        qmp_send_event(sinks->qmps[k], ev);
}

/* -global DRIVER.PROP=VALUE (QEMU's spelling; platform.md §1.3). */
static void parse_global(struct cli *cli, const char *arg)
{
    const char *eq = strchr(arg, '=');
    const char *dot = strchr(arg, '.');
    if (!eq || !dot || dot > eq)
        die("-global", "Invalid format '%s' (expected DRIVER.PROPERTY=VALUE)", arg);
    char name[128];
    snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
    const char *v = eq + 1;
    uint64_t n;
    if (!strcmp(name, "mch.smbase-smram")) {
        cli->cfg.mch.smbase_smram = parse_onoff("-global", "smbase-smram", v);
    } else if (!strcmp(name, "mch.extended-tseg-mbytes")) {
        if (!parse_u64(v, &n) || n > 0xFFFF)
            die("-global", "Parameter 'extended-tseg-mbytes' expects uint16_t, not '%s'", v);
        if (n > MCH_EXT_TSEG_MBYTES_MAX)
            die("-global", "mch.extended-tseg-mbytes=%s: invalid extended-tseg-mbytes value", v);
        cli->cfg.mch.ext_tseg_mbytes = (uint16_t)n;
    } else if (!strcmp(name, "ICH9-LPC.x-smi-broadcast")) {
        cli->cfg.lpc.smi_broadcast = parse_onoff("-global", "x-smi-broadcast", v);
    } else if (!strcmp(name, "ICH9-LPC.x-smi-cpu-hotplug")) {
        cli->cfg.lpc.smi_cpu_hotplug = parse_onoff("-global", "x-smi-cpu-hotplug", v);
    } else if (!strcmp(name, "ICH9-LPC.x-smi-cpu-hotunplug")) {
        cli->cfg.lpc.smi_cpu_hotunplug = parse_onoff("-global", "x-smi-cpu-hotunplug", v);
    } else if (!strcmp(name, "ICH9-LPC.disable_s3") || !strcmp(name, "ICH9-LPC.disable_s4") ||
               !strcmp(name, "ICH9-LPC.s4_val")) {
        if (!parse_u64(v, &n) || n > 0xFF)
            die("-global", "Parameter '%s' expects uint8_t, not '%s'", dot + 1, v);
        if (!strcmp(name, "ICH9-LPC.disable_s3"))
            cli->cfg.lpc.disable_s3 = (uint8_t)n;
        else if (!strcmp(name, "ICH9-LPC.disable_s4"))
            cli->cfg.lpc.disable_s4 = (uint8_t)n;
        else
            cli->cfg.lpc.s4_val = (uint8_t)n;
    } else {
        die("-global", "Property '%s' not found", name);
    }
}

/* -fw_cfg name=NAME,file=PATH or name=NAME,string=STR (QEMU's spelling). */
static void parse_fw_cfg(struct cli *cli, char *arg)
{
    struct kv kv[4];
    unsigned n = split_options(arg, kv, 4);
    const char *name = NULL, *file = NULL, *string = NULL;
    for (unsigned k = 0; k < n; k++) {
        if (!kv[k].value)
            die("-fw_cfg", "Invalid parameter '%s'", kv[k].key);
        if (!strcmp(kv[k].key, "name"))
            name = kv[k].value;
        else if (!strcmp(kv[k].key, "file"))
            file = kv[k].value;
        else if (!strcmp(kv[k].key, "string"))
            string = kv[k].value;
        else
            die("-fw_cfg", "Invalid parameter '%s'", kv[k].key);
    }
    if (!name)
        die("-fw_cfg", "invalid argument(s)");
    if ((file != NULL) == (string != NULL))
        die("-fw_cfg", "name=%s: exactly one of file= and string= is required", name);
    if (cli->cfg.n_fw_cfg_items == MACHINE_MAX_FW_CFG_ITEMS)
        die("-fw_cfg", "too many items (at most %u)", MACHINE_MAX_FW_CFG_ITEMS);
    struct fw_cfg_item_config *it = &cli->cfg.fw_cfg_items[cli->cfg.n_fw_cfg_items++];
    it->name = name;
    if (file) {
        it->data = xread_file(file, &it->len);
    } else {
        it->string = string;
    }
}

static void open_log(struct cli *cli, const char *cats)
{
    char *copy = xstrdup(cats);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "guest_errors"))
            cli->cfg.log_guest_errors = true;
        else if (strcmp(t, "unimp") && strcmp(t, "int") && strcmp(t, "cpu_reset") &&
                 strcmp(t, "smm") && strcmp(t, "hotplug") && strcmp(t, "mem"))
            die("-d", "unknown log category '%s' (guest_errors, unimp, int, cpu_reset, smm, hotplug, mem)", t);
    }
    free(copy);
}

int main(int argc, char **argv)
{
    /* A monitor client or a pipe on stdout that goes away is an EOF, not a crash. */
    signal(SIGPIPE, SIG_IGN);
    struct cli cli = { 0 };
    machine_config_default(&cli.cfg);
    cli.cfg.max_cpus = 0; /* = cpus unless -smp says otherwise */
    const char *log_cats = NULL;

    for (int k = 1; k < argc; k++) {
        const char *opt = argv[k];
        /* QEMU accepts both -opt and --opt. */
        if (opt[0] == '-' && opt[1] == '-')
            opt++;
        if (!strcmp(opt, "-help") || !strcmp(opt, "-h")) {
            usage();
            return 0;
        }
        if (!strcmp(opt, "-version")) {
            printf("smmvm version %s (QEMU-compatible command line, reference QEMU 7.2)\n", SMMVM_VERSION);
            return 0;
        }
        if (!strcmp(opt, "-nodefaults") || !strcmp(opt, "-nographic") || !strcmp(opt, "-no-hpet") ||
            0) {
            continue;
        }
        if (!strcmp(opt, "-no-reboot")) {
            cli.cfg.no_reboot = true;
            continue;
        }
        if (!strcmp(opt, "-S")) {
            cli.cfg.start_paused = true;
            continue;
        }
        if (opt[0] != '-')
            die(opt, "unexpected argument (options start with '-')");
        if (k + 1 >= argc)
            die(opt, "requires an argument");
        char *arg = argv[++k];
        if (!strcmp(opt, "-machine") || !strcmp(opt, "-M")) {
            parse_machine(&cli, arg);
        } else if (!strcmp(opt, "-m")) {
            cli.cfg.ram_bytes = parse_size("-m", arg);
        } else if (!strcmp(opt, "-smp")) {
            parse_smp(&cli, arg);
        } else if (!strcmp(opt, "-bios")) {
            cli.cfg.bios_path = arg;
        } else if (!strcmp(opt, "-debugcon")) {
            char err[256];
            if (!chardev_open_spec(&cli.debugcon_chardev, arg, err, sizeof(err)))
                die("-debugcon", "%s", err);
            if (cli.cfg.n_debugcons == MACHINE_MAX_DEBUGCONS)
                die("-debugcon", "too many debug consoles");
            cli.cfg.debugcons[cli.cfg.n_debugcons++] = (struct debugcon_config){ 0xE9, &cli.debugcon_chardev };
        } else if (!strcmp(opt, "-chardev")) {
            parse_chardev(&cli, arg);
        } else if (!strcmp(opt, "-device")) {
            parse_device(&cli, arg);
        } else if (!strcmp(opt, "-serial")) {
            char err[256];
            if (!strcmp(arg, "none") || !strcmp(arg, "null"))
                cli.cfg.serial = NULL;
            else if (!chardev_open_spec(&cli.serial_chardev, arg, err, sizeof(err)))
                die("-serial", "%s", err);
            else
                cli.cfg.serial = &cli.serial_chardev;
        } else if (!strcmp(opt, "-display")) {
            if (strcmp(arg, "none"))
                die("-display", "'%s' is not available (smmvm has no display; use -display none)", arg);
        } else if (!strcmp(opt, "-accel")) {
            if (strcmp(arg, "tcg"))
                die("-accel", "'%s' is not available (use tcg)", arg);
        } else if (!strcmp(opt, "-fw_cfg")) {
            parse_fw_cfg(&cli, arg);
        } else if (!strcmp(opt, "-d")) {
            log_cats = arg;
        } else if (!strcmp(opt, "-D")) {
            cli.log_path = arg;
        } else if (!strcmp(opt, "-global")) {
            parse_global(&cli, arg);
        } else if (!strcmp(opt, "-monitor")) {
            cli.monitor_spec = arg;
        } else if (!strcmp(opt, "-qmp")) {
            if (cli.n_qmp == MAX_QMP)
                die("-qmp", "at most %u QMP monitors", MAX_QMP);
            cli.qmp_specs[cli.n_qmp++] = arg;
        } else if (!strcmp(opt, "-seed")) {
            if (!parse_u64(arg, &cli.cfg.seed))
                die("-seed", "'%s' is not a number", arg);
        } else {
            fprintf(stderr, "smmvm: %s: invalid option\n", argv[k - 1]);
            return 1;
        }
    }
    if (cli.cfg.max_cpus == 0)
        cli.cfg.max_cpus = cli.cfg.cpus;
    {
        /* QEMU 7.2 rules: missing counts are derived, cores preferred over sockets. */
        struct machine_config *c = &cli.cfg;
        unsigned t = c->threads ? c->threads : 1;
        if (!c->cores)
            c->cores = c->max_cpus / ((c->sockets ? c->sockets : 1) * t);
        if (!c->cores)
            c->cores = 1;
        if (!c->sockets)
            c->sockets = c->max_cpus / (c->cores * t);
        if (!c->sockets)
            c->sockets = 1;
        c->threads = t;
        if (c->sockets * c->cores * c->threads != c->max_cpus)
            die("-smp", "Invalid CPU topology: product of the hierarchy must match maxcpus: "
                        "sockets (%u) * dies (1) * cores (%u) * threads (%u) != maxcpus (%u)",
                c->sockets, c->cores, c->threads, c->max_cpus);
    }
    if (log_cats)
        open_log(&cli, log_cats);
    cli.cfg.log = stderr;
    if (cli.log_path) {
        cli.cfg.log = fopen(cli.log_path, "w");
        if (!cli.cfg.log)
            die("-D", "could not open '%s': %s", cli.log_path, strerror(errno));
    }

    unsigned stdio_users = (cli.monitor_spec && !strcmp(cli.monitor_spec, "stdio"));
    for (unsigned k = 0; k < cli.n_qmp; k++)
        stdio_users += !strcmp(cli.qmp_specs[k], "stdio");
    if (stdio_users > 1)
        die("-qmp", "cannot use stdio by multiple character devices");
    if (cli.cfg.start_paused && !cli.n_qmp && !(cli.monitor_spec && strcmp(cli.monitor_spec, "none")))
        die("-S", "the machine would wait forever: give -monitor or -qmp to start it with 'cont'");
    char err[512];
    struct machine *m = machine_create(&cli.cfg, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "smmvm: %s\n", err);
        return 1;
    }
    /* The monitors: one HMP, up to MAX_QMP QMP channels, polled as one set. */
    struct monitor *mon = NULL;
    struct qmp *qmps[MAX_QMP] = { 0 };
    struct channel_set channels = { .n = 0 };
    bool ok = true;
    if (cli.monitor_spec && strcmp(cli.monitor_spec, "none")) {
        mon = monitor_open(m, cli.monitor_spec, err, sizeof(err));
        if (mon)
            channels.ch[channels.n++] = monitor_channel(mon);
        ok = mon != NULL;
    }
    for (unsigned k = 0; ok && k < cli.n_qmp; k++) {
        qmps[k] = qmp_open(m, cli.qmp_specs[k], err, sizeof(err));
        if (qmps[k])
            channels.ch[channels.n++] = qmp_channel(qmps[k]);
        ok = qmps[k] != NULL;
    }
    if (!ok) {
        fprintf(stderr, "smmvm: %s\n", err);
        for (unsigned k = 0; k < cli.n_qmp; k++)
            qmp_close(qmps[k]);
        monitor_close(mon);
        machine_free(m);
        return 1;
    }
    struct event_sinks sinks = { qmps, cli.n_qmp };
    machine_set_event_handler(m, send_event_to_qmp, &sinks);
    if (channels.n)
        machine_set_poll(m, channel_set_poll, &channels);
    int status = machine_run(m, 0);
    for (unsigned k = 0; k < cli.n_qmp; k++)
        qmp_close(qmps[k]);
    for (unsigned k = 0; k < cli.cfg.n_fw_cfg_items; k++)
        free((void *)cli.cfg.fw_cfg_items[k].data);
    monitor_close(mon);
    machine_free(m);
    for (unsigned k = 0; k < cli.n_chardevs; k++)
        chardev_close(&cli.chardevs[k]);
    chardev_close(&cli.debugcon_chardev);
    chardev_close(&cli.serial_chardev);
    if (cli.cfg.log && cli.cfg.log != stderr)
        fclose(cli.cfg.log);
    return status;
}
