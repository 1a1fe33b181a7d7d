/*
 * cpu_hotplug_test.c - the 0x0CD8 block through a real I/O space: legacy
 * bitmap, the one-way switch, the modern registers and commands, and the
 * observed QEMU transcript of platform.md §5.5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hw/cpu_hotplug.h"
#include "mem/memory.h"

#define P CPU_HOTPLUG_BASE

struct fixture {
    struct mem_system sys;
    struct mem_region *io_root;
    struct address_space *io;
    struct cpu_hotplug hp;
    bool present[8];
    unsigned gpes, ejected, osts;
    uint32_t ost_event, ost_status;
};

static bool f_present(void *o, unsigned s)
{
    return ((struct fixture *)o)->present[s];
}

static uint32_t f_arch_id(void *o, unsigned s)
{
    (void)o;
    return s * 2; /* distinct from the slot, so tests see which one is read */
}

static void f_eject(void *o, unsigned s)
{
    struct fixture *f = o;
    f->present[s] = false;
    f->ejected++;
}

static void f_gpe(void *o)
{
    ((struct fixture *)o)->gpes++;
}

static void f_ost(void *o, unsigned s, uint32_t ev, uint32_t st)
{
    struct fixture *f = o;
    (void)s;
    f->osts++;
    f->ost_event = ev;
    f->ost_status = st;
}

static const struct cpu_hotplug_hooks hooks = { f_present, f_arch_id, f_eject, f_gpe, f_ost };

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    mem_system_init(&f->sys);
    f->io_root = mem_region_container(&f->sys, "io", 0x10000);
    f->io = mem_space_create(&f->sys, "I/O", f->io_root);
    f->present[0] = f->present[1] = true;
    cpu_hotplug_init(&f->hp, &f->sys, f->io_root, 4, &hooks, f, NULL);
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

static void to_modern(struct fixture *f)
{
    mem_write(f->io, P, 0, 4);
}

static void test_legacy_bitmap_marks_present_apic_ids(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mem_read(f->io, P, 1), 0x05); /* APIC IDs 0 and 2 */
    assert_int_equal(mem_read(f->io, P + 1, 1), 0);
    mem_write(f->io, P, 7, 1); /* only 0 switches */
    assert_false(f->hp.modern_mode);
}

static void test_writing_zero_switches_to_modern_for_good(void **state)
{
    struct fixture *f = *state;
    to_modern(f);
    assert_true(f->hp.modern_mode);
    mem_write(f->io, P + 5, CPUHP_CMD_GET_PENDING, 1);
    assert_int_equal(mem_read(f->io, P, 4), 0); /* the modern-mode detection read */
    assert_int_equal(mem_read(f->io, P + 0x10, 1), 0xFF); /* 0xCE4-0xCF7 unclaimed now */
}

static void test_status_and_arch_id_of_the_selected_slot(void **state)
{
    struct fixture *f = *state;
    to_modern(f);
    mem_write(f->io, P, 1, 4);
    assert_int_equal(mem_read(f->io, P + 4, 1), CPUHP_STS_ENABLED);
    mem_write(f->io, P + 5, CPUHP_CMD_GET_ARCH_ID, 1);
    assert_int_equal(mem_read(f->io, P + 8, 4), 2);
    mem_write(f->io, P, 3, 4);
    assert_int_equal(mem_read(f->io, P + 4, 1), 0);
}

static void test_out_of_range_selector_reads_zero_and_ignores_writes(void **state)
{
    struct fixture *f = *state;
    to_modern(f);
    mem_write(f->io, P, 9, 4);
    mem_write(f->io, P + 5, CPUHP_CMD_GET_ARCH_ID, 1);
    assert_int_equal(mem_read(f->io, P + 8, 4), 0);
    assert_int_equal(f->hp.command, CPUHP_CMD_GET_PENDING);
    assert_int_equal(f->hp.selector, 9);
}

static void test_commands_four_and_up_are_ignored(void **state)
{
    struct fixture *f = *state;
    to_modern(f);
    mem_write(f->io, P + 5, CPUHP_CMD_GET_ARCH_ID, 1);
    mem_write(f->io, P + 5, 4, 1);
    assert_int_equal(f->hp.command, CPUHP_CMD_GET_ARCH_ID);
}

static void test_transcript_of_platform_spec(void **state)
{
    struct fixture *f = *state;
    to_modern(f);
    f->present[2] = true; /* hot-add slot 2 */
    cpu_hotplug_insert(&f->hp, 2);
    assert_int_equal(f->gpes, 1);
    mem_write(f->io, P, 0, 4);
    mem_write(f->io, P + 5, CPUHP_CMD_GET_PENDING, 1);
    assert_int_equal(mem_read(f->io, P + 8, 4), 2);
    assert_int_equal(mem_read(f->io, P + 4, 1), 0x03);
    mem_write(f->io, P + 4, CPUHP_CTL_CLEAR_INSERT, 1);
    assert_int_equal(mem_read(f->io, P + 4, 1), 0x01);
    cpu_hotplug_request_remove(&f->hp, 2);
    assert_int_equal(mem_read(f->io, P + 4, 1), 0x05);
    mem_write(f->io, P + 4, CPUHP_CTL_CLEAR_REMOVE, 1);
    assert_int_equal(mem_read(f->io, P + 4, 1), 0x01);
    mem_write(f->io, P + 4, CPUHP_CTL_FW_REMOVE, 1);
    assert_int_equal(mem_read(f->io, P + 4, 1), 0x11);
    mem_write(f->io, P, 0, 4);
    mem_write(f->io, P + 5, CPUHP_CMD_GET_PENDING, 1);
    assert_int_equal(mem_read(f->io, P + 8, 4), 2);
    mem_write(f->io, P + 4, CPUHP_CTL_EJECT, 1);
    assert_int_equal(f->ejected, 1);
    assert_int_equal(mem_read(f->io, P + 4, 1), 0x00);
}

static void test_only_the_first_control_bit_acts(void **state)
{
    struct fixture *f = *state;
    to_modern(f);
    cpu_hotplug_insert(&f->hp, 1);
    mem_write(f->io, P, 1, 4);
    mem_write(f->io, P + 4, CPUHP_CTL_CLEAR_INSERT | CPUHP_CTL_EJECT, 1);
    assert_int_equal(f->ejected, 0);
    assert_int_equal(mem_read(f->io, P + 4, 1), CPUHP_STS_ENABLED);
}

static void test_slot_zero_cannot_be_ejected_or_fw_removed(void **state)
{
    struct fixture *f = *state;
    to_modern(f);
    mem_write(f->io, P, 0, 4);
    mem_write(f->io, P + 4, CPUHP_CTL_FW_REMOVE, 1);
    mem_write(f->io, P + 4, CPUHP_CTL_EJECT, 1);
    assert_int_equal(f->ejected, 0);
    assert_int_equal(mem_read(f->io, P + 4, 1), CPUHP_STS_ENABLED);
}

static void test_get_pending_wraps_and_keeps_selector_when_nothing_pending(void **state)
{
    struct fixture *f = *state;
    to_modern(f);
    mem_write(f->io, P, 3, 4);
    mem_write(f->io, P + 5, CPUHP_CMD_GET_PENDING, 1);
    assert_int_equal(mem_read(f->io, P + 8, 4), 3);
    cpu_hotplug_insert(&f->hp, 1);
    mem_write(f->io, P + 5, CPUHP_CMD_GET_PENDING, 1);
    assert_int_equal(mem_read(f->io, P + 8, 4), 1);
}

static void test_ost_status_write_reports_event_and_status(void **state)
{
    struct fixture *f = *state;
    to_modern(f);
    mem_write(f->io, P, 1, 4);
    mem_write(f->io, P + 5, CPUHP_CMD_OST_EVENT, 1);
    mem_write(f->io, P + 8, 0x103, 4);
    mem_write(f->io, P + 5, CPUHP_CMD_OST_STATUS, 1);
    mem_write(f->io, P + 8, 0x80, 4);
    assert_int_equal(f->osts, 1);
    assert_int_equal(f->ost_event, 0x103);
    assert_int_equal(f->ost_status, 0x80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_legacy_bitmap_marks_present_apic_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writing_zero_switches_to_modern_for_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_and_arch_id_of_the_selected_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range_selector_reads_zero_and_ignores_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commands_four_and_up_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transcript_of_platform_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_the_first_control_bit_acts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_zero_cannot_be_ejected_or_fw_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_pending_wraps_and_keeps_selector_when_nothing_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ost_status_write_reports_event_and_status, setup, teardown),
    };
    return cmocka_run_group_tests_name("cpu_hotplug", tests, NULL, NULL);
}
