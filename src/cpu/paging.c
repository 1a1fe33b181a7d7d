/*
 * paging.c - the page walker: legacy 32-bit paging (with PSE 4 MiB pages),
 * PAE, and 4-level paging with 4 KiB, 2 MiB and 1 GiB pages; NX, WP, U/S,
 * A/D updates, reserved-bit checks against MAXPHYADDR (40 bits), and exact
 * #PF error codes with CR2. SDM Vol. 3, "Paging".
 *
 * Accessed bits are written only for a successful translation (as QEMU
 * does), the dirty bit only for a write. Walks read through the CPU's
 * current view, so SMM code with paging uses SMRAM page tables.
 */
#include "cpu/cpu_impl.h"
#include "mem/memory.h"

#define PTE_P   0x001ull
#define PTE_W   0x002ull
#define PTE_U   0x004ull
#define PTE_A   0x020ull
#define PTE_D   0x040ull
#define PTE_PS  0x080ull
#define PTE_G   0x100ull
#define PTE_NX  (1ull << 63)

#define PF_P    0x01u
#define PF_W    0x02u
#define PF_U    0x04u
#define PF_RSVD 0x08u
#define PF_I    0x10u

#define MAXPHYADDR 40
#define ADDR_MASK (((1ull << MAXPHYADDR) - 1) & ~0xFFFull)

struct walk {
    uint64_t pa;    /* physical address of the byte */
    bool writable;  /* for the requesting privilege, WP considered */
    bool user_ok;
    bool exec_ok;
    bool dirty;
    bool global;
};

static uint64_t phys_mask(const struct cpu *c)
{
    return c->in_smm ? ~0ull : c->a20_mask;
}

static uint64_t pt_read(struct cpu *c, uint64_t pa, unsigned size)
{
    return mem_read(c->as, pa & phys_mask(c), size);
}

static void pt_write(struct cpu *c, uint64_t pa, unsigned size, uint64_t v)
{
    mem_write(c->as, pa & phys_mask(c), v, size);
}

_Noreturn static void page_fault(struct cpu *c, uint64_t la, uint32_t code)
{
    c->cr2 = la;
    cpu_fault(c, EXC_PF, code);
}

/* Walks the tables for `la`. Returns the physical address; raises #PF. */
static void walk(struct cpu *c, uint64_t la, enum access acc, bool user, struct walk *w)
{
    bool nxe = (c->efer & EFER_NXE) && (c->cr4 & CR4_PAE);
    uint32_t err = (acc == ACC_WRITE ? PF_W : 0) | (user ? PF_U : 0) |
                   (acc == ACC_EXEC && nxe ? PF_I : 0);
    uint64_t rsvd_high = ~((1ull << MAXPHYADDR) - 1) & ~PTE_NX & 0x7FFFFFFFFFFFFFFFull;
    rsvd_high &= 0x000FFFFFFFFFFFFFull; /* bits 62:52 are ignored/available */
    uint64_t rsvd_nx = nxe ? 0 : PTE_NX;

    uint64_t entries[5];
    uint64_t addrs[5];
    int levels = 0;
    bool w_ok = true, u_ok = true, x_ok = true;
    uint64_t pa = 0, leaf = 0;

    if (!(c->cr4 & CR4_PAE)) {
        /* Legacy 32-bit paging. */
        uint64_t pde_addr = (c->cr3 & 0xFFFFF000) | ((la >> 20) & 0xFFC);
        uint64_t pde = pt_read(c, pde_addr, 4);
        addrs[levels] = pde_addr;
        entries[levels++] = pde;
        if (!(pde & PTE_P))
            page_fault(c, la, err);
        w_ok &= !!(pde & PTE_W);
        u_ok &= !!(pde & PTE_U);
        if ((pde & PTE_PS) && (c->cr4 & CR4_PSE)) {
            if (pde & (1ull << 21))
                page_fault(c, la, err | PF_P | PF_RSVD);
            pa = (pde & 0xFFC00000) | (((pde >> 13) & 0xFF) << 32) | (la & 0x3FFFFF);
            leaf = pde;
        } else {
            uint64_t pte_addr = (pde & 0xFFFFF000) | ((la >> 10) & 0xFFC);
            uint64_t pte = pt_read(c, pte_addr, 4);
            addrs[levels] = pte_addr;
            entries[levels++] = pte;
            if (!(pte & PTE_P))
                page_fault(c, la, err);
            w_ok &= !!(pte & PTE_W);
            u_ok &= !!(pte & PTE_U);
            pa = (pte & 0xFFFFF000) | (la & 0xFFF);
            leaf = pte;
        }
    } else {
        int top;
        uint64_t table;
        if (c->long_mode) {
            top = 3;
            table = c->cr3 & ADDR_MASK;
        } else {
            /* PAE: the PDPTE is read from the 32-byte aligned table at CR3. */
            uint64_t pdpte_addr = (c->cr3 & 0xFFFFFFE0) | ((la >> 27) & 0x18);
            uint64_t pdpte = pt_read(c, pdpte_addr, 8);
            if (!(pdpte & PTE_P))
                page_fault(c, la, err);
            if (pdpte & (rsvd_high | 0x1E6))
                page_fault(c, la, err | PF_P | PF_RSVD);
            table = pdpte & ADDR_MASK;
            top = 1;
        }
        for (int lvl = top; lvl >= 0; lvl--) {
            unsigned shift = 12 + 9 * (unsigned)lvl;
            uint64_t e_addr = table | (((la >> shift) & 0x1FF) << 3);
            uint64_t e = pt_read(c, e_addr, 8);
            addrs[levels] = e_addr;
            entries[levels++] = e;
            if (!(e & PTE_P))
                page_fault(c, la, err);
            uint64_t rsvd = rsvd_high | rsvd_nx;
            if (lvl == 3 && c->long_mode)
                rsvd |= PTE_PS; /* PML4E bit 7 is reserved */
            /* PS in a PDE (2 MiB) or, in long mode, a PDPTE (1 GiB, Page1GB advertised). */
            bool large = (lvl == 1 || lvl == 2) && (e & PTE_PS);
            if (large)
                rsvd |= lvl == 2 ? 0x3FFFE000ull : 0x1FE000ull;
            if (e & rsvd)
                page_fault(c, la, err | PF_P | PF_RSVD);
            w_ok &= !!(e & PTE_W);
            u_ok &= !!(e & PTE_U);
            if (e & PTE_NX)
                x_ok = false;
            if (large || lvl == 0) {
                uint64_t page_mask = (1ull << shift) - 1;
                pa = (e & ADDR_MASK & ~page_mask) | (la & page_mask);
                leaf = e;
                break;
            }
            table = e & ADDR_MASK;
        }
    }
    if (!nxe)
        x_ok = true;

    bool wp = c->cr0 & CR0_WP;
    bool can_write = user ? (w_ok && u_ok) : (w_ok || !wp);
    bool can_read = user ? u_ok : true;
    bool can_exec = x_ok && (user ? u_ok : true);
    if ((acc == ACC_WRITE && !can_write) || (acc == ACC_READ && !can_read) ||
        (acc == ACC_EXEC && !can_exec))
        page_fault(c, la, err | PF_P);

    /* Accessed on every level, dirty on the leaf for a write. */
    for (int k = 0; k < levels; k++) {
        uint64_t e = entries[k];
        bool is_leaf = k == levels - 1;
        uint64_t want = e | PTE_A;
        if (is_leaf && acc == ACC_WRITE)
            want |= PTE_D;
        if (want != e) {
            pt_write(c, addrs[k], (c->cr4 & CR4_PAE) ? 8 : 4, want);
            entries[k] = want;
        }
    }
    leaf = entries[levels - 1];
    w->pa = pa;
    w->writable = can_write;
    w->user_ok = u_ok;
    w->exec_ok = can_exec;
    w->dirty = leaf & PTE_D;
    w->global = (leaf & PTE_G) && (c->cr4 & CR4_PGE);
}

uint64_t cpu_translate(struct cpu *c, uint64_t la, enum access acc, bool user, bool *writable,
                       bool *exec_ok, bool *dirty)
{
    if (!c->paging) {
        *writable = true;
        *exec_ok = true;
        *dirty = true;
        return (c->long_mode ? la : (uint32_t)la) & phys_mask(c);
    }
    struct walk w;
    walk(c, la, acc, user, &w);
    *writable = w.writable;
    *exec_ok = w.exec_ok;
    *dirty = w.dirty;
    return w.pa & phys_mask(c);
}
