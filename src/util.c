/*
 * util.c - checked allocation and the BUG_ON report.
 * Host failures print what failed and exit 1 (style.md §2.5).
 */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "smmvm: out of memory allocating %zu x %zu bytes\n", count, size);
        exit(1);
    }
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p) {
        fprintf(stderr, "smmvm: out of memory allocating %zu bytes\n", size);
        exit(1);
    }
    return p;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xcalloc(1, n);
    memcpy(p, s, n);
    return p;
}

uint8_t *xread_file(const char *path, size_t *size_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "smmvm: could not open '%s': %s\n", path, strerror(errno));
        exit(1);
    }
    size_t cap = 65536, len = 0;
    uint8_t *buf = xcalloc(1, cap);
    for (;;) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
        if (len == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "smmvm: could not read '%s': %s\n", path, strerror(errno));
        exit(1);
    }
    fclose(f);
    *size_out = len;
    return buf;
}

void bug_report(const char *file, int line, const char *cond)
{
    fprintf(stderr, "smmvm: internal error at %s:%d: %s\n", file, line, cond);
    abort();
}
