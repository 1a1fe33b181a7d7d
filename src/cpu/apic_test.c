/*
 * apic_test.c - the local APIC on bare CPUs: register reset values, TPR/PPR
 * priority, software disable, EOI (and the level-EOI hook), the ICR with
 * every delivery mode, destination form and shorthand, lowest priority,
 * the timer on virtual time, and the INIT/SIPI/SMI/NMI rules of cpu.md
 * §4.6 in both hardware and x-tcg-smm semantics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpu/bare_cpu_test.h"

#define APIC 0xFEE00000ull

struct fixture {
    struct bare *b[3];
    struct apic_bus bus;
    uint64_t now;
    unsigned level_eois;
    uint8_t last_eoi;
};

static void on_level_eoi(void *board, uint8_t vector)
{
    struct fixture *f = board;
    f->level_eois++;
    f->last_eoi = vector;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    for (unsigned k = 0; k < 3; k++) {
        f->b[k] = bare_create(1 << 20);
        struct cpu *c = &f->b[k]->cpu;
        c->index = k;
        c->apic_id = k;
        cpu_reset(c, k == 0);
        c->apic_bus = &f->bus;
        c->virtual_time = &f->now;
        c->on_level_eoi = on_level_eoi;
        c->board = f;
        f->bus.cpus[f->bus.n++] = c;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (unsigned k = 0; k < 3; k++)
        bare_free(f->b[k]);
    free(f);
    return 0;
}

static struct cpu *cpu(struct fixture *f, unsigned k)
{
    return &f->b[k]->cpu;
}

static uint32_t rd(struct cpu *c, unsigned off)
{
    return apic_mmio_read(c, APIC + off, 4);
}

static void wr(struct cpu *c, unsigned off, uint32_t v)
{
    apic_mmio_write(c, APIC + off, 4, v);
}

static void enable(struct cpu *c)
{
    wr(c, 0xF0, 0x1FF); /* SVR: software enable, spurious vector 0xFF */
}

/* ICR: destination in the high word, then the command. */
static void ipi(struct cpu *c, uint8_t dest, uint32_t low)
{
    wr(c, 0x310, (uint32_t)dest << 24);
    wr(c, 0x300, low);
}

#define DM(m) ((uint32_t)(m) << 8)
#define SH_SELF (1u << 18)
#define SH_ALL (2u << 18)
#define SH_OTHERS (3u << 18)
#define LOGICAL (1u << 11)
#define LEVEL_ASSERT (1u << 14)

/* A store to the APIC ends its block (tlb.c): the self-IPI it sends is taken
 * at the next instruction, although the loop around it is one block that the
 * run loop would otherwise run again without looking at events (cpu.c). */
static void test_self_ipi_from_a_one_block_loop_is_taken_after_the_store(void **state)
{
    struct fixture *f = *state;
    struct bare *b = f->b[0];
    struct cpu *c = cpu(f, 0);
    bare_prot32(b, 0, 0, 0);
    enable(c);
    /* mov eax, SH_SELF | 0x1F (the bare IDT has 32 gates); l: mov [0xFEE00300], eax;
     * inc ecx; jmp l */
    bare_code(b, BARE_CODE, "B8 1F 00 04 00 A3 00 03 E0 FE 41 EB F8");
    c->gpr[R_CX] = 0;
    cpu_set_rflags(c, 0x202); /* IF */
    c->state = CPU_RUNNING;
    cpu_run(c, 1000);
    assert_int_equal(bare_vector(b), 0x1F);
    assert_int_equal(c->gpr[R_CX], 0);
    assert_int_equal(bare_peek32(b, c->gpr[R_SP]), BARE_CODE + 10); /* after the store */
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    struct cpu *c = cpu(f, 2);
    assert_int_equal(rd(c, 0x20), 2u << 24);
    assert_int_equal(rd(c, 0x30), 0x00050014);
    assert_int_equal(rd(c, 0xF0), 0xFF);
    assert_int_equal(rd(c, 0xE0), 0xFFFFFFFF);
    for (unsigned off = 0x320; off <= 0x370; off += 0x10)
        assert_int_equal(rd(c, off) & 0x10000, 0x10000);
    assert_true(apic_claims(c, APIC + 0x20));
    assert_false(apic_claims(c, APIC + 0x1000));
    assert_int_equal(c->apic_base & 0x100, 0); /* not the BSP */
    assert_int_equal(cpu(f, 0)->apic_base & 0x100, 0x100);
}

static void test_tpr_masks_lower_priority_classes(void **state)
{
    struct fixture *f = *state;
    struct cpu *c = cpu(f, 0);
    enable(c);
    wr(c, 0x80, 0x30);
    ipi(c, 0, SH_SELF | DM(APIC_DM_FIXED) | 0x25);
    assert_int_equal(apic_pending_vector(c), -1);
    ipi(c, 0, SH_SELF | DM(APIC_DM_FIXED) | 0x45);
    assert_int_equal(apic_pending_vector(c), 0x45);
    apic_accept(c, 0x45);
    assert_int_equal(rd(c, 0xA0), 0x40); /* PPR = ISR class over TPR */
    assert_int_equal(apic_pending_vector(c), -1);
    wr(c, 0xB0, 0); /* EOI */
    wr(c, 0x80, 0x00);
    assert_int_equal(apic_pending_vector(c), 0x25);
    assert_int_equal(c->cr8, 0);
}

static void test_software_disabled_apic_delivers_nothing_and_masks_lvts(void **state)
{
    struct fixture *f = *state;
    struct cpu *c = cpu(f, 0);
    ipi(c, 0, SH_SELF | DM(APIC_DM_FIXED) | 0x50);
    assert_int_equal(apic_pending_vector(c), -1);
    wr(c, 0x350, 0x700); /* LINT0 ExtINT, unmasked: forced masked while disabled */
    assert_int_equal(rd(c, 0x350) & 0x10000, 0x10000);
    enable(c);
    assert_int_equal(apic_pending_vector(c), 0x50); /* held in the IRR meanwhile */
}

static void test_eoi_clears_highest_isr_and_reports_level_vectors(void **state)
{
    struct fixture *f = *state;
    struct cpu *c = cpu(f, 0);
    enable(c);
    apic_bus_deliver(&f->bus, NULL, 0, false, 0, APIC_DM_FIXED, 0x61, true, true);
    apic_accept(c, 0x61);
    ipi(c, 0, SH_SELF | DM(APIC_DM_FIXED) | 0x71);
    apic_accept(c, 0x71);
    wr(c, 0xB0, 0);
    assert_int_equal(f->level_eois, 0); /* 0x71 was edge-triggered */
    assert_int_equal(rd(c, 0x100 + (0x61 / 32) * 0x10) >> (0x61 % 32) & 1, 1);
    wr(c, 0xB0, 0);
    assert_int_equal(f->level_eois, 1);
    assert_int_equal(f->last_eoi, 0x61);
}

static void test_illegal_vector_sets_esr(void **state)
{
    struct fixture *f = *state;
    struct cpu *c = cpu(f, 0);
    enable(c);
    ipi(c, 0, SH_SELF | DM(APIC_DM_FIXED) | 0x05);
    wr(c, 0x280, 0);
    assert_int_equal(rd(c, 0x280) & 0x40, 0x40);
}

static void test_icr_reads_idle_and_narrow_writes_are_ignored(void **state)
{
    struct fixture *f = *state;
    struct cpu *c = cpu(f, 0);
    ipi(c, 1, DM(APIC_DM_NMI) | (1u << 12));
    assert_int_equal(rd(c, 0x300) & (1u << 12), 0);
    apic_mmio_write(c, APIC + 0x80, 1, 0x77);
    assert_int_equal(rd(c, 0x80), 0);
}

static void test_physical_destination_and_broadcast(void **state)
{
    struct fixture *f = *state;
    cpu_signal_sipi(cpu(f, 1), 0x10);
    cpu_signal_sipi(cpu(f, 2), 0x10);
    ipi(cpu(f, 0), 2, DM(APIC_DM_NMI));
    assert_false(cpu(f, 1)->nmi_pending);
    assert_true(cpu(f, 2)->nmi_pending);
    ipi(cpu(f, 0), 0xFF, DM(APIC_DM_SMI));
    for (unsigned k = 0; k < 3; k++)
        assert_true(cpu(f, k)->smi_pending);
}

static void test_shorthands(void **state)
{
    struct fixture *f = *state;
    ipi(cpu(f, 1), 0, SH_OTHERS | DM(APIC_DM_SMI));
    assert_true(cpu(f, 0)->smi_pending);
    assert_false(cpu(f, 1)->smi_pending);
    assert_true(cpu(f, 2)->smi_pending);
    cpu(f, 0)->smi_pending = cpu(f, 2)->smi_pending = false;
    ipi(cpu(f, 1), 0, SH_SELF | DM(APIC_DM_SMI));
    assert_true(cpu(f, 1)->smi_pending);
    assert_false(cpu(f, 0)->smi_pending);
    cpu(f, 1)->smi_pending = false;
    ipi(cpu(f, 1), 0, SH_ALL | DM(APIC_DM_SMI));
    for (unsigned k = 0; k < 3; k++)
        assert_true(cpu(f, k)->smi_pending);
}

static void test_logical_flat_and_cluster_destinations(void **state)
{
    struct fixture *f = *state;
    wr(cpu(f, 1), 0xD0, 0x02u << 24);
    wr(cpu(f, 2), 0xD0, 0x04u << 24);
    ipi(cpu(f, 0), 0x06, LOGICAL | DM(APIC_DM_SMI));
    assert_false(cpu(f, 0)->smi_pending);
    assert_true(cpu(f, 1)->smi_pending);
    assert_true(cpu(f, 2)->smi_pending);
    for (unsigned k = 0; k < 3; k++) {
        cpu(f, k)->smi_pending = false;
        wr(cpu(f, k), 0xE0, 0x0FFFFFFF); /* cluster model */
    }
    wr(cpu(f, 1), 0xD0, 0x21u << 24);  /* cluster 2, bit 0 */
    wr(cpu(f, 2), 0xD0, 0x31u << 24);  /* cluster 3, bit 0 */
    ipi(cpu(f, 0), 0x21, LOGICAL | DM(APIC_DM_SMI));
    assert_true(cpu(f, 1)->smi_pending);
    assert_false(cpu(f, 2)->smi_pending);
}

static void test_lowest_priority_picks_lowest_ppr_then_lowest_id(void **state)
{
    struct fixture *f = *state;
    for (unsigned k = 0; k < 3; k++)
        cpu_signal_sipi(cpu(f, k), 0x10), enable(cpu(f, k));
    wr(cpu(f, 0), 0x80, 0x20);
    apic_bus_deliver(&f->bus, NULL, 0xFF, false, 0, APIC_DM_LOWEST, 0x81, true, false);
    assert_int_equal(apic_pending_vector(cpu(f, 1)), 0x81);
    assert_int_equal(apic_pending_vector(cpu(f, 2)), -1);
    assert_int_equal(apic_pending_vector(cpu(f, 0)), -1);
}

static void test_init_sipi_starts_an_ap_at_the_vector(void **state)
{
    struct fixture *f = *state;
    struct cpu *ap = cpu(f, 1);
    assert_int_equal(ap->state, CPU_WAIT_SIPI);
    ipi(cpu(f, 0), 1, DM(APIC_DM_STARTUP) | 0x9F);
    assert_int_equal(ap->state, CPU_RUNNING);
    assert_int_equal(ap->seg[SEG_CS].selector, 0x9F00);
    assert_int_equal(ap->seg[SEG_CS].base, 0x9F000);
    assert_int_equal(ap->rip, 0);
    ipi(cpu(f, 0), 1, DM(APIC_DM_STARTUP) | 0x20); /* second SIPI: discarded */
    assert_int_equal(ap->seg[SEG_CS].base, 0x9F000);
    ipi(cpu(f, 0), 1, DM(APIC_DM_INIT) | LEVEL_ASSERT);
    /* latched, and acted on at the AP's next instruction boundary */
    assert_true(ap->init_latched);
    assert_true(cpu_wants_to_run(ap));
    cpu_run(ap, 1);
    assert_int_equal(ap->state, CPU_WAIT_SIPI);
    assert_false(ap->init_latched);
    ipi(cpu(f, 0), 1, DM(APIC_DM_INIT) | (1u << 15)); /* INIT de-assert: nothing */
    assert_int_equal(ap->state, CPU_WAIT_SIPI);
}

static void test_smi_to_a_waiting_cpu_survives_init_and_waits_for_sipi(void **state)
{
    struct fixture *f = *state;
    struct cpu *ap = cpu(f, 1);
    ap->smbase = 0x50000;
    ipi(cpu(f, 0), 1, DM(APIC_DM_SMI));
    ipi(cpu(f, 0), 1, DM(APIC_DM_INIT) | LEVEL_ASSERT);
    assert_true(ap->smi_pending);
    assert_int_equal(ap->smbase, 0x50000); /* INIT keeps SMBASE */
    assert_false(cpu_wants_to_run(ap));    /* held: no SMM entry before SIPI */
    cpu_signal_sipi(ap, 0x08);
    assert_true(cpu_wants_to_run(ap));
    assert_true(ap->smi_pending);
}

static void test_tcg_compat_takes_the_smi_in_wait_for_sipi(void **state)
{
    struct fixture *f = *state;
    struct cpu *ap = cpu(f, 1);
    ap->tcg_smm_compat = true;
    cpu_signal_smi(ap);
    assert_true(cpu_wants_to_run(ap));
}

static void test_init_in_smm_is_latched_on_hardware_and_immediate_on_tcg(void **state)
{
    struct fixture *f = *state;
    struct cpu *a = cpu(f, 1), *b = cpu(f, 2);
    a->state = b->state = CPU_RUNNING;
    a->in_smm = b->in_smm = true;
    b->tcg_smm_compat = true;
    b->smi_pending = true;
    cpu_signal_init(a);
    cpu_signal_init(b);
    assert_false(b->smi_pending); /* QEMU TCG loses the pending SMI */
    cpu_run(a, 1);
    cpu_run(b, 1); /* TCG: reset at the next boundary, out of SMM */
    assert_true(a->init_latched);
    assert_true(a->in_smm);
    assert_false(b->in_smm);
    assert_int_equal(b->state, CPU_WAIT_SIPI);
    assert_false(b->smi_pending); /* QEMU TCG loses the pending SMI */
}

static void test_nmi_to_a_waiting_cpu_is_discarded(void **state)
{
    struct fixture *f = *state;
    cpu_signal_nmi(cpu(f, 1));
    assert_false(cpu(f, 1)->nmi_pending);
}

static void test_timer_one_shot_and_periodic(void **state)
{
    struct fixture *f = *state;
    struct cpu *c = cpu(f, 0);
    enable(c);
    wr(c, 0x3E0, 0x0B); /* divide by 1 */
    wr(c, 0x320, 0x40); /* one-shot, vector 0x40, unmasked */
    wr(c, 0x380, 1000);
    assert_int_equal(c->apic.timer_deadline, 1000);
    f->now = 400;
    assert_int_equal(rd(c, 0x390), 600);
    apic_timer_expire(c, 1000);
    assert_int_equal(apic_pending_vector(c), 0x40);
    assert_int_equal(rd(c, 0x390), 0);
    assert_int_equal(c->apic.timer_deadline, UINT64_MAX);
    wr(c, 0x3E0, 0x00);       /* divide by 2 */
    wr(c, 0x320, 0x20041);    /* periodic, vector 0x41 */
    f->now = 2000;
    wr(c, 0x380, 50);
    assert_int_equal(c->apic.timer_deadline, 2100);
    apic_timer_expire(c, 2100);
    assert_int_equal(c->apic.timer_deadline, 2200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_ipi_from_a_one_block_loop_is_taken_after_the_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tpr_masks_lower_priority_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_software_disabled_apic_delivers_nothing_and_masks_lvts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eoi_clears_highest_isr_and_reports_level_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_illegal_vector_sets_esr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icr_reads_idle_and_narrow_writes_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_physical_destination_and_broadcast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shorthands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logical_flat_and_cluster_destinations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lowest_priority_picks_lowest_ppr_then_lowest_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_sipi_starts_an_ap_at_the_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smi_to_a_waiting_cpu_survives_init_and_waits_for_sipi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcg_compat_takes_the_smi_in_wait_for_sipi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_in_smm_is_latched_on_hardware_and_immediate_on_tcg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nmi_to_a_waiting_cpu_is_discarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_one_shot_and_periodic, setup, teardown),
    };
    return cmocka_run_group_tests_name("apic", tests, NULL, NULL);
}
