/*
 * chardev.c - stdio and file character back ends. Writes are flushed per
 * byte burst so a debug log is complete even if the guest never exits.
 */
#include "hw/chardev.h"

#include <errno.h>
#include <string.h>

bool chardev_open_file(struct chardev *cd, const char *path, char *err, size_t err_size)
{
    cd->out = fopen(path, "wb");
    if (!cd->out) {
        snprintf(err, err_size, "could not open '%s': %s", path, strerror(errno));
        return false;
    }
    cd->owns_file = true;
    return true;
}

bool chardev_open_spec(struct chardev *cd, const char *spec, char *err, size_t err_size)
{
    if (strcmp(spec, "stdio") == 0) {
        cd->out = stdout;
        cd->owns_file = false;
        return true;
    }
    if (strcmp(spec, "null") == 0 || strcmp(spec, "none") == 0) {
        cd->out = NULL;
        return true;
    }
    if (strncmp(spec, "file:", 5) == 0)
        return chardev_open_file(cd, spec + 5, err, err_size);
    snprintf(err, err_size, "'%s' is not a supported character device (stdio, file:PATH, null)",
             spec);
    return false;
}

void chardev_write(struct chardev *cd, const void *buf, size_t len)
{
    if (!cd || !cd->out)
        return;
    fwrite(buf, 1, len, cd->out);
    fflush(cd->out);
}

void chardev_close(struct chardev *cd)
{
    if (cd->out && cd->owns_file)
        fclose(cd->out);
    cd->out = NULL;
}
