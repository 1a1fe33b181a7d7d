/*
 * cpu.h - one x86-64 logical processor: its architectural state and the
 * public API the machine, the monitor and the tests use.
 * Contract: ../shared/spec/cpu.md. Everything the interpreter keeps about a
 * CPU lives in struct cpu; decoded blocks live in a struct block_cache the
 * machine owns and shares between its CPUs.
 */
#ifndef SMMVM_CPU_CPU_H
#define SMMVM_CPU_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/apic.h"

struct address_space;
struct block_cache;
struct block;
struct insn;
struct ram_block;

enum gpr {
    R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI,
    R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
};

/* Encoding order of segment registers; also the SMM save-map order. */
enum seg_reg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

/* Attributes use the SMM save-map encoding: bits 7:0 = descriptor byte 5
 * (type, S, DPL, P), bits 15:12 = AVL, L, D/B, G. */
#define SEG_ATTR_TYPE(a) ((a) & 0x0F)
#define SEG_ATTR_S       0x0010
#define SEG_ATTR_DPL(a)  (((a) >> 5) & 3)
#define SEG_ATTR_P       0x0080
#define SEG_ATTR_AVL     0x1000
#define SEG_ATTR_L       0x2000
#define SEG_ATTR_DB      0x4000
#define SEG_ATTR_G       0x8000

struct segment {
    uint16_t selector;
    uint16_t attr;
    uint32_t limit; /* byte-granular */
    uint64_t base;
};

struct dtable {
    uint64_t base;
    uint32_t limit;
};

/* RFLAGS bits. */
#define FLAG_CF   0x0001u
#define FLAG_PF   0x0004u
#define FLAG_AF   0x0010u
#define FLAG_ZF   0x0040u
#define FLAG_SF   0x0080u
#define FLAG_TF   0x0100u
#define FLAG_IF   0x0200u
#define FLAG_DF   0x0400u
#define FLAG_OF   0x0800u
#define FLAG_IOPL 0x3000u
#define FLAG_NT   0x4000u
#define FLAG_RF   0x10000u
#define FLAG_VM   0x20000u
#define FLAG_AC   0x40000u
#define FLAG_VIF  0x80000u
#define FLAG_VIP  0x100000u
#define FLAG_ID   0x200000u
#define FLAGS_ARITH (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF)

#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u

#define CR4_VME 0x0001u
#define CR4_PVI 0x0002u
#define CR4_TSD 0x0004u
#define CR4_DE  0x0008u
#define CR4_PSE 0x0010u
#define CR4_PAE 0x0020u
#define CR4_MCE 0x0040u
#define CR4_PGE 0x0080u
#define CR4_PCE 0x0100u
#define CR4_OSFXSR 0x0200u
#define CR4_OSXMMEXCPT 0x0400u

#define EFER_SCE 0x001u
#define EFER_LME 0x100u
#define EFER_LMA 0x400u
#define EFER_NXE 0x800u

/* Exception vectors. */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
    EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14,
    EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* Lazily evaluated arithmetic flags (cpu.md §5.5). */
enum lazy_op {
    LF_NONE, /* flags but CF are materialised in cpu->rflags */
    LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC,
    LF_SHIFT, /* SHL/SHR/SAR: OF in b, AF = 0 */
    LF_ROT,   /* ROL/ROR after a lazy producer: its res and bits (SF ZF PF), OF in b,
               * AF = bit 4 of a ^ b ^ res, CF in carry */
};

struct lazy_flags {
    uint64_t res, a, b;
    uint8_t op;    /* enum lazy_op */
    uint8_t bits;  /* operand width: 8, 16, 32, 64 */
    uint8_t carry; /* CF, whatever op is: every producer stores it, every reader
                    * reads it here (cpu_impl.h) */
};

/* One software-TLB entry (cpu.md §5.6): three tags, so a page can be cached
 * for reads without granting writes. tag = linear page | epoch. */
struct tlb_entry {
    uint64_t tag_read, tag_write, tag_exec;
    uintptr_t addend; /* host address = linear address + addend */
    uint64_t paddr;   /* physical page */
    struct ram_block *block;
    uint64_t block_offset;
    bool host_writable; /* RAM the slow path may store to directly */
};

#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
/* TLB_NOFILL is never filled, so every access through it takes the slow path. */
enum tlb_class { TLB_SUPERVISOR, TLB_USER, TLB_NOFILL, TLB_CLASSES };

struct tlb {
    struct tlb_entry entry[TLB_CLASSES][TLB_SIZE];
    uint32_t epoch; /* 1..4095, lives in the tag's low bits */
};

enum cpu_run_state {
    CPU_RUNNING,
    CPU_HALTED,
    CPU_WAIT_SIPI,
    CPU_SHUTDOWN, /* triple fault or unsupported state; the machine decides */
};

struct cpu;
/* Interrupt acknowledge: returns the vector of the highest pending external
 * interrupt and clears the machine's INTR line if nothing else is pending. */
typedef int (*cpu_intr_ack_fn)(void *opaque, struct cpu *cpu);
/* Report of a CPU shutdown (triple fault, bad RSM state, missing feature). */
typedef void (*cpu_shutdown_fn)(void *opaque, struct cpu *cpu, const char *why);

struct cpu {
    uint64_t gpr[17]; /* [REG_ZERO] is always 0 (cpu_impl.h) */
    uint64_t rip;
    uint64_t next_rip;  /* of the instruction being executed */
    uint64_t rflags;    /* non-arithmetic bits always; SF ZF AF PF OF when lf.op == LF_NONE;
                         * CF only right after flags_sync() (lf.carry holds it) */
    struct lazy_flags lf;

    struct segment seg[SEG_COUNT];
    struct segment ldtr, tr;
    struct dtable gdtr, idtr;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t dr[8];

    /* Derived mode, recomputed by cpu_update_mode() after CR0/EFER/CS changes. */
    uint8_t cpl;
    uint8_t code_bits;   /* 16, 32, 64: default operand/address size of the code */
    bool long_mode;      /* EFER.LMA */
    bool protected_mode; /* CR0.PE */
    bool paging;
    uint8_t stack_bits;  /* 16, 32, 64 (SS.B or long mode) */
    uint64_t a20_mask;   /* ~0, or ~(1 << 20) with the A20 gate closed (normal view only) */
    /* [write][seg]: limit + 1 where an access's checks reduce to the limit
     * (seg_refresh() keeps it; 0: the slow path decides) */
    uint64_t seg_fast_end[2][SEG_COUNT];
    uint8_t data_class;    /* TLB class of data accesses; TLB_NOFILL while #AC checks run */
    struct tlb_entry *data_tlb; /* tlb.entry[data_class]: the fast paths' array */

    /* MSRs kept as plain storage. */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base;
    uint64_t tsc_offset;
    uint64_t feature_control;
    uint64_t smi_count;
    uint64_t pat;

    /* Run state and events. */
    enum cpu_run_state state;
    bool intr_line;        /* INTR from the PIC / local APIC ExtINT */
    bool nmi_pending;
    bool nmi_blocked;
    bool interrupt_shadow; /* STI / MOV SS: blocks interrupts until the next boundary */
    bool ss_shadow;        /* MOV SS / POP SS: also delays the single-step trap */
    bool block_exit;       /* end the current block after this instruction */
    bool block_exit_redirect; /* ... and go on at block_exit_rip (a folded JMP/CALL left) */
    uint64_t block_exit_rip;
    bool yield;            /* end the quantum (PAUSE, HLT) */
    bool tf_suppress;      /* no single-step trap after this instruction (INT n) */
    struct block *cur_block; /* executing now; invalidation ends it early */
    /* Inside a block the run loop keeps RIP and icount in locals and stores only
     * the record it runs (cur_insn, NULL for the block's last record, which sees
     * exact rip/next_rip/icount); cpu_sync_rip() derives them from these fields
     * where a fault, a device or RDTSC needs them (cpu.md §5.4). */
    const struct insn *cur_insn;
    const struct insn *blk_first; /* first record of the running block */
    uint64_t blk_rip;             /* RIP of blk_first */
    uint64_t blk_icount;          /* icount before blk_first (its first run, in a loop) */
    /* A block whose loop entry runs it again (fused.c) counts its runs down
     * in loop_runs_left from loop_runs_from; loop_per_run is its instructions
     * per run, 0 outside such a chain (cpu_blk_icount()). */
    uint32_t loop_runs_left, loop_runs_from, loop_per_run;
    struct block *scratch;   /* one-off block for code in MMIO or across pages */
    bool smi_pending;
    bool in_smm;
    bool init_latched;
    bool smi_nmi_blocked;  /* NMIs were already blocked when the SMI arrived */
    /* I/O restart (cpu.md §4.7): the port access an SMI was raised by, as the
     * registers were before it; io_smi_trap holds it until SMM entry. */
    struct io_trap {
        uint64_t rip, rcx, rsi, rdi;
        uint32_t info; /* FEC0 layout: port 31:16, SZ32/16/8 bits 6:4, REP 3, STR 2, V 1, IN 0 */
    } io_trap;
    bool io_smi_trap;      /* the pending SMI came from the last port access */
    bool io_trap_string, io_trap_rep; /* set by INS/OUTS around their port accesses */
    bool io_restart_armed; /* this SMM entry saved valid I/O restart state */
    bool tcg_smm_compat;   /* -machine x-tcg-smm=on: QEMU-TCG deviations (cpu.md §4.8) */
    uint32_t smbase;

    /* Memory. */
    struct address_space *as;        /* current view: normal or SMM */
    struct address_space *as_normal;
    struct address_space *as_smm;
    struct address_space *io;
    struct tlb tlb;
    struct block_cache *blocks;
    const uint64_t *block_generation; /* of `blocks` */

    /* Exceptions unwind to the run loop (cpu.md §5.4). */
    jmp_buf unwind;
    int fault_depth; /* 0 normal; 1 delivering; 2 delivering #DF */
    int pending_vector;
    uint32_t pending_error;
    bool pending_has_error;

    uint64_t icount;        /* retired instructions */
    uint64_t run_start_icount; /* icount when the current cpu_run() began */
    uint64_t *virtual_time; /* machine clock, for RDTSC */
    bool pause_exit;        /* the last cpu_run() ended on PAUSE: a spin-wait (cpu.md §5.9) */
    unsigned index;         /* CPU number in the machine */
    uint32_t apic_id;
    /* -smp topology, for CPUID leaves 1 and 0xB (the IDs pack thread, core,
     * socket from bit 0 up, each as wide as its count needs, as QEMU does). */
    uint8_t topo_thread_bits, topo_core_bits;
    uint16_t topo_threads, topo_cores;

    struct lapic apic;
    struct apic_bus *apic_bus;     /* NULL: a lone CPU (unit tests) */
    bool apic_intr;                /* a fixed interrupt waits in the IRR */
    void (*on_apic_timer)(void *machine, struct cpu *c); /* deadline changed */
    void (*on_level_eoi)(void *board, uint8_t vector);  /* to the I/O APIC */
    void (*before_io)(void *board, struct cpu *c);      /* bring device time up to now */
    void *board;                                        /* opaque of intr_ack, on_level_eoi, before_io */

    cpu_intr_ack_fn intr_ack;
    cpu_shutdown_fn on_shutdown;
    void *machine;
    FILE *log;              /* guest_errors etc.; NULL = silent */
    bool log_guest_errors;
};

void cpu_init(struct cpu *c, unsigned index, struct block_cache *blocks,
              struct address_space *normal, struct address_space *smm, struct address_space *io);
/* Undoes cpu_init (the struct itself belongs to the caller): a hot-unplugged CPU. */
void cpu_destroy(struct cpu *c);
/* Power-on / reset state (SDM "Processor state after power-up, reset, INIT"). */
void cpu_reset(struct cpu *c, bool bsp);
/* Runs at most max_ticks instructions; returns the number retired. Stops
 * early on HLT, PAUSE, shutdown or wait-for-SIPI. */
uint64_t cpu_run(struct cpu *c, uint64_t max_ticks);
/* Ends the CPU's quantum at the next instruction boundary it can stop at. */
void cpu_yield(struct cpu *c);

uint64_t cpu_get_rflags(struct cpu *c);
void cpu_set_rflags(struct cpu *c, uint64_t value);
void cpu_update_mode(struct cpu *c);
/* Has the CPU something to do (running, or halted with a wake-up event)? */
bool cpu_wants_to_run(const struct cpu *c);
void cpu_tlb_flush(struct cpu *c);
void cpu_print_registers(struct cpu *c, FILE *out);

/* The decoded-block cache shared by all CPUs of a machine (cpu.md §5.3). */
struct block_cache *block_cache_create(void);
void block_cache_free(struct block_cache *bc);
void block_cache_register_cpu(struct block_cache *bc, struct cpu *c);
void block_cache_unregister_cpu(struct block_cache *bc, struct cpu *c);
/* A write reached RAM that holds decoded code: drop the blocks it hits. */
void block_cache_code_written(struct block_cache *bc, const uint8_t *host, unsigned len);

#endif
