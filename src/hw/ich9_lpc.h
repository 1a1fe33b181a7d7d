/*
 * ich9_lpc.h - the ICH9 LPC bridge (PCI 00:1F.0): its PCI identity and
 * configuration storage (PMBASE 0x40, ACPI_CTRL 0x44, GEN_PMCON_1 0xA0),
 * reset control at I/O 0xCF9, and the -global ICH9-LPC.* properties.
 * Contract: platform.md §3.1 and §3.10.
 *
 * The PM block (PM1, GPE0, SMI_EN/SMI_STS), APM and SMI raising are not
 * here yet; they attach through ich9_lpc_set_pm_hook(): the hook runs after
 * every config write that overlaps PMBASE, ACPI_CTRL or GEN_PMCON_1, and
 * after reset, and decides where (and whether) the PM block is decoded.
 */
#ifndef SMMVM_HW_ICH9_LPC_H
#define SMMVM_HW_ICH9_LPC_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pci.h" /* struct pci_config_space */

#define ICH9_LPC_VENDOR_ID 0x8086
#define ICH9_LPC_DEVICE_ID 0x2918
#define ICH9_LPC_REVISION  0x02
#define ICH9_LPC_DEV       31
#define ICH9_LPC_FUNC      0

#define ICH9_LPC_PMBASE               0x40 /* d */
#define ICH9_LPC_PMBASE_DEFAULT       0x00000001u
/* QEMU 7.2 stores ACPI_CTRL's mask (0x87) into byte 0x40 as well, so bits 2:0 of PMBASE
 * are writable and bit 0 can be cleared; platform.md §3.1 says 15:7 only. We follow the
 * reference (tests/rom/q35_pci.S); the decode uses bits 15:7 either way. */
#define ICH9_LPC_PMBASE_WMASK         0x0000FF87u
#define ICH9_LPC_PMBASE_MASK          0xFF80u
#define ICH9_LPC_ACPI_CTRL            0x44 /* b */
#define ICH9_LPC_ACPI_CTRL_ACPI_EN    0x80
#define ICH9_LPC_ACPI_CTRL_WMASK      0xFF /* QEMU 7.2: default mask (see PMBASE) */
#define ICH9_LPC_PIRQA_ROUT           0x60 /* 4 x b */
#define ICH9_LPC_PIRQE_ROUT           0x68 /* 4 x b */
#define ICH9_LPC_PIRQ_DEFAULT         0x80
#define ICH9_LPC_GEN_PMCON_1          0xA0 /* w; 0xA0-0xA7 is the group QEMU watches */
#define ICH9_LPC_GEN_PMCON_1_SMI_LOCK 0x10
#define ICH9_LPC_RCBA                 0xF0        /* d */
#define ICH9_LPC_RCBA_WMASK           0xFFFFFFFFu /* QEMU 7.2 leaves the default mask */

#define ICH9_RST_CNT_PORT     0xCF9
#define ICH9_RST_CNT_SYS_RST  0x02
#define ICH9_RST_CNT_RST_CPU  0x04
#define ICH9_RST_CNT_FULL_RST 0x08

/* -global ICH9-LPC.PROP=VALUE (platform.md §1.3); stored for the PM block and fw_cfg. */
struct ich9_lpc_props {
    bool smi_broadcast;     /* x-smi-broadcast, default on */
    bool smi_cpu_hotplug;   /* x-smi-cpu-hotplug, default on */
    bool smi_cpu_hotunplug; /* x-smi-cpu-hotunplug, default on */
    uint8_t disable_s3;     /* default 0 */
    uint8_t disable_s4;     /* default 0 */
    uint8_t s4_val;         /* default 2 */
};

struct ich9_lpc;
typedef void (*ich9_lpc_pm_hook_fn)(void *opaque, struct ich9_lpc *lpc);
typedef void (*ich9_lpc_reset_request_fn)(void *owner);

struct ich9_lpc {
    struct pci_config_space cfg;
    struct ich9_lpc_props props;
    uint8_t rst_cnt;
    ich9_lpc_reset_request_fn on_reset_request;
    void *owner;
    ich9_lpc_pm_hook_fn pm_hook;
    bool pm_hook_gen_pmcon; /* the write that ran the hook touched 0xA0-0xA7 */
    void *pm_opaque;
};

void ich9_lpc_props_default(struct ich9_lpc_props *props);
/* Registers 00:1F.0 and the 0xCF9 hook; power-on state. */
void ich9_lpc_init(struct ich9_lpc *lpc, const struct ich9_lpc_props *props, struct pci_host *pci,
                   ich9_lpc_reset_request_fn on_reset_request, void *owner);
/* System reset and S3 wake (platform.md §7.1): GEN_PMCON_1 is kept. */
void ich9_lpc_reset(struct ich9_lpc *lpc);
void ich9_lpc_set_pm_hook(struct ich9_lpc *lpc, ich9_lpc_pm_hook_fn hook, void *opaque);

uint32_t ich9_lpc_config_read(struct ich9_lpc *lpc, unsigned offset, unsigned size);
void ich9_lpc_config_write(struct ich9_lpc *lpc, unsigned offset, uint32_t value, unsigned size);

/* The PM block base if ACPI_EN = 1 and the base is non-zero, else 0 (§3.1). */
uint16_t ich9_lpc_pm_base(const struct ich9_lpc *lpc);

#endif
