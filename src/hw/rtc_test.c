/*
 * rtc_test.c - the MC146818 through ports 0x70/0x71 and a real struct
 * clock: the time at given virtual times in BCD/binary and 12/24 h, UIP,
 * SET and the divider, register C flags and their clearing, periodic,
 * update and alarm interrupts, CMOS RAM preloading and reset.
 *
 * Expected times: the 32768 Hz chain starts at t = 0, so divider cycle k
 * is reached at ceil(k * 1e9 / 32768) ns; 1 Hz edges fall on whole seconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "hw/rtc.h"
#include "machine/clock.h"
#include "mem/memory.h"

#define S 1000000000ull

struct rtc_fixture {
    struct mem_system sys;
    struct mem_region *io;
    struct address_space *ports;
    struct clock clk;
    struct rtc rtc;
    unsigned irq_changes;
    bool irq;
    uint64_t irq_raised_at;
};

static void record_irq(void *owner, bool level)
{
    struct rtc_fixture *f = owner;

    f->irq_changes++;
    f->irq = level;
    if (level)
        f->irq_raised_at = f->clk.now;
}

static int setup(void **state)
{
    struct rtc_fixture *f = calloc(1, sizeof(*f));

    mem_system_init(&f->sys);
    f->io = mem_region_container(&f->sys, "io", 0x10000);
    f->ports = mem_space_create(&f->sys, "I/O", f->io);
    clock_init(&f->clk);
    rtc_init(&f->rtc, &f->sys, f->io, &f->clk, record_irq, f, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct rtc_fixture *f = *state;

    mem_system_free(&f->sys);
    free(f);
    return 0;
}

static uint8_t cmos_read(struct rtc_fixture *f, uint8_t index)
{
    mem_write(f->ports, 0x70, index, 1);
    return (uint8_t)mem_read(f->ports, 0x71, 1);
}

static void cmos_write(struct rtc_fixture *f, uint8_t index, uint8_t value)
{
    mem_write(f->ports, 0x70, index, 1);
    mem_write(f->ports, 0x71, value, 1);
}

static void at(struct rtc_fixture *f, uint64_t ns)
{
    clock_advance(&f->clk, ns);
}

/* Reads s, m, h, dow, day, month, year, century into out[8]. */
static void read_time(struct rtc_fixture *f, uint8_t out[8])
{
    static const uint8_t idx[8] = {0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32};

    for (unsigned k = 0; k < 8; k++)
        out[k] = cmos_read(f, idx[k]);
}

static void assert_time(struct rtc_fixture *f, uint8_t s, uint8_t m, uint8_t h, uint8_t dow,
                        uint8_t day, uint8_t month, uint8_t year, uint8_t century)
{
    uint8_t t[8];

    read_time(f, t);
    assert_int_equal(t[0], s);
    assert_int_equal(t[1], m);
    assert_int_equal(t[2], h);
    assert_int_equal(t[3], dow);
    assert_int_equal(t[4], day);
    assert_int_equal(t[5], month);
    assert_int_equal(t[6], year);
    assert_int_equal(t[7], century);
}

static void test_power_on_is_2026_01_01_thursday_bcd_24h(void **state)
{
    struct rtc_fixture *f = *state;

    assert_time(f, 0x00, 0x00, 0x00, 0x05, 0x01, 0x01, 0x26, 0x20);
    assert_int_equal(cmos_read(f, 0x0A), 0x26);
    assert_int_equal(cmos_read(f, 0x0B), 0x02);
    assert_int_equal(cmos_read(f, 0x0C), 0x00);
    assert_int_equal(cmos_read(f, 0x0D), 0x80);
    assert_int_equal(rtc_get_time(&f->rtc), RTC_DEFAULT_START);
}

/* SeaBIOS rtc_setup(), then the UIP wait every RTC reader does before
 * reading the time (mc146818_get_time(), SeaBIOS rtc_updating()). */
static void test_seabios_setup_then_uip_wait_reads_stable_time(void **state)
{
    struct rtc_fixture *f = *state;
    unsigned polls = 0;

    at(f, 4 * S + 999800000); /* inside the UIP window before 00:00:05 */
    cmos_write(f, 0x0A, 0x26);
    cmos_write(f, 0x0B, (uint8_t)((cmos_read(f, 0x0B) & ~0x01) | 0x02));
    cmos_read(f, 0x0C);
    cmos_read(f, 0x0D);
    while (cmos_read(f, 0x0A) & 0x80) {
        polls++;
        at(f, f->clk.now + 1000); /* each poll costs virtual time */
    }

    assert_true(polls > 0);
    assert_int_equal(f->clk.now, 5 * S);
    assert_int_equal(cmos_read(f, 0x00), 0x05);
    assert_int_equal(cmos_read(f, 0x0B), 0x02);
}

static void test_time_advances_with_virtual_time(void **state)
{
    struct rtc_fixture *f = *state;

    at(f, S - 1);
    assert_int_equal(cmos_read(f, 0x00), 0x00);
    at(f, S);
    assert_int_equal(cmos_read(f, 0x00), 0x01);
    at(f, 61 * S + S / 2);
    assert_time(f, 0x01, 0x01, 0x00, 0x05, 0x01, 0x01, 0x26, 0x20);
    /* 31 days, 13:45:07 later: Sunday 2026-02-01 */
    at(f, (31ull * 86400 + 13 * 3600 + 45 * 60 + 7) * S);
    assert_time(f, 0x07, 0x45, 0x13, 0x01, 0x01, 0x02, 0x26, 0x20);
    at(f, 365ull * 86400 * S);
    assert_time(f, 0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x27, 0x20);
}

static void test_binary_and_12_hour_modes_encode_on_read(void **state)
{
    struct rtc_fixture *f = *state;

    at(f, (13 * 3600 + 59 * 60 + 58) * S);
    cmos_write(f, 0x0B, 0x00); /* BCD, 12 h */
    assert_int_equal(cmos_read(f, 0x04), 0x81);
    assert_int_equal(cmos_read(f, 0x02), 0x59);
    cmos_write(f, 0x0B, 0x04); /* binary, 12 h */
    assert_int_equal(cmos_read(f, 0x04), 0x81);
    assert_int_equal(cmos_read(f, 0x02), 59);
    assert_int_equal(cmos_read(f, 0x09), 26);
    cmos_write(f, 0x0B, 0x06); /* binary, 24 h */
    assert_int_equal(cmos_read(f, 0x04), 13);
    cmos_write(f, 0x0B, 0x00);
    at(f, 24ull * 3600 * S);
    assert_int_equal(cmos_read(f, 0x04), 0x12); /* midnight is 12 AM */
}

static void test_uip_is_set_244us_before_each_update(void **state)
{
    struct rtc_fixture *f = *state;

    at(f, 999755859);
    assert_int_equal(cmos_read(f, 0x0A), 0x26);
    at(f, 999755860); /* divider cycle 32760 */
    assert_int_equal(cmos_read(f, 0x0A), 0xA6);
    assert_int_equal(cmos_read(f, 0x00), 0x00);
    at(f, S);
    assert_int_equal(cmos_read(f, 0x0A), 0x26);
    assert_int_equal(cmos_read(f, 0x00), 0x01);
}

/* The sequence Linux's mc146818_set_time() uses: SET, write the bytes, clear SET. */
static void test_set_bit_freezes_time_while_bytes_are_written(void **state)
{
    struct rtc_fixture *f = *state;

    at(f, S / 2);
    cmos_write(f, 0x0B, 0x92); /* SET with UIE: UIE is dropped */
    assert_int_equal(cmos_read(f, 0x0B), 0x82);
    cmos_write(f, 0x00, 0x56);
    cmos_write(f, 0x02, 0x34);
    cmos_write(f, 0x04, 0x12);
    cmos_write(f, 0x07, 0x15);
    cmos_write(f, 0x08, 0x06);
    cmos_write(f, 0x09, 0x30);
    at(f, 10 * S + S / 5);
    assert_int_equal(cmos_read(f, 0x00), 0x56);     /* frozen */
    assert_int_equal(cmos_read(f, 0x0A) & 0x80, 0); /* no UIP while SET */

    cmos_write(f, 0x0B, 0x02);
    assert_int_equal(cmos_read(f, 0x00), 0x56);
    at(f, 11 * S); /* the chain kept running: next 1 Hz edge */
    assert_time(f, 0x57, 0x34, 0x12, 0x07, 0x15, 0x06, 0x30, 0x20); /* Saturday 2030-06-15 */
}

static void test_write_while_running_takes_effect_at_once(void **state)
{
    struct rtc_fixture *f = *state;

    at(f, 5 * S + 3);
    cmos_write(f, 0x08, 0x12);                                      /* December */
    assert_time(f, 0x05, 0x00, 0x00, 0x03, 0x01, 0x12, 0x26, 0x20); /* Tuesday 2026-12-01 */
    at(f, 6 * S);
    assert_int_equal(cmos_read(f, 0x00), 0x06);
}

static void test_impossible_date_is_normalised_when_updates_resume(void **state)
{
    struct rtc_fixture *f = *state;

    cmos_write(f, 0x0B, 0x82);
    cmos_write(f, 0x08, 0x02);
    cmos_write(f, 0x07, 0x31);                  /* 31 February */
    assert_int_equal(cmos_read(f, 0x07), 0x31); /* plain storage while stopped */
    cmos_write(f, 0x0B, 0x02);

    assert_int_equal(cmos_read(f, 0x07), 0x03);
    assert_int_equal(cmos_read(f, 0x08), 0x03);
}

static void test_divider_reset_stops_time_and_first_update_comes_half_second_later(void **state)
{
    struct rtc_fixture *f = *state;

    at(f, 2 * S + S / 3);
    cmos_write(f, 0x0A, 0x76);
    at(f, 5 * S);
    assert_int_equal(cmos_read(f, 0x00), 0x02);
    cmos_write(f, 0x0A, 0x26);
    at(f, 5 * S + S / 2 - 1);
    assert_int_equal(cmos_read(f, 0x00), 0x02);
    at(f, 5 * S + S / 2);
    assert_int_equal(cmos_read(f, 0x00), 0x03);
}

static void test_register_c_read_clears_flags(void **state)
{
    struct rtc_fixture *f = *state;

    at(f, 976562);
    assert_int_equal(cmos_read(f, 0x0C), 0x00);
    at(f, 976563);                              /* 32 divider cycles: RS = 6 */
    assert_int_equal(cmos_read(f, 0x0C), 0x40); /* PF without PIE: no IRQF */
    assert_int_equal(cmos_read(f, 0x0C), 0x00);
    at(f, 2 * S);
    assert_int_equal(cmos_read(f, 0x0C), 0x50); /* PF and UF */
    assert_int_equal(f->irq_changes, 0);
}

static void test_periodic_interrupt_at_1024hz(void **state)
{
    struct rtc_fixture *f = *state;

    cmos_write(f, 0x0B, 0x42);
    assert_int_equal(clock_next_deadline(&f->clk), 976563);
    at(f, 976563);
    assert_true(f->irq);
    assert_int_equal(f->irq_raised_at, 976563);
    assert_int_equal(clock_next_deadline(&f->clk), UINT64_MAX); /* high until C is read */

    assert_int_equal(cmos_read(f, 0x0C), 0xC0);
    assert_false(f->irq);
    at(f, 1953125);
    assert_true(f->irq);
    assert_int_equal(f->irq_raised_at, 1953125);
}

static void test_periodic_rate_15_is_two_hertz(void **state)
{
    struct rtc_fixture *f = *state;

    cmos_write(f, 0x0A, 0x2F);
    cmos_write(f, 0x0B, 0x42);
    at(f, 2 * S);
    assert_int_equal(f->irq_raised_at, S / 2);
}

static void test_update_ended_interrupt_each_second(void **state)
{
    struct rtc_fixture *f = *state;

    cmos_write(f, 0x0B, 0x12);
    at(f, 3 * S);
    assert_int_equal(f->irq_raised_at, S);
    assert_int_equal(cmos_read(f, 0x0C), 0xD0); /* IRQF, PF (flag only), UF */
    at(f, 4 * S);
    assert_int_equal(f->irq_raised_at, 4 * S);
}

static void test_alarm_interrupt_at_matching_second(void **state)
{
    struct rtc_fixture *f = *state;

    cmos_write(f, 0x01, 0x05);
    cmos_write(f, 0x03, 0x00);
    cmos_write(f, 0x05, 0x00);
    cmos_write(f, 0x0B, 0x22);
    assert_int_equal(clock_next_deadline(&f->clk), 5 * S);
    at(f, 5 * S);

    assert_true(f->irq);
    assert_int_equal(cmos_read(f, 0x0C) & 0xA0, 0xA0);
    assert_false(f->irq);
    /* next match is a day later */
    assert_int_equal(clock_next_deadline(&f->clk), (86400 + 5) * S);
}

static void test_alarm_dont_care_bytes_match_every_second(void **state)
{
    struct rtc_fixture *f = *state;

    cmos_write(f, 0x01, 0xFF);
    cmos_write(f, 0x03, 0xC0);
    cmos_write(f, 0x05, 0xC0);
    cmos_write(f, 0x0B, 0x22);
    at(f, 7 * S + 5);
    assert_int_equal(f->irq_raised_at, S);
    assert_int_equal(cmos_read(f, 0x0C) & 0xA0, 0xA0);
    assert_int_equal(clock_next_deadline(&f->clk), 8 * S);
}

static void test_alarm_flag_is_set_without_aie_and_impossible_alarm_never_matches(void **state)
{
    struct rtc_fixture *f = *state;

    cmos_write(f, 0x01, 0x03);
    at(f, 10 * S);
    assert_int_equal(cmos_read(f, 0x0C) & 0x20, 0x20);
    cmos_write(f, 0x01, 0x75); /* second 75 */
    cmos_write(f, 0x0B, 0x22);
    at(f, 200 * S);
    assert_int_equal(cmos_read(f, 0x0C) & 0x20, 0x00);
    assert_int_equal(clock_next_deadline(&f->clk), UINT64_MAX);
}

static void test_enabling_interrupt_with_flag_pending_raises_at_once(void **state)
{
    struct rtc_fixture *f = *state;

    at(f, 2 * S); /* UF pending */
    cmos_write(f, 0x0B, 0x12);
    assert_true(f->irq);
    cmos_write(f, 0x0B, 0x02); /* IRQF follows the enables */
    assert_false(f->irq);
}

static void test_no_timer_without_enabled_interrupts(void **state)
{
    struct rtc_fixture *f = *state;

    at(f, 5 * S);
    assert_int_equal(clock_next_deadline(&f->clk), UINT64_MAX);
    cmos_write(f, 0x0B, 0x42);
    cmos_write(f, 0x0A, 0x20); /* RS = 0: no periodic */
    assert_int_equal(clock_next_deadline(&f->clk), UINT64_MAX);
}

static void test_board_preloads_cmos_ram_but_not_clock_bytes(void **state)
{
    struct rtc_fixture *f = *state;

    assert_true(rtc_cmos_set(&f->rtc, 0x34, 0xF0));
    assert_true(rtc_cmos_set(&f->rtc, 0x35, 0x1E));
    assert_true(rtc_cmos_set(&f->rtc, 0x5F, 0x03));
    assert_false(rtc_cmos_set(&f->rtc, 0x00, 0x11));
    assert_false(rtc_cmos_set(&f->rtc, 0x0B, 0x11));
    assert_false(rtc_cmos_set(&f->rtc, 0x32, 0x11));
    assert_false(rtc_cmos_set(&f->rtc, 0x80, 0x11));

    assert_int_equal(cmos_read(f, 0x34), 0xF0);
    assert_int_equal(cmos_read(f, 0x35), 0x1E);
    assert_int_equal(cmos_read(f, 0x5F), 0x03);
    assert_int_equal(cmos_read(f, 0x00), 0x00);
    assert_int_equal(cmos_read(f, 0x32), 0x20);
    cmos_write(f, 0x0F, 0xFE);
    assert_int_equal(rtc_cmos_get(&f->rtc, 0x0F), 0xFE);
    assert_int_equal(rtc_cmos_get(&f->rtc, 0x0A), 0x00);
}

static void test_index_port_bit7_is_nmi_disable_and_reads_ff(void **state)
{
    struct rtc_fixture *f = *state;

    rtc_cmos_set(&f->rtc, 0x10, 0x42);
    mem_write(f->ports, 0x70, 0x90, 1);

    assert_true(rtc_nmi_disabled(&f->rtc));
    assert_int_equal(mem_read(f->ports, 0x71, 1), 0x42); /* index is 0x10 */
    assert_int_equal(mem_read(f->ports, 0x70, 1), 0xFF);
    mem_write(f->ports, 0x70, 0x10, 1);
    assert_false(rtc_nmi_disabled(&f->rtc));
}

static void test_board_sets_another_start_time(void **state)
{
    struct rtc_fixture *f = *state;

    at(f, 3 * S);
    rtc_set_time(&f->rtc, 951782400); /* 2000-02-29 00:00:00, Tuesday */
    at(f, 4 * S);
    assert_time(f, 0x01, 0x00, 0x00, 0x03, 0x29, 0x02, 0x00, 0x20);
}

static void test_register_c_and_d_writes_are_ignored_and_logged_once(void **state)
{
    struct rtc_fixture *f = *state;
    char *buf = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&buf, &len);

    f->rtc.log = log;
    at(f, 2 * S);
    cmos_write(f, 0x0C, 0xFF);
    cmos_write(f, 0x0D, 0x00);
    assert_int_equal(cmos_read(f, 0x0D), 0x80);
    assert_int_equal(cmos_read(f, 0x0C), 0x50);
    fclose(log);
    f->rtc.log = NULL;
    assert_string_equal(buf, "[t=2000000000] rtc: write to read-only register C or D ignored\n");
    free(buf);
}

static void test_reset_clears_enables_and_flags_keeps_time_and_ram(void **state)
{
    struct rtc_fixture *f = *state;

    rtc_cmos_set(&f->rtc, 0x40, 0x77);
    cmos_write(f, 0x0B, 0x7A);
    at(f, 2 * S);
    assert_true(f->irq);

    rtc_reset(&f->rtc);

    assert_false(f->irq);
    assert_int_equal(cmos_read(f, 0x0B), 0x02);
    assert_int_equal(cmos_read(f, 0x0C), 0x00);
    assert_int_equal(cmos_read(f, 0x00), 0x02);
    assert_int_equal(cmos_read(f, 0x40), 0x77);
}

/* style.md §2.10: two machines in one process do not share state. */
static void test_two_instances_keep_separate_time(void **state)
{
    struct rtc_fixture *a = *state;
    struct rtc_fixture *b;

    setup((void **)&b);
    at(a, 9 * S);
    cmos_write(b, 0x0B, 0x06);

    assert_int_equal(cmos_read(a, 0x00), 0x09);
    assert_int_equal(cmos_read(b, 0x00), 0);
    assert_int_equal(cmos_read(a, 0x0B), 0x02);
    teardown((void **)&b);
}

static uint64_t lcg_next(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 33;
}

/* Any guest input never aborts, never leaves a timer in the past, arms
 * none while IRQ8 is high, and gives the same outputs for the same input. */
static uint64_t rtc_random_run(struct rtc_fixture *f, uint64_t seed)
{
    uint64_t x = seed, digest = 0;

    for (unsigned k = 0; k < 100000; k++) {
        uint64_t r = lcg_next(&x);
        uint16_t port = (uint16_t)(0x70 + r % 3);
        unsigned size = 1u << ((r >> 4) & 3);

        switch ((r >> 8) % 5) {
        case 0:
            mem_write(f->ports, 0x70, r >> 16, 1);
            break;
        case 1:
            mem_write(f->ports, port, lcg_next(&x), size);
            break;
        case 2:
        case 3:
            digest = digest * 31 + mem_read(f->ports, port, size);
            break;
        default:
            at(f, f->clk.now + lcg_next(&x) % (3 * S));
            break;
        }
        assert_true(clock_next_deadline(&f->clk) > f->clk.now);
        if (f->irq)
            assert_true(clock_next_deadline(&f->clk) == UINT64_MAX);
    }
    return digest * 31 + f->irq_changes;
}

static void test_random_guest_input_is_safe_and_deterministic(void **state)
{
    struct rtc_fixture *a = *state;
    struct rtc_fixture *b;
    uint64_t da, db;

    setup((void **)&b);
    da = rtc_random_run(a, 3);
    db = rtc_random_run(b, 3);
    assert_true(da == db);
    assert_true(a->irq_changes > 100); /* the run did reach the outputs */
    teardown((void **)&b);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_power_on_is_2026_01_01_thursday_bcd_24h),
        T(test_seabios_setup_then_uip_wait_reads_stable_time),
        T(test_time_advances_with_virtual_time),
        T(test_binary_and_12_hour_modes_encode_on_read),
        T(test_uip_is_set_244us_before_each_update),
        T(test_set_bit_freezes_time_while_bytes_are_written),
        T(test_write_while_running_takes_effect_at_once),
        T(test_impossible_date_is_normalised_when_updates_resume),
        T(test_divider_reset_stops_time_and_first_update_comes_half_second_later),
        T(test_register_c_read_clears_flags),
        T(test_periodic_interrupt_at_1024hz),
        T(test_periodic_rate_15_is_two_hertz),
        T(test_update_ended_interrupt_each_second),
        T(test_alarm_interrupt_at_matching_second),
        T(test_alarm_dont_care_bytes_match_every_second),
        T(test_alarm_flag_is_set_without_aie_and_impossible_alarm_never_matches),
        T(test_enabling_interrupt_with_flag_pending_raises_at_once),
        T(test_no_timer_without_enabled_interrupts),
        T(test_board_preloads_cmos_ram_but_not_clock_bytes),
        T(test_index_port_bit7_is_nmi_disable_and_reads_ff),
        T(test_board_sets_another_start_time),
        T(test_register_c_and_d_writes_are_ignored_and_logged_once),
        T(test_reset_clears_enables_and_flags_keeps_time_and_ram),
        T(test_two_instances_keep_separate_time),
        T(test_random_guest_input_is_safe_and_deterministic),
    };
#undef T
    return cmocka_run_group_tests_name("rtc", tests, NULL, NULL);
}
