/*
 * block_test.c - the decoded-block run loop (cpu.c, block.c) seen from guest
 * code on a bare CPU: a fault in the middle of a block reports its own RIP and
 * retired count although the loop keeps both in locals; a JMP or CALL folded
 * into its block (the block goes on at the target) behaves exactly like one
 * that ends the block when the target wraps at 16 bits, lies beyond the CS
 * limit, when the budget ends right after it, and when a store rewrites code
 * at the target (cpu.md §5.3, §5.4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpu/bare_cpu_test.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_mid_block_reports_its_rip_and_count),
        cmocka_unit_test(test_folded_jmp_beyond_cs_limit_faults_at_the_jmp),
        cmocka_unit_test(test_folded_jmp_that_wraps_ip_leaves_the_block),
        cmocka_unit_test(test_budget_ending_after_a_folded_call_resumes_at_the_target),
        cmocka_unit_test(test_store_into_code_after_a_folded_jmp_is_seen),
    };
    return cmocka_run_group_tests_name("block", tests, NULL, NULL);
}
