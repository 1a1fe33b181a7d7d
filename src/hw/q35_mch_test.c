/*
 * q35_mch_test.c - the MCH decision table (q35_mch.c, above the code) row by row, the
 * §2.8 region set and the §2.9 normal/SMM visibility matrix before and after each lock,
 * PAM, PCIEXBAR/ECAM, reset, and PCI mechanism #1 through the I/O space. The board is
 * built here from mem/ pieces exactly as machine.c wires it (system, pci, pc.ram, the
 * machine-wide smram container and one SMM view), with no CPU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hw/ich9_lpc.h"
#include "hw/pci.h"
#include "hw/q35_mch.h"
#include "mem/memory.h"

#define MiB   (1ull << 20)
#define GiB   (1ull << 30)
#define TOLUD (128 * MiB)

struct fixture {
    struct mem_system sys;
    struct mem_region *system, *pci, *ram, *smram, *io;
    struct address_space *normal, *smm, *ports;
    struct pci_host host;
    struct q35_mch mch;
    struct ich9_lpc lpc;
    unsigned reset_requests;
    char *text;
};

static void on_reset_request(void *owner)
{
    struct fixture *f = owner;
    f->reset_requests++;
}

static void build(struct fixture *f, bool smbase_smram, uint16_t ext)
{
    mem_system_init(&f->sys);
    f->system = mem_region_container(&f->sys, "system", UINT64_MAX);
    f->ram = mem_region_ram(&f->sys, "pc.ram", TOLUD);
    mem_region_add(f->system, mem_region_alias(&f->sys, "ram-below-4g", f->ram, 0, TOLUD), 0, 0);
    f->pci = mem_region_container(&f->sys, "pci", UINT64_MAX);
    mem_region_add(f->system, f->pci, 0, -1);
    f->smram = mem_region_container(&f->sys, "smram", 4 * GiB);
    f->io = mem_region_container(&f->sys, "io", 0x10000);
    f->normal = mem_space_create(&f->sys, "memory", f->system);
    struct mem_region *root = mem_region_container(&f->sys, "memory", UINT64_MAX);
    mem_region_add(root, mem_region_alias(&f->sys, "smram", f->smram, 0, 4 * GiB), 0, 1);
    mem_region_add(root, mem_region_alias(&f->sys, "memory", f->system, 0, UINT64_MAX), 0, 0);
    f->smm = mem_space_create(&f->sys, "cpu-smm-0", root);
    f->ports = mem_space_create(&f->sys, "I/O", f->io);
    pci_host_init(&f->host, &f->sys, f->io, f->system);
    struct q35_mch_props props = {.smbase_smram = smbase_smram, .ext_tseg_mbytes = ext};
    q35_mch_init(&f->mch, &props, &f->sys, &f->host, f->system, f->pci, f->ram, f->smram, TOLUD,
                 NULL);
    struct ich9_lpc_props lp;
    ich9_lpc_props_default(&lp);
    ich9_lpc_init(&f->lpc, &lp, &f->host, on_reset_request, f);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    build(f, true, 16);
    *state = f;
    return 0;
}

static int setup_off(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    build(f, false, 16);
    *state = f;
    return 0;
}

static int setup_ext0(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    build(f, true, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->text);
    mem_system_free(&f->sys);
    free(f);
    return 0;
}

/* Config access through the ports, as guest code does it. */
static void cfg_write(struct fixture *f, unsigned devfn, unsigned off, uint32_t v, unsigned size)
{
    mem_write(f->ports, 0xCF8, 0x80000000u | (devfn << 8) | (off & 0xFC), 4);
    mem_write(f->ports, 0xCFC + (off & 3), v, size);
}

static uint32_t cfg_read(struct fixture *f, unsigned devfn, unsigned off, unsigned size)
{
    mem_write(f->ports, 0xCF8, 0x80000000u | (devfn << 8) | (off & 0xFC), 4);
    return (uint32_t)mem_read(f->ports, 0xCFC + (off & 3), size);
}

static void wb(struct fixture *f, unsigned off, uint8_t v)
{
    cfg_write(f, 0, off, v, 1);
}

static uint8_t rb(struct fixture *f, unsigned off)
{
    return (uint8_t)cfg_read(f, 0, off, 1);
}

/* ---- 0x9C: the decision table, row by row ---- */

enum start { ST_A, ST_B, ST_C };

struct smbase_row {
    enum start from;
    uint8_t v;
    uint8_t reads;
    bool locked;
};

static const struct smbase_row smbase_rows[] = {
    {ST_A, 0xFF, 0x01, false},                            /* A, 0xFF -> B */
    {ST_A, 0x00, 0x00, false},                            /* A, any other v -> A */
    {ST_A, 0x01, 0x00, false}, {ST_A, 0x02, 0x00, false}, /* no lock without a query */
    {ST_A, 0x03, 0x00, false}, {ST_A, 0xFE, 0x00, false},
    {ST_B, 0x02, 0x02, true},                             /* B, bit 1 -> C */
    {ST_B, 0x03, 0x02, true},  {ST_B, 0xFF, 0x02, true},  /* a second query locks */
    {ST_B, 0xFE, 0x02, true},  {ST_B, 0x00, 0x01, false}, /* B, no bit 1 -> B */
    {ST_B, 0x01, 0x01, false}, {ST_B, 0xFD, 0x01, false},
    {ST_C, 0x00, 0x02, true}, /* C, any -> C */
    {ST_C, 0x01, 0x02, true},  {ST_C, 0xFF, 0x02, true},
};

static void drive_to(struct fixture *f, enum start s)
{
    q35_mch_reset(&f->mch);
    if (s >= ST_B)
        wb(f, MCH_SMBASE_CTL, 0xFF);
    if (s == ST_C)
        wb(f, MCH_SMBASE_CTL, 0x02);
}

static void test_smbase_decision_table_rows(void **state)
{
    struct fixture *f = *state;
    for (unsigned k = 0; k < sizeof(smbase_rows) / sizeof(smbase_rows[0]); k++) {
        const struct smbase_row *r = &smbase_rows[k];
        drive_to(f, r->from);
        mem_write(f->normal, 0x30000, 0x32, 1); /* before the write: RAM unless locked */
        wb(f, MCH_SMBASE_CTL, r->v);
        assert_int_equal(rb(f, MCH_SMBASE_CTL), r->reads);
        assert_int_equal(f->mch.smbase_blackhole->enabled, r->locked);
        assert_int_equal(f->mch.smbase_window->enabled, r->locked);
        /* locking never touches SMRAM/ESMRAMC */
        assert_int_equal(rb(f, MCH_SMRAM), 0x02);
        assert_int_equal(rb(f, MCH_ESMRAMC), 0x38);
    }
}

static void test_smbase_feature_off_row_is_plain_byte(void **state)
{
    struct fixture *f = *state;
    for (unsigned v = 0; v < 0x100; v++) {
        wb(f, MCH_SMBASE_CTL, (uint8_t)v);
        assert_int_equal(rb(f, MCH_SMBASE_CTL), v);
        assert_false(f->mch.smbase_blackhole->enabled);
        assert_false(f->mch.smbase_window->enabled);
    }
    q35_mch_reset(&f->mch);
    assert_int_equal(rb(f, MCH_SMBASE_CTL), 0x00);
}

static void test_smbase_dword_query_leaves_smram_esmramc(void **state)
{
    struct fixture *f = *state;
    cfg_write(f, 0, 0x9C, 0x003802FF, 4);
    assert_int_equal(cfg_read(f, 0, 0x9C, 4), 0x00380201);
}

static void test_smbase_lock_hides_window_from_normal_view_only(void **state)
{
    struct fixture *f = *state;
    mem_write(f->normal, 0x30000, 0x32, 1);
    mem_write(f->normal, 0x4FFF8, 0x1122334455667788ull, 8);
    wb(f, MCH_SMBASE_CTL, 0xFF);
    assert_int_equal(mem_read(f->normal, 0x30000, 1), 0x32); /* B: still RAM */
    wb(f, MCH_SMBASE_CTL, 0x02);
    assert_int_equal(mem_read(f->normal, 0x30000, 1), 0xFF);
    assert_int_equal(mem_read(f->normal, 0x30000, 2), 0xFFFF);
    assert_int_equal(mem_read(f->normal, 0x30000, 4), 0xFFFFFFFF);
    assert_true(mem_read(f->normal, 0x4FFF8, 8) == UINT64_MAX);
    mem_write(f->normal, 0x30000, 0x23, 1); /* lost */
    mem_write(f->normal, 0x4FFF8, 0, 8);    /* lost */
    assert_int_equal(mem_read(f->smm, 0x30000, 1), 0x32);
    assert_true(mem_read(f->smm, 0x4FFF8, 8) == 0x1122334455667788ull);
    /* SMM writes reach RAM */
    mem_write(f->smm, 0x30001, 0x44, 1);
    assert_int_equal(mem_read(f->smm, 0x30000, 2), 0x4432);
    /* neighbours untouched */
    mem_write(f->normal, 0x2FFFF, 0x5A, 1);
    mem_write(f->normal, 0x50000, 0x5B, 1);
    assert_int_equal(mem_read(f->normal, 0x2FFFF, 1), 0x5A);
    assert_int_equal(mem_read(f->normal, 0x50000, 1), 0x5B);
    /* reset: state A, both views RAM, contents kept */
    q35_mch_reset(&f->mch);
    assert_int_equal(rb(f, MCH_SMBASE_CTL), 0x00);
    assert_int_equal(mem_read(f->normal, 0x30000, 2), 0x4432);
}

/* ---- 0x9D / 0x9E rows ---- */

struct byte_row {
    bool lock_first; /* start from SMRAM 0x1A (locked) instead of reset */
    unsigned off;
    uint8_t v;
    uint8_t expect_9d, expect_9e;
};

static const struct byte_row smram_rows[] = {
    {false, MCH_SMRAM, 0x00, 0x02, 0x38}, /* C_BASE_SEG hard-wired */
    {false, MCH_SMRAM, 0x02, 0x02, 0x38},
    {false, MCH_SMRAM, 0x42, 0x42, 0x38}, /* D_OPEN */
    {false, MCH_SMRAM, 0x52, 0x12, 0x38}, /* D_LCK forces D_OPEN off */
    {false, MCH_SMRAM, 0xFF, 0x3A, 0x38}, /* bit 7 reserved */
    {true, MCH_SMRAM, 0x4A, 0x1A, 0x38},  /* locked: only D_CLS moves */
    {true, MCH_SMRAM, 0x22, 0x3A, 0x38},
    {true, MCH_SMRAM, 0x00, 0x1A, 0x38},
    {false, MCH_ESMRAMC, 0xFF, 0x02, 0xBF}, /* read-only 1s and 0s */
    {false, MCH_ESMRAMC, 0x00, 0x02, 0x38},
    {true, MCH_ESMRAMC, 0xFF, 0x1A, 0x38}, /* frozen after D_LCK */
    {true, MCH_ESMRAMC, 0x00, 0x1A, 0x38},
};

static void test_smram_esmramc_decision_table_rows(void **state)
{
    struct fixture *f = *state;
    for (unsigned k = 0; k < sizeof(smram_rows) / sizeof(smram_rows[0]); k++) {
        const struct byte_row *r = &smram_rows[k];
        q35_mch_reset(&f->mch);
        if (r->lock_first)
            wb(f, MCH_SMRAM, 0x1A);
        wb(f, r->off, r->v);
        assert_int_equal(rb(f, MCH_SMRAM), r->expect_9d);
        assert_int_equal(rb(f, MCH_ESMRAMC), r->expect_9e);
    }
}

static void test_lock_in_same_access_applies_esmramc_first(void **state)
{
    struct fixture *f = *state;
    cfg_write(f, 0, 0x9C, 0x00391800, 4);
    assert_int_equal(rb(f, MCH_SMRAM), 0x1A);
    assert_int_equal(rb(f, MCH_ESMRAMC), 0x39);
    wb(f, MCH_ESMRAMC, 0x38);
    assert_int_equal(rb(f, MCH_ESMRAMC), 0x39);
    assert_int_equal(q35_mch_tseg_bytes(&f->mch), 1 * MiB);
}

/* ---- 0x50 rows ---- */

static void test_ext_tseg_rows(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(cfg_read(f, 0, 0x50, 2), 0x0010);
    cfg_write(f, 0, 0x50, 0xFFFF, 2);
    assert_int_equal(cfg_read(f, 0, 0x50, 2), 0x0010);
    cfg_write(f, 0, 0x50, 0x1234, 2);
    assert_int_equal(cfg_read(f, 0, 0x50, 2), 0x1234);
    wb(f, 0x50, 0xFF);
    assert_int_equal(cfg_read(f, 0, 0x50, 2), 0x12FF);
    wb(f, 0x51, 0xFF);
    assert_int_equal(cfg_read(f, 0, 0x50, 2), 0x0010);
    cfg_write(f, 0, 0x50, 0x1234, 2);
    q35_mch_reset(&f->mch);
    assert_int_equal(cfg_read(f, 0, 0x50, 2), 0x0010);
}

static void test_ext_tseg_zero_rows(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(cfg_read(f, 0, 0x50, 2), 0x0000);
    cfg_write(f, 0, 0x50, 0xFFFF, 2);
    assert_int_equal(cfg_read(f, 0, 0x50, 2), 0xFFFF);
    cfg_write(f, 0, 0x50, 0x1234, 2);
    q35_mch_reset(&f->mch);
    assert_int_equal(cfg_read(f, 0, 0x50, 2), 0x1234);
    /* TSEG_SZ 11b with ext = 0: no TSEG */
    wb(f, MCH_ESMRAMC, 0x3F);
    wb(f, MCH_SMRAM, 0x18);
    assert_int_equal(q35_mch_tseg_bytes(&f->mch), 0);
    assert_false(f->mch.tseg_blackhole->enabled);
    mem_write(f->normal, TOLUD - 1, 0x77, 1);
    assert_int_equal(mem_read(f->normal, TOLUD - 1, 1), 0x77);
}

/* ---- TSEG sizes (conformance test 5) and the visibility matrix ---- */

static void test_tseg_sizes_1_2_8_16(void **state)
{
    struct fixture *f = *state;
    static const struct {
        uint8_t esmramc;
        unsigned mib;
    } sizes[] = {{0x39, 1}, {0x3B, 2}, {0x3D, 8}, {0x3F, 16}};
    for (unsigned k = 0; k < 4; k++) {
        q35_mch_reset(&f->mch);
        wb(f, MCH_ESMRAMC, sizes[k].esmramc);
        wb(f, MCH_SMRAM, 0x2A);
        wb(f, MCH_SMRAM, 0x3A);
        uint64_t off = (128 - sizes[k].mib) * MiB - 1;
        mem_write(f->smm, off + 1, 0xAB, 1);
        assert_int_equal(mem_read(f->normal, off, 1), 0x00);
        mem_write(f->normal, off, 1, 1);
        assert_int_equal(mem_read(f->normal, off, 1), 0x01);
        assert_int_equal(mem_read(f->normal, off + 1, 1), 0xFF);
        mem_write(f->normal, off + 1, 1, 1);
        assert_int_equal(mem_read(f->normal, off + 1, 1), 0xFF);
        assert_int_equal(mem_read(f->smm, off + 1, 1), 0xAB); /* SMM sees the RAM */
        assert_int_equal(mem_read(f->normal, TOLUD - 4, 4), 0xFFFFFFFF);
        assert_true(f->mch.tseg_window->addr == off + 1);
        assert_true(f->mch.tseg_window->alias_offset == off + 1);
        assert_true(f->mch.tseg_blackhole->size == sizes[k].mib * MiB);
        mem_write(f->normal, off, 0, 1);
    }
    /* reset: zero-sized, disabled, at TOLUD */
    q35_mch_reset(&f->mch);
    assert_false(f->mch.tseg_blackhole->enabled);
    assert_true(f->mch.tseg_blackhole->size == 0 && f->mch.tseg_blackhole->addr == TOLUD);
    assert_true(f->mch.tseg_window->size == 0 && f->mch.tseg_window->addr == TOLUD);
}

struct view_probe {
    uint64_t addr;
    uint8_t normal, smm;
};

static void check_probes(struct fixture *f, const struct view_probe *p, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        assert_int_equal(mem_read(f->normal, p[k].addr, 1), p[k].normal);
        assert_int_equal(mem_read(f->smm, p[k].addr, 1), p[k].smm);
    }
}

static void test_visibility_matrix_through_each_lock(void **state)
{
    struct fixture *f = *state;
    /* distinct RAM bytes: window 0x11, A segment 0x22, TSEG top 0x33 */
    mem_write(f->normal, 0x30000, 0x11, 1);
    mem_write(f->normal, 0xA0000, 0x22, 1);
    mem_write(f->normal, TOLUD - 1, 0x33, 1);
    const uint64_t hi = 0xFEDA0000;

    /* power-on: everything RAM, nothing at 0xFEDA0000 (no VGA: A segment is RAM) */
    struct view_probe po[] = {
        {0x30000, 0x11, 0x11},
        {0xA0000, 0x22, 0x22},
        {hi, 0xFF, 0xFF},
        {TOLUD - 1, 0x33, 0x33},
    };
    check_probes(f, po, 4);
    assert_true(f->mch.smram_region->enabled);
    assert_false(f->mch.open_high_smram->enabled || f->mch.low_smram->enabled ||
                 f->mch.high_smram->enabled);

    /* G_SMRAME + TSEG 1 MiB + H_SMRAME: SMM sees the A segment high too, TSEG is a hole */
    wb(f, MCH_ESMRAMC, 0xB9);
    wb(f, MCH_SMRAM, 0x0A);
    struct view_probe tseg[] = {
        {0x30000, 0x11, 0x11},
        {0xA0000, 0x22, 0x22},
        {hi, 0xFF, 0x22},
        {TOLUD - 1, 0xFF, 0x33},
    };
    check_probes(f, tseg, 4);
    assert_true(f->mch.high_smram->enabled);
    assert_false(f->mch.low_smram->enabled);

    /* D_OPEN with H_SMRAME: non-SMM sees the A segment at 0xFEDA0000; TSEG stays closed */
    wb(f, MCH_SMRAM, 0x4A);
    assert_true(f->mch.open_high_smram->enabled);
    assert_true(f->mch.smram_region->enabled); /* the low copy stays hidden */
    assert_int_equal(mem_read(f->normal, hi, 1), 0x22);
    assert_int_equal(mem_read(f->normal, TOLUD - 1, 1), 0xFF);

    /* D_OPEN without H_SMRAME */
    wb(f, MCH_ESMRAMC, 0x39);
    assert_false(f->mch.open_high_smram->enabled);
    assert_false(f->mch.smram_region->enabled);
    assert_true(f->mch.low_smram->enabled);
    assert_int_equal(mem_read(f->normal, hi, 1), 0xFF);

    /* D_LCK: D_OPEN forced off, smram-region back, TSEG frozen */
    wb(f, MCH_SMRAM, 0x5A);
    assert_int_equal(rb(f, MCH_SMRAM), 0x1A);
    assert_true(f->mch.smram_region->enabled);
    wb(f, MCH_ESMRAMC, 0x38);
    struct view_probe locked[] = {
        {0x30000, 0x11, 0x11},
        {0xA0000, 0x22, 0x22},
        {hi, 0xFF, 0xFF},
        {TOLUD - 1, 0xFF, 0x33},
    };
    check_probes(f, locked, 4);

    /* 0x9C lock */
    wb(f, MCH_SMBASE_CTL, 0xFF);
    wb(f, MCH_SMBASE_CTL, 0x02);
    struct view_probe all[] = {
        {0x30000, 0xFF, 0x11},
        {0x4FFFF, 0xFF, 0x00},
        {0xA0000, 0x22, 0x22},
        {TOLUD - 1, 0xFF, 0x33},
    };
    check_probes(f, all, 4);

    /* system reset: every window and hole off, smram-region on, RAM kept */
    q35_mch_reset(&f->mch);
    check_probes(f, po, 4);
    assert_true(f->mch.smram_region->enabled);
    assert_false(f->mch.tseg_blackhole->enabled || f->mch.tseg_window->enabled ||
                 f->mch.smbase_blackhole->enabled || f->mch.smbase_window->enabled ||
                 f->mch.low_smram->enabled || f->mch.high_smram->enabled ||
                 f->mch.open_high_smram->enabled);
}

static char *print(struct fixture *f, bool flat)
{
    size_t size;
    free(f->text);
    FILE *out = open_memstream(&f->text, &size);
    if (flat)
        mem_print_flat(&f->sys, out);
    else
        mem_print_tree(&f->sys, out);
    fclose(out);
    return f->text;
}

static void test_mtree_shows_regions_with_qemu_names(void **state)
{
    struct fixture *f = *state;
    char *t = print(f, false);
    assert_non_null(strstr(
        t, "0000000000030000-000000000004ffff (prio 1, i/o): smbase-blackhole [disabled]\n"));
    assert_non_null(strstr(t, "00000000000a0000-00000000000bffff (prio 1, i/o): alias smram-region "
                              "@pci 00000000000a0000-00000000000bffff\n"));
    assert_non_null(
        strstr(t, "0000000008000000-0000000008000000 (prio 1, i/o): tseg-blackhole [disabled]\n"));
    assert_non_null(
        strstr(t, "alias tseg-window @pc.ram 0000000008000000-0000000008000000 [disabled]\n"));
    assert_non_null(
        strstr(t, "00000000feda0000-00000000fedbffff (prio 1, ram): alias smram-open-high @pc.ram "
                  "00000000000a0000-00000000000bffff [disabled]\n"));
    /* firmware lock sequence */
    wb(f, MCH_ESMRAMC, 0x3F);
    wb(f, MCH_SMRAM, 0x1A);
    wb(f, MCH_SMBASE_CTL, 0xFF);
    wb(f, MCH_SMBASE_CTL, 0x02);
    t = print(f, false);
    assert_non_null(
        strstr(t, "0000000000030000-000000000004ffff (prio 1, i/o): smbase-blackhole\n"));
    assert_non_null(strstr(t, "0000000000030000-000000000004ffff (prio 0, ram): alias "
                              "smbase-window @pc.ram 0000000000030000-000000000004ffff\n"));
    assert_non_null(strstr(t, "0000000007000000-0000000007ffffff (prio 1, i/o): tseg-blackhole\n"));
    assert_non_null(strstr(t, "0000000007000000-0000000007ffffff (prio 0, ram): alias tseg-window "
                              "@pc.ram 0000000007000000-0000000007ffffff\n"));
    assert_non_null(strstr(t, "00000000000a0000-00000000000bffff (prio 0, ram): alias smram-low "
                              "@pc.ram 00000000000a0000-00000000000bffff\n"));
    t = print(f, true);
    assert_non_null(
        strstr(t, "  0000000000030000-000000000004ffff (prio 1, i/o): smbase-blackhole\n"));
    assert_non_null(
        strstr(t, "  0000000007000000-0000000007ffffff (prio 1, i/o): tseg-blackhole\n"));
}

/* ---- PAM ---- */

static void test_pam_fields_route_reads_and_writes(void **state)
{
    struct fixture *f = *state;
    wb(f, 0x91, 0x03); /* 0xC0000 RAM */
    mem_write(f->normal, 0xC0000, 0x5A, 1);
    assert_int_equal(mem_read(f->normal, 0xC0000, 1), 0x5A);
    wb(f, 0x91, 0x01); /* read RAM, write lost */
    mem_write(f->normal, 0xC0000, 0xA5, 1);
    assert_int_equal(mem_read(f->normal, 0xC0000, 1), 0x5A);
    wb(f, 0x91, 0x02); /* RAM (QEMU approximation) */
    mem_write(f->normal, 0xC0000, 0x77, 1);
    assert_int_equal(mem_read(f->normal, 0xC0000, 1), 0x77);
    wb(f, 0x91, 0x30); /* 0xC4000 RAM, 0xC0000 PCI */
    assert_true(f->mch.pam[2][3]->enabled && f->mch.pam[1][0]->enabled);
    wb(f, 0x90, 0x1F); /* PAM0 bits 3:0 do nothing */
    assert_true(f->mch.pam[0][1]->enabled);
    assert_int_equal(rb(f, 0x90), 0x1F);
    for (unsigned s = 0; s < MCH_PAM_SEGMENTS; s++) {
        unsigned on = 0;
        for (unsigned k = 0; k < 4; k++)
            on += f->mch.pam[s][k]->enabled;
        assert_int_equal(on, 1);
    }
}

static void test_pam_survives_reset(void **state)
{
    struct fixture *f = *state;
    cfg_write(f, 0, 0x90, 0x33333333, 4);
    cfg_write(f, 0, 0x94, 0x00333333, 4);
    q35_mch_reset(&f->mch);
    for (unsigned k = 0; k < MCH_PAM_COUNT; k++)
        assert_int_equal(rb(f, 0x90 + k), 0x33);
    assert_true(f->mch.pam[5][3]->enabled);
}

/* ---- PCIEXBAR / ECAM and mechanism #1 ---- */

static void test_pciexbar_maps_ecam(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(cfg_read(f, 0, 0x60, 4), 0xB0000000);
    assert_false(f->host.ecam->enabled);
    cfg_write(f, 0, 0x60, 0xB0000001, 4);
    assert_int_equal(mem_read(f->normal, 0xB0000000, 4), 0x29C08086);
    assert_int_equal(mem_read(f->normal, 0xB0000000 + (0xF8 << 12), 4), 0x29188086);
    assert_int_equal(mem_read(f->normal, 0xB0000100, 4), 0xFFFFFFFF); /* >= 0x100 */
    assert_int_equal(mem_read(f->normal, 0xB0008000, 4), 0xFFFFFFFF); /* absent 01.0 */
    mem_write(f->normal, 0xB000009D, 0x42, 1);
    assert_int_equal(rb(f, MCH_SMRAM), 0x42);
    /* 64 MiB: base bits 35:26 (platform.md §1.7) */
    cfg_write(f, 0, 0x60, 0xB4000005, 4);
    assert_true(f->host.ecam->addr == 0xB4000000 && f->host.ecam->size == 64 * MiB);
    /* 128 MiB: base bits 35:27 */
    cfg_write(f, 0, 0x60, 0xB8000003, 4);
    assert_true(f->host.ecam->addr == 0xB8000000 && f->host.ecam->size == 128 * MiB);
    /* reserved length: stored, no mapping change */
    cfg_write(f, 0, 0x60, 0xC0000007, 4);
    assert_int_equal(cfg_read(f, 0, 0x60, 4), 0xC0000007);
    assert_true(f->host.ecam->addr == 0xB8000000 && f->host.ecam->enabled);
    cfg_write(f, 0, 0x60, 0xB0000000, 4);
    assert_false(f->host.ecam->enabled);
    cfg_write(f, 0, 0x60, 0xB0000001, 4);
    q35_mch_reset(&f->mch);
    assert_false(f->host.ecam->enabled);
    assert_int_equal(cfg_read(f, 0, 0x60, 4), 0xB0000000);
}

static void test_mechanism1_rules(void **state)
{
    struct fixture *f = *state;
    mem_write(f->ports, 0xCF8, 0x8000F8A0, 4);
    assert_int_equal(mem_read(f->ports, 0xCF8, 4), 0x8000F8A0);
    mem_write(f->ports, 0xCF8, 0x1234, 2); /* 32-bit only */
    assert_int_equal(mem_read(f->ports, 0xCF8, 4), 0x8000F8A0);
    assert_int_equal(cfg_read(f, 0x08, 0, 4), 0xFFFFFFFF);
    assert_int_equal(cfg_read(f, 0xF9, 0, 1), 0xFF);
    mem_write(f->ports, 0xCF8, 0x00000000, 4); /* enable clear */
    assert_int_equal(mem_read(f->ports, 0xCFC, 4), 0xFFFFFFFF);
    /* misaligned word at 0xCFD: reads 0, write dropped (QEMU) */
    mem_write(f->ports, 0xCF8, 0x8000009C, 4);
    mem_write(f->ports, 0xCFD, 0x3918, 2);
    assert_int_equal(mem_read(f->ports, 0xCFD, 2), 0);
    assert_int_equal(rb(f, MCH_SMRAM), 0x02);
    /* the same registers through pci_config_* (monitor, tests) */
    assert_int_equal(pci_config_read(&f->host, 0, 0, 0x100, 4), 0xFFFFFFFF);
    assert_int_equal(pci_config_read(&f->host, 0, 0, 0xFE, 4), 0xFFFF0000);
}

static void test_cf9_requests_reset_and_cf8_still_works(void **state)
{
    struct fixture *f = *state;
    mem_write(f->ports, 0xCF9, 0x02, 1);
    assert_int_equal(mem_read(f->ports, 0xCF9, 1), 0x02);
    assert_int_equal(f->reset_requests, 0);
    mem_write(f->ports, 0xCF9, 0x06, 1);
    assert_int_equal(f->reset_requests, 1);
    mem_write(f->ports, 0xCF8, 0x80000000, 4);
    assert_int_equal(mem_read(f->ports, 0xCFC, 4), 0x29C08086);
    ich9_lpc_reset(&f->lpc);
    assert_int_equal(mem_read(f->ports, 0xCF9, 1), 0x00);
}

static void test_lpc_identity_and_storage(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(cfg_read(f, 0xF8, 0x00, 4), 0x29188086);
    assert_int_equal(cfg_read(f, 0xF8, 0x08, 4), 0x06010002);
    assert_int_equal(cfg_read(f, 0xF8, 0x40, 4), 0x00000001);
    cfg_write(f, 0xF8, 0x40, 0x0000FFFF, 4);
    assert_int_equal(cfg_read(f, 0xF8, 0x40, 4), 0x0000FF87); /* QEMU 7.2's mask */
    assert_int_equal(ich9_lpc_pm_base(&f->lpc), 0);           /* ACPI_EN = 0 */
    cfg_write(f, 0xF8, 0x40, 0x00000601, 4);
    cfg_write(f, 0xF8, 0x44, 0x80, 1);
    assert_int_equal(ich9_lpc_pm_base(&f->lpc), 0x600);
    cfg_write(f, 0xF8, 0xA0, 0x0010, 2);
    cfg_write(f, 0xF8, 0xA0, 0x0000, 2);
    assert_int_equal(cfg_read(f, 0xF8, 0xA0, 2), 0x0010); /* SMI_LOCK write-once */
    ich9_lpc_reset(&f->lpc);
    assert_int_equal(cfg_read(f, 0xF8, 0x40, 4), 0x00000001);
    assert_int_equal(cfg_read(f, 0xF8, 0x44, 1), 0x00);
    assert_int_equal(cfg_read(f, 0xF8, 0xA0, 2), 0x0010); /* not reset */
}

static void test_storage_registers_have_no_effect(void **state)
{
    struct fixture *f = *state;
    uint64_t gen = f->sys.generation;
    cfg_write(f, 0, MCH_GGC, 0x1234, 2);
    cfg_write(f, 0, MCH_GBSM, 0x07800000, 4);
    cfg_write(f, 0, MCH_BGSM, 0x07800001, 4);
    cfg_write(f, 0, MCH_TSEGMB, 0x07000001, 4);
    cfg_write(f, 0, MCH_TOLUD, 0x0800, 2);
    assert_int_equal(cfg_read(f, 0, MCH_TSEGMB, 4), 0x07000001);
    assert_true(f->sys.generation == gen); /* no map change */
    q35_mch_reset(&f->mch);
    assert_int_equal(cfg_read(f, 0, MCH_GGC, 2), 0x1234);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_smbase_decision_table_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smbase_feature_off_row_is_plain_byte, setup_off,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_smbase_dword_query_leaves_smram_esmramc, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_smbase_lock_hides_window_from_normal_view_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_smram_esmramc_decision_table_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_in_same_access_applies_esmramc_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ext_tseg_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ext_tseg_zero_rows, setup_ext0, teardown),
        cmocka_unit_test_setup_teardown(test_tseg_sizes_1_2_8_16, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visibility_matrix_through_each_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mtree_shows_regions_with_qemu_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam_fields_route_reads_and_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam_survives_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pciexbar_maps_ecam, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mechanism1_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cf9_requests_reset_and_cf8_still_works, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lpc_identity_and_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_registers_have_no_effect, setup, teardown),
    };
    return cmocka_run_group_tests_name("q35_mch", tests, NULL, NULL);
}
