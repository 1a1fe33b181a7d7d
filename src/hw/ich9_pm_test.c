/*
 * ich9_pm_test.c - the PM block through a real I/O space: decode at PMBASE,
 * PM1 rules, GPE0 and the SCI level, SMI_EN width rules and SMI_LOCK, APM
 * commands 2/3 and APMC_EN gating (platform.md §3.2-3.9).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hw/ich9_pm.h"
#include "mem/memory.h"

struct fixture {
    struct mem_system sys;
    struct mem_region *io_root;
    struct address_space *io;
    struct ich9_pm pm;
    bool sci;
    unsigned sci_edges;
    int slept;
    uint32_t timer;
};

static void on_sci(void *owner, bool level)
{
    struct fixture *f = owner;
    f->sci = level;
    f->sci_edges++;
}

static void on_sleep(void *owner, unsigned typ)
{
    struct fixture *f = owner;
    f->slept = (int)typ;
}

static uint32_t on_timer(void *owner)
{
    struct fixture *f = owner;
    return f->timer;
}

static const struct ich9_pm_hooks hooks = { on_sci, on_sleep, on_timer };

static int setup_smm(void **state, bool smm)
{
    struct fixture *f = calloc(1, sizeof(*f));
    mem_system_init(&f->sys);
    f->io_root = mem_region_container(&f->sys, "io", 0x10000);
    f->io = mem_space_create(&f->sys, "I/O", f->io_root);
    f->slept = -1;
    ich9_pm_init(&f->pm, &f->sys, f->io_root, smm, &hooks, f, NULL);
    ich9_pm_set_base(&f->pm, 0x600, true);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_smm(state, true);
}

static int setup_nosmm(void **state)
{
    return setup_smm(state, false);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    mem_system_free(&f->sys);
    free(f);
    return 0;
}

static void test_block_is_not_decoded_until_enabled(void **state)
{
    struct fixture *f = *state;
    ich9_pm_set_base(&f->pm, 0x600, false);
    assert_int_equal(mem_read(f->io, 0x602, 2), 0xFFFF);
    ich9_pm_set_base(&f->pm, 0x600, true);
    assert_int_equal(mem_read(f->io, 0x602, 2), 0);
}

static void test_base_ignores_low_seven_bits(void **state)
{
    struct fixture *f = *state;
    ich9_pm_set_base(&f->pm, 0x0681, true);
    mem_write(f->io, 0x682, 0x0100, 2);
    assert_int_equal(mem_read(f->io, 0x682, 2), 0x0100);
}

static void test_pm1_sts_is_write_one_to_clear_and_drives_sci(void **state)
{
    struct fixture *f = *state;
    mem_write(f->io, 0x602, 0x0001, 2); /* PM1_EN.TMR */
    f->pm.pm1_sts = 0x0001;
    mem_write(f->io, 0x600, 0x0000, 2); /* re-evaluates, clears nothing */
    assert_true(f->sci);
    mem_write(f->io, 0x600, 0x0001, 2);
    assert_int_equal(mem_read(f->io, 0x600, 2), 0);
    assert_false(f->sci);
}

static void test_gpe_hotplug_bit_raises_sci_only_when_enabled(void **state)
{
    struct fixture *f = *state;
    ich9_pm_set_gpe(&f->pm, ICH9_GPE_CPU_HOTPLUG);
    assert_false(f->sci);
    assert_int_equal(mem_read(f->io, 0x620, 1), 0x04);
    mem_write(f->io, 0x628, 0x04, 1);
    assert_true(f->sci);
    mem_write(f->io, 0x620, 0x04, 1);
    assert_false(f->sci);
    assert_int_equal(mem_read(f->io, 0x628, 1), 0x04);
}

static void test_smi_en_only_answers_dword_accesses(void **state)
{
    struct fixture *f = *state;
    mem_write(f->io, 0x630, 0x21, 1);
    assert_int_equal(mem_read(f->io, 0x630, 4), 0);
    mem_write(f->io, 0x630, 0x21, 4);
    assert_int_equal(mem_read(f->io, 0x630, 4), 0x21);
    assert_int_equal(mem_read(f->io, 0x630, 2), 0);
    mem_write(f->io, 0x634, 0xFFFFFFFF, 4);
    assert_int_equal(mem_read(f->io, 0x634, 4), 0);
}

static void test_smi_lock_freezes_gbl_smi_en(void **state)
{
    struct fixture *f = *state;
    ich9_pm_arm_smi_lock(&f->pm);
    mem_write(f->io, 0x630, 0x21, 4);
    assert_int_equal(mem_read(f->io, 0x630, 4), 0x20);
    ich9_pm_reset(&f->pm);
    ich9_pm_set_base(&f->pm, 0x600, true);
    mem_write(f->io, 0x630, 0x21, 4); /* reset lifts it until GEN_PMCON_1 is written again */
    assert_int_equal(mem_read(f->io, 0x630, 4), 0x21);
}

static void test_apm_commands_two_and_three_toggle_sci_en_without_smi(void **state)
{
    struct fixture *f = *state;
    mem_write(f->io, 0x630, ICH9_SMI_EN_APMC_EN, 4);
    assert_false(ich9_pm_apm_command(&f->pm, 0x02));
    assert_int_equal(mem_read(f->io, 0x604, 2) & 1, 1);
    assert_false(ich9_pm_apm_command(&f->pm, 0x03));
    assert_int_equal(mem_read(f->io, 0x604, 2) & 1, 0);
    assert_true(ich9_pm_apm_command(&f->pm, 0x04));
    assert_true(ich9_pm_apm_command(&f->pm, 0x00));
}

static void test_apm_without_apmc_en_raises_nothing(void **state)
{
    struct fixture *f = *state;
    assert_false(ich9_pm_apm_command(&f->pm, 0x04));
}

static void test_slp_en_reports_sleep_type_and_reads_zero(void **state)
{
    struct fixture *f = *state;
    mem_write(f->io, 0x604, 0x2000 | (1 << 10), 2);
    assert_int_equal(f->slept, 1);
    assert_int_equal(mem_read(f->io, 0x604, 2), 1 << 10);
}

static void test_timer_reads_24_bits_from_the_hook(void **state)
{
    struct fixture *f = *state;
    f->timer = 0xABCDEF12;
    assert_int_equal(mem_read(f->io, 0x608, 4), 0xCDEF12);
    mem_write(f->io, 0x608, 0, 4);
    assert_int_equal(mem_read(f->io, 0x608, 4), 0xCDEF12);
}

static void test_smm_off_presets_sci_en_and_apmc_en(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mem_read(f->io, 0x630, 4), 0x20);
    assert_int_equal(mem_read(f->io, 0x604, 2) & 1, 1);
    assert_false(ich9_pm_apm_command(&f->pm, 0x03));
    assert_int_equal(mem_read(f->io, 0x604, 2) & 1, 1);
}

static void test_unclaimed_offsets_read_all_ones(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mem_read(f->io, 0x610, 1), 0xFF);
    assert_int_equal(mem_read(f->io, 0x660, 2), 0xFFFF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_block_is_not_decoded_until_enabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_base_ignores_low_seven_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm1_sts_is_write_one_to_clear_and_drives_sci, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gpe_hotplug_bit_raises_sci_only_when_enabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smi_en_only_answers_dword_accesses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smi_lock_freezes_gbl_smi_en, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apm_commands_two_and_three_toggle_sci_en_without_smi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apm_without_apmc_en_raises_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slp_en_reports_sleep_type_and_reads_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_reads_24_bits_from_the_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smm_off_presets_sci_en_and_apmc_en, setup_nosmm, teardown),
        cmocka_unit_test_setup_teardown(test_unclaimed_offsets_read_all_ones, setup, teardown),
    };
    return cmocka_run_group_tests_name("ich9_pm", tests, NULL, NULL);
}
