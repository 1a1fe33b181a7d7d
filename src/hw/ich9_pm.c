/*
 * ich9_pm.c - the ICH9 PM I/O block. Contract: platform.md §3.2-3.6, §3.9.
 *
 * Access rules, as the spec and QEMU 7.2 have them:
 *   PM1_STS/PM1_EN/PM1_CNT  16-bit registers; byte accesses reach their half
 *   PM1_TMR                 read-only, from the board's timer hook
 *   GPE0_STS / GPE0_EN      byte by byte: status write-1-to-clear, enable stored
 *   SMI_EN / SMI_STS        32-bit only: a narrower read returns 0, a narrower
 *                           write is dropped; SMI_STS reads 0, ignores writes
 *   anything else           unclaimed: all-ones, writes ignored
 */
#include "hw/ich9_pm.h"

#include "mem/memory.h"

static void update_sci(struct ich9_pm *pm)
{
    bool level = (pm->pm1_sts & pm->pm1_en & ICH9_PM1_STS_EVENTS) ||
                 (pm->gpe_sts[0] & pm->gpe_en[0]);
    if (level == pm->sci_level)
        return;
    pm->sci_level = level;
    if (pm->hooks && pm->hooks->sci)
        pm->hooks->sci(pm->owner, level);
}

static uint16_t *pm1_reg(struct ich9_pm *pm, uint64_t off)
{
    switch (off & ~1ull) {
    case ICH9_PM1_STS: return &pm->pm1_sts;
    case ICH9_PM1_EN: return &pm->pm1_en;
    case ICH9_PM1_CNT: return &pm->pm1_cnt;
    default: return NULL;
    }
}

static uint64_t ones(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static uint64_t read_byte(struct ich9_pm *pm, uint64_t off)
{
    if (off < 0x06) {
        uint16_t v = *pm1_reg(pm, off);
        return (off & 1) ? v >> 8 : v & 0xFF;
    }
    if (off >= ICH9_PM1_TMR && off < ICH9_PM1_TMR + 4) {
        uint32_t t = pm->hooks && pm->hooks->read_timer ? pm->hooks->read_timer(pm->owner) : 0;
        return ((t & 0xFFFFFF) >> ((off - ICH9_PM1_TMR) * 8)) & 0xFF;
    }
    if (off >= ICH9_GPE0_STS && off < ICH9_GPE0_STS + 8)
        return pm->gpe_sts[off - ICH9_GPE0_STS];
    if (off >= ICH9_GPE0_EN && off < ICH9_GPE0_EN + 8)
        return pm->gpe_en[off - ICH9_GPE0_EN];
    return 0xFF;
}

static uint64_t pm_read(void *opaque, uint64_t off, unsigned size)
{
    struct ich9_pm *pm = opaque;
    if (off >= ICH9_SMI_EN && off < ICH9_SMI_STS + 4) {
        if (size != 4 || (off & 3))
            return 0;
        return off == ICH9_SMI_EN ? pm->smi_en : 0;
    }
    uint64_t v = 0;
    for (unsigned k = 0; k < size; k++)
        v |= read_byte(pm, off + k) << (8 * k);
    return v & ones(size);
}

static void pm1_cnt_write(struct ich9_pm *pm, uint16_t v)
{
    pm->pm1_cnt = v & ~ICH9_PM1_CNT_SLP_EN; /* SLP_EN reads 0 */
    if (!pm->smm)
        pm->pm1_cnt |= ICH9_PM1_CNT_SCI_EN;
    if ((v & ICH9_PM1_CNT_SLP_EN) && pm->hooks && pm->hooks->sleep)
        pm->hooks->sleep(pm->owner, (v >> 10) & 7);
}

static void write_byte(struct ich9_pm *pm, uint64_t off, uint8_t b)
{
    if (off < 0x06) {
        uint16_t *r = pm1_reg(pm, off);
        unsigned sh = (off & 1) * 8;
        uint16_t in = (uint16_t)(b << sh), mask = (uint16_t)(0xFF << sh);
        if ((off & ~1ull) == ICH9_PM1_STS)
            *r &= (uint16_t)~in; /* write-1-to-clear */
        else if ((off & ~1ull) == ICH9_PM1_CNT)
            pm1_cnt_write(pm, (uint16_t)((*r & ~mask) | in));
        else
            *r = (uint16_t)((*r & ~mask) | in);
        return;
    }
    if (off >= ICH9_GPE0_STS && off < ICH9_GPE0_STS + 8)
        pm->gpe_sts[off - ICH9_GPE0_STS] &= (uint8_t)~b;
    else if (off >= ICH9_GPE0_EN && off < ICH9_GPE0_EN + 8)
        pm->gpe_en[off - ICH9_GPE0_EN] = b;
    /* the timer and unclaimed offsets ignore writes */
}

static void pm_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    struct ich9_pm *pm = opaque;
    if (off >= ICH9_SMI_EN && off < ICH9_SMI_STS + 4) {
        if (size != 4 || (off & 3)) {
            if (pm->log)
                fprintf(pm->log, "ich9-pm: %u-byte write to SMI_EN/SMI_STS offset 0x%llx dropped\n",
                        size, (unsigned long long)off);
            return;
        }
        if (off == ICH9_SMI_EN) {
            uint32_t mask = pm->smi_lock_armed ? ~ICH9_SMI_EN_GBL_SMI_EN : ~0u;
            pm->smi_en = (pm->smi_en & ~mask) | ((uint32_t)value & mask);
        }
        return;
    }
    /* PM1_CNT written as a word is one write (SLP_EN acts once). */
    if (off == ICH9_PM1_CNT && size >= 2) {
        pm1_cnt_write(pm, (uint16_t)value);
        for (unsigned k = 2; k < size; k++)
            write_byte(pm, off + k, (uint8_t)(value >> (8 * k)));
    } else {
        for (unsigned k = 0; k < size; k++)
            write_byte(pm, off + k, (uint8_t)(value >> (8 * k)));
    }
    update_sci(pm);
}

static const struct mem_ops ich9_pm_ops = {
    .name = "ich9-pm",
    .read = pm_read,
    .write = pm_write,
    .min_access = 1,
    .max_access = 4,
};

void ich9_pm_reset(struct ich9_pm *pm)
{
    pm->pm1_sts = pm->pm1_en = 0;
    pm->pm1_cnt = pm->smm ? 0 : ICH9_PM1_CNT_SCI_EN;
    for (unsigned k = 0; k < 8; k++)
        pm->gpe_sts[k] = pm->gpe_en[k] = 0;
    pm->smi_en = pm->smm ? 0 : ICH9_SMI_EN_APMC_EN;
    pm->smi_lock_armed = false; /* re-armed by the next GEN_PMCON_1 write (§3.7 quirk) */
    ich9_pm_set_base(pm, 0, false);
    update_sci(pm);
}

void ich9_pm_init(struct ich9_pm *pm, struct mem_system *sys, struct mem_region *io, bool smm,
                  const struct ich9_pm_hooks *hooks, void *owner, FILE *log)
{
    *pm = (struct ich9_pm){ .smm = smm, .hooks = hooks, .owner = owner, .log = log };
    pm->region = mem_region_mmio(sys, "ich9-pm", ICH9_PM_SIZE, &ich9_pm_ops, pm);
    mem_region_set_enabled(pm->region, false);
    mem_region_add(io, pm->region, 0, 0);
    ich9_pm_reset(pm);
}

void ich9_pm_set_base(struct ich9_pm *pm, uint16_t base, bool enabled)
{
    base &= 0xFF80;
    bool on = enabled && base != 0;
    if (on)
        mem_region_set_address(pm->region, base);
    mem_region_set_enabled(pm->region, on);
}

void ich9_pm_arm_smi_lock(struct ich9_pm *pm)
{
    pm->smi_lock_armed = true;
}

bool ich9_pm_apm_command(struct ich9_pm *pm, uint8_t v)
{
    if (v == 0x02) {
        pm->pm1_cnt |= ICH9_PM1_CNT_SCI_EN;
        return false;
    }
    if (v == 0x03) {
        if (pm->smm)
            pm->pm1_cnt &= (uint16_t)~ICH9_PM1_CNT_SCI_EN;
        return false;
    }
    return (pm->smi_en & ICH9_SMI_EN_APMC_EN) != 0;
}

void ich9_pm_set_gpe(struct ich9_pm *pm, unsigned bit)
{
    if (bit < 64)
        pm->gpe_sts[bit / 8] |= (uint8_t)(1u << (bit % 8));
    update_sci(pm);
}
