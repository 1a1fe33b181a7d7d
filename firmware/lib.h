/*
 * lib.h - the freestanding helpers every smmfw stage links: memory functions, the debug
 * console line builder (firmware.md §12), the PM-timer time base (§4.5), the local APIC
 * (§5.2, §8.2) and atomics.
 */
#ifndef SMMFW_LIB_H
#define SMMFW_LIB_H

#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int str_eq(const char *a, const char *b);

/* One debug-console line: "smmfw: <event>[ key=value]...\n", written whole. */
struct line {
    char buf[192];
    unsigned len;
};
void line_begin(struct line *l, const char *event);
void line_hex(struct line *l, const char *key, uint64_t v);
void line_dec(struct line *l, const char *key, uint64_t v);
void line_str(struct line *l, const char *key, const char *v);
void line_append(struct line *l, const char *word); /* " word" */
void line_end(struct line *l);
void say(const char *event);
/* SMM sets this to a spin lock in SMRAM; the boot stage runs on one CPU and leaves it NULL. */
void console_use_lock(volatile uint32_t *lock);

/* Stage-specific: print the (already built) fatal line and stop this CPU for good. */
__attribute__((noreturn)) void fatal_finish(struct line *l);
__attribute__((noreturn)) void fatal_simple(const char *code);

/* ACPI PM timer: 24 bits, wraps; a deadline accumulates elapsed ticks across wraps. */
struct deadline {
    uint32_t last;
    uint64_t left;
};
void deadline_start(struct deadline *d, uint64_t ticks);
int deadline_expired(struct deadline *d);
void delay_ticks(uint64_t ticks);

/* Local APIC (xAPIC at 0xFEE00000 or x2APIC). */
#define ICR_SMI   0x4200u
#define ICR_INIT  0x4500u
#define ICR_SIPI  0x4600u
#define ICR_SELF  0x40000u
int apic_mode_ok(void);
void apic_send(uint32_t dest_apic, uint32_t icr_low);
uint32_t cpu_apic_id(void);

static inline uint32_t atomic_load32(const volatile uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void atomic_store32(volatile uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline int cas64(volatile uint64_t *p, uint64_t expect, uint64_t desired)
{
    return __atomic_compare_exchange_n(p, &expect, desired, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

#endif
