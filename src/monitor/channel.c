/*
 * channel.c - stdio and unix-socket byte streams for the monitors (see
 * channel.h for the rules).
 */
#define _DEFAULT_SOURCE /* struct sockaddr_un on glibc with _POSIX_C_SOURCE */
#include "monitor/channel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

#define IDLE_WAIT_MS 100

struct channel {
    bool is_stdio;
    int listen_fd; /* unix socket server, -1 if none */
    int in_fd;     /* stdin or the connected client, -1 if none */
    int out_fd;
    char *out;     /* bytes the client has not taken yet */
    size_t out_len, out_cap;
    const struct channel_handler *h;
    void *opaque;
};

bool channel_connected(const struct channel *ch)
{
    return ch->in_fd >= 0;
}

static void flush_out(struct channel *ch)
{
    size_t done = 0;
    while (done < ch->out_len && ch->out_fd >= 0) {
        /* MSG_NOSIGNAL: a client that vanished must not kill the emulator with SIGPIPE */
        ssize_t n = send(ch->out_fd, ch->out + done, ch->out_len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* EAGAIN: later; an error is noticed on the next read */
        done += (size_t)n;
    }
    memmove(ch->out, ch->out + done, ch->out_len - done);
    ch->out_len -= done;
}

void channel_disconnect(struct channel *ch)
{
    if (ch->in_fd < 0)
        return;
    if (!ch->is_stdio)
        close(ch->in_fd);
    ch->in_fd = ch->out_fd = -1;
    ch->out_len = 0;
    if (ch->h->closed)
        ch->h->closed(ch->opaque);
}

void channel_write(struct channel *ch, const char *buf, size_t len)
{
    if (ch->out_fd < 0)
        return;
    if (ch->is_stdio) {
        fflush(stdout); /* guest output on stdout (debugcon, serial) goes out first */
        while (len > 0) {
            ssize_t n = write(ch->out_fd, buf, len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return;
            buf += n;
            len -= (size_t)n;
        }
        return;
    }
    if (ch->out_len + len > CHANNEL_OUT_MAX) {
        fprintf(stderr, "smmvm: monitor client does not read its replies (%zu bytes queued); "
                        "disconnecting it\n", ch->out_len);
        channel_disconnect(ch);
        return;
    }
    if (ch->out_len + len > ch->out_cap) {
        ch->out_cap = (ch->out_len + len) * 2;
        ch->out = xrealloc(ch->out, ch->out_cap);
    }
    memcpy(ch->out + ch->out_len, buf, len);
    ch->out_len += len;
    flush_out(ch);
}

void channel_write_str(struct channel *ch, const char *s)
{
    channel_write(ch, s, strlen(s));
}

static void accept_client(struct channel *ch)
{
    int fd = accept(ch->listen_fd, NULL, NULL);
    if (fd < 0)
        return;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    ch->in_fd = ch->out_fd = fd;
    if (ch->h->connected)
        ch->h->connected(ch->opaque);
}

static void read_input(struct channel *ch)
{
    char buf[4096];
    ssize_t n = read(ch->in_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        channel_disconnect(ch);
        return;
    }
    ch->h->data(ch->opaque, buf, (size_t)n);
}

bool channel_set_poll(void *opaque, bool idle)
{
    struct channel_set *set = opaque;
    struct pollfd fds[2 * CHANNEL_SET_MAX];
    struct channel *owner[2 * CHANNEL_SET_MAX];
    unsigned n = 0;
    for (unsigned k = 0; k < set->n; k++) {
        struct channel *ch = set->ch[k];
        /* One client at a time, as QEMU's monitor sockets: a second one waits in the
         * listen backlog and gets its greeting when the first has gone. */
        if (ch->listen_fd >= 0 && ch->in_fd < 0) {
            owner[n] = ch;
            fds[n++] = (struct pollfd){ .fd = ch->listen_fd, .events = POLLIN };
        }
        if (ch->in_fd >= 0) {
            owner[n] = ch;
            fds[n++] = (struct pollfd){ .fd = ch->in_fd,
                                        .events = POLLIN | (ch->out_len ? POLLOUT : 0) };
        }
    }
    if (n == 0)
        return false; /* stdin closed and no socket: nothing can arrive */
    int r = poll(fds, n, idle ? IDLE_WAIT_MS : 0);
    if (r <= 0)
        return true;
    for (unsigned k = 0; k < n; k++) {
        struct channel *ch = owner[k];
        if (fds[k].fd == ch->listen_fd) {
            if (fds[k].revents & POLLIN)
                accept_client(ch);
            continue;
        }
        if (fds[k].fd != ch->in_fd) /* closed by an earlier handler in this pass */
            continue;
        if (fds[k].revents & POLLOUT)
            flush_out(ch);
        if (fds[k].revents & (POLLIN | POLLHUP | POLLERR))
            read_input(ch);
    }
    return true;
}

static bool open_unix(struct channel *ch, const char *opt, const char *spec, char *err,
                      size_t err_size)
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
            snprintf(err, err_size, "%s: unix: unknown parameter '%s'", opt, t);
            free(copy);
            return false;
        }
    }
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (!path || !*path || strlen(path) >= sizeof(addr.sun_path)) {
        snprintf(err, err_size, "%s: unix: a socket path (shorter than %zu bytes) is required", opt,
                 sizeof(addr.sun_path));
        free(copy);
        return false;
    }
    if (!server || wait) {
        snprintf(err, err_size, "%s: %s: only server=on,wait=off is supported", opt, spec);
        free(copy);
        return false;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(path); /* QEMU replaces a stale socket too */
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 8) < 0) {
        snprintf(err, err_size, "%s: Failed to bind socket to %s: %s", opt, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(copy);
        return false;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    ch->listen_fd = fd;
    free(copy);
    return true;
}

struct channel *channel_open(const char *opt, const char *spec, const struct channel_handler *h,
                             void *opaque, char *err, size_t err_size)
{
    struct channel *ch = xcalloc(1, sizeof(*ch));
    *ch = (struct channel){ .listen_fd = -1, .in_fd = -1, .out_fd = -1, .h = h, .opaque = opaque };
    if (!strcmp(spec, "stdio")) {
        ch->is_stdio = true;
        ch->in_fd = STDIN_FILENO;
        ch->out_fd = STDOUT_FILENO; /* connected from the start: the caller greets */
    } else if (!strncmp(spec, "unix:", 5)) {
        if (!open_unix(ch, opt, spec, err, err_size)) {
            free(ch);
            return NULL;
        }
    } else {
        snprintf(err, err_size, "%s: '%s' is not supported (stdio or unix:PATH,server=on,wait=off)",
                 opt, spec);
        free(ch);
        return NULL;
    }
    return ch;
}

void channel_close(struct channel *ch)
{
    if (!ch)
        return;
    if (!ch->is_stdio && ch->in_fd >= 0) {
        flush_out(ch);
        close(ch->in_fd);
    }
    if (ch->listen_fd >= 0)
        close(ch->listen_fd);
    free(ch->out);
    free(ch);
}
