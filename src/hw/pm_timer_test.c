/*
 * pm_timer_test.c - the ACPI PM timer: exact tick counts at given virtual
 * times (ceil(k * 1e9 / 3579545) ns is tick k, computed by hand), the
 * wrap at 24 bits, the bit-23 toggle times, and the 4-byte read-only
 * register mapped at PMBASE + 8 of a real port address space.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "hw/pm_timer.h"
#include "machine/clock.h"
#include "mem/memory.h"

#define PMBASE 0x600

struct pm_fixture {
    struct mem_system sys;
    struct mem_region *io;
    struct address_space *ports;
    struct clock clk;
    struct pm_timer tmr;
};

static int setup(void **state)
{
    struct pm_fixture *f = calloc(1, sizeof(*f));
    struct mem_region *pm;

    mem_system_init(&f->sys);
    f->io = mem_region_container(&f->sys, "io", 0x10000);
    f->ports = mem_space_create(&f->sys, "I/O", f->io);
    clock_init(&f->clk);
    pm = mem_region_container(&f->sys, "ich9-pm", 0x80); /* stands in for the PM block */
    mem_region_add(f->io, pm, PMBASE, 0);
    pm_timer_init(&f->tmr, &f->sys, &f->clk);
    mem_region_add(pm, f->tmr.region, 0x08, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct pm_fixture *f = *state;

    mem_system_free(&f->sys);
    free(f);
    return 0;
}

static void test_counts_3579545_ticks_per_second_from_zero(void **state)
{
    (void)state;
    assert_int_equal(pm_timer_read(0), 0);
    assert_int_equal(pm_timer_read(279), 0);
    assert_int_equal(pm_timer_read(280), 1); /* tick 1 at ceil(1e9 / 3579545) */
    assert_int_equal(pm_timer_read(1000000000), 3579545);
}

static void test_wraps_at_24_bits(void **state)
{
    (void)state;
    assert_int_equal(pm_timer_read(4686968596), 0xFFFFFF);
    assert_int_equal(pm_timer_read(4686968874), 0xFFFFFF);
    assert_int_equal(pm_timer_read(4686968875), 0); /* tick 2^24 */
    assert_int_equal(pm_timer_read(4686968875 + 280), 1);
}

static void test_long_times_are_exact_without_overflow(void **state)
{
    (void)state;
    assert_int_equal(pm_timer_read(3600ull * 1000000000u), 1460112);
    assert_int_equal(pm_timer_read(1000000000000000000ull), 3062272);
    assert_int_equal(pm_timer_read(UINT64_MAX), 10862272);
}

static void test_bit23_toggle_times(void **state)
{
    (void)state;
    assert_int_equal(pm_timer_next_msb_toggle_ns(0), 2343484438);
    assert_int_equal(pm_timer_read(2343484438) & 0x800000, 0x800000);
    assert_int_equal(pm_timer_read(2343484437) & 0x800000, 0);
    assert_int_equal(pm_timer_next_msb_toggle_ns(2343484438), 4686968875);
}

static void test_register_reads_clock_through_port_space(void **state)
{
    struct pm_fixture *f = *state;

    clock_advance(&f->clk, 1000000000);

    assert_int_equal(mem_read(f->ports, PMBASE + 8, 4), 3579545); /* 0x369E99 */
    assert_int_equal(mem_read(f->ports, PMBASE + 8, 2), 0x9E99);
    assert_int_equal(mem_read(f->ports, PMBASE + 9, 1), 0x9E);
    assert_int_equal(mem_read(f->ports, PMBASE + 10, 1), 0x36);
    assert_int_equal(mem_read(f->ports, PMBASE + 11, 1), 0x00);
    clock_advance(&f->clk, 4686968875);
    assert_int_equal(mem_read(f->ports, PMBASE + 8, 4), 0);
}

static void test_writes_are_ignored(void **state)
{
    struct pm_fixture *f = *state;

    clock_advance(&f->clk, 280);
    mem_write(f->ports, PMBASE + 8, 0x12345678, 4);
    mem_write(f->ports, PMBASE + 9, 0xFF, 1);

    assert_int_equal(mem_read(f->ports, PMBASE + 8, 4), 1);
}

static void test_region_is_named_as_qemu(void **state)
{
    struct pm_fixture *f = *state;

    assert_string_equal(f->tmr.region->name, "acpi-tmr");
    assert_int_equal(f->tmr.region->size, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_3579545_ticks_per_second_from_zero),
        cmocka_unit_test(test_wraps_at_24_bits),
        cmocka_unit_test(test_long_times_are_exact_without_overflow),
        cmocka_unit_test(test_bit23_toggle_times),
        cmocka_unit_test_setup_teardown(test_register_reads_clock_through_port_space, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writes_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region_is_named_as_qemu, setup, teardown),
    };
    return cmocka_run_group_tests_name("pm_timer", tests, NULL, NULL);
}
