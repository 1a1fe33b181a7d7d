/*
 * smm_state.h - the AMD64-style SMM state-save map that smmvm writes at SMI
 * entry and reads back at RSM, as QEMU and KVM lay it out.
 * Contract: ../shared/spec/cpu.md §4.3 and ../shared/spec/platform.md §6.5.
 *
 * The struct covers SMBASE+0xFE00 .. SMBASE+0xFFFF (512 bytes). Offsets in the
 * comments are from SMBASE. Freestanding: smmfw and the tests include it too,
 * so it needs nothing but <stdint.h>.
 */
#ifndef SMMVM_CPU_SMM_STATE_H
#define SMMVM_CPU_SMM_STATE_H

#include <stdint.h>

#define SMM_ENTRY_OFFSET      0x8000u   /* SMBASE + 0x8000: first instruction */
#define SMM_SAVE_OFFSET       0xFE00u   /* SMBASE + 0xFE00: start of this map */
#define SMM_DEFAULT_SMBASE    0x30000u  /* after power-on, reset and hot-add */
#define SMM_REVISION_ID       0x00020064u
#define SMM_REV_SMBASE_RELOC  (1u << 17) /* RSM reloads SMBASE from the map */
#define SMM_REV_IO_RESTART    (1u << 16) /* clear, exactly as QEMU reports */
#define SMM_SEG_ATTR_MASK     0xF0FFu   /* RSM ignores attribute bits 11:8 */

struct smm_seg {
    uint16_t selector;
    uint16_t attributes; /* 7:0 = descriptor byte 5, 15:12 = AVL, L, D/B, G */
    uint32_t limit;      /* expanded (byte-granular) limit */
    uint64_t base;
};

/* Segment order in the map, as the AMD64 layout has it. */
enum smm_seg_index {
    SMM_SEG_ES,
    SMM_SEG_CS,
    SMM_SEG_SS,
    SMM_SEG_DS,
    SMM_SEG_FS,
    SMM_SEG_GS,
    SMM_SEG_COUNT
};

/* Every field is naturally aligned in this layout, so no packing is needed;
 * the static asserts below pin each offset. */
struct smm_state_save {
    struct smm_seg seg[SMM_SEG_COUNT]; /* FE00 */
    uint32_t reserved_fe60;
    uint32_t gdtr_limit;  /* FE64 */
    uint64_t gdtr_base;   /* FE68 */
    uint16_t ldtr_selector; /* FE70 */
    uint16_t ldtr_attributes;
    uint32_t ldtr_limit;
    uint64_t ldtr_base;   /* FE78 */
    uint32_t reserved_fe80;
    uint32_t idtr_limit;  /* FE84 */
    uint64_t idtr_base;   /* FE88 */
    uint16_t tr_selector; /* FE90 */
    uint16_t tr_attributes;
    uint32_t tr_limit;
    uint64_t tr_base;     /* FE98 */
    uint64_t io_restart_rip; /* FEA0 */
    uint64_t io_restart_rcx; /* FEA8 */
    uint64_t io_restart_rsi; /* FEB0 */
    uint64_t io_restart_rdi; /* FEB8 */
    uint32_t io_trap_info;   /* FEC0 */
    uint32_t reserved_fec4;
    uint8_t io_restart;      /* FEC8: 0xFF asks RSM to re-execute the I/O instruction */
    uint8_t auto_halt;       /* FEC9: bit 0 = the SMI interrupted HLT */
    uint8_t reserved_feca[6];
    uint64_t efer;           /* FED0 */
    uint8_t reserved_fed8[0xFEFC - 0xFED8];
    uint32_t revision_id;    /* FEFC */
    uint32_t smbase;         /* FF00 */
    uint8_t reserved_ff04[0xFF48 - 0xFF04];
    uint64_t cr4;            /* FF48 (low 4 bytes used) */
    uint64_t cr3;            /* FF50 */
    uint64_t cr0;            /* FF58 (low 4 bytes used) */
    uint64_t dr7;            /* FF60 (low 4 bytes used) */
    uint64_t dr6;            /* FF68 (low 4 bytes used) */
    uint64_t rflags;         /* FF70 (low 4 bytes used) */
    uint64_t rip;            /* FF78 */
    uint64_t gpr_r15_to_rax[16]; /* FF80: R15 first ... RAX last at FFF8 */
};

/* GPR n (0 = RAX ... 15 = R15) lives at SMBASE + 0xFFF8 - 8*n. */
#define SMM_GPR_INDEX(n) (15 - (n))

#define SMM_STATE_OFFSET_OF(field) (SMM_SAVE_OFFSET + __builtin_offsetof(struct smm_state_save, field))

_Static_assert(sizeof(struct smm_state_save) == 0x200, "map covers FE00..FFFF");
_Static_assert(SMM_STATE_OFFSET_OF(gdtr_limit) == 0xFE64, "GDTR limit");
_Static_assert(SMM_STATE_OFFSET_OF(ldtr_selector) == 0xFE70, "LDTR");
_Static_assert(SMM_STATE_OFFSET_OF(idtr_limit) == 0xFE84, "IDTR limit");
_Static_assert(SMM_STATE_OFFSET_OF(tr_selector) == 0xFE90, "TR");
_Static_assert(SMM_STATE_OFFSET_OF(io_restart_rip) == 0xFEA0, "I/O restart RIP");
_Static_assert(SMM_STATE_OFFSET_OF(io_trap_info) == 0xFEC0, "I/O trap info");
_Static_assert(SMM_STATE_OFFSET_OF(io_restart) == 0xFEC8, "I/O restart");
_Static_assert(SMM_STATE_OFFSET_OF(auto_halt) == 0xFEC9, "auto-HALT");
_Static_assert(SMM_STATE_OFFSET_OF(efer) == 0xFED0, "EFER");
_Static_assert(SMM_STATE_OFFSET_OF(revision_id) == 0xFEFC, "revision");
_Static_assert(SMM_STATE_OFFSET_OF(smbase) == 0xFF00, "SMBASE");
_Static_assert(SMM_STATE_OFFSET_OF(cr4) == 0xFF48, "CR4");
_Static_assert(SMM_STATE_OFFSET_OF(cr0) == 0xFF58, "CR0");
_Static_assert(SMM_STATE_OFFSET_OF(rflags) == 0xFF70, "RFLAGS");
_Static_assert(SMM_STATE_OFFSET_OF(rip) == 0xFF78, "RIP");
_Static_assert(SMM_STATE_OFFSET_OF(gpr_r15_to_rax[SMM_GPR_INDEX(0)]) == 0xFFF8, "RAX");
_Static_assert(SMM_STATE_OFFSET_OF(gpr_r15_to_rax[SMM_GPR_INDEX(4)]) == 0xFFD8, "RSP");

#endif
