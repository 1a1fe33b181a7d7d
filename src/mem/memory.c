/*
 * memory.c - region tree, flattening into views, and slow-path dispatch.
 * Contract: memory.h; naming and printing follow platform.md §2.8 and §2.10.
 *
 * Flattening follows the usual rule for priority trees: children are
 * visited highest priority first (for equal priorities the later-added one
 * first, as QEMU does), and a terminal region only fills the parts of its
 * range that nothing visited before has claimed. A disabled region, and all
 * below it, claims nothing, so whatever lies underneath shows through.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "mem/memory.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util.h"

#define MEM_SIZE_FULL UINT64_MAX /* stands for 2^64: a region covering the whole space */

static uint64_t region_last(const struct mem_region *mr)
{
    return mr->size == MEM_SIZE_FULL ? mr->addr + UINT64_MAX : mr->addr + mr->size - 1;
}

static void map_changed(struct mem_system *sys)
{
    sys->generation++;
    for (unsigned i = 0; i < sys->n_spaces; i++)
        sys->spaces[i]->dirty = true;
    if (sys->on_map_change)
        sys->on_map_change(sys->hook_opaque);
}

void mem_system_init(struct mem_system *sys)
{
    *sys = (struct mem_system){ .generation = 1 };
}

void mem_system_free(struct mem_system *sys)
{
    for (unsigned i = 0; i < sys->n_regions; i++) {
        struct mem_region *mr = sys->regions[i];
        if (mr->block) {
            munmap(mr->block->host, mr->block->mapped_bytes);
            free(mr->block->code_chunks);
            free(mr->block);
        }
        free(mr->children);
        free(mr);
    }
    for (unsigned i = 0; i < sys->n_spaces; i++) {
        free(sys->spaces[i]->ranges);
        free(sys->spaces[i]);
    }
    free(sys->regions);
    free(sys->spaces);
    *sys = (struct mem_system){ 0 };
}

static struct mem_region *region_new(struct mem_system *sys, const char *name, enum mem_kind kind,
                                     uint64_t size)
{
    struct mem_region *mr = xcalloc(1, sizeof(*mr));
    snprintf(mr->name, sizeof(mr->name), "%s", name);
    mr->kind = kind;
    mr->size = size;
    mr->enabled = true;
    mr->sys = sys;
    mr->creation_order = sys->n_regions;
    if (sys->n_regions == sys->cap_regions) {
        sys->cap_regions = sys->cap_regions ? sys->cap_regions * 2 : 64;
        sys->regions = xrealloc(sys->regions, sys->cap_regions * sizeof(*sys->regions));
    }
    sys->regions[sys->n_regions++] = mr;
    return mr;
}

struct mem_region *mem_region_container(struct mem_system *sys, const char *name, uint64_t size)
{
    return region_new(sys, name, MEM_CONTAINER, size);
}

static struct ram_block *ram_block_new(uint64_t size)
{
    struct ram_block *b = xcalloc(1, sizeof(*b));
    uint64_t pages = (size + 0xFFF) >> 12;
    /* Page-aligned, so a host page is a guest page (the block cache keys code
     * pages by host page); RAM reads zero at power-on (platform.md §1.5). An
     * anonymous mapping is both, and costs host memory only where the guest
     * writes: a 6 GiB guest starts at once. */
    void *p = mmap(NULL, pages << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "smmvm: out of memory allocating %llu bytes of RAM\n",
                (unsigned long long)(pages << 12));
        exit(1);
    }
    b->host = p;
    b->mapped_bytes = pages << 12;
    b->size = size;
    b->code_chunks = xcalloc(pages, sizeof(uint32_t));
    return b;
}

struct mem_region *mem_region_ram(struct mem_system *sys, const char *name, uint64_t size)
{
    struct mem_region *mr = region_new(sys, name, MEM_RAM, size);
    mr->block = ram_block_new(size);
    return mr;
}

struct mem_region *mem_region_rom(struct mem_system *sys, const char *name, uint64_t size)
{
    struct mem_region *mr = region_new(sys, name, MEM_ROM, size);
    mr->block = ram_block_new(size);
    mr->readonly = true;
    return mr;
}

struct mem_region *mem_region_mmio(struct mem_system *sys, const char *name, uint64_t size,
                                   const struct mem_ops *ops, void *opaque)
{
    struct mem_region *mr = region_new(sys, name, MEM_MMIO, size);
    mr->ops = ops;
    mr->opaque = opaque;
    return mr;
}

struct mem_region *mem_region_blackhole(struct mem_system *sys, const char *name, uint64_t size)
{
    return region_new(sys, name, MEM_BLACKHOLE, size);
}

struct mem_region *mem_region_alias(struct mem_system *sys, const char *name,
                                    struct mem_region *target, uint64_t offset, uint64_t size)
{
    struct mem_region *mr = region_new(sys, name, MEM_ALIAS, size);
    mr->alias_target = target;
    mr->alias_offset = offset;
    return mr;
}

void mem_region_add(struct mem_region *parent, struct mem_region *child, uint64_t addr,
                    int priority)
{
    BUG_ON(parent->kind != MEM_CONTAINER || child->parent);
    child->addr = addr;
    child->priority = priority;
    child->parent = parent;
    if (parent->n_children == parent->cap_children) {
        parent->cap_children = parent->cap_children ? parent->cap_children * 2 : 8;
        parent->children =
            xrealloc(parent->children, parent->cap_children * sizeof(*parent->children));
    }
    /* Before the first sibling of lower or equal priority: later additions win ties. */
    unsigned pos = 0;
    while (pos < parent->n_children && parent->children[pos]->priority > priority)
        pos++;
    memmove(&parent->children[pos + 1], &parent->children[pos],
            (parent->n_children - pos) * sizeof(*parent->children));
    parent->children[pos] = child;
    parent->n_children++;
    map_changed(parent->sys);
}

void mem_region_set_enabled(struct mem_region *mr, bool enabled)
{
    if (mr->enabled == enabled)
        return;
    mr->enabled = enabled;
    map_changed(mr->sys);
}

void mem_region_set_address(struct mem_region *mr, uint64_t addr)
{
    if (mr->addr == addr)
        return;
    mr->addr = addr;
    map_changed(mr->sys);
}

void mem_region_set_size(struct mem_region *mr, uint64_t size)
{
    if (mr->size == size)
        return;
    mr->size = size;
    map_changed(mr->sys);
}

void mem_region_set_readonly(struct mem_region *mr, bool readonly)
{
    if (mr->readonly == readonly)
        return;
    mr->readonly = readonly;
    map_changed(mr->sys);
}

void mem_region_set_alias_offset(struct mem_region *mr, uint64_t offset)
{
    if (mr->alias_offset == offset)
        return;
    mr->alias_offset = offset;
    map_changed(mr->sys);
}

static const struct mem_region *terminal_of(const struct mem_region *mr)
{
    while (mr->kind == MEM_ALIAS)
        mr = mr->alias_target;
    return mr;
}

const char *mem_region_type_name(const struct mem_region *mr)
{
    switch (terminal_of(mr)->kind) {
    case MEM_RAM:
        return "ram";
    case MEM_ROM:
        return "rom";
    default:
        return "i/o";
    }
}

struct address_space *mem_space_create(struct mem_system *sys, const char *name,
                                       struct mem_region *root)
{
    struct address_space *as = xcalloc(1, sizeof(*as));
    snprintf(as->name, sizeof(as->name), "%s", name);
    as->root = root;
    as->dirty = true;
    as->sys = sys;
    if (sys->n_spaces == sys->cap_spaces) {
        sys->cap_spaces = sys->cap_spaces ? sys->cap_spaces * 2 : 8;
        sys->spaces = xrealloc(sys->spaces, sys->cap_spaces * sizeof(*sys->spaces));
    }
    sys->spaces[sys->n_spaces++] = as;
    return as;
}

/* ---- flattening ---- */

static void flat_push(struct address_space *as, unsigned at, const struct flat_range *r)
{
    if (as->n_ranges == as->cap_ranges) {
        as->cap_ranges = as->cap_ranges ? as->cap_ranges * 2 : 32;
        as->ranges = xrealloc(as->ranges, as->cap_ranges * sizeof(*as->ranges));
    }
    memmove(&as->ranges[at + 1], &as->ranges[at], (as->n_ranges - at) * sizeof(*as->ranges));
    as->ranges[at] = *r;
    as->n_ranges++;
}

/* Claims the unclaimed parts of [start, last] for a terminal region whose
 * byte at `start` is at `offset`. */
static void flat_claim(struct address_space *as, uint64_t start, uint64_t last,
                       struct mem_region *mr, uint64_t offset, bool readonly)
{
    uint64_t cur = start;
    unsigned i = 0;
    while (i < as->n_ranges && as->ranges[i].last < cur)
        i++;
    for (;;) {
        if (i < as->n_ranges && as->ranges[i].start <= cur) { /* already claimed */
            if (as->ranges[i].last >= last)
                return;
            cur = as->ranges[i].last + 1;
            i++;
            continue;
        }
        uint64_t gap_last = last;
        if (i < as->n_ranges && as->ranges[i].start <= last)
            gap_last = as->ranges[i].start - 1;
        struct flat_range r = { cur, gap_last, mr, offset + (cur - start), readonly };
        flat_push(as, i, &r);
        i++;
        if (gap_last == last)
            return;
        cur = gap_last + 1;
    }
}

static void render(struct address_space *as, struct mem_region *mr, uint64_t origin,
                   uint64_t clip_start, uint64_t clip_last, bool readonly)
{
    if (!mr->enabled || mr->size == 0)
        return;
    /* Work relative to the region's origin: an alias whose target offset is
     * above its own address puts the target's origin "below zero", and the
     * unsigned arithmetic must wrap rather than clip it away. */
    uint64_t last_rel = mr->size == MEM_SIZE_FULL ? UINT64_MAX : mr->size - 1;
    uint64_t rel_start = clip_start - origin, rel_last = clip_last - origin;
    if (rel_start > rel_last) { /* the clip window wraps in relative terms: two pieces */
        render(as, mr, origin, clip_start, origin + UINT64_MAX, readonly);
        render(as, mr, origin, origin, clip_last, readonly);
        return;
    }
    if (rel_start > last_rel)
        return;
    if (rel_last > last_rel)
        rel_last = last_rel;
    uint64_t start = origin + rel_start;
    uint64_t last = origin + rel_last;
    readonly = readonly || mr->readonly;
    switch (mr->kind) {
    case MEM_CONTAINER:
        for (unsigned i = 0; i < mr->n_children; i++) {
            struct mem_region *child = mr->children[i];
            render(as, child, origin + child->addr, start, last, readonly);
        }
        return;
    case MEM_ALIAS:
        render(as, mr->alias_target, origin - mr->alias_offset, start, last, readonly);
        return;
    default:
        flat_claim(as, start, last, mr, rel_start, readonly);
        return;
    }
}

static void space_rebuild(struct address_space *as)
{
    as->n_ranges = 0;
    render(as, as->root, 0, 0, UINT64_MAX, false);
    as->dirty = false;
}

const struct flat_range *mem_space_lookup(struct address_space *as, uint64_t addr)
{
    if (unlikely(as->dirty))
        space_rebuild(as);
    unsigned lo = 0, hi = as->n_ranges;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const struct flat_range *r = &as->ranges[mid];
        if (addr < r->start)
            hi = mid;
        else if (addr > r->last)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

void mem_space_page(struct address_space *as, uint64_t page_addr, struct mem_page *out)
{
    *out = (struct mem_page){ 0 };
    const struct flat_range *r = mem_space_lookup(as, page_addr);
    if (!r || r->last < page_addr + 0xFFF)
        return;
    if (r->mr->kind != MEM_RAM && r->mr->kind != MEM_ROM)
        return;
    uint64_t off = r->offset + (page_addr - r->start);
    if (off + 0x1000 > r->mr->block->size)
        return;
    out->host = r->mr->block->host + off;
    out->block = r->mr->block;
    out->block_offset = off;
    out->writable = !r->readonly;
}

/* ---- slow-path dispatch ---- */

static uint64_t ones(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

/* The largest power of two that fits both what is left and the device maximum. */
static unsigned largest_piece(unsigned left, unsigned max)
{
    unsigned p = 8;
    while (p > left || p > max)
        p >>= 1;
    return p;
}

static uint64_t mmio_read(const struct flat_range *r, uint64_t off, unsigned size)
{
    const struct mem_ops *ops = r->mr->ops;
    unsigned min = ops->min_access ? ops->min_access : 1;
    unsigned max = ops->max_access ? ops->max_access : 8;
    if (size > max || (size & (size - 1))) {
        uint64_t v = 0;
        for (unsigned done = 0; done < size;) {
            unsigned piece = largest_piece(size - done, max);
            v |= mmio_read(r, off + done, piece) << (done * 8);
            done += piece;
        }
        return v & ones(size);
    }
    if (size < min) {
        uint64_t base = off & ~(uint64_t)(min - 1);
        uint64_t v = ops->read(r->mr->opaque, base, min);
        return (v >> ((off - base) * 8)) & ones(size);
    }
    return ops->read(r->mr->opaque, off, size) & ones(size);
}

static void mmio_write(const struct flat_range *r, uint64_t off, uint64_t value, unsigned size)
{
    const struct mem_ops *ops = r->mr->ops;
    unsigned min = ops->min_access ? ops->min_access : 1;
    unsigned max = ops->max_access ? ops->max_access : 8;
    if (size > max || (size & (size - 1))) {
        for (unsigned done = 0; done < size;) {
            unsigned piece = largest_piece(size - done, max);
            mmio_write(r, off + done, value >> (done * 8), piece);
            done += piece;
        }
        return;
    }
    if (size < min) {
        /* Narrow write to a wide-only register: zero-extend into the aligned access, which is
         * what the devices we model expect (they decode by offset and size). */
        uint64_t base = off & ~(uint64_t)(min - 1);
        ops->write(r->mr->opaque, base, (value & ones(size)) << ((off - base) * 8), min);
        return;
    }
    ops->write(r->mr->opaque, off, value & ones(size), size);
}

/* Access entirely inside one range. */
static uint64_t range_read(const struct flat_range *r, uint64_t addr, unsigned size)
{
    uint64_t off = r->offset + (addr - r->start);
    switch (r->mr->kind) {
    case MEM_RAM:
    case MEM_ROM: {
        uint64_t v = 0;
        if (off + size <= r->mr->block->size)
            memcpy(&v, r->mr->block->host + off, size);
        else
            v = ones(size);
        return v;
    }
    case MEM_MMIO:
        return mmio_read(r, off, size);
    default: /* black hole */
        return ones(size);
    }
}

void mem_note_ram_write(struct mem_system *sys, struct ram_block *b, uint64_t offset,
                        unsigned len)
{
    uint64_t first = offset >> 12, last = (offset + len - 1) >> 12;
    for (uint64_t p = first; p <= last; p++) {
        if (b->code_chunks[p] && sys->on_code_write) {
            sys->on_code_write(sys->hook_opaque, b->host + offset, len);
            return;
        }
    }
}

static void range_write(struct mem_system *sys, const struct flat_range *r, uint64_t addr,
                        uint64_t value, unsigned size)
{
    uint64_t off = r->offset + (addr - r->start);
    switch (r->mr->kind) {
    case MEM_RAM:
        if (r->readonly || off + size > r->mr->block->size)
            return;
        memcpy(r->mr->block->host + off, &value, size);
        mem_note_ram_write(sys, r->mr->block, off, size);
        return;
    case MEM_MMIO:
        mmio_write(r, off, value, size);
        return;
    default: /* ROM and black holes drop writes */
        return;
    }
}

uint64_t mem_read(struct address_space *as, uint64_t addr, unsigned size)
{
    const struct flat_range *r = mem_space_lookup(as, addr);
    if (r && addr + size - 1 <= r->last && addr + size - 1 >= addr)
        return range_read(r, addr, size);
    if (!r && size == 1)
        return 0xFF;
    /* Straddles ranges (or a gap): byte by byte, little endian. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        const struct flat_range *b = mem_space_lookup(as, addr + i);
        uint64_t byte = b ? range_read(b, addr + i, 1) : 0xFF;
        v |= byte << (i * 8);
    }
    return v;
}

void mem_write(struct address_space *as, uint64_t addr, uint64_t value, unsigned size)
{
    const struct flat_range *r = mem_space_lookup(as, addr);
    if (r && addr + size - 1 <= r->last && addr + size - 1 >= addr) {
        range_write(as->sys, r, addr, value, size);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        const struct flat_range *b = mem_space_lookup(as, addr + i);
        if (b)
            range_write(as->sys, b, addr + i, (value >> (i * 8)) & 0xFF, 1);
    }
}

void mem_read_buf(struct address_space *as, uint64_t addr, void *buf, uint64_t len)
{
    uint8_t *p = buf;
    for (uint64_t i = 0; i < len; i++)
        p[i] = (uint8_t)mem_read(as, addr + i, 1);
}

void mem_write_buf(struct address_space *as, uint64_t addr, const void *buf, uint64_t len)
{
    const uint8_t *p = buf;
    for (uint64_t i = 0; i < len; i++)
        mem_write(as, addr + i, p[i], 1);
}

void ram_block_mark_code(struct ram_block *b, uint64_t offset, uint64_t len)
{
    for (uint64_t o = offset & ~127ull; o < offset + len && o < b->size; o += 128)
        b->code_chunks[o >> 12] |= 1u << ((o >> 7) & 31);
}

void ram_block_clear_code(struct ram_block *b, uint64_t offset, uint64_t len)
{
    for (uint64_t o = offset & ~127ull; o < offset + len && o < b->size; o += 128)
        b->code_chunks[o >> 12] &= ~(1u << ((o >> 7) & 31));
}

/* ---- printing (platform.md §2.10) ---- */

static int sibling_order(const void *a, const void *b)
{
    const struct mem_region *x = *(const struct mem_region *const *)a;
    const struct mem_region *y = *(const struct mem_region *const *)b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->creation_order < y->creation_order ? -1 : 1;
}

static void print_region_line(FILE *out, const struct mem_region *mr, uint64_t origin,
                              unsigned depth)
{
    uint64_t start = origin;
    uint64_t last = mr->size ? origin + (region_last(mr) - mr->addr) : start;
    fprintf(out, "%*s%016llx-%016llx (prio %d, %s): ", (int)(depth * 2 + 2), "",
            (unsigned long long)start, (unsigned long long)last, mr->priority,
            mem_region_type_name(mr));
    if (mr->kind == MEM_ALIAS) {
        uint64_t tlast = mr->size ? mr->alias_offset + (region_last(mr) - mr->addr)
                                  : mr->alias_offset;
        fprintf(out, "alias %s @%s %016llx-%016llx", mr->name, mr->alias_target->name,
                (unsigned long long)mr->alias_offset, (unsigned long long)tlast);
    } else {
        fputs(mr->name, out);
    }
    fputs(mr->enabled ? "\n" : " [disabled]\n", out);
}

static void print_subtree(FILE *out, const struct mem_region *mr, uint64_t origin, unsigned depth,
                          const struct mem_region **seen, unsigned *n_seen)
{
    print_region_line(out, mr, origin, depth);
    seen[(*n_seen)++] = mr;
    if (mr->kind != MEM_CONTAINER || mr->n_children == 0)
        return;
    const struct mem_region **sorted = xcalloc(mr->n_children, sizeof(*sorted));
    memcpy(sorted, mr->children, mr->n_children * sizeof(*sorted));
    qsort(sorted, mr->n_children, sizeof(*sorted), sibling_order);
    for (unsigned i = 0; i < mr->n_children; i++)
        print_subtree(out, sorted[i], origin + sorted[i]->addr, depth + 1, seen, n_seen);
    free(sorted);
}

static bool region_seen(const struct mem_region *const *seen, unsigned n, const struct mem_region *mr)
{
    for (unsigned i = 0; i < n; i++)
        if (seen[i] == mr)
            return true;
    return false;
}

/* Is space i listed, and the first listed one with its root? Spaces sharing a
 * root are printed together; hidden ones (an ejected CPU's) not at all. */
static bool first_listed_with_root(const struct mem_system *sys, unsigned i)
{
    if (sys->spaces[i]->hidden)
        return false;
    for (unsigned j = 0; j < i; j++)
        if (sys->spaces[j]->root == sys->spaces[i]->root && !sys->spaces[j]->hidden)
            return false;
    return true;
}

void mem_space_set_hidden(struct address_space *as, bool hidden)
{
    as->hidden = hidden;
}

void mem_print_tree(struct mem_system *sys, FILE *out)
{
    const struct mem_region **seen = xcalloc(sys->n_regions * 2 + 1, sizeof(*seen));
    unsigned n_seen = 0;
    for (unsigned i = 0; i < sys->n_spaces; i++) {
        struct mem_region *root = sys->spaces[i]->root;
        if (!first_listed_with_root(sys, i))
            continue;
        for (unsigned j = i; j < sys->n_spaces; j++)
            if (sys->spaces[j]->root == root && !sys->spaces[j]->hidden)
                fprintf(out, "address-space: %s\n", sys->spaces[j]->name);
        print_subtree(out, root, root->addr, 0, seen, &n_seen);
        fputc('\n', out);
    }
    /* Alias targets not shown yet get their own section; a section can show
     * further aliases, so repeat until nothing new appears. */
    for (bool added = true; added;) {
        added = false;
        for (unsigned i = 0; i < sys->n_regions; i++) {
            const struct mem_region *mr = sys->regions[i];
            if (mr->kind != MEM_ALIAS || !region_seen(seen, n_seen, mr))
                continue;
            const struct mem_region *t = mr->alias_target;
            if (region_seen(seen, n_seen, t))
                continue;
            fprintf(out, "memory-region: %s\n", t->name);
            print_subtree(out, t, t->addr, 0, seen, &n_seen);
            fputc('\n', out);
            added = true;
        }
    }
    free(seen);
}

void mem_print_flat(struct mem_system *sys, FILE *out)
{
    unsigned view = 0;
    for (unsigned i = 0; i < sys->n_spaces; i++) {
        struct address_space *as = sys->spaces[i];
        if (!first_listed_with_root(sys, i))
            continue;
        fprintf(out, "FlatView #%u\n", view++);
        for (unsigned j = i; j < sys->n_spaces; j++)
            if (sys->spaces[j]->root == as->root && !sys->spaces[j]->hidden)
                fprintf(out, " AS \"%s\", root: %s\n", sys->spaces[j]->name, as->root->name);
        fprintf(out, " Root memory region: %s\n", as->root->name);
        if (as->dirty)
            space_rebuild(as);
        for (unsigned k = 0; k < as->n_ranges; k++) {
            const struct flat_range *r = &as->ranges[k];
            uint64_t last = r->last;
            /* Merge neighbours that continue the same region contiguously. */
            while (k + 1 < as->n_ranges && as->ranges[k + 1].mr == r->mr &&
                   as->ranges[k + 1].start == last + 1 &&
                   as->ranges[k + 1].offset == r->offset + (last + 1 - r->start) &&
                   as->ranges[k + 1].readonly == r->readonly) {
                k++;
                last = as->ranges[k].last;
            }
            fprintf(out, "  %016llx-%016llx (prio %d, %s): %s", (unsigned long long)r->start,
                    (unsigned long long)last, r->mr->priority, mem_region_type_name(r->mr),
                    r->mr->name);
            if (r->offset)
                fprintf(out, " @%016llx", (unsigned long long)r->offset);
            fputc('\n', out);
        }
        fputc('\n', out);
    }
}
