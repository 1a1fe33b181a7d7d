/*
 * fw_cfg.c - QEMU's fw_cfg on I/O ports 0x510-0x51B: selector, data port,
 * DMA, the file directory, the platform files and the SMI feature
 * negotiation. Contract: ../shared/spec/platform.md §4 (and §7.1 for reset).
 * Where §4 is silent this follows QEMU 7.2's observable behaviour; each such
 * choice has a comment saying so.
 */
#include "hw/fw_cfg.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mem/memory.h" /* mem_ops, regions, mem_read_buf/mem_write_buf for DMA */
#include "util.h"       /* xcalloc, xrealloc, BUG_ON */

/* Guest errors, each logged once (style.md §2.5). */
enum fw_cfg_cause {
    CAUSE_PORT_WIDTH,     /* 0x510/0x511 accessed with a width §4.1 does not define */
    CAUSE_DATA_WRITE,     /* traditional-interface write to 0x511 */
    CAUSE_DMA_REG_WIDTH,  /* DMA register written other than as aligned dwords */
    CAUSE_DMA_WRITE_RO,   /* DMA write to a read-only item */
    CAUSE_DMA_WRITE_PAST, /* DMA write running past the item's end or to no item */
    CAUSE_DMA_UNMAPPED,   /* descriptor or buffer where nothing is mapped */
    CAUSE_SMI_REJECTED,   /* features-ok validation refused the request */
};

static void guest_error(struct fw_cfg *fw, enum fw_cfg_cause cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void guest_error(struct fw_cfg *fw, enum fw_cfg_cause cause, const char *fmt, ...)
{
    va_list ap;

    if (!fw->cfg.log || !fw->cfg.log_guest_errors || (fw->logged_causes & (1u << cause)))
        return;
    fw->logged_causes |= 1u << cause;
    fprintf(fw->cfg.log,
            "[t=%llu] fw_cfg: ", (unsigned long long)(fw->cfg.clock_ns ? *fw->cfg.clock_ns : 0));
    va_start(ap, fmt);
    vfprintf(fw->cfg.log, fmt, ap);
    va_end(ap);
    fputc('\n', fw->cfg.log);
}

/* ---- byte order helpers (guest-visible layouts are fixed, host order is not) ---- */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t bswap32_value(uint64_t v)
{
    return __builtin_bswap32((uint32_t)v);
}

/* ---- items ---- */

static void item_set(struct fw_cfg_item *item, const void *data, size_t len)
{
    free(item->data);
    item->data = xcalloc(1, len);
    if (len)
        memcpy(item->data, data, len);
    item->len = (uint32_t)len;
}

static void fixed_set(struct fw_cfg *fw, uint16_t key, const void *data, size_t len)
{
    BUG_ON((key & FW_CFG_ENTRY_MASK) >= FW_CFG_FIXED_KEYS); /* only our own init calls this */
    item_set(&fw->fixed[(key & FW_CFG_ARCH_LOCAL) != 0][key & FW_CFG_ENTRY_MASK], data, len);
}

static void fixed_set_le(struct fw_cfg *fw, uint16_t key, uint64_t v, unsigned n)
{
    uint8_t b[8];
    put_le(b, v, n);
    fixed_set(fw, key, b, n);
}

/* Selector semantics: bit 0x4000 is ignored (writes happen only by DMA,
 * §4.3), bit 0x8000 chooses the architecture-specific table, which holds no
 * files. A key without an item yields NULL and reads as zeroes. */
static struct fw_cfg_item *item_lookup(struct fw_cfg *fw, uint16_t key)
{
    unsigned arch = (key & FW_CFG_ARCH_LOCAL) != 0;
    unsigned index = key & FW_CFG_ENTRY_MASK;
    struct fw_cfg_item *item = NULL;

    if (index < FW_CFG_FIXED_KEYS)
        item = &fw->fixed[arch][index];
    else if (!arch && index - FW_CFG_FILE_FIRST < fw->n_files)
        item = &fw->files[index - FW_CFG_FILE_FIRST].item;
    return item && item->data ? item : NULL;
}

const struct fw_cfg_item *fw_cfg_find_key(const struct fw_cfg *fw, uint16_t key)
{
    return item_lookup((struct fw_cfg *)fw, key);
}

const struct fw_cfg_item *fw_cfg_find_file(const struct fw_cfg *fw, const char *name,
                                           uint16_t *key_out)
{
    for (unsigned i = 0; i < fw->n_files; i++) {
        if (strcmp(fw->files[i].name, name) == 0) {
            if (key_out)
                *key_out = (uint16_t)(FW_CFG_FILE_FIRST + i);
            return &fw->files[i].item;
        }
    }
    return NULL;
}

/* ---- SMI feature negotiation (§4.6) ----
 *
 * Runs on every select of etc/smi/features-ok, through 0x510 or a DMA select.
 * R is what the guest last wrote to requested-features, H the host mask.
 *
 *   OK = 1 already                          -> nothing changes (locked until reset)
 *   R & ~H != 0                             -> reject: OK 0, N 0
 *   R & (hotplug|unplug) && !(R & broadcast) -> reject
 *   R & unplug && !(R & hotplug)            -> reject
 *   otherwise (R = 0 included)              -> N := R, OK := 1
 *
 * With H = 7: 0, 1, 3, 7 accepted; 2, 4, 5, 6 and any bit >= 3 rejected. The
 * guest may retry after a reject; R itself stays writable even when locked.
 */
static const char *smi_reject_reason(uint64_t requested, uint64_t host)
{
    const uint64_t hotplug = FW_CFG_SMI_F_CPU_HOTPLUG | FW_CFG_SMI_F_CPU_HOT_UNPLUG;

    if (requested & ~host)
        return "unsupported bits";
    if ((requested & hotplug) && !(requested & FW_CFG_SMI_F_BROADCAST))
        return "CPU hot-(un)plug with SMI needs broadcast";
    if ((requested & FW_CFG_SMI_F_CPU_HOT_UNPLUG) && !(requested & FW_CFG_SMI_F_CPU_HOTPLUG))
        return "CPU hot-unplug with SMI needs hot-plug";
    return NULL;
}

static void smi_validate(struct fw_cfg *fw)
{
    if (*fw->smi_ok)
        return;
    uint64_t requested = get_le(fw->smi_requested, 8);
    const char *reason = smi_reject_reason(requested, fw->smi_host_features);
    if (reason) {
        guest_error(fw, CAUSE_SMI_REJECTED, "SMI features 0x%llx rejected (%s)",
                    (unsigned long long)requested, reason);
        return;
    }
    fw->smi_negotiated = requested;
    *fw->smi_ok = 1;
}

uint64_t fw_cfg_smi_negotiated(const struct fw_cfg *fw)
{
    return fw->smi_negotiated;
}

uint64_t fw_cfg_smi_host_features(const struct fw_cfg *fw)
{
    return fw->smi_host_features;
}

bool fw_cfg_smi_is_locked(const struct fw_cfg *fw)
{
    return fw->smi_ok && *fw->smi_ok;
}

/* ---- traditional interface ---- */

static void fw_cfg_select(struct fw_cfg *fw, uint16_t key)
{
    fw->cur_key = key & (uint16_t)~FW_CFG_WRITE_CHANNEL;
    fw->cur_offset = 0;
    struct fw_cfg_item *item = item_lookup(fw, fw->cur_key);
    if (item && item->validates_smi)
        smi_validate(fw);
}

static uint8_t fw_cfg_read_byte(struct fw_cfg *fw)
{
    const struct fw_cfg_item *item = item_lookup(fw, fw->cur_key);

    /* Past the end the offset stays put, as in QEMU: every further read is 0. */
    if (!item || fw->cur_offset >= item->len)
        return 0;
    return item->data[fw->cur_offset++];
}

/*
 * Selector/data pair, decision table (§4.1; other widths are ignored, which
 * §4.1 requires of smmvm; QEMU 7.2 would take a byte read of 0x510 as a data
 * read and a word write to 0x511 as a select):
 *
 *   port   access        effect
 *   0x510  word write    select (little endian), offset 0, select action
 *   0x511  byte read     next data byte, 0 past the end or for no item
 *   0x511  byte write    ignored (QEMU 7.2 dropped guest data writes)
 *   any    anything else ignored; reads return 0 and do not advance
 *
 * Wider accesses that run past 0x511 are split by the dispatcher, so their
 * bytes at 0x511 are data reads and those at 0x512-0x513 read unclaimed 0xFF.
 */
static uint64_t fw_cfg_port_read(void *opaque, uint64_t offset, unsigned size)
{
    struct fw_cfg *fw = opaque;

    if (offset == 1 && size == 1)
        return fw_cfg_read_byte(fw);
    guest_error(fw, CAUSE_PORT_WIDTH, "%u-byte read of port 0x%x ignored", size,
                (unsigned)(FW_CFG_PORT_SEL + offset));
    return 0;
}

static void fw_cfg_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct fw_cfg *fw = opaque;

    if (offset == 0 && size == 2) {
        fw_cfg_select(fw, (uint16_t)value);
        return;
    }
    if (offset == 1 && size == 1) {
        guest_error(fw, CAUSE_DATA_WRITE, "write to data port 0x511 ignored (writes need DMA)");
        return;
    }
    guest_error(fw, CAUSE_PORT_WIDTH, "%u-byte write of port 0x%x ignored", size,
                (unsigned)(FW_CFG_PORT_SEL + offset));
}

static const struct mem_ops fw_cfg_port_ops = {
    .name = "fwcfg",
    .read = fw_cfg_port_read,
    .write = fw_cfg_port_write,
    .min_access = 1,
    .max_access = 2,
};

/* ---- DMA through the normal view ----
 *
 * Our memory API has no transaction status, so a bus error is recognised the
 * way QEMU 7.2 reports one: a byte where nothing is mapped (QEMU's unassigned
 * memory gives MEMTX_DECODE_ERROR, fw_cfg sets the error bit, and such bytes
 * read as 0x00 - checked on QEMU 7.2 with a DMA write into requested-features
 * from 0xC0000000). Mapped bytes around them are still copied. Black holes
 * are mapped: they read all-ones and drop writes without an error, which is
 * what keeps DMA out of locked SMRAM (§4.2).
 */
static uint64_t dma_span(struct address_space *as, uint64_t addr, uint64_t len, bool *mapped)
{
    const struct flat_range *r = mem_space_lookup(as, addr); /* also rebuilds a dirty view */
    uint64_t last;

    *mapped = r != NULL;
    if (r) {
        last = r->last;
    } else {
        last = UINT64_MAX;
        for (unsigned i = 0; i < as->n_ranges; i++) { /* sorted: first range above addr */
            if (as->ranges[i].start > addr) {
                last = as->ranges[i].start - 1;
                break;
            }
        }
    }
    return len - 1 <= last - addr ? len : last - addr + 1;
}

/* smmvm choice: a transfer never wraps from 2^64 - 1 to 0 (QEMU's behaviour
 * there is unverified); bytes beyond the top count as unmapped. Returns how
 * many of len bytes from addr lie below the top. */
static uint64_t dma_clip_top(uint64_t addr, uint64_t len)
{
    return len && len - 1 > UINT64_MAX - addr ? UINT64_MAX - addr + 1 : len;
}

/* Guest memory -> buf; false if any byte was unmapped (those read as 0x00). */
static bool dma_from_guest(struct fw_cfg *fw, uint64_t addr, uint8_t *buf, uint64_t len)
{
    uint64_t below = dma_clip_top(addr, len);
    bool ok = below == len, mapped;

    memset(buf + below, 0x00, len - below);
    len = below;
    while (len) {
        uint64_t n = dma_span(fw->dma_as, addr, len, &mapped);
        if (mapped)
            mem_read_buf(fw->dma_as, addr, buf, n);
        else
            memset(buf, 0x00, n);
        ok &= mapped;
        addr += n, buf += n, len -= n;
    }
    return ok;
}

/* buf (or zeroes when buf is NULL) -> guest memory; false if any byte was unmapped. */
static bool dma_to_guest(struct fw_cfg *fw, uint64_t addr, const uint8_t *buf, uint64_t len)
{
    static const uint8_t zeroes[4096];
    uint64_t below = dma_clip_top(addr, len);
    bool ok = below == len, mapped;

    len = below;
    while (len) {
        uint64_t n = dma_span(fw->dma_as, addr, len, &mapped);
        if (!buf && mapped && n > sizeof(zeroes))
            n = sizeof(zeroes);
        if (mapped)
            mem_write_buf(fw->dma_as, addr, buf ? buf : zeroes, n);
        ok &= mapped;
        addr += n, len -= n;
        if (buf)
            buf += n;
    }
    return ok;
}

/* A DMA write into the selected item: all of it, or nothing (§4.2). The
 * offset advances even on failure, as in QEMU. */
static bool dma_write_item(struct fw_cfg *fw, struct fw_cfg_item *item, uint64_t addr,
                           uint32_t length)
{
    uint32_t avail = item && fw->cur_offset < item->len ? item->len - fw->cur_offset : 0;
    bool ok = false;

    if (!avail || length > avail) {
        guest_error(fw, CAUSE_DMA_WRITE_PAST,
                    "DMA write of %u bytes at offset %u of key 0x%04x runs past its end",
                    (unsigned)length, (unsigned)fw->cur_offset, (unsigned)fw->cur_key);
    } else if (!item->writable) {
        guest_error(fw, CAUSE_DMA_WRITE_RO, "DMA write to read-only key 0x%04x ignored",
                    (unsigned)fw->cur_key);
    } else {
        /* Copied straight into the item even when part of the source is unmapped (those
         * bytes become 0x00 and the error bit is set), as QEMU 7.2 does. */
        ok = dma_from_guest(fw, addr, item->data + fw->cur_offset, length);
        if (!ok)
            guest_error(fw, CAUSE_DMA_UNMAPPED, "DMA source 0x%llx+0x%x is not mapped",
                        (unsigned long long)addr, (unsigned)length);
    }
    fw->cur_offset += avail < length ? avail : length;
    return ok;
}

/*
 * One transfer, synchronously inside the OUT to 0x518 (§4.2): read the
 * 16-byte big-endian descriptor, select if asked (running the select action),
 * then one of read > write > skip; finally write the control word back: 0, or
 * FW_CFG_DMA_CTL_ERROR. A control word with none of the three bits is a
 * successful transfer of nothing.
 */
static void fw_cfg_dma_transfer(struct fw_cfg *fw)
{
    uint64_t desc_addr = fw->dma_addr;
    uint8_t desc[16], status[4];

    fw->dma_addr = 0; /* the address register reads back as zero afterwards */
    if (!dma_from_guest(fw, desc_addr, desc, sizeof(desc))) {
        guest_error(fw, CAUSE_DMA_UNMAPPED, "DMA descriptor at 0x%llx is not mapped",
                    (unsigned long long)desc_addr);
        put_be(status, FW_CFG_DMA_CTL_ERROR, 4);
        dma_to_guest(fw, desc_addr, status, 4);
        return;
    }
    uint32_t control = (uint32_t)get_be(desc, 4);
    uint32_t length = (uint32_t)get_be(desc + 4, 4);
    uint64_t addr = get_be(desc + 8, 8);

    if (control & FW_CFG_DMA_CTL_SELECT)
        fw_cfg_select(fw, (uint16_t)(control >> 16));
    struct fw_cfg_item *item = item_lookup(fw, fw->cur_key);
    bool ok = true;

    if (control & FW_CFG_DMA_CTL_READ) {
        /* Item bytes first, then zeroes for whatever runs past the end; as in
         * QEMU, a bus error in the first part ends the transfer. */
        uint32_t avail = item && fw->cur_offset < item->len ? item->len - fw->cur_offset : 0;
        uint32_t n = length < avail ? length : avail;
        if (n)
            ok &= dma_to_guest(fw, addr, item->data + fw->cur_offset, n);
        fw->cur_offset += n;
        if (ok && length > n)
            ok = dma_to_guest(fw, addr + n, NULL, length - n);
        if (!ok)
            guest_error(fw, CAUSE_DMA_UNMAPPED, "DMA buffer 0x%llx+0x%x is not mapped",
                        (unsigned long long)addr, (unsigned)length);
    } else if (control & FW_CFG_DMA_CTL_WRITE) {
        if (length)
            ok = dma_write_item(fw, item, addr, length);
    } else if (control & FW_CFG_DMA_CTL_SKIP) {
        /* Skipping past the end succeeds and leaves the offset at the end. */
        uint32_t avail = item && fw->cur_offset < item->len ? item->len - fw->cur_offset : 0;
        fw->cur_offset += length < avail ? length : avail;
    }
    put_be(status, ok ? 0 : FW_CFG_DMA_CTL_ERROR, 4);
    dma_to_guest(fw, desc_addr, status, 4);
}

/*
 * DMA register, decision table (§4.1, §4.2; big-endian device):
 *
 *   port         access       effect
 *   0x514-0x51B  read, any    the bytes of "QEMU CFG" in port order
 *   0x514        dword write  address := value << 32 (the low half is cleared)
 *   0x518        dword write  address |= value, then the transfer
 *   any          other write  ignored
 *
 * A qword write at 0x514 (not possible with IN/OUT, but possible from a test
 * harness) reaches us as the two dwords in ascending order, which is QEMU's
 * 64-bit semantics.
 */
static uint64_t fw_cfg_dma_read(void *opaque, uint64_t offset, unsigned size)
{
    uint8_t sig[8];
    (void)opaque;

    put_be(sig, FW_CFG_DMA_SIGNATURE, 8);
    return get_le(sig + offset, size); /* the dispatcher keeps offset + size <= 8 */
}

static void fw_cfg_dma_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct fw_cfg *fw = opaque;

    if (size == 4 && offset == 0) {
        fw->dma_addr = (uint64_t)bswap32_value(value) << 32;
    } else if (size == 4 && offset == 4) {
        fw->dma_addr |= bswap32_value(value);
        fw_cfg_dma_transfer(fw);
    } else {
        guest_error(fw, CAUSE_DMA_REG_WIDTH, "%u-byte write of DMA port 0x%x ignored", size,
                    (unsigned)(FW_CFG_PORT_DMA + offset));
    }
}

static const struct mem_ops fw_cfg_dma_ops = {
    .name = "fwcfg.dma",
    .read = fw_cfg_dma_read,
    .write = fw_cfg_dma_write,
    .min_access = 1,
    .max_access = 4,
};

/* ---- files and the directory (§4.3) ---- */

/* Directory: BE u32 count, then per file {BE u32 size, BE u16 key, u16 0,
 * char name[56]}, in name order (strcmp), which is QEMU 7.2's order for
 * pc-q35-7.2; the key of the file at index i is FW_CFG_FILE_FIRST + i. */
static void directory_rebuild(struct fw_cfg *fw)
{
    size_t len = 4 + 64 * (size_t)fw->n_files;
    uint8_t *dir = xcalloc(1, len);

    put_be(dir, fw->n_files, 4);
    for (unsigned i = 0; i < fw->n_files; i++) {
        uint8_t *e = dir + 4 + 64 * (size_t)i;
        put_be(e, fw->files[i].item.len, 4);
        put_be(e + 4, FW_CFG_FILE_FIRST + i, 2);
        memcpy(e + 8, fw->files[i].name, FW_CFG_MAX_FILE_PATH);
    }
    fixed_set(fw, FW_CFG_FILE_DIR, dir, len);
    free(dir);
}

/* Inserts in name order and returns the new file's item, or NULL with *err set. */
static struct fw_cfg_item *file_insert(struct fw_cfg *fw, const char *name, const void *data,
                                       size_t len, enum fw_cfg_error *err)
{
    size_t name_len = strlen(name);
    unsigned at = 0;

    *err = FW_CFG_OK;
    if (name_len == 0)
        *err = FW_CFG_ERR_NAME_EMPTY;
    else if (name_len > FW_CFG_MAX_FILE_PATH - 1)
        *err = FW_CFG_ERR_NAME_TOO_LONG;
    else if (len > UINT32_MAX)
        *err = FW_CFG_ERR_TOO_BIG;
    else if (fw->n_files >= FW_CFG_MAX_FILES)
        *err = FW_CFG_ERR_FULL;
    else if (fw_cfg_find_file(fw, name, NULL))
        *err = FW_CFG_ERR_DUPLICATE;
    if (*err != FW_CFG_OK)
        return NULL;

    while (at < fw->n_files && strcmp(fw->files[at].name, name) < 0)
        at++;
    if (fw->n_files == fw->cap_files) {
        fw->cap_files = fw->cap_files ? fw->cap_files * 2 : 16;
        fw->files = xrealloc(fw->files, fw->cap_files * sizeof(*fw->files));
    }
    memmove(&fw->files[at + 1], &fw->files[at], (fw->n_files - at) * sizeof(*fw->files));
    fw->n_files++;
    struct fw_cfg_file *f = &fw->files[at];
    *f = (struct fw_cfg_file){0};
    memcpy(f->name, name, name_len); /* zero-padded to 56 bytes */
    item_set(&f->item, data, len);
    directory_rebuild(fw);
    return &f->item;
}

enum fw_cfg_error fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, size_t len)
{
    enum fw_cfg_error err;

    file_insert(fw, name, data, len, &err);
    return err;
}

enum fw_cfg_error fw_cfg_add_string(struct fw_cfg *fw, const char *name, const char *str)
{
    return fw_cfg_add_file(fw, name, str, strlen(str));
}

const char *fw_cfg_strerror(enum fw_cfg_error err)
{
    switch (err) {
    case FW_CFG_OK:
        return "success";
    case FW_CFG_ERR_NAME_EMPTY:
        return "empty name";
    case FW_CFG_ERR_NAME_TOO_LONG:
        return "name too long (max. 55 char)";
    case FW_CFG_ERR_DUPLICATE:
        return "duplicate fw_cfg file name";
    case FW_CFG_ERR_TOO_BIG:
        return "file too large";
    case FW_CFG_ERR_FULL:
        return "no more file slots";
    }
    return "unknown error";
}

void fw_cfg_set_nb_cpus(struct fw_cfg *fw, uint16_t nb_cpus)
{
    fw->cfg.nb_cpus = nb_cpus;
    fixed_set_le(fw, FW_CFG_NB_CPUS, nb_cpus, 2);
}

/* ---- life cycle ---- */

/* An internal file that must be creatable (names are ours, fixed and unique). */
static struct fw_cfg_item *file_insert_own(struct fw_cfg *fw, const char *name, const void *data,
                                           size_t len)
{
    enum fw_cfg_error err;
    struct fw_cfg_item *item = file_insert(fw, name, data, len, &err);
    BUG_ON(!item); /* init runs before any user file, on an empty table */
    return item;
}

static void add_platform_files(struct fw_cfg *fw)
{
    const struct fw_cfg_config *c = &fw->cfg;
    uint8_t e820[40];
    size_t n = 20;

    /* etc/e820 (§4.5): low RAM, and RAM above 4 GiB; TSEG and the 0x30000
     * window stay inside the low entry, firmware carves them out. QEMU 7.2
     * also lists a reserved entry for [0xFD00000000, 1 TiB) (the AMD
     * HyperTransport hole) before them; §4.5 does not, and neither do we. */
    put_le(e820, 0, 8);
    put_le(e820 + 8, c->ram_below_4g_bytes, 8);
    put_le(e820 + 16, 1, 4);
    if (c->ram_above_4g_bytes) {
        put_le(e820 + 20, 0x100000000ull, 8);
        put_le(e820 + 28, c->ram_above_4g_bytes, 8);
        put_le(e820 + 36, 1, 4);
        n = 40;
    }
    file_insert_own(fw, "etc/e820", e820, n);

    /* etc/system-states: S0..S5, bit 7 = enabled, low bits = SLP_TYP. */
    uint8_t states[6] = {0x80, 0x00, 0x00, 0x81, 0x82, 0x80};
    states[3] = (uint8_t)(1 | (c->disable_s3 ? 0 : 0x80));
    states[4] = (uint8_t)(c->s4_val | (c->disable_s4 ? 0 : 0x80));
    file_insert_own(fw, "etc/system-states", states, sizeof(states));

    /* etc/smi/ only when the host offers something (§4.6). */
    if (fw->smi_host_features) {
        uint8_t supported[8], zero[8] = {0};
        put_le(supported, fw->smi_host_features, 8);
        file_insert_own(fw, "etc/smi/supported-features", supported, 8);
        file_insert_own(fw, "etc/smi/requested-features", zero, 8)->writable = true;
        file_insert_own(fw, "etc/smi/features-ok", zero, 1)->validates_smi = true;
        /* Item structs move when the file array is re-sorted, their heap
         * buffers never do: keep pointers to the buffers only. */
        fw->smi_requested = fw_cfg_find_file(fw, "etc/smi/requested-features", NULL)->data;
        fw->smi_ok = fw_cfg_find_file(fw, "etc/smi/features-ok", NULL)->data;
    }
}

void fw_cfg_init(struct fw_cfg *fw, const struct fw_cfg_config *cfg, struct mem_system *sys,
                 struct mem_region *io, struct address_space *dma_as)
{
    *fw = (struct fw_cfg){.cfg = *cfg, .dma_as = dma_as};
    fw->smi_host_features = (cfg->smi_broadcast ? FW_CFG_SMI_F_BROADCAST : 0) |
                            (cfg->smi_cpu_hotplug ? FW_CFG_SMI_F_CPU_HOTPLUG : 0) |
                            (cfg->smi_cpu_hotunplug ? FW_CFG_SMI_F_CPU_HOT_UNPLUG : 0);

    fixed_set(fw, FW_CFG_SIGNATURE, "QEMU", 4);
    fixed_set_le(fw, FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA, 4);
    fixed_set_le(fw, FW_CFG_RAM_SIZE, cfg->ram_below_4g_bytes + cfg->ram_above_4g_bytes, 8);
    fixed_set_le(fw, FW_CFG_NB_CPUS, cfg->nb_cpus, 2);
    fixed_set_le(fw, FW_CFG_MAX_CPUS, cfg->max_cpus, 2);
    /* NUMA: node count 0, one u64 (node 0) per APIC ID below MAX_CPUS, no node sizes. */
    size_t numa_len = 8 * (1 + (size_t)cfg->max_cpus);
    uint8_t *numa = xcalloc(1, numa_len);
    fixed_set(fw, FW_CFG_NUMA, numa, numa_len);
    free(numa);
    directory_rebuild(fw);
    add_platform_files(fw);

    mem_region_add(io, mem_region_mmio(sys, "fwcfg", 2, &fw_cfg_port_ops, fw), FW_CFG_PORT_SEL, 0);
    mem_region_add(io, mem_region_mmio(sys, "fwcfg.dma", 8, &fw_cfg_dma_ops, fw), FW_CFG_PORT_DMA,
                   0);
}

void fw_cfg_reset(struct fw_cfg *fw)
{
    /* §7.1: negotiation unlocked and forgotten; selector back on the
     * signature, as QEMU 7.2 does; DMA address 0 as §7.1 states (QEMU 7.2
     * keeps a high half written before the reset - checked with a ROM - but
     * firmware always writes both halves, and the spec rules). */
    if (fw->smi_requested) {
        memset(fw->smi_requested, 0, 8);
        *fw->smi_ok = 0;
    }
    fw->smi_negotiated = 0;
    fw->dma_addr = 0;
    fw_cfg_select(fw, FW_CFG_SIGNATURE);
}

void fw_cfg_free(struct fw_cfg *fw)
{
    for (unsigned a = 0; a < 2; a++)
        for (unsigned k = 0; k < FW_CFG_FIXED_KEYS; k++)
            free(fw->fixed[a][k].data);
    for (unsigned i = 0; i < fw->n_files; i++)
        free(fw->files[i].item.data);
    free(fw->files);
    *fw = (struct fw_cfg){0};
}
