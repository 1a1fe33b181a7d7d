/*
 * guest.c - the interpreter side: a bare CPU in 64-bit mode over 4 MiB of
 * flat RAM, no machine around it.
 *
 * Guest-physical layout (the low 2 MiB are identity-mapped with one 2 MiB
 * page, the window's linear addresses map onto [2 MiB, 4 MiB)):
 *   0x1000 PML4, 0x2000 PDPT, 0x3000/0x4000 page directories,
 *   0x5000 GDT (0x08 64-bit code, 0x10 data, Linux's 0x23 0x2B 0x33),
 *   0x6000 IDT (32 gates, IST 1),
 *   0x7000 one HLT per vector, 16 bytes apart, 0x8000 TSS,
 *   0x20000 top of the IST stack, 0x200000 the window.
 * A fault is delivered through the IDT onto the IST stack (so any test RSP
 * is fine) and the handler halts; the vector is read off the halt address
 * and RSP/RFLAGS at the fault off the interrupt frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

#include "cpu/cpu.h"
#include "mem/memory.h"

#define RAM_BYTES  0x400000ull
#define PHYS_WIN   0x200000ull
#define PML4_ADDR  0x1000ull
#define PDPT_ADDR  0x2000ull
#define PD_LOW     0x3000ull
#define PD_WIN     0x4000ull
#define GDT_ADDR   0x5000ull
#define IDT_ADDR   0x6000ull
#define HANDLERS   0x7000ull
#define TSS_ADDR   0x8000ull
#define IST_TOP    0x20000ull
#define N_VECTORS  32
#define CODE_BYTES 96 /* rewritten per case at the case's RIP; branch targets land outside */

#define PTE_P  0x001ull
#define PTE_RW 0x002ull
#define PTE_US 0x004ull
#define PTE_PS 0x080ull

struct guest {
    struct mem_system sys;
    struct address_space *as, *io;
    struct block_cache *bc;
    struct cpu *cpu;
    uint8_t *ram;
    uint64_t win;
    uint64_t fs_base, gs_base; /* the host's, so FS:/GS: operands mean the same bytes */
    uint64_t last_code;        /* window offset of the previous case's code */
};

static void put64(uint8_t *ram, uint64_t addr, uint64_t v)
{
    memcpy(ram + addr, &v, 8);
}

static uint64_t get64(const uint8_t *ram, uint64_t addr)
{
    uint64_t v;
    memcpy(&v, ram + addr, 8);
    return v;
}

static void build_tables(struct guest *g)
{
    uint8_t *ram = g->ram;
    const uint64_t pte = PTE_P | PTE_RW | PTE_US;
    put64(ram, PML4_ADDR, PDPT_ADDR | pte);
    put64(ram, PDPT_ADDR, PD_LOW | pte);
    uint64_t pd_win = (g->win >> 30) == 0 ? PD_LOW : PD_WIN;
    put64(ram, PDPT_ADDR + 8 * (g->win >> 30), pd_win | pte);
    put64(ram, PD_LOW, 0 | PTE_PS | pte);
    put64(ram, pd_win + 8 * ((g->win >> 21) & 511), PHYS_WIN | PTE_PS | pte);

    put64(ram, GDT_ADDR + 0x08, 0x00209B0000000000ull); /* 64-bit code, DPL 0 */
    put64(ram, GDT_ADDR + 0x10, 0x00CF93000000FFFFull); /* flat data */
    /* Linux's user segments at the same selectors, so selector values read
     * and loaded by the tests mean the same on both sides. */
    put64(ram, GDT_ADDR + 0x20, 0x00CFFB000000FFFFull); /* 0x23: 32-bit code, DPL 3 */
    put64(ram, GDT_ADDR + 0x28, 0x00CFF3000000FFFFull); /* 0x2B: data, DPL 3 */
    put64(ram, GDT_ADDR + 0x30, 0x00AFFB000000FFFFull); /* 0x33: 64-bit code, DPL 3 */
    for (unsigned v = 0; v < N_VECTORS; v++) {
        uint64_t target = HANDLERS + 16 * v;
        uint64_t lo = (target & 0xFFFF) | (0x08ull << 16) | (1ull << 32) /* IST 1 */ |
                      (0x8Eull << 40) /* P, DPL 0, 64-bit interrupt gate */ |
                      (((target >> 16) & 0xFFFF) << 48);
        put64(ram, IDT_ADDR + 16 * v, lo);
        put64(ram, IDT_ADDR + 16 * v + 8, target >> 32);
    }
    memset(ram + HANDLERS, 0xF4, 16 * N_VECTORS); /* HLT */
    put64(ram, TSS_ADDR + 0x24, IST_TOP);
}

/* 64-bit flat mode, CPL 0; called once and again after every fault. */
static void load_mode(struct guest *g)
{
    struct cpu *c = g->cpu;
    c->cr0 = CR0_PE | CR0_ET | CR0_PG;
    c->cr4 = CR4_PAE;
    c->efer = EFER_LME | EFER_LMA;
    c->cr3 = PML4_ADDR;
    /* The selectors a 64-bit Linux process runs with (CS 0x33, SS 0x2B, the
     * rest null); the attributes are CPL 0's, which the tests never see. */
    c->seg[SEG_CS] = (struct segment){0x33, 0xA09B, 0xFFFFFFFF, 0};
    for (unsigned s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            c->seg[s] = (struct segment){s == SEG_SS ? 0x2B : 0, 0xC093, 0xFFFFFFFF, 0};
    c->seg[SEG_FS].base = g->fs_base;
    c->seg[SEG_GS].base = g->gs_base;
    c->gdtr = (struct dtable){GDT_ADDR, 0x37};
    c->idtr = (struct dtable){IDT_ADDR, 16 * N_VECTORS - 1};
    c->tr = (struct segment){0x18, 0x008B, 0x67, TSS_ADDR};
    c->cpl = 0;
    cpu_update_mode(c);
}

/* As the machine wires it (machine.c): a store into RAM holding decoded code
 * drops the blocks it hits. */
static void on_code_write(void *opaque, const uint8_t *host, unsigned len)
{
    struct guest *g = opaque;
    block_cache_code_written(g->bc, host, len);
}

struct guest *guest_create(uint64_t win, uint64_t fs_base, uint64_t gs_base)
{
    struct guest *g = calloc(1, sizeof(*g));
    if (!g) {
        fprintf(stderr, "diff: out of memory\n");
        exit(1);
    }
    g->win = win;
    g->fs_base = fs_base;
    g->gs_base = gs_base;
    g->last_code = WIN_INSN;
    mem_system_init(&g->sys);
    g->sys.on_code_write = on_code_write;
    g->sys.hook_opaque = g;
    struct mem_region *root = mem_region_container(&g->sys, "system", UINT64_MAX);
    struct mem_region *ram = mem_region_ram(&g->sys, "ram", RAM_BYTES);
    mem_region_add(root, ram, 0, 0);
    g->as = mem_space_create(&g->sys, "memory", root);
    struct mem_region *io_root = mem_region_container(&g->sys, "io", 0x10000);
    g->io = mem_space_create(&g->sys, "io", io_root);
    g->ram = ram->block->host;
    g->bc = block_cache_create();
    g->cpu = calloc(1, sizeof(*g->cpu));
    if (!g->cpu) {
        fprintf(stderr, "diff: out of memory\n");
        exit(1);
    }
    cpu_init(g->cpu, 0, g->bc, g->as, g->as, g->io);
    build_tables(g);
    /* Branch targets around the instruction hold HLT (the host puts an exit there). */
    memset(g->ram + PHYS_WIN + WIN_INSN - 0x800, 0xF4, 0x2000);
    load_mode(g);
    return g;
}

uint8_t *guest_window(struct guest *g)
{
    return g->ram + PHYS_WIN;
}

void guest_run(struct guest *g, const struct diff_case *k, struct diff_result *out)
{
    struct cpu *c = g->cpu;
    /* Back to HLT where the previous case's code was, then this case's code. */
    memset(g->ram + PHYS_WIN + g->last_code, 0xF4, CODE_BYTES);
    block_cache_code_written(g->bc, g->ram + PHYS_WIN + g->last_code, CODE_BYTES);
    g->last_code = k->rip - g->win;
    uint8_t *code = g->ram + PHYS_WIN + g->last_code;
    memset(code, 0xF4, CODE_BYTES); /* HLT after the code ends the decoded block */
    memcpy(code, k->code, k->len);
    block_cache_code_written(g->bc, code, CODE_BYTES);

    memcpy(c->gpr, k->gpr, sizeof(k->gpr));
    /* IF as the host has it in user mode, so PUSHF pushes the same value. */
    cpu_set_rflags(c, (k->rflags & RFL_COMPARED) | 0x202);
    c->rip = k->rip;
    if (k->compat) { /* as the host's 32-bit user code segment */
        c->seg[SEG_CS] = (struct segment){0x23, 0xC09B, 0xFFFFFFFF, 0};
        c->seg[SEG_DS].selector = c->seg[SEG_ES].selector = 0x2B; /* as host.c loads them */
        cpu_update_mode(c);
    }
    c->state = CPU_RUNNING;
    c->pending_vector = -1;
    /* Half the cases that cannot branch (by a bit of the random R15) also run
     * the HLT behind the code, so the block runs whole: its records go through
     * the threaded entries and dead-flag elimination (cpu.md §5.3, §5.5). The
     * other half stop right after the case's instructions, inside the block,
     * as a run does when its quantum ends there. */
    bool whole = !k->branch_target && (k->gpr[15] & 1);
    cpu_run(c, (k->n_insn ? k->n_insn : 1) + whole);
    if (whole && c->state == CPU_HALTED) { /* back onto the HLT that stopped it */
        c->rip -= 1;
        c->state = CPU_RUNNING;
    }

    memcpy(out->gpr, c->gpr, sizeof(out->gpr));
    out->rflags = cpu_get_rflags(c);
    out->rip = c->rip;
    out->vector = -1;
    /* A fault stops at its handler's HLT; a trap that retires (INTO) stops
     * on the handler's first byte, not yet executed. */
    uint64_t h = c->rip - (c->state == CPU_HALTED ? 1 : 0) - HANDLERS;
    bool in_handler = c->rip >= HANDLERS && h < 16 * N_VECTORS && h % 16 == 0;
    if (c->state == CPU_RUNNING && !in_handler) {
        if (k->compat)
            load_mode(g);
        return;
    }
    if (in_handler) {
        unsigned v = (unsigned)(h / 16);
        /* Frame: [error code], RIP, CS, RFLAGS, RSP, SS below IST_TOP. */
        out->vector = (int)v;
        out->rip = get64(g->ram, IST_TOP - 40);
        out->rflags = get64(g->ram, IST_TOP - 24);
        out->gpr[4] = get64(g->ram, IST_TOP - 16);
    } else {
        out->vector = -2;
    }
    load_mode(g);
}
