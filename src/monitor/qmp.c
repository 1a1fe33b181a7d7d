/*
 * qmp.c - QMP over a channel (see qmp.h). Texts of the error replies are
 * QEMU 7.2's, observed over its QMP socket (tests/qmp keeps them).
 */
#include "monitor/qmp.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine/machine.h"
#include "monitor/channel.h"
#include "monitor/monitor.h"
#include "util.h"

struct qmp {
    struct machine *m;
    struct channel *ch;
    bool negotiated;
    /* the lexer that cuts the input into JSON values */
    char *msg;
    size_t len, cap;
    unsigned depth;
    bool in_string, escape, in_bare, skip_line;
};

/* ---- replies ---- */

static void send_json(struct qmp *q, json_t *obj)
{
    char *text = json_dumps(obj, JSON_ENSURE_ASCII);
    json_decref(obj);
    if (!text)
        return;
    channel_write_str(q->ch, text);
    channel_write_str(q->ch, "\r\n"); /* QEMU ends every message with CR LF */
    free(text);
}

static void reply_error(struct qmp *q, json_t *id, const char *cls, const char *desc)
{
    json_t *r = json_pack("{s:{s:s,s:s}}", "error", "class", cls, "desc", desc);
    if (id)
        json_object_set(r, "id", id);
    send_json(q, r);
}

static void reply_return(struct qmp *q, json_t *id, json_t *value)
{
    json_t *r = json_object();
    json_object_set_new(r, "return", value);
    if (id)
        json_object_set(r, "id", id);
    send_json(q, r);
}

static void send_greeting(struct qmp *q)
{
    /* The version is that of the QEMU release whose QMP smmvm follows. */
    send_json(q, json_pack("{s:{s:{s:{s:i,s:i,s:i},s:s},s:[s]}}", "QMP", "version", "qemu",
                           "micro", 0, "minor", 2, "major", 7, "package", "smmvm", "capabilities",
                           "oob"));
}

void qmp_send_event(struct qmp *q, const struct machine_event *ev)
{
    if (!q->negotiated || !channel_connected(q->ch))
        return;
    const char *name = NULL;
    json_t *data = NULL;
    switch (ev->kind) {
    case MACHINE_EVENT_DEVICE_DELETED:
        name = "DEVICE_DELETED";
        data = json_object();
        if (ev->device && ev->device[0])
            json_object_set_new(data, "device", json_string(ev->device));
        json_object_set_new(data, "path", json_string(ev->path));
        break;
    case MACHINE_EVENT_ACPI_DEVICE_OST: {
        name = "ACPI_DEVICE_OST";
        char slot[16];
        snprintf(slot, sizeof(slot), "%u", ev->slot);
        json_t *info = json_object();
        if (ev->device && ev->device[0])
            json_object_set_new(info, "device", json_string(ev->device));
        json_object_set_new(info, "slot", json_string(slot));
        json_object_set_new(info, "slot-type", json_string("CPU"));
        json_object_set_new(info, "source", json_integer(ev->source));
        json_object_set_new(info, "status", json_integer(ev->status));
        data = json_pack("{s:o}", "info", info);
        break;
    }
    case MACHINE_EVENT_RESET:
    case MACHINE_EVENT_SHUTDOWN:
        name = ev->kind == MACHINE_EVENT_RESET ? "RESET" : "SHUTDOWN";
        data = json_pack("{s:b,s:s}", "guest", ev->guest, "reason", ev->reason);
        break;
    case MACHINE_EVENT_STOP:
        name = "STOP";
        break;
    case MACHINE_EVENT_RESUME:
        name = "RESUME";
        break;
    }
    uint64_t ns = q->m->virtual_time; /* deterministic, unlike QEMU's wall clock */
    json_t *e = json_pack("{s:{s:I,s:I},s:s}", "timestamp", "seconds", (json_int_t)(ns / 1000000000u),
                          "microseconds", (json_int_t)(ns % 1000000000u / 1000u), "event", name);
    if (data)
        json_object_set_new(e, "data", data);
    send_json(q, e);
}

/* ---- commands ---- */

struct command;
typedef void (*command_fn)(struct qmp *q, json_t *args, json_t *id);

/* Checks that args holds only the named members, of the given JSON types
 * (NULL names end the list); reports QEMU's message for the first problem. */
struct arg_spec {
    const char *name;
    json_type type;
    bool required;
};

static bool check_args(struct qmp *q, json_t *args, json_t *id, const struct arg_spec *spec)
{
    const char *key;
    json_t *v;
    json_object_foreach(args, key, v) {
        const struct arg_spec *s = spec;
        while (s && s->name && strcmp(s->name, key))
            s++;
        if (!s || !s->name) {
            char desc[256];
            snprintf(desc, sizeof(desc), "Parameter '%.200s' is unexpected", key);
            reply_error(q, id, "GenericError", desc);
            return false;
        }
        bool ok = json_typeof(v) == s->type ||
                  (s->type == JSON_TRUE && json_typeof(v) == JSON_FALSE);
        if (!ok) {
            static const char *const names[] = { [JSON_OBJECT] = "object", [JSON_ARRAY] = "array",
                                                 [JSON_STRING] = "string", [JSON_INTEGER] = "integer",
                                                 [JSON_REAL] = "number", [JSON_TRUE] = "boolean",
                                                 [JSON_FALSE] = "boolean", [JSON_NULL] = "null" };
            char desc[256];
            snprintf(desc, sizeof(desc), "Invalid parameter type for '%s', expected: %s", key,
                     names[s->type]);
            reply_error(q, id, "GenericError", desc);
            return false;
        }
    }
    for (const struct arg_spec *s = spec; s && s->name; s++) {
        if (s->required && !json_object_get(args, s->name)) {
            char desc[128];
            snprintf(desc, sizeof(desc), "Parameter '%s' is missing", s->name);
            reply_error(q, id, "GenericError", desc);
            return false;
        }
    }
    return true;
}

static json_t *slot_props(const struct cpu_slot *s)
{
    /* member order as QEMU prints them */
    return json_pack("{s:i,s:i,s:i}", "core-id", (int)s->core, "thread-id", (int)s->thread,
                     "socket-id", (int)s->socket);
}

static void cmd_query_status(struct qmp *q, json_t *args, json_t *id)
{
    (void)args;
    enum machine_run_state st = q->m->run_state;
    reply_return(q, id, json_pack("{s:s,s:b,s:b}", "status", monitor_run_state_name(st),
                                  "singlestep", 0, "running", st == MACHINE_RUNNING));
}

static void cmd_query_version(struct qmp *q, json_t *args, json_t *id)
{
    (void)args;
    reply_return(q, id, json_pack("{s:{s:i,s:i,s:i},s:s}", "qemu", "micro", 0, "minor", 2,
                                  "major", 7, "package", "smmvm"));
}

static void cmd_query_cpus_fast(struct qmp *q, json_t *args, json_t *id)
{
    (void)args;
    json_t *list = json_array();
    for (unsigned k = 0; k < q->m->n_slots; k++) {
        const struct cpu_slot *s = &q->m->slot[k];
        if (!q->m->cpus[k])
            continue;
        /* Every vCPU runs on the one emulator thread. */
        json_array_append_new(list, json_pack("{s:i,s:o,s:s,s:i,s:s}", "thread-id", (int)getpid(),
                                              "props", slot_props(s), "qom-path", s->qom_path,
                                              "cpu-index", (int)k, "target", "x86_64"));
    }
    reply_return(q, id, list);
}

static void cmd_query_hotpluggable_cpus(struct qmp *q, json_t *args, json_t *id)
{
    (void)args;
    json_t *list = json_array();
    for (unsigned k = q->m->n_slots; k-- > 0;) {
        const struct cpu_slot *s = &q->m->slot[k];
        json_t *e = json_pack("{s:o,s:i}", "props", slot_props(s), "vcpus-count", 1);
        if (q->m->cpus[k])
            json_object_set_new(e, "qom-path", json_string(s->qom_path));
        json_object_set_new(e, "type", json_string(MACHINE_CPU_TYPE));
        json_array_append_new(list, e);
    }
    reply_return(q, id, list);
}

static void reply_plug_error(struct qmp *q, json_t *id, const struct plug_error *e)
{
    reply_error(q, id, e->cls == PLUG_DEVICE_NOT_FOUND ? "DeviceNotFound" : "GenericError", e->desc);
}

static void cmd_device_add(struct qmp *q, json_t *args, json_t *id)
{
    struct dev_prop props[32];
    char numbers[32][24];
    unsigned n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(args, key, v) {
        if (n == 32) {
            reply_error(q, id, "GenericError", "too many properties");
            return;
        }
        struct dev_prop *p = &props[n];
        *p = (struct dev_prop){ .name = key, .kind = DEV_PROP_OTHER };
        if (json_is_string(v)) {
            p->kind = DEV_PROP_STRING;
            p->str = json_string_value(v);
        } else if (json_is_integer(v)) {
            p->kind = DEV_PROP_INT;
            p->num = json_integer_value(v);
            snprintf(numbers[n], sizeof(numbers[n]), "%lld", (long long)p->num);
            p->str = numbers[n];
        }
        n++;
    }
    struct plug_error e;
    if (machine_device_add(q->m, props, n, false, &e))
        reply_return(q, id, json_object());
    else
        reply_plug_error(q, id, &e);
}

static void cmd_device_del(struct qmp *q, json_t *args, json_t *id)
{
    static const struct arg_spec spec[] = { { "id", JSON_STRING, true }, { 0 } };
    if (!check_args(q, args, id, spec))
        return;
    struct plug_error e;
    if (machine_device_del(q->m, json_string_value(json_object_get(args, "id")), &e))
        reply_return(q, id, json_object());
    else
        reply_plug_error(q, id, &e);
}

static void cmd_system_reset(struct qmp *q, json_t *args, json_t *id)
{
    (void)args;
    machine_request_host_reset(q->m);
    reply_return(q, id, json_object());
}

static void cmd_stop(struct qmp *q, json_t *args, json_t *id)
{
    (void)args;
    machine_stop(q->m);
    reply_return(q, id, json_object());
}

static void cmd_cont(struct qmp *q, json_t *args, json_t *id)
{
    (void)args;
    machine_cont(q->m);
    reply_return(q, id, json_object());
}

static void cmd_quit(struct qmp *q, json_t *args, json_t *id)
{
    (void)args;
    machine_emit(q->m, &(struct machine_event){ .kind = MACHINE_EVENT_SHUTDOWN,
                                                .reason = "host-qmp-quit" });
    reply_return(q, id, json_object());
    machine_request_exit(q->m, 0);
}

static void cmd_human_monitor_command(struct qmp *q, json_t *args, json_t *id)
{
    static const struct arg_spec spec[] = { { "command-line", JSON_STRING, true },
                                            { "cpu-index", JSON_INTEGER, false }, { 0 } };
    if (!check_args(q, args, id, spec))
        return;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out) {
        reply_error(q, id, "GenericError", "out of memory");
        return;
    }
    monitor_execute(q->m, json_string_value(json_object_get(args, "command-line")), out);
    fclose(out);
    reply_return(q, id, json_stringn(text, size));
    free(text);
}

static void cmd_pmemsave(struct qmp *q, json_t *args, json_t *id)
{
    static const struct arg_spec spec[] = { { "val", JSON_INTEGER, true },
                                            { "size", JSON_INTEGER, true },
                                            { "filename", JSON_STRING, true },
                                            { "cpu-index", JSON_INTEGER, false }, { 0 } };
    if (!check_args(q, args, id, spec))
        return;
    char err[256];
    json_int_t addr = json_integer_value(json_object_get(args, "val"));
    json_int_t size = json_integer_value(json_object_get(args, "size"));
    if (addr < 0 || size < 0) {
        reply_error(q, id, "GenericError", "Parameter 'val' and 'size' expect non-negative integers");
        return;
    }
    if (machine_save_physical(q->m, (uint64_t)addr, (uint64_t)size,
                              json_string_value(json_object_get(args, "filename")), err, sizeof(err)))
        reply_return(q, id, json_object());
    else
        reply_error(q, id, "GenericError", err);
}

/* qom-get for the objects and properties a hot-plug client or an auditor asks for:
 * the ICH9 LPC's SMI features (platform.md §4.6), the MCH's properties and each CPU's
 * topology. Paths are QEMU's. */
static json_t *qom_property(struct qmp *q, const char *path, const char *prop, const char **type)
{
    const struct machine_config *cfg = &q->m->cfg;
    if (!strcmp(path, "/machine/q35/pcie.0/child[1]")) {
        *type = "ICH9-LPC";
        if (!strcmp(prop, "x-smi-negotiated-features"))
            return json_integer((json_int_t)fw_cfg_smi_negotiated(&q->m->chipset.fw_cfg));
        if (!strcmp(prop, "x-smi-broadcast"))
            return json_boolean(cfg->lpc.smi_broadcast);
        if (!strcmp(prop, "x-smi-cpu-hotplug"))
            return json_boolean(cfg->lpc.smi_cpu_hotplug);
        if (!strcmp(prop, "x-smi-cpu-hotunplug"))
            return json_boolean(cfg->lpc.smi_cpu_hotunplug);
        return NULL;
    }
    if (!strcmp(path, "/machine/q35/mch")) {
        *type = "mch";
        if (!strcmp(prop, "smbase-smram"))
            return json_boolean(cfg->mch.smbase_smram);
        if (!strcmp(prop, "extended-tseg-mbytes"))
            return json_integer(cfg->mch.ext_tseg_mbytes);
        return NULL;
    }
    int k = machine_find_cpu_slot(q->m, path);
    if (k < 0 || path[0] != '/') {
        *type = NULL;
        return NULL;
    }
    *type = MACHINE_CPU_TYPE;
    const struct cpu_slot *sl = &q->m->slot[k];
    if (!strcmp(prop, "apic-id"))
        return json_integer(sl->apic_id);
    if (!strcmp(prop, "socket-id"))
        return json_integer(sl->socket);
    if (!strcmp(prop, "core-id"))
        return json_integer(sl->core);
    if (!strcmp(prop, "thread-id"))
        return json_integer(sl->thread);
    if (!strcmp(prop, "die-id"))
        return json_integer(0);
    return NULL;
}

static void cmd_qom_get(struct qmp *q, json_t *args, json_t *id)
{
    static const struct arg_spec spec[] = { { "path", JSON_STRING, true },
                                            { "property", JSON_STRING, true }, { 0 } };
    if (!check_args(q, args, id, spec))
        return;
    const char *path = json_string_value(json_object_get(args, "path"));
    const char *prop = json_string_value(json_object_get(args, "property"));
    const char *type = NULL;
    json_t *v = qom_property(q, path, prop, &type);
    char desc[256];
    if (v) {
        reply_return(q, id, v);
    } else if (!type) {
        snprintf(desc, sizeof(desc), "Device '%.200s' not found", path);
        reply_error(q, id, "DeviceNotFound", desc);
    } else {
        snprintf(desc, sizeof(desc), "Property '%s.%.200s' not found", type, prop);
        reply_error(q, id, "GenericError", desc);
    }
}

static void cmd_query_commands(struct qmp *q, json_t *args, json_t *id);

static const struct command {
    const char *name;
    command_fn fn;
    bool takes_args; /* false: any argument is unexpected */
} commands[] = {
    { "qmp_capabilities", NULL, true }, /* handled before dispatch */
    { "query-status", cmd_query_status, false },
    { "query-version", cmd_query_version, false },
    { "query-commands", cmd_query_commands, false },
    { "query-cpus-fast", cmd_query_cpus_fast, false },
    { "query-hotpluggable-cpus", cmd_query_hotpluggable_cpus, false },
    { "device_add", cmd_device_add, true },
    { "device_del", cmd_device_del, true },
    { "system_reset", cmd_system_reset, false },
    { "stop", cmd_stop, false },
    { "cont", cmd_cont, false },
    { "quit", cmd_quit, false },
    { "human-monitor-command", cmd_human_monitor_command, true },
    { "pmemsave", cmd_pmemsave, true },
    { "qom-get", cmd_qom_get, true },
};

static void cmd_query_commands(struct qmp *q, json_t *args, json_t *id)
{
    (void)args;
    json_t *list = json_array();
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
        json_array_append_new(list, json_pack("{s:s}", "name", commands[k].name));
    reply_return(q, id, list);
}

static void negotiate(struct qmp *q, json_t *args, json_t *id)
{
    static const struct arg_spec spec[] = { { "enable", JSON_ARRAY, false }, { 0 } };
    if (q->negotiated) {
        reply_error(q, id, "CommandNotFound",
                    "Capabilities negotiation is already complete, command ignored");
        return;
    }
    if (!check_args(q, args, id, spec))
        return;
    size_t k;
    json_t *cap;
    json_array_foreach(json_object_get(args, "enable"), k, cap) {
        if (!json_is_string(cap) || strcmp(json_string_value(cap), "oob")) {
            reply_error(q, id, "GenericError",
                        "Parameter 'enable' expects a list of capabilities ('oob')");
            return;
        }
    }
    q->negotiated = true;
    reply_return(q, id, json_object());
}

static void dispatch(struct qmp *q, json_t *req)
{
    if (!json_is_object(req)) {
        reply_error(q, NULL, "GenericError", "QMP input must be a JSON object");
        return;
    }
    json_t *id = json_object_get(req, "id");
    const char *key;
    json_t *v;
    json_object_foreach(req, key, v) {
        if (strcmp(key, "execute") && strcmp(key, "arguments") && strcmp(key, "id") &&
            strcmp(key, "exec-oob")) {
            char desc[256];
            snprintf(desc, sizeof(desc), "QMP input member '%.200s' is unexpected", key);
            reply_error(q, id, "GenericError", desc);
            return;
        }
    }
    json_t *exec = json_object_get(req, "execute");
    json_t *oob = json_object_get(req, "exec-oob");
    if (exec && oob) {
        reply_error(q, id, "GenericError", "QMP input must not have both 'execute' and 'exec-oob'");
        return;
    }
    if (!exec && !oob) {
        reply_error(q, id, "GenericError", "QMP input lacks member 'execute'");
        return;
    }
    if (!json_is_string(exec ? exec : oob)) {
        reply_error(q, id, "GenericError",
                    exec ? "QMP input member 'execute' must be a string"
                         : "QMP input member 'exec-oob' must be a string");
        return;
    }
    json_t *args = json_object_get(req, "arguments");
    if (args && !json_is_object(args)) {
        reply_error(q, id, "GenericError", "QMP input member 'arguments' must be an object");
        return;
    }
    const char *name = json_string_value(exec ? exec : oob);
    json_t *empty = json_object();
    if (!args)
        args = empty;
    const struct command *cmd = NULL;
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
        if (!strcmp(commands[k].name, name))
            cmd = &commands[k];
    char desc[256];
    if (!q->negotiated && (!cmd || cmd->fn)) {
        reply_error(q, id, "CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'");
    } else if (!cmd) {
        snprintf(desc, sizeof(desc), "The command %.200s has not been found", name);
        reply_error(q, id, "CommandNotFound", desc);
    } else if (oob) {
        snprintf(desc, sizeof(desc), "The command %s does not support OOB", name);
        reply_error(q, id, "GenericError", desc);
    } else if (!cmd->fn) {
        negotiate(q, args, id);
    } else if (!cmd->takes_args && json_object_size(args)) {
        check_args(q, args, id, NULL);
    } else {
        cmd->fn(q, args, id);
    }
    json_decref(empty);
}

/* ---- input: cut the byte stream into JSON values ---- */

static void lexer_reset(struct qmp *q)
{
    q->len = 0;
    q->depth = 0;
    q->in_string = q->escape = q->in_bare = false;
}

/* Reports bad input and drops the rest of the line it is on. */
static void input_error(struct qmp *q, const char *why, bool at_newline)
{
    char desc[256];
    snprintf(desc, sizeof(desc), "JSON parse error, %.200s", why);
    reply_error(q, NULL, "GenericError", desc);
    lexer_reset(q);
    q->skip_line = !at_newline;
}

static void complete(struct qmp *q)
{
    json_error_t jerr;
    json_t *req = json_loadb(q->msg, q->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    lexer_reset(q);
    if (!req) {
        input_error(q, jerr.text, true);
        return;
    }
    dispatch(q, req);
    json_decref(req);
}

static bool is_space(char b)
{
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
}

static void push(struct qmp *q, char b)
{
    if (q->len == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 256;
        q->msg = xrealloc(q->msg, q->cap);
    }
    q->msg[q->len++] = b;
}

static void lex_byte(struct qmp *q, char b)
{
    if (q->skip_line) {
        q->skip_line = b != '\n';
        return;
    }
    if (q->in_bare && (is_space(b) || b == '{' || b == '[' || b == '"')) {
        complete(q); /* a top-level number, literal or garbage word ends here */
        if (is_space(b))
            return;
    }
    if (q->len == 0 && is_space(b))
        return;
    if (q->len >= QMP_MAX_MESSAGE) {
        input_error(q, "message too large (the limit is 1 MiB)", b == '\n');
        return;
    }
    push(q, b);
    if (q->in_string) {
        if (q->escape)
            q->escape = false;
        else if (b == '\\')
            q->escape = true;
        else if (b == '"')
            q->in_string = false;
        else if ((unsigned char)b < 0x20)
            input_error(q, "control character in a string", b == '\n');
        if (!q->in_string && q->depth == 0 && q->len)
            complete(q);
        return;
    }
    if (q->in_bare)
        return;
    switch (b) {
    case '"':
        q->in_string = true;
        return;
    case '{':
    case '[':
        if (++q->depth > QMP_MAX_DEPTH)
            input_error(q, "nesting too deep (the limit is 1024)", false);
        return;
    case '}':
    case ']':
        if (q->depth == 0) {
            input_error(q, "unbalanced closing bracket", false);
            return;
        }
        if (--q->depth == 0)
            complete(q);
        return;
    default:
        if (q->depth == 0)
            q->in_bare = true;
        return;
    }
}

static void on_data(void *opaque, const char *buf, size_t n)
{
    struct qmp *q = opaque;
    for (size_t k = 0; k < n && !q->m->exit_requested; k++)
        lex_byte(q, buf[k]);
}

static void on_connected(void *opaque)
{
    struct qmp *q = opaque;
    q->negotiated = false;
    lexer_reset(q);
    q->skip_line = false;
    send_greeting(q);
}

static void on_closed(void *opaque)
{
    struct qmp *q = opaque;
    q->negotiated = false;
    lexer_reset(q);
    /* Give the buffer back: one huge message must not keep its memory. */
    free(q->msg);
    q->msg = NULL;
    q->cap = 0;
}

static const struct channel_handler qmp_handler = {
    .connected = on_connected,
    .data = on_data,
    .closed = on_closed,
};

struct qmp *qmp_open(struct machine *m, const char *spec, char *err, size_t err_size)
{
    struct qmp *q = xcalloc(1, sizeof(*q));
    q->m = m;
    q->ch = channel_open("-qmp", spec, &qmp_handler, q, err, err_size);
    if (!q->ch) {
        free(q);
        return NULL;
    }
    if (!strcmp(spec, "stdio"))
        on_connected(q);
    return q;
}

struct channel *qmp_channel(struct qmp *q)
{
    return q->ch;
}

void qmp_close(struct qmp *q)
{
    if (!q)
        return;
    channel_close(q->ch);
    free(q->msg);
    free(q);
}
