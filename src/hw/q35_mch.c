/*
 * q35_mch.c - the Q35 MCH (PCI 00:00.0). Contract: platform.md §1.7 (PCIEXBAR),
 * §1.8 (PAM) and §2 (SMRAM control); QEMU's hw/pci-host/q35.c is the reference
 * behaviour, with 0x9C written as the explicit state machine §2.7 asks for.
 *
 * A config write has two steps (§2.1): every byte merges through the write
 * mask as it was before the access, then each register group the access
 * overlaps runs its update procedure. Reset runs every group.
 *
 * Decision table (Bochs style; q35_mch_test.c walks every row). v is the byte
 * written, W the write mask the row leaves behind.
 *
 *   reg   state / condition        write v       -> reads / state       W     regions
 *   0x9C  A (reset)                0xFF          -> 0x01, B             -     window RAM
 *   0x9C  A                        any other v   -> 0x00, A             -     window RAM
 *   0x9C  B                        v & 0x02      -> 0x02, C             -     hole + window on
 *   0x9C  B                        !(v & 0x02)   -> 0x01, B             -     window RAM
 *   0x9C  C                        any           -> 0x02, C             -     unchanged
 *   0x9C  feature off              any           -> v                   0xFF  never enabled
 *   0x9D  D_LCK = 0 after merge    v             -> (v & 0x78) | 0x02   0x78  §2.8 recomputed
 *   0x9D  D_LCK = 1 after merge    v             -> D_OPEN := 0         0x20  §2.8 recomputed
 *   0x9E  D_LCK = 0 before access  v             -> (v & 0x87) | 0x38   0x87  §2.8 recomputed
 *   0x9E  D_LCK = 1 before access  any           -> unchanged           0x00  unchanged
 *   0x50  ext > 0, value 0xFFFF    -             -> ext                 all   -
 *   0x50  otherwise                v             -> v (scratch)         all   -
 *
 *   region            enabled when (re-evaluated after every 0x9C-0x9E update)
 *   smram-region      NOT (D_OPEN and NOT H_SMRAME)
 *   smram-open-high   D_OPEN and H_SMRAME
 *   smram-low         G_SMRAME and NOT H_SMRAME
 *   smram-high        G_SMRAME and H_SMRAME
 *   tseg-blackhole    tsz != 0, at [TOLUD - tsz, TOLUD); tseg-window the same
 *   tsz               0 unless T_EN and G_SMRAME; else 1/2/8 MiB or ext MiB (11b)
 *   smbase-blackhole  0x9C in state C; smbase-window the same
 */
#include "hw/q35_mch.h"

#include <string.h>

#include "mem/memory.h"
#include "util.h"

#define MiB (1ull << 20)

#define SMRAM_A_BASE 0xA0000
#define SMRAM_A_SIZE 0x20000
#define SMRAM_H_BASE 0xFEDA0000

/* Logged once per machine (style.md §2.5: once per cause). */
static void guest_error(struct q35_mch *mch, const char *what)
{
    if (mch->log && !mch->logged_reserved_length) {
        mch->logged_reserved_length = true;
        fprintf(mch->log, "mch: %s\n", what);
    }
}

/* ---- PCIEXBAR (§1.7) ---- */

static void update_pciexbar(struct q35_mch *mch)
{
    uint64_t bar = pci_space_get(mch->cfg.bytes, MCH_PCIEXBAR, 8);
    uint64_t mask, length;
    switch ((bar & MCH_PCIEXBAR_LENGTH) >> 1) {
    case 0:
        length = 256 * MiB;
        mask = 0xFF0000000ull; /* bits 35:28 */
        break;
    case 1:
        length = 128 * MiB;
        mask = 0xFF8000000ull; /* bits 35:27 */
        break;
    case 2:
        length = 64 * MiB;
        mask = 0xFFC000000ull; /* bits 35:26 */
        break;
    default:
        /* Reserved: stored, no mapping change (QEMU 7.2 aborts here; we must not). */
        guest_error(mch, "PCIEXBAR length 11b is reserved; ECAM mapping unchanged");
        return;
    }
    pci_host_set_ecam(mch->pci, bar & MCH_PCIEXBAR_EN, bar & mask, length);
}

/* ---- PAM (§1.8) ---- */

static void update_pam(struct q35_mch *mch)
{
    for (unsigned s = 0; s < MCH_PAM_SEGMENTS; s++) {
        uint8_t reg = mch->cfg.bytes[MCH_PAM0 + (s + 1) / 2];
        /* segment 0 (0xF0000) and the upper half of each PAMn use bits 5:4 */
        unsigned field = (s & 1) ? reg & 3 : (reg >> 4) & 3;
        for (unsigned k = 0; k < 4; k++)
            mem_region_set_enabled(mch->pam[s][k], k == field);
    }
}

/* ---- SMRAM / ESMRAMC / TSEG (§2.3-§2.5, §2.8) ---- */

uint64_t q35_mch_tseg_bytes(const struct q35_mch *mch)
{
    uint8_t smram = mch->cfg.bytes[MCH_SMRAM], esmramc = mch->cfg.bytes[MCH_ESMRAMC];
    if (!(esmramc & MCH_ESMRAMC_T_EN) || !(smram & MCH_SMRAM_G_SMRAME))
        return 0;
    switch ((esmramc & MCH_ESMRAMC_TSEG_SZ) >> 1) {
    case 0:
        return 1 * MiB;
    case 1:
        return 2 * MiB;
    case 2:
        return 8 * MiB;
    default:
        return (uint64_t)mch->props.ext_tseg_mbytes * MiB;
    }
}

static void update_smram(struct q35_mch *mch)
{
    uint8_t *cfg = mch->cfg.bytes;
    if (cfg[MCH_SMRAM] & MCH_SMRAM_D_LCK) {
        /* Once locked, D_OPEN reads 0 and only D_CLS stays writable until reset, and all
         * of ESMRAMC is frozen: firmware locks before the OS runs, so the OS can never
         * reopen SMRAM or move TSEG (§2.3). */
        cfg[MCH_SMRAM] &= (uint8_t)~MCH_SMRAM_D_OPEN;
        mch->cfg.wmask[MCH_SMRAM] = MCH_SMRAM_WMASK_LCK;
        mch->cfg.wmask[MCH_ESMRAMC] = MCH_ESMRAMC_WMASK_LCK;
    }
    bool d_open = cfg[MCH_SMRAM] & MCH_SMRAM_D_OPEN;
    bool g_smrame = cfg[MCH_SMRAM] & MCH_SMRAM_G_SMRAME;
    bool h_smrame = cfg[MCH_ESMRAMC] & MCH_ESMRAMC_H_SMRAME;

    mem_region_set_enabled(mch->smram_region, !(d_open && !h_smrame));
    mem_region_set_enabled(mch->open_high_smram, d_open && h_smrame);
    mem_region_set_enabled(mch->low_smram, g_smrame && !h_smrame);
    mem_region_set_enabled(mch->high_smram, g_smrame && h_smrame);

    /* TSEG: both regions move and resize; with tsz = 0 they sit, empty, at TOLUD. */
    uint64_t tsz = q35_mch_tseg_bytes(mch);
    uint64_t base = mch->tolud - tsz;
    mem_region_set_size(mch->tseg_blackhole, tsz);
    mem_region_set_address(mch->tseg_blackhole, base);
    mem_region_set_enabled(mch->tseg_blackhole, tsz != 0);
    mem_region_set_size(mch->tseg_window, tsz);
    mem_region_set_address(mch->tseg_window, base);
    mem_region_set_alias_offset(mch->tseg_window, base);
    mem_region_set_enabled(mch->tseg_window, tsz != 0);
}

/* ---- extended TSEG 0x50 (§2.6) ---- */

static void update_ext_tseg(struct q35_mch *mch)
{
    if (mch->props.ext_tseg_mbytes > 0 &&
        pci_space_get(mch->cfg.bytes, MCH_EXT_TSEG_MBYTES, 2) == MCH_EXT_TSEG_QUERY)
        pci_space_set(mch->cfg.bytes, MCH_EXT_TSEG_MBYTES, mch->props.ext_tseg_mbytes, 2);
}

/* ---- default-SMBASE SMRAM 0x9C (§2.7) ---- */

static const uint8_t smbase_state_value[] = {
    [MCH_SMBASE_STATE_A] = 0x00,
    [MCH_SMBASE_STATE_B] = MCH_SMBASE_IN_RAM,
    [MCH_SMBASE_STATE_C] = MCH_SMBASE_LCK,
};

static void smbase_write(struct q35_mch *mch, uint8_t v)
{
    switch (mch->smbase_state) {
    case MCH_SMBASE_STATE_A:
        if (v == MCH_SMBASE_QUERY)
            mch->smbase_state = MCH_SMBASE_STATE_B;
        break; /* 0x01, 0x02 and every other value are discarded: no lock without a query */
    case MCH_SMBASE_STATE_B:
        if (v & MCH_SMBASE_LCK)
            mch->smbase_state = MCH_SMBASE_STATE_C;
        break;
    case MCH_SMBASE_STATE_C:
        break; /* locked until reset */
    }
}

static void update_smbase(struct q35_mch *mch)
{
    if (!mch->props.smbase_smram) {
        /* Feature off: a plain scratch byte, and the window never appears. */
        mem_region_set_enabled(mch->smbase_blackhole, false);
        mem_region_set_enabled(mch->smbase_window, false);
        return;
    }
    mch->cfg.bytes[MCH_SMBASE_CTL] = smbase_state_value[mch->smbase_state];
    bool locked = mch->smbase_state == MCH_SMBASE_STATE_C;
    mem_region_set_enabled(mch->smbase_blackhole, locked);
    mem_region_set_enabled(mch->smbase_window, locked);
}

/* ---- config space ---- */

uint32_t q35_mch_config_read(struct q35_mch *mch, unsigned offset, unsigned size)
{
    return pci_space_read(&mch->cfg, offset, size);
}

void q35_mch_config_write(struct q35_mch *mch, unsigned offset, uint32_t value, unsigned size)
{
    bool smbase_hit =
        mch->props.smbase_smram && pci_ranges_overlap(offset, size, MCH_SMBASE_CTL, 1);
    uint8_t smbase_byte = smbase_hit ? (uint8_t)(value >> (8 * (MCH_SMBASE_CTL - offset))) : 0;

    /* Step 1: merge with the masks as they were before the access. */
    pci_space_merge(&mch->cfg, offset, value, size);

    /* Step 2: the update procedure of every group the access overlaps. */
    if (pci_ranges_overlap(offset, size, MCH_PCIEXBAR, 8))
        update_pciexbar(mch);
    if (pci_ranges_overlap(offset, size, MCH_PAM0, MCH_PAM_COUNT))
        update_pam(mch);
    if (pci_ranges_overlap(offset, size, MCH_SMRAM, 2))
        update_smram(mch);
    if (pci_ranges_overlap(offset, size, MCH_EXT_TSEG_MBYTES, 2))
        update_ext_tseg(mch);
    if (smbase_hit) {
        smbase_write(mch, smbase_byte);
        update_smbase(mch);
    }
}

static uint32_t mch_pci_read(void *opaque, unsigned offset, unsigned size)
{
    return q35_mch_config_read(opaque, offset, size);
}

static void mch_pci_write(void *opaque, unsigned offset, uint32_t value, unsigned size)
{
    q35_mch_config_write(opaque, offset, value, size);
}

static const struct pci_function_ops mch_pci_ops = {
    .config_read = mch_pci_read,
    .config_write = mch_pci_write,
};

void q35_mch_reset(struct q35_mch *mch)
{
    uint8_t *cfg = mch->cfg.bytes, *w = mch->cfg.wmask;
    /* PCI header part of a device reset (QEMU pci_do_device_reset). */
    pci_space_set(cfg, PCI_COMMAND, 0, 2);
    pci_space_set(cfg, PCI_STATUS, 0, 2);
    cfg[0x0C] = 0;
    cfg[0x3C] = 0;

    pci_space_set(cfg, MCH_PCIEXBAR, MCH_PCIEXBAR_DEFAULT, 8);
    cfg[MCH_SMRAM] = MCH_SMRAM_DEFAULT;
    cfg[MCH_ESMRAMC] = MCH_ESMRAMC_DEFAULT;
    w[MCH_SMRAM] = MCH_SMRAM_WMASK;
    w[MCH_ESMRAMC] = MCH_ESMRAMC_WMASK;
    if (mch->props.ext_tseg_mbytes > 0)
        pci_space_set(cfg, MCH_EXT_TSEG_MBYTES, MCH_EXT_TSEG_QUERY, 2);
    mch->smbase_state = MCH_SMBASE_STATE_A;
    if (mch->props.smbase_smram) {
        w[MCH_SMBASE_CTL] = 0x00; /* the state machine owns the byte */
    } else {
        cfg[MCH_SMBASE_CTL] = 0x00;
        w[MCH_SMBASE_CTL] = 0xFF;
    }
    /* PAM bytes are deliberately not reset (QEMU quirk, §1.8), but their mapping is
     * re-derived like every other group's. */
    update_pciexbar(mch);
    update_pam(mch);
    update_smram(mch);
    update_ext_tseg(mch);
    update_smbase(mch);
}

static struct mem_region *add_alias(struct mem_system *sys, struct mem_region *parent,
                                    const char *name, struct mem_region *target, uint64_t offset,
                                    uint64_t size, uint64_t addr, int prio, bool enabled)
{
    struct mem_region *mr = mem_region_alias(sys, name, target, offset, size);
    mem_region_set_enabled(mr, enabled);
    mem_region_add(parent, mr, addr, prio);
    return mr;
}

void q35_mch_init(struct q35_mch *mch, const struct q35_mch_props *props, struct mem_system *sys,
                  struct pci_host *pci, struct mem_region *system, struct mem_region *pci_space,
                  struct mem_region *ram, struct mem_region *smram, uint64_t tolud, FILE *log)
{
    *mch = (struct q35_mch){.props = *props, .tolud = tolud, .pci = pci, .log = log};
    uint8_t *cfg = mch->cfg.bytes, *w = mch->cfg.wmask;
    pci_space_set(cfg, PCI_VENDOR_ID, MCH_VENDOR_ID, 2);
    pci_space_set(cfg, PCI_DEVICE_ID, MCH_DEVICE_ID, 2);
    cfg[PCI_REVISION_ID] = 0x00;
    pci_space_set(cfg, PCI_CLASS_DEVICE, 0x0600, 2);
    pci_space_set(cfg, PCI_SUBSYSTEM_VENDOR_ID, 0x1AF4, 2); /* QEMU's default subsystem */
    pci_space_set(cfg, PCI_SUBSYSTEM_ID, 0x1100, 2);
    /* Write masks as QEMU's pci_init_wmask: command, cache line, interrupt line, and all
     * of 0x40-0xFF; the SMRAM registers get theirs from reset. */
    pci_space_set(w, PCI_COMMAND, 0x0507, 2);
    w[0x0C] = 0xFF;
    w[0x3C] = 0xFF;
    memset(w + 0x40, 0xFF, PCI_CONFIG_SIZE - 0x40);

    /* Regions, in QEMU's creation order (mch_realize). PAM: field 0 PCI, 1 read-only
     * RAM, 2 RAM (QEMU's approximation of "read PCI, write DRAM"), 3 RAM. */
    for (unsigned s = 0; s < MCH_PAM_SEGMENTS; s++) {
        uint64_t start = s == 0 ? 0xF0000 : 0xC0000 + (s - 1) * 0x4000;
        uint64_t size = s == 0 ? 0x10000 : 0x4000;
        struct mem_region **a = mch->pam[s];
        a[3] = mem_region_alias(sys, "pam-ram", ram, start, size);
        a[1] = mem_region_alias(sys, "pam-rom", ram, start, size);
        mem_region_set_readonly(a[1], true);
        a[0] = mem_region_alias(sys, "pam-pci", pci_space, start, size);
        a[2] = mem_region_alias(sys, "pam-pci", ram, start, size);
        for (unsigned k = 0; k < 4; k++) {
            mem_region_set_enabled(a[k], false);
            mem_region_add(system, a[k], start, 1);
        }
    }
    mch->smram_region = add_alias(sys, system, "smram-region", pci_space, SMRAM_A_BASE,
                                  SMRAM_A_SIZE, SMRAM_A_BASE, 1, true);
    mch->open_high_smram = add_alias(sys, system, "smram-open-high", ram, SMRAM_A_BASE,
                                     SMRAM_A_SIZE, SMRAM_H_BASE, 1, false);
    mch->low_smram =
        add_alias(sys, smram, "smram-low", ram, SMRAM_A_BASE, SMRAM_A_SIZE, SMRAM_A_BASE, 0, false);
    mch->high_smram = add_alias(sys, smram, "smram-high", ram, SMRAM_A_BASE, SMRAM_A_SIZE,
                                SMRAM_H_BASE, 0, false);
    mch->tseg_blackhole = mem_region_blackhole(sys, "tseg-blackhole", 0);
    mem_region_set_enabled(mch->tseg_blackhole, false);
    mem_region_add(system, mch->tseg_blackhole, tolud, 1);
    mch->tseg_window = add_alias(sys, smram, "tseg-window", ram, tolud, 0, tolud, 0, false);
    mch->smbase_blackhole = mem_region_blackhole(sys, "smbase-blackhole", MCH_SMBASE_SIZE);
    mem_region_set_enabled(mch->smbase_blackhole, false);
    mem_region_add(system, mch->smbase_blackhole, MCH_SMBASE_ADDR, 1);
    mch->smbase_window = add_alias(sys, smram, "smbase-window", ram, MCH_SMBASE_ADDR,
                                   MCH_SMBASE_SIZE, MCH_SMBASE_ADDR, 0, false);

    pci_register_function(pci, 0, PCI_DEVFN(0, 0), "mch", &mch_pci_ops, mch);
    q35_mch_reset(mch); /* power-on = all-zero 0x40-0xFF, then the reset values */
}

const char *q35_mch_smbase_state_name(const struct q35_mch *mch)
{
    if (!mch->props.smbase_smram)
        return "feature off (plain byte)";
    switch (mch->smbase_state) {
    case MCH_SMBASE_STATE_A:
        return "A (reset, window RAM)";
    case MCH_SMBASE_STATE_B:
        return "B (queried, window RAM)";
    default:
        return "C (locked, window SMRAM)";
    }
}

void q35_mch_print_smram(const struct q35_mch *mch, FILE *out)
{
    const uint8_t *cfg = mch->cfg.bytes;
    uint8_t smram = cfg[MCH_SMRAM], esmramc = cfg[MCH_ESMRAMC];
    uint64_t tsz = q35_mch_tseg_bytes(mch);
    fprintf(out, "0x9c: 0x%02x %s\n", cfg[MCH_SMBASE_CTL], q35_mch_smbase_state_name(mch));
    fprintf(out, "0x9d SMRAM: 0x%02x D_OPEN=%d D_CLS=%d D_LCK=%d G_SMRAME=%d\n", smram,
            !!(smram & MCH_SMRAM_D_OPEN), !!(smram & MCH_SMRAM_D_CLS), !!(smram & MCH_SMRAM_D_LCK),
            !!(smram & MCH_SMRAM_G_SMRAME));
    fprintf(out, "0x9e ESMRAMC: 0x%02x H_SMRAME=%d TSEG_SZ=%u T_EN=%d\n", esmramc,
            !!(esmramc & MCH_ESMRAMC_H_SMRAME), (esmramc & MCH_ESMRAMC_TSEG_SZ) >> 1,
            !!(esmramc & MCH_ESMRAMC_T_EN));
    fprintf(out, "0x50 EXT_TSEG_MBYTES: 0x%04x (extended-tseg-mbytes=%u)\n",
            (unsigned)pci_space_get(cfg, MCH_EXT_TSEG_MBYTES, 2), mch->props.ext_tseg_mbytes);
    if (tsz)
        fprintf(out, "TSEG: 0x%08llx-0x%08llx (%llu MiB)\n", (unsigned long long)(mch->tolud - tsz),
                (unsigned long long)(mch->tolud - 1), (unsigned long long)(tsz / MiB));
    else
        fprintf(out, "TSEG: off\n");
}
