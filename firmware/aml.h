/*
 * aml.h - the AML writer used by dsdt.c (aml.c).
 */
#ifndef SMMFW_AML_H
#define SMMFW_AML_H

#include <stdint.h>

struct aml {
    uint8_t *buf;
    uint32_t len, cap;
    uint32_t open[16]; /* start offsets of open PkgLength scopes */
    unsigned depth;
};

void aml_begin(struct aml *a, uint8_t *buf, uint32_t cap);
void aml_byte(uint8_t v);
void aml_word(uint16_t v);
void aml_dword(uint32_t v);
void aml_pkg_begin(void);
void aml_pkg_end(void);
void aml_nameseg(const char *s, unsigned n);
void aml_name(const char *path);
void aml_int(uint64_t v);
void aml_string(const char *s);
uint32_t aml_eisa_id(const char *s);
void aml_eisa(const char *s);
void aml_name_op(const char *n);
void aml_scope(const char *n);
void aml_device(const char *n);
void aml_method(const char *n, unsigned args, int serialized);
void aml_if(void);
void aml_while(void);
void aml_acquire(const char *mutex);
void aml_release(const char *mutex);
void aml_store_int(uint64_t v, const char *dst);
void aml_buffer(const uint8_t *bytes, unsigned n);
void aml_io_resource(uint16_t port, uint8_t len);

#define AML_LOCAL(n) (0x60 + (n))
#define AML_ARG(n)   (0x68 + (n))
#define AML_STORE   0x70
#define AML_RETURN  0xa4
#define AML_LEQUAL  0x93
#define AML_LLESS   0x95
#define AML_LGREATER 0x94
#define AML_LAND    0x90
#define AML_INCR    0x75
#define AML_NOTIFY  0x86
#define AML_BREAK   0xa5
#define AML_INDEX   0x88
#define AML_DEREF   0x83

#endif
