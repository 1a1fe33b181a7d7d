/*
 * pic_test.c - the 8259A pair through the port address space: the
 * initialisation SeaBIOS and Linux use, priorities, the EOI variants,
 * rotation, the cascade, spurious vectors, auto-EOI, poll mode, special
 * mask mode, ELCR level triggering, reset, and INTR reporting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "hw/pic.h"
#include "mem/memory.h"

struct pic_fixture {
    struct mem_system sys;
    struct mem_region *io;
    struct address_space *ports;
    struct pic pic;
    unsigned intr_changes;
    bool intr_level;
};

static void record_intr(void *owner, bool level)
{
    struct pic_fixture *f = owner;

    f->intr_changes++;
    f->intr_level = level;
}

static int setup(void **state)
{
    struct pic_fixture *f = calloc(1, sizeof(*f));

    mem_system_init(&f->sys);
    f->io = mem_region_container(&f->sys, "io", 0x10000);
    f->ports = mem_space_create(&f->sys, "I/O", f->io);
    pic_init(&f->pic, &f->sys, f->io, record_intr, f, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct pic_fixture *f = *state;

    mem_system_free(&f->sys);
    free(f);
    return 0;
}

static void out8(struct pic_fixture *f, uint16_t port, uint8_t value)
{
    mem_write(f->ports, port, value, 1);
}

static uint8_t in8(struct pic_fixture *f, uint16_t port)
{
    return (uint8_t)mem_read(f->ports, port, 1);
}

/* SeaBIOS pic_setup() / Linux init_8259A(): vectors 0x08 and 0x70 here as
 * SeaBIOS, cascade on IR2, 8086 mode, everything unmasked. */
static void init_pair(struct pic_fixture *f, uint8_t icw4)
{
    out8(f, 0x20, 0x11);
    out8(f, 0x21, 0x08);
    out8(f, 0x21, 0x04);
    out8(f, 0x21, icw4);
    out8(f, 0xA0, 0x11);
    out8(f, 0xA1, 0x70);
    out8(f, 0xA1, 0x02);
    out8(f, 0xA1, icw4);
    out8(f, 0x21, 0x00);
    out8(f, 0xA1, 0x00);
}

static uint8_t read_isr(struct pic_fixture *f, uint16_t port)
{
    uint8_t v;

    out8(f, port, 0x0B);
    v = in8(f, port);
    out8(f, port, 0x0A);
    return v;
}

static void pulse(struct pic_fixture *f, unsigned irq)
{
    pic_set_irq(&f->pic, irq, true);
    pic_set_irq(&f->pic, irq, false);
}

static void test_power_on_intr_low_registers_zero(void **state)
{
    struct pic_fixture *f = *state;

    assert_false(pic_output(&f->pic));
    assert_int_equal(in8(f, 0x20), 0x00);
    assert_int_equal(in8(f, 0x21), 0x00);
    assert_int_equal(in8(f, 0xA1), 0x00);
    assert_int_equal(in8(f, 0x4D0), 0x00);
    assert_int_equal(f->intr_changes, 0);
}

static void test_seabios_init_then_irq0_gives_vector_8_and_sets_isr(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    out8(f, 0x21, 0xFE); /* only IRQ 0 */
    pic_set_irq(&f->pic, 0, true);

    assert_true(pic_output(&f->pic));
    assert_true(f->intr_level);
    assert_int_equal(in8(f, 0x20), 0x01); /* IRR */
    assert_int_equal(pic_ack(&f->pic), 0x08);
    assert_false(pic_output(&f->pic));
    assert_int_equal(read_isr(f, 0x20), 0x01);
    assert_int_equal(in8(f, 0x20), 0x00); /* edge request left IRR at INTA */
    assert_int_equal(in8(f, 0x21), 0xFE);
}

static void test_non_specific_eoi_clears_highest_in_service(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pulse(f, 3);
    assert_int_equal(pic_ack(&f->pic), 0x0B);
    pulse(f, 1); /* higher priority: nests */
    assert_true(pic_output(&f->pic));
    assert_int_equal(pic_ack(&f->pic), 0x09);
    assert_int_equal(read_isr(f, 0x20), 0x0A);

    out8(f, 0x20, 0x20);

    assert_int_equal(read_isr(f, 0x20), 0x08);
    out8(f, 0x20, 0x20);
    assert_int_equal(read_isr(f, 0x20), 0x00);
}

static void test_lower_priority_waits_for_eoi(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pulse(f, 1);
    assert_int_equal(pic_ack(&f->pic), 0x09);
    pulse(f, 4);

    assert_false(pic_output(&f->pic)); /* blocked by IRQ 1 in service */
    assert_int_equal(in8(f, 0x20), 0x10);
    out8(f, 0x20, 0x20);
    assert_true(pic_output(&f->pic));
    assert_int_equal(pic_ack(&f->pic), 0x0C);
}

static void test_specific_eoi_clears_only_named_level(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pulse(f, 5);
    pic_ack(&f->pic);
    pulse(f, 2 + 1); /* IRQ 3 nests over 5 */
    pic_ack(&f->pic);

    out8(f, 0x20, 0x65); /* specific EOI, level 5 */

    assert_int_equal(read_isr(f, 0x20), 0x08);
}

static void test_cascade_irq8_vectors_through_slave_and_needs_two_eois(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pic_set_irq(&f->pic, 8, true);

    assert_true(pic_output(&f->pic));
    assert_int_equal(pic_ack(&f->pic), 0x70);
    assert_int_equal(read_isr(f, 0x20), 0x04);
    assert_int_equal(read_isr(f, 0xA0), 0x01);
    pic_set_irq(&f->pic, 8, false);
    pulse(f, 12);
    assert_false(pic_output(&f->pic)); /* IRQ 12 < IRQ 8 on the slave */

    out8(f, 0xA0, 0x20);
    assert_false(pic_output(&f->pic)); /* master still has IR2 in service */
    out8(f, 0x20, 0x20);

    assert_true(pic_output(&f->pic));
    assert_int_equal(pic_ack(&f->pic), 0x74);
}

static void test_slave_irq_outranks_master_irq3(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pulse(f, 3);
    pulse(f, 14);

    assert_int_equal(pic_ack(&f->pic), 0x76); /* IR2 (slave) before IR3 */
}

static void test_ack_with_nothing_pending_is_spurious_irq7_without_isr(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);

    assert_int_equal(pic_ack(&f->pic), 0x0F);
    assert_int_equal(read_isr(f, 0x20), 0x00);
}

static void test_masked_request_acks_as_spurious_irq7(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pulse(f, 6);
    out8(f, 0x21, 0x40); /* masked before the CPU got to INTA */

    assert_false(pic_output(&f->pic));
    assert_int_equal(pic_ack(&f->pic), 0x0F);
    assert_int_equal(in8(f, 0x20), 0x40); /* still requested */
}

static void test_slave_level_request_gone_gives_spurious_irq15(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    out8(f, 0x4D1, 0x02); /* IRQ 9 level (SCI) */
    pic_set_irq(&f->pic, 9, true);
    pic_set_irq(&f->pic, 9, false); /* the master latched the IR2 edge */

    assert_true(pic_output(&f->pic));
    assert_int_equal(pic_ack(&f->pic), 0x77);
    assert_int_equal(read_isr(f, 0xA0), 0x00);
    assert_int_equal(read_isr(f, 0x20), 0x04); /* Linux EOIs the master for it */
}

static void test_auto_eoi_leaves_isr_clear(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x03);
    pulse(f, 4);
    assert_int_equal(pic_ack(&f->pic), 0x0C);
    assert_int_equal(read_isr(f, 0x20), 0x00);
    pulse(f, 5);
    assert_true(pic_output(&f->pic)); /* nothing in service blocks it */
}

static void test_rotate_on_non_specific_eoi_makes_serviced_level_lowest(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pulse(f, 0);
    assert_int_equal(pic_ack(&f->pic), 0x08);
    out8(f, 0x20, 0xA0); /* rotate on non-specific EOI: 0 becomes lowest */
    pulse(f, 0);
    pulse(f, 7);

    assert_int_equal(pic_ack(&f->pic), 0x0F);  /* now 7 beats 0 */
    assert_int_equal(read_isr(f, 0x20), 0x80); /* a real IRQ 7: ISR set */
}

static void test_set_priority_command_names_lowest_level(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    out8(f, 0x20, 0xC4); /* level 4 lowest: 5 is highest */
    pulse(f, 3);
    pulse(f, 6);

    assert_int_equal(pic_ack(&f->pic), 0x0E);
}

static void test_rotate_on_specific_eoi(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pulse(f, 2 + 3); /* IRQ 5 */
    pic_ack(&f->pic);
    out8(f, 0x20, 0xE5); /* clear ISR 5 and make 5 lowest: 6 highest */
    pulse(f, 5);
    pulse(f, 6);
    pulse(f, 1);

    assert_int_equal(read_isr(f, 0x20), 0x00);
    assert_int_equal(pic_ack(&f->pic), 0x0E);
}

static void test_rotate_in_auto_eoi_mode(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x03);
    out8(f, 0x20, 0x80); /* set rotate in AEOI */
    pulse(f, 1);
    pic_ack(&f->pic); /* 1 becomes lowest */
    pulse(f, 1);
    pulse(f, 3);
    assert_int_equal(pic_ack(&f->pic), 0x0B);
    out8(f, 0x20, 0x00); /* clear rotate in AEOI */
    pulse(f, 0);
    assert_int_equal(pic_ack(&f->pic), 0x08); /* order is now 4..7, 0, 1 */
    assert_int_equal(pic_ack(&f->pic), 0x09); /* and stays so: no rotation */
}

static void test_poll_read_acks_highest_request(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pulse(f, 6);
    out8(f, 0x20, 0x0C);

    assert_int_equal(in8(f, 0x20), 0x86);
    assert_int_equal(read_isr(f, 0x20), 0x40);
    assert_false(pic_output(&f->pic));
    out8(f, 0x20, 0x0C);
    assert_int_equal(in8(f, 0x20), 0x00); /* nothing requesting */
    assert_int_equal(in8(f, 0x20), 0x00); /* poll is one-shot: back to IRR */
}

static void test_special_mask_mode_lets_lower_levels_through(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pulse(f, 3);
    pic_ack(&f->pic);
    out8(f, 0x21, 0x08); /* mask the level in service */
    pulse(f, 5);
    assert_false(pic_output(&f->pic));

    out8(f, 0x20, 0x68); /* enter special mask mode */
    assert_true(pic_output(&f->pic));
    assert_int_equal(pic_ack(&f->pic), 0x0D);

    out8(f, 0x20, 0x48); /* leave it: ISR 3 blocks again */
    out8(f, 0x20, 0x65);
    pulse(f, 6);
    assert_false(pic_output(&f->pic));
}

static void test_elcr_level_input_rerequests_while_asserted(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    out8(f, 0x4D1, 0x02); /* IRQ 9 level */
    pic_set_irq(&f->pic, 9, true);
    assert_int_equal(pic_ack(&f->pic), 0x71);
    out8(f, 0xA0, 0x20);
    out8(f, 0x20, 0x20);

    assert_true(pic_output(&f->pic)); /* line still high */
    assert_int_equal(in8(f, 0xA0), 0x02);
    pic_set_irq(&f->pic, 9, false);
    assert_int_equal(in8(f, 0xA0), 0x00); /* level IRR follows the line */
}

static void test_edge_input_needs_new_rising_edge(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pic_set_irq(&f->pic, 4, true);
    pic_ack(&f->pic);
    out8(f, 0x20, 0x20);
    pic_set_irq(&f->pic, 4, true); /* still high: no edge */

    assert_false(pic_output(&f->pic));
    pic_set_irq(&f->pic, 4, false);
    pic_set_irq(&f->pic, 4, true);
    assert_true(pic_output(&f->pic));
}

static void test_elcr_reserved_bits_read_zero(void **state)
{
    struct pic_fixture *f = *state;

    out8(f, 0x4D0, 0xFF);
    out8(f, 0x4D1, 0xFF);

    assert_int_equal(in8(f, 0x4D0), 0xF8);
    assert_int_equal(in8(f, 0x4D1), 0xDE);
    assert_int_equal(mem_read(f->ports, 0x4D0, 2), 0xDEF8);
}

static void test_icw1_clears_imr_isr_and_edge_requests(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    out8(f, 0x4D0, 0x20); /* IRQ 5 level */
    pic_set_irq(&f->pic, 5, true);
    pulse(f, 3);
    pic_ack(&f->pic); /* IRQ 3 in service */
    pic_set_irq(&f->pic, 4, true);
    out8(f, 0x21, 0x80);

    out8(f, 0x20, 0x11);

    assert_int_equal(in8(f, 0x21), 0x00);
    assert_int_equal(read_isr(f, 0x20), 0x00);
    assert_int_equal(in8(f, 0x20), 0x20); /* only the asserted level input */
}

static void test_icw1_without_icw4_and_single_mode_take_fewer_bytes(void **state)
{
    struct pic_fixture *f = *state;

    out8(f, 0x20, 0x12); /* SNGL, no IC4: only ICW2 follows */
    out8(f, 0x21, 0x20);
    out8(f, 0x21, 0xFD); /* this is OCW1 already */
    pulse(f, 1);
    pulse(f, 0);

    assert_int_equal(in8(f, 0x21), 0xFD);
    assert_int_equal(pic_ack(&f->pic), 0x21);
}

static void test_intr_callback_only_on_changes(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pulse(f, 3);
    pulse(f, 4); /* INTR already high */
    assert_int_equal(f->intr_changes, 1);
    pic_ack(&f->pic);
    assert_int_equal(f->intr_changes, 2);
    assert_false(f->intr_level);
}

static void test_reset_restores_power_on_but_keeps_line_levels(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    out8(f, 0x4D1, 0x02);
    pic_set_irq(&f->pic, 9, true);
    assert_true(pic_output(&f->pic));

    pic_reset(&f->pic);

    assert_false(pic_output(&f->pic));
    assert_false(f->intr_level);
    assert_int_equal(in8(f, 0x4D1), 0x00);
    assert_int_equal(in8(f, 0xA1), 0x00);
    init_pair(f, 0x01);
    pic_set_irq(&f->pic, 9, false);
    pic_set_irq(&f->pic, 9, true); /* edge-triggered again after reset */
    assert_int_equal(pic_ack(&f->pic), 0x71);
}

static void test_out_of_range_and_cascade_irq_inputs_are_ignored(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    pic_set_irq(&f->pic, 2, true);
    pic_set_irq(&f->pic, 16, true);
    pic_set_irq(&f->pic, 1000, true);

    assert_false(pic_output(&f->pic));
    assert_int_equal(in8(f, 0x20), 0x00);
}

static void test_word_write_reaches_command_then_data(void **state)
{
    struct pic_fixture *f = *state;

    init_pair(f, 0x01);
    mem_write(f->ports, 0x20, 0xF00A, 2); /* OCW3 read IRR, then IMR 0xF0 */

    assert_int_equal(in8(f, 0x21), 0xF0);
    assert_int_equal(mem_read(f->ports, 0x20, 2), 0xF000);
}

/* style.md §2.10: two machines in one process do not share state. */
static void test_two_instances_do_not_interfere(void **state)
{
    struct pic_fixture *a = *state;
    struct pic_fixture *b;

    setup((void **)&b);
    init_pair(a, 0x01);
    init_pair(b, 0x01);
    out8(b, 0x21, 0x55);
    pulse(a, 3);

    assert_true(pic_output(&a->pic));
    assert_false(pic_output(&b->pic));
    assert_int_equal(in8(a, 0x21), 0x00);
    assert_int_equal(in8(b, 0x21), 0x55);
    teardown((void **)&b);
}

static uint64_t lcg_next(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 33;
}

/* Any guest input, in any order and width, keeps INTR and its reports in
 * step and never aborts; the same input gives the same outputs. */
static uint64_t pic_random_run(struct pic_fixture *f, uint64_t seed)
{
    static const uint16_t ports[] = {0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1, 0x22};
    uint64_t x = seed, digest = 0;

    for (unsigned k = 0; k < 200000; k++) {
        uint64_t r = lcg_next(&x);
        uint16_t port = ports[r % 7];
        unsigned size = 1u << ((r >> 4) & 3);

        switch ((r >> 8) % 4) {
        case 0:
            mem_write(f->ports, port, lcg_next(&x), size);
            break;
        case 1:
            digest = digest * 31 + mem_read(f->ports, port, size);
            break;
        case 2:
            pic_set_irq(&f->pic, (r >> 12) % 18, (r >> 20) & 1);
            break;
        default:
            digest = digest * 31 + pic_ack(&f->pic);
            break;
        }
        assert_true(pic_output(&f->pic) == (f->intr_changes ? f->intr_level : false));
    }
    return digest * 31 + f->intr_changes;
}

static void test_random_guest_input_is_safe_and_deterministic(void **state)
{
    struct pic_fixture *a = *state;
    struct pic_fixture *b;
    uint64_t da, db;

    setup((void **)&b);
    da = pic_random_run(a, 1);
    db = pic_random_run(b, 1);
    assert_true(da == db);
    assert_true(a->intr_changes > 100); /* the run did reach the outputs */
    teardown((void **)&b);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_power_on_intr_low_registers_zero),
        T(test_seabios_init_then_irq0_gives_vector_8_and_sets_isr),
        T(test_non_specific_eoi_clears_highest_in_service),
        T(test_lower_priority_waits_for_eoi),
        T(test_specific_eoi_clears_only_named_level),
        T(test_cascade_irq8_vectors_through_slave_and_needs_two_eois),
        T(test_slave_irq_outranks_master_irq3),
        T(test_ack_with_nothing_pending_is_spurious_irq7_without_isr),
        T(test_masked_request_acks_as_spurious_irq7),
        T(test_slave_level_request_gone_gives_spurious_irq15),
        T(test_auto_eoi_leaves_isr_clear),
        T(test_rotate_on_non_specific_eoi_makes_serviced_level_lowest),
        T(test_set_priority_command_names_lowest_level),
        T(test_rotate_on_specific_eoi),
        T(test_rotate_in_auto_eoi_mode),
        T(test_poll_read_acks_highest_request),
        T(test_special_mask_mode_lets_lower_levels_through),
        T(test_elcr_level_input_rerequests_while_asserted),
        T(test_edge_input_needs_new_rising_edge),
        T(test_elcr_reserved_bits_read_zero),
        T(test_icw1_clears_imr_isr_and_edge_requests),
        T(test_icw1_without_icw4_and_single_mode_take_fewer_bytes),
        T(test_intr_callback_only_on_changes),
        T(test_reset_restores_power_on_but_keeps_line_levels),
        T(test_out_of_range_and_cascade_irq_inputs_are_ignored),
        T(test_word_write_reaches_command_then_data),
        T(test_two_instances_do_not_interfere),
        T(test_random_guest_input_is_safe_and_deterministic),
    };
#undef T
    return cmocka_run_group_tests_name("pic", tests, NULL, NULL);
}
