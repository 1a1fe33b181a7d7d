/*
 * fw_cfg_test.c - fw_cfg (platform.md §4) driven through the port address
 * space and guest RAM, as firmware sees it: selector and data port, fixed
 * items, the directory, files, DMA (control word semantics, errors, black
 * holes), the SMI negotiation of §4.6 and the reset of §7.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/fw_cfg.h"
#include "mem/memory.h"

#define DESC      0x1000ull      /* default DMA descriptor */
#define BUF       0x2000ull      /* default DMA buffer */
#define HIGH_BASE 0x100000000ull /* 64 KiB of RAM at 4 GiB, for the high address half */
#define HOLE_BASE 0x30000ull     /* a black hole like the locked default-SMBASE window */
#define HOLE_SIZE 0x20000ull
#define UNMAPPED  0xC0000000ull /* nothing is mapped here */

struct fixture {
    struct mem_system sys;
    struct mem_region *system, *ram, *high, *hole, *io;
    struct address_space *memory, *ports;
    struct fw_cfg fw;
    struct fw_cfg_config cfg;
    uint64_t clock_ns;
    char *log_text;
    size_t log_size;
    FILE *log;
};

static struct fw_cfg_config default_config(void)
{
    return (struct fw_cfg_config){
        .ram_below_4g_bytes = 128ull << 20,
        .nb_cpus = 2,
        .max_cpus = 8,
        .smi_broadcast = true,
        .smi_cpu_hotplug = true,
        .smi_cpu_hotunplug = true,
        .s4_val = 2,
    };
}

/* Builds the memory and port spaces; fw_cfg itself comes from start(). */
static void build(struct fixture *f)
{
    mem_system_init(&f->sys);
    f->system = mem_region_container(&f->sys, "system", UINT64_MAX);
    f->ram = mem_region_ram(&f->sys, "ram", 1 << 20);
    mem_region_add(f->system, f->ram, 0, 0);
    f->high = mem_region_ram(&f->sys, "high", 0x10000);
    mem_region_add(f->system, f->high, HIGH_BASE, 0);
    f->hole = mem_region_blackhole(&f->sys, "smbase-blackhole", HOLE_SIZE);
    mem_region_add(f->system, f->hole, HOLE_BASE, 1);
    mem_region_set_enabled(f->hole, false);
    f->memory = mem_space_create(&f->sys, "memory", f->system);
    f->io = mem_region_container(&f->sys, "io", 0x10000);
    f->ports = mem_space_create(&f->sys, "I/O", f->io);
    f->log = open_memstream(&f->log_text, &f->log_size);
    f->cfg = default_config();
}

static void start(struct fixture *f)
{
    fw_cfg_init(&f->fw, &f->cfg, &f->sys, f->io, f->memory);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    build(f);
    start(f);
    *state = f;
    return 0;
}

/* For tests that change the configuration before starting the device. */
static int setup_unstarted(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    build(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fw_cfg_free(&f->fw);
    mem_system_free(&f->sys);
    fclose(f->log);
    free(f->log_text);
    free(f);
    return 0;
}

/* ---- guest-side helpers ---- */

static void select_key(struct fixture *f, uint16_t key)
{
    mem_write(f->ports, FW_CFG_PORT_SEL, key, 2);
}

static uint8_t read_data(struct fixture *f)
{
    return (uint8_t)mem_read(f->ports, FW_CFG_PORT_DATA, 1);
}

static void read_item(struct fixture *f, uint16_t key, void *buf, size_t len)
{
    uint8_t *p = buf;
    select_key(f, key);
    for (size_t i = 0; i < len; i++)
        p[i] = read_data(f);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* Writes the 64-bit address register as firmware does: high dword, then the
 * low dword, which starts the transfer. OUT data is little endian, the
 * register big endian, so each dword is byte-swapped. */
static void dma_kick(struct fixture *f, uint64_t desc_addr)
{
    mem_write(f->ports, FW_CFG_PORT_DMA, __builtin_bswap32((uint32_t)(desc_addr >> 32)), 4);
    mem_write(f->ports, FW_CFG_PORT_DMA + 4, __builtin_bswap32((uint32_t)desc_addr), 4);
}

static void put_desc(struct fixture *f, uint64_t desc_addr, uint32_t control, uint32_t length,
                     uint64_t addr)
{
    uint8_t d[16];
    put_be(d, control, 4);
    put_be(d + 4, length, 4);
    put_be(d + 8, addr, 8);
    mem_write_buf(f->memory, desc_addr, d, sizeof(d));
}

static uint32_t desc_control(struct fixture *f, uint64_t desc_addr)
{
    uint8_t c[4];
    mem_read_buf(f->memory, desc_addr, c, 4);
    return be32(c);
}

/* One transfer with the descriptor at DESC; returns the control word written back. */
static uint32_t dma(struct fixture *f, uint32_t control, uint32_t length, uint64_t addr)
{
    put_desc(f, DESC, control, length, addr);
    dma_kick(f, DESC);
    return desc_control(f, DESC);
}

static uint32_t select_control(uint16_t key, uint32_t ops)
{
    return (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | ops;
}

static uint16_t file_key(struct fixture *f, const char *name)
{
    uint16_t key = 0;
    assert_non_null(fw_cfg_find_file(&f->fw, name, &key));
    return key;
}

static uint8_t *ram(struct fixture *f, uint64_t addr)
{
    return f->ram->block->host + addr;
}

/* The §4.6 handshake steps 2-3: DMA-write R, select features-ok, read its byte. */
static uint8_t negotiate(struct fixture *f, uint64_t requested)
{
    uint8_t r[8];
    for (unsigned i = 0; i < 8; i++)
        r[i] = (uint8_t)(requested >> (8 * i));
    mem_write_buf(f->memory, BUF, r, 8);
    uint32_t ctl = dma(
        f, select_control(file_key(f, "etc/smi/requested-features"), FW_CFG_DMA_CTL_WRITE), 8, BUF);
    assert_int_equal(ctl, 0);
    select_key(f, file_key(f, "etc/smi/features-ok"));
    return read_data(f);
}

static uint64_t read_requested(struct fixture *f)
{
    uint8_t r[8];
    read_item(f, file_key(f, "etc/smi/requested-features"), r, 8);
    return le(r, 8);
}

/* ---- traditional interface ---- */

static void test_signature_reads_qemu_through_data_port(void **state)
{
    struct fixture *f = *state;
    char sig[5] = {0};

    read_item(f, FW_CFG_SIGNATURE, sig, 4);

    assert_string_equal(sig, "QEMU");
}

static void test_id_reports_traditional_and_dma_interfaces(void **state)
{
    struct fixture *f = *state;
    uint8_t id[4];

    read_item(f, FW_CFG_ID, id, 4);

    assert_int_equal(le(id, 4), 3);
}

static void test_power_on_selector_is_the_signature(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(read_data(f), 'Q');
    assert_int_equal(read_data(f), 'E');
}

static void test_reads_past_item_end_return_zero(void **state)
{
    struct fixture *f = *state;
    uint8_t b[8];

    read_item(f, FW_CFG_SIGNATURE, b, 8);

    assert_memory_equal(b, "QEMU\0\0\0\0", 8);
}

static void test_key_without_item_reads_zero(void **state)
{
    struct fixture *f = *state;

    select_key(f, 0x0002); /* no UUID item */
    assert_int_equal(read_data(f), 0);
    select_key(f, 0x3FFF); /* beyond every file */
    assert_int_equal(read_data(f), 0);
    select_key(f, 0x8000); /* arch-local table: nothing there */
    assert_int_equal(read_data(f), 0);
}

static void test_selector_ignores_write_channel_bit(void **state)
{
    struct fixture *f = *state;
    uint8_t id[4];

    read_item(f, FW_CFG_WRITE_CHANNEL | FW_CFG_ID, id, 4);

    assert_int_equal(le(id, 4), 3);
}

static void test_select_restarts_at_offset_zero(void **state)
{
    struct fixture *f = *state;

    select_key(f, FW_CFG_SIGNATURE);
    read_data(f);
    read_data(f);
    select_key(f, FW_CFG_SIGNATURE);

    assert_int_equal(read_data(f), 'Q');
}

static void test_data_port_write_is_ignored(void **state)
{
    struct fixture *f = *state;
    uint16_t req = file_key(f, "etc/smi/requested-features");

    select_key(f, req);
    for (int i = 0; i < 8; i++)
        mem_write(f->ports, FW_CFG_PORT_DATA, 0xFF, 1);

    assert_int_equal(read_requested(f), 0);
}

/* §4.1: only a word write selects and only a byte read returns data. */
static void test_other_port_widths_are_ignored(void **state)
{
    struct fixture *f = *state;

    select_key(f, FW_CFG_SIGNATURE);
    mem_write(f->ports, FW_CFG_PORT_SEL, FW_CFG_ID, 1);  /* byte write: no select */
    mem_write(f->ports, FW_CFG_PORT_DATA, FW_CFG_ID, 2); /* word write to 0x511: no select */
    assert_int_equal(mem_read(f->ports, FW_CFG_PORT_SEL, 1), 0); /* no data, no advance */
    assert_int_equal(mem_read(f->ports, FW_CFG_PORT_SEL, 2), 0);

    assert_int_equal(read_data(f), 'Q');
}

/* ---- fixed items ---- */

static void test_fixed_items_report_ram_and_cpus_little_endian(void **state)
{
    struct fixture *f = *state;
    uint8_t b[8];

    read_item(f, FW_CFG_RAM_SIZE, b, 8);
    assert_int_equal(le(b, 8), 128ull << 20);
    read_item(f, FW_CFG_NB_CPUS, b, 2);
    assert_int_equal(le(b, 2), 2);
    read_item(f, FW_CFG_MAX_CPUS, b, 2);
    assert_int_equal(le(b, 2), 8);
}

static void test_ram_size_counts_ram_above_4g(void **state)
{
    struct fixture *f = *state;
    uint8_t b[8];

    f->cfg.ram_below_4g_bytes = 2ull << 30;
    f->cfg.ram_above_4g_bytes = 1ull << 30;
    start(f);
    read_item(f, FW_CFG_RAM_SIZE, b, 8);

    assert_int_equal(le(b, 8), 3ull << 30);
}

static void test_numa_has_zero_nodes_and_one_slot_per_apic_id(void **state)
{
    struct fixture *f = *state;
    const struct fw_cfg_item *numa = fw_cfg_find_key(&f->fw, FW_CFG_NUMA);
    uint8_t b[8 * 10];

    assert_non_null(numa);
    assert_int_equal(numa->len, 8 * (1 + 8));
    read_item(f, FW_CFG_NUMA, b, sizeof(b));
    for (size_t i = 0; i < sizeof(b); i++)
        assert_int_equal(b[i], 0);
}

static void test_nb_cpus_follows_hot_add_and_eject(void **state)
{
    struct fixture *f = *state;
    uint8_t b[2];

    fw_cfg_set_nb_cpus(&f->fw, 3);
    read_item(f, FW_CFG_NB_CPUS, b, 2);
    assert_int_equal(le(b, 2), 3);
    fw_cfg_set_nb_cpus(&f->fw, 2);
    read_item(f, FW_CFG_NB_CPUS, b, 2);
    assert_int_equal(le(b, 2), 2);
}

/* ---- directory and files ---- */

struct dir_entry {
    uint32_t size;
    uint16_t key;
    char name[56];
};

/* Reads the directory through the data port; returns the count. */
static uint32_t read_directory(struct fixture *f, struct dir_entry *out, unsigned max)
{
    uint8_t b[64];
    read_item(f, FW_CFG_FILE_DIR, b, 4);
    uint32_t count = be32(b);
    for (uint32_t i = 0; i < count && i < max; i++) {
        for (unsigned j = 0; j < 64; j++)
            b[j] = read_data(f);
        out[i].size = be32(b);
        out[i].key = be16(b + 4);
        assert_int_equal(be16(b + 6), 0); /* reserved */
        memcpy(out[i].name, b + 8, 56);
        assert_int_equal(out[i].name[55], 0);
    }
    return count;
}

static void test_directory_lists_platform_files_sorted_by_name(void **state)
{
    struct fixture *f = *state;
    struct dir_entry e[8];
    static const struct {
        const char *name;
        uint32_t size;
    } want[] = {
        {"etc/e820", 20},
        {"etc/smi/features-ok", 1},
        {"etc/smi/requested-features", 8},
        {"etc/smi/supported-features", 8},
        {"etc/system-states", 6},
    };

    assert_int_equal(read_directory(f, e, 8), 5);
    for (unsigned i = 0; i < 5; i++) {
        assert_string_equal(e[i].name, want[i].name);
        assert_int_equal(e[i].size, want[i].size);
        assert_int_equal(e[i].key, FW_CFG_FILE_FIRST + i);
    }
}

static void test_directory_keys_select_their_files(void **state)
{
    struct fixture *f = *state;
    struct dir_entry e[8];
    uint8_t b[8];

    uint32_t n = read_directory(f, e, 8);
    for (uint32_t i = 0; i < n; i++) {
        if (strcmp(e[i].name, "etc/smi/supported-features") == 0) {
            read_item(f, e[i].key, b, 8);
            assert_int_equal(le(b, 8), 7);
            return;
        }
    }
    fail_msg("etc/smi/supported-features not listed");
}

static void test_added_files_are_sorted_and_copied(void **state)
{
    struct fixture *f = *state;
    struct dir_entry e[16];
    char data[] = "payload";

    assert_int_equal(fw_cfg_add_file(&f->fw, "opt/b", data, 7), FW_CFG_OK);
    assert_int_equal(fw_cfg_add_file(&f->fw, "opt/a", "A", 1), FW_CFG_OK);
    assert_int_equal(fw_cfg_add_file(&f->fw, "bootorder", "", 0), FW_CFG_OK);
    data[0] = 'X'; /* the device kept its own copy */

    uint32_t n = read_directory(f, e, 16);
    assert_int_equal(n, 8);
    for (uint32_t i = 1; i < n; i++)
        assert_true(strcmp(e[i - 1].name, e[i].name) < 0);
    assert_string_equal(e[0].name, "bootorder");
    assert_int_equal(e[0].size, 0);
    assert_string_equal(e[6].name, "opt/a");
    assert_string_equal(e[7].name, "opt/b");
    char b[8] = {0};
    read_item(f, e[7].key, b, 7);
    assert_string_equal(b, "payload");
}

static void test_string_file_omits_the_nul(void **state)
{
    struct fixture *f = *state;
    uint16_t key;
    char b[4] = {1, 1, 1, 1};

    assert_int_equal(fw_cfg_add_string(&f->fw, "opt/org.smmvm/cmdline", "abc"), FW_CFG_OK);
    const struct fw_cfg_item *item = fw_cfg_find_file(&f->fw, "opt/org.smmvm/cmdline", &key);
    assert_non_null(item);
    assert_int_equal(item->len, 3);
    read_item(f, key, b, 4);
    assert_memory_equal(b, "abc\0", 4);
}

static void test_bad_file_names_are_refused(void **state)
{
    struct fixture *f = *state;
    char longest[56], too_long[57];

    memset(longest, 'a', 55);
    longest[55] = 0;
    memset(too_long, 'b', 56);
    too_long[56] = 0;
    assert_int_equal(fw_cfg_add_file(&f->fw, longest, "x", 1), FW_CFG_OK);
    assert_int_equal(fw_cfg_add_file(&f->fw, too_long, "x", 1), FW_CFG_ERR_NAME_TOO_LONG);
    assert_int_equal(fw_cfg_add_file(&f->fw, "", "x", 1), FW_CFG_ERR_NAME_EMPTY);
    assert_int_equal(fw_cfg_add_file(&f->fw, "etc/e820", "x", 1), FW_CFG_ERR_DUPLICATE);
    assert_string_equal(fw_cfg_strerror(FW_CFG_ERR_DUPLICATE), "duplicate fw_cfg file name");
    assert_null(fw_cfg_find_file(&f->fw, too_long, NULL));
    const struct fw_cfg_item *e820 = fw_cfg_find_file(&f->fw, "etc/e820", NULL);
    assert_int_equal(e820->len, 20); /* the original is untouched */
}

static void test_e820_has_one_low_ram_entry(void **state)
{
    struct fixture *f = *state;
    uint8_t b[24];

    read_item(f, file_key(f, "etc/e820"), b, 24);

    assert_int_equal(le(b, 8), 0);
    assert_int_equal(le(b + 8, 8), 128ull << 20);
    assert_int_equal(le(b + 16, 4), 1);
    assert_int_equal(le(b + 20, 4), 0); /* past the end */
}

static void test_e820_adds_ram_above_4g(void **state)
{
    struct fixture *f = *state;
    uint8_t b[40];

    f->cfg.ram_below_4g_bytes = 2ull << 30;
    f->cfg.ram_above_4g_bytes = 1ull << 30;
    start(f);
    read_item(f, file_key(f, "etc/e820"), b, 40);

    assert_int_equal(fw_cfg_find_file(&f->fw, "etc/e820", NULL)->len, 40);
    assert_int_equal(le(b + 8, 8), 2ull << 30);
    assert_int_equal(le(b + 20, 8), 1ull << 32);
    assert_int_equal(le(b + 28, 8), 1ull << 30);
    assert_int_equal(le(b + 36, 4), 1);
}

static void test_system_states_default_to_s3_s4_enabled(void **state)
{
    struct fixture *f = *state;
    uint8_t b[6];

    read_item(f, file_key(f, "etc/system-states"), b, 6);

    assert_memory_equal(b, "\x80\x00\x00\x81\x82\x80", 6);
}

static void test_system_states_follow_disable_flags(void **state)
{
    struct fixture *f = *state;
    uint8_t b[6];

    f->cfg.disable_s3 = true;
    f->cfg.disable_s4 = true;
    f->cfg.s4_val = 3;
    start(f);
    read_item(f, file_key(f, "etc/system-states"), b, 6);

    assert_memory_equal(b, "\x80\x00\x00\x01\x03\x80", 6);
}

/* ---- DMA ---- */

static void test_dma_register_reads_qemu_cfg_in_port_order(void **state)
{
    struct fixture *f = *state;
    const char *sig = "QEMU CFG";

    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(mem_read(f->ports, FW_CFG_PORT_DMA + i, 1), (uint8_t)sig[i]);
    assert_int_equal(mem_read(f->ports, FW_CFG_PORT_DMA, 4), 0x554D4551);     /* "QEMU" */
    assert_int_equal(mem_read(f->ports, FW_CFG_PORT_DMA + 4, 4), 0x47464320); /* " CFG" */
    assert_int_equal(__builtin_bswap64(mem_read(f->ports, FW_CFG_PORT_DMA, 8)),
                     FW_CFG_DMA_SIGNATURE);
}

static void test_dma_read_copies_the_item_like_the_data_port(void **state)
{
    struct fixture *f = *state;
    uint8_t port[20];

    uint32_t ctl = dma(f, select_control(file_key(f, "etc/e820"), FW_CFG_DMA_CTL_READ), 20, BUF);

    assert_int_equal(ctl, 0);
    read_item(f, file_key(f, "etc/e820"), port, 20);
    assert_memory_equal(ram(f, BUF), port, 20);
}

static void test_dma_read_past_end_fills_zeroes(void **state)
{
    struct fixture *f = *state;

    memset(ram(f, BUF), 0xAA, 16);
    uint32_t ctl = dma(f, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ), 8, BUF);

    assert_int_equal(ctl, 0);
    assert_memory_equal(ram(f, BUF), "QEMU\0\0\0\0", 8);
    assert_int_equal(*ram(f, BUF + 8), 0xAA); /* nothing beyond the length */
}

static void test_dma_read_continues_from_current_offset_without_select(void **state)
{
    struct fixture *f = *state;

    select_key(f, FW_CFG_SIGNATURE);
    read_data(f);
    assert_int_equal(dma(f, FW_CFG_DMA_CTL_READ, 2, BUF), 0);
    assert_memory_equal(ram(f, BUF), "EM", 2);
    assert_int_equal(read_data(f), 'U'); /* DMA and the data port share the offset */
}

static void test_dma_skip_advances_offset(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(dma(f, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_SKIP), 2, 0), 0);
    assert_int_equal(dma(f, FW_CFG_DMA_CTL_READ, 2, BUF), 0);

    assert_memory_equal(ram(f, BUF), "MU", 2);
}

static void test_dma_skip_past_end_succeeds(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(dma(f, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_SKIP), 100, 0), 0);

    assert_int_equal(read_data(f), 0);
}

static void test_dma_read_takes_precedence_over_write_and_skip(void **state)
{
    struct fixture *f = *state;
    uint16_t req = file_key(f, "etc/smi/requested-features");

    memset(ram(f, BUF), 0x55, 8);
    uint32_t ctl = dma(
        f, select_control(req, FW_CFG_DMA_CTL_READ | FW_CFG_DMA_CTL_WRITE | FW_CFG_DMA_CTL_SKIP), 8,
        BUF);

    assert_int_equal(ctl, 0);
    assert_memory_equal(ram(f, BUF), "\0\0\0\0\0\0\0\0", 8); /* R was read, not written */
    assert_int_equal(read_requested(f), 0);
}

static void test_dma_write_takes_precedence_over_skip(void **state)
{
    struct fixture *f = *state;
    uint16_t req = file_key(f, "etc/smi/requested-features");

    memcpy(ram(f, BUF), "\x01\0\0\0\0\0\0\0", 8);
    uint32_t ctl = dma(f, select_control(req, FW_CFG_DMA_CTL_WRITE | FW_CFG_DMA_CTL_SKIP), 8, BUF);

    assert_int_equal(ctl, 0);
    assert_int_equal(read_requested(f), 1);
}

static void test_dma_write_to_read_only_item_fails_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    uint16_t sup = file_key(f, "etc/smi/supported-features");
    uint8_t b[8];

    memset(ram(f, BUF), 0, 8);
    assert_int_equal(dma(f, select_control(sup, FW_CFG_DMA_CTL_WRITE), 8, BUF),
                     FW_CFG_DMA_CTL_ERROR);
    read_item(f, sup, b, 8);
    assert_int_equal(le(b, 8), 7);

    /* As QEMU 7.2 (checked): the failed write still moves the offset. */
    assert_int_equal(dma(f, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_WRITE), 2, BUF),
                     FW_CFG_DMA_CTL_ERROR);
    assert_int_equal(read_data(f), 'M');
}

static void test_dma_write_past_item_end_fails_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    uint16_t req = file_key(f, "etc/smi/requested-features");

    memset(ram(f, BUF), 0x01, 9);
    assert_int_equal(dma(f, select_control(req, FW_CFG_DMA_CTL_WRITE), 9, BUF),
                     FW_CFG_DMA_CTL_ERROR);

    assert_int_equal(read_requested(f), 0);
}

static void test_dma_write_to_key_without_item_fails(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(dma(f, select_control(0x3FF0, FW_CFG_DMA_CTL_WRITE), 4, BUF),
                     FW_CFG_DMA_CTL_ERROR);
}

static void test_dma_read_of_key_without_item_fills_zeroes(void **state)
{
    struct fixture *f = *state;

    memset(ram(f, BUF), 0xAA, 4);
    assert_int_equal(dma(f, select_control(0x3FF0, FW_CFG_DMA_CTL_READ), 4, BUF), 0);

    assert_memory_equal(ram(f, BUF), "\0\0\0\0", 4);
}

static void test_dma_zero_length_write_to_read_only_item_succeeds(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(dma(f, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_WRITE), 0, BUF), 0);
}

static void test_dma_without_operation_bits_succeeds_and_clears_error(void **state)
{
    struct fixture *f = *state;

    memset(ram(f, BUF), 0xAA, 4);
    assert_int_equal(dma(f, FW_CFG_DMA_CTL_ERROR, 4, BUF), 0);

    assert_int_equal(*ram(f, BUF), 0xAA);
}

static void test_dma_high_address_half_is_big_endian(void **state)
{
    struct fixture *f = *state;
    uint8_t *high = f->high->block->host;

    put_desc(f, HIGH_BASE + 0x100, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ), 4,
             HIGH_BASE + 0x200);
    dma_kick(f, HIGH_BASE + 0x100);

    assert_int_equal(desc_control(f, HIGH_BASE + 0x100), 0);
    assert_memory_equal(high + 0x200, "QEMU", 4);
}

static void test_dma_address_register_is_zero_after_a_transfer(void **state)
{
    struct fixture *f = *state;

    put_desc(f, HIGH_BASE + 0x100, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ), 4,
             HIGH_BASE + 0x200);
    dma_kick(f, HIGH_BASE + 0x100);
    /* Low half only: the high half must have gone back to 0. */
    put_desc(f, DESC, select_control(FW_CFG_ID, FW_CFG_DMA_CTL_READ), 4, BUF);
    mem_write(f->ports, FW_CFG_PORT_DMA + 4, __builtin_bswap32((uint32_t)DESC), 4);

    assert_int_equal(desc_control(f, DESC), 0);
    assert_int_equal(le(ram(f, BUF), 4), 3);
}

static void test_dma_high_half_alone_starts_nothing(void **state)
{
    struct fixture *f = *state;

    put_desc(f, DESC, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ), 4, BUF);
    mem_write(f->ports, FW_CFG_PORT_DMA, 0, 4);
    mem_write(f->ports, FW_CFG_PORT_DMA + 4, __builtin_bswap32((uint32_t)DESC), 2); /* width */

    assert_int_equal(desc_control(f, DESC), select_control(0, FW_CFG_DMA_CTL_READ));
    assert_int_equal(*ram(f, BUF), 0);
}

static void test_dma_to_unmapped_buffer_sets_error(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(dma(f, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ), 4, UNMAPPED),
                     FW_CFG_DMA_CTL_ERROR);
}

static void test_dma_buffer_straddling_ram_end_copies_mapped_part_and_sets_error(void **state)
{
    struct fixture *f = *state;
    uint64_t last = (1 << 20) - 2;

    assert_int_equal(dma(f, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ), 4, last),
                     FW_CFG_DMA_CTL_ERROR);

    assert_memory_equal(ram(f, last), "QE", 2);
}

/* QEMU 7.2 (checked): unmapped source bytes arrive as 0x00 and the error bit is set. */
static void test_dma_write_from_unmapped_source_stores_zeroes_and_sets_error(void **state)
{
    struct fixture *f = *state;
    uint16_t req = file_key(f, "etc/smi/requested-features");

    memcpy(ram(f, BUF), "\x07\0\0\0\0\0\0\0", 8);
    assert_int_equal(dma(f, select_control(req, FW_CFG_DMA_CTL_WRITE), 8, BUF), 0);
    assert_int_equal(dma(f, select_control(req, FW_CFG_DMA_CTL_WRITE), 8, UNMAPPED),
                     FW_CFG_DMA_CTL_ERROR);

    assert_int_equal(read_requested(f), 0);
}

static void test_dma_unmapped_descriptor_changes_nothing(void **state)
{
    struct fixture *f = *state;

    dma_kick(f, UNMAPPED);

    assert_int_equal(read_data(f), 'Q'); /* selector untouched */
    assert_int_equal(fw_cfg_smi_is_locked(&f->fw), false);
}

static void test_dma_read_into_black_hole_is_lost(void **state)
{
    struct fixture *f = *state;

    memset(ram(f, HOLE_BASE + 0x8000), 0x5A, 8);
    mem_region_set_enabled(f->hole, true);
    uint32_t ctl =
        dma(f, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ), 8, HOLE_BASE + 0x8000);

    assert_int_equal(ctl, 0); /* a black hole is mapped: no bus error */
    assert_memory_equal(ram(f, HOLE_BASE + 0x8000), "\x5A\x5A\x5A\x5A\x5A\x5A\x5A\x5A", 8);
}

/* platform.md §8 test 44: R written from locked SMRAM is all-ones, and rejected. */
static void test_dma_write_from_black_hole_stores_all_ones_and_is_rejected(void **state)
{
    struct fixture *f = *state;
    uint16_t req = file_key(f, "etc/smi/requested-features");

    memcpy(ram(f, HOLE_BASE), "\x01\0\0\0\0\0\0\0", 8); /* what SMM code would see */
    mem_region_set_enabled(f->hole, true);
    assert_int_equal(dma(f, select_control(req, FW_CFG_DMA_CTL_WRITE), 8, HOLE_BASE), 0);
    assert_int_equal(read_requested(f), UINT64_MAX);
    select_key(f, file_key(f, "etc/smi/features-ok"));

    assert_int_equal(read_data(f), 0);
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 0);
}

static void test_dma_descriptor_in_black_hole_is_never_seen(void **state)
{
    struct fixture *f = *state;
    uint64_t desc = HOLE_BASE + 0x100;

    /* A valid request to write R = 1, hidden behind the black hole. */
    memcpy(ram(f, BUF), "\x01\0\0\0\0\0\0\0", 8);
    put_desc(f, desc,
             select_control(file_key(f, "etc/smi/requested-features"), FW_CFG_DMA_CTL_WRITE), 8,
             BUF);
    memset(ram(f, 0), 0xC3, 0x1000); /* canary below the descriptor */
    mem_region_set_enabled(f->hole, true);
    dma_kick(f, desc);

    /* The device read all-ones: select 0xFFFF (no item), a read of 4 GiB to
     * address 2^64 - 1 (nothing mapped, no wrap). R and RAM are untouched and
     * the status write-back vanished in the hole. */
    assert_int_equal(read_requested(f), 0);
    mem_region_set_enabled(f->hole, false);
    assert_int_equal(
        desc_control(f, desc),
        select_control(file_key(f, "etc/smi/requested-features"), FW_CFG_DMA_CTL_WRITE));
    for (unsigned i = 0; i < 0x1000; i++)
        assert_int_equal(*ram(f, i), 0xC3);
}

/* ---- SMI feature negotiation (§4.6) ---- */

static void test_supported_features_report_host_mask(void **state)
{
    struct fixture *f = *state;
    uint8_t b[8];

    read_item(f, file_key(f, "etc/smi/supported-features"), b, 8);

    assert_int_equal(le(b, 8), 7);
    assert_int_equal(fw_cfg_smi_host_features(&f->fw), 7);
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 0);
}

static void test_smi_files_absent_when_host_offers_no_feature(void **state)
{
    struct fixture *f = *state;
    struct dir_entry e[8];

    f->cfg.smi_broadcast = f->cfg.smi_cpu_hotplug = f->cfg.smi_cpu_hotunplug = false;
    start(f);

    assert_int_equal(read_directory(f, e, 8), 2);
    assert_string_equal(e[0].name, "etc/e820");
    assert_string_equal(e[1].name, "etc/system-states");
    assert_null(fw_cfg_find_file(&f->fw, "etc/smi/features-ok", NULL));
    assert_int_equal(fw_cfg_smi_is_locked(&f->fw), false);
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 0);
}

/* §8 test 40, a fresh device per row: request -> features-ok / N. */
static void test_negotiation_matrix_with_all_host_features(void **state)
{
    static const struct {
        uint64_t request;
        uint8_t ok;
        uint64_t negotiated;
    } rows[] = {
        {0, 1, 0},          {1, 1, 1}, {3, 1, 3}, {7, 1, 7}, /* valid subsets */
        {2, 0, 0},                                           /* hot-plug without broadcast */
        {4, 0, 0},                                           /* unplug without broadcast */
        {5, 0, 0},                                           /* unplug without hot-plug */
        {6, 0, 0},                                           /* hot-(un)plug without broadcast */
        {8, 0, 0},                                           /* reserved bit */
        {1ull << 63, 0, 0},                                  /* reserved bit, top byte */
        {0xF, 0, 0},                                         /* valid bits plus a reserved one */
    };

    (void)state;
    for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fixture *f;
        setup((void **)&f);
        assert_int_equal(negotiate(f, rows[i].request), rows[i].ok);
        assert_int_equal(fw_cfg_smi_negotiated(&f->fw), rows[i].negotiated);
        assert_int_equal(fw_cfg_smi_is_locked(&f->fw), rows[i].ok);
        teardown((void **)&f);
    }
}

/* §8 test 42: a bit the host does not offer is rejected. */
static void test_request_outside_host_mask_is_rejected(void **state)
{
    struct fixture *f = *state;
    uint8_t b[8];

    f->cfg.smi_cpu_hotplug = f->cfg.smi_cpu_hotunplug = false;
    start(f);
    read_item(f, file_key(f, "etc/smi/supported-features"), b, 8);
    assert_int_equal(le(b, 8), 1);

    assert_int_equal(negotiate(f, 3), 0);
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 0);
    assert_int_equal(negotiate(f, 1), 1);
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 1);
}

static void test_hotplug_without_broadcast_host_is_rejected(void **state)
{
    struct fixture *f = *state;

    f->cfg.smi_broadcast = false;
    start(f);

    assert_int_equal(negotiate(f, 2), 0); /* offered, but needs broadcast */
    assert_int_equal(negotiate(f, 0), 1);
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 0);
}

/* §8 test 41. */
static void test_accepted_negotiation_is_locked_until_reset(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(negotiate(f, 1), 1);
    assert_int_equal(negotiate(f, 7), 1);

    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 1);
    assert_int_equal(read_requested(f), 7); /* R is stored but has no effect */
    assert_int_equal(negotiate(f, 2), 1);   /* even an invalid R cannot unlock it */
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 1);
}

static void test_zero_request_locks_in_no_features(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(negotiate(f, 0), 1);
    assert_int_equal(negotiate(f, 1), 1);

    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 0);
    assert_true(fw_cfg_smi_is_locked(&f->fw));
}

static void test_rejected_request_may_be_retried(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(negotiate(f, 5), 0);
    assert_false(fw_cfg_smi_is_locked(&f->fw));
    assert_int_equal(negotiate(f, 3), 1);

    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 3);
}

static void test_validation_runs_only_on_select(void **state)
{
    struct fixture *f = *state;
    uint16_t ok = file_key(f, "etc/smi/features-ok");

    assert_int_equal(negotiate(f, 2), 0); /* features-ok selected and rejected */
    /* Writing a valid R validates nothing, and neither does a byte write of
     * the key to 0x510 (not a select). */
    memcpy(ram(f, BUF), "\x01\0\0\0\0\0\0\0", 8);
    assert_int_equal(
        dma(f, select_control(file_key(f, "etc/smi/requested-features"), FW_CFG_DMA_CTL_WRITE), 8,
            BUF),
        0);
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 0);
    select_key(f, FW_CFG_SIGNATURE);
    mem_write(f->ports, FW_CFG_PORT_SEL, ok, 1); /* a byte write is no select */
    assert_false(fw_cfg_smi_is_locked(&f->fw));

    /* A DMA select runs the action too. */
    memset(ram(f, BUF), 0xAA, 1);
    assert_int_equal(dma(f, select_control(ok, FW_CFG_DMA_CTL_READ), 1, BUF), 0);
    assert_int_equal(*ram(f, BUF), 1);
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 1);
}

static void test_requested_features_are_little_endian(void **state)
{
    struct fixture *f = *state;

    memcpy(ram(f, BUF), "\0\0\0\0\0\0\0\x01", 8); /* bit 56, not bit 0 */
    assert_int_equal(
        dma(f, select_control(file_key(f, "etc/smi/requested-features"), FW_CFG_DMA_CTL_WRITE), 8,
            BUF),
        0);
    select_key(f, file_key(f, "etc/smi/features-ok"));

    assert_int_equal(read_data(f), 0);
    assert_int_equal(read_requested(f), 1ull << 56);
}

static void test_features_ok_is_read_only(void **state)
{
    struct fixture *f = *state;
    uint16_t ok = file_key(f, "etc/smi/features-ok");

    *ram(f, BUF) = 1;
    /* The select runs first (R = 0 is accepted), then the write fails. */
    assert_int_equal(dma(f, select_control(ok, FW_CFG_DMA_CTL_WRITE), 1, BUF),
                     FW_CFG_DMA_CTL_ERROR);
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 0);
}

/* ---- reset (§7.1) ---- */

static void test_reset_clears_and_unlocks_negotiation(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(negotiate(f, 7), 1);
    fw_cfg_reset(&f->fw);

    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 0);
    assert_false(fw_cfg_smi_is_locked(&f->fw));
    assert_int_equal(read_requested(f), 0);
    assert_int_equal(negotiate(f, 1), 1); /* a new negotiation is possible */
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 1);
}

/* §8 test 41 says features-ok reads 0 after reset; that is the OK flag. Reading
 * the file selects it, which validates R = 0 and accepts it (QEMU 7.2 reads 1
 * there too - checked with a ROM that negotiated 1, reset through 0xCF9 and
 * selected features-ok). */
static void test_select_after_reset_accepts_the_cleared_request(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(negotiate(f, 3), 1);
    fw_cfg_reset(&f->fw);
    assert_false(fw_cfg_smi_is_locked(&f->fw));
    select_key(f, file_key(f, "etc/smi/features-ok"));

    assert_int_equal(read_data(f), 1);
    assert_int_equal(fw_cfg_smi_negotiated(&f->fw), 0);
}

static void test_reset_selects_signature_and_clears_dma_address(void **state)
{
    struct fixture *f = *state;

    select_key(f, FW_CFG_ID);
    read_data(f);
    mem_write(f->ports, FW_CFG_PORT_DMA, __builtin_bswap32(1), 4); /* high half = 1 */
    fw_cfg_reset(&f->fw);

    assert_int_equal(read_data(f), 'Q');
    put_desc(f, DESC, select_control(FW_CFG_ID, FW_CFG_DMA_CTL_READ), 4, BUF);
    mem_write(f->ports, FW_CFG_PORT_DMA + 4, __builtin_bswap32((uint32_t)DESC), 4);
    assert_int_equal(desc_control(f, DESC), 0); /* the descriptor was found below 4 GiB */
}

static void test_reset_keeps_files_and_cpu_count(void **state)
{
    struct fixture *f = *state;
    uint8_t b[2];
    char s[2] = {0};

    assert_int_equal(fw_cfg_add_string(&f->fw, "opt/x", "y"), FW_CFG_OK);
    fw_cfg_set_nb_cpus(&f->fw, 3);
    fw_cfg_reset(&f->fw);

    read_item(f, FW_CFG_NB_CPUS, b, 2);
    assert_int_equal(le(b, 2), 3);
    read_item(f, file_key(f, "opt/x"), s, 1);
    assert_string_equal(s, "y");
}

/* ---- logging and isolation ---- */

static void test_guest_errors_are_logged_once_per_cause(void **state)
{
    struct fixture *f = *state;

    f->cfg.log = f->log;
    f->cfg.log_guest_errors = true;
    f->cfg.clock_ns = &f->clock_ns;
    start(f);
    f->clock_ns = 42;
    dma(f, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_WRITE), 2, BUF);
    dma(f, select_control(FW_CFG_ID, FW_CFG_DMA_CTL_WRITE), 2, BUF);
    mem_write(f->ports, FW_CFG_PORT_DATA, 0, 1);
    fflush(f->log);

    assert_string_equal(f->log_text,
                        "[t=42] fw_cfg: DMA write to read-only key 0x0000 ignored\n"
                        "[t=42] fw_cfg: write to data port 0x511 ignored (writes need DMA)\n");
}

static void test_guest_errors_are_silent_without_the_category(void **state)
{
    struct fixture *f = *state;

    f->cfg.log = f->log;
    start(f);
    dma(f, select_control(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_WRITE), 2, BUF);
    fflush(f->log);

    assert_int_equal(f->log_size, 0);
}

/* style.md §2.10: two devices in one process share nothing. */
static void test_two_devices_do_not_interfere(void **state)
{
    struct fixture *a = *state;
    struct fixture *b;

    setup((void **)&b);
    assert_int_equal(negotiate(a, 1), 1);
    select_key(b, FW_CFG_ID);
    select_key(a, file_key(a, "etc/smi/features-ok"));

    assert_int_equal(fw_cfg_smi_negotiated(&b->fw), 0);
    assert_false(fw_cfg_smi_is_locked(&b->fw));
    assert_int_equal(read_data(a), 1); /* a: features-ok */
    assert_int_equal(read_data(b), 3); /* b: ID */
    teardown((void **)&b);
}

#define T(name)           cmocka_unit_test_setup_teardown(name, setup, teardown)
#define T_UNSTARTED(name) cmocka_unit_test_setup_teardown(name, setup_unstarted, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_signature_reads_qemu_through_data_port),
        T(test_id_reports_traditional_and_dma_interfaces),
        T(test_power_on_selector_is_the_signature),
        T(test_reads_past_item_end_return_zero),
        T(test_key_without_item_reads_zero),
        T(test_selector_ignores_write_channel_bit),
        T(test_select_restarts_at_offset_zero),
        T(test_data_port_write_is_ignored),
        T(test_other_port_widths_are_ignored),
        T(test_fixed_items_report_ram_and_cpus_little_endian),
        T_UNSTARTED(test_ram_size_counts_ram_above_4g),
        T(test_numa_has_zero_nodes_and_one_slot_per_apic_id),
        T(test_nb_cpus_follows_hot_add_and_eject),
        T(test_directory_lists_platform_files_sorted_by_name),
        T(test_directory_keys_select_their_files),
        T(test_added_files_are_sorted_and_copied),
        T(test_string_file_omits_the_nul),
        T(test_bad_file_names_are_refused),
        T(test_e820_has_one_low_ram_entry),
        T_UNSTARTED(test_e820_adds_ram_above_4g),
        T(test_system_states_default_to_s3_s4_enabled),
        T_UNSTARTED(test_system_states_follow_disable_flags),
        T(test_dma_register_reads_qemu_cfg_in_port_order),
        T(test_dma_read_copies_the_item_like_the_data_port),
        T(test_dma_read_past_end_fills_zeroes),
        T(test_dma_read_continues_from_current_offset_without_select),
        T(test_dma_skip_advances_offset),
        T(test_dma_skip_past_end_succeeds),
        T(test_dma_read_takes_precedence_over_write_and_skip),
        T(test_dma_write_takes_precedence_over_skip),
        T(test_dma_write_to_read_only_item_fails_and_changes_nothing),
        T(test_dma_write_past_item_end_fails_and_changes_nothing),
        T(test_dma_write_to_key_without_item_fails),
        T(test_dma_read_of_key_without_item_fills_zeroes),
        T(test_dma_zero_length_write_to_read_only_item_succeeds),
        T(test_dma_without_operation_bits_succeeds_and_clears_error),
        T(test_dma_high_address_half_is_big_endian),
        T(test_dma_address_register_is_zero_after_a_transfer),
        T(test_dma_high_half_alone_starts_nothing),
        T(test_dma_to_unmapped_buffer_sets_error),
        T(test_dma_buffer_straddling_ram_end_copies_mapped_part_and_sets_error),
        T(test_dma_write_from_unmapped_source_stores_zeroes_and_sets_error),
        T(test_dma_unmapped_descriptor_changes_nothing),
        T(test_dma_read_into_black_hole_is_lost),
        T(test_dma_write_from_black_hole_stores_all_ones_and_is_rejected),
        T(test_dma_descriptor_in_black_hole_is_never_seen),
        T(test_supported_features_report_host_mask),
        T_UNSTARTED(test_smi_files_absent_when_host_offers_no_feature),
        T(test_negotiation_matrix_with_all_host_features),
        T_UNSTARTED(test_request_outside_host_mask_is_rejected),
        T_UNSTARTED(test_hotplug_without_broadcast_host_is_rejected),
        T(test_accepted_negotiation_is_locked_until_reset),
        T(test_zero_request_locks_in_no_features),
        T(test_rejected_request_may_be_retried),
        T(test_validation_runs_only_on_select),
        T(test_requested_features_are_little_endian),
        T(test_features_ok_is_read_only),
        T(test_reset_clears_and_unlocks_negotiation),
        T(test_select_after_reset_accepts_the_cleared_request),
        T(test_reset_selects_signature_and_clears_dma_address),
        T(test_reset_keeps_files_and_cpu_count),
        T_UNSTARTED(test_guest_errors_are_logged_once_per_cause),
        T_UNSTARTED(test_guest_errors_are_silent_without_the_category),
        T(test_two_devices_do_not_interfere),
    };
    return cmocka_run_group_tests_name("fw_cfg", tests, NULL, NULL);
}
