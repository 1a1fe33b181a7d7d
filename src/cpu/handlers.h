/*
 * handlers.h - every instruction handler the decoder tables name. Each is
 * defined in the file of its instruction family (alu.c, data.c, ...).
 */
#ifndef SMMVM_CPU_HANDLERS_H
#define SMMVM_CPU_HANDLERS_H

#include "cpu/cpu_impl.h"

#define HANDLER(name) void name(struct cpu *c, const struct insn *i);
/* Decode-time specialisations of register forms, one per operand size (alu.c):
 * rr = rm op reg, ri = rm op imm; the result goes to the rm register. */
#define SIZED_REG_HANDLERS(X, n) REG_ONLY_HANDLERS(X, n)                                          \
    ALU_MEM_HANDLERS(X, add, n) ALU_MEM_HANDLERS(X, or, n) ALU_MEM_HANDLERS(X, adc, n)             \
    ALU_MEM_HANDLERS(X, sbb, n) ALU_MEM_HANDLERS(X, and, n) ALU_MEM_HANDLERS(X, sub, n)            \
    ALU_MEM_HANDLERS(X, xor, n) ALU_MEM_HANDLERS(X, cmp, n) FUSED_HANDLERS(X, n)
/* Register-only forms (alu.c): they cannot fault, call a device or leave a block. */
#define REG_ONLY_HANDLERS(X, n)                                                                    \
    X(h_add_rr##n) X(h_or_rr##n) X(h_adc_rr##n) X(h_sbb_rr##n) X(h_and_rr##n) X(h_sub_rr##n)       \
    X(h_xor_rr##n) X(h_cmp_rr##n) X(h_add_ri##n) X(h_or_ri##n) X(h_adc_ri##n) X(h_sbb_ri##n)       \
    X(h_and_ri##n) X(h_sub_ri##n) X(h_xor_ri##n) X(h_cmp_ri##n) X(h_test_rr##n) X(h_test_ri##n)    \
    X(h_inc_r##n) X(h_dec_r##n) X(h_neg_r##n) X(h_not_r##n) X(h_mov_rr##n) X(h_mov_ri##n)          \
    X(h_rol_ri##n) X(h_ror_ri##n) X(h_shl_ri##n) X(h_shr_ri##n) X(h_sar_ri##n) NF_HANDLERS(X, n)  \
    CF_HANDLERS(X, n)
/* The register forms without their flags, for records whose flags are dead (liveness.c). */
#define NF_HANDLERS(X, n)                                                                          \
    X(h_add_rr##n##_nf) X(h_or_rr##n##_nf) X(h_adc_rr##n##_nf) X(h_sbb_rr##n##_nf)               \
    X(h_and_rr##n##_nf) X(h_sub_rr##n##_nf) X(h_xor_rr##n##_nf) X(h_add_ri##n##_nf)              \
    X(h_or_ri##n##_nf) X(h_adc_ri##n##_nf) X(h_sbb_ri##n##_nf) X(h_and_ri##n##_nf)               \
    X(h_sub_ri##n##_nf) X(h_xor_ri##n##_nf) X(h_inc_r##n##_nf) X(h_dec_r##n##_nf)                \
    X(h_neg_r##n##_nf) X(h_rol_ri##n##_nf) X(h_ror_ri##n##_nf) X(h_shl_ri##n##_nf)               \
    X(h_shr_ri##n##_nf) X(h_sar_ri##n##_nf)
/* The register forms producing CF only, for records whose other flags are dead (liveness.c). */
#define CF_HANDLERS(X, n)                                                                          \
    X(h_add_rr##n##_cf) X(h_adc_rr##n##_cf) X(h_sbb_rr##n##_cf) X(h_sub_rr##n##_cf)               \
    X(h_add_ri##n##_cf) X(h_adc_ri##n##_cf) X(h_sbb_ri##n##_cf) X(h_sub_ri##n##_cf)               \
    X(h_neg_r##n##_cf)
/* Register compare or arithmetic + Jcc fused into one record (fused.c). */
#define FUSED_HANDLERS(X, n)                                                                       \
    FUSED_CONDS(FUSED_NAMED, dec, n) FUSED_CONDS(FUSED_NAMED, cmp_rr, n)                          \
    FUSED_CONDS(FUSED_NAMED, cmp_ri, n) FUSED_CONDS(FUSED_NAMED, sub_rr, n)                       \
    FUSED_CONDS(FUSED_NAMED, sub_ri, n) FUSED_CONDS(FUSED_NAMED, test_rr, n)                      \
    FUSED_CONDS(FUSED_NAMED, test_ri, n)
/* One per Jcc condition code: h_dec_jcc32_5 is DEC r32 + JNZ. */
#define FUSED_CONDS(F, kind, n)                                                                    \
    F(kind, n, 0) F(kind, n, 1) F(kind, n, 2) F(kind, n, 3) F(kind, n, 4) F(kind, n, 5)          \
    F(kind, n, 6) F(kind, n, 7) F(kind, n, 8) F(kind, n, 9) F(kind, n, 10) F(kind, n, 11)        \
    F(kind, n, 12) F(kind, n, 13) F(kind, n, 14) F(kind, n, 15)
/* (declarations only: FUSED_HANDLERS is expanded with X = HANDLER) */
#define FUSED_NAMED(kind, n, cc) HANDLER(h_##kind##_jcc##n##_##cc)
/* Memory forms (mem_forms.c): mr = [mem] op= reg, mi = [mem] op= imm, rm = reg op= [mem]. */
#define ALU_MEM_HANDLERS(X, op, n) X(h_##op##_mr##n) X(h_##op##_mi##n) X(h_##op##_rm##n)
/* MOV between a register and memory in 16/32-bit code, per operand and address size. */
#define MOV_LEGACY_HANDLERS(X)                                                                     \
    X(h_mov_load16_a16) X(h_mov_load16_a32) X(h_mov_load32_a16) X(h_mov_load32_a32)               \
    X(h_mov_store16_a16) X(h_mov_store16_a32) X(h_mov_store32_a16) X(h_mov_store32_a32)
#define HANDLER_LIST(X)                                                                            \
    /* alu.c */                                                                                    \
    X(h_alu_EbGb) X(h_alu_EvGv) X(h_alu_GbEb) X(h_alu_GvEv) X(h_alu_ALIb) X(h_alu_AXIz)           \
    X(h_grp1_EbIb) X(h_grp1_EvI) X(h_test_EbGb) X(h_test_EvGv) X(h_test_ALIb)     \
    X(h_test_AXIz) X(h_inc_r) X(h_dec_r) X(h_grp3_Eb) X(h_grp3_Ev) X(h_grp4_Eb) X(h_grp5_Ev)      \
    X(h_imul_GvEv) X(h_imul_GvEvI) X(h_grp2_Eb) X(h_grp2_Ev) X(h_shld)           \
    X(h_shrd) X(h_bt_EvGv) X(h_grp8_EvIb) X(h_bsf) X(h_bsr) X(h_popcnt) X(h_xadd_Eb)               \
    X(h_xadd_Ev) X(h_cmpxchg_Eb) X(h_cmpxchg_Ev) X(h_grp9) X(h_daa) X(h_das) X(h_aaa) X(h_aas)     \
    X(h_aam) X(h_aad) X(h_salc) X(h_shift_reg_imm)                                                \
    SIZED_REG_HANDLERS(X, 16) SIZED_REG_HANDLERS(X, 32) SIZED_REG_HANDLERS(X, 64)                 \
    MOV_LEGACY_HANDLERS(X)                                                                         \
    /* data.c */                                                                                   \
    X(h_mov_EbGb) X(h_mov_EvGv) X(h_mov_GbEb) X(h_mov_GvEv) X(h_mov_EvSw) X(h_mov_SwEw)           \
    X(h_mov_rb_Ib) X(h_mov_r_Iv) X(h_mov_EbIb) X(h_mov_EvIz) X(h_mov_AL_Ob) X(h_mov_AX_Ov)        \
    X(h_mov_Ob_AL) X(h_mov_Ov_AX) X(h_lea) X(h_xchg_EbGb) X(h_xchg_EvGv) X(h_xchg_AX_r)           \
    X(h_nop) X(h_pause) X(h_movzx_b) X(h_movzx_w) X(h_movsx_b) X(h_movsx_w) X(h_movsxd)           \
    X(h_cmov) X(h_setcc) X(h_bswap) X(h_cbw) X(h_cwd) X(h_lahf) X(h_sahf) X(h_xlat)                \
    X(h_push_r) X(h_pop_r) X(h_push_imm) X(h_pop_Ev) X(h_push_sreg) X(h_pop_sreg)      \
    X(h_pusha) X(h_popa) X(h_pushf) X(h_popf) X(h_enter) X(h_leave) X(h_lxs) X(h_clc) X(h_stc)     \
    X(h_cmc) X(h_cld) X(h_std) X(h_cli) X(h_sti) X(h_arpl) X(h_bound)                              \
    X(h_mov_load64_bd) X(h_mov_load32_bd) X(h_mov_store64_bd) X(h_mov_store32_bd)                 \
    X(h_mov_load64_bisd) X(h_mov_load32_bisd) X(h_mov_store64_bisd) X(h_mov_store32_bisd)                              \
    /* branch.c */                                                                                 \
    X(h_jcc_rel) X(h_jmp_rel) X(h_call_rel) X(h_jmp_folded) X(h_call_folded) X(h_ret_folded) X(h_ret) X(h_ret_Iw) \
    X(h_jmp_far) X(h_call_far) X(h_retf) X(h_retf_Iw) X(h_iret) X(h_int3) X(h_int_Ib) X(h_into)    \
    X(h_int1) X(h_loop) X(h_loope) X(h_loopne) X(h_jcxz) X(h_syscall) X(h_sysret)                  \
    /* string.c */                                                                                 \
    X(h_movs) X(h_cmps) X(h_stos) X(h_lods) X(h_scas) X(h_ins) X(h_outs)                           \
    /* system.c */                                                                                 \
    X(h_hlt) X(h_in_Ib) X(h_out_Ib) X(h_in_DX) X(h_out_DX) X(h_cpuid) X(h_rdmsr) X(h_wrmsr)        \
    X(h_rdtsc) X(h_grp6) X(h_grp7) X(h_lar) X(h_lsl) X(h_clts) X(h_invd) X(h_mov_RdCd)            \
    X(h_mov_CdRd) X(h_mov_RdDd) X(h_mov_DdRd) X(h_ud) X(h_rsm) X(h_x87) X(h_fwait)

HANDLER_LIST(HANDLER)
#undef HANDLER

/* Threaded entries (cpu.md §5.3): a record's `run` executes it and jumps
 * straight into the next record's `run`; the last record of a block has
 * t_block_end, which returns to the run loop. */
#define THREADED_LIST(X)                                                                           \
    REG_ONLY_HANDLERS(X, 16) REG_ONLY_HANDLERS(X, 32) REG_ONLY_HANDLERS(X, 64)                    \
    ALU_THREADED(X) MEM_FORMS_THREADED(X) DATA_THREADED(X) MOV64_THREADED_LIST(X) BRANCH_THREADED(X)
/* Handlers that may fault or stop the block, with their own threaded entry
 * (THREADED_MEM) in the file that defines them; the rest go through t_generic. */
#define ALU_THREADED(X)                                                                            \
    X(h_alu_EbGb) X(h_alu_EvGv) X(h_alu_GbEb) X(h_alu_GvEv) X(h_alu_ALIb) X(h_alu_AXIz)           \
    X(h_grp1_EbIb) X(h_grp1_EvI) X(h_test_EbGb) X(h_test_EvGv) X(h_test_ALIb) X(h_test_AXIz)      \
    X(h_inc_r) X(h_dec_r) X(h_grp3_Eb) X(h_grp3_Ev) X(h_grp4_Eb) X(h_grp2_Eb) X(h_grp2_Ev)        \
    X(h_imul_GvEv) X(h_imul_GvEvI) X(h_shift_reg_imm) X(h_bt_EvGv) X(h_grp8_EvIb) X(h_xadd_Ev)   \
    X(h_cmpxchg_Ev)
#define MEM_FORMS_SIZED(X, n)                                                                      \
    ALU_MEM_HANDLERS(X, add, n) ALU_MEM_HANDLERS(X, or, n) ALU_MEM_HANDLERS(X, adc, n)             \
    ALU_MEM_HANDLERS(X, sbb, n) ALU_MEM_HANDLERS(X, and, n) ALU_MEM_HANDLERS(X, sub, n)            \
    ALU_MEM_HANDLERS(X, xor, n) ALU_MEM_HANDLERS(X, cmp, n)
#define MEM_FORMS_THREADED(X)                                                                      \
    MEM_FORMS_SIZED(X, 16) MEM_FORMS_SIZED(X, 32) MEM_FORMS_SIZED(X, 64) MOV_LEGACY_HANDLERS(X)
#define DATA_THREADED(X)                                                                           \
    X(h_mov_EbGb) X(h_mov_EvGv) X(h_mov_GbEb) X(h_mov_GvEv) X(h_mov_rb_Ib) X(h_mov_r_Iv)          \
    X(h_mov_EbIb) X(h_mov_EvIz) X(h_mov_AL_Ob) X(h_mov_AX_Ov) X(h_mov_Ob_AL) X(h_mov_Ov_AX)       \
    X(h_lea) X(h_xchg_EvGv) X(h_movzx_b) X(h_movzx_w) X(h_movsx_b) X(h_movsx_w) X(h_movsxd)       \
    X(h_cmov) X(h_setcc) X(h_bswap) X(h_cbw) X(h_cwd) X(h_push_r) X(h_pop_r) X(h_push_imm)        \
    X(h_pushf) X(h_leave) X(h_clc) X(h_stc) X(h_cld) X(h_std) X(h_nop)
#define MOV64_THREADED_LIST(X)                                                                     \
    X(h_mov_load64_bd) X(h_mov_load32_bd) X(h_mov_store64_bd) X(h_mov_store32_bd)                 \
    X(h_mov_load64_bisd) X(h_mov_load32_bisd) X(h_mov_store64_bisd) X(h_mov_store32_bisd)
#define BRANCH_THREADED(X) X(h_jmp_folded)
#define THREADED_DECL(name) void t_##name(struct cpu *c, const struct insn *i);
THREADED_LIST(THREADED_DECL)
#undef THREADED_DECL
void t_generic(struct cpu *c, const struct insn *i);
void t_block_end(struct cpu *c, const struct insn *i);
/* Folded CALL and RET (branch.c), per code size and operand size: 64, 32, 16. */
void t_call_folded_64(struct cpu *c, const struct insn *i);
void t_call_folded_32(struct cpu *c, const struct insn *i);
void t_call_folded_16(struct cpu *c, const struct insn *i);
void t_ret_folded_64(struct cpu *c, const struct insn *i);
void t_ret_folded_32(struct cpu *c, const struct insn *i);
void t_ret_folded_16(struct cpu *c, const struct insn *i);
/* The threaded entry for record i in the middle of a block of `code_bits` code. */
insn_fn threaded_entry(const struct insn *i, unsigned code_bits);

/* Into the next record, as a tail call: a jump, not a call, at -O2. On
 * x86-64 (System V: the record is the second argument, in RSI) the pointer is
 * advanced in place, so the dispatch is `add $48, %rsi; jmp *8(%rsi)`: GCC
 * 12 otherwise computes i + 1 into another register and moves it back, four
 * instructions where two do, in every record of every block. */
/* SMMVM_PORTABLE_C builds the plain-C forms of these host-specific paths
 * (dispatch here, the loop entries' count in fused.c), to test them. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(_WIN32) && !defined(SMMVM_PORTABLE_C)
#define SMMVM_X86_64_ASM 1
#else
#define SMMVM_X86_64_ASM 0
#endif
#if SMMVM_X86_64_ASM
#define NEXT_RECORD_AFTER(c, i, k)                                                                 \
    do {                                                                                           \
        const struct insn *next_ = (i);                                                            \
        __asm__("add %1, %0" : "+S"(next_) : "i"((k) * sizeof(struct insn)) : "cc");               \
        next_->run((c), next_);                                                                    \
    } while (0)
#else
#define NEXT_RECORD_AFTER(c, i, k) ((i) + (k))->run((c), (i) + (k))
#endif
#define NEXT_RECORD(c, i) NEXT_RECORD_AFTER(c, i, 1)
/* The threaded entry of a handler that may fault (the run loop recovers RIP
 * from cur_insn), call a device or end the block early. THREADED_MEM inlines
 * the handler; THREADED_CALL, for big generic handlers, calls it (flatten
 * would copy every helper they use into the entry). */
#define THREADED_STOPPABLE(name, attributes)                                                       \
    attributes void t_##name(struct cpu *c, const struct insn *i)                                  \
    {                                                                                              \
        c->cur_insn = i;                                                                           \
        name(c, i);                                                                                \
        if (unlikely(c->block_exit))                                                               \
            return;                                                                                \
        NEXT_RECORD(c, i);                                                                         \
    }
#define THREADED_MEM(name) THREADED_STOPPABLE(name, __attribute__((flatten)))
#define THREADED_CALL(name) THREADED_STOPPABLE(name, )
/* A threaded entry with its fast path spelled out: `hit` finds the host
 * address p of the memory operand (false: the plain handler does it all,
 * through t_generic), then `body` does the instruction. A hit never reaches a
 * device or decoded code, so it cannot stop the block. */
#define THREADED_HIT(name, hit, body)                                                              \
    void t_##name(struct cpu *c, const struct insn *i)                                             \
    {                                                                                              \
        uint8_t *p;                                                                                \
        if (unlikely(!(hit))) {                                                                    \
            t_generic(c, i);                                                                       \
            return;                                                                                \
        }                                                                                          \
        body;                                                                                      \
        NEXT_RECORD(c, i);                                                                         \
    }
/* A register-only handler's threaded entry: it needs no RIP and cannot stop the block. */
#define THREADED_REG(name)                                                                         \
    __attribute__((flatten)) void t_##name(struct cpu *c, const struct insn *i)                    \
    {                                                                                              \
        name(c, i);                                                                                \
        NEXT_RECORD(c, i);                                                                         \
    }

#endif
