/*
 * pci.c - PCI configuration mechanism #1, PCIe ECAM and the function
 * registry. Contract: platform.md §1.6 (CF8/CFC) and §1.7 (the ECAM window;
 * the MCH decides where it is, this file only answers inside it).
 *
 * CONFIG_ADDRESS: bit 31 enable, 23:16 bus, 15:11 device, 10:8 function,
 * 7:2 dword. Only a dword write at 0xCF8 changes it (as QEMU's
 * pci_host_config_write); narrower reads return its low bytes, as QEMU's
 * memory core makes of pci_host_config_read. With bit 31 clear, CONFIG_DATA
 * reads all-ones and ignores writes.
 *
 * ECAM: offset = bus << 20 | devfn << 12 | register, 1-4 byte accesses (wider
 * ones are split by mem/). QEMU answers past a function's config size with
 * all-ones, which for these conventional functions is 0x100-0xFFF.
 */
#include "hw/pci.h"

#include <string.h>

#include "mem/memory.h"
#include "util.h"

#define CF8_ENABLE 0x80000000u

static uint32_t ones(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

static struct pci_function *find_function(struct pci_host *h, uint8_t bus, uint8_t devfn)
{
    for (unsigned k = 0; k < h->n_funcs; k++)
        if (h->funcs[k].bus == bus && h->funcs[k].devfn == devfn)
            return &h->funcs[k];
    return NULL;
}

uint32_t pci_config_read(struct pci_host *h, uint8_t bus, uint8_t devfn, unsigned offset,
                         unsigned size)
{
    struct pci_function *f = find_function(h, bus, devfn);
    if (!f || offset >= PCI_CONFIG_SIZE)
        return ones(size);
    if (offset + size > PCI_CONFIG_SIZE) { /* straddles 0x100: the part above reads ones */
        unsigned in = PCI_CONFIG_SIZE - offset;
        uint32_t low = pci_config_read(h, bus, devfn, offset, in == 3 ? 1 : in);
        if (in == 3)
            low |= pci_config_read(h, bus, devfn, offset + 1, 2) << 8;
        return (low | (ones(size) & ~ones(in))) & ones(size);
    }
    return f->ops->config_read(f->opaque, offset, size) & ones(size);
}

void pci_config_write(struct pci_host *h, uint8_t bus, uint8_t devfn, unsigned offset,
                      uint32_t value, unsigned size)
{
    struct pci_function *f = find_function(h, bus, devfn);
    if (!f || offset >= PCI_CONFIG_SIZE)
        return;
    if (offset + size > PCI_CONFIG_SIZE) {
        for (unsigned i = 0; offset + i < PCI_CONFIG_SIZE; i++)
            f->ops->config_write(f->opaque, offset + i, (value >> (8 * i)) & 0xFF, 1);
        return;
    }
    f->ops->config_write(f->opaque, offset, value & ones(size), size);
}

/* ---- mechanism #1 ---- */

static uint64_t conf_idx_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_host *h = opaque;
    if (offset == 1 && h->cf9.read)
        return h->cf9.read(h->cf9.opaque);
    return (h->config_address >> (offset * 8)) & ones(size);
}

static void conf_idx_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pci_host *h = opaque;
    if (offset == 1 && h->cf9.write) {
        h->cf9.write(h->cf9.opaque, (uint8_t)value);
        return;
    }
    if (offset == 0 && size == 4)
        h->config_address = (uint32_t)value;
}

static const struct mem_ops conf_idx_ops = {
    .name = "pci-conf-idx",
    .read = conf_idx_read,
    .write = conf_idx_write,
    .min_access = 1,
    .max_access = 4,
};

/* QEMU's config-data and ECAM regions accept naturally aligned accesses only; a
 * misaligned one (a word at 0xCFD) is an invalid access there: it reads 0 and its write
 * is dropped. */
static bool misaligned(uint64_t offset, unsigned size)
{
    return (offset & (size - 1)) != 0;
}

static uint64_t conf_data_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_host *h = opaque;
    uint32_t a = h->config_address;
    if (misaligned(offset, size))
        return 0;
    if (!(a & CF8_ENABLE))
        return ones(size);
    return pci_config_read(h, (uint8_t)(a >> 16), (uint8_t)(a >> 8), (a & 0xFC) + (unsigned)offset,
                           size);
}

static void conf_data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pci_host *h = opaque;
    uint32_t a = h->config_address;
    if (!(a & CF8_ENABLE) || misaligned(offset, size))
        return;
    pci_config_write(h, (uint8_t)(a >> 16), (uint8_t)(a >> 8), (a & 0xFC) + (unsigned)offset,
                     (uint32_t)value, size);
}

static const struct mem_ops conf_data_ops = {
    .name = "pci-conf-data",
    .read = conf_data_read,
    .write = conf_data_write,
    .min_access = 1,
    .max_access = 4,
};

/* ---- ECAM ---- */

static uint64_t ecam_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_host *h = opaque;
    if (misaligned(offset, size))
        return 0;
    return pci_config_read(h, (uint8_t)(offset >> 20), (uint8_t)(offset >> 12),
                           (unsigned)(offset & 0xFFF), size);
}

static void ecam_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pci_host *h = opaque;
    if (misaligned(offset, size))
        return;
    pci_config_write(h, (uint8_t)(offset >> 20), (uint8_t)(offset >> 12),
                     (unsigned)(offset & 0xFFF), (uint32_t)value, size);
}

static const struct mem_ops ecam_ops = {
    .name = "pcie-mmcfg-mmio",
    .read = ecam_read,
    .write = ecam_write,
    .min_access = 1,
    .max_access = 4,
};

void pci_host_init(struct pci_host *h, struct mem_system *sys, struct mem_region *io,
                   struct mem_region *system)
{
    *h = (struct pci_host){0};
    mem_region_add(io, mem_region_mmio(sys, "pci-conf-idx", 4, &conf_idx_ops, h), 0xCF8, 0);
    mem_region_add(io, mem_region_mmio(sys, "pci-conf-data", 4, &conf_data_ops, h), 0xCFC, 0);
    h->ecam = mem_region_mmio(sys, "pcie-mmcfg-mmio", 256ull << 20, &ecam_ops, h);
    mem_region_set_enabled(h->ecam, false);
    mem_region_add(system, h->ecam, 0xB0000000, 0);
}

void pci_register_function(struct pci_host *h, uint8_t bus, uint8_t devfn, const char *name,
                           const struct pci_function_ops *ops, void *opaque)
{
    /* Only the board wires functions, from constants: never guest or user input. */
    BUG_ON(h->n_funcs == PCI_MAX_FUNCTIONS || find_function(h, bus, devfn));
    unsigned pos = h->n_funcs;
    while (pos > 0 && (h->funcs[pos - 1].bus > bus ||
                       (h->funcs[pos - 1].bus == bus && h->funcs[pos - 1].devfn > devfn))) {
        h->funcs[pos] = h->funcs[pos - 1];
        pos--;
    }
    h->funcs[pos] = (struct pci_function){bus, devfn, name, ops, opaque};
    h->n_funcs++;
}

void pci_host_set_cf9_hook(struct pci_host *h, const struct pci_port_hook *hook)
{
    h->cf9 = *hook;
}

void pci_host_set_ecam(struct pci_host *h, bool enabled, uint64_t base, uint64_t size)
{
    if (enabled) {
        mem_region_set_address(h->ecam, base);
        mem_region_set_size(h->ecam, size);
    }
    mem_region_set_enabled(h->ecam, enabled);
}

void pci_host_reset(struct pci_host *h)
{
    h->config_address = 0;
}

static const char *class_name(uint16_t cls)
{
    switch (cls) {
    case 0x0600:
        return "Host bridge";
    case 0x0601:
        return "ISA bridge";
    case 0x0604:
        return "PCI bridge";
    case 0x0106:
        return "SATA controller";
    case 0x0C05:
        return "SMBus";
    default:
        return "Class";
    }
}

void pci_print_info(struct pci_host *h, FILE *out)
{
    for (unsigned k = 0; k < h->n_funcs; k++) {
        const struct pci_function *f = &h->funcs[k];
        uint16_t cls = (uint16_t)pci_config_read(h, f->bus, f->devfn, PCI_CLASS_DEVICE, 2);
        const char *cname = class_name(cls);
        fprintf(out, "  Bus %2u, device %3u, function %u:\n", f->bus, f->devfn >> 3, f->devfn & 7);
        if (!strcmp(cname, "Class"))
            fprintf(out, "    Class %04x", cls);
        else
            fprintf(out, "    %s", cname);
        fprintf(out, ": PCI device %04x:%04x\n",
                pci_config_read(h, f->bus, f->devfn, PCI_VENDOR_ID, 2),
                pci_config_read(h, f->bus, f->devfn, PCI_DEVICE_ID, 2));
        fprintf(out, "      PCI subsystem %04x:%04x\n",
                pci_config_read(h, f->bus, f->devfn, PCI_SUBSYSTEM_VENDOR_ID, 2),
                pci_config_read(h, f->bus, f->devfn, PCI_SUBSYSTEM_ID, 2));
        fprintf(out, "      id \"\"\n"); /* QEMU prints the -device id; ours have none */
    }
}

/* ---- generic storage ---- */

uint64_t pci_space_get(const uint8_t *bytes, unsigned offset, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)bytes[offset + i] << (8 * i);
    return v;
}

void pci_space_set(uint8_t *bytes, unsigned offset, uint64_t value, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        bytes[offset + i] = (uint8_t)(value >> (8 * i));
}

uint32_t pci_space_read(const struct pci_config_space *s, unsigned offset, unsigned size)
{
    return (uint32_t)pci_space_get(s->bytes, offset, size);
}

void pci_space_merge(struct pci_config_space *s, unsigned offset, uint32_t value, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        uint8_t w = s->wmask[offset + i];
        uint8_t v = (uint8_t)(value >> (8 * i));
        s->bytes[offset + i] = (uint8_t)((s->bytes[offset + i] & ~w) | (v & w));
    }
}
