/*
 * fw_cfg.h - QEMU's firmware configuration device on I/O ports 0x510-0x51B
 * (selector, data, DMA) with its fixed items, the file directory, the
 * platform files and the SMI feature negotiation of platform.md §4.
 *
 * Board wiring (src/machine/machine.c):
 *
 *     struct fw_cfg_config fc = {
 *         .ram_below_4g_bytes = m->below_4g_bytes,   // TOLUD
 *         .ram_above_4g_bytes = m->above_4g_bytes,
 *         .nb_cpus = boot_cpus, .max_cpus = apic_id_limit,
 *         .smi_broadcast = true, .smi_cpu_hotplug = true, .smi_cpu_hotunplug = true,
 *         .s4_val = 2,
 *         .log = cfg->log, .log_guest_errors = cfg->log_guest_errors,
 *         .clock_ns = &m->virtual_time,
 *     };
 *     fw_cfg_init(&m->fw_cfg, &fc, &m->mem, m->io_root, m->as_memory);
 *     fw_cfg_add_file(&m->fw_cfg, "opt/...", data, len);   // -fw_cfg name=,file=
 *     fw_cfg_add_string(&m->fw_cfg, "opt/...", str);        // -fw_cfg name=,string=
 *
 * - Ports: fw_cfg_init maps 0x510-0x511 (selector/data) and 0x514-0x51B (DMA)
 *   into `io`, the root container of the port address space.
 * - DMA: `dma_as` MUST be the normal view (address space `memory`), never an
 *   SMM view: DMA is a bus-master access and locked SMRAM blocks it (§1.4).
 * - SMI: the ICH9 LPC reads fw_cfg_smi_negotiated() for §3.9 (bit 0,
 *   broadcast) and the hot-plug block for §5.6 (bits 1, 2); the monitor shows
 *   it in `info smram` and as `x-smi-negotiated-features`.
 * - Hot-plug: call fw_cfg_set_nb_cpus() after every hot-add and eject.
 * - Reset: call fw_cfg_reset() on system reset and on S3 wake (§7.1).
 * - Teardown: fw_cfg_free() releases the item buffers; the port regions
 *   belong to `sys` and go with mem_system_free(). No port access may reach
 *   the device between the two.
 *
 * Add every file before the guest runs: file keys are renumbered in name
 * order on each addition, as in QEMU (firmware looks files up by name).
 * `struct fw_cfg` must not move after fw_cfg_init (the port regions point at
 * it). All state is in the struct; nothing reads host state.
 */
#ifndef SMMVM_HW_FW_CFG_H
#define SMMVM_HW_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h> /* FILE for the guest_errors log */

struct mem_system;
struct mem_region;
struct address_space;

#define FW_CFG_PORT_SEL  0x510 /* w write: selector */
#define FW_CFG_PORT_DATA 0x511 /* b read: data */
#define FW_CFG_PORT_DMA  0x514 /* 0x514-0x517 address high, 0x518-0x51B low (BE) */

/* Item keys (platform.md §4.4). */
#define FW_CFG_SIGNATURE     0x0000
#define FW_CFG_ID            0x0001
#define FW_CFG_RAM_SIZE      0x0003
#define FW_CFG_NB_CPUS       0x0005
#define FW_CFG_NUMA          0x000D
#define FW_CFG_MAX_CPUS      0x000F
#define FW_CFG_FILE_DIR      0x0019
#define FW_CFG_FILE_FIRST    0x0020
#define FW_CFG_WRITE_CHANNEL 0x4000 /* ignored by the selector (§4.3) */
#define FW_CFG_ARCH_LOCAL    0x8000
#define FW_CFG_ENTRY_MASK    0x3FFF
#define FW_CFG_FIXED_KEYS    0x20 /* keys 0x0000-0x001F and 0x8000-0x801F hold fixed items */

#define FW_CFG_ID_TRADITIONAL 0x01
#define FW_CFG_ID_DMA         0x02

/* DMA control word (§4.2). */
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10
#define FW_CFG_DMA_SIGNATURE  0x51454D5520434647ull /* "QEMU CFG", big endian */

#define FW_CFG_MAX_FILE_PATH 56 /* name bytes in a directory entry, NUL included */
#define FW_CFG_MAX_FILES     (FW_CFG_ENTRY_MASK + 1 - FW_CFG_FILE_FIRST)

/* SMI feature bits (§4.6). */
#define FW_CFG_SMI_F_BROADCAST      (1ull << 0)
#define FW_CFG_SMI_F_CPU_HOTPLUG    (1ull << 1)
#define FW_CFG_SMI_F_CPU_HOT_UNPLUG (1ull << 2)

struct fw_cfg_config {
    uint64_t ram_below_4g_bytes; /* TOLUD: low RAM [0, TOLUD) */
    uint64_t ram_above_4g_bytes; /* RAM from 4 GiB, 0 if none */
    uint16_t nb_cpus;            /* present CPUs at power-on */
    uint16_t max_cpus;           /* highest possible APIC ID + 1, not maxcpus (§4.4) */
    /* Host SMI features H: -global ICH9-LPC.x-smi-broadcast, x-smi-cpu-hotplug,
     * x-smi-cpu-hotunplug (all on by default on the command line). All off: no
     * etc/smi/ files at all. */
    bool smi_broadcast, smi_cpu_hotplug, smi_cpu_hotunplug;
    /* etc/system-states: -global ICH9-LPC.disable_s3, disable_s4, s4_val
     * (command-line defaults 0, 0, 2). */
    bool disable_s3, disable_s4;
    uint8_t s4_val;
    /* guest_errors log: one line per cause; NULL or !log_guest_errors = silent. */
    FILE *log;
    bool log_guest_errors;
    const uint64_t *clock_ns; /* virtual time for log lines; NULL prints t=0 */
};

struct fw_cfg_item {
    uint8_t *data; /* owned; NULL: the key reads as zeroes */
    uint32_t len;
    bool writable;      /* DMA writes allowed (only etc/smi/requested-features) */
    bool validates_smi; /* select action: the §4.6 validation (etc/smi/features-ok) */
};

struct fw_cfg_file {
    char name[FW_CFG_MAX_FILE_PATH];
    struct fw_cfg_item item;
};

struct fw_cfg {
    struct fw_cfg_config cfg;
    struct address_space *dma_as;

    struct fw_cfg_item fixed[2][FW_CFG_FIXED_KEYS]; /* [arch-local][key & 0x1F] */
    struct fw_cfg_file *files; /* sorted by name; key = FW_CFG_FILE_FIRST + index */
    unsigned n_files, cap_files;

    /* Traditional interface. */
    uint16_t cur_key; /* as written, minus FW_CFG_WRITE_CHANNEL */
    uint32_t cur_offset;
    /* DMA address register; reads back as zero after each transfer. */
    uint64_t dma_addr;

    /* SMI negotiation (§4.6): H, and R / OK as the bytes of their files. */
    uint64_t smi_host_features;
    uint8_t *smi_requested;  /* 8 bytes LE, buffer of etc/smi/requested-features */
    uint8_t *smi_ok;         /* 1 byte, buffer of etc/smi/features-ok */
    uint64_t smi_negotiated; /* N */

    unsigned logged_causes; /* guest_errors already reported, one bit per cause */
};

enum fw_cfg_error {
    FW_CFG_OK = 0,
    FW_CFG_ERR_NAME_EMPTY,    /* "" */
    FW_CFG_ERR_NAME_TOO_LONG, /* strlen(name) > FW_CFG_MAX_FILE_PATH - 1 */
    FW_CFG_ERR_DUPLICATE,     /* QEMU: "duplicate fw_cfg file name: NAME" */
    FW_CFG_ERR_TOO_BIG,       /* len does not fit the directory's u32 size */
    FW_CFG_ERR_FULL,          /* no key left */
};

/* Power-on state: fixed items, etc/e820, etc/system-states and, if H != 0,
 * the three etc/smi/ files; maps the ports. */
void fw_cfg_init(struct fw_cfg *fw, const struct fw_cfg_config *cfg, struct mem_system *sys,
                 struct mem_region *io, struct address_space *dma_as);
void fw_cfg_free(struct fw_cfg *fw);

/* System reset and S3 wake (§7.1): selector 0, DMA address 0, R := 0, OK :=
 * 0, N := 0 (negotiation unlocked). Files and NB_CPUS are kept. */
void fw_cfg_reset(struct fw_cfg *fw);

/* A read-only file with a copy of `data` (the caller keeps its buffer). */
enum fw_cfg_error fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data,
                                  size_t len);
/* A read-only file holding the bytes of `str` without its NUL, as QEMU's
 * -fw_cfg string= does. */
enum fw_cfg_error fw_cfg_add_string(struct fw_cfg *fw, const char *name, const char *str);
/* One line, for "smmvm: -fw_cfg: <text>". */
const char *fw_cfg_strerror(enum fw_cfg_error err);

/* NB_CPUS after a hot-add (+1) or eject (-1). */
void fw_cfg_set_nb_cpus(struct fw_cfg *fw, uint16_t nb_cpus);

/* N: the SMI features firmware negotiated, 0 until features-ok reads 1. */
uint64_t fw_cfg_smi_negotiated(const struct fw_cfg *fw);
/* H, as etc/smi/supported-features reports it. */
uint64_t fw_cfg_smi_host_features(const struct fw_cfg *fw);
/* OK: negotiation accepted and locked until reset. */
bool fw_cfg_smi_is_locked(const struct fw_cfg *fw);

/* The item behind `key` (selector semantics: 0x4000 ignored), or NULL. For
 * the monitor and tests; the guest sees items only through the ports. */
const struct fw_cfg_item *fw_cfg_find_key(const struct fw_cfg *fw, uint16_t key);
/* The file named `name`, or NULL; *key_out (if not NULL) gets its key. */
const struct fw_cfg_item *fw_cfg_find_file(const struct fw_cfg *fw, const char *name,
                                           uint16_t *key_out);

#endif
