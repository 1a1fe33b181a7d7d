/*
 * chardev.h - a character back end for the debug console and the UART:
 * stdio or a file (QEMU's `-chardev stdio|file` and the `file:PATH` short
 * forms). Output only for now; input arrives with the interactive monitor.
 */
#ifndef SMMVM_HW_CHARDEV_H
#define SMMVM_HW_CHARDEV_H

#include <stdbool.h>
#include <stdio.h>

struct chardev {
    char id[32];
    FILE *out;
    bool owns_file;
};

/* Parses "stdio", "file:PATH" or "null"; on error writes a message to err. */
bool chardev_open_spec(struct chardev *cd, const char *spec, char *err, size_t err_size);
bool chardev_open_file(struct chardev *cd, const char *path, char *err, size_t err_size);
void chardev_write(struct chardev *cd, const void *buf, size_t len);
void chardev_close(struct chardev *cd);

#endif
