/*
 * diff.h - what the pieces of the differential test share: the form table
 * (forms.c), the case generator and encoder (gen.c), the native runner
 * (host.c, native.S) and the interpreter runner (guest.c). Contract:
 * ../shared/spec/cpu.md §6, "Differential testing against the host CPU".
 *
 * Both runners see the same linear addresses: a 2 MiB window below 2 GiB is
 * mapped RWX in this process and, through the guest's page tables, onto
 * guest RAM. The instruction sits at the same address on both sides, so
 * RIP-relative, absolute and 32-bit (0x67) memory operands mean the same
 * bytes in both worlds.
 */
#ifndef SMMVM_TESTS_DIFF_DIFF_H
#define SMMVM_TESTS_DIFF_DIFF_H

#include <stdbool.h>
#include <stdint.h>

/* Layout of the shared window (offsets from its base). */
#define WIN_SIZE     0x200000ull
#define WIN_INSN     0x1000ull  /* the instruction under test */
#define WIN_TRAMP    0x3000ull  /* compatibility mode returns through 64-bit jumps here */
#define WIN_SCRATCH  0x20000ull /* memory operands point into this */
#define SCRATCH_SIZE 0x4000ull
#define SCRATCH_MID  (WIN_SCRATCH + SCRATCH_SIZE / 2)

#define RFL_CF       0x001u
#define RFL_PF       0x004u
#define RFL_AF       0x010u
#define RFL_ZF       0x040u
#define RFL_SF       0x080u
#define RFL_DF       0x400u
#define RFL_OF       0x800u
#define RFL_ARITH    (RFL_CF | RFL_PF | RFL_AF | RFL_ZF | RFL_SF | RFL_OF)
#define RFL_COMPARED (RFL_ARITH | RFL_DF)

/* Flag families: what the SDM leaves undefined (diff_undefined_flags). */
enum fam {
    FAM_NONE,  /* flags untouched or all defined: MOV*, CMOV, SETcc, XCHG, LEA, POPCNT, ... */
    FAM_ARITH, /* ADD ADC SUB SBB CMP NEG INC DEC XADD CMPXCHG: all defined */
    FAM_LOGIC, /* AND OR XOR TEST: AF undefined */
    FAM_MUL,   /* MUL IMUL: SF ZF AF PF undefined */
    FAM_DIV,   /* DIV IDIV: all six undefined */
    FAM_SHIFT, /* SHL SHR SAR (sub = ModRM /digit) */
    FAM_ROT,   /* ROL ROR RCL RCR */
    FAM_SHXD,  /* SHLD SHRD */
    FAM_BT,    /* BT BTS BTR BTC: OF SF AF PF undefined */
    FAM_BSX,   /* BSF BSR: all but ZF undefined */
    FAM_BCD,   /* sub 0: DAA DAS (OF); 1: AAA AAS (OF SF ZF PF); 2: AAM AAD (OF AF CF) */
};

/* Where the ModRM r/m operand is. */
enum e_kind { E_NONE, E_REG, E_MEM, E_ANY };

/* Value generators for implicit operands and constrained inputs. */
enum gen_kind {
    GEN_PLAIN,
    GEN_COUNT_CL,  /* shift count in CL */
    GEN_COUNT_IMM, /* shift count in the imm8 */
    GEN_MUL,       /* RAX is the implicit source */
    GEN_DIV,
    GEN_IDIV,
    GEN_BT_REG,    /* bit offset in the reg operand (may reach beyond a memory operand) */
    GEN_BSX,       /* source 0 sometimes: the destination is then undefined */
    GEN_CMPXCHG,   /* accumulator equal to the destination half the time */
    GEN_ACC,       /* CBW/CWD/LAHF/SAHF: RAX is the operand */
    GEN_JCC,       /* relative branch: rel chosen so both targets hold an exit */
    GEN_LOOP,      /* LOOPcc/JrCXZ: RCX small, rel as for GEN_JCC */
    GEN_STACK,     /* RSP points into the scratch area */
    GEN_POPF,      /* GEN_STACK, the popped value only holds CF..OF, DF, IF */
    GEN_RET,       /* GEN_STACK with a code address at [RSP] */
    GEN_INDIRECT,  /* the r/m operand is a code address (JMP/CALL r/m64) */
    GEN_LEAVE,     /* RBP points into the scratch area */
    GEN_STRING,    /* RSI, RDI into the scratch area, RCX small */
    GEN_NONCANON,  /* the memory operand is non-canonical: #GP or #SS */
    GEN_CMPXCHG8,  /* CMPXCHG8B/16B: RDX:RAX equal to memory half the time */
    GEN_MOFFS,     /* MOV AL/rAX <-> moffs: the immediate is the address */
    GEN_XLAT,      /* RBX + AL points into the scratch area */
    GEN_ENTER,     /* RSP, RBP into the scratch area; sub = nesting level, 0xFF random */
    GEN_SMC,       /* RIP-relative store into the suffix, sub bytes past its start */
    GEN_SEQ,       /* 2..sub register-only instructions drawn from the chainable forms */
    GEN_BOUND,     /* BOUND: a signed pair in memory, the index near its ends */
    GEN_PUSH_SREG, /* GEN_STACK; the slot's upper bytes are zero (16-bit or zero-extended write) */
    GEN_SREG_VAL,  /* the source (register, memory or stack) is a loadable selector */
};

/* Form flags. */
#define FF_F3         0x0001 /* mandatory F3 prefix (POPCNT) */
#define FF_PLUSR      0x0002 /* register in the low opcode bits (BSWAP, XCHG rAX, MOV r,imm) */
#define FF_A32        0x0004 /* always 0x67 */
#define FF_BYTEREG_RM 0x0008 /* r/m operand is a byte register even though size != 1 (MOVZX Eb) */
#define FF_NOMODRM    0x0010
#define FF_NO_CS      0x0020 /* no CS override among the noise prefixes (see forms_compat) */
#define FF_IMM_COUNT  0x0040 /* the immediate is a shift count */
#define FF_NOREX_W    0x0080 /* size 8 without REX.W (implicitly 64-bit forms) */
#define FF_F2         0x0100 /* F2 prefix (REPNE) */
#define FF_LOCK       0x0200 /* always a LOCK prefix */
#define FF_LOCKABLE   0x0400 /* a LOCK prefix is valid with a memory operand: added sometimes */
#define FF_SUFFIX_JCC 0x0800 /* the suffix is a Jcc rel8 (both outcomes get an exit) */
#define FF_REL        0x1000 /* the immediate is a branch displacement */
#define FF_PAD        0x2000 /* redundant prefixes pad the instruction to 14..17 bytes */
#define FF_COMPAT     0x4000 /* runs in 32-bit compatibility mode */
#define FF_A16        0x8000 /* with FF_COMPAT: 0x67, 16-bit addressing (LEA only: no access) */

struct form {
    char name[40];
    uint8_t fam;
    uint8_t sub;   /* ModRM /digit or ALU op: selects the undefined-flag rule */
    uint8_t size;  /* operand size in bytes: 66 for 2, REX.W for 8 */
    uint8_t msize; /* width of the r/m operand (MOVZX/MOVSX), else = size */
    uint8_t opc[3];
    uint8_t opc_len;
    int8_t ext;        /* ModRM.reg /digit, or -1 for a register operand */
    uint8_t e;         /* enum e_kind */
    uint8_t imm;       /* immediate bytes */
    uint8_t gen;       /* enum gen_kind */
    uint16_t flags;    /* FF_* */
    uint16_t implicit; /* GPRs the instruction reads or writes implicitly (bit per register) */
    uint8_t suffix[8]; /* a second, fixed instruction that consumes the first one's flags */
    uint8_t suffix_len;
};

struct mem_patch {
    uint64_t addr; /* linear */
    uint8_t bytes[32];
};

struct diff_case {
    uint64_t gpr[16];
    uint64_t rflags;
    uint8_t code[64]; /* one instruction and a suffix, or a sequence (gen_sequence) */
    unsigned len;
    unsigned count;      /* shift/rotate count before masking */
    uint16_t used;       /* registers the instruction names (for failure lines) */
    uint16_t undef_regs; /* registers whose result is architecturally undefined */
    unsigned n_patch;
    struct mem_patch patch[2];
    uint64_t rip;           /* linear address of the first byte: WIN_INSN, or across a page end */
    unsigned n_insn;        /* instructions to run: 1, or 2 with a suffix */
    uint64_t branch_target; /* linear; 0 if the code cannot branch */
    uint32_t seq_undef;     /* GEN_SEQ: flags undefined after the whole sequence */
    bool compat;            /* runs in 32-bit compatibility mode (FF_COMPAT) */
};

struct diff_result {
    uint64_t gpr[16];
    uint64_t rflags;
    int vector; /* -1: none; 0..31: exception; -2: the runner lost control */
    uint64_t rip;
};

/* xoshiro256** seeded by splitmix64: every random choice comes from here. */
struct rng {
    uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n);

/* values.c: operand values of `bytes` bytes leaning on 0, 1, -1, the sign bit,
 * carry edges and single bits; a partner meeting `a` at a boundary a quarter
 * of the time; shift counts around 0, 1, width-1, width, width+1. */
uint64_t mask_of(unsigned bytes);
uint64_t gen_value(struct rng *r, unsigned bytes);
uint64_t gen_partner(struct rng *r, unsigned bytes, uint64_t a);
unsigned gen_count(struct rng *r, unsigned bits);

/* forms.c */
unsigned forms_build(struct form *out, unsigned max);
uint32_t diff_undefined_flags(const struct form *f, const struct diff_case *k);
/* Can the form run inside a register-only sequence without touching memory,
 * the stack or control flow, and leave at most AF undefined? */
bool form_chainable(const struct form *f);

/* What the generator needs to know about the address space. */
struct gen_env {
    uint64_t win;         /* base of the shared window */
    uint64_t seg_base[2]; /* FS, GS: the host's values, copied into the guest */
    bool regs_only;       /* no memory operands (but LEA), no page crossing: for sequences */
};

/* gen.c: fills k (registers, flags, encoded bytes, memory patches). */
void gen_case(const struct form *f, struct rng *r, const struct gen_env *env, struct diff_case *k);

/* A GEN_SEQ case: the first instruction's registers and flags, then more
 * instructions from pool encoded one after another; they run as one block. */
void gen_sequence(const struct form *f, const struct form *const *pool, unsigned n_pool,
                  struct rng *r, const struct gen_env *env, struct diff_case *k);

/* host.c */
uint64_t host_init(void);                  /* maps the window; returns its base */
uint64_t host_seg_base(unsigned fs_or_gs); /* 0: FS, 1: GS */
uint8_t *host_window(void);
void host_run(const struct diff_case *k, struct diff_result *out);

/* guest.c */
struct guest;
struct guest *guest_create(uint64_t win, uint64_t fs_base, uint64_t gs_base);
uint8_t *guest_window(struct guest *g); /* host view of the guest RAM behind the window */
void guest_run(struct guest *g, const struct diff_case *k, struct diff_result *out);

#endif
