/*
 * hw.h - port I/O, MSRs, CPUID, MMIO and PCI configuration access for smmfw.
 * Contract: ../shared/spec/platform.md §1.6 (PCI), §3 (LPC), §6.1 (APIC SMI delivery).
 * Everything here is static inline so the boot image and the SMM image each get their own copy.
 */
#ifndef SMMFW_HW_H
#define SMMFW_HW_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline void cpu_pause(void)
{
    __asm__ volatile("pause" : : : "memory");
}
static inline void cpu_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint32_t mmio_read32(uint64_t paddr)
{
    return *(volatile uint32_t *)(uintptr_t)paddr;
}
static inline void mmio_write32(uint64_t paddr, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)paddr = v;
}
static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" : : : "memory");
}

/* PCI configuration mechanism #1 (platform.md §1.6). */
#define PCI_BDF(b, d, f) (((uint32_t)(b) << 16) | ((uint32_t)(d) << 11) | ((uint32_t)(f) << 8))
#define PCI_MCH          PCI_BDF(0, 0, 0)
#define PCI_LPC          PCI_BDF(0, 0x1f, 0)

static inline void pci_select(uint32_t bdf, unsigned reg)
{
    outl(0xcf8, 0x80000000u | bdf | (reg & 0xfc));
}
static inline uint8_t pci_read8(uint32_t bdf, unsigned reg)
{
    pci_select(bdf, reg);
    return inb((uint16_t)(0xcfc + (reg & 3)));
}
static inline uint16_t pci_read16(uint32_t bdf, unsigned reg)
{
    pci_select(bdf, reg);
    return inw((uint16_t)(0xcfc + (reg & 2)));
}
static inline uint32_t pci_read32(uint32_t bdf, unsigned reg)
{
    pci_select(bdf, reg);
    return inl(0xcfc);
}
static inline void pci_write8(uint32_t bdf, unsigned reg, uint8_t v)
{
    pci_select(bdf, reg);
    outb((uint16_t)(0xcfc + (reg & 3)), v);
}
static inline void pci_write16(uint32_t bdf, unsigned reg, uint16_t v)
{
    pci_select(bdf, reg);
    outw((uint16_t)(0xcfc + (reg & 2)), v);
}
static inline void pci_write32(uint32_t bdf, unsigned reg, uint32_t v)
{
    pci_select(bdf, reg);
    outl(0xcfc, v);
}

#endif
