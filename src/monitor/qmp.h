/*
 * qmp.h - the QEMU Machine Protocol on `-qmp stdio` and `-qmp
 * unix:PATH,server=on,wait=off`: greeting, capabilities negotiation, the
 * commands smmvm has (qmp_capabilities, query-status, query-version,
 * query-commands, query-cpus-fast, query-hotpluggable-cpus, device_add,
 * device_del, system_reset, stop, cont, quit, human-monitor-command) and
 * the events DEVICE_DELETED, ACPI_DEVICE_OST, RESET, SHUTDOWN, STOP,
 * RESUME, with QEMU 7.2's JSON shapes and error classes.
 *
 * Input is split into JSON values by a small lexer that tracks strings and
 * nesting only; each value is then parsed by jansson. Bad input (malformed
 * JSON, a value over QMP_MAX_MESSAGE bytes, nesting over QMP_MAX_DEPTH, a
 * control character inside a string) gets one GenericError reply, the rest
 * of that input line is dropped, and the connection goes on. Event
 * timestamps are virtual time, so a run stays deterministic.
 */
#ifndef SMMVM_MONITOR_QMP_H
#define SMMVM_MONITOR_QMP_H

#include <stddef.h>

#define QMP_MAX_MESSAGE (1u << 20)
#define QMP_MAX_DEPTH   1024

struct channel;
struct machine;
struct machine_event;
struct qmp;

/* Opens the -qmp channel; NULL and a message in err on error. */
struct qmp *qmp_open(struct machine *m, const char *spec, char *err, size_t err_size);
void qmp_close(struct qmp *q);
struct channel *qmp_channel(struct qmp *q);
/* Sends a machine event to the client if it has negotiated capabilities. */
void qmp_send_event(struct qmp *q, const struct machine_event *ev);

#endif
