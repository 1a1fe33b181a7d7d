/*
 * memory_test.c - the region tree, flattened views and slow-path dispatch
 * (mem/memory.h), the SMM/normal visibility of platform.md §2.9 built from
 * the regions §2.8 names, and `info mtree` text in the format of §2.10.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mem/memory.h"

#define FULL UINT64_MAX /* a region covering the whole 64-bit space */

struct smm_model;

struct fixture {
    struct mem_system sys;
    struct mem_region *root;
    struct address_space *as;
    unsigned hook_calls;
    struct smm_model *models[2]; /* freed by teardown, so a failing test leaks nothing */
    char *text;
};

static void count_hook(void *opaque)
{
    struct fixture *f = opaque;
    f->hook_calls++;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    mem_system_init(&f->sys);
    f->sys.on_map_change = count_hook;
    f->sys.hook_opaque = f;
    f->root = mem_region_container(&f->sys, "system", FULL);
    f->as = mem_space_create(&f->sys, "memory", f->root);
    *state = f;
    return 0;
}

static void smm_model_free(struct smm_model *m);

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (unsigned k = 0; k < 2; k++)
        smm_model_free(f->models[k]);
    free(f->text);
    mem_system_free(&f->sys);
    free(f);
    return 0;
}

/* A RAM region whose every byte is `fill`. */
static struct mem_region *ram_filled(struct fixture *f, const char *name, uint64_t size,
                                     uint8_t fill)
{
    struct mem_region *mr = mem_region_ram(&f->sys, name, size);
    memset(mr->block->host, fill, size);
    return mr;
}

/* ---- a recording MMIO device ---- */

struct mmio_op {
    bool write;
    uint64_t offset, value;
    unsigned size;
};

struct mmio_log {
    unsigned n;
    struct mmio_op op[32];
    uint8_t regs[64]; /* backing bytes, little endian */
};

static uint64_t dev_read(void *opaque, uint64_t offset, unsigned size)
{
    struct mmio_log *l = opaque;
    uint64_t v = 0;
    for (unsigned k = 0; k < size; k++)
        v |= (uint64_t)l->regs[(offset + k) % sizeof(l->regs)] << (8 * k);
    if (l->n < 32)
        l->op[l->n++] = (struct mmio_op){false, offset, v, size};
    return v;
}

static void dev_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct mmio_log *l = opaque;
    for (unsigned k = 0; k < size; k++)
        l->regs[(offset + k) % sizeof(l->regs)] = (uint8_t)(value >> (8 * k));
    if (l->n < 32)
        l->op[l->n++] = (struct mmio_op){true, offset, value, size};
}

/* ---- basic RAM, priorities, containers ---- */

static void test_ram_reads_back_what_was_written_at_every_size(void **state)
{
    struct fixture *f = *state;
    struct mem_region *ram = mem_region_ram(&f->sys, "ram", 0x10000);
    mem_region_add(f->root, ram, 0x10000, 0);

    assert_int_equal(mem_read(f->as, 0x10000, 8), 0); /* RAM starts zeroed */
    mem_write(f->as, 0x10010, 0x1122334455667788ull, 8);
    assert_int_equal(mem_read(f->as, 0x10010, 8), 0x1122334455667788ull);
    assert_int_equal(mem_read(f->as, 0x10010, 4), 0x55667788);
    assert_int_equal(mem_read(f->as, 0x10012, 2), 0x5566);
    assert_int_equal(mem_read(f->as, 0x10017, 1), 0x11);
    assert_int_equal(ram->block->host[0x10], 0x88); /* little endian at offset 0x10 */
    mem_write(f->as, 0x10011, 0xAB, 1);
    assert_int_equal(mem_read(f->as, 0x10010, 4), 0x5566AB88);
}

static void test_higher_priority_region_wins_where_regions_overlap(void **state)
{
    struct fixture *f = *state;
    struct mem_region *low = ram_filled(f, "low", 0x3000, 0x11);
    struct mem_region *high = ram_filled(f, "high", 0x1000, 0x22);
    mem_region_add(f->root, high, 0x1000, 2); /* added first, but higher */
    mem_region_add(f->root, low, 0x0, 1);

    assert_int_equal(mem_read(f->as, 0x0FFF, 1), 0x11);
    assert_int_equal(mem_read(f->as, 0x1000, 1), 0x22);
    assert_int_equal(mem_read(f->as, 0x1FFF, 1), 0x22);
    assert_int_equal(mem_read(f->as, 0x2000, 1), 0x11);
    const struct flat_range *r = mem_space_lookup(f->as, 0x2000);
    assert_non_null(r);
    assert_ptr_equal(r->mr, low);
    assert_int_equal(r->offset, 0x2000); /* the low region continues at its own offset */
    assert_int_equal(r->start, 0x2000);
    assert_int_equal(r->last, 0x2FFF);
}

static void test_equal_priority_later_added_region_wins(void **state)
{
    struct fixture *f = *state;
    struct mem_region *first = ram_filled(f, "first", 0x2000, 0x11);
    struct mem_region *second = ram_filled(f, "second", 0x1000, 0x22);
    mem_region_add(f->root, first, 0x0, 0);
    mem_region_add(f->root, second, 0x1000, 0);

    assert_int_equal(mem_read(f->as, 0x0800, 1), 0x11);
    assert_int_equal(mem_read(f->as, 0x1800, 1), 0x22);
    assert_ptr_equal(mem_space_lookup(f->as, 0x1800)->mr, second);

    /* And the other way round: the later one wins even when added "under". */
    struct mem_region *third = ram_filled(f, "third", 0x2000, 0x33);
    mem_region_add(f->root, third, 0x0, 0);
    assert_int_equal(mem_read(f->as, 0x1800, 1), 0x33);
    assert_int_equal(mem_read(f->as, 0x0800, 1), 0x33);
}

static void test_container_places_children_relative_to_its_address(void **state)
{
    struct fixture *f = *state;
    struct mem_region *box = mem_region_container(&f->sys, "box", 0x10000);
    struct mem_region *a = ram_filled(f, "a", 0x1000, 0xAA);
    struct mem_region *b = ram_filled(f, "b", 0x1000, 0xBB);
    mem_region_add(box, a, 0x0, 0);
    mem_region_add(box, b, 0x4000, 0);
    mem_region_add(f->root, box, 0x100000, 0);

    assert_int_equal(mem_read(f->as, 0x100000, 1), 0xAA);
    assert_int_equal(mem_read(f->as, 0x104000, 1), 0xBB);
    assert_null(mem_space_lookup(f->as, 0x102000)); /* a container itself answers nowhere */
    assert_int_equal(mem_read(f->as, 0x102000, 4), 0xFFFFFFFF);
    assert_null(mem_space_lookup(f->as, 0x0));
}

static void test_container_clips_children_to_its_size(void **state)
{
    struct fixture *f = *state;
    struct mem_region *box = mem_region_container(&f->sys, "box", 0x1000);
    struct mem_region *big = ram_filled(f, "big", 0x4000, 0x5A);
    mem_region_add(box, big, 0x0, 0);
    mem_region_add(f->root, box, 0x10000, 0);

    assert_int_equal(mem_read(f->as, 0x10FFF, 1), 0x5A);
    assert_null(mem_space_lookup(f->as, 0x11000));
}

static void test_container_priority_orders_whole_subtrees(void **state)
{
    struct fixture *f = *state;
    struct mem_region *hi_box = mem_region_container(&f->sys, "hi", 0x10000);
    struct mem_region *lo_box = mem_region_container(&f->sys, "lo", 0x10000);
    /* Priorities inside a container do not compete with other containers. */
    mem_region_add(hi_box, ram_filled(f, "h", 0x1000, 0x01), 0x0, -5);
    mem_region_add(lo_box, ram_filled(f, "l", 0x2000, 0x02), 0x0, 100);
    mem_region_add(f->root, lo_box, 0, 0);
    mem_region_add(f->root, hi_box, 0, 1);

    assert_int_equal(mem_read(f->as, 0x0000, 1), 0x01);
    assert_int_equal(mem_read(f->as, 0x1000, 1), 0x02); /* falls through to the lower box */
}

/* ---- aliases ---- */

static void test_alias_shows_target_bytes_from_its_offset(void **state)
{
    struct fixture *f = *state;
    struct mem_region *ram = mem_region_ram(&f->sys, "pc.ram", 0x10000);
    for (unsigned k = 0; k < 0x10000; k++)
        ram->block->host[k] = (uint8_t)(k >> 8);
    mem_region_add(f->root, mem_region_alias(&f->sys, "lo", ram, 0x0, 0x4000), 0x0, 0);
    mem_region_add(f->root, mem_region_alias(&f->sys, "hi", ram, 0x8000, 0x2000), 0x100000, 0);

    assert_int_equal(mem_read(f->as, 0x3F00, 1), 0x3F);
    assert_int_equal(mem_read(f->as, 0x100000, 1), 0x80);
    assert_int_equal(mem_read(f->as, 0x101F00, 1), 0x9F);
    assert_null(mem_space_lookup(f->as, 0x102000)); /* alias size bounds the window */

    mem_write(f->as, 0x100010, 0xC3, 1); /* writes reach the target */
    assert_int_equal(ram->block->host[0x8010], 0xC3);
    const struct flat_range *r = mem_space_lookup(f->as, 0x100010);
    assert_ptr_equal(r->mr, ram);
    assert_int_equal(r->offset + (0x100010 - r->start), 0x8010);
}

/* An alias placed below the offset it shows (isa-bios, high SMRAM do this). */
static void test_alias_with_offset_above_its_address_shows_target(void **state)
{
    struct fixture *f = *state;
    struct mem_region *ram = mem_region_ram(&f->sys, "pc.ram", 0x100000);
    ram->block->host[0xA0000] = 0x5A;
    ram->block->host[0xBFFFF] = 0xA5;
    mem_region_add(f->root, mem_region_alias(&f->sys, "low-window", ram, 0xA0000, 0x20000), 0x1000,
                   0);

    assert_int_equal(mem_read(f->as, 0x1000, 1), 0x5A);
    assert_int_equal(mem_read(f->as, 0x20FFF, 1), 0xA5);
    const struct flat_range *r = mem_space_lookup(f->as, 0x1000);
    assert_non_null(r);
    assert_ptr_equal(r->mr, ram);
    assert_int_equal(r->offset, 0xA0000);
}

static void test_alias_of_container_shows_its_children(void **state)
{
    struct fixture *f = *state;
    struct mem_region *box = mem_region_container(&f->sys, "box", 0x10000);
    mem_region_add(box, ram_filled(f, "r", 0x1000, 0x77), 0x2000, 0);
    mem_region_add(f->root, mem_region_alias(&f->sys, "view", box, 0x1000, 0x4000), 0x50000, 0);

    assert_null(mem_space_lookup(f->as, 0x50000));       /* box 0x1000: empty */
    assert_int_equal(mem_read(f->as, 0x51000, 1), 0x77); /* box 0x2000 */
    assert_int_equal(mem_read(f->as, 0x51FFF, 1), 0x77);
    assert_null(mem_space_lookup(f->as, 0x52000));
}

static void test_alias_offset_change_moves_the_window(void **state)
{
    struct fixture *f = *state;
    struct mem_region *ram = mem_region_ram(&f->sys, "ram", 0x4000);
    ram->block->host[0x0000] = 1;
    ram->block->host[0x3000] = 4;
    struct mem_region *al = mem_region_alias(&f->sys, "al", ram, 0x0, 0x1000);
    mem_region_add(f->root, al, 0x8000, 0);
    assert_int_equal(mem_read(f->as, 0x8000, 1), 1);
    mem_region_set_alias_offset(al, 0x3000);
    assert_int_equal(mem_read(f->as, 0x8000, 1), 4);
}

static void test_readonly_alias_reads_target_and_drops_writes(void **state)
{
    struct fixture *f = *state;
    struct mem_region *ram = ram_filled(f, "ram", 0x2000, 0x3C);
    struct mem_region *ro = mem_region_alias(&f->sys, "ro", ram, 0x0, 0x2000);
    mem_region_set_readonly(ro, true);
    mem_region_add(f->root, ro, 0x10000, 0);
    mem_region_add(f->root, mem_region_alias(&f->sys, "rw", ram, 0x0, 0x2000), 0x20000, 0);

    assert_int_equal(mem_read(f->as, 0x10004, 4), 0x3C3C3C3C);
    mem_write(f->as, 0x10004, 0xDEADBEEF, 4);
    assert_int_equal(mem_read(f->as, 0x10004, 4), 0x3C3C3C3C);
    assert_int_equal(ram->block->host[4], 0x3C);
    assert_true(mem_space_lookup(f->as, 0x10000)->readonly);

    /* The same bytes stay writable through a normal alias, and the read-only
     * window shows the change. */
    mem_write(f->as, 0x20004, 0xDEADBEEF, 4);
    assert_int_equal(mem_read(f->as, 0x10004, 4), 0xDEADBEEF);
    assert_false(mem_space_lookup(f->as, 0x20000)->readonly);
}

static void test_rom_reads_contents_and_drops_writes(void **state)
{
    struct fixture *f = *state;
    struct mem_region *rom = mem_region_rom(&f->sys, "pc.bios", 0x10000);
    memset(rom->block->host, 0xEA, 0x10000);
    mem_region_add(f->root, rom, 0xFFFF0000ull, 0);

    assert_int_equal(mem_read(f->as, 0xFFFFFFF0ull, 1), 0xEA);
    mem_write(f->as, 0xFFFFFFF0ull, 0x90, 1);
    mem_write(f->as, 0xFFFFFFF0ull, 0x9090909090909090ull, 8);
    assert_int_equal(mem_read(f->as, 0xFFFFFFF0ull, 8), 0xEAEAEAEAEAEAEAEAull);
    assert_string_equal(mem_region_type_name(rom), "rom");
}

/* ---- enable bits and sizes ---- */

static void test_disabled_region_shows_what_lies_underneath(void **state)
{
    struct fixture *f = *state;
    struct mem_region *under = ram_filled(f, "under", 0x10000, 0x11);
    struct mem_region *over = ram_filled(f, "over", 0x1000, 0x22);
    mem_region_add(f->root, under, 0, 0);
    mem_region_add(f->root, over, 0x4000, 1);
    assert_int_equal(mem_read(f->as, 0x4000, 1), 0x22);

    mem_region_set_enabled(over, false);
    assert_int_equal(mem_read(f->as, 0x4000, 1), 0x11);
    mem_write(f->as, 0x4000, 0x99, 1);
    assert_int_equal(under->block->host[0x4000], 0x99);
    assert_int_equal(over->block->host[0], 0x22);

    mem_region_set_enabled(over, true);
    assert_int_equal(mem_read(f->as, 0x4000, 1), 0x22);
}

static void test_disabled_container_hides_all_its_children(void **state)
{
    struct fixture *f = *state;
    struct mem_region *box = mem_region_container(&f->sys, "box", 0x10000);
    mem_region_add(box, ram_filled(f, "child", 0x1000, 0x44), 0, 0);
    mem_region_add(f->root, box, 0x20000, 5);
    mem_region_add(f->root, ram_filled(f, "floor", 0x100000, 0x01), 0, 0);
    assert_int_equal(mem_read(f->as, 0x20000, 1), 0x44);
    mem_region_set_enabled(box, false);
    assert_int_equal(mem_read(f->as, 0x20000, 1), 0x01);
}

static void test_disabled_blackhole_lets_ram_through(void **state)
{
    struct fixture *f = *state;
    mem_region_add(f->root, ram_filled(f, "ram", 0x100000, 0x66), 0, 0);
    struct mem_region *bh = mem_region_blackhole(&f->sys, "bh", 0x20000);
    mem_region_add(f->root, bh, 0x30000, 1);
    assert_int_equal(mem_read(f->as, 0x30000, 1), 0xFF);
    mem_region_set_enabled(bh, false);
    assert_int_equal(mem_read(f->as, 0x30000, 1), 0x66);
}

static void test_zero_sized_region_claims_nothing(void **state)
{
    struct fixture *f = *state;
    struct mem_region *ram = ram_filled(f, "ram", 0x10000, 0x12);
    mem_region_add(f->root, ram, 0, 0);
    mem_region_add(f->root, mem_region_blackhole(&f->sys, "tseg-blackhole", 0), 0x8000, 1);
    mem_region_add(f->root, mem_region_alias(&f->sys, "empty-alias", ram, 0x100, 0), 0x9000, 1);

    assert_int_equal(mem_read(f->as, 0x8000, 1), 0x12);
    assert_int_equal(mem_read(f->as, 0x9000, 1), 0x12);
    assert_int_equal(f->as->n_ranges, 1);
}

static void test_region_resize_and_move_rebuild_the_view(void **state)
{
    struct fixture *f = *state;
    struct mem_region *bh = mem_region_blackhole(&f->sys, "bh", 0);
    mem_region_add(f->root, ram_filled(f, "ram", 0x100000, 0x00), 0, 0);
    mem_region_add(f->root, bh, 0x8000, 1);
    assert_int_equal(mem_read(f->as, 0x8000, 1), 0x00);
    mem_region_set_size(bh, 0x1000);
    assert_int_equal(mem_read(f->as, 0x8000, 1), 0xFF);
    assert_int_equal(mem_read(f->as, 0x9000, 1), 0x00);
    mem_region_set_address(bh, 0x20000);
    assert_int_equal(mem_read(f->as, 0x8000, 1), 0x00);
    assert_int_equal(mem_read(f->as, 0x20FFF, 1), 0xFF);
}

/* ---- MMIO ---- */

static void test_mmio_receives_offset_size_and_value(void **state)
{
    struct fixture *f = *state;
    struct mmio_log log = {0};
    static const struct mem_ops ops = {"dev", dev_read, dev_write, 1, 8};
    mem_region_add(f->root, mem_region_mmio(&f->sys, "dev", 0x40, &ops, &log), 0xFEC00000ull, 0);

    mem_write(f->as, 0xFEC00010ull, 0xCAFEF00D, 4);
    assert_int_equal(log.n, 1);
    assert_true(log.op[0].write);
    assert_int_equal(log.op[0].offset, 0x10);
    assert_int_equal(log.op[0].size, 4);
    assert_int_equal(log.op[0].value, 0xCAFEF00D);

    assert_int_equal(mem_read(f->as, 0xFEC00012ull, 2), 0xCAFE);
    assert_int_equal(log.n, 2);
    assert_false(log.op[1].write);
    assert_int_equal(log.op[1].offset, 0x12);
    assert_int_equal(log.op[1].size, 2);
    assert_string_equal(mem_region_type_name(mem_space_lookup(f->as, 0xFEC00000ull)->mr), "i/o");
}

static void test_mmio_access_wider_than_max_is_split_little_endian(void **state)
{
    struct fixture *f = *state;
    struct mmio_log log = {0};
    static const struct mem_ops ops = {"dev", dev_read, dev_write, 1, 2};
    mem_region_add(f->root, mem_region_mmio(&f->sys, "dev", 0x40, &ops, &log), 0x1000, 0);

    mem_write(f->as, 0x1000, 0x8877665544332211ull, 8);
    assert_int_equal(log.n, 4);
    for (unsigned k = 0; k < 4; k++) {
        assert_true(log.op[k].write);
        assert_int_equal(log.op[k].size, 2);
        assert_int_equal(log.op[k].offset, 2 * k);
    }
    assert_int_equal(log.op[0].value, 0x2211);
    assert_int_equal(log.op[3].value, 0x8877);

    log.n = 0;
    assert_int_equal(mem_read(f->as, 0x1000, 4), 0x44332211);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.op[0].size, 2);
    assert_int_equal(log.op[1].offset, 2);
}

static void test_mmio_access_narrower_than_min_is_widened_to_aligned_access(void **state)
{
    struct fixture *f = *state;
    struct mmio_log log = {0};
    static const struct mem_ops ops = {"dev", dev_read, dev_write, 4, 4};
    mem_region_add(f->root, mem_region_mmio(&f->sys, "dev", 0x40, &ops, &log), 0x2000, 0);
    log.regs[4] = 0x11, log.regs[5] = 0x22, log.regs[6] = 0x33, log.regs[7] = 0x44;

    assert_int_equal(mem_read(f->as, 0x2006, 1), 0x33);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.op[0].offset, 4);
    assert_int_equal(log.op[0].size, 4);

    assert_int_equal(mem_read(f->as, 0x2006, 2), 0x4433);
    assert_int_equal(log.op[1].offset, 4);
    assert_int_equal(log.op[1].size, 4);

    log.n = 0;
    mem_write(f->as, 0x2005, 0xAB, 1);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.op[0].offset, 4);
    assert_int_equal(log.op[0].size, 4);
    assert_int_equal(log.op[0].value, 0xAB00); /* zero-extended into the aligned word */
}

static void test_mmio_default_limits_pass_all_sizes_through(void **state)
{
    struct fixture *f = *state;
    struct mmio_log log = {0};
    static const struct mem_ops ops = {"dev", dev_read, dev_write, 0, 0};
    mem_region_add(f->root, mem_region_mmio(&f->sys, "dev", 0x40, &ops, &log), 0x3000, 0);
    static const unsigned sizes[] = {1, 2, 4, 8};
    for (unsigned k = 0; k < 4; k++) {
        mem_write(f->as, 0x3008, 0x0102030405060708ull, sizes[k]);
        assert_int_equal(log.op[log.n - 1].size, sizes[k]);
    }
    assert_int_equal(log.n, 4);
    mem_read(f->as, 0x3001, 8);
    assert_int_equal(log.op[4].size, 8);
    assert_int_equal(log.op[4].offset, 1);
}

static void test_partly_covered_mmio_keeps_its_own_offsets(void **state)
{
    struct fixture *f = *state;
    struct mmio_log log = {0};
    static const struct mem_ops ops = {"dev", dev_read, dev_write, 1, 8};
    mem_region_add(f->root, mem_region_mmio(&f->sys, "dev", 0x40, &ops, &log), 0x1000, 0);
    mem_region_add(f->root, ram_filled(f, "cover", 0x10, 0x00), 0x1000, 1);
    mem_write(f->as, 0x1010, 0x5A, 1);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.op[0].offset, 0x10); /* not 0: the range starts inside the device */
    const struct flat_range *r = mem_space_lookup(f->as, 0x1010);
    assert_int_equal(r->start, 0x1010);
    assert_int_equal(r->offset, 0x10);
}

static void test_alias_of_alias_adds_both_offsets(void **state)
{
    struct fixture *f = *state;
    struct mem_region *ram = mem_region_ram(&f->sys, "ram", 0x10000);
    ram->block->host[0x3456] = 0x77;
    struct mem_region *inner = mem_region_alias(&f->sys, "inner", ram, 0x3000, 0x2000);
    struct mem_region *outer = mem_region_alias(&f->sys, "outer", inner, 0x400, 0x100);
    mem_region_add(f->root, outer, 0x80000, 0);
    assert_int_equal(mem_read(f->as, 0x80056, 1), 0x77);
    assert_null(mem_space_lookup(f->as, 0x80100));
    assert_string_equal(mem_region_type_name(outer), "ram");
}

static void test_mmio_odd_sized_access_touches_only_its_bytes(void **state)
{
    struct fixture *f = *state;
    struct mmio_log log = {0};
    static const struct mem_ops ops = {"dev", dev_read, dev_write, 1, 2};
    mem_region_add(f->root, mem_region_mmio(&f->sys, "dev", 0x40, &ops, &log), 0x1000, 0);
    for (unsigned k = 0; k < 8; k++)
        log.regs[k] = (uint8_t)(0x10 + k);
    /* mem_read/mem_write take any size 1..8 (memory.h); a 3-byte access
     * must return and change exactly three bytes. */
    assert_int_equal(mem_read(f->as, 0x1000, 3), 0x121110);
    mem_write(f->as, 0x1000, 0xAABBCC, 3);
    assert_int_equal(log.regs[0], 0xCC);
    assert_int_equal(log.regs[2], 0xAA);
    assert_int_equal(log.regs[3], 0x13);
    for (unsigned k = 0; k < log.n; k++)
        assert_true(log.op[k].size == 1 || log.op[k].size == 2);
}

/* ---- black holes, unassigned, straddling ---- */

static void test_blackhole_reads_all_ones_at_each_width_and_drops_writes(void **state)
{
    struct fixture *f = *state;
    struct mem_region *ram = mem_region_ram(&f->sys, "ram", 0x100000);
    mem_region_add(f->root, ram, 0, 0);
    mem_region_add(f->root, mem_region_blackhole(&f->sys, "tseg-blackhole", 0x10000), 0x80000, 1);

    assert_int_equal(mem_read(f->as, 0x80000, 1), 0xFF);
    assert_int_equal(mem_read(f->as, 0x80002, 2), 0xFFFF);
    assert_int_equal(mem_read(f->as, 0x80004, 4), 0xFFFFFFFFu);
    assert_int_equal(mem_read(f->as, 0x80008, 8), UINT64_MAX);
    assert_int_equal(mem_read(f->as, 0x8FFF8, 8), UINT64_MAX);

    mem_write(f->as, 0x80000, 0x12, 1);
    mem_write(f->as, 0x80002, 0x1234, 2);
    mem_write(f->as, 0x80004, 0x12345678, 4);
    mem_write(f->as, 0x80008, 0x123456789ABCDEF0ull, 8);
    for (unsigned k = 0; k < 16; k++)
        assert_int_equal(ram->block->host[0x80000 + k], 0);
    assert_int_equal(mem_read(f->as, 0x80008, 8), UINT64_MAX);
    assert_string_equal(mem_region_type_name(mem_space_lookup(f->as, 0x80000)->mr), "i/o");
}

static void test_unassigned_address_reads_all_ones_and_ignores_writes(void **state)
{
    struct fixture *f = *state;
    assert_null(mem_space_lookup(f->as, 0x1234));
    assert_int_equal(mem_read(f->as, 0x1234, 1), 0xFF);
    assert_int_equal(mem_read(f->as, 0x1234, 2), 0xFFFF);
    assert_int_equal(mem_read(f->as, 0x1234, 4), 0xFFFFFFFFu);
    assert_int_equal(mem_read(f->as, 0x1234, 8), UINT64_MAX);
    mem_write(f->as, 0x1234, 0, 8); /* must not crash or map anything */
    assert_int_equal(mem_read(f->as, 0x1234, 8), UINT64_MAX);
    assert_int_equal(mem_read(f->as, UINT64_MAX, 1), 0xFF);
}

static void test_access_straddling_ram_and_unassigned_merges_bytes(void **state)
{
    struct fixture *f = *state;
    struct mem_region *ram = ram_filled(f, "ram", 0x1000, 0x00);
    mem_region_add(f->root, ram, 0x1000, 0);
    ram->block->host[0xFFE] = 0x34;
    ram->block->host[0xFFF] = 0x12;

    assert_int_equal(mem_read(f->as, 0x1FFE, 4), 0xFFFF1234u);
    assert_int_equal(mem_read(f->as, 0x0FFE, 4), 0x0000FFFFu); /* gap below, RAM above */
    mem_write(f->as, 0x1FFE, 0xAABBCCDD, 4);
    assert_int_equal(ram->block->host[0xFFE], 0xDD);
    assert_int_equal(ram->block->host[0xFFF], 0xCC);
}

static void test_access_straddling_two_regions_reaches_both(void **state)
{
    struct fixture *f = *state;
    struct mem_region *a = ram_filled(f, "a", 0x1000, 0);
    struct mem_region *b = ram_filled(f, "b", 0x1000, 0);
    struct mmio_log log = {0};
    static const struct mem_ops ops = {"dev", dev_read, dev_write, 1, 8};
    mem_region_add(f->root, a, 0x0, 0);
    mem_region_add(f->root, b, 0x1000, 0);
    mem_region_add(f->root, mem_region_mmio(&f->sys, "dev", 0x40, &ops, &log), 0x2000, 0);

    mem_write(f->as, 0x0FFC, 0x8877665544332211ull, 8);
    assert_int_equal(a->block->host[0xFFC], 0x11);
    assert_int_equal(a->block->host[0xFFF], 0x44);
    assert_int_equal(b->block->host[0x000], 0x55);
    assert_int_equal(b->block->host[0x003], 0x88);
    assert_int_equal(mem_read(f->as, 0x0FFC, 8), 0x8877665544332211ull);

    mem_write(f->as, 0x1FFE, 0xDDCCBBAA, 4); /* RAM then MMIO */
    assert_int_equal(b->block->host[0xFFE], 0xAA);
    assert_int_equal(b->block->host[0xFFF], 0xBB);
    assert_int_equal(log.regs[0], 0xCC);
    assert_int_equal(log.regs[1], 0xDD);
    assert_int_equal(mem_read(f->as, 0x1FFE, 4), 0xDDCCBBAA);
}

static void test_bulk_copies_cross_regions_and_gaps(void **state)
{
    struct fixture *f = *state;
    struct mem_region *a = ram_filled(f, "a", 0x1000, 0);
    mem_region_add(f->root, a, 0x0, 0);
    mem_region_add(f->root, mem_region_blackhole(&f->sys, "bh", 0x10), 0x1000, 0);
    uint8_t out[8] = {1, 2, 3, 4, 5, 6, 7, 8}, in[8];
    mem_write_buf(f->as, 0xFFC, out, 8);
    mem_read_buf(f->as, 0xFFC, in, 8);
    assert_memory_equal(in, ((uint8_t[]){1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF}), 8);
}

/* ---- pages for the TLB ---- */

static void test_space_page_gives_host_pointer_only_for_whole_ram_page(void **state)
{
    struct fixture *f = *state;
    struct mem_region *ram = mem_region_ram(&f->sys, "ram", 0x10000);
    struct mmio_log log = {0};
    static const struct mem_ops ops = {"dev", dev_read, dev_write, 1, 8};
    mem_region_add(f->root, ram, 0x0, 0);
    mem_region_add(f->root, mem_region_mmio(&f->sys, "dev", 0x40, &ops, &log), 0x5000, 1);
    mem_region_add(f->root, mem_region_blackhole(&f->sys, "bh", 0x1000), 0x6000, 1);
    struct mem_region *small = mem_region_ram(&f->sys, "small", 0x800);
    mem_region_add(f->root, small, 0x20000, 0);
    struct mem_page p;

    mem_space_page(f->as, 0x3000, &p);
    assert_ptr_equal(p.host, ram->block->host + 0x3000);
    assert_ptr_equal(p.block, ram->block);
    assert_int_equal(p.block_offset, 0x3000);
    assert_true(p.writable);

    mem_space_page(f->as, 0x5000, &p); /* MMIO over part of the page */
    assert_null(p.host);
    mem_space_page(f->as, 0x6000, &p); /* black hole */
    assert_null(p.host);
    mem_space_page(f->as, 0x20000, &p); /* RAM for half the page, then nothing */
    assert_null(p.host);
    mem_space_page(f->as, 0x30000, &p); /* unassigned */
    assert_null(p.host);
    mem_space_page(f->as, 0x4000, &p); /* untouched neighbour of the MMIO page */
    assert_ptr_equal(p.host, ram->block->host + 0x4000);
}

static void test_space_page_of_split_page_has_no_host_pointer(void **state)
{
    struct fixture *f = *state;
    mem_region_add(f->root, mem_region_ram(&f->sys, "a", 0x1800), 0x0, 0);
    mem_region_add(f->root, mem_region_ram(&f->sys, "b", 0x1800), 0x1800, 0);
    struct mem_page p;
    mem_space_page(f->as, 0x1000, &p); /* two RAM blocks inside one page */
    assert_null(p.host);
    mem_space_page(f->as, 0x0000, &p);
    assert_non_null(p.host);
}

static void test_space_page_of_rom_and_readonly_alias_is_not_writable(void **state)
{
    struct fixture *f = *state;
    struct mem_region *rom = mem_region_rom(&f->sys, "rom", 0x2000);
    struct mem_region *ram = mem_region_ram(&f->sys, "ram", 0x2000);
    struct mem_region *ro = mem_region_alias(&f->sys, "pam-rom", ram, 0x1000, 0x1000);
    mem_region_set_readonly(ro, true);
    mem_region_add(f->root, rom, 0x10000, 0);
    mem_region_add(f->root, ro, 0x20000, 0);
    struct mem_page p;

    mem_space_page(f->as, 0x11000, &p);
    assert_ptr_equal(p.host, rom->block->host + 0x1000);
    assert_false(p.writable);
    mem_space_page(f->as, 0x20000, &p);
    assert_ptr_equal(p.host, ram->block->host + 0x1000);
    assert_int_equal(p.block_offset, 0x1000);
    assert_false(p.writable);
}

/* ---- change notification ---- */

static void test_every_map_change_bumps_generation_and_calls_hook(void **state)
{
    struct fixture *f = *state;
    struct mem_region *ram = mem_region_ram(&f->sys, "ram", 0x1000);
    struct mem_region *al = mem_region_alias(&f->sys, "al", ram, 0, 0x1000);
    uint64_t gen = f->sys.generation;
    unsigned calls = f->hook_calls;
#define EXPECT_CHANGE(stmt)                                                               \
    do {                                                                                  \
        stmt;                                                                             \
        assert_int_equal(f->sys.generation, ++gen);                                       \
        assert_int_equal(f->hook_calls, ++calls);                                         \
        assert_true(f->as->dirty);                                                        \
        mem_space_lookup(f->as, 0); /* rebuild, so the next change must dirty it again */ \
    } while (0)
    EXPECT_CHANGE(mem_region_add(f->root, al, 0x4000, 0));
    EXPECT_CHANGE(mem_region_set_enabled(al, false));
    EXPECT_CHANGE(mem_region_set_enabled(al, true));
    EXPECT_CHANGE(mem_region_set_address(al, 0x8000));
    EXPECT_CHANGE(mem_region_set_size(al, 0x800));
    EXPECT_CHANGE(mem_region_set_readonly(al, true));
    EXPECT_CHANGE(mem_region_set_alias_offset(al, 0x800));
#undef EXPECT_CHANGE
    /* Reads and lookups are not changes. */
    mem_read(f->as, 0x8000, 4);
    assert_int_equal(f->sys.generation, gen);
    assert_int_equal(f->hook_calls, calls);
}

/* ---- the SMM/normal visibility matrix (platform.md §2.8, §2.9) ---- */

struct smm_model {
    struct mem_system sys;
    struct mem_region *system, *ram, *pci, *smbase_bh, *smram, *smbase_window, *smm_root;
    struct address_space *normal, *smm;
};

static void smm_model_free(struct smm_model *m)
{
    if (!m)
        return;
    mem_system_free(&m->sys);
    free(m);
}

/* Builds the model into the fixture's next free slot. */
static struct smm_model *smm_model_new(struct fixture *f)
{
    struct smm_model *m = calloc(1, sizeof(*m));
    f->models[f->models[0] ? 1 : 0] = m;
    mem_system_init(&m->sys);
    m->system = mem_region_container(&m->sys, "system", FULL);
    m->ram = mem_region_ram(&m->sys, "pc.ram", 0x100000);
    mem_region_add(m->system, mem_region_alias(&m->sys, "ram-below-4g", m->ram, 0, 0x100000), 0, 0);
    m->pci = mem_region_container(&m->sys, "pci", FULL);
    mem_region_add(m->system, m->pci, 0, -1);
    m->smbase_bh = mem_region_blackhole(&m->sys, "smbase-blackhole", 0x20000);
    mem_region_set_enabled(m->smbase_bh, false);
    mem_region_add(m->system, m->smbase_bh, 0x30000, 1);
    m->smram = mem_region_container(&m->sys, "smram", 0x100000000ull);
    m->smbase_window = mem_region_alias(&m->sys, "smbase-window", m->ram, 0x30000, 0x20000);
    mem_region_set_enabled(m->smbase_window, false);
    mem_region_add(m->smram, m->smbase_window, 0x30000, 0);
    m->smm_root = mem_region_container(&m->sys, "memory", FULL);
    mem_region_add(m->smm_root, mem_region_alias(&m->sys, "smram", m->smram, 0, 0x100000000ull), 0,
                   1);
    mem_region_add(m->smm_root, mem_region_alias(&m->sys, "memory", m->system, 0, FULL), 0, 0);
    m->normal = mem_space_create(&m->sys, "memory", m->system);
    m->smm = mem_space_create(&m->sys, "cpu-smm-0", m->smm_root);
    return m;
}

static void smm_model_lock(struct smm_model *m)
{
    mem_region_set_enabled(m->smbase_bh, true);
    mem_region_set_enabled(m->smbase_window, true);
}

static void test_smbase_range_is_ram_in_both_views_before_lock(void **state)
{
    struct smm_model *m = smm_model_new(*state);
    mem_write(m->normal, 0x38000, 0x11223344, 4);
    assert_int_equal(mem_read(m->normal, 0x38000, 4), 0x11223344);
    assert_int_equal(mem_read(m->smm, 0x38000, 4), 0x11223344);
    mem_write(m->smm, 0x3FF00, 0x55667788, 4);
    assert_int_equal(mem_read(m->normal, 0x3FF00, 4), 0x55667788);
    assert_int_equal(m->ram->block->host[0x3FF00], 0x88);
}

static void test_locked_smbase_range_is_blackhole_normally_and_ram_in_smm(void **state)
{
    struct smm_model *m = smm_model_new(*state);
    mem_write(m->normal, 0x38000, 0xA5A5A5A5, 4); /* before the lock */
    smm_model_lock(m);

    /* Normal view (non-SMM CPU, DMA, monitor): black hole at every width. */
    assert_int_equal(mem_read(m->normal, 0x38000, 1), 0xFF);
    assert_int_equal(mem_read(m->normal, 0x38000, 2), 0xFFFF);
    assert_int_equal(mem_read(m->normal, 0x38000, 4), 0xFFFFFFFFu);
    assert_int_equal(mem_read(m->normal, 0x38000, 8), UINT64_MAX);
    mem_write(m->normal, 0x38000, 0x12345678, 4);
    assert_int_equal(m->ram->block->host[0x38000], 0xA5);

    /* SMM view: the same RAM bytes, readable and writable. */
    assert_int_equal(mem_read(m->smm, 0x38000, 4), 0xA5A5A5A5);
    mem_write(m->smm, 0x38004, 0xCAFEBABE, 4);
    assert_int_equal(mem_read(m->smm, 0x38004, 4), 0xCAFEBABE);
    assert_int_equal(mem_read(m->normal, 0x38004, 4), 0xFFFFFFFFu);
    assert_int_equal(m->ram->block->host[0x38004], 0xBE);

    /* Both edges of the window. */
    assert_int_equal(mem_read(m->normal, 0x2FFFF, 1), 0x00);
    assert_int_equal(mem_read(m->normal, 0x30000, 1), 0xFF);
    assert_int_equal(mem_read(m->normal, 0x4FFFF, 1), 0xFF);
    assert_int_equal(mem_read(m->normal, 0x50000, 1), 0x00);
    const struct flat_range *r = mem_space_lookup(m->smm, 0x30000);
    assert_ptr_equal(r->mr, m->ram);
    assert_int_equal(r->offset + (0x30000 - r->start), 0x30000);
}

static void test_smm_view_falls_through_to_normal_view_outside_windows(void **state)
{
    struct smm_model *m = smm_model_new(*state);
    smm_model_lock(m);
    mem_write(m->normal, 0x60000, 0x0BADF00D, 4);
    assert_int_equal(mem_read(m->smm, 0x60000, 4), 0x0BADF00D);
    mem_write(m->smm, 0x10000, 0x77, 1);
    assert_int_equal(mem_read(m->normal, 0x10000, 1), 0x77);
    /* Above RAM nothing is mapped in either view. */
    assert_int_equal(mem_read(m->normal, 0x200000, 4), 0xFFFFFFFFu);
    assert_int_equal(mem_read(m->smm, 0x200000, 4), 0xFFFFFFFFu);
    assert_null(mem_space_lookup(m->smm, 0x200000));
}

static void test_smm_view_sees_normal_blackholes_where_no_window_is_enabled(void **state)
{
    struct smm_model *m = smm_model_new(*state);
    mem_region_set_enabled(m->smbase_bh, true); /* black hole on, window still off */
    assert_int_equal(mem_read(m->smm, 0x38000, 4), 0xFFFFFFFFu);
    assert_int_equal(mem_read(m->normal, 0x38000, 4), 0xFFFFFFFFu);
    mem_region_set_enabled(m->smbase_window, true);
    assert_int_equal(mem_read(m->smm, 0x38000, 4), 0);
}

/* ---- `info mtree` text (platform.md §2.10) ---- */

/* Prints into a string the fixture owns (teardown frees it). */
static char *capture(struct fixture *f, void (*print)(struct mem_system *, FILE *),
                     struct mem_system *sys)
{
    free(f->text);
    f->text = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    print(sys, out);
    fclose(out);
    f->text = buf;
    return buf;
}

/* Splits text into blank-line separated sections and checks that `got` has
 * exactly the sections of `want`: address-space sections in order first,
 * memory-region sections in any order. */
static void assert_sections(const char *got, const char *const *want, unsigned n_ordered,
                            unsigned n_total)
{
    static const size_t cap = 8192;
    char copy_buf[8192];
    assert_true(strlen(got) < cap);
    strcpy(copy_buf, got);
    char *copy = copy_buf;
    char *sections[32];
    unsigned n = 0;
    char *p = copy;
    while (*p && n < 32) {
        char *end = strstr(p, "\n\n");
        if (end)
            end[1] = '\0';
        sections[n++] = p;
        if (!end)
            break;
        p = end + 2;
    }
    if (n != n_total)
        print_error("got %u sections, want %u; output:\n%s", n, n_total, got);
    assert_int_equal(n, n_total);
    for (unsigned k = 0; k < n_ordered; k++)
        assert_string_equal(sections[k], want[k]);
    for (unsigned k = n_ordered; k < n_total; k++) {
        bool found = false;
        for (unsigned j = n_ordered; j < n; j++)
            found |= strcmp(sections[j], want[k]) == 0;
        if (!found)
            print_error("missing section:\n%s\nin output:\n%s", want[k], got);
        assert_true(found);
    }
}

static const char tree_system_open[] =
    "address-space: memory\n"
    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
    "    0000000000000000-00000000000fffff (prio 0, ram): alias ram-below-4g @pc.ram "
    "0000000000000000-00000000000fffff\n"
    "    0000000000000000-ffffffffffffffff (prio -1, i/o): pci\n"
    "    0000000000030000-000000000004ffff (prio 1, i/o): smbase-blackhole [disabled]\n";
static const char tree_smm[] =
    "address-space: cpu-smm-0\n"
    "  0000000000000000-ffffffffffffffff (prio 0, i/o): memory\n"
    "    0000000000000000-00000000ffffffff (prio 1, i/o): alias smram @smram "
    "0000000000000000-00000000ffffffff\n"
    "    0000000000000000-ffffffffffffffff (prio 0, i/o): alias memory @system "
    "0000000000000000-ffffffffffffffff\n";
static const char tree_pc_ram[] = "memory-region: pc.ram\n"
                                  "  0000000000000000-00000000000fffff (prio 0, ram): pc.ram\n";
static const char tree_smram_open[] =
    "memory-region: smram\n"
    "  0000000000000000-00000000ffffffff (prio 0, i/o): smram\n"
    "    0000000000030000-000000000004ffff (prio 0, ram): alias smbase-window @pc.ram "
    "0000000000030000-000000000004ffff [disabled]\n";

static void test_print_tree_shows_spaces_regions_and_alias_targets(void **state)
{
    struct smm_model *m = smm_model_new(*state);
    char *text = capture(*state, mem_print_tree, &m->sys);
    const char *want[] = {tree_system_open, tree_smm, tree_pc_ram, tree_smram_open};
    assert_sections(text, want, 2, 4);
}

static void test_print_tree_drops_disabled_marks_after_lock(void **state)
{
    struct smm_model *m = smm_model_new(*state);
    smm_model_lock(m);
    char *text = capture(*state, mem_print_tree, &m->sys);
    assert_non_null(strstr(text, "    0000000000030000-000000000004ffff (prio 1, i/o): "
                                 "smbase-blackhole\n"));
    assert_non_null(strstr(text, "    0000000000030000-000000000004ffff (prio 0, ram): alias "
                                 "smbase-window @pc.ram 0000000000030000-000000000004ffff\n"));
    assert_null(strstr(text, "[disabled]"));
}

static void test_print_tree_lists_every_space_sharing_a_root_once(void **state)
{
    struct fixture *f = *state;
    mem_space_create(&f->sys, "cpu-memory-0", f->root);
    mem_region_add(f->root, mem_region_ram(&f->sys, "ram", 0x1000), 0, 0);
    char *text = capture(*state, mem_print_tree, &f->sys);
    assert_string_equal(text, "address-space: memory\n"
                              "address-space: cpu-memory-0\n"
                              "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
                              "    0000000000000000-0000000000000fff (prio 0, ram): ram\n"
                              "\n");
}

static void test_print_tree_orders_siblings_by_address_priority_creation(void **state)
{
    struct fixture *f = *state;
    struct mem_region *c = mem_region_blackhole(&f->sys, "c", 0x1000);
    struct mem_region *b = mem_region_blackhole(&f->sys, "b", 0x1000);
    struct mem_region *a = mem_region_blackhole(&f->sys, "a", 0x1000);
    struct mem_region *z = mem_region_blackhole(&f->sys, "z", 0);
    mem_region_add(f->root, a, 0x2000, 0);
    mem_region_add(f->root, b, 0x1000, 0);
    mem_region_add(f->root, c, 0x1000, 0); /* same address and prio: creation order */
    mem_region_add(f->root, z, 0x1000, 3);
    char *text = capture(*state, mem_print_tree, &f->sys);
    assert_string_equal(text, "address-space: memory\n"
                              "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
                              "    0000000000001000-0000000000001000 (prio 3, i/o): z\n"
                              "    0000000000001000-0000000000001fff (prio 0, i/o): c\n"
                              "    0000000000001000-0000000000001fff (prio 0, i/o): b\n"
                              "    0000000000002000-0000000000002fff (prio 0, i/o): a\n"
                              "\n");
}

/* An alias that is itself only shown inside a memory-region section still
 * gets its target printed. */
static void test_print_tree_follows_aliases_inside_region_sections(void **state)
{
    struct fixture *f = *state;
    struct mem_region *inner_target = mem_region_ram(&f->sys, "deep", 0x1000);
    struct mem_region *box = mem_region_container(&f->sys, "box", 0x10000);
    mem_region_add(box, mem_region_alias(&f->sys, "to-deep", inner_target, 0, 0x1000), 0, 0);
    mem_region_add(f->root, mem_region_alias(&f->sys, "to-box", box, 0, 0x10000), 0, 0);
    char *text = capture(*state, mem_print_tree, &f->sys);
    assert_non_null(strstr(text, "memory-region: box\n"));
    assert_non_null(strstr(text, "memory-region: deep\n"
                                 "  0000000000000000-0000000000000fff (prio 0, ram): deep\n"));
}

static void test_print_flat_before_lock_shows_ram_in_both_views(void **state)
{
    struct smm_model *m = smm_model_new(*state);
    char *text = capture(*state, mem_print_flat, &m->sys);
    assert_string_equal(text, "FlatView #0\n"
                              " AS \"memory\", root: system\n"
                              " Root memory region: system\n"
                              "  0000000000000000-00000000000fffff (prio 0, ram): pc.ram\n"
                              "\n"
                              "FlatView #1\n"
                              " AS \"cpu-smm-0\", root: memory\n"
                              " Root memory region: memory\n"
                              "  0000000000000000-00000000000fffff (prio 0, ram): pc.ram\n"
                              "\n");
}

static void test_print_flat_after_lock_shows_blackhole_and_merged_smm_ram(void **state)
{
    struct smm_model *m = smm_model_new(*state);
    smm_model_lock(m);
    char *text = capture(*state, mem_print_flat, &m->sys);
    assert_string_equal(
        text, "FlatView #0\n"
              " AS \"memory\", root: system\n"
              " Root memory region: system\n"
              "  0000000000000000-000000000002ffff (prio 0, ram): pc.ram\n"
              "  0000000000030000-000000000004ffff (prio 1, i/o): smbase-blackhole\n"
              "  0000000000050000-00000000000fffff (prio 0, ram): pc.ram @0000000000050000\n"
              "\n"
              "FlatView #1\n"
              " AS \"cpu-smm-0\", root: memory\n"
              " Root memory region: memory\n"
              "  0000000000000000-00000000000fffff (prio 0, ram): pc.ram\n"
              "\n");
}

static void test_two_memory_systems_do_not_share_regions_or_changes(void **state)
{
    struct smm_model *a = smm_model_new(*state), *b = smm_model_new(*state);
    smm_model_lock(a);
    mem_write(a->smm, 0x38000, 0x1111, 2);
    mem_write(b->normal, 0x38000, 0x2222, 2);
    assert_int_equal(mem_read(a->normal, 0x38000, 2), 0xFFFF);
    assert_int_equal(mem_read(a->smm, 0x38000, 2), 0x1111);
    assert_int_equal(mem_read(b->normal, 0x38000, 2), 0x2222);
    assert_int_equal(mem_read(b->smm, 0x38000, 2), 0x2222);
    assert_int_not_equal(a->sys.generation, b->sys.generation);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ram_reads_back_what_was_written_at_every_size),
        T(test_higher_priority_region_wins_where_regions_overlap),
        T(test_equal_priority_later_added_region_wins),
        T(test_container_places_children_relative_to_its_address),
        T(test_container_clips_children_to_its_size),
        T(test_container_priority_orders_whole_subtrees),
        T(test_alias_shows_target_bytes_from_its_offset),
        T(test_alias_with_offset_above_its_address_shows_target),
        T(test_alias_of_container_shows_its_children),
        T(test_alias_offset_change_moves_the_window),
        T(test_readonly_alias_reads_target_and_drops_writes),
        T(test_rom_reads_contents_and_drops_writes),
        T(test_disabled_region_shows_what_lies_underneath),
        T(test_disabled_container_hides_all_its_children),
        T(test_disabled_blackhole_lets_ram_through),
        T(test_zero_sized_region_claims_nothing),
        T(test_region_resize_and_move_rebuild_the_view),
        T(test_mmio_receives_offset_size_and_value),
        T(test_mmio_access_wider_than_max_is_split_little_endian),
        T(test_mmio_access_narrower_than_min_is_widened_to_aligned_access),
        T(test_mmio_default_limits_pass_all_sizes_through),
        T(test_partly_covered_mmio_keeps_its_own_offsets),
        T(test_alias_of_alias_adds_both_offsets),
        T(test_mmio_odd_sized_access_touches_only_its_bytes),
        T(test_blackhole_reads_all_ones_at_each_width_and_drops_writes),
        T(test_unassigned_address_reads_all_ones_and_ignores_writes),
        T(test_access_straddling_ram_and_unassigned_merges_bytes),
        T(test_access_straddling_two_regions_reaches_both),
        T(test_bulk_copies_cross_regions_and_gaps),
        T(test_space_page_gives_host_pointer_only_for_whole_ram_page),
        T(test_space_page_of_split_page_has_no_host_pointer),
        T(test_space_page_of_rom_and_readonly_alias_is_not_writable),
        T(test_every_map_change_bumps_generation_and_calls_hook),
        T(test_smbase_range_is_ram_in_both_views_before_lock),
        T(test_locked_smbase_range_is_blackhole_normally_and_ram_in_smm),
        T(test_smm_view_falls_through_to_normal_view_outside_windows),
        T(test_smm_view_sees_normal_blackholes_where_no_window_is_enabled),
        T(test_print_tree_shows_spaces_regions_and_alias_targets),
        T(test_print_tree_drops_disabled_marks_after_lock),
        T(test_print_tree_lists_every_space_sharing_a_root_once),
        T(test_print_tree_orders_siblings_by_address_priority_creation),
        T(test_print_tree_follows_aliases_inside_region_sections),
        T(test_print_flat_before_lock_shows_ram_in_both_views),
        T(test_print_flat_after_lock_shows_blackhole_and_merged_smm_ram),
        T(test_two_memory_systems_do_not_share_regions_or_changes),
    };
#undef T
    return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
