/*
 * decode.c - x86 instruction decoder: prefixes, REX, opcode maps, ModRM/SIB,
 * displacement and immediates, into a struct insn (cpu.md §5.2).
 *
 * Decoding is a pure function of the bytes and the code size (16/32/64), so
 * a block decoded once serves every privilege level and both SMM and normal
 * views. Feature gates are fixed for the machine: without BMI1/ABM, F3 0F BC
 * and F3 0F BD decode as BSF/BSR (REP ignored), as cpu.md §2.3 requires.
 */
#include "cpu/handlers.h"

/* Operand encodings of one opcode. */
enum {
    F_MODRM = 0x0001,
    F_IB = 0x0002,    /* imm8 */
    F_IW = 0x0004,    /* imm16 */
    F_IZ = 0x0008,    /* imm16/32 by operand size (imm32 sign-extended for 64-bit) */
    F_IV = 0x0010,    /* imm16/32/64 by operand size (MOV r, imm) */
    F_AP = 0x0020,    /* far pointer: offset16/32 then selector */
    F_OB = 0x0040,    /* moffs: offset by address size */
    F_D64 = 0x0080,   /* default operand size 64 in long mode (66 gives 16) */
    F_F64 = 0x0100,   /* operand size forced to 64 in long mode */
    F_I64 = 0x0200,   /* invalid in 64-bit mode */
    F_GROUP = 0x0400, /* handler chosen by ModRM.reg */
    F_IWIB = 0x0800,  /* ENTER: imm16, imm8 */
    F_BYTE = 0x1000,  /* byte operation (immediate is one byte when F_IZ-like) */
    F_O64 = 0x2000,   /* valid only in 64-bit mode (MOVSXD); else the alt handler */
    F_MEMONLY = 0x4000, /* register form is #UD */
};

struct opdesc {
    insn_fn fn;
    const insn_fn *group;
    uint16_t flags;
};

#define E(f, fl) { f, NULL, fl }
#define G(g, fl) { NULL, g, (fl) | F_GROUP | F_MODRM }
#define ALU_ROW(b)                                                                                 \
    [b + 0] = E(h_alu_EbGb, F_MODRM), [b + 1] = E(h_alu_EvGv, F_MODRM),                            \
    [b + 2] = E(h_alu_GbEb, F_MODRM), [b + 3] = E(h_alu_GvEv, F_MODRM),                            \
    [b + 4] = E(h_alu_ALIb, F_IB), [b + 5] = E(h_alu_AXIz, F_IZ)

static const insn_fn grp_80[8] = { h_grp1_EbIb, h_grp1_EbIb, h_grp1_EbIb, h_grp1_EbIb,
                                   h_grp1_EbIb, h_grp1_EbIb, h_grp1_EbIb, h_grp1_EbIb };
static const insn_fn grp_81[8] = { h_grp1_EvI, h_grp1_EvI, h_grp1_EvI, h_grp1_EvI,
                                   h_grp1_EvI, h_grp1_EvI, h_grp1_EvI, h_grp1_EvI };
static const insn_fn grp_83[8] = { h_grp1_EvI, h_grp1_EvI, h_grp1_EvI, h_grp1_EvI,
                                   h_grp1_EvI, h_grp1_EvI, h_grp1_EvI, h_grp1_EvI };
static const insn_fn grp_8f[8] = { h_pop_Ev, h_ud, h_ud, h_ud, h_ud, h_ud, h_ud, h_ud };
static const insn_fn grp_c6[8] = { h_mov_EbIb, h_ud, h_ud, h_ud, h_ud, h_ud, h_ud, h_ud };
static const insn_fn grp_c7[8] = { h_mov_EvIz, h_ud, h_ud, h_ud, h_ud, h_ud, h_ud, h_ud };

static const struct opdesc map1[256] = {
    ALU_ROW(0x00), ALU_ROW(0x08), ALU_ROW(0x10), ALU_ROW(0x18),
    ALU_ROW(0x20), ALU_ROW(0x28), ALU_ROW(0x30), ALU_ROW(0x38),
    [0x06] = E(h_push_sreg, F_I64), [0x07] = E(h_pop_sreg, F_I64),
    [0x0E] = E(h_push_sreg, F_I64), [0x16] = E(h_push_sreg, F_I64),
    [0x17] = E(h_pop_sreg, F_I64), [0x1E] = E(h_push_sreg, F_I64),
    [0x1F] = E(h_pop_sreg, F_I64),
    [0x27] = E(h_daa, F_I64), [0x2F] = E(h_das, F_I64),
    [0x37] = E(h_aaa, F_I64), [0x3F] = E(h_aas, F_I64),
    [0x40] = E(h_inc_r, F_I64), [0x41] = E(h_inc_r, F_I64), [0x42] = E(h_inc_r, F_I64),
    [0x43] = E(h_inc_r, F_I64), [0x44] = E(h_inc_r, F_I64), [0x45] = E(h_inc_r, F_I64),
    [0x46] = E(h_inc_r, F_I64), [0x47] = E(h_inc_r, F_I64),
    [0x48] = E(h_dec_r, F_I64), [0x49] = E(h_dec_r, F_I64), [0x4A] = E(h_dec_r, F_I64),
    [0x4B] = E(h_dec_r, F_I64), [0x4C] = E(h_dec_r, F_I64), [0x4D] = E(h_dec_r, F_I64),
    [0x4E] = E(h_dec_r, F_I64), [0x4F] = E(h_dec_r, F_I64),
    [0x50] = E(h_push_r, F_D64), [0x51] = E(h_push_r, F_D64), [0x52] = E(h_push_r, F_D64),
    [0x53] = E(h_push_r, F_D64), [0x54] = E(h_push_r, F_D64), [0x55] = E(h_push_r, F_D64),
    [0x56] = E(h_push_r, F_D64), [0x57] = E(h_push_r, F_D64),
    [0x58] = E(h_pop_r, F_D64), [0x59] = E(h_pop_r, F_D64), [0x5A] = E(h_pop_r, F_D64),
    [0x5B] = E(h_pop_r, F_D64), [0x5C] = E(h_pop_r, F_D64), [0x5D] = E(h_pop_r, F_D64),
    [0x5E] = E(h_pop_r, F_D64), [0x5F] = E(h_pop_r, F_D64),
    [0x60] = E(h_pusha, F_I64), [0x61] = E(h_popa, F_I64),
    [0x62] = E(h_bound, F_MODRM | F_I64 | F_MEMONLY),
    [0x63] = E(h_arpl, F_MODRM | F_O64), /* MOVSXD in 64-bit mode */
    [0x68] = E(h_push_imm, F_IZ | F_D64), [0x69] = E(h_imul_GvEvI, F_MODRM | F_IZ),
    [0x6A] = E(h_push_imm, F_IB | F_D64), [0x6B] = E(h_imul_GvEvI, F_MODRM | F_IB),
    [0x6C] = E(h_ins, F_BYTE), [0x6D] = E(h_ins, 0), [0x6E] = E(h_outs, F_BYTE),
    [0x6F] = E(h_outs, 0),
    [0x70] = E(h_jcc_rel, F_IB | F_F64), [0x71] = E(h_jcc_rel, F_IB | F_F64),
    [0x72] = E(h_jcc_rel, F_IB | F_F64), [0x73] = E(h_jcc_rel, F_IB | F_F64),
    [0x74] = E(h_jcc_rel, F_IB | F_F64), [0x75] = E(h_jcc_rel, F_IB | F_F64),
    [0x76] = E(h_jcc_rel, F_IB | F_F64), [0x77] = E(h_jcc_rel, F_IB | F_F64),
    [0x78] = E(h_jcc_rel, F_IB | F_F64), [0x79] = E(h_jcc_rel, F_IB | F_F64),
    [0x7A] = E(h_jcc_rel, F_IB | F_F64), [0x7B] = E(h_jcc_rel, F_IB | F_F64),
    [0x7C] = E(h_jcc_rel, F_IB | F_F64), [0x7D] = E(h_jcc_rel, F_IB | F_F64),
    [0x7E] = E(h_jcc_rel, F_IB | F_F64), [0x7F] = E(h_jcc_rel, F_IB | F_F64),
    [0x80] = G(grp_80, F_IB | F_BYTE), [0x81] = G(grp_81, F_IZ), [0x82] = G(grp_80, F_IB | F_BYTE | F_I64),
    [0x83] = G(grp_83, F_IB),
    [0x84] = E(h_test_EbGb, F_MODRM), [0x85] = E(h_test_EvGv, F_MODRM),
    [0x86] = E(h_xchg_EbGb, F_MODRM), [0x87] = E(h_xchg_EvGv, F_MODRM),
    [0x88] = E(h_mov_EbGb, F_MODRM), [0x89] = E(h_mov_EvGv, F_MODRM),
    [0x8A] = E(h_mov_GbEb, F_MODRM), [0x8B] = E(h_mov_GvEv, F_MODRM),
    [0x8C] = E(h_mov_EvSw, F_MODRM), [0x8D] = E(h_lea, F_MODRM | F_MEMONLY),
    [0x8E] = E(h_mov_SwEw, F_MODRM), [0x8F] = G(grp_8f, F_D64),
    [0x90] = E(h_xchg_AX_r, 0), [0x91] = E(h_xchg_AX_r, 0), [0x92] = E(h_xchg_AX_r, 0),
    [0x93] = E(h_xchg_AX_r, 0), [0x94] = E(h_xchg_AX_r, 0), [0x95] = E(h_xchg_AX_r, 0),
    [0x96] = E(h_xchg_AX_r, 0), [0x97] = E(h_xchg_AX_r, 0),
    [0x98] = E(h_cbw, 0), [0x99] = E(h_cwd, 0), [0x9A] = E(h_call_far, F_AP | F_I64),
    [0x9B] = E(h_fwait, 0),
    /* x87 escapes: only the #NM checks until the FPU arrives (phase 2). */
    [0xD8] = E(h_x87, F_MODRM), [0xD9] = E(h_x87, F_MODRM), [0xDA] = E(h_x87, F_MODRM),
    [0xDB] = E(h_x87, F_MODRM), [0xDC] = E(h_x87, F_MODRM), [0xDD] = E(h_x87, F_MODRM),
    [0xDE] = E(h_x87, F_MODRM), [0xDF] = E(h_x87, F_MODRM),
    [0x9C] = E(h_pushf, F_D64), [0x9D] = E(h_popf, F_D64), [0x9E] = E(h_sahf, 0),
    [0x9F] = E(h_lahf, 0),
    [0xA0] = E(h_mov_AL_Ob, F_OB), [0xA1] = E(h_mov_AX_Ov, F_OB), [0xA2] = E(h_mov_Ob_AL, F_OB),
    [0xA3] = E(h_mov_Ov_AX, F_OB),
    [0xA4] = E(h_movs, F_BYTE), [0xA5] = E(h_movs, 0), [0xA6] = E(h_cmps, F_BYTE),
    [0xA7] = E(h_cmps, 0), [0xA8] = E(h_test_ALIb, F_IB), [0xA9] = E(h_test_AXIz, F_IZ),
    [0xAA] = E(h_stos, F_BYTE), [0xAB] = E(h_stos, 0), [0xAC] = E(h_lods, F_BYTE),
    [0xAD] = E(h_lods, 0), [0xAE] = E(h_scas, F_BYTE), [0xAF] = E(h_scas, 0),
    [0xB0] = E(h_mov_rb_Ib, F_IB), [0xB1] = E(h_mov_rb_Ib, F_IB), [0xB2] = E(h_mov_rb_Ib, F_IB),
    [0xB3] = E(h_mov_rb_Ib, F_IB), [0xB4] = E(h_mov_rb_Ib, F_IB), [0xB5] = E(h_mov_rb_Ib, F_IB),
    [0xB6] = E(h_mov_rb_Ib, F_IB), [0xB7] = E(h_mov_rb_Ib, F_IB),
    [0xB8] = E(h_mov_r_Iv, F_IV), [0xB9] = E(h_mov_r_Iv, F_IV), [0xBA] = E(h_mov_r_Iv, F_IV),
    [0xBB] = E(h_mov_r_Iv, F_IV), [0xBC] = E(h_mov_r_Iv, F_IV), [0xBD] = E(h_mov_r_Iv, F_IV),
    [0xBE] = E(h_mov_r_Iv, F_IV), [0xBF] = E(h_mov_r_Iv, F_IV),
    [0xC0] = E(h_grp2_Eb, F_MODRM | F_IB), [0xC1] = E(h_grp2_Ev, F_MODRM | F_IB),
    [0xC2] = E(h_ret_Iw, F_IW | F_F64), [0xC3] = E(h_ret, F_F64),
    [0xC4] = E(h_lxs, F_MODRM | F_I64 | F_MEMONLY), [0xC5] = E(h_lxs, F_MODRM | F_I64 | F_MEMONLY),
    [0xC6] = G(grp_c6, F_IB), [0xC7] = G(grp_c7, F_IZ),
    [0xC8] = E(h_enter, F_IWIB | F_D64), [0xC9] = E(h_leave, F_D64),
    [0xCA] = E(h_retf_Iw, F_IW), [0xCB] = E(h_retf, 0), [0xCC] = E(h_int3, 0),
    [0xCD] = E(h_int_Ib, F_IB), [0xCE] = E(h_into, F_I64), [0xCF] = E(h_iret, 0),
    [0xD0] = E(h_grp2_Eb, F_MODRM), [0xD1] = E(h_grp2_Ev, F_MODRM),
    [0xD2] = E(h_grp2_Eb, F_MODRM), [0xD3] = E(h_grp2_Ev, F_MODRM),
    [0xD4] = E(h_aam, F_IB | F_I64), [0xD5] = E(h_aad, F_IB | F_I64), [0xD6] = E(h_salc, F_I64),
    [0xD7] = E(h_xlat, 0),
    [0xE0] = E(h_loopne, F_IB | F_F64), [0xE1] = E(h_loope, F_IB | F_F64),
    [0xE2] = E(h_loop, F_IB | F_F64), [0xE3] = E(h_jcxz, F_IB | F_F64),
    [0xE4] = E(h_in_Ib, F_IB | F_BYTE), [0xE5] = E(h_in_Ib, F_IB), [0xE6] = E(h_out_Ib, F_IB | F_BYTE),
    [0xE7] = E(h_out_Ib, F_IB),
    [0xE8] = E(h_call_rel, F_IZ | F_F64), [0xE9] = E(h_jmp_rel, F_IZ | F_F64),
    [0xEA] = E(h_jmp_far, F_AP | F_I64), [0xEB] = E(h_jmp_rel, F_IB | F_F64),
    [0xEC] = E(h_in_DX, F_BYTE), [0xED] = E(h_in_DX, 0), [0xEE] = E(h_out_DX, F_BYTE),
    [0xEF] = E(h_out_DX, 0),
    [0xF1] = E(h_int1, 0), [0xF4] = E(h_hlt, 0), [0xF5] = E(h_cmc, 0),
    [0xF6] = E(h_grp3_Eb, F_MODRM), [0xF7] = E(h_grp3_Ev, F_MODRM),
    [0xF8] = E(h_clc, 0), [0xF9] = E(h_stc, 0), [0xFA] = E(h_cli, 0), [0xFB] = E(h_sti, 0),
    [0xFC] = E(h_cld, 0), [0xFD] = E(h_std, 0), [0xFE] = E(h_grp4_Eb, F_MODRM),
    [0xFF] = E(h_grp5_Ev, F_MODRM),
};

static const insn_fn grp_0f00[8] = { h_grp6, h_grp6, h_grp6, h_grp6, h_grp6, h_grp6, h_ud, h_ud };

static const struct opdesc map2[256] = {
    [0x00] = G(grp_0f00, 0), [0x01] = E(h_grp7, F_MODRM), [0x02] = E(h_lar, F_MODRM),
    [0x03] = E(h_lsl, F_MODRM), [0x05] = E(h_syscall, 0), [0x06] = E(h_clts, 0),
    [0x07] = E(h_sysret, 0), [0x08] = E(h_invd, 0), [0x09] = E(h_invd, 0),
    [0x0B] = E(h_ud, 0),
    [0x18] = E(h_nop, F_MODRM), [0x19] = E(h_nop, F_MODRM), [0x1A] = E(h_nop, F_MODRM),
    [0x1B] = E(h_nop, F_MODRM), [0x1C] = E(h_nop, F_MODRM), [0x1D] = E(h_nop, F_MODRM),
    [0x1E] = E(h_nop, F_MODRM), [0x1F] = E(h_nop, F_MODRM),
    [0x20] = E(h_mov_RdCd, F_MODRM), [0x21] = E(h_mov_RdDd, F_MODRM),
    [0x22] = E(h_mov_CdRd, F_MODRM), [0x23] = E(h_mov_DdRd, F_MODRM),
    [0x30] = E(h_wrmsr, 0), [0x31] = E(h_rdtsc, 0), [0x32] = E(h_rdmsr, 0),
    [0x40] = E(h_cmov, F_MODRM), [0x41] = E(h_cmov, F_MODRM), [0x42] = E(h_cmov, F_MODRM),
    [0x43] = E(h_cmov, F_MODRM), [0x44] = E(h_cmov, F_MODRM), [0x45] = E(h_cmov, F_MODRM),
    [0x46] = E(h_cmov, F_MODRM), [0x47] = E(h_cmov, F_MODRM), [0x48] = E(h_cmov, F_MODRM),
    [0x49] = E(h_cmov, F_MODRM), [0x4A] = E(h_cmov, F_MODRM), [0x4B] = E(h_cmov, F_MODRM),
    [0x4C] = E(h_cmov, F_MODRM), [0x4D] = E(h_cmov, F_MODRM), [0x4E] = E(h_cmov, F_MODRM),
    [0x4F] = E(h_cmov, F_MODRM),
    [0x80] = E(h_jcc_rel, F_IZ | F_F64), [0x81] = E(h_jcc_rel, F_IZ | F_F64),
    [0x82] = E(h_jcc_rel, F_IZ | F_F64), [0x83] = E(h_jcc_rel, F_IZ | F_F64),
    [0x84] = E(h_jcc_rel, F_IZ | F_F64), [0x85] = E(h_jcc_rel, F_IZ | F_F64),
    [0x86] = E(h_jcc_rel, F_IZ | F_F64), [0x87] = E(h_jcc_rel, F_IZ | F_F64),
    [0x88] = E(h_jcc_rel, F_IZ | F_F64), [0x89] = E(h_jcc_rel, F_IZ | F_F64),
    [0x8A] = E(h_jcc_rel, F_IZ | F_F64), [0x8B] = E(h_jcc_rel, F_IZ | F_F64),
    [0x8C] = E(h_jcc_rel, F_IZ | F_F64), [0x8D] = E(h_jcc_rel, F_IZ | F_F64),
    [0x8E] = E(h_jcc_rel, F_IZ | F_F64), [0x8F] = E(h_jcc_rel, F_IZ | F_F64),
    [0x90] = E(h_setcc, F_MODRM), [0x91] = E(h_setcc, F_MODRM), [0x92] = E(h_setcc, F_MODRM),
    [0x93] = E(h_setcc, F_MODRM), [0x94] = E(h_setcc, F_MODRM), [0x95] = E(h_setcc, F_MODRM),
    [0x96] = E(h_setcc, F_MODRM), [0x97] = E(h_setcc, F_MODRM), [0x98] = E(h_setcc, F_MODRM),
    [0x99] = E(h_setcc, F_MODRM), [0x9A] = E(h_setcc, F_MODRM), [0x9B] = E(h_setcc, F_MODRM),
    [0x9C] = E(h_setcc, F_MODRM), [0x9D] = E(h_setcc, F_MODRM), [0x9E] = E(h_setcc, F_MODRM),
    [0x9F] = E(h_setcc, F_MODRM),
    [0xA0] = E(h_push_sreg, F_D64), [0xA1] = E(h_pop_sreg, F_D64), [0xA2] = E(h_cpuid, 0),
    [0xA3] = E(h_bt_EvGv, F_MODRM), [0xA4] = E(h_shld, F_MODRM | F_IB),
    [0xA5] = E(h_shld, F_MODRM), [0xA8] = E(h_push_sreg, F_D64), [0xA9] = E(h_pop_sreg, F_D64),
    [0xAA] = E(h_rsm, 0), [0xAB] = E(h_bt_EvGv, F_MODRM), [0xAC] = E(h_shrd, F_MODRM | F_IB),
    [0xAD] = E(h_shrd, F_MODRM), [0xAF] = E(h_imul_GvEv, F_MODRM),
    [0xB0] = E(h_cmpxchg_Eb, F_MODRM), [0xB1] = E(h_cmpxchg_Ev, F_MODRM),
    [0xB2] = E(h_lxs, F_MODRM | F_MEMONLY), [0xB3] = E(h_bt_EvGv, F_MODRM),
    [0xB4] = E(h_lxs, F_MODRM | F_MEMONLY), [0xB5] = E(h_lxs, F_MODRM | F_MEMONLY),
    [0xB6] = E(h_movzx_b, F_MODRM), [0xB7] = E(h_movzx_w, F_MODRM),
    [0xB8] = E(h_popcnt, F_MODRM), /* only with F3; else #UD, checked below */
    [0xB9] = E(h_ud, F_MODRM), /* UD1 */
    [0xBA] = E(h_grp8_EvIb, F_MODRM | F_IB), [0xBB] = E(h_bt_EvGv, F_MODRM),
    [0xBC] = E(h_bsf, F_MODRM), [0xBD] = E(h_bsr, F_MODRM),
    [0xBE] = E(h_movsx_b, F_MODRM), [0xBF] = E(h_movsx_w, F_MODRM),
    [0xC0] = E(h_xadd_Eb, F_MODRM), [0xC1] = E(h_xadd_Ev, F_MODRM),
    [0xC7] = E(h_grp9, F_MODRM),
    [0xC8] = E(h_bswap, 0), [0xC9] = E(h_bswap, 0), [0xCA] = E(h_bswap, 0),
    [0xCB] = E(h_bswap, 0), [0xCC] = E(h_bswap, 0), [0xCD] = E(h_bswap, 0),
    [0xCE] = E(h_bswap, 0), [0xCF] = E(h_bswap, 0),
    [0xFF] = E(h_ud, F_MODRM), /* UD0 */
};

/* Opcodes that accept a LOCK prefix (with a memory destination). */
static bool lockable(bool two_byte, uint8_t op, unsigned reg)
{
    if (!two_byte) {
        if (op < 0x40 && (op & 7) < 2 && (op & 0x38) != 0x38)
            return true; /* ADD..XOR Eb/Ev,Gb/Gv except CMP */
        if (op >= 0x80 && op <= 0x83)
            return (reg & 7) != 7;
        if (op == 0x86 || op == 0x87)
            return true;
        if (op == 0xF6 || op == 0xF7)
            return (reg & 7) == 2 || (reg & 7) == 3;
        if (op == 0xFE || op == 0xFF)
            return (reg & 7) < 2;
        return false;
    }
    switch (op) {
    case 0xAB: case 0xB3: case 0xBB: case 0xB0: case 0xB1: case 0xC0: case 0xC1:
        return true;
    case 0xBA:
        return (reg & 7) >= 5;
    case 0xC7:
        return (reg & 7) == 1;
    default:
        return false;
    }
}

static uint64_t read_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

#define BY_SIZE(name) { name##16, name##32, name##64 }
#define ALU_BY_OP(form, n)                                                                         \
    { h_add_##form##n, h_or_##form##n,  h_adc_##form##n, h_sbb_##form##n,                         \
      h_and_##form##n, h_sub_##form##n, h_xor_##form##n, h_cmp_##form##n }

/* Decode-time specialisations (cpu.md §5.2): the register forms of the
 * commonest instructions get one handler per operation and operand size
 * (their result register is always rm, so the Gv,Ev forms swap reg and rm
 * and the accumulator forms name RAX in rm), and 64-bit MOV to or from
 * memory gets one per address form. Everything else keeps its generic one. */
static insn_fn specialise(struct insn *i, insn_fn fn, bool two_byte, bool mode64)
{
    static const insn_fn alu_rr[3][8] = { ALU_BY_OP(rr, 16), ALU_BY_OP(rr, 32), ALU_BY_OP(rr, 64) };
    static const insn_fn alu_ri[3][8] = { ALU_BY_OP(ri, 16), ALU_BY_OP(ri, 32), ALU_BY_OP(ri, 64) };
    static const insn_fn alu_mr[3][8] = { ALU_BY_OP(mr, 16), ALU_BY_OP(mr, 32), ALU_BY_OP(mr, 64) };
    static const insn_fn alu_rm[3][8] = { ALU_BY_OP(rm, 16), ALU_BY_OP(rm, 32), ALU_BY_OP(rm, 64) };
    static const insn_fn alu_mi[3][8] = { ALU_BY_OP(mi, 16), ALU_BY_OP(mi, 32), ALU_BY_OP(mi, 64) };
    static const insn_fn test_rr[3] = BY_SIZE(h_test_rr), test_ri[3] = BY_SIZE(h_test_ri);
    static const insn_fn inc[3] = BY_SIZE(h_inc_r), dec[3] = BY_SIZE(h_dec_r);
    static const insn_fn neg[3] = BY_SIZE(h_neg_r), not[3] = BY_SIZE(h_not_r);
    static const insn_fn mov_rr[3] = BY_SIZE(h_mov_rr), mov_ri[3] = BY_SIZE(h_mov_ri);
    /* Group 2 by ModRM.reg; RCL and RCR (2, 3) stay generic, /6 is SAL = SHL. */
    static const insn_fn shift_ri[3][8] = {
        { h_rol_ri16, h_ror_ri16, NULL, NULL, h_shl_ri16, h_shr_ri16, h_shl_ri16, h_sar_ri16 },
        { h_rol_ri32, h_ror_ri32, NULL, NULL, h_shl_ri32, h_shr_ri32, h_shl_ri32, h_sar_ri32 },
        { h_rol_ri64, h_ror_ri64, NULL, NULL, h_shl_ri64, h_shr_ri64, h_shl_ri64, h_sar_ri64 },
    };
    unsigned op = i->op, sz = i->opsize == 2 ? 0 : i->opsize == 4 ? 1 : 2, r = i->reg & 7;
    if (two_byte)
        return fn;
    if (op == 0x63 && mode64)
        return h_movsxd;
    if (!(i->flags & INSN_MEM) && (i->flags & INSN_MODRM)) {
        uint8_t swap = i->reg;
        if (fn == h_alu_GvEv || fn == h_mov_GvEv) {
            i->reg = i->rm;
            i->rm = swap;
        }
        if (fn == h_alu_EvGv || fn == h_alu_GvEv)
            return alu_rr[sz][op >> 3];
        if (fn == h_mov_EvGv || fn == h_mov_GvEv)
            return mov_rr[sz];
        if (fn == h_grp1_EvI)
            return alu_ri[sz][r];
        if (fn == h_test_EvGv)
            return test_rr[sz];
        if (fn == h_grp3_Ev && r < 4)
            return r < 2 ? test_ri[sz] : r == 2 ? not[sz] : neg[sz];
        if (fn == h_grp5_Ev && r < 2)
            return r ? dec[sz] : inc[sz]; /* FF /0 /1 on a register */
        if (fn == h_grp2_Ev && (op == 0xC1 || op == 0xD1)) {
            if (r == 2 || r == 3)
                return h_shift_reg_imm;
            if (op == 0xD1)
                i->imm = 1;
            return shift_ri[sz][r];
        }
        return fn;
    }
    if (i->flags & INSN_MEM) {
        if (fn == h_alu_EvGv)
            return alu_mr[sz][op >> 3];
        if (fn == h_alu_GvEv)
            return alu_rm[sz][op >> 3];
        if (fn == h_grp1_EvI)
            return alu_mi[sz][r];
        if (!mode64 && (fn == h_mov_GvEv || fn == h_mov_EvGv) && i->opsize <= 4) {
            /* [store][32-bit operand][32-bit address] */
            static const insn_fn mov_legacy[2][2][2] = {
                { { h_mov_load16_a16, h_mov_load16_a32 }, { h_mov_load32_a16, h_mov_load32_a32 } },
                { { h_mov_store16_a16, h_mov_store16_a32 },
                  { h_mov_store32_a16, h_mov_store32_a32 } },
            };
            /* An absent base or index reads the zero slot, so the address is
             * a sum without tests (mem_forms.c). */
            if (i->base == REG_NONE)
                i->base = REG_ZERO;
            if (i->index == REG_NONE)
                i->index = REG_ZERO;
            return mov_legacy[fn == h_mov_EvGv][i->opsize == 4][i->addrsize == 4];
        }
    }
    if (fn == h_alu_AXIz || fn == h_test_AXIz) {
        i->rm = R_AX;
        return fn == h_test_AXIz ? test_ri[sz] : alu_ri[sz][op >> 3];
    }
    if (fn == h_inc_r || fn == h_dec_r) {
        i->rm = op & 7;
        return fn == h_dec_r ? dec[sz] : inc[sz];
    }
    if (fn == h_mov_r_Iv)
        return mov_ri[sz];
    if (fn == h_xchg_AX_r && i->rm == R_AX && !(i->flags & INSN_REP))
        return h_nop; /* 90 without F3 (PAUSE): NOP, which need not end the block */
    if (mode64 && (fn == h_mov_GvEv || fn == h_mov_EvGv) && (i->flags & INSN_MEM) &&
        i->addrsize == 8 && i->base < 16 && i->seg < SEG_FS && i->opsize >= 4) {
        static const insn_fn forms[2][2][2] = { /* [indexed][store][64-bit] */
            { { h_mov_load32_bd, h_mov_load64_bd }, { h_mov_store32_bd, h_mov_store64_bd } },
            { { h_mov_load32_bisd, h_mov_load64_bisd },
              { h_mov_store32_bisd, h_mov_store64_bisd } },
        };
        return forms[i->index != REG_NONE][fn == h_mov_EvGv][i->opsize == 8];
    }
    return fn;
}

int decode_insn(struct insn *i, const uint8_t *bytes, unsigned avail, unsigned code_bits)
{
    unsigned pos = 0;
    bool opsize_prefix = false, addrsize_prefix = false, lock = false;
    unsigned rep = 0; /* last of F2/F3 wins */
    int seg = -1;
    uint8_t rex = 0;
    bool mode64 = code_bits == 64;

    memset(i, 0, sizeof(*i));
#define NEED(n)                                                                                    \
    do {                                                                                           \
        if (pos + (n) > avail)                                                                     \
            return pos + (n) > 15 ? -2 : 0;                                                        \
    } while (0)

    for (;;) {
        NEED(1);
        uint8_t b = bytes[pos];
        switch (b) {
        case 0x66: opsize_prefix = true; rex = 0; pos++; continue;
        case 0x67: addrsize_prefix = true; rex = 0; pos++; continue;
        case 0xF0: lock = true; rex = 0; pos++; continue;
        case 0xF2: case 0xF3: rep = b; rex = 0; pos++; continue;
        case 0x26: case 0x2E: case 0x36: case 0x3E:
            if (!mode64)
                seg = (b >> 3) & 3; /* ES=0 CS=1 SS=2 DS=3 */
            rex = 0;
            pos++;
            continue;
        case 0x64: case 0x65:
            seg = SEG_FS + (b & 1);
            rex = 0;
            pos++;
            continue;
        default:
            break;
        }
        if (mode64 && (b & 0xF0) == 0x40) {
            rex = b; /* only counts when it immediately precedes the opcode */
            pos++;
            continue;
        }
        break;
    }
    if (pos >= 15)
        return -2;

    bool two_byte = false;
    uint8_t op = bytes[pos++];
    const struct opdesc *d;
    if (op == 0x0F) {
        NEED(1);
        op = bytes[pos++];
        if (op == 0x38 || op == 0x3A)
            return -1; /* no SSSE3/SSE4 forms yet: #UD */
        two_byte = true;
        d = &map2[op];
    } else {
        d = &map1[op];
    }
    i->op = op;
    uint16_t fl = d->flags;
    if (!d->fn && !d->group)
        return -1;
    if (mode64 && (fl & F_I64))
        return -1;
    if (two_byte && op == 0xB8 && rep != 0xF3)
        return -1; /* POPCNT needs F3 */

    if (rex)
        i->flags |= INSN_REX;
    unsigned opsize;
    if (mode64) {
        if (rex & 8)
            opsize = 8;
        else if (fl & F_F64)
            opsize = 8;
        else if (fl & F_D64)
            opsize = opsize_prefix ? 2 : 8;
        else
            opsize = opsize_prefix ? 2 : 4;
        i->addrsize = addrsize_prefix ? 4 : 8;
    } else {
        unsigned def = code_bits == 32 ? 4 : 2;
        opsize = opsize_prefix ? 6 - def : def;
        i->addrsize = (uint8_t)(addrsize_prefix ? 6 - (code_bits == 32 ? 4 : 2)
                                                : (code_bits == 32 ? 4 : 2));
    }
    i->opsize = (uint8_t)opsize;
    if (rep == 0xF3)
        i->flags |= INSN_REP;
    else if (rep == 0xF2)
        i->flags |= INSN_REPNE;
    i->base = REG_NONE;
    i->index = REG_NONE;
    i->seg = seg >= 0 ? (uint8_t)seg : SEG_DS;
    if (seg >= 0)
        i->flags |= INSN_SEGOV;

    insn_fn fn = d->fn;
    if (fl & F_MODRM) {
        NEED(1);
        uint8_t modrm = bytes[pos++];
        unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
        i->flags |= INSN_MODRM;
        i->reg = (uint8_t)(reg | ((rex & 4) << 1));
        if (two_byte && op >= 0x20 && op <= 0x23)
            mod = 3; /* MOV to/from CRn/DRn: mod is ignored, the operand is a register */
        if (mod == 3) {
            i->rm = (uint8_t)(rm | ((rex & 1) << 3));
        } else {
            i->flags |= INSN_MEM;
            bool seg_ss = false;
            if (i->addrsize == 2) {
                static const uint8_t base16[8] = { R_BX, R_BX, R_BP, R_BP, R_SI, R_DI, R_BP, R_BX };
                static const uint8_t index16[8] = { R_SI, R_DI, R_SI, R_DI, REG_NONE, REG_NONE,
                                                    REG_NONE, REG_NONE };
                if (mod == 0 && rm == 6) {
                    NEED(2);
                    i->disp = (int32_t)(uint16_t)read_le(bytes + pos, 2);
                    pos += 2;
                } else {
                    i->base = base16[rm];
                    i->index = index16[rm];
                    seg_ss = rm == 2 || rm == 3 || rm == 6;
                }
                if (mod == 1) {
                    NEED(1);
                    i->disp = (int8_t)bytes[pos++];
                } else if (mod == 2) {
                    NEED(2);
                    i->disp = (int16_t)read_le(bytes + pos, 2);
                    pos += 2;
                }
            } else {
                if (rm == 4) {
                    NEED(1);
                    uint8_t sib = bytes[pos++];
                    unsigned ss = sib >> 6, idx = ((sib >> 3) & 7) | ((rex & 2) << 2),
                             base = sib & 7;
                    if (idx != 4) {
                        i->index = (uint8_t)idx;
                        i->scale = (uint8_t)ss;
                    }
                    if (base == 5 && mod == 0) {
                        NEED(4);
                        i->disp = (int32_t)read_le(bytes + pos, 4);
                        pos += 4;
                    } else {
                        i->base = (uint8_t)(base | ((rex & 1) << 3));
                        /* SS is the default for RSP/RBP bases only: R12/R13 are not
                         * stack references (checked against the host CPU). */
                        seg_ss = i->base == R_SP || i->base == R_BP;
                    }
                } else if (rm == 5 && mod == 0) {
                    NEED(4);
                    i->disp = (int32_t)read_le(bytes + pos, 4);
                    pos += 4;
                    if (mode64)
                        i->base = REG_RIP;
                } else {
                    i->base = (uint8_t)(rm | ((rex & 1) << 3));
                    seg_ss = i->base == R_BP;
                }
                if (mod == 1) {
                    NEED(1);
                    i->disp = (int8_t)bytes[pos++];
                } else if (mod == 2) {
                    NEED(4);
                    i->disp = (int32_t)read_le(bytes + pos, 4);
                    pos += 4;
                }
            }
            if (seg < 0 && seg_ss)
                i->seg = SEG_SS;
        }
        if (fl & F_GROUP)
            fn = d->group[reg];
        if ((fl & F_MEMONLY) && mod == 3)
            return -1;
        if (lock && (mod == 3 || !lockable(two_byte, op, reg)))
            return -1;
    } else {
        if (lock)
            return -1;
        if (!two_byte && ((op >= 0x50 && op <= 0x5F) || (op >= 0x90 && op <= 0x97) ||
                          (op >= 0xB0 && op <= 0xBF)))
            i->rm = (uint8_t)((op & 7) | ((rex & 1) << 3));
        if (two_byte && op >= 0xC8)
            i->rm = (uint8_t)((op & 7) | ((rex & 1) << 3));
    }
    if (lock)
        i->flags |= INSN_LOCK;
    /* Immediates. TEST Eb,Ib / Ev,Iz hide in groups F6 /0-1 and F7 /0-1. */
    if (!two_byte && (op == 0xF6 || op == 0xF7) && (i->reg & 6) == 0)
        fl |= op == 0xF6 ? F_IB : F_IZ;
    if (fl & F_IB) {
        NEED(1);
        i->imm = (uint64_t)(int64_t)(int8_t)bytes[pos++];
    } else if (fl & F_IW) {
        NEED(2);
        i->imm = read_le(bytes + pos, 2);
        pos += 2;
    } else if (fl & F_IZ) {
        unsigned n = opsize == 2 ? 2 : 4;
        NEED(n);
        i->imm = sext(read_le(bytes + pos, n), n);
        pos += n;
    } else if (fl & F_IV) {
        NEED(opsize);
        i->imm = read_le(bytes + pos, opsize);
        pos += opsize;
    } else if (fl & F_AP) {
        unsigned n = opsize == 2 ? 2 : 4;
        NEED(n + 2);
        i->imm = read_le(bytes + pos, n);
        i->imm2 = (uint16_t)read_le(bytes + pos + n, 2);
        pos += n + 2;
    } else if (fl & F_OB) {
        NEED(i->addrsize);
        i->imm = read_le(bytes + pos, i->addrsize);
        pos += i->addrsize;
    } else if (fl & F_IWIB) {
        NEED(3);
        i->imm = read_le(bytes + pos, 2);
        i->imm2 = bytes[pos + 2];
        pos += 3;
    }
    if (pos > 15)
        return -2;
    i->fn = specialise(i, fn, two_byte, mode64);
    i->len = (uint8_t)pos;
#undef NEED
    return (int)pos;
}
