/*
 * tlb_test.c - the software TLB and decoded-block cache against changes the
 * guest makes (tlb.c, block.c): CR3 reloads and INVLPG drop translations
 * (cpu.md §3 "TLB obligations"), memory-map changes drop host pointers, and
 * self-modifying code is seen by the next execution (cpu.md §5.3), whether
 * the store hits the running block, a block decoded earlier, or comes from
 * outside the CPU (DMA, loader, monitor).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpu/bare_cpu_test.h"

#define P 0x001ull
#define W 0x002ull
#define U 0x004ull

#define PML4    0x10000u
#define PDPT    0x11000u
#define PD      0x12000u
#define PT      0x13000u
#define PML4B   0x14000u /* a second address space sharing PDPT.. except PT */
#define PDPTB   0x15000u
#define PDB     0x16000u
#define PTB     0x17000u
#define DATA_LA 0x100000u /* PT[0x100] */
#define FRAME_A 0x150000u
#define FRAME_B 0x160000u

#define UD2 "0F 0B"

static struct bare *make64(void)
{
    struct bare *b = bare_create(8u << 20);
    bare_poke64(b, PML4, PDPT | P | W | U);
    bare_poke64(b, PDPT, PD | P | W | U);
    bare_poke64(b, PD, PT | P | W | U);
    for (unsigned k = 0; k < 512; k++)
        bare_poke64(b, PT + 8 * k, ((uint64_t)k << 12) | P | W | U);
    bare_poke64(b, PT + 8 * (DATA_LA >> 12), FRAME_A | P | W | U);
    bare_poke32(b, FRAME_A, 0xAAAAAAAA);
    bare_poke32(b, FRAME_B, 0xBBBBBBBB);
    bare_long64(b, PML4, false, true);
    return b;
}

static int teardown(void **state)
{
    bare_free(*state);
    return 0;
}

static void assert_ud(struct bare *b)
{
    if (bare_vector(b) != EXC_UD)
        print_error("vector %d rip %llx cr2 %llx\n", bare_vector(b), (unsigned long long)b->cpu.rip,
                    (unsigned long long)b->cpu.cr2);
    assert_int_equal(bare_vector(b), EXC_UD);
}

/* Formats a snippet with the addresses it needs. */
static const char *fmt(char *buf, size_t size, const char *f, ...)
    __attribute__((format(printf, 3, 4)));
static const char *fmt(char *buf, size_t size, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, size, f, ap);
    va_end(ap);
    return buf;
}

/* Little-endian hex of a 32-bit value, "78 56 34 12". */
static const char *le32(char *buf, uint32_t v)
{
    snprintf(buf, 12, "%02X %02X %02X %02X", v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, v >> 24);
    return buf;
}

/* ---- translations ---- */

static void test_cr3_reload_drops_a_changed_translation(void **state)
{
    struct bare *b = *state = make64();
    b->cpu.gpr[R_BX] = DATA_LA;
    bare_run_code(b, "8B 03 " UD2, 100);
    assert_ud(b);
    assert_int_equal(b->cpu.gpr[R_AX], 0xAAAAAAAA);

    bare_poke64(b, PT + 8 * (DATA_LA >> 12), FRAME_B | P | W | U);
    b->cpu.gpr[R_CX] = PML4;
    bare_run_code(b, "0F 22 D9 8B 03 " UD2, 100); /* mov cr3, rcx; mov eax, [rbx] */
    assert_ud(b);
    assert_int_equal(b->cpu.gpr[R_AX], 0xBBBBBBBB);
}

static void test_invlpg_drops_a_changed_translation(void **state)
{
    struct bare *b = *state = make64();
    b->cpu.gpr[R_BX] = DATA_LA + 0x10;
    bare_poke32(b, FRAME_A + 0x10, 0xA1A1A1A1);
    bare_poke32(b, FRAME_B + 0x10, 0xB1B1B1B1);
    bare_run_code(b, "8B 03 " UD2, 100);
    assert_int_equal(b->cpu.gpr[R_AX], 0xA1A1A1A1);

    bare_poke64(b, PT + 8 * (DATA_LA >> 12), FRAME_B | P | W | U);
    bare_run_code(b, "0F 01 3B 8B 03 " UD2, 100); /* invlpg [rbx]; mov eax, [rbx] */
    assert_ud(b);
    assert_int_equal(b->cpu.gpr[R_AX], 0xB1B1B1B1);
}

static void test_invlpg_then_unmapped_page_faults(void **state)
{
    struct bare *b = *state = make64();
    b->cpu.gpr[R_BX] = DATA_LA;
    b->cpu.gpr[R_AX] = 0x12;
    bare_run_code(b, "89 03 " UD2, 100); /* cached writable and dirty */
    assert_ud(b);
    bare_poke64(b, PT + 8 * (DATA_LA >> 12), 0);
    bare_run_code(b, "0F 01 3B 89 03 " UD2, 100);
    assert_int_equal(bare_vector(b), EXC_PF);
    assert_int_equal(b->cpu.cr2, DATA_LA);
    assert_int_equal(bare_peek64(b, b->cpu.gpr[R_SP]), 0x2); /* write, not present */
}

static void test_cr3_switch_selects_the_other_tables(void **state)
{
    struct bare *b = *state = make64();
    bare_poke64(b, PML4B, PDPTB | P | W | U);
    bare_poke64(b, PDPTB, PDB | P | W | U);
    bare_poke64(b, PDB, PTB | P | W | U);
    for (unsigned k = 0; k < 512; k++)
        bare_poke64(b, PTB + 8 * k, ((uint64_t)k << 12) | P | W | U);
    bare_poke64(b, PTB + 8 * (DATA_LA >> 12), FRAME_B | P | W | U);
    b->cpu.gpr[R_BX] = DATA_LA;
    b->cpu.gpr[R_CX] = PML4B;
    b->cpu.gpr[R_DX] = PML4;
    /* read, switch to B, read, switch back, read */
    bare_run_code(b, "8B 33 0F 22 D9 8B 3B 0F 22 DA 8B 2B " UD2, 100);
    assert_ud(b);
    assert_int_equal((uint32_t)b->cpu.gpr[R_SI], 0xAAAAAAAA);
    assert_int_equal((uint32_t)b->cpu.gpr[R_DI], 0xBBBBBBBB);
    assert_int_equal((uint32_t)b->cpu.gpr[R_BP], 0xAAAAAAAA);
    assert_int_equal(b->cpu.cr3, PML4);
}

static void test_cr3_reload_in_legacy_paging(void **state)
{
    struct bare *b = *state = bare_create(8u << 20);
    bare_poke32(b, 0x10000, 0x11000 | P | W | U);
    for (unsigned k = 0; k < 1024; k++)
        bare_poke32(b, 0x11000 + 4 * k, (k << 12) | P | W | U);
    bare_poke32(b, 0x11000 + 4 * (DATA_LA >> 12), FRAME_A | P | W | U);
    bare_poke32(b, FRAME_A, 0xAAAAAAAA);
    bare_poke32(b, FRAME_B, 0xBBBBBBBB);
    bare_prot32(b, CR0_PG, 0, 0x10000);
    b->cpu.gpr[R_BX] = DATA_LA;
    bare_run_code(b, "8B 03 " UD2, 100);
    assert_int_equal(b->cpu.gpr[R_AX], 0xAAAAAAAA);
    bare_poke32(b, 0x11000 + 4 * (DATA_LA >> 12), FRAME_B | P | W | U);
    b->cpu.gpr[R_CX] = 0x10000;
    bare_run_code(b, "0F 22 D9 8B 03 " UD2, 100);
    assert_ud(b);
    assert_int_equal(b->cpu.gpr[R_AX], 0xBBBBBBBB);
}

static void test_memory_map_change_drops_cached_host_pointer(void **state)
{
    struct bare *b = *state = make64();
    b->cpu.gpr[R_BX] = DATA_LA;
    bare_run_code(b, "8B 03 " UD2, 100);
    assert_int_equal(b->cpu.gpr[R_AX], 0xAAAAAAAA);
    /* A black hole appears over the frame (as TSEG does when it is enabled). */
    mem_region_add(b->system, mem_region_blackhole(&b->sys, "tseg-blackhole", 0x10000), FRAME_A, 1);
    bare_run_code(b, "8B 03 89 03 " UD2, 100);
    assert_ud(b);
    assert_int_equal((uint32_t)b->cpu.gpr[R_AX], 0xFFFFFFFF);
    assert_int_equal(bare_peek32(b, FRAME_A), 0xAAAAAAAA); /* the store was dropped */
}

static void test_supervisor_translation_is_not_reused_for_user_access(void **state)
{
    struct bare *b = *state = make64();
    bare_poke64(b, PT + 8 * (DATA_LA >> 12), FRAME_A | P | W); /* supervisor page */
    b->cpu.gpr[R_BX] = DATA_LA;
    bare_run_code(b, "8B 03 " UD2, 100); /* CPL 0: cached */
    assert_ud(b);
    bare_user64(b);
    bare_run_code(b, "8B 03 " UD2, 100);
    assert_int_equal(bare_vector(b), EXC_PF);
    assert_int_equal(bare_peek64(b, b->cpu.gpr[R_SP]), 0x5); /* P, U */
}

static void test_code_page_remapped_by_memory_map_runs_new_code(void **state)
{
    struct bare *b = *state = make64();
    uint64_t at = bare_run_code(b, "B0 01 " UD2, 100);
    assert_int_equal(b->cpu.gpr[R_AX] & 0xFF, 1);
    /* A different RAM appears over the code page (as PAM or SMRAM switching do). */
    struct mem_region *other = mem_region_ram(&b->sys, "other", 0x1000);
    other->block->host[at & 0xFFF] = 0xB0;
    other->block->host[(at & 0xFFF) + 1] = 0x09;
    other->block->host[(at & 0xFFF) + 2] = 0x0F;
    other->block->host[(at & 0xFFF) + 3] = 0x0B;
    mem_region_add(b->system, other, at & ~0xFFFull, 1);
    b->cpu.rip = at;
    b->cpu.state = CPU_RUNNING;
    cpu_run(&b->cpu, 100);
    assert_ud(b);
    assert_int_equal(b->cpu.gpr[R_AX] & 0xFF, 9);
}

static void test_clearing_efer_nxe_drops_translations_of_nx_pages(void **state)
{
    struct bare *b = *state = make64();
    b->cpu.efer |= EFER_NXE;
    bare_poke64(b, PT + 8 * (DATA_LA >> 12), FRAME_A | P | W | U | (1ull << 63));
    b->cpu.gpr[R_BX] = DATA_LA;
    bare_run_code(b, "8B 03 " UD2, 100); /* NX page, data read: allowed and cached */
    assert_ud(b);
    /* mov ecx, EFER; rdmsr; btr eax, 11; wrmsr; mov eax, [rbx] - bit 63 is now reserved */
    bare_run_code(b, "B9 80 00 00 C0 0F 32 0F BA F0 0B 0F 30 8B 03 " UD2, 100);
    assert_int_equal(bare_vector(b), EXC_PF);
    assert_int_equal(bare_peek64(b, b->cpu.gpr[R_SP]), 0x9); /* P, RSVD */
    assert_false(b->cpu.efer & EFER_NXE);
}

/* ---- self-modifying code ---- */

static void test_store_into_the_running_block_changes_the_next_instruction(void **state)
{
    struct bare *b = *state = make64();
    /* mov byte [rip+1], 2 ; mov al, 1 ; ud2 - the store rewrites the imm8. */
    bare_run_code(b, "C6 05 01 00 00 00 02 B0 01 " UD2, 100);
    assert_ud(b);
    assert_int_equal(b->cpu.gpr[R_AX] & 0xFF, 2);
}

static void test_store_into_the_running_block_in_real_mode(void **state)
{
    struct bare *b = *state = bare_create(1u << 20);
    bare_real_mode(b);
    b->cpu.seg[SEG_DS].base = BARE_CODE; /* DS = CS so the store names the code */
    b->cpu.seg[SEG_DS].selector = BARE_CODE >> 4;
    char hex[128], a[16];
    uint64_t ip = b->code_next; /* where bare_run_code will put it, relative to CS */
    /* mov byte [ip+6], 2 ; mov al, 1 ; hlt */
    bare_run_code(b, fmt(hex, sizeof(hex), "C6 06 %.5s 02 B0 01 F4", le32(a, (uint32_t)ip + 6)),
                  100);
    assert_int_equal(b->cpu.state, CPU_HALTED);
    assert_int_equal(b->cpu.gpr[R_AX] & 0xFF, 2);
}

static void test_store_into_code_decoded_earlier_is_seen_when_it_runs_again(void **state)
{
    struct bare *b = *state = make64();
    uint64_t target = bare_run_code(b, "B0 01 " UD2, 100); /* decoded and run once */
    assert_ud(b);
    assert_int_equal(b->cpu.gpr[R_AX] & 0xFF, 1);

    char hex[128], a[16];
    b->cpu.gpr[R_BX] = target;
    /* mov byte [target+1], 2 ; jmp rbx */
    bare_run_code(b, fmt(hex, sizeof(hex), "C6 04 25 %s 02 FF E3", le32(a, (uint32_t)target + 1)),
                  100);
    assert_ud(b);
    assert_int_equal(b->cpu.gpr[R_AX] & 0xFF, 2);
}

static void test_rep_stos_over_following_code_is_seen(void **state)
{
    struct bare *b = *state = make64();
    /* rep stosb writes four NOPs over the "mov al, 1; mov al, 1" that follows. */
    char hex[128];
    uint64_t at = BARE_CODE + b->code_next;
    b->cpu.gpr[R_DI] = at + 8;
    b->cpu.gpr[R_CX] = 4;
    b->cpu.gpr[R_AX] = 0x90;
    /* rep stosb (2) ; mov al, 7 (2) ; nop x4 (4) ; [at+8] mov al,1 ; mov al,1 ; ud2 */
    bare_run_code(b, fmt(hex, sizeof(hex), "F3 AA B0 07 90 90 90 90 B0 01 B0 01 %s", UD2), 100);
    assert_ud(b);
    assert_int_equal(b->cpu.gpr[R_AX] & 0xFF, 7);
    assert_int_equal(bare_peek32(b, at + 8), 0x90909090);
}

static void test_bus_write_into_decoded_code_is_seen(void **state)
{
    struct bare *b = *state = make64();
    uint64_t target = bare_run_code(b, "B0 01 " UD2, 100);
    assert_int_equal(b->cpu.gpr[R_AX] & 0xFF, 1);
    /* A DMA or loader write through the address space, not by the CPU. */
    mem_write(b->as, target + 1, 0x03, 1);
    b->cpu.rip = target;
    b->cpu.state = CPU_RUNNING;
    cpu_run(&b->cpu, 100);
    assert_ud(b);
    assert_int_equal(b->cpu.gpr[R_AX] & 0xFF, 3);
}

static void test_data_store_next_to_code_leaves_code_intact(void **state)
{
    struct bare *b = *state = make64();
    uint64_t target = bare_run_code(b, "B0 05 " UD2, 100);
    b->cpu.gpr[R_BX] = target + 0x800; /* same page, other chunk */
    b->cpu.gpr[R_CX] = 0xFFFFFFFF;
    bare_run_code(b, "89 0B " UD2, 100);
    assert_ud(b);
    assert_int_equal(bare_peek32(b, target + 0x800), 0xFFFFFFFF);
    b->cpu.rip = target;
    b->cpu.state = CPU_RUNNING;
    b->cpu.gpr[R_AX] = 0;
    cpu_run(&b->cpu, 100);
    assert_int_equal(b->cpu.gpr[R_AX] & 0xFF, 5);
}

static void test_same_code_reached_through_two_linear_aliases_sees_store(void **state)
{
    struct bare *b = *state = make64();
    /* DATA_LA maps the code frame too: store through the alias, run the original. */
    uint64_t target = bare_run_code(b, "B0 01 " UD2, 100);
    bare_poke64(b, PT + 8 * (DATA_LA >> 12), (target & ~0xFFFull) | P | W | U);
    char hex[128], a[16];
    b->cpu.gpr[R_BX] = target;
    bare_run_code(b,
                  fmt(hex, sizeof(hex), "C6 04 25 %s 04 FF E3",
                      le32(a, (uint32_t)(DATA_LA + (target & 0xFFF) + 1))),
                  100);
    assert_ud(b);
    assert_int_equal(b->cpu.gpr[R_AX] & 0xFF, 4);
}

int main(void)
{
#define T(name) cmocka_unit_test_teardown(name, teardown)
    const struct CMUnitTest tests[] = {
        T(test_cr3_reload_drops_a_changed_translation),
        T(test_invlpg_drops_a_changed_translation),
        T(test_invlpg_then_unmapped_page_faults),
        T(test_cr3_switch_selects_the_other_tables),
        T(test_cr3_reload_in_legacy_paging),
        T(test_memory_map_change_drops_cached_host_pointer),
        T(test_supervisor_translation_is_not_reused_for_user_access),
        T(test_code_page_remapped_by_memory_map_runs_new_code),
        T(test_clearing_efer_nxe_drops_translations_of_nx_pages),
        T(test_store_into_the_running_block_changes_the_next_instruction),
        T(test_store_into_the_running_block_in_real_mode),
        T(test_store_into_code_decoded_earlier_is_seen_when_it_runs_again),
        T(test_rep_stos_over_following_code_is_seen),
        T(test_bus_write_into_decoded_code_is_seen),
        T(test_data_store_next_to_code_leaves_code_intact),
        T(test_same_code_reached_through_two_linear_aliases_sees_store),
    };
#undef T
    return cmocka_run_group_tests_name("tlb", tests, NULL, NULL);
}
