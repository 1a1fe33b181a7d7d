/*
 * smm.c - System Management Mode in the CPU: SMI entry with the AMD64-style
 * state-save map, RSM with validity checks, SMBASE relocation, auto-HALT
 * restart (cpu.md §4; platform.md §6.4-6.6). The map is accessed through
 * the SMM view; one RAM page is copied directly, anything else (a save area
 * aimed at MMIO or straddling regions) field by field.
 */
#include "cpu/cpu_impl.h"
#include "cpu/smm_state.h"
#include "mem/memory.h"

/* Copies the 512-byte map between the SMM view and `buf`. */
static void map_copy(struct cpu *c, uint64_t addr, void *buf, bool write)
{
    struct mem_page page;
    uint64_t page_addr = addr & ~0xFFFull;
    if ((addr & 0xFFF) + sizeof(struct smm_state_save) <= 0x1000) {
        mem_space_page(c->as_smm, page_addr, &page);
        if (page.host && (!write || page.writable)) {
            uint8_t *p = page.host + (addr & 0xFFF);
            if (write) {
                memcpy(p, buf, sizeof(struct smm_state_save));
                mem_note_ram_write(c->as_smm->sys, page.block, page.block_offset + (addr & 0xFFF),
                                   sizeof(struct smm_state_save));
            } else {
                memcpy(buf, p, sizeof(struct smm_state_save));
            }
            return;
        }
    }
    if (write)
        mem_write_buf(c->as_smm, addr, buf, sizeof(struct smm_state_save));
    else
        mem_read_buf(c->as_smm, addr, buf, sizeof(struct smm_state_save));
}

static void save_seg(struct smm_seg *d, const struct segment *s)
{
    d->selector = s->selector;
    d->attributes = s->attr;
    d->limit = s->limit;
    d->base = s->base;
}

static void load_seg(struct segment *s, const struct smm_seg *d)
{
    s->selector = d->selector;
    s->attr = d->attributes & SMM_SEG_ATTR_MASK;
    s->limit = d->limit;
    s->base = d->base;
}

void cpu_smm_enter(struct cpu *c)
{
    struct smm_state_save m;
    uint64_t map_addr = (uint64_t)c->smbase + SMM_SAVE_OFFSET;
    bool halted = c->state == CPU_HALTED;

    c->smi_count++;
    c->smi_nmi_blocked = c->nmi_blocked;
    c->nmi_blocked = true;
    c->in_smm = true;
    c->as = c->as_smm;

    map_copy(c, map_addr, &m, false); /* bytes the map does not name stay as they are */
    for (unsigned s = 0; s < SEG_COUNT; s++)
        save_seg(&m.seg[s], &c->seg[s]);
    m.gdtr_limit = c->gdtr.limit;
    m.gdtr_base = c->gdtr.base;
    m.idtr_limit = c->idtr.limit;
    m.idtr_base = c->idtr.base;
    m.ldtr_selector = c->ldtr.selector;
    m.ldtr_attributes = c->ldtr.attr;
    m.ldtr_limit = c->ldtr.limit;
    m.ldtr_base = c->ldtr.base;
    m.tr_selector = c->tr.selector;
    m.tr_attributes = c->tr.attr;
    m.tr_limit = c->tr.limit;
    m.tr_base = c->tr.base;
    m.efer = c->efer;
    m.revision_id = SMM_REVISION_ID;
    m.smbase = c->smbase;
    m.cr3 = c->cr3;
    m.rip = c->rip;
    for (unsigned r = 0; r < 16; r++)
        m.gpr_r15_to_rax[SMM_GPR_INDEX(r)] = c->gpr[r];
    uint64_t rflags = cpu_get_rflags(c);
    if (c->tcg_smm_compat) {
        /* QEMU TCG writes these as 32-bit fields and leaves FEA0-FEC9 alone. */
        memcpy(&m.cr4, &(uint32_t){ (uint32_t)c->cr4 }, 4);
        memcpy(&m.cr0, &(uint32_t){ (uint32_t)c->cr0 }, 4);
        memcpy(&m.dr7, &(uint32_t){ (uint32_t)c->dr[7] }, 4);
        memcpy(&m.dr6, &(uint32_t){ (uint32_t)((c->dr[6] & 0xE00F) | 0xFFFF0FF0) }, 4);
        memcpy(&m.rflags, &(uint32_t){ (uint32_t)rflags }, 4);
    } else {
        m.cr4 = c->cr4;
        m.cr0 = c->cr0;
        m.dr7 = c->dr[7];
        m.dr6 = (c->dr[6] & 0xE00F) | 0xFFFF0FF0;
        m.rflags = rflags;
        m.io_restart = 0;
        m.auto_halt = halted ? 1 : 0;
        c->io_restart_armed = c->io_smi_trap;
        if (c->io_smi_trap) {
            /* The SMI came from this CPU's own port access: save the state
             * before that instruction (iteration) so RSM can re-execute it. */
            m.io_trap_info = c->io_trap.info;
            m.io_restart_rip = c->io_trap.rip;
            m.io_restart_rcx = c->io_trap.rcx;
            m.io_restart_rsi = c->io_trap.rsi;
            m.io_restart_rdi = c->io_trap.rdi;
        } else {
            m.io_trap_info = 0; /* valid bit clear; FEA0-FEB8 untouched */
        }
    }
    c->io_smi_trap = false;
    map_copy(c, map_addr, &m, true);

    /* Entry state (platform.md §6.4). */
    c->efer = 0;
    c->lf.op = LF_NONE;
    c->lf.carry = 0;
    c->rflags = 2;
    c->rip = SMM_ENTRY_OFFSET;
    c->cr0 &= ~(uint64_t)(CR0_PE | CR0_EM | CR0_TS | CR0_PG);
    c->cr4 = 0;
    c->dr[7] = 0x400;
    for (unsigned s = 0; s < SEG_COUNT; s++)
        c->seg[s] = (struct segment){ 0, 0x8093, 0xFFFFFFFF, 0 };
    c->seg[SEG_CS].selector = (uint16_t)((c->smbase >> 4) & 0xFFFF);
    c->seg[SEG_CS].base = c->smbase;
    c->interrupt_shadow = false;
    c->state = CPU_RUNNING;
    cpu_tlb_flush(c);
    cpu_update_mode(c);
    c->block_exit = true;
}

/* RSM validity checks (cpu.md §4.4). Returns NULL or the failed check. */
static const char *rsm_check(const struct smm_state_save *m)
{
    uint64_t cr0 = m->cr0, cr4 = m->cr4, efer = m->efer;
    if ((cr0 & CR0_PG) && !(cr0 & CR0_PE))
        return "CR0.PG=1 with CR0.PE=0";
    if ((cr0 & CR0_NW) && !(cr0 & CR0_CD))
        return "CR0.NW=1 with CR0.CD=0";
    if ((cr0 >> 32) || (m->dr6 >> 32) || (m->dr7 >> 32))
        return "bits 63:32 of CR0, DR6 or DR7 set";
    if (cr4 & ~(uint64_t)(CR4_TSD | CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCE))
        return "CR4 bits not allowed by CPUID";
    if (m->cr3 >> 40)
        return "CR3 reserved bits set";
    if (efer & ~(uint64_t)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
        return "EFER reserved bits set";
    bool lm = (efer & EFER_LME) && (cr0 & CR0_PG);
    if (lm && !(cr4 & CR4_PAE))
        return "EFER.LME=1 and CR0.PG=1 with CR4.PAE=0";
    uint16_t cs = m->seg[SMM_SEG_CS].attributes;
    if (lm && (cs & SEG_ATTR_L) && (cs & SEG_ATTR_DB))
        return "EFER.LME=1 and CR0.PG=1 with CS.L=1 and CS.D=1";
    if (lm && (cs & SEG_ATTR_L) && (uint64_t)((int64_t)(m->rip << 16) >> 16) != m->rip)
        return "non-canonical RIP for a 64-bit return";
    return NULL;
}

void cpu_rsm(struct cpu *c)
{
    struct smm_state_save m;
    map_copy(c, (uint64_t)c->smbase + SMM_SAVE_OFFSET, &m, false);
    if (c->tcg_smm_compat) {
        uint32_t lo;
        memcpy(&lo, &m.cr4, 4), m.cr4 = lo;
        memcpy(&lo, &m.cr0, 4), m.cr0 = lo;
        memcpy(&lo, &m.dr7, 4), m.dr7 = lo;
        memcpy(&lo, &m.dr6, 4), m.dr6 = lo;
        memcpy(&lo, &m.rflags, 4), m.rflags = lo;
    } else {
        const char *bad = rsm_check(&m);
        if (bad) {
            char why[160];
            snprintf(why, sizeof(why), "RSM: invalid state in the save map at 0x%llx: %s",
                     (unsigned long long)c->smbase + SMM_SAVE_OFFSET, bad);
            cpu_shutdown(c, why);
        }
    }
    c->cr0 = m.cr0 | CR0_ET;
    c->cr3 = m.cr3;
    c->cr4 = m.cr4;
    c->efer = (m.efer & ~(uint64_t)EFER_LMA) |
              (((m.efer & EFER_LME) && (m.cr0 & CR0_PG)) ? EFER_LMA : 0);
    c->gdtr = (struct dtable){ m.gdtr_base, m.gdtr_limit };
    c->idtr = (struct dtable){ m.idtr_base, m.idtr_limit };
    c->ldtr = (struct segment){ m.ldtr_selector, (uint16_t)(m.ldtr_attributes & SMM_SEG_ATTR_MASK),
                                m.ldtr_limit, m.ldtr_base };
    c->tr = (struct segment){ m.tr_selector, (uint16_t)(m.tr_attributes & SMM_SEG_ATTR_MASK),
                              m.tr_limit, m.tr_base };
    for (unsigned s = 0; s < SEG_COUNT; s++)
        load_seg(&c->seg[s], &m.seg[s]);
    for (unsigned r = 0; r < 16; r++)
        c->gpr[r] = m.gpr_r15_to_rax[SMM_GPR_INDEX(r)];
    c->rip = m.rip;
    c->next_rip = m.rip;
    cpu_set_rflags(c, m.rflags);
    c->dr[6] = m.dr6;
    c->dr[7] = m.dr7;
    if (m.revision_id & SMM_REV_SMBASE_RELOC)
        c->smbase = m.smbase;
    c->cpl = (uint8_t)SEG_ATTR_DPL(c->seg[SEG_SS].attr);
    if (!c->smi_nmi_blocked)
        c->nmi_blocked = false;
    c->smi_nmi_blocked = false;
    c->in_smm = false;
    c->as = c->as_normal;
    if (!c->tcg_smm_compat && c->io_restart_armed && m.io_restart == 0xFF) {
        /* I/O instruction restart: back to the I/O instruction, as it was. */
        c->rip = c->next_rip = m.io_restart_rip;
        c->gpr[R_CX] = m.io_restart_rcx;
        c->gpr[R_SI] = m.io_restart_rsi;
        c->gpr[R_DI] = m.io_restart_rdi;
    } else if (!c->tcg_smm_compat && (m.auto_halt & 1)) {
        c->state = CPU_HALTED;
    }
    c->io_restart_armed = false;
    cpu_tlb_flush(c);
    cpu_update_mode(c);
    c->block_exit = true;
    c->yield = c->state == CPU_HALTED;
}
