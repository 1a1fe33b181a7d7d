/*
 * pci.h - the PCI host side of the Q35 board: configuration mechanism #1
 * (CONFIG_ADDRESS at 0xCF8, 32-bit only; CONFIG_DATA at 0xCFC-0xCFF, any
 * width), PCIe ECAM (MMCONFIG) as an MMIO window the MCH moves, and a small
 * registry of functions (bus/device/function -> config ops + opaque).
 * Contract: platform.md §1.6 and §1.7.
 *
 * Functions see offsets 0x00-0xFF only, with accesses that do not cross
 * 0x100; absent functions and bytes 0x100-0xFFF read all-ones and ignore
 * writes here, so no device has to care.
 */
#ifndef SMMVM_HW_PCI_H
#define SMMVM_HW_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct mem_system;
struct mem_region;

#define PCI_MAX_FUNCTIONS  16
#define PCI_CONFIG_SIZE    256
#define PCI_DEVFN(dev, fn) ((uint8_t)(((dev) << 3) | (fn)))

/* Standard header offsets used by more than one device. */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0A
#define PCI_HEADER_TYPE         0x0E
#define PCI_SUBSYSTEM_VENDOR_ID 0x2C
#define PCI_SUBSYSTEM_ID        0x2E

struct pci_function_ops {
    /* offset + size <= 0x100, size 1, 2 or 4 */
    uint32_t (*config_read)(void *opaque, unsigned offset, unsigned size);
    void (*config_write)(void *opaque, unsigned offset, uint32_t value, unsigned size);
};

struct pci_function {
    uint8_t bus, devfn;
    const char *name; /* for `info pci` */
    const struct pci_function_ops *ops;
    void *opaque;
};

/* Optional handler for byte accesses at 0xCF9 (ICH9 reset control, §3.10),
 * which sits inside the 4-byte CONFIG_ADDRESS window: in QEMU an access goes
 * whole to the region holding its first byte, so `outl 0xCF8` reaches
 * CONFIG_ADDRESS and `outb 0xCF9` the LPC. */
struct pci_port_hook {
    uint8_t (*read)(void *opaque);
    void (*write)(void *opaque, uint8_t value);
    void *opaque;
};

struct pci_host {
    uint32_t config_address;
    struct pci_function funcs[PCI_MAX_FUNCTIONS];
    unsigned n_funcs;
    struct pci_port_hook cf9;
    struct mem_region *ecam; /* "pcie-mmcfg-mmio" in system, disabled until PCIEXBAR.EN */
};

void pci_host_init(struct pci_host *h, struct mem_system *sys, struct mem_region *io,
                   struct mem_region *system);
/* Registers a function; BUG_ON on a duplicate or a full table (board wiring, not input). */
void pci_register_function(struct pci_host *h, uint8_t bus, uint8_t devfn, const char *name,
                           const struct pci_function_ops *ops, void *opaque);
void pci_host_set_cf9_hook(struct pci_host *h, const struct pci_port_hook *hook);

/* Config access as the CPU sees it through either mechanism: any offset 0-0xFFF, size
 * 1, 2 or 4. Absent function or offset >= 0x100: all-ones / ignored. */
uint32_t pci_config_read(struct pci_host *h, uint8_t bus, uint8_t devfn, unsigned offset,
                         unsigned size);
void pci_config_write(struct pci_host *h, uint8_t bus, uint8_t devfn, unsigned offset,
                      uint32_t value, unsigned size);

/* Maps the ECAM window at base with size bytes (a multiple of 1 MiB), or unmaps it. */
void pci_host_set_ecam(struct pci_host *h, bool enabled, uint64_t base, uint64_t size);

/* Reset: CONFIG_ADDRESS := 0 (the function registry is wiring, kept). */
void pci_host_reset(struct pci_host *h);

/* `info pci`: one block per function, in bus/devfn order, in QEMU's layout. */
void pci_print_info(struct pci_host *h, FILE *out);

/* Generic config-space storage with QEMU's write-mask merge, for device models:
 * a write merges each byte as new = (old & ~wmask) | (value & wmask). */
struct pci_config_space {
    uint8_t bytes[PCI_CONFIG_SIZE];
    uint8_t wmask[PCI_CONFIG_SIZE];
};

uint32_t pci_space_read(const struct pci_config_space *s, unsigned offset, unsigned size);
void pci_space_merge(struct pci_config_space *s, unsigned offset, uint32_t value, unsigned size);
/* Plain stores for reset values and masks (little endian). */
void pci_space_set(uint8_t *bytes, unsigned offset, uint64_t value, unsigned size);
uint64_t pci_space_get(const uint8_t *bytes, unsigned offset, unsigned size);
/* True if [offset, offset+size) overlaps [start, start+len). */
static inline bool pci_ranges_overlap(unsigned offset, unsigned size, unsigned start, unsigned len)
{
    return offset < start + len && start < offset + size;
}

#endif
