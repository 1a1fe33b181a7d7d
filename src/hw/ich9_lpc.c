/*
 * ich9_lpc.c - ICH9 LPC bridge, PCI 00:1F.0: identity, config storage with
 * QEMU's write masks and reset values (hw/isa/lpc_ich9.c), and the reset
 * control register at 0xCF9. Contract: platform.md §3.1, §3.10, §7.1.
 *
 * What lives elsewhere: the PM I/O block, SMI_EN and the APM ports hook in
 * through pm_hook (see ich9_lpc.h).
 */
#include "hw/ich9_lpc.h"

#include <string.h>

void ich9_lpc_props_default(struct ich9_lpc_props *props)
{
    *props = (struct ich9_lpc_props){
        .smi_broadcast = true,
        .smi_cpu_hotplug = true,
        .smi_cpu_hotunplug = true,
        .disable_s3 = 0,
        .disable_s4 = 0,
        .s4_val = 2,
    };
}

uint16_t ich9_lpc_pm_base(const struct ich9_lpc *lpc)
{
    if (!(lpc->cfg.bytes[ICH9_LPC_ACPI_CTRL] & ICH9_LPC_ACPI_CTRL_ACPI_EN))
        return 0;
    return (uint16_t)(pci_space_get(lpc->cfg.bytes, ICH9_LPC_PMBASE, 4) & ICH9_LPC_PMBASE_MASK);
}

uint32_t ich9_lpc_config_read(struct ich9_lpc *lpc, unsigned offset, unsigned size)
{
    return pci_space_read(&lpc->cfg, offset, size);
}

void ich9_lpc_config_write(struct ich9_lpc *lpc, unsigned offset, uint32_t value, unsigned size)
{
    pci_space_merge(&lpc->cfg, offset, value, size);
    bool pm = pci_ranges_overlap(offset, size, ICH9_LPC_PMBASE, 5);
    if (pci_ranges_overlap(offset, size, ICH9_LPC_GEN_PMCON_1, 8)) {
        /* SMI_LOCK is write-once: once set it cannot be cleared, not even by a system
         * reset, which leaves GEN_PMCON_1 alone (§3.7, §7.1). */
        if (lpc->cfg.bytes[ICH9_LPC_GEN_PMCON_1] & ICH9_LPC_GEN_PMCON_1_SMI_LOCK)
            lpc->cfg.wmask[ICH9_LPC_GEN_PMCON_1] &= (uint8_t)~ICH9_LPC_GEN_PMCON_1_SMI_LOCK;
        pm = true;
    }
    lpc->pm_hook_gen_pmcon = pci_ranges_overlap(offset, size, ICH9_LPC_GEN_PMCON_1, 8);
    if (pm && lpc->pm_hook)
        lpc->pm_hook(lpc->pm_opaque, lpc);
    lpc->pm_hook_gen_pmcon = false;
}

static uint32_t lpc_pci_read(void *opaque, unsigned offset, unsigned size)
{
    return ich9_lpc_config_read(opaque, offset, size);
}

static void lpc_pci_write(void *opaque, unsigned offset, uint32_t value, unsigned size)
{
    ich9_lpc_config_write(opaque, offset, value, size);
}

static const struct pci_function_ops lpc_pci_ops = {
    .config_read = lpc_pci_read,
    .config_write = lpc_pci_write,
};

/* 0xCF9: RST_CPU (bit 2) requests a system reset; SYS_RST and FULL_RST are stored. */
static uint8_t rst_cnt_read(void *opaque)
{
    const struct ich9_lpc *lpc = opaque;
    return lpc->rst_cnt;
}

static void rst_cnt_write(void *opaque, uint8_t value)
{
    struct ich9_lpc *lpc = opaque;
    if (value & ICH9_RST_CNT_RST_CPU) {
        if (lpc->on_reset_request)
            lpc->on_reset_request(lpc->owner);
        return;
    }
    lpc->rst_cnt = value & (ICH9_RST_CNT_SYS_RST | ICH9_RST_CNT_FULL_RST);
}

void ich9_lpc_reset(struct ich9_lpc *lpc)
{
    uint8_t *cfg = lpc->cfg.bytes;
    pci_space_set(cfg, PCI_COMMAND, 0, 2);
    pci_space_set(cfg, PCI_STATUS, 0, 2);
    cfg[0x0C] = 0;
    cfg[0x3C] = 0;
    pci_space_set(cfg, ICH9_LPC_PMBASE, ICH9_LPC_PMBASE_DEFAULT, 4);
    cfg[ICH9_LPC_ACPI_CTRL] = 0;
    for (unsigned k = 0; k < 4; k++) {
        cfg[ICH9_LPC_PIRQA_ROUT + k] = ICH9_LPC_PIRQ_DEFAULT;
        cfg[ICH9_LPC_PIRQE_ROUT + k] = ICH9_LPC_PIRQ_DEFAULT;
    }
    pci_space_set(cfg, ICH9_LPC_RCBA, 0, 4);
    lpc->rst_cnt = 0;
    if (lpc->pm_hook)
        lpc->pm_hook(lpc->pm_opaque, lpc);
}

void ich9_lpc_set_pm_hook(struct ich9_lpc *lpc, ich9_lpc_pm_hook_fn hook, void *opaque)
{
    lpc->pm_hook = hook;
    lpc->pm_opaque = opaque;
}

void ich9_lpc_init(struct ich9_lpc *lpc, const struct ich9_lpc_props *props, struct pci_host *pci,
                   ich9_lpc_reset_request_fn on_reset_request, void *owner)
{
    *lpc = (struct ich9_lpc){.props = *props, .on_reset_request = on_reset_request, .owner = owner};
    uint8_t *cfg = lpc->cfg.bytes, *w = lpc->cfg.wmask;
    pci_space_set(cfg, PCI_VENDOR_ID, ICH9_LPC_VENDOR_ID, 2);
    pci_space_set(cfg, PCI_DEVICE_ID, ICH9_LPC_DEVICE_ID, 2);
    cfg[PCI_REVISION_ID] = ICH9_LPC_REVISION;
    pci_space_set(cfg, PCI_CLASS_DEVICE, 0x0601, 2);
    cfg[PCI_HEADER_TYPE] = 0x80; /* multi-function: QEMU puts SATA/SMBus at 1F.2/1F.3 */
    pci_space_set(cfg, PCI_SUBSYSTEM_VENDOR_ID, 0x1AF4, 2);
    pci_space_set(cfg, PCI_SUBSYSTEM_ID, 0x1100, 2);
    pci_space_set(w, PCI_COMMAND, 0x0507, 2);
    w[0x0C] = 0xFF;
    w[0x3C] = 0xFF;
    memset(w + 0x40, 0xFF, PCI_CONFIG_SIZE - 0x40);
    pci_space_set(w, ICH9_LPC_PMBASE, ICH9_LPC_PMBASE_WMASK, 4);
    w[ICH9_LPC_ACPI_CTRL] = ICH9_LPC_ACPI_CTRL_WMASK;
    pci_space_set(w, ICH9_LPC_RCBA, ICH9_LPC_RCBA_WMASK, 4);

    pci_register_function(pci, 0, PCI_DEVFN(ICH9_LPC_DEV, ICH9_LPC_FUNC), "ICH9-LPC", &lpc_pci_ops,
                          lpc);
    pci_host_set_cf9_hook(pci, &(struct pci_port_hook){rst_cnt_read, rst_cnt_write, lpc});
    ich9_lpc_reset(lpc);
}
