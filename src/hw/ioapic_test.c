/*
 * ioapic_test.c - the I/O APIC through MMIO at 0xFEC00000 in a real
 * "system" address space: ID/version/arbitration registers, redirection
 * entries and their read-only bits, masking, edge and level delivery,
 * remote IRR and EOI (both the local-APIC entry point and the EOI
 * register), delivery modes, access widths and reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "hw/ioapic.h"
#include "mem/memory.h"

#define BASE 0xFEC00000ull

struct message {
    uint8_t dest;
    bool logical;
    unsigned mode;
    uint8_t vector;
    bool level;
};

struct ioapic_fixture {
    struct mem_system sys;
    struct mem_region *system;
    struct address_space *as;
    struct ioapic io;
    unsigned messages;
    struct message last;
};

static void record_message(void *owner, uint8_t dest, bool logical, unsigned mode, uint8_t vector,
                           bool level)
{
    struct ioapic_fixture *f = owner;

    f->messages++;
    f->last = (struct message){dest, logical, mode, vector, level};
}

static int setup(void **state)
{
    struct ioapic_fixture *f = calloc(1, sizeof(*f));

    mem_system_init(&f->sys);
    f->system = mem_region_container(&f->sys, "system", UINT64_MAX);
    f->as = mem_space_create(&f->sys, "memory", f->system);
    ioapic_init(&f->io, &f->sys, f->system, IOAPIC_BASE_PADDR, record_message, f, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct ioapic_fixture *f = *state;

    mem_system_free(&f->sys);
    free(f);
    return 0;
}

static uint32_t reg_read(struct ioapic_fixture *f, uint8_t index)
{
    mem_write(f->as, BASE, index, 4);
    return (uint32_t)mem_read(f->as, BASE + 0x10, 4);
}

static void reg_write(struct ioapic_fixture *f, uint8_t index, uint32_t value)
{
    mem_write(f->as, BASE, index, 4);
    mem_write(f->as, BASE + 0x10, value, 4);
}

/* Linux ioapic_write_entry(): high dword first, then low. */
static void set_entry(struct ioapic_fixture *f, unsigned pin, uint64_t entry)
{
    reg_write(f, (uint8_t)(0x11 + 2 * pin), (uint32_t)(entry >> 32));
    reg_write(f, (uint8_t)(0x10 + 2 * pin), (uint32_t)entry);
}

static uint64_t get_entry(struct ioapic_fixture *f, unsigned pin)
{
    uint64_t lo = reg_read(f, (uint8_t)(0x10 + 2 * pin));

    return (uint64_t)reg_read(f, (uint8_t)(0x11 + 2 * pin)) << 32 | lo;
}

#define LEVEL  IOAPIC_RTE_LEVEL
#define MASKED IOAPIC_RTE_MASKED
#define RIRR   IOAPIC_RTE_REMOTE_IRR

static void test_version_register_reports_24_entries_version_0x20(void **state)
{
    struct ioapic_fixture *f = *state;

    assert_int_equal(reg_read(f, 0x01), 0x00170020);
    reg_write(f, 0x01, 0);
    assert_int_equal(reg_read(f, 0x01), 0x00170020);
}

static void test_id_is_writable_in_bits_27_24_and_arbitration_follows(void **state)
{
    struct ioapic_fixture *f = *state;

    assert_int_equal(reg_read(f, 0x00), 0);
    reg_write(f, 0x00, 0xFFFFFFFF);
    assert_int_equal(reg_read(f, 0x00), 0x0F000000);
    assert_int_equal(reg_read(f, 0x02), 0x0F000000);
    reg_write(f, 0x02, 0);
    assert_int_equal(reg_read(f, 0x02), 0x0F000000);
}

static void test_entries_power_on_masked(void **state)
{
    struct ioapic_fixture *f = *state;

    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        assert_int_equal(get_entry(f, pin), 0x10000);
    ioapic_set_irq(&f->io, 4, true);
    assert_int_equal(f->messages, 0);
}

static void test_ioregsel_reads_back_and_unknown_registers_read_zero(void **state)
{
    struct ioapic_fixture *f = *state;

    mem_write(f->as, BASE, 0x3F, 1);
    assert_int_equal(mem_read(f->as, BASE, 4), 0x3F);
    assert_int_equal(mem_read(f->as, BASE + 0x10, 4), 0); /* pin 23 high dword */
    reg_write(f, 0x40, 0x12345678);
    assert_int_equal(reg_read(f, 0x40), 0);
    assert_int_equal(reg_read(f, 0x03), 0);
    assert_int_equal(reg_read(f, 0xFF), 0);
}

static void test_entry_reserved_and_read_only_bits(void **state)
{
    struct ioapic_fixture *f = *state;

    set_entry(f, 5, 0xFFFFFFFFFFFFFFFFull);
    assert_int_equal(get_entry(f, 5), 0xFF0000000001AFFFull); /* no RIRR, delivery status 0 */
}

static void test_edge_unmasked_delivers_fixed_message_once(void **state)
{
    struct ioapic_fixture *f = *state;

    set_entry(f, 4, 0x0300000000000834ull); /* dest 3, logical, fixed, vector 0x34 */
    ioapic_set_irq(&f->io, 4, true);
    ioapic_set_irq(&f->io, 4, true); /* no new edge */

    assert_int_equal(f->messages, 1);
    assert_int_equal(f->last.dest, 3);
    assert_true(f->last.logical);
    assert_int_equal(f->last.mode, IOAPIC_DM_FIXED);
    assert_int_equal(f->last.vector, 0x34);
    assert_false(f->last.level);
    ioapic_set_irq(&f->io, 4, false);
    ioapic_set_irq(&f->io, 4, true);
    assert_int_equal(f->messages, 2);
}

static void test_edge_on_masked_pin_is_dropped(void **state)
{
    struct ioapic_fixture *f = *state;

    set_entry(f, 1, MASKED | 0x31);
    ioapic_set_irq(&f->io, 1, true);
    ioapic_set_irq(&f->io, 1, false);
    set_entry(f, 1, 0x31);

    assert_int_equal(f->messages, 0);
}

static void test_level_sets_remote_irr_until_eoi(void **state)
{
    struct ioapic_fixture *f = *state;

    set_entry(f, 9, LEVEL | 0x49);
    ioapic_set_irq(&f->io, 9, true);

    assert_int_equal(f->messages, 1);
    assert_true(f->last.level);
    assert_true(get_entry(f, 9) & RIRR);
    ioapic_set_irq(&f->io, 9, false);
    ioapic_set_irq(&f->io, 9, true);
    assert_int_equal(f->messages, 1); /* remote IRR holds it */

    ioapic_eoi(&f->io, 0x49);

    assert_int_equal(f->messages, 2); /* still asserted: delivered again */
    assert_true(get_entry(f, 9) & RIRR);
}

static void test_eoi_with_line_deasserted_only_clears_remote_irr(void **state)
{
    struct ioapic_fixture *f = *state;

    set_entry(f, 16, LEVEL | 0x60);
    ioapic_set_irq(&f->io, 16, true);
    ioapic_set_irq(&f->io, 16, false);

    ioapic_eoi(&f->io, 0x60);

    assert_int_equal(f->messages, 1);
    assert_false(get_entry(f, 16) & RIRR);
}

static void test_eoi_for_other_vector_leaves_remote_irr(void **state)
{
    struct ioapic_fixture *f = *state;

    set_entry(f, 10, LEVEL | 0x50);
    ioapic_set_irq(&f->io, 10, true);
    ioapic_eoi(&f->io, 0x51);

    assert_true(get_entry(f, 10) & RIRR);
    assert_int_equal(f->messages, 1);
}

static void test_eoi_register_at_0x40_acts_like_local_apic_eoi(void **state)
{
    struct ioapic_fixture *f = *state;

    set_entry(f, 11, LEVEL | 0x5B);
    ioapic_set_irq(&f->io, 11, true);
    mem_write(f->as, BASE + 0x40, 0x5B, 4);

    assert_int_equal(f->messages, 2);
    mem_write(f->as, BASE + 0x40, 0x5B, 1); /* not 32 bits: ignored */
    assert_int_equal(f->messages, 2);
}

static void test_masked_level_is_delivered_when_unmasked(void **state)
{
    struct ioapic_fixture *f = *state;

    set_entry(f, 20, MASKED | LEVEL | 0x70);
    ioapic_set_irq(&f->io, 20, true);
    assert_int_equal(f->messages, 0);

    set_entry(f, 20, LEVEL | 0x70);

    assert_int_equal(f->messages, 1);
    assert_int_equal(f->last.vector, 0x70);
}

static void test_rewriting_entry_keeps_remote_irr_unless_made_edge(void **state)
{
    struct ioapic_fixture *f = *state;

    set_entry(f, 9, LEVEL | 0x49);
    ioapic_set_irq(&f->io, 9, true);
    set_entry(f, 9, LEVEL | MASKED | 0x49); /* Linux masks around a migration */
    assert_true(get_entry(f, 9) & RIRR);
    set_entry(f, 9, 0x49);
    assert_false(get_entry(f, 9) & RIRR);
    assert_int_equal(f->messages, 1); /* an edge pin needs a new edge */
}

static void test_delivery_modes_pass_through(void **state)
{
    struct ioapic_fixture *f = *state;
    static const unsigned modes[] = {IOAPIC_DM_LOWEST, IOAPIC_DM_SMI, IOAPIC_DM_NMI, IOAPIC_DM_INIT,
                                     IOAPIC_DM_EXTINT};

    for (unsigned k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        set_entry(f, 3, (uint64_t)0xFF << 56 | (uint64_t)modes[k] << 8 | 0x23);
        ioapic_set_irq(&f->io, 3, true);
        ioapic_set_irq(&f->io, 3, false);
        assert_int_equal(f->messages, k + 1);
        assert_int_equal(f->last.mode, modes[k]);
        assert_int_equal(f->last.dest, 0xFF);
        assert_false(f->last.logical);
    }
}

static void test_level_nmi_is_treated_as_edge_without_remote_irr(void **state)
{
    struct ioapic_fixture *f = *state;

    set_entry(f, 7, LEVEL | (uint64_t)IOAPIC_DM_NMI << 8);
    ioapic_set_irq(&f->io, 7, true);

    assert_int_equal(f->messages, 1);
    assert_false(f->last.level);
    assert_false(get_entry(f, 7) & RIRR);
}

static void test_reserved_delivery_mode_delivers_nothing(void **state)
{
    struct ioapic_fixture *f = *state;

    set_entry(f, 6, 3ull << 8 | 0x26);
    ioapic_set_irq(&f->io, 6, true);
    set_entry(f, 6, LEVEL | 6ull << 8 | 0x26);

    assert_int_equal(f->messages, 0);
}

static void test_iowin_needs_32_bit_access_and_mirrors_every_256_bytes(void **state)
{
    struct ioapic_fixture *f = *state;

    mem_write(f->as, BASE, 0x01, 1);
    assert_int_equal(mem_read(f->as, BASE + 0x10, 1), 0);
    assert_int_equal(mem_read(f->as, BASE + 0x10, 2), 0);
    assert_int_equal(mem_read(f->as, BASE + 0x110, 4), 0x00170020);
    assert_int_equal(mem_read(f->as, BASE + 0x10, 8), 0x00170020); /* upper half reads 0x14 */
    mem_write(f->as, BASE + 0x10, 0, 2);
    mem_write(f->as, BASE, 0x00, 4);
    mem_write(f->as, BASE + 0x10, 0x0A000000, 2);
    assert_int_equal(reg_read(f, 0x00), 0);
}

static void test_out_of_range_pin_is_ignored(void **state)
{
    struct ioapic_fixture *f = *state;

    ioapic_set_irq(&f->io, 24, true);
    ioapic_set_irq(&f->io, 1000, true);
    assert_int_equal(f->messages, 0);
}

static void test_reset_masks_everything_and_clears_id(void **state)
{
    struct ioapic_fixture *f = *state;

    reg_write(f, 0x00, 0x02000000);
    set_entry(f, 2, LEVEL | 0x30);
    ioapic_set_irq(&f->io, 2, true);

    ioapic_reset(&f->io);

    assert_int_equal(reg_read(f, 0x00), 0);
    assert_int_equal(get_entry(f, 2), 0x10000);
    set_entry(f, 2, LEVEL | 0x30); /* line still asserted: delivered on unmask */
    assert_int_equal(f->messages, 2);
}

static void test_guest_errors_are_logged_once_per_cause(void **state)
{
    struct ioapic_fixture *f = *state;
    char *buf = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&buf, &len);

    f->io.log = log;
    reg_read(f, 0x50);
    reg_read(f, 0x51);
    mem_read(f->as, BASE + 0x10, 2);
    fclose(log);
    f->io.log = NULL;
    assert_string_equal(buf, "ioapic: IOREGSEL names no register: reads 0\n"
                             "ioapic: IOWIN/EOI access not 32 bits: ignored\n");
    free(buf);
}

static uint64_t lcg_next(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 33;
}

/* Any guest input never aborts, remote IRR is only ever set on a
 * level-triggered fixed/lowest entry, and the same input gives the same
 * messages. */
static uint64_t ioapic_random_run(struct ioapic_fixture *f, uint64_t seed)
{
    uint64_t x = seed, digest = 0;

    for (unsigned k = 0; k < 200000; k++) {
        uint64_t r = lcg_next(&x);
        uint64_t addr = BASE + (r % 5 == 0 ? (r >> 8) % 0x1100 : ((r >> 8) % 3) * 0x10);
        unsigned size = 1u << ((r >> 20) & 3); /* r has 31 bits */

        switch ((r >> 24) % 5) {
        case 0:
        case 1:
            mem_write(f->as, addr, lcg_next(&x) | lcg_next(&x) << 31, size);
            break;
        case 2:
            digest = digest * 31 + mem_read(f->as, addr, size);
            break;
        case 3:
            ioapic_set_irq(&f->io, lcg_next(&x) % 26, lcg_next(&x) & 1);
            break;
        default:
            ioapic_eoi(&f->io, (uint8_t)lcg_next(&x));
            break;
        }
        for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
            uint64_t e = f->io.redir[pin];
            unsigned mode = (e >> 8) & 7;
            if (e & RIRR)
                assert_true((e & LEVEL) && mode <= IOAPIC_DM_LOWEST);
            assert_false(e & IOAPIC_RTE_DELIVS);
        }
    }
    return digest * 31 + f->messages * 7 + f->last.vector;
}

static void test_random_guest_input_is_safe_and_deterministic(void **state)
{
    struct ioapic_fixture *a = *state;
    struct ioapic_fixture *b;
    uint64_t da, db;

    setup((void **)&b);
    da = ioapic_random_run(a, 11);
    db = ioapic_random_run(b, 11);
    assert_true(da == db);
    assert_true(a->messages > 0);
    teardown((void **)&b);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_version_register_reports_24_entries_version_0x20),
        T(test_id_is_writable_in_bits_27_24_and_arbitration_follows),
        T(test_entries_power_on_masked),
        T(test_ioregsel_reads_back_and_unknown_registers_read_zero),
        T(test_entry_reserved_and_read_only_bits),
        T(test_edge_unmasked_delivers_fixed_message_once),
        T(test_edge_on_masked_pin_is_dropped),
        T(test_level_sets_remote_irr_until_eoi),
        T(test_eoi_with_line_deasserted_only_clears_remote_irr),
        T(test_eoi_for_other_vector_leaves_remote_irr),
        T(test_eoi_register_at_0x40_acts_like_local_apic_eoi),
        T(test_masked_level_is_delivered_when_unmasked),
        T(test_rewriting_entry_keeps_remote_irr_unless_made_edge),
        T(test_delivery_modes_pass_through),
        T(test_level_nmi_is_treated_as_edge_without_remote_irr),
        T(test_reserved_delivery_mode_delivers_nothing),
        T(test_iowin_needs_32_bit_access_and_mirrors_every_256_bytes),
        T(test_out_of_range_pin_is_ignored),
        T(test_reset_masks_everything_and_clears_id),
        T(test_guest_errors_are_logged_once_per_cause),
        T(test_random_guest_input_is_safe_and_deterministic),
    };
#undef T
    return cmocka_run_group_tests_name("ioapic", tests, NULL, NULL);
}
