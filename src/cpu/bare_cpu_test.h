/*
 * bare_cpu_test.h - test support for the CPU unit tests (paging_test.c,
 * smm_test.c, cpuid_test.c): one CPU over flat RAM, as cpu.md §6 asks ("a
 * bare CPU over a flat RAM bus"), with an SMM view built like the machine's
 * (platform.md §1.4), a GDT, an IDT whose every vector halts at a known
 * address, and helpers to put bytes into RAM and to enter each mode by
 * setting the registers directly. Used only by *_test.c files.
 *
 * Physical layout used by the helpers:
 *   0x01000 GDT   0x02000 IDT   0x03000 + 16*v: handler of vector v (HLT)
 *   0x04000 64-bit TSS (RSP0 = BARE_STACK_TOP)    0x10000.. page tables
 *   0x20000 code  0x7FFF0 supervisor stack top     0x70000 user stack top
 */
#ifndef SMMVM_CPU_BARE_CPU_TEST_H
#define SMMVM_CPU_BARE_CPU_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_impl.h"
#include "mem/memory.h"

#define BARE_GDT        0x1000u
#define BARE_IDT        0x2000u
#define BARE_HANDLERS   0x3000u
#define BARE_TSS        0x4000u
#define BARE_CODE       0x20000u
#define BARE_STACK_TOP  0x7FFF0u
#define BARE_USER_STACK 0x70000u

/* GDT selectors. */
#define SEL_CODE64  0x08
#define SEL_DATA    0x10
#define SEL_CODE32  0x18
#define SEL_UDATA   0x23
#define SEL_UCODE64 0x2B
#define SEL_UCODE32 0x33
#define SEL_TSS     0x38

struct bare {
    struct mem_system sys;
    struct mem_region *system, *ram, *smram, *smm_root, *io_root;
    struct address_space *as, *smm, *io;
    struct block_cache *bc;
    struct cpu cpu;
    unsigned shutdowns;
    char why[256];
    uint64_t code_next; /* bare_run_code() puts each snippet at a fresh address */
};

static inline void bare_map_change(void *opaque)
{
    struct bare *b = opaque;
    cpu_tlb_flush(&b->cpu);
}

static inline void bare_code_write(void *opaque, const uint8_t *host, unsigned len)
{
    struct bare *b = opaque;
    block_cache_code_written(b->bc, host, len);
}

static inline void bare_on_shutdown(void *opaque, struct cpu *c, const char *why)
{
    struct bare *b = opaque;
    (void)c;
    b->shutdowns++;
    snprintf(b->why, sizeof(b->why), "%s", why);
}

/* A CPU in its reset state over `ram_size` bytes of RAM at 0 (pc.ram, via
 * ram-below-4g), an empty smram container aliased into its SMM view at
 * priority 1 over the whole system at priority 0, and an empty I/O space. */
static inline struct bare *bare_create(uint64_t ram_size)
{
    struct bare *b = calloc(1, sizeof(*b));
    if (!b)
        abort();
    mem_system_init(&b->sys);
    b->sys.on_map_change = bare_map_change;
    b->sys.on_code_write = bare_code_write;
    b->sys.hook_opaque = b;
    b->system = mem_region_container(&b->sys, "system", UINT64_MAX);
    b->ram = mem_region_ram(&b->sys, "pc.ram", ram_size);
    mem_region_add(b->system, mem_region_alias(&b->sys, "ram-below-4g", b->ram, 0, ram_size), 0, 0);
    b->smram = mem_region_container(&b->sys, "smram", 0x100000000ull);
    b->smm_root = mem_region_container(&b->sys, "memory", UINT64_MAX);
    mem_region_add(b->smm_root, mem_region_alias(&b->sys, "smram", b->smram, 0, 0x100000000ull), 0,
                   1);
    mem_region_add(b->smm_root, mem_region_alias(&b->sys, "memory", b->system, 0, UINT64_MAX), 0,
                   0);
    b->io_root = mem_region_container(&b->sys, "io", 0x10000);
    b->as = mem_space_create(&b->sys, "cpu-memory-0", b->system);
    b->smm = mem_space_create(&b->sys, "cpu-smm-0", b->smm_root);
    b->io = mem_space_create(&b->sys, "I/O", b->io_root);
    b->bc = block_cache_create();
    cpu_init(&b->cpu, 0, b->bc, b->as, b->smm, b->io);
    b->cpu.on_shutdown = bare_on_shutdown;
    b->cpu.machine = b;
    return b;
}

static inline void bare_free(struct bare *b)
{
    free(b->cpu.scratch);
    block_cache_free(b->bc);
    mem_system_free(&b->sys);
    free(b);
}

/* ---- RAM access from the test (bypasses views, notifies code writes) ---- */

static inline void bare_poke(struct bare *b, uint64_t pa, const void *bytes, unsigned n)
{
    memcpy(b->ram->block->host + pa, bytes, n);
    mem_note_ram_write(&b->sys, b->ram->block, pa, n);
}

static inline void bare_poke64(struct bare *b, uint64_t pa, uint64_t v)
{
    bare_poke(b, pa, &v, 8);
}

static inline void bare_poke16(struct bare *b, uint64_t pa, uint16_t v)
{
    bare_poke(b, pa, &v, 2);
}

static inline void bare_poke32(struct bare *b, uint64_t pa, uint32_t v)
{
    bare_poke(b, pa, &v, 4);
}

static inline uint64_t bare_peek64(const struct bare *b, uint64_t pa)
{
    uint64_t v;
    memcpy(&v, b->ram->block->host + pa, 8);
    return v;
}

static inline uint32_t bare_peek32(const struct bare *b, uint64_t pa)
{
    uint32_t v;
    memcpy(&v, b->ram->block->host + pa, 4);
    return v;
}

static inline uint16_t bare_peek16(const struct bare *b, uint64_t pa)
{
    uint16_t v;
    memcpy(&v, b->ram->block->host + pa, 2);
    return v;
}

/* Writes space-separated hex bytes ("0F A2 F4") at pa; returns the count. */
static inline unsigned bare_code(struct bare *b, uint64_t pa, const char *hex)
{
    uint8_t buf[256];
    unsigned n = 0;
    const char *p = hex;
    while (*p && n < sizeof(buf)) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *end;
        buf[n++] = (uint8_t)strtoul(p, &end, 16);
        if (end == p)
            abort();
        p = end;
    }
    bare_poke(b, pa, buf, n);
    return n;
}

/* Puts a snippet at the next free slot of the code area (each snippet gets
 * its own bytes, so no test depends on re-decoding rewritten code unless it
 * means to), points RIP at it and runs up to `max` instructions. Returns the
 * snippet's address (its offset from CS.base is RIP). */
static inline uint64_t bare_run_code(struct bare *b, const char *hex, uint64_t max)
{
    uint64_t at = BARE_CODE + b->code_next;
    b->code_next += 0x40;
    bare_code(b, at, hex);
    b->cpu.rip = at - b->cpu.seg[SEG_CS].base;
    b->cpu.state = CPU_RUNNING;
    cpu_run(&b->cpu, max);
    return at;
}

/* ---- descriptor tables ---- */

static inline void bare_gdt(struct bare *b)
{
    static const uint64_t gdt[] = {
        0,
        0x00AF9B000000FFFFull, /* 0x08 code64 */
        0x00CF93000000FFFFull, /* 0x10 data */
        0x00CF9B000000FFFFull, /* 0x18 code32 */
        0x00CFF3000000FFFFull, /* 0x20 user data */
        0x00AFFB000000FFFFull, /* 0x28 user code64 */
        0x00CFFB000000FFFFull, /* 0x30 user code32 */
    };
    for (unsigned k = 0; k < sizeof(gdt) / sizeof(gdt[0]); k++)
        bare_poke64(b, BARE_GDT + 8 * k, gdt[k]);
    /* 0x38: 64-bit TSS (busy), base BARE_TSS, limit 0x67; also a valid 32-bit TSS. */
    uint64_t tss = 0x67 | ((uint64_t)BARE_TSS << 16) | (0x8Bull << 40);
    bare_poke64(b, BARE_GDT + 0x38, tss);
    bare_poke64(b, BARE_GDT + 0x40, 0);
    b->cpu.gdtr = (struct dtable){BARE_GDT, 0x47};
    bare_poke64(b, BARE_TSS + 4, BARE_STACK_TOP); /* RSP0 of the 64-bit TSS */
    b->cpu.tr = (struct segment){SEL_TSS, 0x008B, 0x67, BARE_TSS};
}

/* Every vector's gate points at BARE_HANDLERS + 16 * v, which holds HLT. */
static inline void bare_idt(struct bare *b, bool long_mode)
{
    for (unsigned v = 0; v < 32; v++) {
        uint64_t off = BARE_HANDLERS + 16 * v;
        bare_code(b, off, "F4");
        if (long_mode) {
            uint64_t lo = (off & 0xFFFF) | ((uint64_t)SEL_CODE64 << 16) | (0x8Eull << 40) |
                          (((off >> 16) & 0xFFFF) << 48);
            bare_poke64(b, BARE_IDT + 16 * v, lo);
            bare_poke64(b, BARE_IDT + 16 * v + 8, off >> 32);
        } else {
            uint64_t lo = (off & 0xFFFF) | ((uint64_t)SEL_CODE32 << 16) | (0x8Eull << 40) |
                          (((off >> 16) & 0xFFFF) << 48);
            bare_poke64(b, BARE_IDT + 8 * v, lo);
        }
    }
    b->cpu.idtr = (struct dtable){BARE_IDT, long_mode ? 32 * 16 - 1 : 32 * 8 - 1};
}

/* The vector whose handler the CPU halted in, or -1. */
static inline int bare_vector(const struct bare *b)
{
    const struct cpu *c = &b->cpu;
    if (c->state != CPU_HALTED || c->rip < BARE_HANDLERS + 1 || c->rip > BARE_HANDLERS + 16 * 32)
        return -1;
    if ((c->rip - BARE_HANDLERS - 1) % 16)
        return -1;
    return (int)((c->rip - BARE_HANDLERS - 1) / 16);
}

/* ---- modes, entered by setting registers ---- */

static inline void bare_set_data_segments(struct cpu *c, uint16_t sel, uint16_t attr)
{
    for (unsigned s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            c->seg[s] = (struct segment){sel, attr, 0xFFFFFFFF, 0};
}

/* Real mode, CS:IP = (BARE_CODE >> 4):0, SS:SP = 0:0x7FF0. */
static inline void bare_real_mode(struct bare *b)
{
    struct cpu *c = &b->cpu;
    c->cr0 = 0x60000010;
    c->efer = 0;
    for (unsigned s = 0; s < SEG_COUNT; s++)
        c->seg[s] = (struct segment){0, 0x0093, 0xFFFF, 0};
    c->seg[SEG_CS] = (struct segment){BARE_CODE >> 4, 0x009B, 0xFFFF, BARE_CODE};
    c->gpr[R_SP] = 0x7FF0;
    c->rip = 0;
    c->idtr = (struct dtable){0, 0x3FF};
    cpu_tlb_flush(c);
    cpu_update_mode(c);
}

/* 32-bit flat protected mode at CPL 0, paging per `cr0_extra` (CR0_PG, CR0_WP). */
static inline void bare_prot32(struct bare *b, uint64_t cr0_extra, uint64_t cr4, uint64_t cr3)
{
    struct cpu *c = &b->cpu;
    bare_gdt(b);
    bare_idt(b, false);
    c->cr4 = cr4;
    c->cr3 = cr3;
    c->efer &= EFER_NXE;
    c->cr0 = CR0_PE | CR0_ET | CR0_NE | cr0_extra;
    bare_set_data_segments(c, SEL_DATA, 0xC093);
    c->seg[SEG_CS] = (struct segment){SEL_CODE32, 0xC09B, 0xFFFFFFFF, 0};
    c->cpl = 0;
    c->gpr[R_SP] = BARE_STACK_TOP;
    c->rip = BARE_CODE;
    cpu_tlb_flush(c);
    cpu_update_mode(c);
}

/* 64-bit mode at CPL 0 with 4-level paging rooted at cr3. */
static inline void bare_long64(struct bare *b, uint64_t cr3, bool nxe, bool wp)
{
    struct cpu *c = &b->cpu;
    bare_gdt(b);
    bare_idt(b, true);
    c->cr4 = CR4_PAE | CR4_PSE;
    c->cr3 = cr3;
    c->efer = EFER_LME | EFER_LMA | (nxe ? EFER_NXE : 0);
    c->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG | (wp ? CR0_WP : 0);
    bare_set_data_segments(c, SEL_DATA, 0xC093);
    c->seg[SEG_CS] = (struct segment){SEL_CODE64, 0xA09B, 0xFFFFFFFF, 0};
    c->cpl = 0;
    c->gpr[R_SP] = BARE_STACK_TOP;
    c->rip = BARE_CODE;
    cpu_tlb_flush(c);
    cpu_update_mode(c);
}

/* Drops to CPL 3 in 64-bit mode (user code and stack selectors). */
static inline void bare_user64(struct bare *b)
{
    struct cpu *c = &b->cpu;
    bare_set_data_segments(c, SEL_UDATA, 0xC0F3);
    c->seg[SEG_CS] = (struct segment){SEL_UCODE64, 0xA0FB, 0xFFFFFFFF, 0};
    c->cpl = 3;
    c->gpr[R_SP] = BARE_USER_STACK;
    cpu_update_mode(c);
}

#endif
