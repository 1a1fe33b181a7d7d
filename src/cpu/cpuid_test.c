/*
 * cpuid_test.c - CPUID and the feature table (cpu.md §2.2, §2.3): CPUID is
 * built from src/cpu/features.def and advertises nothing else; every
 * advertised feature is named here together with the test that exercises it
 * (and the features without a test elsewhere get a behaviour test below);
 * CR4 and EFER refuse bits whose feature is not advertised; leaf 0, 1,
 * out-of-range leaves and the brand string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpu/bare_cpu_test.h"

struct feature {
    unsigned reg, bit;
    const char *name;
    bool advertised;
};

static const struct feature features[] = {
#define FEATURE(reg, bit, name, advertised) {reg, bit, #name, advertised},
#include "cpu/features.def"
#undef FEATURE
};

/* Every advertised feature and the test that exercises it (cpu.md §2.3:
 * "named in at least one test"). */
static const struct {
    const char *name;
    const char *test;
} covered[] = {
    {"PSE", "paging_test.c: test_legacy_4m_pse_page_translates"},
    {"TSC", "cpuid_test.c: test_tsc_feature_rdtsc_counts_up"},
    {"MSR", "cpuid_test.c: test_msr_feature_rdmsr_wrmsr_round_trip"},
    {"PAE", "paging_test.c: test_pae_4k_and_2m_pages_translate"},
    {"CX8", "cpuid_test.c: test_cx8_feature_cmpxchg8b_compares_and_swaps"},
    {"APIC", "cpuid_test.c: test_apic_feature_apic_base_msr_is_enabled_on_bsp"},
    {"PGE", "cpuid_test.c: test_cr4_accepts_bits_of_advertised_features"},
    {"CMOV", "cpuid_test.c: test_cmov_feature_moves_on_condition"},
    {"CX16", "cpuid_test.c: test_cx16_feature_cmpxchg16b_compares_and_swaps"},
    {"POPCNT", "decode_test.c: test_handlers_chosen_by_mode_and_prefix; "
               "cpuid_test.c: test_popcnt_feature_counts_bits"},
    {"HYPERVISOR", "cpuid_test.c: test_hypervisor_bit_has_no_hypervisor_leaves_behind_it"},
    {"SYSCALL", "cpuid_test.c: test_syscall_feature_enters_lstar"},
    {"NX", "paging_test.c: test_fetch_from_nx_page_faults_with_instruction_bit"},
    {"PAGE1GB", "paging_test.c: test_1g_page_reaches_offset_inside_huge_frame"},
    {"LM", "paging_test.c (every 64-bit test); smm_test.c"},
    {"LAHF_LM", "cpuid_test.c: test_lahf_lm_feature_lahf_sahf_work_in_64_bit_mode"},
};

/* 64-bit mode over one identity 1 GiB page. */
static struct bare *make64(void)
{
    struct bare *b = bare_create(1u << 20);
    bare_poke64(b, 0x10000, 0x11000 | 3);
    bare_poke64(b, 0x11000, 0x0 | 0x83); /* P, W, PS */
    bare_long64(b, 0x10000, true, true);
    return b;
}

static int setup(void **state)
{
    *state = make64();
    return 0;
}

static int teardown(void **state)
{
    bare_free(*state);
    return 0;
}

static void cpuid(struct bare *b, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    b->cpu.gpr[R_AX] = 0xFFFFFFFF00000000ull | leaf;
    b->cpu.gpr[R_CX] = 0xFFFFFFFF00000000ull | sub;
    b->cpu.gpr[R_BX] = b->cpu.gpr[R_DX] = UINT64_MAX;
    bare_run_code(b, "0F A2 0F 0B", 10);
    assert_int_equal(bare_vector(b), EXC_UD);
    r[0] = (uint32_t)b->cpu.gpr[R_AX];
    r[1] = (uint32_t)b->cpu.gpr[R_BX];
    r[2] = (uint32_t)b->cpu.gpr[R_CX];
    r[3] = (uint32_t)b->cpu.gpr[R_DX];
    /* 32-bit results zero-extend in 64-bit mode. */
    assert_int_equal(b->cpu.gpr[R_AX] >> 32, 0);
    assert_int_equal(b->cpu.gpr[R_DX] >> 32, 0);
}

static uint32_t table_reg(unsigned reg)
{
    uint32_t v = 0;
    for (unsigned k = 0; k < ARRAY_SIZE(features); k++)
        if (features[k].reg == reg && features[k].advertised)
            v |= 1u << features[k].bit;
    return v;
}

/* ---- the table ---- */

static void test_feature_table_names_each_bit_once(void **state)
{
    (void)state;
    for (unsigned k = 0; k < ARRAY_SIZE(features); k++) {
        assert_in_range(features[k].reg, 1, 4);
        assert_in_range(features[k].bit, 0, 31);
        for (unsigned j = k + 1; j < ARRAY_SIZE(features); j++) {
            assert_false(features[j].reg == features[k].reg && features[j].bit == features[k].bit);
            assert_string_not_equal(features[j].name, features[k].name);
        }
    }
}

static void test_cpuid_advertises_exactly_the_table(void **state)
{
    struct bare *b = *state;
    uint32_t r[4];
    for (unsigned reg = 1; reg <= 4; reg++)
        assert_int_equal(cpuid_feature_reg(reg), table_reg(reg));
    cpuid(b, 1, 0, r);
    assert_int_equal(r[3], table_reg(1));
    assert_int_equal(r[2], table_reg(2));
    cpuid(b, 0x80000001, 0, r);
    assert_int_equal(r[3], table_reg(3));
    assert_int_equal(r[2], table_reg(4));
}

static void test_every_advertised_feature_is_named_in_a_test(void **state)
{
    (void)state;
    unsigned missing = 0;
    for (unsigned k = 0; k < ARRAY_SIZE(features); k++) {
        if (!features[k].advertised)
            continue;
        bool found = false;
        for (unsigned j = 0; j < ARRAY_SIZE(covered); j++)
            found |= strcmp(covered[j].name, features[k].name) == 0;
        if (!found) {
            print_error("feature %s is advertised but no test names it\n", features[k].name);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    /* And the list names only advertised features. */
    for (unsigned j = 0; j < ARRAY_SIZE(covered); j++) {
        bool adv = false;
        for (unsigned k = 0; k < ARRAY_SIZE(features); k++)
            adv |= features[k].advertised && strcmp(covered[j].name, features[k].name) == 0;
        assert_true(adv);
    }
}

/* ---- leaves ---- */

static void test_leaf0_reports_max_leaf_and_genuineintel(void **state)
{
    struct bare *b = *state;
    uint32_t r[4];
    cpuid(b, 0, 0, r);
    assert_int_equal(r[0], 0xB);
    char vendor[13];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = '\0';
    assert_string_equal(vendor, "GenuineIntel");
}

static void test_leaf1_reports_family_6_apic_id_and_clflush_size(void **state)
{
    struct bare *b = *state;
    uint32_t r[4];
    b->cpu.apic_id = 0x25;
    cpuid(b, 1, 0, r);
    assert_int_equal((r[0] >> 8) & 0xF, 6);
    assert_int_equal(r[1] >> 24, 0x25);
    assert_int_equal((r[1] >> 8) & 0xFF, 8); /* 64-byte lines */
    assert_true(((r[1] >> 16) & 0xFF) >= 1);
    assert_true(r[2] & (1u << 31)); /* hypervisor */
}

static void test_leaf_0b_reports_apic_id_in_edx(void **state)
{
    struct bare *b = *state;
    uint32_t r[4];
    b->cpu.apic_id = 3;
    cpuid(b, 0xB, 0, r);
    assert_int_equal(r[3], 3);
    assert_int_equal(r[2] & 0xFF, 0);
}

static void test_leaf_7_is_all_zero(void **state)
{
    struct bare *b = *state;
    uint32_t r[4];
    cpuid(b, 7, 0, r);
    assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
}

static void test_leaf_above_maximum_returns_highest_basic_leaf(void **state)
{
    struct bare *b = *state;
    uint32_t want[4], r[4];
    static const uint32_t leaves[] = {0xC, 0x20, 0x3FFFFFFF, 0x80000009, 0x8FFFFFFF, 0xFFFFFFFF};
    cpuid(b, 0xB, 0, want);
    for (unsigned k = 0; k < ARRAY_SIZE(leaves); k++) {
        cpuid(b, leaves[k], 0, r);
        assert_memory_equal(r, want, sizeof(want));
    }
}

static void test_hypervisor_bit_has_no_hypervisor_leaves_behind_it(void **state)
{
    struct bare *b = *state;
    uint32_t want[4], r[4];
    cpuid(b, 0xB, 0, want);
    cpuid(b, 0x40000000, 0, r);
    assert_memory_equal(r, want, sizeof(want));
}

static void test_extended_leaves_max_and_address_sizes(void **state)
{
    struct bare *b = *state;
    uint32_t r[4];
    cpuid(b, 0x80000000, 0, r);
    assert_int_equal(r[0], 0x80000008);
    cpuid(b, 0x80000008, 0, r);
    assert_int_equal(r[0] & 0xFF, 40);
    assert_int_equal((r[0] >> 8) & 0xFF, 48);
    cpuid(b, 0x80000007, 0, r);
    assert_true(r[3] & (1u << 8)); /* invariant TSC */
}

static void test_brand_string_is_smmvm_virtual_cpu(void **state)
{
    struct bare *b = *state;
    char brand[49];
    for (unsigned k = 0; k < 3; k++) {
        uint32_t r[4];
        cpuid(b, 0x80000002 + k, 0, r);
        memcpy(brand + 16 * k, r, 16);
    }
    brand[48] = '\0';
    assert_string_equal(brand, "smmvm virtual CPU");
    for (unsigned k = strlen("smmvm virtual CPU"); k < 48; k++)
        assert_int_equal(brand[k], 0);
}

/* ---- CR4 and EFER follow the table ---- */

/* Runs `mov cr4, rax` and returns the vector it ended in (6 = accepted). */
static int try_cr4(struct bare *b, uint64_t v)
{
    b->cpu.gpr[R_AX] = v;
    bare_run_code(b, "0F 22 E0 0F 0B", 10);
    return bare_vector(b);
}

static void test_cr4_refuses_bits_of_missing_features(void **state)
{
    struct bare *b = *state;
    static const unsigned bits[] = {0, 1, 3, 6, 9, 10, 11, 12, 13, 14, 16, 17, 18, 20, 21, 22};
    for (unsigned k = 0; k < ARRAY_SIZE(bits); k++) {
        uint64_t v = CR4_PAE | CR4_PSE | (1ull << bits[k]);
        if (try_cr4(b, v) != EXC_GP)
            print_error("CR4 bit %u accepted\n", bits[k]);
        assert_int_equal(bare_vector(b), EXC_GP);
        assert_int_equal(b->cpu.cr4, CR4_PAE | CR4_PSE);
    }
}

static void test_cr4_accepts_bits_of_advertised_features(void **state)
{
    struct bare *b = *state;
    uint64_t v = CR4_PAE | CR4_PSE | CR4_PGE | CR4_TSD | CR4_PCE;
    assert_int_equal(try_cr4(b, v), EXC_UD);
    assert_int_equal(b->cpu.cr4, v);
}

/* wrmsr EFER with EDX:EAX = v; returns the vector (6 = accepted). */
static int try_efer(struct bare *b, uint64_t v)
{
    b->cpu.gpr[R_CX] = 0xC0000080;
    b->cpu.gpr[R_AX] = (uint32_t)v;
    b->cpu.gpr[R_DX] = v >> 32;
    bare_run_code(b, "0F 30 0F 0B", 10);
    return bare_vector(b);
}

static void test_efer_refuses_svme_and_reserved_bits(void **state)
{
    struct bare *b = *state;
    uint64_t base = EFER_LME | EFER_LMA | EFER_NXE;
    assert_int_equal(try_efer(b, base | (1ull << 12)), EXC_GP); /* SVME */
    assert_int_equal(try_efer(b, base | (1ull << 1)), EXC_GP);
    assert_int_equal(try_efer(b, base | (1ull << 13)), EXC_GP); /* LMSLE */
    assert_int_equal(try_efer(b, base | (1ull << 14)), EXC_GP); /* FFXSR */
    assert_int_equal(b->cpu.efer, base);
    assert_int_equal(try_efer(b, base | EFER_SCE), EXC_UD);
    assert_int_equal(b->cpu.efer, base | EFER_SCE);
}

static void test_rdtscp_without_its_feature_is_ud(void **state)
{
    struct bare *b = *state;
    b->cpu.gpr[R_AX] = 0x1234;
    bare_run_code(b, "0F 01 F9 F4", 10);
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_int_equal(b->cpu.gpr[R_AX], 0x1234);
}

/* ---- behaviour of the advertised features without a test elsewhere ---- */

static void test_tsc_feature_rdtsc_counts_up(void **state)
{
    struct bare *b = *state;
    /* rdtsc; mov rsi, rax; nop; nop; rdtsc */
    bare_run_code(b, "0F 31 48 89 C6 90 90 0F 31 0F 0B", 20);
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_true(b->cpu.gpr[R_AX] > b->cpu.gpr[R_SI]);
}

static void test_msr_feature_rdmsr_wrmsr_round_trip(void **state)
{
    struct bare *b = *state;
    b->cpu.gpr[R_CX] = 0xC0000082; /* LSTAR */
    b->cpu.gpr[R_AX] = 0x89ABCDEF;
    b->cpu.gpr[R_DX] = 0xFFFF8000;
    /* wrmsr; xor eax, eax; xor edx, edx; rdmsr */
    bare_run_code(b, "0F 30 31 C0 31 D2 0F 32 0F 0B", 20);
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_int_equal(b->cpu.gpr[R_AX], 0x89ABCDEF);
    assert_int_equal(b->cpu.gpr[R_DX], 0xFFFF8000);
}

static void test_apic_feature_apic_base_msr_is_enabled_on_bsp(void **state)
{
    struct bare *b = *state;
    b->cpu.gpr[R_CX] = 0x1B;
    bare_run_code(b, "0F 32 0F 0B", 10);
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_int_equal(b->cpu.gpr[R_AX], 0xFEE00900); /* base, EN, BSP */
    assert_int_equal(b->cpu.gpr[R_DX], 0);
}

static void test_cx8_feature_cmpxchg8b_compares_and_swaps(void **state)
{
    struct bare *b = *state;
    bare_poke64(b, 0x60000, 0x1111111122222222ull);
    b->cpu.gpr[R_SI] = 0x60000;
    b->cpu.gpr[R_DX] = 0x11111111, b->cpu.gpr[R_AX] = 0x22222222;
    b->cpu.gpr[R_CX] = 0x33333333, b->cpu.gpr[R_BX] = 0x44444444;
    bare_run_code(b, "F0 0F C7 0E 0F 0B", 10); /* lock cmpxchg8b [rsi] */
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_int_equal(bare_peek64(b, 0x60000), 0x3333333344444444ull);
    assert_true(cpu_get_rflags(&b->cpu) & FLAG_ZF);
    bare_run_code(b, "0F C7 0E 0F 0B", 10); /* now it differs: loads EDX:EAX */
    assert_false(cpu_get_rflags(&b->cpu) & FLAG_ZF);
    assert_int_equal(b->cpu.gpr[R_DX], 0x33333333);
    assert_int_equal(b->cpu.gpr[R_AX], 0x44444444);
}

static void test_cx16_feature_cmpxchg16b_compares_and_swaps(void **state)
{
    struct bare *b = *state;
    bare_poke64(b, 0x60000, 0x2222222222222222ull);
    bare_poke64(b, 0x60008, 0x1111111111111111ull);
    b->cpu.gpr[R_SI] = 0x60000;
    b->cpu.gpr[R_DX] = 0x1111111111111111ull, b->cpu.gpr[R_AX] = 0x2222222222222222ull;
    b->cpu.gpr[R_CX] = 0x3333333333333333ull, b->cpu.gpr[R_BX] = 0x4444444444444444ull;
    bare_run_code(b, "F0 48 0F C7 0E 0F 0B", 10);
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_int_equal(bare_peek64(b, 0x60000), 0x4444444444444444ull);
    assert_int_equal(bare_peek64(b, 0x60008), 0x3333333333333333ull);
    assert_true(cpu_get_rflags(&b->cpu) & FLAG_ZF);
    /* Misaligned operand: #GP(0). */
    b->cpu.gpr[R_SI] = 0x60008;
    bare_run_code(b, "48 0F C7 0E 0F 0B", 10);
    assert_int_equal(bare_vector(b), EXC_GP);
}

static void test_cmov_feature_moves_on_condition(void **state)
{
    struct bare *b = *state;
    b->cpu.gpr[R_AX] = 1, b->cpu.gpr[R_CX] = 2, b->cpu.gpr[R_DX] = 3;
    /* cmp eax, eax; cmove eax, ecx; cmovne edx, ecx */
    bare_run_code(b, "39 C0 0F 44 C1 0F 45 D1 0F 0B", 10);
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_int_equal(b->cpu.gpr[R_AX], 2);
    assert_int_equal(b->cpu.gpr[R_DX], 3);
}

static void test_popcnt_feature_counts_bits(void **state)
{
    struct bare *b = *state;
    b->cpu.gpr[R_CX] = 0xF0F0F0F0F0F0F0F1ull;
    bare_run_code(b, "F3 48 0F B8 C1 0F 0B", 10);
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_int_equal(b->cpu.gpr[R_AX], 33);
}

static void test_syscall_feature_enters_lstar(void **state)
{
    struct bare *b = *state;
    struct cpu *c = &b->cpu;
    c->efer |= EFER_SCE;
    bare_code(b, 0x5F000, "0F 0B");
    c->lstar = 0x5F000;
    c->star = (uint64_t)SEL_CODE64 << 32;
    c->sfmask = FLAG_IF;
    cpu_set_rflags(c, FLAG_IF | 2);
    uint64_t at = bare_run_code(b, "0F 05", 10);
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_int_equal(c->gpr[R_CX], at + 2);
    assert_true(c->gpr[R_R11] & FLAG_IF);
    assert_int_equal(c->seg[SEG_SS].selector, SEL_DATA);
}

static void test_lahf_lm_feature_lahf_sahf_work_in_64_bit_mode(void **state)
{
    struct bare *b = *state;
    b->cpu.gpr[R_AX] = 0;
    /* stc; lahf; mov bl, ah; mov ah, 0x40; sahf (ZF=1, CF=0); setz cl; setc dl */
    bare_run_code(b, "F9 9F 88 E3 B4 40 9E 0F 94 C1 0F 92 C2 0F 0B", 20);
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_int_equal(b->cpu.gpr[R_BX] & 0x01, 1);
    assert_int_equal(b->cpu.gpr[R_CX] & 0xFF, 1);
    assert_int_equal(b->cpu.gpr[R_DX] & 0xFF, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_feature_table_names_each_bit_once),
        T(test_cpuid_advertises_exactly_the_table),
        T(test_every_advertised_feature_is_named_in_a_test),
        T(test_leaf0_reports_max_leaf_and_genuineintel),
        T(test_leaf1_reports_family_6_apic_id_and_clflush_size),
        T(test_leaf_0b_reports_apic_id_in_edx),
        T(test_leaf_7_is_all_zero),
        T(test_leaf_above_maximum_returns_highest_basic_leaf),
        T(test_hypervisor_bit_has_no_hypervisor_leaves_behind_it),
        T(test_extended_leaves_max_and_address_sizes),
        T(test_brand_string_is_smmvm_virtual_cpu),
        T(test_cr4_refuses_bits_of_missing_features),
        T(test_cr4_accepts_bits_of_advertised_features),
        T(test_efer_refuses_svme_and_reserved_bits),
        T(test_rdtscp_without_its_feature_is_ud),
        T(test_tsc_feature_rdtsc_counts_up),
        T(test_msr_feature_rdmsr_wrmsr_round_trip),
        T(test_apic_feature_apic_base_msr_is_enabled_on_bsp),
        T(test_cx8_feature_cmpxchg8b_compares_and_swaps),
        T(test_cx16_feature_cmpxchg16b_compares_and_swaps),
        T(test_cmov_feature_moves_on_condition),
        T(test_popcnt_feature_counts_bits),
        T(test_syscall_feature_enters_lstar),
        T(test_lahf_lm_feature_lahf_sahf_work_in_64_bit_mode),
    };
#undef T
    return cmocka_run_group_tests_name("cpuid", tests, NULL, NULL);
}
