/*
 * q35_mch.h - the Q35 memory controller hub (host bridge, PCI 00:00.0): PAM,
 * PCIEXBAR, SMRAM 0x9D, ESMRAMC 0x9E, extended TSEG 0x50, the QEMU-specific
 * default-SMBASE SMRAM control 0x9C, and the memory regions they switch.
 * Contract: platform.md §1.7, §1.8 and §2.
 */
#ifndef SMMVM_HW_Q35_MCH_H
#define SMMVM_HW_Q35_MCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hw/pci.h" /* struct pci_config_space */

struct mem_system;
struct mem_region;

#define MCH_VENDOR_ID 0x8086
#define MCH_DEVICE_ID 0x29C0

#define MCH_EXT_TSEG_MBYTES     0x50 /* w */
#define MCH_EXT_TSEG_QUERY      0xFFFF
#define MCH_EXT_TSEG_MBYTES_MAX 4095
#define MCH_GGC                 0x52 /* w */
#define MCH_PCIEXBAR            0x60 /* q */
#define MCH_PCIEXBAR_DEFAULT    0xB0000000ull
#define MCH_PCIEXBAR_EN         0x1ull
#define MCH_PCIEXBAR_LENGTH     0x6ull
#define MCH_PAM0                0x90
#define MCH_PAM_COUNT           7
#define MCH_PAM_SEGMENTS        13
#define MCH_SMBASE_CTL          0x9C /* b, QEMU-specific ("F_SMBASE") */
#define MCH_SMBASE_QUERY        0xFF
#define MCH_SMBASE_IN_RAM       0x01
#define MCH_SMBASE_LCK          0x02
#define MCH_SMBASE_ADDR         0x30000
#define MCH_SMBASE_SIZE         0x20000
#define MCH_SMRAM               0x9D /* b */
#define MCH_SMRAM_D_OPEN        0x40
#define MCH_SMRAM_D_CLS         0x20
#define MCH_SMRAM_D_LCK         0x10
#define MCH_SMRAM_G_SMRAME      0x08
#define MCH_SMRAM_C_BASE_SEG    0x02
#define MCH_SMRAM_DEFAULT       0x02
#define MCH_SMRAM_WMASK         0x78
#define MCH_SMRAM_WMASK_LCK     0x20
#define MCH_ESMRAMC             0x9E /* b */
#define MCH_ESMRAMC_H_SMRAME    0x80
#define MCH_ESMRAMC_TSEG_SZ     0x06
#define MCH_ESMRAMC_T_EN        0x01
#define MCH_ESMRAMC_DEFAULT     0x38
#define MCH_ESMRAMC_WMASK       0x87
#define MCH_ESMRAMC_WMASK_LCK   0x00
#define MCH_GBSM                0xA4 /* d */
#define MCH_BGSM                0xA8 /* d */
#define MCH_TSEGMB              0xAC /* d */
#define MCH_TOLUD               0xB0 /* w */

/* -global mch.PROP=VALUE */
struct q35_mch_props {
    bool smbase_smram;        /* mch.smbase-smram, default on */
    uint16_t ext_tseg_mbytes; /* mch.extended-tseg-mbytes, default 16, at most 4095 */
};

/* The 0x9C state machine of platform.md §2.7 (feature on). */
enum mch_smbase_state {
    MCH_SMBASE_STATE_A, /* reset: reads 0x00, window is RAM */
    MCH_SMBASE_STATE_B, /* queried: reads 0x01, window is RAM */
    MCH_SMBASE_STATE_C, /* locked: reads 0x02, window black-holed for non-SMM */
};

struct q35_mch {
    struct pci_config_space cfg;
    struct q35_mch_props props;
    enum mch_smbase_state smbase_state;
    uint64_t tolud;
    struct pci_host *pci;
    FILE *log; /* guest errors, NULL = quiet */
    bool logged_reserved_length;

    /* PAM: per segment the four aliases indexed by field value (QEMU's pam.c order). */
    struct mem_region *pam[MCH_PAM_SEGMENTS][4];
    /* in `system` */
    struct mem_region *smram_region, *open_high_smram, *tseg_blackhole, *smbase_blackhole;
    /* in the machine-wide `smram` container */
    struct mem_region *low_smram, *high_smram, *tseg_window, *smbase_window;
};

/* Creates the regions and registers 00:00.0; leaves the power-on state (all of 0x40-0xFF
 * zero, then the reset values). ram is `pc.ram`, pci_space the `pci` container. */
void q35_mch_init(struct q35_mch *mch, const struct q35_mch_props *props, struct mem_system *sys,
                  struct pci_host *pci, struct mem_region *system, struct mem_region *pci_space,
                  struct mem_region *ram, struct mem_region *smram, uint64_t tolud, FILE *log);
/* System reset and S3 wake (platform.md §7.1): PAM and other storage bytes are kept. */
void q35_mch_reset(struct q35_mch *mch);

/* Config-space access as through 00:00.0 (offset < 0x100, no crossing). */
uint32_t q35_mch_config_read(struct q35_mch *mch, unsigned offset, unsigned size);
void q35_mch_config_write(struct q35_mch *mch, unsigned offset, uint32_t value, unsigned size);

/* Derived state, for `info smram`, tests and the auditor. */
uint64_t q35_mch_tseg_bytes(const struct q35_mch *mch);
const char *q35_mch_smbase_state_name(const struct q35_mch *mch);
void q35_mch_print_smram(const struct q35_mch *mch, FILE *out);

#endif
