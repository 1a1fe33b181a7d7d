/*
 * util.h - small helpers every module uses: checked allocation, BUG_ON for
 * emulator bugs (never for guest input: style.md §2.5), branch hints.
 */
#ifndef SMMVM_UTIL_H
#define SMMVM_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
/* Reads a whole file; exits with a one-line error naming the file on failure. */
uint8_t *xread_file(const char *path, size_t *size_out);

_Noreturn void bug_report(const char *file, int line, const char *cond);
#define BUG_ON(cond)                                                                               \
    do {                                                                                           \
        if (unlikely(cond))                                                                        \
            bug_report(__FILE__, __LINE__, #cond);                                                 \
    } while (0)

#endif
