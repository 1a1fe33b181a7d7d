/*
 * channel.h - the byte streams the monitors talk over: stdio, or a listening
 * unix socket with one client at a time (`unix:PATH,server=on,wait=off`).
 * No threads: a channel_set is polled between scheduler rounds without
 * blocking, and with a timeout while every CPU is halted, so a run with no
 * monitor input stays deterministic.
 *
 * Output to a socket client is buffered and never blocks the machine; a
 * client that stops reading and lets more than CHANNEL_OUT_MAX bytes pile up
 * is disconnected.
 */
#ifndef SMMVM_MONITOR_CHANNEL_H
#define SMMVM_MONITOR_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

#define CHANNEL_OUT_MAX (8u << 20)
#define CHANNEL_SET_MAX 8

struct channel;

struct channel_handler {
    void (*connected)(void *opaque);                          /* a client (or stdio) is there */
    void (*data)(void *opaque, const char *buf, size_t len);  /* bytes arrived */
    void (*closed)(void *opaque);                             /* the client went away */
};

/* `spec` is stdio or unix:PATH,server=on,wait=off; `opt` names the option in
 * error messages. NULL and a message in err on error. A stdio channel is
 * connected from the start and `connected` is not called for it: the caller
 * sends its greeting itself. */
struct channel *channel_open(const char *opt, const char *spec, const struct channel_handler *h,
                             void *opaque, char *err, size_t err_size);
void channel_close(struct channel *ch);
/* Queues bytes for the connected client (dropped if none). */
void channel_write(struct channel *ch, const char *buf, size_t len);
void channel_write_str(struct channel *ch, const char *s);
bool channel_connected(const struct channel *ch);
/* Drops the current client (the listening socket stays). */
void channel_disconnect(struct channel *ch);

struct channel_set {
    struct channel *ch[CHANNEL_SET_MAX];
    unsigned n;
};

/* machine_poll_fn over every channel: handles pending input; with idle =
 * true waits up to 100 ms for some. Returns false when nothing can ever
 * arrive any more. */
bool channel_set_poll(void *set, bool idle);

#endif
