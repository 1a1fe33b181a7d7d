/*
 * forms.h - the builder the form table is written with, shared by forms.c
 * (arithmetic, logic, shifts, bit operations, the undefined-flag table),
 * forms_more.c (moves, control, stack, strings, faults, pairs, sequences) and
 * forms_c32.c (compatibility mode, segment registers). Only the test's own files include it.
 */
#ifndef SMMVM_TESTS_DIFF_FORMS_H
#define SMMVM_TESTS_DIFF_FORMS_H

#include "diff.h"

#define BIT(r) (1u << (r))
enum { AX = 0, CX = 1, DX = 2 };

struct table {
    struct form *f;
    unsigned n, max;
};

/* Appends a form with the common defaults: ModRM with a register reg field,
 * r/m a register, r/m width = operand width. */
struct form *form_add(struct table *t, unsigned fam, unsigned size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void form_opcode(struct form *f, unsigned n, unsigned b0, unsigned b1, unsigned b2);
/* A second, fixed instruction after the form's one (flag consumers, SMC targets). */
void form_suffix(struct form *f, unsigned n, const uint8_t *bytes);

extern const unsigned form_vsizes[3];       /* 2, 4, 8 */
extern const char *const form_cc_names[16]; /* o no b ae z nz be a s ns p np l ge le g */

void forms_moves(struct table *t);
void forms_misc(struct table *t);
void forms_control(struct table *t);
void forms_stack(struct table *t);
void forms_strings(struct table *t);
void forms_faults(struct table *t);
void forms_pairs(struct table *t);
void forms_extra(struct table *t);
void forms_compat(struct table *t);
void forms_sregs(struct table *t);

#endif
