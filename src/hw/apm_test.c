/*
 * apm_test.c - the APM latches of platform.md §3.8 through the port address
 * space: read-back, byte order of wider accesses, which writes notify the
 * owner, and that nothing clears them (there is no reset).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "hw/apm.h"
#include "mem/memory.h"

struct apm_fixture {
    struct mem_system sys;
    struct mem_region *io;
    struct address_space *ports;
    struct apm apm;
    unsigned control_writes;
    uint8_t last_control;      /* value passed to the callback */
    uint8_t status_at_notify;  /* APM_STS when the callback ran */
    uint8_t control_at_notify; /* APM_CNT as latched when the callback ran */
};

static void count_control_write(void *owner, uint8_t control)
{
    struct apm_fixture *f = owner;

    f->control_writes++;
    f->last_control = control;
    f->status_at_notify = f->apm.status;
    f->control_at_notify = f->apm.control;
}

static int setup(void **state)
{
    struct apm_fixture *f = calloc(1, sizeof(*f));

    mem_system_init(&f->sys);
    f->io = mem_region_container(&f->sys, "io", 0x10000);
    f->ports = mem_space_create(&f->sys, "I/O", f->io);
    apm_init(&f->apm, &f->sys, f->io, count_control_write, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct apm_fixture *f = *state;

    mem_system_free(&f->sys);
    free(f);
    return 0;
}

static void test_both_latches_read_zero_at_power_on(void **state)
{
    struct apm_fixture *f = *state;

    assert_int_equal(mem_read(f->ports, 0xB2, 1), 0x00);
    assert_int_equal(mem_read(f->ports, 0xB3, 1), 0x00);
    assert_int_equal(f->control_writes, 0);
}

static void test_control_write_latches_and_notifies_with_value(void **state)
{
    struct apm_fixture *f = *state;

    mem_write(f->ports, 0xB2, 0x04, 1);

    assert_int_equal(f->control_writes, 1);
    assert_int_equal(f->last_control, 0x04);
    assert_int_equal(f->control_at_notify, 0x04); /* latched before the callback */
    assert_int_equal(mem_read(f->ports, 0xB2, 1), 0x04);
    assert_int_equal(mem_read(f->ports, 0xB3, 1), 0x00);
}

static void test_every_control_write_notifies_even_same_value(void **state)
{
    struct apm_fixture *f = *state;

    mem_write(f->ports, 0xB2, 0x00, 1);
    mem_write(f->ports, 0xB2, 0x00, 1);
    mem_write(f->ports, 0xB2, 0x02, 1); /* ACPI enable: still reported, the LPC decides */

    assert_int_equal(f->control_writes, 3);
    assert_int_equal(f->last_control, 0x02);
}

static void test_status_write_reports_nothing(void **state)
{
    struct apm_fixture *f = *state;

    mem_write(f->ports, 0xB3, 0x5A, 1);

    assert_int_equal(f->control_writes, 0);
    assert_int_equal(mem_read(f->ports, 0xB3, 1), 0x5A);
    assert_int_equal(mem_read(f->ports, 0xB2, 1), 0x00);
}

static void test_reads_have_no_side_effect(void **state)
{
    struct apm_fixture *f = *state;

    mem_write(f->ports, 0xB2, 0x11, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(mem_read(f->ports, 0xB2, 1), 0x11);

    assert_int_equal(f->control_writes, 1);
}

/* platform.md §3.8 and conformance test 31: outw 0xB2, 0x6655. */
static void test_word_write_splits_low_byte_to_control_high_to_status(void **state)
{
    struct apm_fixture *f = *state;

    mem_write(f->ports, 0xB2, 0x6655, 2);

    assert_int_equal(mem_read(f->ports, 0xB2, 1), 0x55);
    assert_int_equal(mem_read(f->ports, 0xB3, 1), 0x66);
    assert_int_equal(f->control_writes, 1);
    assert_int_equal(f->last_control, 0x55);
    /* Ascending port order: the control byte is reported before 0xB3 is written. */
    assert_int_equal(f->status_at_notify, 0x00);
}

static void test_word_read_returns_status_high_control_low(void **state)
{
    struct apm_fixture *f = *state;

    mem_write(f->ports, 0xB2, 0x34, 1);
    mem_write(f->ports, 0xB3, 0x12, 1);

    assert_int_equal(mem_read(f->ports, 0xB2, 2), 0x1234);
}

static void test_word_write_to_status_port_does_not_notify(void **state)
{
    struct apm_fixture *f = *state;

    mem_write(f->ports, 0xB3, 0xAA77, 2); /* 0xB4 is unclaimed: the high byte is lost */

    assert_int_equal(f->control_writes, 0);
    assert_int_equal(mem_read(f->ports, 0xB3, 1), 0x77);
    assert_int_equal(mem_read(f->ports, 0xB4, 1), 0xFF);
}

static void test_dword_write_touches_only_the_two_latches(void **state)
{
    struct apm_fixture *f = *state;

    mem_write(f->ports, 0xB2, 0x44332211, 4);

    assert_int_equal(mem_read(f->ports, 0xB2, 1), 0x11);
    assert_int_equal(mem_read(f->ports, 0xB3, 1), 0x22);
    assert_int_equal(f->control_writes, 1);
    assert_int_equal(mem_read(f->ports, 0xB2, 4), 0xFFFF2211); /* 0xB4-0xB5 unclaimed */
}

static void test_neighbouring_ports_are_unclaimed(void **state)
{
    struct apm_fixture *f = *state;

    mem_write(f->ports, 0xB1, 0x00, 1);

    assert_int_equal(mem_read(f->ports, 0xB1, 1), 0xFF);
    assert_int_equal(mem_read(f->ports, 0xB4, 1), 0xFF);
    assert_int_equal(f->control_writes, 0);
}

static void test_null_notify_only_latches(void **state)
{
    struct apm_fixture *f = *state;
    struct mem_system sys;

    mem_system_init(&sys);
    struct mem_region *io = mem_region_container(&sys, "io", 0x10000);
    struct address_space *ports = mem_space_create(&sys, "I/O", io);
    struct apm quiet;
    apm_init(&quiet, &sys, io, NULL, NULL);

    mem_write(ports, 0xB2, 0x6655, 2);

    assert_int_equal(mem_read(ports, 0xB2, 2), 0x6655);
    assert_int_equal(f->control_writes, 0); /* the fixture's device was not touched */
    assert_int_equal(mem_read(f->ports, 0xB2, 1), 0x00);
    mem_system_free(&sys);
}

/* style.md §2.10: two machines in one process do not share state. */
static void test_two_instances_do_not_interfere(void **state)
{
    struct apm_fixture *a = *state;
    struct apm_fixture *b;

    setup((void **)&b);
    mem_write(a->ports, 0xB2, 0x01, 1);
    mem_write(b->ports, 0xB3, 0x02, 1);

    assert_int_equal(mem_read(a->ports, 0xB2, 2), 0x0001);
    assert_int_equal(mem_read(b->ports, 0xB2, 2), 0x0200);
    assert_int_equal(a->control_writes, 1);
    assert_int_equal(b->control_writes, 0);
    teardown((void **)&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_both_latches_read_zero_at_power_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_write_latches_and_notifies_with_value, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_every_control_write_notifies_even_same_value, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_status_write_reports_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_have_no_side_effect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_word_write_splits_low_byte_to_control_high_to_status,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_word_read_returns_status_high_control_low, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_word_write_to_status_port_does_not_notify, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dword_write_touches_only_the_two_latches, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_neighbouring_ports_are_unclaimed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_notify_only_latches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_instances_do_not_interfere, setup, teardown),
    };
    return cmocka_run_group_tests_name("apm", tests, NULL, NULL);
}
