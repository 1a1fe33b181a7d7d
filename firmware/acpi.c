/*
 * acpi.c - ACPI tables for the payload (firmware.md §3 step 12, §6.1): RSDP (plus a copy in
 * 0xE0000), RSDT, XSDT, FADT, FACS, MADT and a DSDT whose CPU hot-plug AML drives the
 * protocol like QEMU's own (platform.md §5.8). Generated after negotiation so the AML
 * matches N: APM command 4 before any device-check Notify when N has bit 1, fw_remove + APM 4
 * in _EJ0 when N has bit 2. \_S3 only when S3 is enabled in etc/system-states (§9).
 */
#include "aml.h"
#include "boot.h"
#include "hw.h"
#include "lib.h"

/* ---- tables ---- */

static void checksum(uint8_t *t, uint32_t len, uint32_t at)
{
    uint8_t s = 0;

    t[at] = 0;
    for (uint32_t i = 0; i < len; i++)
        s = (uint8_t)(s + t[i]);
    t[at] = (uint8_t)(0 - s);
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    memcpy(t + 4, &len, 4);
    t[8] = rev;
    memcpy(t + 10, "SMMFW ", 6);
    memcpy(t + 16, "SMMFW   ", 8);
    uint32_t one = 1;
    memcpy(t + 24, &one, 4);
    memcpy(t + 28, "SMFW", 4);
    memcpy(t + 32, &one, 4);
}

static void put32(uint8_t *t, uint32_t off, uint32_t v)
{
    memcpy(t + off, &v, 4);
}

static void put64(uint8_t *t, uint32_t off, uint64_t v)
{
    memcpy(t + off, &v, 8);
}

static void gas_io(uint8_t *t, uint32_t off, uint8_t bits, uint16_t port)
{
    t[off] = 1; /* system I/O */
    t[off + 1] = bits;
    t[off + 2] = 0;
    t[off + 3] = 0;
    put64(t, off + 4, port);
}

uint64_t acpi_build(uint64_t base, uint64_t limit, uint64_t facs)
{
    uint8_t *p = (uint8_t *)(uintptr_t)base;
    uint32_t off = 0;

    memset(p, 0, (size_t)(limit - base));
    memset((void *)(uintptr_t)facs, 0, 64);

    /* FACS */
    uint8_t *f = (uint8_t *)(uintptr_t)facs;
    memcpy(f, "FACS", 4);
    put32(f, 4, 64);
    f[32] = 1;

    /* DSDT */
    uint8_t *dsdt = p + off;
    static struct aml aml;
    aml_begin(&aml, dsdt + 36, (uint32_t)(limit - base) - 0x2000);
    dsdt_build();
    uint32_t dsdt_len = 36 + aml.len;
    header(dsdt, "DSDT", dsdt_len, 2);
    checksum(dsdt, dsdt_len, 9);
    off = (off + dsdt_len + 15) & ~15u;

    /* FADT, revision 3 (244 bytes) */
    uint8_t *fadt = p + off;
    header(fadt, "FACP", 244, 3);
    put32(fadt, 36, (uint32_t)facs);
    put32(fadt, 40, (uint32_t)(uintptr_t)dsdt);
    fadt[46] = 9; /* SCI_INT */
    put32(fadt, 48, APM_CNT);
    fadt[52] = 0x02;
    fadt[53] = 0x03;
    put32(fadt, 56, PMBASE);
    put32(fadt, 64, PMBASE + 4);
    put32(fadt, 76, PMBASE + 8);
    put32(fadt, 80, PMBASE + 0x20);
    fadt[88] = 4;
    fadt[89] = 2;
    fadt[91] = 4;
    fadt[92] = 16;
    fadt[96] = 0xff; /* P_LVL2_LAT > 100: no C2 */
    fadt[97] = 0x0f;
    fadt[98] = 0xff; /* P_LVL3_LAT > 1000: no C3 */
    fadt[99] = 0x0f;
    fadt[108] = 0x32; /* CENTURY */
    put32(fadt, 112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 10));
    gas_io(fadt, 116, 8, 0xcf9);
    fadt[128] = 0x06;
    put64(fadt, 132, facs);
    put64(fadt, 140, (uint64_t)(uintptr_t)dsdt);
    gas_io(fadt, 148, 32, PMBASE);
    gas_io(fadt, 172, 16, PMBASE + 4);
    gas_io(fadt, 208, 32, PMBASE + 8);
    gas_io(fadt, 220, 128, PMBASE + 0x20);
    checksum(fadt, 244, 9);
    off = (off + 244 + 15) & ~15u;

    /* MADT, revision 1 */
    uint8_t *madt = p + off;
    uint32_t m = 44;
    for (uint32_t s = 0; s < bs.possible; s++) {
        madt[m] = 0;
        madt[m + 1] = 8;
        madt[m + 2] = (uint8_t)s;
        madt[m + 3] = (uint8_t)bs.apic[s];
        put32(madt, m + 4, bs.present_at_boot[s] ? 1 : 0);
        m += 8;
    }
    madt[m] = 1; /* I/O APIC */
    madt[m + 1] = 12;
    madt[m + 2] = 0;
    put32(madt, m + 4, 0xfec00000u);
    put32(madt, m + 8, 0);
    m += 12;
    uint8_t iso0[10] = {2, 10, 0, 0, 2, 0, 0, 0, 0, 0};      /* IRQ0 -> GSI 2 */
    uint8_t iso9[10] = {2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0};   /* SCI: level, active high */
    memcpy(madt + m, iso0, 10);
    m += 10;
    memcpy(madt + m, iso9, 10);
    m += 10;
    header(madt, "APIC", m, 1);
    put32(madt, 36, APIC_DEFAULT_BASE);
    put32(madt, 40, 1); /* PCAT_COMPAT */
    checksum(madt, m, 9);
    off = (off + m + 15) & ~15u;

    /* RSDT, XSDT */
    uint8_t *rsdt = p + off;
    header(rsdt, "RSDT", 36 + 8, 1);
    put32(rsdt, 36, (uint32_t)(uintptr_t)fadt);
    put32(rsdt, 40, (uint32_t)(uintptr_t)madt);
    checksum(rsdt, 44, 9);
    off = (off + 44 + 15) & ~15u;
    uint8_t *xsdt = p + off;
    header(xsdt, "XSDT", 36 + 16, 1);
    put64(xsdt, 36, (uint64_t)(uintptr_t)fadt);
    put64(xsdt, 44, (uint64_t)(uintptr_t)madt);
    checksum(xsdt, 52, 9);
    off = (off + 52 + 15) & ~15u;

    /* RSDP, revision 2 */
    uint8_t *rsdp = p + off;
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "SMMFW ", 6);
    rsdp[15] = 2;
    put32(rsdp, 16, (uint32_t)(uintptr_t)rsdt);
    put32(rsdp, 20, 36);
    put64(rsdp, 24, (uint64_t)(uintptr_t)xsdt);
    checksum(rsdp, 20, 8);
    checksum(rsdp, 36, 32);

    /* Copy for OSes that scan 0xE0000-0xFFFFF: PAM5 (0xE0000-0xE7FFF) to RAM, write, then
     * read-only DRAM. */
    pci_write8(PCI_MCH, MCH_PAM0 + 5, 0x33);
    memcpy((void *)(uintptr_t)0xe0000, rsdp, 36);
    pci_write8(PCI_MCH, MCH_PAM0 + 5, 0x11);
    return (uint64_t)(uintptr_t)rsdp;
}
