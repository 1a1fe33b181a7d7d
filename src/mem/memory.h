/*
 * memory.h - the physical memory map as a tree of regions, as QEMU models it
 * (docs/devel/memory.rst is the idea; this is our own code): RAM, ROM, MMIO,
 * black holes, containers and aliases, with priorities and enable bits.
 *
 * An address space is a root region plus its flattened view: a sorted list
 * of non-overlapping ranges, each naming the terminal region that answers
 * there. Views are rebuilt lazily after any change; every change bumps the
 * map generation and calls the owner's map-change hook, so CPUs can drop
 * their TLBs (DESIGN.md: "every SMRAM, PAM or BAR change bumps a map
 * generation").
 *
 * The I/O port space is an address space of the same kind (root "io").
 * Unassigned addresses read all-ones and ignore writes (platform.md §1.2).
 */
#ifndef SMMVM_MEM_MEMORY_H
#define SMMVM_MEM_MEMORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct mem_system;
struct mem_region;

enum mem_kind {
    MEM_CONTAINER,
    MEM_RAM,
    MEM_ROM,
    MEM_MMIO,
    MEM_ALIAS,
    MEM_BLACKHOLE,
};

/* Device callbacks. Accesses outside [min_access, max_access] are split or
 * widened by the dispatcher, so a device only sees sizes it declared. */
struct mem_ops {
    const char *name;
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
    unsigned min_access; /* 1, 2, 4 or 8; 0 means 1 */
    unsigned max_access; /* 0 means 8 */
};

/* Backing store of a RAM or ROM region with per-page code metadata: one bit
 * per 128-byte chunk that holds decoded instructions (cpu.md §5.3). */
struct ram_block {
    uint8_t *host;
    uint64_t size;
    uint64_t mapped_bytes; /* size rounded up to pages: the mapping behind host */
    uint32_t *code_chunks; /* one word per 4 KiB page */
};

struct mem_region {
    char name[40];
    enum mem_kind kind;
    uint64_t addr; /* in the parent */
    uint64_t size;
    int priority;
    bool enabled;
    bool readonly; /* ROM, or a RAM alias that drops writes */
    unsigned creation_order;
    struct mem_region *parent;
    struct mem_region **children; /* sorted by priority, highest first */
    unsigned n_children, cap_children;
    struct mem_region *alias_target;
    uint64_t alias_offset;
    struct ram_block *block; /* RAM, ROM */
    const struct mem_ops *ops; /* MMIO */
    void *opaque;
    struct mem_system *sys;
};

struct flat_range {
    uint64_t start, last; /* inclusive */
    struct mem_region *mr; /* terminal region; NULL never stored (gaps are absent) */
    uint64_t offset;       /* offset of start inside mr */
    bool readonly;         /* reached through a read-only alias, or ROM */
};

struct address_space {
    char name[32];
    struct mem_region *root;
    struct flat_range *ranges;
    unsigned n_ranges, cap_ranges;
    bool dirty;
    bool hidden; /* left out of info mtree (the space of an ejected CPU's slot) */
    struct mem_system *sys;
};

typedef void (*mem_map_change_fn)(void *opaque);
typedef void (*mem_code_write_fn)(void *opaque, const uint8_t *host, unsigned len);

struct mem_system {
    struct mem_region **regions; /* every region ever created, for freeing */
    unsigned n_regions, cap_regions;
    struct address_space **spaces;
    unsigned n_spaces, cap_spaces;
    uint64_t generation;
    mem_map_change_fn on_map_change;
    mem_code_write_fn on_code_write;
    void *hook_opaque;
};

void mem_system_init(struct mem_system *sys);
void mem_system_free(struct mem_system *sys);

struct mem_region *mem_region_container(struct mem_system *sys, const char *name, uint64_t size);
struct mem_region *mem_region_ram(struct mem_system *sys, const char *name, uint64_t size);
/* ROM: read-only RAM whose contents the loader fills through ->block->host. */
struct mem_region *mem_region_rom(struct mem_system *sys, const char *name, uint64_t size);
struct mem_region *mem_region_mmio(struct mem_system *sys, const char *name, uint64_t size,
                                   const struct mem_ops *ops, void *opaque);
struct mem_region *mem_region_blackhole(struct mem_system *sys, const char *name, uint64_t size);
struct mem_region *mem_region_alias(struct mem_system *sys, const char *name,
                                    struct mem_region *target, uint64_t offset, uint64_t size);

void mem_region_add(struct mem_region *parent, struct mem_region *child, uint64_t addr,
                    int priority);
void mem_region_set_enabled(struct mem_region *mr, bool enabled);
void mem_region_set_address(struct mem_region *mr, uint64_t addr);
void mem_region_set_size(struct mem_region *mr, uint64_t size);
void mem_region_set_readonly(struct mem_region *mr, bool readonly);
/* Moves an alias to a new offset inside its target (PAM, TSEG). */
void mem_region_set_alias_offset(struct mem_region *mr, uint64_t offset);
const char *mem_region_type_name(const struct mem_region *mr);

struct address_space *mem_space_create(struct mem_system *sys, const char *name,
                                       struct mem_region *root);
/* The flat range covering addr, or NULL if nothing is mapped there. */
/* An ejected CPU's spaces stay for a re-plug of the slot but are not listed. */
void mem_space_set_hidden(struct address_space *as, bool hidden);
const struct flat_range *mem_space_lookup(struct address_space *as, uint64_t addr);

/* What a CPU's TLB may cache for one 4 KiB page: a host pointer only when
 * the whole page is one RAM or ROM range. */
struct mem_page {
    uint8_t *host;           /* NULL: every access takes the slow path */
    struct ram_block *block; /* for code tracking */
    uint64_t block_offset;   /* of the page inside block */
    bool writable;
};
void mem_space_page(struct address_space *as, uint64_t page_addr, struct mem_page *out);

/* Slow-path accesses: any size 1..8, any alignment, split across ranges. */
uint64_t mem_read(struct address_space *as, uint64_t addr, unsigned size);
void mem_write(struct address_space *as, uint64_t addr, uint64_t value, unsigned size);
/* Bulk copies for DMA, loaders and the monitor (same rules as mem_read/write). */
void mem_read_buf(struct address_space *as, uint64_t addr, void *buf, uint64_t len);
void mem_write_buf(struct address_space *as, uint64_t addr, const void *buf, uint64_t len);

/* Code tracking: mark a chunk as holding decoded code; a write to a marked
 * chunk calls on_code_write and the caller drops its blocks. */
static inline bool ram_block_page_has_code(const struct ram_block *b, uint64_t offset)
{
    return b->code_chunks[offset >> 12] != 0;
}
void ram_block_mark_code(struct ram_block *b, uint64_t offset, uint64_t len);
void ram_block_clear_code(struct ram_block *b, uint64_t offset, uint64_t len);
/* Called by every writer of RAM that bypasses mem_write (the CPU's slow path). */
void mem_note_ram_write(struct mem_system *sys, struct ram_block *b, uint64_t offset,
                        unsigned len);

/* `info mtree` (tree) and `info mtree -f` (flat views) in QEMU's format. */
void mem_print_tree(struct mem_system *sys, FILE *out);
void mem_print_flat(struct mem_system *sys, FILE *out);

#endif
