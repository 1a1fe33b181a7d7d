/*
 * decode_test.c - instruction lengths from decode_insn() (cpu/cpu_impl.h) in
 * 16-, 32- and 64-bit code: prefixes, REX, every ModRM/SIB/displacement form,
 * every immediate form, and the #UD (-1), too-long (-2) and need-more (0)
 * answers. Lengths follow the SDM Vol. 2 opcode maps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/handlers.h"

#define UD_   (-1)
#define LONG_ (-2)

struct case_ {
    unsigned bits;
    const char *hex; /* instruction bytes, space separated */
    int want;        /* length, 0 (truncated), -1 (#UD) or -2 (> 15 bytes) */
};

static unsigned parse_hex(const char *hex, uint8_t *out, unsigned cap)
{
    unsigned n = 0;
    const char *p = hex;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        unsigned v;
        int used;
        if (sscanf(p, "%2x%n", &v, &used) != 1)
            fail_msg("bad hex in test table: %s", hex);
        p += used;
        if (n == cap)
            fail_msg("test bytes too long: %s", hex);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Decodes exactly the given bytes (nothing valid after them). */
static int decode_hex(unsigned bits, const char *hex, struct insn *i)
{
    uint8_t buf[32];
    unsigned n = parse_hex(hex, buf, sizeof(buf));
    return decode_insn(i, buf, n, bits);
}

static void run_table(const struct case_ *t, unsigned n)
{
    unsigned bad = 0;
    for (unsigned k = 0; k < n; k++) {
        struct insn i;
        int got = decode_hex(t[k].bits, t[k].hex, &i);
        if (got != t[k].want) {
            print_error("%u-bit [%s]: got %d, want %d\n", t[k].bits, t[k].hex, got, t[k].want);
            bad++;
        } else if (got > 0 && i.len != got) {
            print_error("%u-bit [%s]: insn.len %u != returned %d\n", t[k].bits, t[k].hex, i.len,
                        got);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* ---- tables ---- */

static void test_one_byte_opcodes_without_operands_are_one_byte(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {64, "90", 1}, {64, "C3", 1}, {64, "CC", 1}, {64, "F4", 1}, {64, "FA", 1}, {64, "FB", 1},
        {64, "CF", 1}, {64, "98", 1}, {64, "99", 1}, {64, "9C", 1}, {64, "9D", 1}, {64, "A4", 1},
        {64, "AB", 1}, {64, "EC", 1}, {64, "EF", 1}, {64, "50", 1}, {64, "5F", 1}, {64, "C9", 1},
        {64, "F1", 1}, {64, "D7", 1}, {32, "40", 1}, {32, "4F", 1}, {32, "06", 1}, {32, "1F", 1},
        {32, "27", 1}, {32, "37", 1}, {32, "60", 1}, {32, "61", 1}, {32, "CE", 1}, {32, "D6", 1},
        {16, "0E", 1}, {16, "17", 1}, {16, "9B", 1}, {16, "CB", 1}, {16, "6C", 1},
    };
    run_table(t, ARRAY_SIZE(t));
}

static void test_modrm_displacement_forms_32_and_64(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {64, "8B 00", 2},                   /* [rax] */
        {64, "8B C0", 2},                   /* register */
        {64, "8B 40 7F", 3},                /* disp8 */
        {64, "8B 80 00 01 00 00", 6},       /* disp32 */
        {64, "8B 05 00 00 00 00", 6},       /* RIP-relative */
        {64, "8B 04 24", 3},                /* SIB [rsp] */
        {64, "8B 04 25 78 56 34 12", 7},    /* SIB base=5 mod=0: disp32, no base */
        {64, "8B 44 25 10", 4},             /* SIB base=5 mod=1: [rbp+..+disp8] */
        {64, "8B 84 25 10 00 00 00", 7},    /* SIB base=5 mod=2 */
        {64, "8B 04 88", 3},                /* [rax+rcx*4] */
        {64, "41 8B 45 00", 4},             /* [r13+0]: needs disp8 */
        {64, "41 8B 05 00 00 00 00", 7},    /* REX.B does not turn off RIP-relative */
        {64, "41 8B 04 24", 4},             /* [r12] still needs SIB */
        {64, "43 8B 04 25 00 00 00 00", 8}, /* SIB base=5 with REX.B, mod=0: disp32 */
        {64, "67 8B 04 25 00 00 00 00", 8}, /* 32-bit addressing keeps SIB */
        {64, "67 8B 05 00 00 00 00", 7},    /* EIP-relative */
        {32, "8B 05 78 56 34 12", 6},       /* absolute disp32 */
        {32, "8B 04 25 78 56 34 12", 7},
        {32, "8B 4C 24 08", 4},
        {32, "8B 8C 24 00 01 00 00", 7},
        {32, "67 8B 00", 3},       /* 16-bit addressing [bx+si] */
        {32, "67 8B 06 34 12", 5}, /* 16-bit disp16 */
        {32, "67 8B 46 FE", 4},    /* [bp-2] */
        {32, "67 8B 86 00 01", 5}, /* [bp+disp16] */
        {16, "8B 00", 2},
        {16, "8B 06 34 12", 4}, /* mod=0 rm=6: disp16 */
        {16, "8B 46 FE", 3},
        {16, "8B 84 34 12", 4},
        {16, "8B C3", 2},
        {16, "67 8B 04 24", 4}, /* 32-bit addressing from 16-bit code */
        {16, "67 8B 05 78 56 34 12", 7},
        {16, "66 67 8B 84 88 00 01 00 00", 9},
    };
    run_table(t, ARRAY_SIZE(t));
}

/* Independent oracle for ModRM + SIB + displacement bytes after the opcode. */
static unsigned oracle_modrm_bytes(unsigned addrsize, uint8_t modrm, uint8_t sib)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    if (mod == 3)
        return 1;
    if (addrsize == 2) {
        if (mod == 0)
            return rm == 6 ? 3 : 1;
        return mod == 1 ? 2 : 3;
    }
    unsigned n = 1;
    if (rm == 4) {
        n++;
        if (mod == 0 && (sib & 7) == 5)
            n += 4;
    } else if (mod == 0 && rm == 5) {
        n += 4;
    }
    if (mod == 1)
        n += 1;
    else if (mod == 2)
        n += 4;
    return n;
}

static void test_every_modrm_and_sib_byte_has_the_right_length(void **state)
{
    (void)state;
    static const struct {
        unsigned bits;
        bool addr_prefix;
        unsigned addrsize;
    } modes[] = {{16, false, 2}, {16, true, 4},  {32, false, 4},
                 {32, true, 2},  {64, false, 8}, {64, true, 4}};
    unsigned bad = 0;
    for (unsigned m = 0; m < ARRAY_SIZE(modes); m++) {
        for (unsigned modrm = 0; modrm < 256; modrm++) {
            for (unsigned sib = 0; sib < 256; sib++) {
                uint8_t buf[16] = {0};
                unsigned n = 0;
                if (modes[m].addr_prefix)
                    buf[n++] = 0x67;
                buf[n++] = 0x8B; /* MOV Gv, Ev */
                buf[n++] = (uint8_t)modrm;
                buf[n++] = (uint8_t)sib;
                unsigned want =
                    n - 2 + oracle_modrm_bytes(modes[m].addrsize, (uint8_t)modrm, (uint8_t)sib);
                struct insn i;
                int got = decode_insn(&i, buf, 16, modes[m].bits);
                if (got != (int)want) {
                    if (bad++ < 10)
                        print_error("%u-bit%s modrm %02x sib %02x: got %d want %u\n", modes[m].bits,
                                    modes[m].addr_prefix ? " 67" : "", modrm, sib, got, want);
                }
                if (got > 0 && ((i.flags & INSN_MEM) != 0) != ((modrm >> 6) != 3))
                    bad++;
                if (got > 0 && i.addrsize != modes[m].addrsize)
                    bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

static void test_immediate_forms_by_operand_size(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        /* Ib */
        {64, "B0 12", 2},
        {64, "04 12", 2},
        {64, "6A 12", 2},
        {64, "83 C0 12", 3},
        {64, "80 C0 12", 3},
        {64, "6B C0 12", 3},
        {64, "C0 E0 04", 3},
        {64, "CD 21", 2},
        {64, "E4 60", 2},
        {64, "E6 60", 2},
        {64, "A8 01", 2},
        {16, "B4 12", 2},
        /* Iw */
        {64, "C2 08 00", 3},
        {64, "CA 08 00", 3},
        {16, "C2 08 00", 3},
        {32, "66 C2 08 00", 4},
        /* Iz: 16 or 32 by operand size, never 64 */
        {32, "05 78 56 34 12", 5},
        {32, "66 05 34 12", 4},
        {16, "05 34 12", 3},
        {16, "66 05 78 56 34 12", 6},
        {64, "05 78 56 34 12", 5},
        {64, "48 05 78 56 34 12", 6},
        {64, "66 05 34 12", 4},
        {64, "81 C0 78 56 34 12", 6},
        {64, "66 81 C0 34 12", 5},
        {64, "48 81 C0 78 56 34 12", 7},
        {64, "69 C0 78 56 34 12", 6},
        {64, "68 78 56 34 12", 5},
        {64, "66 68 34 12", 4},
        {32, "68 78 56 34 12", 5},
        {16, "68 34 12", 3},
        {64, "A9 78 56 34 12", 5},
        {16, "A9 34 12", 3},
        {64, "C7 00 78 56 34 12", 6},
        {64, "48 C7 00 78 56 34 12", 7},
        {64, "66 C7 00 34 12", 5},
        {64, "C6 00 12", 3},
        {64, "C7 05 00 00 00 00 78 56 34 12", 10},    /* RIP-relative + imm32 */
        {64, "C7 84 24 00 01 00 00 78 56 34 12", 11}, /* SIB + disp32 + imm32 */
        {16, "C7 06 34 12 78 56", 6},
        {16, "66 C7 06 34 12 78 56 34 12", 9},
        /* Iv: MOV r, imm is the only 64-bit immediate */
        {32, "B8 78 56 34 12", 5},
        {16, "B8 34 12", 3},
        {32, "66 B8 34 12", 4},
        {64, "B8 78 56 34 12", 5},
        {64, "66 B8 34 12", 4},
        {64, "48 B8 88 77 66 55 44 33 22 11", 10},
        {64, "49 BF 88 77 66 55 44 33 22 11", 10},
        /* relative branches */
        {64, "EB 12", 2},
        {64, "70 12", 2},
        {64, "E3 12", 2},
        {64, "E2 12", 2},
        {64, "E8 00 00 00 00", 5},
        {64, "E9 00 00 00 00", 5},
        {64, "0F 84 00 00 00 00", 6},
        {64, "66 E8 00 00 00 00", 6}, /* Intel: 66 ignored */
        {32, "E8 00 00 00 00", 5},
        {16, "E8 00 00", 3},
        {16, "66 E8 00 00 00 00", 6},
        {16, "0F 84 00 00", 4},
        {32, "66 0F 84 00 00", 5},
        /* ENTER Iw, Ib */
        {64, "C8 10 00 01", 4},
        {16, "C8 10 00 00", 4},
        /* shifts by 1 and CL */
        {64, "D1 E0", 2},
        {64, "D3 E0", 2},
        {64, "D0 E0", 2},
    };
    run_table(t, ARRAY_SIZE(t));
}

static void test_group3_test_has_an_immediate_other_members_do_not(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {64, "F6 C0 12", 3},             /* TEST r/m8, imm8 (/0) */
        {64, "F6 C8 12", 3},             /* /1 is TEST too */
        {64, "F6 D0", 2},                /* NOT */
        {64, "F6 D8", 2},                /* NEG */
        {64, "F6 E0", 2},                /* MUL */
        {64, "F6 F8", 2},                /* IDIV */
        {64, "F7 C0 78 56 34 12", 6},    /* TEST r/m32, imm32 */
        {64, "66 F7 C0 34 12", 5},       /* TEST r/m16, imm16 */
        {64, "48 F7 C0 78 56 34 12", 7}, /* TEST r/m64, imm32 */
        {64, "F7 05 00 00 00 00 78 56 34 12", 10},
        {64, "F7 D8", 2},
        {64, "F7 F1", 2},
        {64, "41 F6 C0 12", 4}, /* REX.B: still TEST */
        {64, "44 F6 C0 12", 4}, /* REX.R does not change the group member */
        {16, "F7 C0 34 12", 4},
        {16, "F6 06 34 12 56", 5}, /* TEST byte [0x1234], 0x56 */
    };
    run_table(t, ARRAY_SIZE(t));
}

static void test_moffs_width_follows_address_size(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {64, "A1 88 77 66 55 44 33 22 11", 9},
        {64, "A0 88 77 66 55 44 33 22 11", 9},
        {64, "48 A3 88 77 66 55 44 33 22 11", 10},
        {64, "67 A1 44 33 22 11", 6},
        {32, "A1 44 33 22 11", 5},
        {32, "67 A1 22 11", 4},
        {32, "66 A3 44 33 22 11", 6},
        {16, "A0 22 11", 3},
        {16, "67 A0 44 33 22 11", 6},
    };
    run_table(t, ARRAY_SIZE(t));
    struct insn i;
    assert_int_equal(decode_hex(64, "A1 88 77 66 55 44 33 22 11", &i), 9);
    assert_int_equal(i.imm, 0x1122334455667788ull);
    assert_int_equal(decode_hex(64, "67 A1 44 33 22 11", &i), 6);
    assert_int_equal(i.imm, 0x11223344);
}

static void test_far_pointers_are_offset_then_selector(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {32, "EA 78 56 34 12 08 00", 7},
        {32, "66 EA 34 12 08 00", 6},
        {16, "EA 34 12 00 F0", 5},
        {16, "66 EA 78 56 34 12 08 00", 8},
        {32, "9A 78 56 34 12 08 00", 7},
        {16, "9A 34 12 00 F0", 5},
        {64, "FF 2C 24", 3}, /* JMP m16:32 through memory is fine in 64-bit mode */
        {64, "FF 1C 24", 3},
    };
    run_table(t, ARRAY_SIZE(t));
    struct insn i;
    assert_int_equal(decode_hex(16, "EA 34 12 00 F0", &i), 5);
    assert_int_equal(i.imm, 0x1234);
    assert_int_equal(i.imm2, 0xF000);
    assert_int_equal(decode_hex(32, "EA 78 56 34 12 08 00", &i), 7);
    assert_int_equal(i.imm, 0x12345678);
    assert_int_equal(i.imm2, 0x0008);
}

static void test_two_byte_opcodes(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {64, "0F A2", 2}, /* CPUID */
        {64, "0F 31", 2},
        {64, "0F 30", 2},
        {64, "0F 32", 2},
        {64, "0F AA", 2},
        {64, "0F 05", 2},
        {64, "0F 07", 2},
        {64, "0F 06", 2},
        {64, "0F 09", 2},
        {64, "0F C8", 2},
        {64, "41 0F CF", 3},
        {64, "0F 01 10", 3},             /* LGDT [rax] */
        {64, "0F 01 15 00 00 00 00", 7}, /* LGDT [rip+disp32] */
        {64, "0F 01 3B", 3},             /* INVLPG [rbx] */
        {64, "0F 01 F8", 3},             /* SWAPGS */
        {32, "0F 01 15 00 10 00 00", 7},
        {16, "0F 01 16 00 10", 5},
        {64, "0F 00 D8", 3}, /* LTR ax */
        {64, "0F 02 C1", 3},
        {64, "0F 03 C1", 3},
        {64, "0F B6 C0", 3},
        {64, "0F BE 04 24", 4},
        {64, "48 0F BF C1", 4},
        {64, "0F AF C1", 3},
        {64, "0F A4 C1 04", 4},
        {64, "0F A5 C1", 3},
        {64, "0F AC C1 04", 4},
        {64, "0F BA E0 05", 4},
        {64, "0F A3 C8", 3},
        {64, "0F BB C8", 3},
        {64, "0F C7 0E", 3},
        {64, "48 0F C7 0E", 4},
        {64, "0F B0 0E", 3},
        {64, "0F B1 0E", 3},
        {64, "0F C0 C1", 3},
        {64, "0F C1 C1", 3},
        {64, "0F 1F 00", 3},
        {64, "0F 1F 44 00 00", 5},
        {64, "0F 1F 80 00 00 00 00", 7},
        {64, "66 0F 1F 84 00 00 00 00 00", 9},
        {64, "0F 18 08", 3},
        {64, "0F 40 C1", 3},
        {64, "0F 4F 00", 3},
        {64, "0F 94 C0", 3},
        {64, "0F 9F 00", 3},
        {64, "0F BC C1", 3},
        {64, "0F BD C1", 3},
        {64, "F3 0F BC C1", 4},
        {64, "F3 0F BD C1", 4},
        {64, "F3 0F B8 C1", 4},
        {64, "F3 48 0F B8 C1", 5},
        {64, "66 F3 0F B8 C1", 5},
        {64, "0F A0", 2},
        {64, "0F A1", 2},
        {64, "0F A8", 2},
        {64, "0F A9", 2},
        {32, "0F B2 00", 3},
        {32, "0F B4 00", 3},
        {32, "0F B5 00", 3},
        {64, "0F 0B", 2},
        {64, "0F B9 C0", 3},
        {64, "0F FF C0", 3},
        {64, "0F 21 C0", 3},
        {64, "0F 23 F8", 3},
    };
    run_table(t, ARRAY_SIZE(t));
}

static void test_mov_cr_and_dr_ignore_mod_and_take_no_displacement(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {64, "0F 20 C0", 3},                         /* mov rax, cr0 */
        {64, "0F 22 D8", 3},                         /* mov cr3, rax */
        {64, "0F 20 00", 3},                         /* mod=0 rm=0: still a register */
        {64, "0F 22 05", 3},                         /* mod=0 rm=5: no disp32, no RIP-relative */
        {64, "0F 20 44", 3},                         /* mod=1 rm=4: no SIB, no disp8 */
        {64, "0F 22 84", 3},                         /* mod=2 rm=4 */
        {64, "44 0F 20 C0", 4},                      /* mov rax, cr8 */
        {32, "0F 20 E0", 3},                         /* mov eax, cr4 */
        {32, "0F 21 05", 3},    {16, "0F 22 06", 3}, /* no disp16 either */
    };
    run_table(t, ARRAY_SIZE(t));
    struct insn i;
    assert_int_equal(decode_hex(64, "0F 22 05", &i), 3);
    assert_false(i.flags & INSN_MEM);
    assert_int_equal(i.rm, R_BP);
    assert_int_equal(i.reg, 0);
    assert_int_equal(decode_hex(64, "44 0F 20 C0", &i), 4);
    assert_int_equal(i.reg, 8);
}

static void test_prefixes_add_one_byte_each(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {32, "2E 8B 00", 3},
        {32, "64 8B 00", 3},
        {32, "65 8B 00", 3},
        {32, "26 2E 36 3E 64 65 8B 00", 8},
        {64, "2E 8B 00", 3},
        {64, "3E 64 8B 00", 4},
        {64, "F3 A4", 2},
        {64, "F2 AE", 2},
        {64, "F3 48 AB", 3},
        {64, "F3 90", 2},
        {64, "F2 F3 A4", 3},
        {64, "66 66 66 90", 4},
        {32, "66 67 8B 00", 4},
        {64, "F0 01 00", 3},
        {64, "F0 48 01 00", 4},
        {64, "F0 66 09 00", 4},
        {64, "F0 87 00", 3},
        {64, "F0 86 00", 3},
        {64, "F0 FF 00", 3},
        {64, "F0 FE 08", 3},
        {64, "F0 F6 10", 3},
        {64, "F0 F7 18", 3},
        {64, "F0 80 30 12", 4},
        {64, "F0 83 00 01", 4},
        {64, "F0 81 28 00 00 00 00", 7},
        {64, "F0 0F B1 0E", 4},
        {64, "F0 0F B0 0E", 4},
        {64, "F0 0F C7 0E", 4},
        {64, "F0 48 0F C7 0E", 5},
        {64, "F0 0F BA 28 05", 5},
        {64, "F0 0F BA 38 05", 5},
        {64, "F0 0F AB 00", 4},
        {64, "F0 0F B3 00", 4},
        {64, "F0 0F BB 00", 4},
        {64, "F0 0F C1 00", 4},
        {64, "F0 0F C0 00", 4},
        {32, "F0 01 05 00 10 00 00", 7},
        {16, "F0 01 06 34 12", 5},
    };
    run_table(t, ARRAY_SIZE(t));
    struct insn i;
    assert_int_equal(decode_hex(64, "F0 01 00", &i), 3);
    assert_true(i.flags & INSN_LOCK);
    assert_int_equal(decode_hex(32, "64 8B 00", &i), 3);
    assert_int_equal(i.seg, SEG_FS);
    assert_true(i.flags & INSN_SEGOV);
    assert_int_equal(decode_hex(32, "2E 8B 00", &i), 3);
    assert_int_equal(i.seg, SEG_CS);
    assert_int_equal(decode_hex(64, "F3 A4", &i), 2);
    assert_true(i.flags & INSN_REP);
    assert_int_equal(decode_hex(64, "F3 F2 AE", &i), 3);
    assert_true(i.flags & INSN_REPNE); /* the last of F2/F3 wins */
    assert_false(i.flags & INSN_REP);
}

static void test_rex_counts_only_right_before_the_opcode(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {64, "48 B8 88 77 66 55 44 33 22 11", 10},
        {64, "48 66 B8 34 12", 5},       /* REX then 66: REX dropped, 16-bit imm */
        {64, "48 2E B8 78 56 34 12", 7}, /* REX then segment prefix: dropped */
        {64, "48 F3 B8 78 56 34 12", 7},
        {64, "48 F0 01 00", 4},          /* REX then LOCK: dropped, still lockable */
        {64, "48 40 B8 78 56 34 12", 7}, /* two REX: only the last counts */
        {64, "40 48 B8 88 77 66 55 44 33 22 11", 11},
        {64, "66 48 B8 88 77 66 55 44 33 22 11", 11}, /* REX.W beats 66 */
        {64, "66 48 81 C0 78 56 34 12", 8},
        {32, "48 B8 78 56 34 12", 1}, /* 32-bit: 0x48 is DEC EAX */
    };
    run_table(t, ARRAY_SIZE(t));
    struct insn i;
    assert_int_equal(decode_hex(64, "48 66 89 C8", &i), 4);
    assert_int_equal(i.opsize, 2);
    assert_false(i.flags & INSN_REX);
    assert_int_equal(decode_hex(64, "66 48 89 C8", &i), 4);
    assert_int_equal(i.opsize, 8);
    assert_true(i.flags & INSN_REX);
    assert_int_equal(decode_hex(64, "41 2E 8B 00", &i), 4);
    assert_int_equal(i.base, R_AX); /* REX.B before the segment prefix is ignored */
    assert_int_equal(decode_hex(64, "2E 41 8B 00", &i), 4);
    assert_int_equal(i.base, R_R8);
}

static void test_decoded_operands_of_address_forms(void **state)
{
    (void)state;
    struct insn i;
    assert_int_equal(decode_hex(64, "8B 05 10 00 00 00", &i), 6);
    assert_int_equal(i.base, REG_RIP);
    assert_int_equal(i.disp, 0x10);
    assert_int_equal(decode_hex(32, "8B 05 10 00 00 00", &i), 6);
    /* absolute outside 64-bit mode; the legacy MOV forms read the zero slot */
    assert_int_equal(i.base, REG_ZERO);
    assert_int_equal(i.index, REG_ZERO);
    assert_int_equal(decode_hex(32, "03 05 10 00 00 00", &i), 6); /* add eax, [0x10] */
    assert_int_equal(i.base, REG_NONE);
    assert_int_equal(decode_hex(64, "8B 04 25 F0 FF FF FF", &i), 7);
    assert_int_equal(i.base, REG_NONE);
    assert_int_equal(i.index, REG_NONE);
    assert_int_equal(i.disp, -16);
    assert_int_equal(decode_hex(64, "4A 8B 04 B8", &i), 4); /* [rax + r15*4] */
    assert_int_equal(i.base, R_AX);
    assert_int_equal(i.index, R_R15);
    assert_int_equal(i.scale, 2);
    assert_int_equal(decode_hex(16, "8B 46 FE", &i), 3); /* [bp-2] defaults to SS */
    assert_int_equal(i.seg, SEG_SS);
    assert_int_equal(i.disp, -2);
    assert_int_equal(decode_hex(16, "8B 06 FE FF", &i), 4); /* [0xFFFE] is DS, zero-extended */
    assert_int_equal(i.seg, SEG_DS);
    assert_int_equal(i.disp, 0xFFFE);
    assert_int_equal(decode_hex(32, "8B 45 00", &i), 3);
    assert_int_equal(i.seg, SEG_SS);
    assert_int_equal(decode_hex(32, "3E 8B 45 00", &i), 4);
    assert_int_equal(i.seg, SEG_DS);
    assert_int_equal(decode_hex(64, "48 05 FF FF FF FF", &i), 6);
    assert_int_equal(i.imm, UINT64_MAX); /* Iz sign-extended to 64 bits */
    assert_int_equal(decode_hex(64, "48 B8 88 77 66 55 44 33 22 11", &i), 10);
    assert_int_equal(i.imm, 0x1122334455667788ull);
    assert_int_equal(i.rm, R_AX);
    assert_int_equal(decode_hex(64, "C8 10 20 03", &i), 4);
    assert_int_equal(i.imm, 0x2010);
    assert_int_equal(i.imm2, 3);
}

static void test_handlers_chosen_by_mode_and_prefix(void **state)
{
    (void)state;
    struct insn i;
    assert_int_equal(decode_hex(64, "0F 0B", &i), 2); /* UD2 decodes; its handler raises #UD */
    assert_ptr_equal(i.fn, h_ud);
    assert_int_equal(decode_hex(64, "0F B9 C0", &i), 3);
    assert_ptr_equal(i.fn, h_ud);
    assert_int_equal(decode_hex(64, "63 C1", &i), 2);
    assert_ptr_equal(i.fn, h_movsxd);
    assert_int_equal(decode_hex(32, "63 C1", &i), 2);
    assert_ptr_equal(i.fn, h_arpl);
    assert_int_equal(decode_hex(64, "F3 0F B8 C1", &i), 4);
    assert_ptr_equal(i.fn, h_popcnt);
    assert_int_equal(decode_hex(64, "F3 0F BC C1", &i), 4); /* no BMI1: BSF, REP ignored */
    assert_ptr_equal(i.fn, h_bsf);
    assert_int_equal(decode_hex(64, "F3 0F BD C1", &i), 4); /* no ABM: BSR */
    assert_ptr_equal(i.fn, h_bsr);
    assert_int_equal(decode_hex(64, "8F C8", &i), 2); /* 8F /1 is not POP */
    assert_ptr_equal(i.fn, h_ud);
    assert_int_equal(decode_hex(64, "8F C0", &i), 2);
    assert_ptr_equal(i.fn, h_pop_Ev);
    assert_int_equal(decode_hex(64, "C6 C8 12", &i), 3); /* C6 /1 is not MOV */
    assert_ptr_equal(i.fn, h_ud);
    assert_int_equal(decode_hex(64, "0F AA", &i), 2);
    assert_ptr_equal(i.fn, h_rsm);
}

/* Decode-time specialisations (cpu.md §5.2): one handler per operation and
 * operand size; the result register is always rm (Gv,Ev forms swap reg and
 * rm, accumulator forms name RAX); everything else keeps its generic handler. */
static void test_common_forms_get_specialised_handlers(void **state)
{
    (void)state;
    struct insn i;
    assert_int_equal(decode_hex(64, "48 01 D8", &i), 3); /* add rax, rbx */
    assert_ptr_equal(i.fn, h_add_rr64);
    assert_int_equal(i.rm, R_AX);
    assert_int_equal(i.reg, R_BX);
    assert_int_equal(decode_hex(64, "03 C3", &i), 2); /* add eax, ebx (Gv,Ev) */
    assert_ptr_equal(i.fn, h_add_rr32);
    assert_int_equal(i.rm, R_AX);
    assert_int_equal(i.reg, R_BX);
    assert_int_equal(decode_hex(16, "3B CA", &i), 2); /* cmp cx, dx (Gv,Ev) */
    assert_ptr_equal(i.fn, h_cmp_rr16);
    assert_int_equal(i.rm, R_CX);
    assert_int_equal(decode_hex(16, "8B C3", &i), 2); /* mov ax, bx */
    assert_ptr_equal(i.fn, h_mov_rr16);
    assert_int_equal(i.rm, R_AX);
    assert_int_equal(decode_hex(64, "66 15 34 12", &i), 4); /* adc ax, 0x1234 */
    assert_ptr_equal(i.fn, h_adc_ri16);
    assert_int_equal(i.rm, R_AX);
    assert_int_equal(decode_hex(64, "48 83 E3 F0", &i), 4); /* and rbx, -16 */
    assert_ptr_equal(i.fn, h_and_ri64);
    assert_int_equal(i.imm, (uint64_t)-16);
    assert_int_equal(decode_hex(32, "A9 01 00 00 00", &i), 5); /* test eax, 1 */
    assert_ptr_equal(i.fn, h_test_ri32);
    assert_int_equal(decode_hex(64, "48 F7 DE", &i), 3); /* neg rsi */
    assert_ptr_equal(i.fn, h_neg_r64);
    assert_int_equal(decode_hex(32, "4D", &i), 1); /* dec ebp */
    assert_ptr_equal(i.fn, h_dec_r32);
    assert_int_equal(i.rm, R_BP);
    assert_int_equal(decode_hex(64, "FF C3", &i), 2); /* inc ebx */
    assert_ptr_equal(i.fn, h_inc_r32);
    assert_int_equal(decode_hex(64, "48 D1 E2", &i), 3); /* shl rdx, 1 */
    assert_ptr_equal(i.fn, h_shl_ri64);
    assert_int_equal(i.imm, 1);
    assert_int_equal(decode_hex(16, "C1 C0 03", &i), 3); /* rol ax, 3 */
    assert_ptr_equal(i.fn, h_rol_ri16);
    assert_int_equal(decode_hex(64, "D1 D0", &i), 2); /* rcl eax, 1: generic */
    assert_ptr_equal(i.fn, h_shift_reg_imm);
    assert_int_equal(decode_hex(64, "90", &i), 1);
    assert_ptr_equal(i.fn, h_nop);
    assert_int_equal(decode_hex(64, "F3 90", &i), 2); /* PAUSE */
    assert_ptr_equal(i.fn, h_xchg_AX_r);
    /* memory forms */
    assert_int_equal(decode_hex(64, "48 01 4C 33 18", &i), 5); /* add [rbx+rsi+24], rcx */
    assert_ptr_equal(i.fn, h_add_mr64);
    assert_int_equal(decode_hex(16, "03 06 34 12", &i), 4); /* add ax, [0x1234] */
    assert_ptr_equal(i.fn, h_add_rm16);
    assert_int_equal(decode_hex(32, "83 38 00", &i), 3); /* cmp dword [eax], 0 */
    assert_ptr_equal(i.fn, h_cmp_mi32);
    assert_int_equal(decode_hex(16, "8B 00", &i), 2); /* mov ax, [bx+si] */
    assert_ptr_equal(i.fn, h_mov_load16_a16);
    assert_int_equal(decode_hex(16, "66 67 89 03", &i), 4); /* mov [ebx], eax */
    assert_ptr_equal(i.fn, h_mov_store32_a32);
    assert_int_equal(decode_hex(64, "88 03", &i), 2); /* byte forms stay generic */
    assert_ptr_equal(i.fn, h_mov_EbGb);
    assert_int_equal(decode_hex(64, "F0 01 03", &i), 3); /* lock add [rbx], eax */
    assert_ptr_equal(i.fn, h_add_mr32);
}

static void test_opcode_size_defaults_in_64_bit_mode(void **state)
{
    (void)state;
    struct insn i;
    assert_int_equal(decode_hex(64, "50", &i), 1);
    assert_int_equal(i.opsize, 8); /* PUSH defaults to 64 */
    assert_int_equal(decode_hex(64, "66 50", &i), 2);
    assert_int_equal(i.opsize, 2);
    assert_int_equal(decode_hex(64, "41 57", &i), 2);
    assert_int_equal(i.rm, R_R15);
    assert_int_equal(decode_hex(64, "66 EB 00", &i), 3);
    assert_int_equal(i.opsize, 8); /* near branches are forced to 64 */
    assert_int_equal(decode_hex(64, "89 C8", &i), 2);
    assert_int_equal(i.opsize, 4);
    assert_int_equal(i.addrsize, 8);
    assert_int_equal(decode_hex(16, "89 C8", &i), 2);
    assert_int_equal(i.opsize, 2);
    assert_int_equal(i.addrsize, 2);
    assert_int_equal(decode_hex(16, "66 67 89 C8", &i), 4);
    assert_int_equal(i.opsize, 4);
    assert_int_equal(i.addrsize, 4);
}

static void test_lock_on_register_or_unlockable_forms_is_ud(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {64, "F0 01 C0", UD_}, /* register destination */
        {64, "F0 87 C1", UD_},       {64, "F0 0F C7 C8", UD_},
        {64, "F0 90", UD_},                                 /* no ModRM at all */
        {64, "F0 A4", UD_},          {64, "F0 89 00", UD_}, /* MOV */
        {64, "F0 8B 00", UD_},       {64, "F0 39 00", UD_}, /* CMP */
        {64, "F0 3B 00", UD_},       {64, "F0 03 00", UD_}, /* ADD Gv, Ev: memory is the source */
        {64, "F0 80 38 12", UD_},                           /* CMP imm */
        {64, "F0 85 00", UD_},                              /* TEST */
        {64, "F0 F6 00 12", UD_},                           /* TEST imm */
        {64, "F0 F7 20", UD_},                              /* MUL */
        {64, "F0 FF 10", UD_},                              /* CALL */
        {64, "F0 FF 30", UD_},                              /* PUSH */
        {64, "F0 0F A3 00", UD_},                           /* BT */
        {64, "F0 0F BA 20 05", UD_},                        /* BT imm */
        {64, "F0 0F B6 00", UD_},    {64, "F0 0F C7 30", UD_}, /* 0F C7 /6 */
        {32, "F0 8D 00", UD_},       {16, "F0 C7 06 34 12 78 56", UD_},
    };
    run_table(t, ARRAY_SIZE(t));
}

static void test_opcodes_invalid_in_64_bit_mode_are_ud(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {64, "06", UD_},
        {64, "07", UD_},
        {64, "0E", UD_},
        {64, "16", UD_},
        {64, "17", UD_},
        {64, "1E", UD_},
        {64, "1F", UD_},
        {64, "27", UD_},
        {64, "2F", UD_},
        {64, "37", UD_},
        {64, "3F", UD_},
        {64, "60", UD_},
        {64, "61", UD_},
        {64, "62 00", UD_},
        {64, "82 C0 12", UD_},
        {64, "9A 00 00 00 00 08 00", UD_},
        {64, "C4 00", UD_},
        {64, "C5 00", UD_},
        {64, "CE", UD_},
        {64, "D4 0A", UD_},
        {64, "D5 0A", UD_},
        {64, "D6", UD_},
        {64, "EA 00 00 00 00 08 00", UD_},
        /* the same bytes outside 64-bit mode */
        {32, "62 00", 2},
        {32, "C4 00", 2},
        {32, "C5 06", 2},
        {32, "82 C0 12", 3},
        {32, "D4 0A", 2},
        {16, "D5 0A", 2},
        {16, "C4 06 34 12", 4},
        /* memory-only forms with a register operand */
        {32, "62 C0", UD_},
        {32, "C4 C0", UD_},
        {32, "C5 C0", UD_},
        {64, "8D C0", UD_},
        {64, "0F B2 C0", UD_},
        {64, "0F B4 C0", UD_},
        {64, "0F B5 C0", UD_},
    };
    run_table(t, ARRAY_SIZE(t));
}

static void test_missing_feature_and_unassigned_opcodes_are_ud(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {64, "0F B8 C1", UD_}, /* POPCNT needs F3 */
        {32, "0F B8 C1", UD_},       {64, "66 0F B8 C1", UD_},
        {64, "F2 0F B8 C1", UD_},    {64, "F3 F2 0F B8 C1", UD_}, /* F2 last: not POPCNT */
        {64, "0F 38 00 C0", UD_},                                 /* no SSSE3 */
        {64, "0F 3A 0F C0 01", UD_}, {64, "0F 04", UD_},
        {64, "0F 0A", UD_},          {64, "0F FF", 0}, /* UD0 needs its ModRM first */
    };
    run_table(t, ARRAY_SIZE(t));
}

static void test_instructions_longer_than_15_bytes_are_rejected(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", 15},
        {64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", LONG_},
        {32, "66 66 66 66 66 66 66 66 66 66 66 66 66 89 C8", 15},
        {32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 89 C8", LONG_},
        {32, "2E 2E 2E 2E 2E 2E 2E 2E 2E 2E 2E 2E 2E 2E B8 78 56 34 12", LONG_},
        {64, "26 26 26 48 C7 84 24 00 00 00 00 00 00 00 00", 15},
        {64, "26 26 26 26 48 C7 84 24 00 00 00 00 00 00 00 00", LONG_},
        {16, "F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 F3 A4", LONG_},
    };
    run_table(t, ARRAY_SIZE(t));
}

static void test_truncated_input_asks_for_more_bytes(void **state)
{
    (void)state;
    static const struct case_ t[] = {
        {32, "B8 78 56", 0},
        {64, "0F", 0},
        {64, "8B", 0},
        {64, "8B 04", 0},
        {64, "8B 04 25 00 00", 0},
        {64, "66", 0},
        {64, "48", 0},
        {64, "F0 F3 2E", 0},
        {64, "C7 05 00 00 00 00 00", 0},
        {64, "48 B8 00 00 00 00", 0},
        {16, "EA 00 00 00", 0},
        {64, "C8 00 00", 0},
        {16, "8B 06 34", 0},
        {64, "A1 00 00 00 00", 0},
        {64, "0F 84 00 00", 0},
    };
    run_table(t, ARRAY_SIZE(t));
    struct insn i;
    assert_int_equal(decode_insn(&i, (const uint8_t *)"", 0, 64), 0);
    /* Every proper prefix of a valid instruction asks for more. */
    uint8_t buf[16];
    unsigned n = parse_hex("48 C7 84 24 00 01 00 00 78 56 34 12", buf, 16);
    for (unsigned k = 0; k < n; k++)
        assert_int_equal(decode_insn(&i, buf, k, 64), 0);
    assert_int_equal(decode_insn(&i, buf, n, 64), (int)n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_byte_opcodes_without_operands_are_one_byte),
        cmocka_unit_test(test_modrm_displacement_forms_32_and_64),
        cmocka_unit_test(test_every_modrm_and_sib_byte_has_the_right_length),
        cmocka_unit_test(test_immediate_forms_by_operand_size),
        cmocka_unit_test(test_group3_test_has_an_immediate_other_members_do_not),
        cmocka_unit_test(test_moffs_width_follows_address_size),
        cmocka_unit_test(test_far_pointers_are_offset_then_selector),
        cmocka_unit_test(test_two_byte_opcodes),
        cmocka_unit_test(test_mov_cr_and_dr_ignore_mod_and_take_no_displacement),
        cmocka_unit_test(test_prefixes_add_one_byte_each),
        cmocka_unit_test(test_rex_counts_only_right_before_the_opcode),
        cmocka_unit_test(test_decoded_operands_of_address_forms),
        cmocka_unit_test(test_handlers_chosen_by_mode_and_prefix),
        cmocka_unit_test(test_common_forms_get_specialised_handlers),
        cmocka_unit_test(test_opcode_size_defaults_in_64_bit_mode),
        cmocka_unit_test(test_lock_on_register_or_unlockable_forms_is_ud),
        cmocka_unit_test(test_opcodes_invalid_in_64_bit_mode_are_ud),
        cmocka_unit_test(test_missing_feature_and_unassigned_opcodes_are_ud),
        cmocka_unit_test(test_instructions_longer_than_15_bytes_are_rejected),
        cmocka_unit_test(test_truncated_input_asks_for_more_bytes),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
