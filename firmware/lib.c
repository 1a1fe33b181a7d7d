/*
 * lib.c - freestanding helpers shared by the boot and the SMM stage (lib.h).
 */
#include "lib.h"

#include "hw.h"
#include "platform.h"

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;

    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (; n; n--, x++, y++) {
        if (*x != *y)
            return *x - *y;
    }
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

int str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* ---- console ---- */

static volatile uint32_t *console_lock;

void console_use_lock(volatile uint32_t *lock)
{
    console_lock = lock;
}

static void line_put(struct line *l, char c)
{
    if (l->len < sizeof(l->buf) - 1)
        l->buf[l->len++] = c;
}

static void line_puts(struct line *l, const char *s)
{
    while (*s)
        line_put(l, *s++);
}

void line_begin(struct line *l, const char *event)
{
    l->len = 0;
    line_puts(l, "smmfw: ");
    line_puts(l, event);
}

static void line_key(struct line *l, const char *key)
{
    line_put(l, ' ');
    line_puts(l, key);
    line_put(l, '=');
}

void line_hex(struct line *l, const char *key, uint64_t v)
{
    char tmp[16];
    int n = 0;

    line_key(l, key);
    line_puts(l, "0x");
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n)
        line_put(l, tmp[--n]);
}

void line_dec(struct line *l, const char *key, uint64_t v)
{
    char tmp[20];
    int n = 0;

    line_key(l, key);
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        line_put(l, tmp[--n]);
}

void line_str(struct line *l, const char *key, const char *v)
{
    line_key(l, key);
    line_puts(l, v);
}

void line_append(struct line *l, const char *word)
{
    line_put(l, ' ');
    line_puts(l, word);
}

void line_end(struct line *l)
{
    l->buf[l->len++] = '\n';
    if (console_lock) {
        while (__atomic_exchange_n(console_lock, 1, __ATOMIC_ACQUIRE))
            cpu_pause();
    }
    for (unsigned i = 0; i < l->len; i++)
        outb(DEBUGCON_PORT, (uint8_t)l->buf[i]);
    if (console_lock)
        __atomic_store_n(console_lock, 0, __ATOMIC_RELEASE);
}

void say(const char *event)
{
    struct line l;

    line_begin(&l, event);
    line_end(&l);
}

void fatal_simple(const char *code)
{
    struct line l;

    line_begin(&l, "fatal");
    line_append(&l, code);
    fatal_finish(&l);
}

/* ---- PM timer ---- */

static uint32_t pm_timer_now(void)
{
    return inl(PM1_TMR) & 0xffffffu;
}

void deadline_start(struct deadline *d, uint64_t ticks)
{
    d->last = pm_timer_now();
    d->left = ticks;
}

int deadline_expired(struct deadline *d)
{
    uint32_t now = pm_timer_now();
    uint32_t delta = (now - d->last) & 0xffffffu;

    d->last = now;
    if (delta >= d->left) {
        d->left = 0;
        return 1;
    }
    d->left -= delta;
    return 0;
}

void delay_ticks(uint64_t ticks)
{
    struct deadline d;

    deadline_start(&d, ticks);
    while (!deadline_expired(&d))
        cpu_pause();
}

/* ---- local APIC ---- */

int apic_mode_ok(void)
{
    uint64_t base = rdmsr(APIC_BASE_MSR);

    if (!(base & APIC_BASE_ENABLE))
        return 0;
    if (base & APIC_BASE_X2APIC)
        return 1;
    return (base & 0xfffff000ull) == APIC_DEFAULT_BASE;
}

void apic_send(uint32_t dest_apic, uint32_t icr_low)
{
    uint64_t base = rdmsr(APIC_BASE_MSR);

    if (base & APIC_BASE_X2APIC) {
        wrmsr(0x830, ((uint64_t)dest_apic << 32) | icr_low);
        return;
    }
    mmio_write32(APIC_DEFAULT_BASE + 0x310, dest_apic << 24);
    mmio_write32(APIC_DEFAULT_BASE + 0x300, icr_low);
    struct deadline d;
    deadline_start(&d, US_TICKS(1000));
    while ((mmio_read32(APIC_DEFAULT_BASE + 0x300) & (1u << 12)) && !deadline_expired(&d))
        cpu_pause();
}

uint32_t cpu_apic_id(void)
{
    uint32_t r[4];

    cpu_cpuid(0, 0, r);
    if (r[0] >= 0xb) {
        cpu_cpuid(0xb, 0, r);
        if (r[1] & 0xffff)
            return r[3];
    }
    cpu_cpuid(1, 0, r);
    return r[1] >> 24;
}
