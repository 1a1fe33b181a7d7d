/*
 * port92_test.c - System Control Port A: read-back, the A20 hook on every
 * write, reset only on a 0 -> 1 edge of bit 0, and what system reset keeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "hw/port92.h"
#include "mem/memory.h"

struct fixture {
    struct mem_system sys;
    struct mem_region *io;
    struct address_space *as;
    struct port92 p;
    int a20, resets;
};

static void set_a20(void *owner, bool enabled)
{
    ((struct fixture *)owner)->a20 = enabled;
}

static void do_reset(void *owner)
{
    ((struct fixture *)owner)->resets++;
}

static const struct port92_hooks hooks = { set_a20, do_reset };

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    mem_system_init(&f->sys);
    f->io = mem_region_container(&f->sys, "io", 0x10000);
    f->as = mem_space_create(&f->sys, "I/O", f->io);
    f->a20 = -1;
    port92_init(&f->p, &f->sys, f->io, &hooks, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    mem_system_free(&f->sys);
    free(f);
    return 0;
}

static void test_a20_follows_bit_1_and_reads_back(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mem_read(f->as, 0x92, 1), 0x00);
    assert_int_equal(f->a20, -1); /* nothing is driven before the first write */
    mem_write(f->as, 0x92, 0x00, 1);
    assert_int_equal(f->a20, 0);
    mem_write(f->as, 0x92, 0x02, 1);
    assert_int_equal(f->a20, 1);
    assert_int_equal(mem_read(f->as, 0x92, 1), 0x02);
    assert_int_equal(f->resets, 0);
}

static void test_reset_on_rising_edge_of_bit_0_only(void **state)
{
    struct fixture *f = *state;
    mem_write(f->as, 0x92, 0x03, 1);
    assert_int_equal(f->resets, 1);
    mem_write(f->as, 0x92, 0x03, 1); /* still 1: no new edge */
    assert_int_equal(f->resets, 1);
    port92_reset(&f->p);
    assert_int_equal(mem_read(f->as, 0x92, 1), 0x02); /* bit 0 cleared, A20 kept */
    mem_write(f->as, 0x92, 0x03, 1);
    assert_int_equal(f->resets, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a20_follows_bit_1_and_reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_on_rising_edge_of_bit_0_only, setup, teardown),
    };
    return cmocka_run_group_tests_name("port92", tests, NULL, NULL);
}
