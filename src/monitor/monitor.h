/*
 * monitor.h - the HMP-style text monitor: `info mtree [-f]`, `info pci`,
 * `info smram`, `info cpus`, `info registers`, `info hotpluggable-cpus`,
 * `info status`, `device_add`, `device_del`, `stop`, `cont`,
 * `system_reset`, `quit`, `help`, on stdio or on a listening unix socket
 * (`-monitor stdio`, `-monitor unix:PATH,server=on,wait=off`). Commands run
 * between scheduler rounds (see channel.h).
 */
#ifndef SMMVM_MONITOR_MONITOR_H
#define SMMVM_MONITOR_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "machine/machine.h"

struct channel;
struct monitor;

/* Parses the -monitor argument and opens the channel; NULL and a message in err on error. */
struct monitor *monitor_open(struct machine *m, const char *spec, char *err, size_t err_size);
void monitor_close(struct monitor *mon);
/* The channel to add to the set main.c polls. */
struct channel *monitor_channel(struct monitor *mon);

/* Runs one command line against m, printing its output (or one error line) to out.
 * QMP's human-monitor-command uses it too. */
void monitor_execute(struct machine *m, const char *line, FILE *out);
/* "running", "paused", "prelaunch" (query-status, info status). */
const char *monitor_run_state_name(enum machine_run_state st);

#endif
