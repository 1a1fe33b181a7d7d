/*
 * monitor.h - the HMP-style text monitor, first cut: `info mtree [-f]`,
 * `info pci`, `info smram`, `system_reset`, `quit`, `help`, on stdio or on a
 * listening unix socket (`-monitor stdio`, `-monitor
 * unix:PATH,server=on,wait=off`). No threads: the scheduler polls it between
 * rounds without blocking, and waits on it when every CPU is halted, so a
 * run with no monitor input stays deterministic.
 */
#ifndef SMMVM_MONITOR_MONITOR_H
#define SMMVM_MONITOR_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct machine;
struct monitor;

/* Parses the -monitor argument and opens the channel; NULL and a message in err on error. */
struct monitor *monitor_open(struct machine *m, const char *spec, char *err, size_t err_size);
void monitor_close(struct monitor *mon);
/* machine_poll_fn: handles pending input; with idle = true waits up to 100 ms for it. */
bool monitor_poll(void *opaque, bool idle);

/* Runs one command line against m, printing its output (or one error line) to out. */
void monitor_execute(struct machine *m, const char *line, FILE *out);

#endif
