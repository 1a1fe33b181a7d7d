/*
 * aml.c - a small AML byte-code writer for the DSDT (ACPI 6.x, "ACPI Machine Language
 * Specification"): name strings, integers, PkgLength scopes closed with the minimal encoding,
 * and the few operators smmfw's CPU hot-plug methods need. One writer at a time (boot CPU).
 */
#include "aml.h"

#include "boot.h" /* boot_fatal_kv() */
#include "lib.h"

static struct aml *A;

void aml_begin(struct aml *a, uint8_t *buf, uint32_t cap)
{
    *a = (struct aml){.buf = buf, .cap = cap};
    A = a;
}

void aml_byte(uint8_t v)
{
    if (A->len >= A->cap)
        boot_fatal_kv("tseg-too-small", "acpi", A->len);
    A->buf[A->len++] = v;
}

void aml_word(uint16_t v)
{
    aml_byte((uint8_t)v);
    aml_byte((uint8_t)(v >> 8));
}

void aml_dword(uint32_t v)
{
    aml_word((uint16_t)v);
    aml_word((uint16_t)(v >> 16));
}

/* PkgLength: reserve 4 bytes now, shrink to the minimal encoding when the scope closes. */
void aml_pkg_begin(void)
{
    A->open[A->depth++] = A->len;
    A->len += 4;
}

void aml_pkg_end(void)
{
    uint32_t start = A->open[--A->depth];
    uint32_t body = A->len - start - 4;
    unsigned n = body + 1 < 0x40 ? 1 : body + 2 < 0x1000 ? 2 : body + 3 < 0x100000 ? 3 : 4;
    uint32_t total = body + n;
    uint8_t *p = A->buf + start;

    memmove(p + n, p + 4, body);
    A->len -= 4 - n;
    if (n == 1) {
        p[0] = (uint8_t)total;
        return;
    }
    p[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
    for (unsigned i = 1; i < n; i++)
        p[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

void aml_nameseg(const char *s, unsigned n)
{
    for (unsigned i = 0; i < 4; i++)
        aml_byte(i < n ? (uint8_t)s[i] : '_');
}

/* "\\_SB.PCI0.PRES.CSEL", "CSTA", "^FOO" */
void aml_name(const char *path)
{
    const char *p = path;
    unsigned nseg = 1;

    if (*p == '\\')
        aml_byte(*p++);
    while (*p == '^')
        aml_byte(*p++);
    for (const char *q = p; *q; q++)
        nseg += *q == '.';
    if (nseg == 2)
        aml_byte(0x2e);
    else if (nseg > 2) {
        aml_byte(0x2f);
        aml_byte((uint8_t)nseg);
    }
    while (*p) {
        unsigned n = 0;
        while (p[n] && p[n] != '.')
            n++;
        aml_nameseg(p, n);
        p += n;
        if (*p == '.')
            p++;
    }
}

void aml_int(uint64_t v)
{
    if (v == 0)
        aml_byte(0x00);
    else if (v == 1)
        aml_byte(0x01);
    else if (v <= 0xff) {
        aml_byte(0x0a);
        aml_byte((uint8_t)v);
    } else if (v <= 0xffff) {
        aml_byte(0x0b);
        aml_word((uint16_t)v);
    } else {
        aml_byte(0x0c);
        aml_dword((uint32_t)v);
    }
}

void aml_string(const char *s)
{
    aml_byte(0x0d);
    while (*s)
        aml_byte((uint8_t)*s++);
    aml_byte(0);
}

uint32_t aml_eisa_id(const char *s)
{
    uint32_t hex = 0;
    for (int i = 3; i < 7; i++)
        hex = (hex << 4) | (uint32_t)(s[i] <= '9' ? s[i] - '0' : s[i] - 'A' + 10);
    uint8_t b0 = (uint8_t)(((s[0] - 0x40) << 2) | ((s[1] - 0x40) >> 3));
    uint8_t b1 = (uint8_t)((((s[1] - 0x40) & 7) << 5) | (s[2] - 0x40));
    return b0 | (uint32_t)b1 << 8 | ((hex >> 8) & 0xff) << 16 | (hex & 0xff) << 24;
}

void aml_eisa(const char *s)
{
    aml_byte(0x0c);
    aml_dword(aml_eisa_id(s));
}

void aml_name_op(const char *n)
{
    aml_byte(0x08);
    aml_name(n);
}

void aml_scope(const char *n)
{
    aml_byte(0x10);
    aml_pkg_begin();
    aml_name(n);
}

void aml_device(const char *n)
{
    aml_byte(0x5b);
    aml_byte(0x82);
    aml_pkg_begin();
    aml_name(n);
}

void aml_method(const char *n, unsigned args, int serialized)
{
    aml_byte(0x14);
    aml_pkg_begin();
    aml_name(n);
    aml_byte((uint8_t)(args | (serialized ? 8 : 0)));
}

void aml_if(void)
{
    aml_byte(0xa0);
    aml_pkg_begin();
}

void aml_while(void)
{
    aml_byte(0xa2);
    aml_pkg_begin();
}


void aml_acquire(const char *mutex)
{
    aml_byte(0x5b);
    aml_byte(0x23);
    aml_name(mutex);
    aml_word(0xffff);
}

void aml_release(const char *mutex)
{
    aml_byte(0x5b);
    aml_byte(0x27);
    aml_name(mutex);
}

/* Store(integer, NameString) */
void aml_store_int(uint64_t v, const char *dst)
{
    aml_byte(AML_STORE);
    aml_int(v);
    aml_name(dst);
}

void aml_buffer(const uint8_t *bytes, unsigned n)
{
    aml_byte(0x11);
    aml_pkg_begin();
    aml_int(n);
    for (unsigned i = 0; i < n; i++)
        aml_byte(bytes[i]);
    aml_pkg_end();
}

void aml_io_resource(uint16_t port, uint8_t len)
{
    uint8_t r[] = {0x47, 0x01, (uint8_t)port, (uint8_t)(port >> 8), (uint8_t)port,
                   (uint8_t)(port >> 8), 0x01, len, 0x79, 0x00};
    aml_buffer(r, sizeof(r));
}
