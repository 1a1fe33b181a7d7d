/*
 * paging_test.c - the page walker (paging.c) seen from guest code on a bare
 * CPU: 4-level paging with 4 KiB, 2 MiB and 1 GiB pages, PAE, legacy 32-bit
 * paging with 4 MiB PSE pages, NX, WP, U/S, A/D bits, reserved bits, and the
 * exact #PF error code and CR2 (SDM Vol. 3, "Paging").
 *
 * Every snippet ends in UD2, so "vector 6" means the accesses before it
 * succeeded and "vector 14" that one of them faulted; the IDT of
 * bare_cpu_test.h halts in a per-vector handler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpu/bare_cpu_test.h"

#define P  0x001ull
#define W  0x002ull
#define U  0x004ull
#define A  0x020ull
#define D  0x040ull
#define PS 0x080ull
#define NX (1ull << 63)

#define PF_P    0x01u
#define PF_W    0x02u
#define PF_U    0x04u
#define PF_RSVD 0x08u
#define PF_I    0x10u

/* 4-level tables: identity for 0..2 MiB through PML4[0]; the data area
 * through PML4[1] (DATA_LA) has tables of its own, so A/D bits there are
 * touched only by the accesses under test. */
#define PML4     0x10000u
#define PDPT     0x11000u
#define PD       0x12000u
#define PT       0x13000u
#define PDPT2    0x14000u
#define PD2      0x15000u
#define PT2      0x16000u
#define DATA_LA  0x8000000000ull /* PT2[k] -> DATA_PA + k * 4 KiB */
#define LARGE_LA 0x8000200000ull /* PD2[1]: 2 MiB page -> 0x400000 */
#define HUGE_LA  0x8040000000ull /* PDPT2[1]: 1 GiB page -> 0 */
#define DATA_PA  0x150000u

#define UD2 "0F 0B"

/* Fills [pa, pa + len) with dwords equal to their own address, so a read
 * shows which frame a translation reached. */
static void fill_tags(struct bare *b, uint64_t pa, uint64_t len)
{
    for (uint64_t a = pa; a < pa + len; a += 4) {
        uint32_t v = (uint32_t)a;
        memcpy(b->ram->block->host + a, &v, 4);
    }
}

static struct bare *make64(bool nxe, bool wp)
{
    struct bare *b = bare_create(8u << 20);
    bare_poke64(b, PML4 + 0, PDPT | P | W | U);
    bare_poke64(b, PDPT + 0, PD | P | W | U);
    bare_poke64(b, PD + 0, PT | P | W | U);
    for (unsigned k = 0; k < 512; k++)
        bare_poke64(b, PT + 8 * k, ((uint64_t)k << 12) | P | W | U);
    bare_poke64(b, PML4 + 8, PDPT2 | P | W | U);
    bare_poke64(b, PDPT2 + 0, PD2 | P | W | U);
    bare_poke64(b, PD2 + 0, PT2 | P | W | U);
    for (unsigned k = 0; k < 16; k++)
        bare_poke64(b, PT2 + 8 * k, (DATA_PA + 0x1000ull * k) | P | W | U);
    bare_poke64(b, PD2 + 8, 0x400000 | P | W | U | PS);
    bare_poke64(b, PDPT2 + 8, 0x0 | P | W | U | PS);
    fill_tags(b, DATA_PA, 0x10000);
    fill_tags(b, 0x400000, 0x200000);
    bare_long64(b, PML4, nxe, wp);
    return b;
}

static uint64_t run_at(struct bare *b, const char *hex)
{
    return bare_run_code(b, hex, 100);
}

/* The #PF handler halted with this error code on the stack and CR2. */
static void assert_pf(struct bare *b, uint32_t err, uint64_t cr2, unsigned slot)
{
    if (bare_vector(b) != EXC_PF)
        print_error("vector %d, rip %llx, cr2 %llx\n", bare_vector(b),
                    (unsigned long long)b->cpu.rip, (unsigned long long)b->cpu.cr2);
    assert_int_equal(bare_vector(b), EXC_PF);
    uint64_t sp = b->cpu.gpr[R_SP];
    uint64_t got = slot == 8 ? bare_peek64(b, sp) : bare_peek32(b, sp);
    assert_int_equal(got, err);
    assert_int_equal(b->cpu.cr2, cr2);
}

static void assert_ok(struct bare *b)
{
    if (bare_vector(b) != EXC_UD)
        print_error("vector %d, rip %llx, cr2 %llx, err %llx\n", bare_vector(b),
                    (unsigned long long)b->cpu.rip, (unsigned long long)b->cpu.cr2,
                    (unsigned long long)bare_peek64(b, b->cpu.gpr[R_SP]));
    assert_int_equal(bare_vector(b), EXC_UD);
}

static int teardown(void **state)
{
    bare_free(*state);
    return 0;
}

/* ---- 4-level translations ---- */

static void test_4k_page_reaches_its_frame(void **state)
{
    struct bare *b = *state = make64(false, true);
    b->cpu.gpr[R_BX] = DATA_LA + 0x3010;
    run_at(b, "8B 03 " UD2); /* mov eax, [rbx] */
    assert_ok(b);
    assert_int_equal(b->cpu.gpr[R_AX], DATA_PA + 0x3010);
}

static void test_2m_page_reaches_offset_inside_large_frame(void **state)
{
    struct bare *b = *state = make64(false, true);
    b->cpu.gpr[R_BX] = LARGE_LA + 0x12344;
    run_at(b, "8B 03 " UD2);
    assert_ok(b);
    assert_int_equal(b->cpu.gpr[R_AX], 0x412344);
}

static void test_1g_page_reaches_offset_inside_huge_frame(void **state)
{
    struct bare *b = *state = make64(false, true);
    b->cpu.gpr[R_BX] = HUGE_LA + 0x401238;
    run_at(b, "8B 03 " UD2);
    assert_ok(b);
    assert_int_equal(b->cpu.gpr[R_AX], 0x401238);
}

static void test_store_through_translation_lands_in_the_frame(void **state)
{
    struct bare *b = *state = make64(false, true);
    b->cpu.gpr[R_BX] = DATA_LA + 0x5008;
    b->cpu.gpr[R_AX] = 0x1122334455667788ull;
    run_at(b, "48 89 03 " UD2);
    assert_ok(b);
    assert_int_equal(bare_peek64(b, DATA_PA + 0x5008), 0x1122334455667788ull);
}

static void test_walker_sets_accessed_on_every_level_and_dirty_only_on_write(void **state)
{
    struct bare *b = *state = make64(false, true);
    b->cpu.gpr[R_BX] = DATA_LA + 0x1000;
    run_at(b, "8B 03 " UD2);
    assert_ok(b);
    assert_true(bare_peek64(b, PML4 + 8) & A);
    assert_true(bare_peek64(b, PDPT2) & A);
    assert_true(bare_peek64(b, PD2) & A);
    assert_true(bare_peek64(b, PT2 + 8) & A);
    assert_false(bare_peek64(b, PT2 + 8) & D);
    assert_false(bare_peek64(b, PD2) & D);      /* D is a leaf bit */
    assert_false(bare_peek64(b, PT2 + 16) & A); /* neighbours untouched */

    b->cpu.gpr[R_BX] = DATA_LA + 0x1004;
    run_at(b, "89 03 " UD2);
    assert_ok(b);
    assert_true(bare_peek64(b, PT2 + 8) & D);
    assert_false(bare_peek64(b, PML4 + 8) & D);
}

static void test_write_after_read_sets_dirty_even_with_translation_cached(void **state)
{
    struct bare *b = *state = make64(false, true);
    b->cpu.gpr[R_BX] = DATA_LA + 0x2000;
    run_at(b, "8B 03 89 03 " UD2); /* read fills the TLB clean, then a write */
    assert_ok(b);
    assert_true(bare_peek64(b, PT2 + 16) & D);
}

static void test_large_page_write_sets_dirty_in_the_pde(void **state)
{
    struct bare *b = *state = make64(false, true);
    b->cpu.gpr[R_BX] = LARGE_LA + 0x10;
    run_at(b, "89 03 " UD2);
    assert_ok(b);
    assert_true(bare_peek64(b, PD2 + 8) & (A | D));
    assert_int_equal(bare_peek64(b, PD2 + 8) & (A | D), A | D);
    b->cpu.gpr[R_BX] = HUGE_LA + 0x500000;
    run_at(b, "89 03 " UD2);
    assert_int_equal(bare_peek64(b, PDPT2 + 8) & (A | D), A | D);
}

/* ---- not present, protection ---- */

static void test_not_present_read_and_write_fault_codes(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PT2 + 8 * 3, 0);
    b->cpu.gpr[R_BX] = DATA_LA + 0x3123;
    uint64_t at = run_at(b, "8B 03 " UD2);
    assert_pf(b, 0, DATA_LA + 0x3123, 8);
    assert_int_equal(bare_peek64(b, b->cpu.gpr[R_SP] + 8), at); /* faulting RIP */

    run_at(b, "89 03 " UD2);
    assert_pf(b, PF_W, DATA_LA + 0x3123, 8);
}

static void test_not_present_upper_level_faults_with_p_clear(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PD2 + 0, PT2 | W | U); /* PDE not present */
    b->cpu.gpr[R_BX] = DATA_LA + 0x10;
    run_at(b, "89 03 " UD2);
    assert_pf(b, PF_W, DATA_LA + 0x10, 8);
    bare_poke64(b, PML4 + 8, 0);
    run_at(b, "8B 03 " UD2);
    assert_pf(b, 0, DATA_LA + 0x10, 8);
}

static void test_supervisor_write_to_read_only_page_faults_with_wp(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PT2 + 8 * 4, (DATA_PA + 0x4000) | P | U);
    b->cpu.gpr[R_BX] = DATA_LA + 0x4000;
    b->cpu.gpr[R_AX] = 0xABCD;
    run_at(b, "89 03 " UD2);
    assert_pf(b, PF_P | PF_W, DATA_LA + 0x4000, 8);
    assert_int_equal(bare_peek32(b, DATA_PA + 0x4000), DATA_PA + 0x4000); /* not written */
    run_at(b, "8B 0B " UD2);                                              /* reads are fine */
    assert_ok(b);
}

/* A read-modify-write whose store faults on a read-only page leaves RFLAGS
 * (here lazy, from a CMP) and its register operands as they were: the store
 * comes before the flags change (cpu.md §5.5). */
static void test_rmw_store_fault_on_read_only_page_keeps_flags(void **state)
{
    struct bare *b = *state = make64(false, true);
    struct cpu *c = &b->cpu;
    bare_poke64(b, PT2 + 8 * 4, (DATA_PA + 0x4000) | P | U);
    static const char *const forms[] = {
        "D1 23",       /* shl dword [rbx], 1 */
        "C1 03 05",    /* rol dword [rbx], 5 */
        "D1 13",       /* rcl dword [rbx], 1 */
        "48 D3 2B",    /* shr qword [rbx], cl */
        "FF 03",       /* inc dword [rbx] */
        "FE 0B",       /* dec byte [rbx] */
        "F7 1B",       /* neg dword [rbx] */
        "F6 1B",       /* neg byte [rbx] */
        "0F C1 13",    /* xadd [rbx], edx */
        "0F C0 13",    /* xadd [rbx], dl */
        "0F AB 13",    /* bts [rbx], edx */
        "0F BA 33 07", /* btr dword [rbx], 7 */
        "0F A4 13 04", /* shld [rbx], edx, 4 */
        "0F AD 13",    /* shrd [rbx], edx, cl */
        "0F B1 13",    /* cmpxchg [rbx], edx (not equal: writes back) */
        "00 13",       /* add [rbx], dl */
        "01 13",       /* add [rbx], edx */
        "83 03 7F",    /* add dword [rbx], 0x7F */
        "48 11 13",    /* adc [rbx], rdx */
    };
    /* cmp ecx, eax with these values: OF AF PF set, CF ZF SF clear. */
    const uint64_t cx = 0x80000003, ax = 4, dx = 0x55;
    uint64_t expect = 0;
    for (unsigned k = 0; k <= ARRAY_SIZE(forms); k++) {
        char hex[64];
        snprintf(hex, sizeof(hex), "39 C1 %s " UD2, k ? forms[k - 1] : "");
        c->gpr[R_BX] = DATA_LA + 0x4000;
        c->gpr[R_CX] = cx;
        c->gpr[R_AX] = ax;
        c->gpr[R_DX] = dx;
        cpu_set_rflags(c, FLAG_CF | FLAG_ZF | FLAG_SF);
        uint64_t at = run_at(b, hex);
        uint64_t sp = c->gpr[R_SP];
        uint64_t fl = bare_peek64(b, sp + (k ? 24 : 16)) & FLAGS_ARITH;
        if (k == 0) { /* the CMP alone, then #UD: the expected flags */
            assert_ok(b);
            expect = fl;
            assert_int_equal(expect, FLAG_OF | FLAG_AF | FLAG_PF);
            continue;
        }
        if (bare_vector(b) != EXC_PF || fl != expect || c->gpr[R_DX] != dx)
            fail_msg("%s: vector %d, rflags %llx (want %llx), rdx %llx", forms[k - 1],
                     bare_vector(b), (unsigned long long)fl, (unsigned long long)expect,
                     (unsigned long long)c->gpr[R_DX]);
        assert_int_equal(bare_peek64(b, sp + 8), at + 2); /* the RMW instruction's RIP */
        assert_int_equal(bare_peek32(b, DATA_PA + 0x4000), DATA_PA + 0x4000); /* not written */
    }
}

static void test_supervisor_write_to_read_only_page_succeeds_without_wp(void **state)
{
    struct bare *b = *state = make64(false, false);
    bare_poke64(b, PT2 + 8 * 4, (DATA_PA + 0x4000) | P | U);
    bare_poke64(b, PD2 + 0, PT2 | P | U); /* read-only at the PDE too */
    b->cpu.gpr[R_BX] = DATA_LA + 0x4000;
    b->cpu.gpr[R_AX] = 0xABCD;
    run_at(b, "89 03 " UD2);
    assert_ok(b);
    assert_int_equal(bare_peek32(b, DATA_PA + 0x4000), 0xABCD);
}

static void test_read_only_upper_level_makes_page_read_only(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PDPT2 + 0, PD2 | P | U); /* R/W clear in the PDPTE */
    b->cpu.gpr[R_BX] = DATA_LA + 0x20;
    run_at(b, "89 03 " UD2);
    assert_pf(b, PF_P | PF_W, DATA_LA + 0x20, 8);
}

static void test_wp_change_takes_effect_on_cached_translation(void **state)
{
    struct bare *b = *state = make64(false, false);
    bare_poke64(b, PT2 + 8 * 4, (DATA_PA + 0x4000) | P | U | D | A);
    b->cpu.gpr[R_BX] = DATA_LA + 0x4000;
    b->cpu.gpr[R_AX] = 0x1111;
    run_at(b, "89 03 " UD2); /* WP=0: allowed, and the translation is cached */
    assert_ok(b);
    /* mov rcx, cr0; bts rcx, 16; mov cr0, rcx; mov [rbx], eax */
    run_at(b, "0F 20 C1 48 0F BA E9 10 0F 22 C1 89 03 " UD2);
    assert_pf(b, PF_P | PF_W, DATA_LA + 0x4000, 8);
}

static void test_user_access_to_supervisor_page_faults(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PT2 + 8 * 2, (DATA_PA + 0x2000) | P | W); /* U clear */
    bare_user64(b);
    b->cpu.gpr[R_BX] = DATA_LA + 0x2040;
    run_at(b, "8B 03 " UD2);
    assert_pf(b, PF_P | PF_U, DATA_LA + 0x2040, 8);
    assert_int_equal(bare_peek64(b, b->cpu.gpr[R_SP] + 16), SEL_UCODE64); /* pushed CS */
}

static void test_user_write_to_read_only_user_page_faults(void **state)
{
    struct bare *b = *state = make64(false, false); /* WP does not matter for CPL 3 */
    bare_poke64(b, PT2 + 8 * 2, (DATA_PA + 0x2000) | P | U);
    bare_user64(b);
    b->cpu.gpr[R_BX] = DATA_LA + 0x2040;
    run_at(b, "89 03 " UD2);
    assert_pf(b, PF_P | PF_W | PF_U, DATA_LA + 0x2040, 8);
}

static void test_user_read_and_write_of_user_page_succeed(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_user64(b);
    b->cpu.gpr[R_BX] = DATA_LA + 0x2040;
    b->cpu.gpr[R_CX] = 0x5A5A;
    run_at(b, "8B 03 89 0B " UD2);
    assert_ok(b);
    assert_int_equal(b->cpu.gpr[R_AX], DATA_PA + 0x2040);
    assert_int_equal(bare_peek32(b, DATA_PA + 0x2040), 0x5A5A);
}

static void test_supervisor_bit_in_upper_level_blocks_user(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PD2 + 0, PT2 | P | W); /* U clear in the PDE only */
    bare_user64(b);
    b->cpu.gpr[R_BX] = DATA_LA + 0x40;
    run_at(b, "8B 03 " UD2);
    assert_pf(b, PF_P | PF_U, DATA_LA + 0x40, 8);
}

static void test_user_not_present_fault_has_u_without_p(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PT2 + 8 * 5, 0);
    bare_user64(b);
    b->cpu.gpr[R_BX] = DATA_LA + 0x5000;
    run_at(b, "89 03 " UD2);
    assert_pf(b, PF_W | PF_U, DATA_LA + 0x5000, 8);
}

static void test_supervisor_reads_user_page(void **state)
{
    struct bare *b = *state = make64(false, true);
    b->cpu.gpr[R_BX] = DATA_LA + 0x10; /* U=1 page, CPL 0, no SMAP */
    run_at(b, "8B 03 " UD2);
    assert_ok(b);
}

/* ---- NX ---- */

static void test_fetch_from_nx_page_faults_with_instruction_bit(void **state)
{
    struct bare *b = *state = make64(true, true);
    bare_poke64(b, PT2 + 8 * 6, (DATA_PA + 0x6000) | P | W | U | NX);
    bare_code(b, DATA_PA + 0x6000, UD2);
    b->cpu.gpr[R_BX] = DATA_LA + 0x6000;
    run_at(b, "FF E3"); /* jmp rbx */
    assert_pf(b, PF_P | PF_I, DATA_LA + 0x6000, 8);
    assert_int_equal(bare_peek64(b, b->cpu.gpr[R_SP] + 8), DATA_LA + 0x6000); /* RIP */
}

static void test_data_read_from_nx_page_is_allowed(void **state)
{
    struct bare *b = *state = make64(true, true);
    bare_poke64(b, PT2 + 8 * 6, (DATA_PA + 0x6000) | P | W | U | NX);
    b->cpu.gpr[R_BX] = DATA_LA + 0x6010;
    run_at(b, "8B 03 89 03 " UD2);
    assert_ok(b);
    assert_int_equal(b->cpu.gpr[R_AX], DATA_PA + 0x6010);
}

static void test_nx_in_upper_level_blocks_fetch(void **state)
{
    struct bare *b = *state = make64(true, true);
    bare_poke64(b, PDPT2 + 0, PD2 | P | W | U | NX);
    bare_code(b, DATA_PA + 0x7000, UD2);
    b->cpu.gpr[R_BX] = DATA_LA + 0x7000;
    run_at(b, "FF E3");
    assert_pf(b, PF_P | PF_I, DATA_LA + 0x7000, 8);
}

static void test_fetch_from_executable_page_runs_there(void **state)
{
    struct bare *b = *state = make64(true, true);
    bare_code(b, DATA_PA + 0x7000, "B8 44 33 22 11 " UD2);
    b->cpu.gpr[R_BX] = DATA_LA + 0x7000;
    run_at(b, "FF E3");
    assert_ok(b);
    assert_int_equal(b->cpu.gpr[R_AX], 0x11223344);
    assert_int_equal(b->cpu.rip, BARE_HANDLERS + 16 * EXC_UD + 1);
}

static void test_nx_bit_without_nxe_is_reserved(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PT2 + 8 * 6, (DATA_PA + 0x6000) | P | W | U | NX);
    b->cpu.gpr[R_BX] = DATA_LA + 0x6010;
    run_at(b, "8B 03 " UD2);
    assert_pf(b, PF_P | PF_RSVD, DATA_LA + 0x6010, 8);
}

static void test_not_present_fetch_has_i_bit_only_with_nxe(void **state)
{
    struct bare *b = *state = make64(true, true);
    bare_poke64(b, PT2 + 8 * 7, 0);
    b->cpu.gpr[R_BX] = DATA_LA + 0x7000;
    run_at(b, "FF E3");
    assert_pf(b, PF_I, DATA_LA + 0x7000, 8);
    bare_free(b);

    b = *state = make64(false, true);
    bare_poke64(b, PT2 + 8 * 7, 0);
    b->cpu.gpr[R_BX] = DATA_LA + 0x7000;
    run_at(b, "FF E3");
    assert_pf(b, 0, DATA_LA + 0x7000, 8);
}

/* ---- reserved bits ---- */

static void test_reserved_bits_fault_with_rsvd_and_p(void **state)
{
    struct bare *b = *state = make64(false, true);
    /* PTE address bit 45: above MAXPHYADDR (40). */
    bare_poke64(b, PT2 + 8 * 1, (DATA_PA + 0x1000) | P | W | U | (1ull << 45));
    b->cpu.gpr[R_BX] = DATA_LA + 0x1000;
    run_at(b, "8B 03 " UD2);
    assert_pf(b, PF_P | PF_RSVD, DATA_LA + 0x1000, 8);
    run_at(b, "89 03 " UD2);
    assert_pf(b, PF_P | PF_W | PF_RSVD, DATA_LA + 0x1000, 8);
}

static void test_reserved_bit_in_large_pde_faults(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PD2 + 8, 0x400000 | P | W | U | PS | (1ull << 13));
    b->cpu.gpr[R_BX] = LARGE_LA;
    run_at(b, "8B 03 " UD2);
    assert_pf(b, PF_P | PF_RSVD, LARGE_LA, 8);
}

static void test_reserved_bit_in_1g_pdpte_faults(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PDPT2 + 8, 0x0 | P | W | U | PS | (1ull << 20));
    b->cpu.gpr[R_BX] = HUGE_LA + 0x100;
    run_at(b, "8B 03 " UD2);
    assert_pf(b, PF_P | PF_RSVD, HUGE_LA + 0x100, 8);
}

static void test_ps_bit_in_pml4e_is_reserved(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PML4 + 8, PDPT2 | P | W | U | PS);
    b->cpu.gpr[R_BX] = DATA_LA;
    run_at(b, "8B 03 " UD2);
    assert_pf(b, PF_P | PF_RSVD, DATA_LA, 8);
}

static void test_user_reserved_fault_reports_u_too(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PT2 + 8 * 1, (DATA_PA + 0x1000) | P | W | U | (1ull << 51));
    bare_user64(b);
    b->cpu.gpr[R_BX] = DATA_LA + 0x1000;
    run_at(b, "89 03 " UD2);
    assert_pf(b, PF_P | PF_W | PF_U | PF_RSVD, DATA_LA + 0x1000, 8);
}

static void test_noncanonical_address_is_gp_not_pf(void **state)
{
    struct bare *b = *state = make64(false, true);
    b->cpu.gpr[R_BX] = 0x0000800000000000ull;
    run_at(b, "8B 03 " UD2);
    assert_int_equal(bare_vector(b), EXC_GP);
    assert_int_equal(bare_peek64(b, b->cpu.gpr[R_SP]), 0);
    assert_int_equal(b->cpu.cr2, 0);
}

static void test_pat_bit_of_large_page_is_not_an_address_bit(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PD2 + 8, 0x400000 | P | W | U | PS | (1ull << 12));
    b->cpu.gpr[R_BX] = LARGE_LA + 0x20;
    run_at(b, "8B 03 " UD2);
    assert_ok(b);
    assert_int_equal(b->cpu.gpr[R_AX], 0x400020);
}

/* ---- page-crossing accesses ---- */

static void test_access_crossing_into_unmapped_page_reports_second_page(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PT2 + 8 * 9, 0);
    b->cpu.gpr[R_BX] = DATA_LA + 0x8FFC;
    run_at(b, "48 8B 03 " UD2);
    assert_pf(b, 0, DATA_LA + 0x9000, 8);
}

static void test_crossing_store_that_faults_writes_nothing(void **state)
{
    struct bare *b = *state = make64(false, true);
    bare_poke64(b, PT2 + 8 * 9, (DATA_PA + 0x9000) | P | U); /* read-only second page */
    b->cpu.gpr[R_BX] = DATA_LA + 0x8FFC;
    b->cpu.gpr[R_AX] = 0x1122334455667788ull;
    run_at(b, "48 89 03 " UD2);
    assert_pf(b, PF_P | PF_W, DATA_LA + 0x9000, 8);
    assert_int_equal(bare_peek32(b, DATA_PA + 0x8FFC), DATA_PA + 0x8FFC);
}

static void test_crossing_store_between_mapped_pages_splits_correctly(void **state)
{
    struct bare *b = *state = make64(false, true);
    /* Two linear neighbours backed by frames that are not neighbours. */
    bare_poke64(b, PT2 + 8 * 9, (DATA_PA + 0xC000) | P | W | U);
    b->cpu.gpr[R_BX] = DATA_LA + 0x8FFE;
    b->cpu.gpr[R_AX] = 0x44332211;
    run_at(b, "89 03 8B 0B " UD2);
    assert_ok(b);
    assert_int_equal(bare_peek16(b, DATA_PA + 0x8FFE), 0x2211);
    assert_int_equal(bare_peek16(b, DATA_PA + 0xC000), 0x4433);
    assert_int_equal((uint32_t)b->cpu.gpr[R_CX], 0x44332211);
}

/* ---- legacy 32-bit paging ---- */

#define PD32  0x10000u
#define PT32  0x11000u
#define PT32B 0x12000u

static struct bare *make32(uint64_t cr4)
{
    struct bare *b = bare_create(8u << 20);
    bare_poke32(b, PD32 + 0, PT32 | P | W | U);
    for (unsigned k = 0; k < 1024; k++)
        bare_poke32(b, PT32 + 4 * k, (k << 12) | P | W | U);
    bare_poke32(b, PD32 + 4 * 2, PT32B | P | W | U); /* 0x800000.. */
    for (unsigned k = 0; k < 16; k++)
        bare_poke32(b, PT32B + 4 * k, (DATA_PA + 0x1000u * k) | P | W | U);
    bare_poke32(b, PD32 + 4 * 3, 0x400000 | P | W | U | PS); /* 0xC00000: 4 MiB page */
    fill_tags(b, DATA_PA, 0x10000);
    fill_tags(b, 0x400000, 0x400000);
    bare_prot32(b, CR0_PG | CR0_WP, cr4, PD32);
    return b;
}

static void test_legacy_4k_page_translates(void **state)
{
    struct bare *b = *state = make32(CR4_PSE);
    b->cpu.gpr[R_BX] = 0x802010;
    run_at(b, "8B 03 " UD2);
    assert_ok(b);
    assert_int_equal(b->cpu.gpr[R_AX], DATA_PA + 0x2010);
    assert_true(bare_peek32(b, PD32 + 8) & A);
    assert_true(bare_peek32(b, PT32B + 8) & A);
    assert_false(bare_peek32(b, PT32B + 8) & D);
    run_at(b, "89 03 " UD2);
    assert_true(bare_peek32(b, PT32B + 8) & D);
}

static void test_legacy_4m_pse_page_translates(void **state)
{
    struct bare *b = *state = make32(CR4_PSE);
    b->cpu.gpr[R_BX] = 0xC00000 + 0x2ABCD0;
    run_at(b, "8B 03 89 03 " UD2);
    assert_ok(b);
    assert_int_equal(b->cpu.gpr[R_AX], 0x400000 + 0x2ABCD0);
    assert_int_equal(bare_peek32(b, PD32 + 12) & (A | D), A | D);
}

static void test_legacy_pse_pde_bit_21_is_reserved(void **state)
{
    struct bare *b = *state = make32(CR4_PSE);
    bare_poke32(b, PD32 + 12, 0x400000 | P | W | U | PS | (1u << 21));
    b->cpu.gpr[R_BX] = 0xC00010;
    run_at(b, "8B 03 " UD2);
    assert_pf(b, PF_P | PF_RSVD, 0xC00010, 4);
}

static void test_legacy_fault_codes_and_cr2(void **state)
{
    struct bare *b = *state = make32(CR4_PSE);
    bare_poke32(b, PT32B + 4 * 3, 0);
    b->cpu.gpr[R_BX] = 0x803004;
    uint64_t at = run_at(b, "89 03 " UD2);
    assert_pf(b, PF_W, 0x803004, 4);
    assert_int_equal(bare_peek32(b, (uint32_t)b->cpu.gpr[R_SP] + 4), at); /* EIP */

    bare_poke32(b, PT32B + 4 * 4, (DATA_PA + 0x4000) | P | U);
    b->cpu.gpr[R_BX] = 0x804000;
    run_at(b, "89 03 " UD2);
    assert_pf(b, PF_P | PF_W, 0x804000, 4);
}

static void test_legacy_fetch_fault_has_no_i_bit(void **state)
{
    struct bare *b = *state = make32(CR4_PSE);
    bare_poke32(b, PT32B + 4 * 5, 0);
    b->cpu.gpr[R_BX] = 0x805000;
    run_at(b, "FF E3");
    assert_pf(b, 0, 0x805000, 4);
}

static void test_legacy_ps_bit_is_ignored_without_cr4_pse(void **state)
{
    struct bare *b = *state = make32(0);
    /* Without PSE the PDE names a page table: the one at 0x400000, whose
     * first entry (the tag 0x00400000) is not present. */
    b->cpu.gpr[R_BX] = 0xC00010;
    run_at(b, "8B 03 " UD2);
    assert_pf(b, 0, 0xC00010, 4);
}

/* ---- PAE ---- */

#define PAE_PDPT 0x10000u
#define PAE_PD   0x11000u
#define PAE_PT   0x12000u
#define PAE_PT2  0x13000u

static struct bare *make_pae(bool nxe)
{
    struct bare *b = bare_create(8u << 20);
    bare_poke64(b, PAE_PDPT + 0, PAE_PD | P);
    bare_poke64(b, PAE_PD + 0, PAE_PT | P | W | U);
    for (unsigned k = 0; k < 512; k++)
        bare_poke64(b, PAE_PT + 8 * k, ((uint64_t)k << 12) | P | W | U);
    bare_poke64(b, PAE_PD + 8 * 4, PAE_PT2 | P | W | U); /* 0x800000.. */
    for (unsigned k = 0; k < 16; k++)
        bare_poke64(b, PAE_PT2 + 8 * k, (DATA_PA + 0x1000ull * k) | P | W | U);
    bare_poke64(b, PAE_PD + 8 * 6, 0x400000 | P | W | U | PS); /* 0xC00000: 2 MiB page */
    fill_tags(b, DATA_PA, 0x10000);
    fill_tags(b, 0x400000, 0x200000);
    if (nxe)
        b->cpu.efer = EFER_NXE;
    bare_prot32(b, CR0_PG | CR0_WP, CR4_PAE, PAE_PDPT);
    return b;
}

static void test_pae_4k_and_2m_pages_translate(void **state)
{
    struct bare *b = *state = make_pae(false);
    b->cpu.gpr[R_BX] = 0x803020;
    b->cpu.gpr[R_SI] = 0xC00000 + 0x1FFF00;
    run_at(b, "8B 03 8B 0E " UD2);
    assert_ok(b);
    assert_int_equal(b->cpu.gpr[R_AX], DATA_PA + 0x3020);
    assert_int_equal(b->cpu.gpr[R_CX], 0x400000 + 0x1FFF00);
    assert_true(bare_peek64(b, PAE_PT2 + 24) & A);
    assert_true(bare_peek64(b, PAE_PD + 48) & A);
}

static void test_pae_nx_fetch_fault_has_i_bit(void **state)
{
    struct bare *b = *state = make_pae(true);
    bare_poke64(b, PAE_PT2 + 8 * 2, (DATA_PA + 0x2000) | P | W | U | NX);
    b->cpu.gpr[R_BX] = 0x802000;
    run_at(b, "FF E3");
    assert_pf(b, PF_P | PF_I, 0x802000, 4);
}

static void test_pae_not_present_pdpte_faults(void **state)
{
    struct bare *b = *state = make_pae(false);
    b->cpu.gpr[R_BX] = 0x40000000; /* PDPTE[1] is zero */
    run_at(b, "8B 03 " UD2);
    assert_pf(b, 0, 0x40000000, 4);
}

static void test_pae_reserved_bit_in_pte_faults(void **state)
{
    struct bare *b = *state = make_pae(true);
    bare_poke64(b, PAE_PT2 + 8 * 1, (DATA_PA + 0x1000) | P | W | U | (1ull << 40));
    b->cpu.gpr[R_BX] = 0x801000;
    run_at(b, "8B 03 " UD2);
    assert_pf(b, PF_P | PF_RSVD, 0x801000, 4);
}

int main(void)
{
#define T(name) cmocka_unit_test_teardown(name, teardown)
    const struct CMUnitTest tests[] = {
        T(test_4k_page_reaches_its_frame),
        T(test_2m_page_reaches_offset_inside_large_frame),
        T(test_1g_page_reaches_offset_inside_huge_frame),
        T(test_store_through_translation_lands_in_the_frame),
        T(test_walker_sets_accessed_on_every_level_and_dirty_only_on_write),
        T(test_write_after_read_sets_dirty_even_with_translation_cached),
        T(test_large_page_write_sets_dirty_in_the_pde),
        T(test_not_present_read_and_write_fault_codes),
        T(test_not_present_upper_level_faults_with_p_clear),
        T(test_supervisor_write_to_read_only_page_faults_with_wp),
        T(test_rmw_store_fault_on_read_only_page_keeps_flags),
        T(test_supervisor_write_to_read_only_page_succeeds_without_wp),
        T(test_read_only_upper_level_makes_page_read_only),
        T(test_wp_change_takes_effect_on_cached_translation),
        T(test_user_access_to_supervisor_page_faults),
        T(test_user_write_to_read_only_user_page_faults),
        T(test_user_read_and_write_of_user_page_succeed),
        T(test_supervisor_bit_in_upper_level_blocks_user),
        T(test_user_not_present_fault_has_u_without_p),
        T(test_supervisor_reads_user_page),
        T(test_fetch_from_nx_page_faults_with_instruction_bit),
        T(test_data_read_from_nx_page_is_allowed),
        T(test_nx_in_upper_level_blocks_fetch),
        T(test_fetch_from_executable_page_runs_there),
        T(test_nx_bit_without_nxe_is_reserved),
        T(test_not_present_fetch_has_i_bit_only_with_nxe),
        T(test_reserved_bits_fault_with_rsvd_and_p),
        T(test_reserved_bit_in_large_pde_faults),
        T(test_reserved_bit_in_1g_pdpte_faults),
        T(test_ps_bit_in_pml4e_is_reserved),
        T(test_user_reserved_fault_reports_u_too),
        T(test_noncanonical_address_is_gp_not_pf),
        T(test_pat_bit_of_large_page_is_not_an_address_bit),
        T(test_access_crossing_into_unmapped_page_reports_second_page),
        T(test_crossing_store_that_faults_writes_nothing),
        T(test_crossing_store_between_mapped_pages_splits_correctly),
        T(test_legacy_4k_page_translates),
        T(test_legacy_4m_pse_page_translates),
        T(test_legacy_pse_pde_bit_21_is_reserved),
        T(test_legacy_fault_codes_and_cr2),
        T(test_legacy_fetch_fault_has_no_i_bit),
        T(test_legacy_ps_bit_is_ignored_without_cr4_pse),
        T(test_pae_4k_and_2m_pages_translate),
        T(test_pae_nx_fetch_fault_has_i_bit),
        T(test_pae_not_present_pdpte_faults),
        T(test_pae_reserved_bit_in_pte_faults),
    };
#undef T
    return cmocka_run_group_tests_name("paging", tests, NULL, NULL);
}
