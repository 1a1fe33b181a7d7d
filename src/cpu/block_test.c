/*
 * block_test.c - the decoded-block run loop (cpu.c, block.c) seen from guest
 * code on a bare CPU: a fault in the middle of a block reports its own RIP and
 * retired count although the loop keeps both in locals; a JMP or CALL folded
 * into its block (the block goes on at the target) behaves exactly like one
 * that ends the block when the target wraps at 16 bits, lies beyond the CS
 * limit, when the budget ends right after it, and when a store rewrites code
 * at the target (cpu.md §5.3, §5.4). A RET folded behind such a CALL (the
 * decoder's return prediction) leaves the block when the popped address is
 * another or beyond CS.limit. A DEC/CMP/SUB/TEST + Jcc pair fused into one
 * record takes every condition as the two instructions run apart do, splits
 * when the budget ends between them, and a #GP from its target reports the
 * Jcc (cpu.md §5.2). Flags a block drops as dead (liveness.c) are exact
 * wherever a run can stop: at a fault, and where a budget ends. An event a
 * device store raises inside a loop that is one block is taken right after
 * the store. Such a loop ending in a fused pair runs again inside the
 * threaded chain, and stops exactly where a budget ends or a late run faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpu/bare_cpu_test.h"
#include "cpu/handlers.h"

static struct bare *make32(void)
{
    struct bare *b = bare_create(1u << 20);
    bare_prot32(b, 0, 0, 0);
    return b;
}

static void start_at(struct bare *b, uint64_t rip)
{
    b->cpu.rip = rip;
    b->cpu.state = CPU_RUNNING;
}

static void test_fault_mid_block_reports_its_rip_and_count(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    /* inc eax; inc eax; mov ecx, [0x10000] (beyond DS.limit: #GP); inc eax; hlt */
    bare_code(b, BARE_CODE, "40 40 8B 0D 00 00 01 00 40 F4");
    c->seg[SEG_DS].limit = 0xFFFF;
    seg_refresh(c);
    start_at(b, BARE_CODE);
    uint64_t before = c->icount;
    cpu_run(c, 100);
    assert_int_equal(bare_vector(b), EXC_GP);
    assert_int_equal(c->gpr[R_AX], 2);
    assert_int_equal(bare_peek32(b, c->gpr[R_SP] + 4), BARE_CODE + 2); /* faulting EIP */
    /* two INCs retired before the fault, then the handler's HLT */
    assert_int_equal(c->icount - before, 3);
    bare_free(b);
}

/* SUB's flags are dead (ADD overwrites them) and it runs without them
 * (liveness.c); ADD's are live because the MOV after it may fault, and the
 * #GP frame holds them. */
static void test_flags_are_exact_at_a_fault_after_dead_flags(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    /* sub eax, ebx; add ecx, edx; mov esi, [0x10000] (beyond DS.limit: #GP);
     * xor esi, esi (would make ADD's flags dead if the MOV could not fault); hlt */
    bare_code(b, BARE_CODE, "29 D8 01 D1 8B 35 00 00 01 00 31 F6 F4");
    c->seg[SEG_DS].limit = 0xFFFF;
    seg_refresh(c);
    c->gpr[R_AX] = 5;
    c->gpr[R_BX] = 7;
    c->gpr[R_CX] = 0x7FFFFFFF;
    c->gpr[R_DX] = 1;
    start_at(b, BARE_CODE);
    cpu_run(c, 100);
    assert_int_equal(bare_vector(b), EXC_GP);
    assert_int_equal(c->gpr[R_AX], 0xFFFFFFFE); /* the result without the flags */
    assert_int_equal(c->gpr[R_CX], 0x80000000);
    assert_int_equal(bare_peek32(b, c->gpr[R_SP] + 4), BARE_CODE + 4);
    /* ADD 0x7FFFFFFF + 1: OF SF AF PF */
    assert_int_equal(bare_peek32(b, c->gpr[R_SP] + 12) & FLAGS_ARITH,
                     FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF);
    bare_free(b);
}

/* A budget that ends inside a block sees every instruction's own flags,
 * although the block run whole drops the dead ones. */
static void test_budget_ending_inside_a_block_sees_dead_flags(void **state)
{
    (void)state;
    static const uint32_t after[3] = {
        FLAG_CF | FLAG_SF | FLAG_AF,           /* sub: 5 - 7 = 0xFFFFFFFE */
        FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF, /* add: 0x7FFFFFFF + 1 */
        FLAG_ZF | FLAG_PF,                     /* xor esi, esi */
    };
    for (unsigned whole = 0; whole < 2; whole++) {
        struct bare *b = make32();
        struct cpu *c = &b->cpu;
        /* sub eax, ebx; add ecx, edx; xor esi, esi; hlt */
        bare_code(b, BARE_CODE, "29 D8 01 D1 31 F6 F4");
        c->gpr[R_AX] = 5;
        c->gpr[R_BX] = 7;
        c->gpr[R_CX] = 0x7FFFFFFF;
        c->gpr[R_DX] = 1;
        c->gpr[R_SI] = 9;
        start_at(b, BARE_CODE);
        if (whole) { /* decode and run the block whole first, then again in steps */
            cpu_run(c, 100);
            assert_int_equal(cpu_get_rflags(c) & FLAGS_ARITH, after[2]);
            c->gpr[R_AX] = 5;
            c->gpr[R_CX] = 0x7FFFFFFF;
            start_at(b, BARE_CODE);
        }
        for (unsigned k = 0; k < 3; k++) {
            assert_int_equal(cpu_run(c, 1), 1);
            assert_int_equal(c->rip, BARE_CODE + 2 * (k + 1));
            assert_int_equal(cpu_get_rflags(c) & FLAGS_ARITH, after[k]);
        }
        assert_int_equal(c->gpr[R_AX], 0xFFFFFFFE);
        assert_int_equal(c->gpr[R_SI], 0);
        bare_free(b);
    }
}

/* A device whose register raises an NMI on the CPU when written. */
static uint64_t nmi_dev_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)size;
    return 0;
}

static void nmi_dev_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    (void)offset;
    (void)value;
    (void)size;
    ((struct cpu *)opaque)->nmi_pending = true;
}

/* Maps a page at `at` whose register raises an NMI on c when written. */
static void add_nmi_device(struct bare *b, uint64_t at)
{
    static const struct mem_ops ops = {"nmi-dev", nmi_dev_read, nmi_dev_write, 4, 4};
    mem_region_add(b->system, mem_region_mmio(&b->sys, "nmi-dev", 0x1000, &ops, &b->cpu), at, 1);
}

/* A store that reaches a device ends its block (tlb.c): the event it raises
 * is taken at the next instruction, although the loop around it is one block
 * that the run loop runs again without looking at events (cpu.c). */
static void test_event_raised_by_a_device_store_in_a_one_block_loop(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    add_nmi_device(b, 0xD0000000);
    /* l: mov [0xD0000000], eax; inc ecx; jmp l */
    bare_code(b, BARE_CODE, "A3 00 00 00 D0 41 EB F8");
    c->gpr[R_CX] = 0;
    start_at(b, BARE_CODE);
    cpu_run(c, 1000);
    assert_int_equal(bare_vector(b), EXC_NMI);
    assert_int_equal(c->gpr[R_CX], 0);
    assert_int_equal(bare_peek32(b, c->gpr[R_SP]), BARE_CODE + 5); /* after the store */
    bare_free(b);
}

static void test_folded_jmp_beyond_cs_limit_faults_at_the_jmp(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    /* nop; jmp +1; hlt (skipped); nop; hlt: the block is decoded with the JMP folded */
    bare_code(b, BARE_CODE, "90 EB 01 F4 90 F4");
    start_at(b, BARE_CODE);
    uint64_t before = c->icount;
    cpu_run(c, 100);
    assert_int_equal(c->state, CPU_HALTED);
    assert_int_equal(c->rip, BARE_CODE + 6);
    assert_int_equal(c->icount - before, 4);
    /* The same block again with the target beyond CS.limit: #GP at the JMP. */
    c->seg[SEG_CS].limit = BARE_CODE + 3;
    start_at(b, BARE_CODE);
    cpu_run(c, 100);
    assert_int_equal(bare_vector(b), EXC_GP);
    assert_int_equal(bare_peek32(b, c->gpr[R_SP] + 4), BARE_CODE + 1);
    bare_free(b);
}

static void test_folded_jmp_that_wraps_ip_leaves_the_block(void **state)
{
    (void)state;
    struct bare *b = bare_create(1u << 20);
    struct cpu *c = &b->cpu;
    bare_real_mode(b);
    /* CS base 0x10010: IP 0xFFF0 is linear 0x20000. JMP +0x10 there goes to IP
     * 0x0002 (linear 0x10012), not to linear 0x20012 in the same page, where
     * the decoder continued the block. */
    c->seg[SEG_CS] = (struct segment){0x1001, 0x009B, 0xFFFFFFFF, 0x10010}; /* "unreal" CS */
    bare_code(b, 0x20000, "EB 10");
    bare_code(b, 0x20012, "B8 78 56 F4"); /* mov ax, 0x5678; hlt */
    bare_code(b, 0x10012, "B8 34 12 F4"); /* mov ax, 0x1234; hlt */
    start_at(b, 0xFFF0);
    uint64_t before = c->icount;
    cpu_run(c, 100);
    assert_int_equal(c->state, CPU_HALTED);
    assert_int_equal(c->gpr[R_AX] & 0xFFFF, 0x1234);
    assert_int_equal(c->rip, 0x0006);
    assert_int_equal(c->icount - before, 3);
    bare_free(b);
}

static void test_budget_ending_after_a_folded_call_resumes_at_the_target(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    /* nop; call +2; hlt (return address); inc eax; inc eax; ret */
    bare_code(b, BARE_CODE, "90 E8 02 00 00 00 F4 90 40 40 C3");
    start_at(b, BARE_CODE);
    uint64_t sp = c->gpr[R_SP];
    assert_int_equal(cpu_run(c, 2), 2);
    assert_int_equal(c->rip, BARE_CODE + 8);
    assert_int_equal(c->gpr[R_SP], sp - 4);
    assert_int_equal(bare_peek32(b, sp - 4), BARE_CODE + 6);
    cpu_run(c, 100);
    assert_int_equal(c->state, CPU_HALTED);
    assert_int_equal(c->gpr[R_AX], 2);
    assert_int_equal(c->rip, BARE_CODE + 7);
    assert_int_equal(c->gpr[R_SP], sp);
    bare_free(b);
}

static void test_store_into_code_after_a_folded_jmp_is_seen(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    /* jmp +0x0E; at +0x10: mov byte [BARE_CODE + 0x17], 0x48 (DEC EAX over
     * the INC EAX right after it); inc eax; hlt. The store hits the block's
     * second byte range, so the rewritten byte must run. */
    bare_code(b, BARE_CODE, "EB 0E");
    bare_code(b, BARE_CODE + 0x10, "C6 05 17 00 02 00 48 40 F4");
    start_at(b, BARE_CODE);
    c->gpr[R_AX] = 0;
    uint64_t before = c->icount;
    cpu_run(c, 100);
    assert_int_equal(c->state, CPU_HALTED);
    assert_int_equal(c->gpr[R_AX], 0xFFFFFFFFu);
    assert_int_equal(c->rip, BARE_CODE + 0x19);
    assert_int_equal(c->icount - before, 4);
    bare_free(b);
}

static struct bare *make64(void)
{
    struct bare *b = bare_create(1u << 20);
    bare_poke64(b, 0x10000, 0x11000 | 3);
    bare_poke64(b, 0x11000, 0x0 | 0x83); /* P, W, PS: 1 GiB identity page */
    bare_long64(b, 0x10000, true, true);
    return b;
}

static void test_folded_ret_continues_behind_the_call(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    /* call +2; inc ecx; hlt; inc eax; ret: one block runs CALL, INC, RET, INC, HLT */
    bare_code(b, BARE_CODE, "E8 02 00 00 00 41 F4 40 C3");
    start_at(b, BARE_CODE);
    uint64_t sp = c->gpr[R_SP], before = c->icount;
    c->gpr[R_AX] = c->gpr[R_CX] = 0;
    cpu_run(c, 100);
    assert_int_equal(c->state, CPU_HALTED);
    assert_int_equal(c->gpr[R_AX], 1);
    assert_int_equal(c->gpr[R_CX], 1);
    assert_int_equal(c->gpr[R_SP], sp);
    assert_int_equal(c->rip, BARE_CODE + 7);
    assert_int_equal(c->icount - before, 5);
    /* The budget ending right after the RET resumes behind the CALL. */
    start_at(b, BARE_CODE);
    assert_int_equal(cpu_run(c, 3), 3);
    assert_int_equal(c->rip, BARE_CODE + 5);
    assert_int_equal(c->gpr[R_SP], sp);
    bare_free(b);
}

static void test_folded_ret_to_another_address_leaves_the_block(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    /* call +6; inc ecx; hlt; inc edx; hlt; (f:) add dword [esp], 2; ret:
     * the RET goes to the INC EDX, not where the decoder continued. */
    bare_code(b, BARE_CODE, "E8 04 00 00 00 41 F4 42 F4 83 04 24 02 C3");
    start_at(b, BARE_CODE);
    uint64_t sp = c->gpr[R_SP], before = c->icount;
    c->gpr[R_CX] = c->gpr[R_DX] = 0;
    cpu_run(c, 100);
    assert_int_equal(c->state, CPU_HALTED);
    assert_int_equal(c->gpr[R_CX], 0);
    assert_int_equal(c->gpr[R_DX], 1);
    assert_int_equal(c->rip, BARE_CODE + 9);
    assert_int_equal(c->gpr[R_SP], sp);
    assert_int_equal(c->icount - before, 5);
    bare_free(b);
}

static void test_folded_ret_beyond_cs_limit_faults_at_the_ret(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    /* (f:) ret; call f; hlt, entered at the CALL: decoded with the RET folded,
     * then run with CS.limit below the return address: #GP at the RET, with
     * ESP still pointing at the return address. */
    bare_code(b, BARE_CODE, "C3 E8 FA FF FF FF F4");
    start_at(b, BARE_CODE + 1);
    cpu_run(c, 100);
    assert_int_equal(c->state, CPU_HALTED);
    assert_int_equal(c->rip, BARE_CODE + 7);
    c->seg[SEG_CS].limit = BARE_CODE + 5;
    uint64_t sp = c->gpr[R_SP];
    start_at(b, BARE_CODE + 1);
    cpu_run(c, 100);
    assert_int_equal(bare_vector(b), EXC_GP);
    assert_int_equal(bare_peek32(b, c->gpr[R_SP] + 4), BARE_CODE);      /* faulting EIP */
    assert_int_equal(bare_peek32(b, c->gpr[R_SP] + 16), BARE_CODE + 6); /* not popped */
    assert_int_equal(c->gpr[R_SP] + 16, sp - 4);
    bare_free(b);
}

static void test_folded_call_and_ret_in_64_bit_mode(void **state)
{
    (void)state;
    struct bare *b = make64();
    struct cpu *c = &b->cpu;
    bare_code(b, BARE_CODE,
              "E8 0B 00 00 00"       /* 00: call f */
              " FF C1"               /* 05: inc ecx */
              " E8 07 00 00 00"      /* 07: call g */
              " F4"                  /* 0C: hlt (skipped: g returns one byte on) */
              " FF C2 F4"            /* 0D: inc edx; hlt */
              " FF C0 C3"            /* 10: f: inc eax; ret */
              " 48 83 04 24 01 C3"); /* 13: g: add qword [rsp], 1; ret */
    start_at(b, BARE_CODE);
    c->gpr[R_AX] = c->gpr[R_CX] = c->gpr[R_DX] = 0;
    uint64_t sp = c->gpr[R_SP], before = c->icount;
    cpu_run(c, 100);
    assert_int_equal(c->state, CPU_HALTED);
    assert_int_equal(c->gpr[R_AX], 1);
    assert_int_equal(c->gpr[R_CX], 1);
    assert_int_equal(c->gpr[R_DX], 1);
    assert_int_equal(c->rip, BARE_CODE + 0x10);
    assert_int_equal(c->gpr[R_SP], sp);
    assert_int_equal(bare_peek64(b, sp - 8), BARE_CODE + 0x0D); /* g's adjusted return address */
    assert_int_equal(c->icount - before, 9);
    bare_free(b);
}

/* Runs "<first>; j<cc> +2; inc edx; hlt" once whole and once split after the
 * first instruction (cpu_run(c, 1) runs it alone); both must agree. */
static void check_pair(struct bare *b, uint64_t at, const char *first, unsigned cc, uint64_t ax,
                       uint64_t bx)
{
    struct cpu *c = &b->cpu;
    char hex[64];
    snprintf(hex, sizeof(hex), "%s %02X 02 FF C2 F4", first, 0x70 + cc);
    bare_code(b, at, hex);
    uint64_t dx[2], fl[2];
    for (unsigned split = 0; split < 2; split++) {
        c->gpr[R_AX] = ax;
        c->gpr[R_BX] = bx;
        c->gpr[R_DX] = 0;
        cpu_set_rflags(c, ((ax ^ bx) & 1) ? FLAG_CF : 0); /* DEC keeps CF: vary it */
        start_at(b, at);
        uint64_t before = c->icount;
        if (split)
            assert_int_equal(cpu_run(c, 1), 1);
        cpu_run(c, 100);
        assert_int_equal(c->state, CPU_HALTED);
        dx[split] = c->gpr[R_DX];
        fl[split] = cpu_get_rflags(c);
        assert_int_equal(c->icount - before, 3 + dx[split]);
    }
    if (dx[0] != dx[1] || fl[0] != fl[1])
        fail_msg("%s; j%x with %llx, %llx: fused %llu/%llx, apart %llu/%llx", first, cc,
                 (unsigned long long)ax, (unsigned long long)bx, (unsigned long long)dx[0],
                 (unsigned long long)fl[0], (unsigned long long)dx[1], (unsigned long long)fl[1]);
}

static const uint64_t pair_values[] = {
    0,
    1,
    2,
    0x7F,
    0x80,
    0xFF,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
    0x7FFFFFFFFFFFFFFFull,
    0x8000000000000000ull,
    0xFFFFFFFFFFFFFFFFull,
    0x123456789ull,
};

static void check_pairs(struct bare *b, const char *const *firsts, unsigned n_firsts)
{
    uint64_t at = BARE_CODE + 0x100;
    for (unsigned f = 0; f < n_firsts; f++)
        for (unsigned cc = 0; cc < 16; cc++)
            for (unsigned x = 0; x < ARRAY_SIZE(pair_values); x++)
                for (unsigned y = 0; y < ARRAY_SIZE(pair_values); y += 3) {
                    check_pair(b, at, firsts[f], cc, pair_values[x], pair_values[y]);
                    at += 0x20;
                    if (at >= BARE_CODE + 0x8000) /* rewrites drop the old blocks */
                        at = BARE_CODE + 0x100;
                }
}

static void test_fused_pairs_take_every_condition_as_apart_32(void **state)
{
    (void)state;
    struct bare *b = make32();
    /* dec eax, cmp eax,ebx, cmp eax,imm8, sub eax,ebx, sub eax,imm32, test eax,ebx,
     * test eax,imm32, and each at 16 bits */
    static const char *const firsts[] = {
        "48",
        "39 D8",
        "83 F8 80",
        "29 D8",
        "2D 00 00 00 80",
        "85 D8",
        "A9 FF 00 00 80",
        "66 48",
        "66 39 D8",
        "66 83 F8 01",
        "66 29 D8",
        "66 2D 00 80",
        "66 85 D8",
        "66 A9 01 80",
        "FF C8",
        "66 81 FB FF 7F",
    };
    check_pairs(b, firsts, ARRAY_SIZE(firsts));
    bare_free(b);
}

static void test_fused_pairs_take_every_condition_as_apart_64(void **state)
{
    (void)state;
    struct bare *b = make64();
    static const char *const firsts[] = {
        "48 FF C8",          "48 39 D8", "48 83 F8 FF", "48 29 D8", "48 2D 00 00 00 80", "48 85 D8",
        "48 A9 FF 00 00 80", "FF C8",    "39 D8",       "66 FF C8", "66 39 D8",          "48 FF CB",
    };
    check_pairs(b, firsts, ARRAY_SIZE(firsts));
    bare_free(b);
}

static void test_budget_ending_inside_a_fused_pair_splits_it(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    /* nop; nop; dec ecx; jnz -3 (to the DEC); hlt: with a budget of 3 the loop
     * must stop after the DEC, at the JNZ. */
    bare_code(b, BARE_CODE, "90 90 49 75 FD F4");
    start_at(b, BARE_CODE);
    c->gpr[R_CX] = 3;
    assert_int_equal(cpu_run(c, 3), 3);
    assert_int_equal(c->rip, BARE_CODE + 3);
    assert_int_equal(c->gpr[R_CX], 2);
    assert_int_equal(cpu_run(c, 1), 1); /* the JNZ alone */
    assert_int_equal(c->rip, BARE_CODE + 2);
    assert_int_equal(cpu_run(c, 1), 1); /* the DEC alone */
    assert_int_equal(c->rip, BARE_CODE + 3);
    assert_int_equal(c->gpr[R_CX], 1);
    uint64_t before = c->icount;
    cpu_run(c, 100);
    assert_int_equal(c->state, CPU_HALTED);
    assert_int_equal(c->gpr[R_CX], 0);
    assert_int_equal(c->rip, BARE_CODE + 6);
    assert_int_equal(c->icount - before, 4); /* JNZ, DEC, JNZ, HLT */
    bare_free(b);
}

static void test_fused_jcc_beyond_cs_limit_faults_at_the_jcc(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    /* cmp eax, ebx; je +0x10; hlt: taken, to beyond CS.limit: #GP at the JE
     * with the CMP retired. */
    bare_code(b, BARE_CODE, "39 D8 74 10 F4");
    c->seg[SEG_CS].limit = BARE_CODE + 0x10;
    start_at(b, BARE_CODE);
    c->gpr[R_AX] = c->gpr[R_BX] = 5;
    uint64_t before = c->icount;
    cpu_run(c, 100);
    assert_int_equal(bare_vector(b), EXC_GP);
    assert_int_equal(bare_peek32(b, c->gpr[R_SP] + 4), BARE_CODE + 2);
    assert_true(bare_peek32(b, c->gpr[R_SP] + 12) & FLAG_ZF); /* CMP's flags */
    assert_int_equal(c->icount - before, 2);                  /* CMP, then the handler's HLT */
    bare_free(b);
}

/* A loop that is one block and ends in a fused pair runs again inside the
 * threaded chain (fused.c). Run in quanta of every size from 1 to 97, it
 * must stop where a run one instruction at a time stands after the same
 * count: RIP, icount, registers and flags (the ADD's CF, which ADC reads and
 * DEC preserves, crosses every iteration). 700 iterations also pass the
 * chain's cap of runs (cpu.c). Mode 0: real mode, 1: 32-bit, 2: 64-bit. */
static struct bare *make_mode(unsigned mode)
{
    if (mode == 2)
        return make64();
    struct bare *b = make32();
    if (mode == 0)
        bare_real_mode(b);
    return b;
}

static void test_one_block_loop_stops_exactly_in_every_quantum(void **state)
{
    (void)state;
    /* l: add eax, ebx; adc edx, ecx; xor esi, eax; dec ebp; jnz l; hlt */
    static const char code[] = "01 D8 11 CA 31 C6 FF CD 75 F6 F4";
    for (unsigned mode = 0; mode < 3; mode++) {
        struct bare *run = make_mode(mode), *ref = make_mode(mode);
        struct bare *both[2] = {run, ref};
        for (unsigned k = 0; k < 2; k++) {
            struct cpu *c = &both[k]->cpu;
            bare_code(both[k], BARE_CODE, code);
            c->rip = mode == 0 ? 0 : BARE_CODE;
            c->state = CPU_RUNNING;
            c->gpr[R_AX] = 0x9E3779B9;
            c->gpr[R_BX] = 0xC6EF3720;
            c->gpr[R_CX] = 0x7F4A7C15;
            c->gpr[R_DX] = 1;
            c->gpr[R_SI] = 0;
            c->gpr[R_BP] = 700;
        }
        uint32_t seed = 12345 + mode;
        uint64_t step = 1;
        while (run->cpu.state == CPU_RUNNING) {
            uint64_t got = cpu_run(&run->cpu, step), want = 0;
            while (want < step && ref->cpu.state == CPU_RUNNING)
                want += cpu_run(&ref->cpu, 1);
            assert_int_equal(got, want);
            assert_int_equal(run->cpu.rip, ref->cpu.rip);
            assert_int_equal(run->cpu.icount, ref->cpu.icount);
            for (unsigned r = 0; r < 16; r++)
                assert_int_equal(run->cpu.gpr[r], ref->cpu.gpr[r]);
            assert_int_equal(cpu_get_rflags(&run->cpu), cpu_get_rflags(&ref->cpu));
            seed = seed * 1103515245u + 12345u;
            step = step < 97 ? step + 1 : 1 + (seed >> 16) % 97;
        }
        assert_int_equal(run->cpu.state, CPU_HALTED);
        assert_int_equal(ref->cpu.state, CPU_HALTED);
        assert_int_equal(run->cpu.gpr[R_BP] & 0xFFFF, 0);
        bare_free(run);
        bare_free(ref);
    }
}

/* A fault in a late iteration of such a loop reports that iteration's RIP
 * and retired count: the loop entry keeps the block's icount current. */
static void test_fault_in_a_late_run_of_a_one_block_loop(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    /* l: mov [ebx], eax; add ebx, 4; dec ecx; jnz l; hlt */
    bare_code(b, BARE_CODE, "89 03 83 C3 04 49 75 F8 F4");
    c->seg[SEG_DS].limit = 0xFFFF;
    seg_refresh(c);
    c->gpr[R_BX] = 0x10000 - 4 * 300; /* the 301st store is beyond DS.limit: #GP */
    c->gpr[R_CX] = 1000;
    start_at(b, BARE_CODE);
    uint64_t before = c->icount;
    cpu_run(c, 100000);
    assert_int_equal(bare_vector(b), EXC_GP);
    assert_int_equal(bare_peek32(b, c->gpr[R_SP] + 4), BARE_CODE); /* the MOV */
    assert_int_equal(c->gpr[R_CX], 700);
    assert_int_equal(c->gpr[R_BX], 0x10000);
    assert_int_equal(c->icount - before, 300 * 4 + 1); /* 300 runs, the handler's HLT */
    bare_free(b);
}

/* A device access in a late run of such a loop ends the chain there (a
 * block exit, not a fault): the event it raises is taken after that store,
 * with the loop's retired count exact. */
static void test_device_store_in_a_late_run_of_a_one_block_loop(void **state)
{
    (void)state;
    struct bare *b = make32();
    struct cpu *c = &b->cpu;
    add_nmi_device(b, 0x100000); /* right above RAM: the 301st store reaches it */
    /* l: mov [ebx], eax; add ebx, 4; dec ecx; jnz l; hlt */
    bare_code(b, BARE_CODE, "89 03 83 C3 04 49 75 F8 F4");
    c->gpr[R_BX] = 0x100000 - 4 * 300;
    c->gpr[R_CX] = 1000;
    start_at(b, BARE_CODE);
    uint64_t before = c->icount;
    cpu_run(c, 100000);
    assert_int_equal(bare_vector(b), EXC_NMI);
    assert_int_equal(bare_peek32(b, c->gpr[R_SP]), BARE_CODE + 2); /* after the store */
    assert_int_equal(c->gpr[R_CX], 700);
    assert_int_equal(c->gpr[R_BX], 0x100000);
    assert_int_equal(c->icount - before, 300 * 4 + 1 + 1); /* 300 runs, the store, HLT */
    bare_free(b);
}

/* Pairs of register-only records share one threaded entry (alu.c): only
 * flagless or CF-only forms of one size pair, and both kind lists agree. */
static void test_superinstruction_pairs(void **state)
{
    (void)state;
    assert_true(pair_kinds_agree());
    assert_non_null(pair_entry(h_xor_rr64_nf, h_sub_rr64_nf));
    assert_non_null(pair_entry(h_add_rr32_cf, h_adc_rr32_nf));
    assert_non_null(pair_entry(h_mov_ri64, h_shl_ri64_nf));
    assert_null(pair_entry(h_xor_rr32_nf, h_sub_rr64_nf)); /* sizes differ */
    assert_null(pair_entry(h_add_rr64, h_sub_rr64_nf));    /* flags live */
    assert_null(pair_entry(h_xor_rr16_nf, h_sub_rr16_nf)); /* 16-bit forms do not pair */
    assert_null(pair_entry(h_mov_EvGv, h_sub_rr64_nf));    /* may fault */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_mid_block_reports_its_rip_and_count),
        cmocka_unit_test(test_flags_are_exact_at_a_fault_after_dead_flags),
        cmocka_unit_test(test_budget_ending_inside_a_block_sees_dead_flags),
        cmocka_unit_test(test_event_raised_by_a_device_store_in_a_one_block_loop),
        cmocka_unit_test(test_folded_jmp_beyond_cs_limit_faults_at_the_jmp),
        cmocka_unit_test(test_folded_jmp_that_wraps_ip_leaves_the_block),
        cmocka_unit_test(test_budget_ending_after_a_folded_call_resumes_at_the_target),
        cmocka_unit_test(test_store_into_code_after_a_folded_jmp_is_seen),
        cmocka_unit_test(test_folded_ret_continues_behind_the_call),
        cmocka_unit_test(test_folded_ret_to_another_address_leaves_the_block),
        cmocka_unit_test(test_folded_ret_beyond_cs_limit_faults_at_the_ret),
        cmocka_unit_test(test_folded_call_and_ret_in_64_bit_mode),
        cmocka_unit_test(test_fused_pairs_take_every_condition_as_apart_32),
        cmocka_unit_test(test_fused_pairs_take_every_condition_as_apart_64),
        cmocka_unit_test(test_budget_ending_inside_a_fused_pair_splits_it),
        cmocka_unit_test(test_fused_jcc_beyond_cs_limit_faults_at_the_jcc),
        cmocka_unit_test(test_one_block_loop_stops_exactly_in_every_quantum),
        cmocka_unit_test(test_fault_in_a_late_run_of_a_one_block_loop),
        cmocka_unit_test(test_device_store_in_a_late_run_of_a_one_block_loop),
        cmocka_unit_test(test_superinstruction_pairs),
    };
    return cmocka_run_group_tests_name("block", tests, NULL, NULL);
}
