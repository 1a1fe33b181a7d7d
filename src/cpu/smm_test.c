/*
 * smm_test.c - System Management Mode in the CPU (smm.c; cpu.md §4,
 * platform.md §6): state-save map offsets, SMI entry state and map contents,
 * RSM restoring every mode, SMBASE relocation through SMBASE+0xFF00, every
 * RSM validity check shutting the CPU down without committing anything, RSM
 * outside SMM, MSR 0x34, the SMM memory view and TLB context, SMIs latched
 * inside SMM, NMIs held until RSM, and two machines in one process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpu/bare_cpu_test.h"
#include "cpu/smm_state.h"

#define SMBASE  0x30000u
#define ENTRY   (SMBASE + 0x8000u)
#define MAP     (SMBASE + 0xFE00u)
#define SCRATCH 0x60000u /* normal RAM the handlers store results into */

#define MAPF(field)    (MAP + offsetof(struct smm_state_save, field) - 0)
#define GPR_AT(map, n) ((map) + 0x1F8u - 8u * (n)) /* SMBASE + 0xFFF8 - 8n */

static int teardown(void **state)
{
    bare_free(*state);
    return 0;
}

/* A CPU in real mode, 32-bit protected mode or 64-bit mode (1 GiB identity
 * page), with distinct values in every GPR. */
static struct bare *make(unsigned mode)
{
    struct bare *b = bare_create(1u << 20);
    if (mode == 16) {
        bare_real_mode(b);
    } else if (mode == 32) {
        bare_prot32(b, 0, CR4_PSE, 0);
    } else {
        bare_poke64(b, 0x10000, 0x11000 | 7); /* P, W, U */
        bare_poke64(b, 0x11000, 0x0 | 0x87);  /* P, W, U, PS */
        bare_long64(b, 0x10000, true, true);
    }
    for (unsigned r = 0; r < 16; r++)
        b->cpu.gpr[r] = (0x0101010101010101ull * (r + 1)) ^ 0x8000000000000000ull;
    if (mode != 64)
        for (unsigned r = 0; r < 16; r++)
            b->cpu.gpr[r] &= 0xFFFFFFFF;
    b->cpu.gpr[R_SP] = mode == 16 ? 0x7FF0 : BARE_STACK_TOP;
    return b;
}

/* Puts code at the current RIP's address (linear = physical here). */
static uint64_t code_here(struct bare *b, const char *hex)
{
    uint64_t at = BARE_CODE + b->code_next;
    b->code_next += 0x40;
    bare_code(b, at, hex);
    b->cpu.rip = at - b->cpu.seg[SEG_CS].base;
    b->cpu.state = CPU_RUNNING;
    return at;
}

static void run(struct bare *b, uint64_t n)
{
    cpu_run(&b->cpu, n);
}

/* ---- the map layout ---- */

static void test_save_map_fields_sit_at_the_documented_offsets(void **state)
{
    (void)state;
#define AT(field, off) \
    assert_int_equal(SMM_SAVE_OFFSET + offsetof(struct smm_state_save, field), off)
    assert_int_equal(sizeof(struct smm_state_save), 0x200);
    for (unsigned s = 0; s < 6; s++) {
        AT(seg[s].selector, 0xFE00 + 0x10 * s);
        AT(seg[s].attributes, 0xFE02 + 0x10 * s);
        AT(seg[s].limit, 0xFE04 + 0x10 * s);
        AT(seg[s].base, 0xFE08 + 0x10 * s);
    }
    assert_int_equal(SMM_SEG_ES, 0);
    assert_int_equal(SMM_SEG_CS, 1);
    assert_int_equal(SMM_SEG_SS, 2);
    assert_int_equal(SMM_SEG_DS, 3);
    assert_int_equal(SMM_SEG_FS, 4);
    assert_int_equal(SMM_SEG_GS, 5);
    AT(gdtr_limit, 0xFE64);
    AT(gdtr_base, 0xFE68);
    AT(ldtr_selector, 0xFE70);
    AT(ldtr_attributes, 0xFE72);
    AT(ldtr_limit, 0xFE74);
    AT(ldtr_base, 0xFE78);
    AT(idtr_limit, 0xFE84);
    AT(idtr_base, 0xFE88);
    AT(tr_selector, 0xFE90);
    AT(tr_attributes, 0xFE92);
    AT(tr_limit, 0xFE94);
    AT(tr_base, 0xFE98);
    AT(io_restart_rip, 0xFEA0);
    AT(io_restart_rcx, 0xFEA8);
    AT(io_restart_rsi, 0xFEB0);
    AT(io_restart_rdi, 0xFEB8);
    AT(io_trap_info, 0xFEC0);
    AT(io_restart, 0xFEC8);
    AT(auto_halt, 0xFEC9);
    AT(efer, 0xFED0);
    AT(revision_id, 0xFEFC);
    AT(smbase, 0xFF00);
    AT(cr4, 0xFF48);
    AT(cr3, 0xFF50);
    AT(cr0, 0xFF58);
    AT(dr7, 0xFF60);
    AT(dr6, 0xFF68);
    AT(rflags, 0xFF70);
    AT(rip, 0xFF78);
    for (unsigned n = 0; n < 16; n++)
        AT(gpr_r15_to_rax[SMM_GPR_INDEX(n)], 0xFFF8 - 8 * n);
#undef AT
    assert_int_equal(SMM_REVISION_ID, 0x00020064);
    assert_true(SMM_REVISION_ID & SMM_REV_SMBASE_RELOC);
    assert_false(SMM_REVISION_ID & SMM_REV_IO_RESTART);
    assert_int_equal(SMM_DEFAULT_SMBASE, 0x30000);
}

/* ---- entry ---- */

static void test_smi_entry_loads_the_documented_state(void **state)
{
    struct bare *b = *state = make(64);
    struct cpu *c = &b->cpu;
    uint64_t gpr[16];
    bare_code(b, ENTRY, "F4");
    c->dr[7] = 0x155;
    c->cr2 = 0xDEAD000;
    cpu_set_rflags(c, 0x2 | FLAG_CF | FLAG_ZF | FLAG_IF | FLAG_DF);
    uint64_t cr0 = c->cr0 | CR0_TS | CR0_EM | CR0_MP, cr3 = c->cr3;
    c->cr0 = cr0;
    struct dtable gdtr = c->gdtr, idtr = c->idtr;
    memcpy(gpr, c->gpr, sizeof(gpr));
    code_here(b, "90 90");
    c->smi_pending = true;
    run(b, 10);

    assert_true(c->in_smm);
    assert_false(c->smi_pending);
    assert_int_equal(c->state, CPU_HALTED);
    assert_int_equal(c->rip, 0x8001); /* after the handler's HLT */
    assert_int_equal(c->seg[SEG_CS].selector, SMBASE >> 4);
    assert_int_equal(c->seg[SEG_CS].base, SMBASE);
    assert_int_equal(c->seg[SEG_CS].limit, 0xFFFFFFFF);
    assert_int_equal(c->seg[SEG_CS].attr, 0x8093);
    for (unsigned s = 0; s < SEG_COUNT; s++) {
        if (s == SEG_CS)
            continue;
        assert_int_equal(c->seg[s].selector, 0);
        assert_int_equal(c->seg[s].base, 0);
        assert_int_equal(c->seg[s].limit, 0xFFFFFFFF);
        assert_int_equal(c->seg[s].attr, 0x8093);
    }
    assert_int_equal(cpu_get_rflags(c), 0x2);
    assert_int_equal(c->cr0, cr0 & ~(uint64_t)(CR0_PE | CR0_EM | CR0_TS | CR0_PG));
    assert_true(c->cr0 & CR0_MP);
    assert_int_equal(c->cr4, 0);
    assert_int_equal(c->efer, 0);
    assert_int_equal(c->dr[7], 0x400);
    assert_int_equal(c->cr3, cr3);
    assert_int_equal(c->cr2, 0xDEAD000);
    assert_int_equal(c->gdtr.base, gdtr.base);
    assert_int_equal(c->idtr.limit, idtr.limit);
    assert_memory_equal(c->gpr, gpr, sizeof(gpr));
    assert_int_equal(c->code_bits, 16);
    assert_false(c->protected_mode);
    assert_false(c->long_mode);
    assert_true(c->nmi_blocked);
    assert_int_equal(c->smi_count, 1);
}

static void test_smi_entry_from_real_mode_keeps_cr0_0x60000010(void **state)
{
    struct bare *b = *state = make(16);
    bare_code(b, ENTRY, "F4");
    code_here(b, "90");
    b->cpu.smi_pending = true;
    run(b, 10);
    assert_true(b->cpu.in_smm);
    assert_int_equal(b->cpu.cr0, 0x60000010);
    assert_int_equal(b->cpu.dr[7], 0x400);
    assert_int_equal(bare_peek16(b, MAPF(seg[SMM_SEG_CS].attributes)), 0x009B);
    assert_int_equal(bare_peek32(b, MAPF(seg[SMM_SEG_CS].limit)), 0xFFFF);
    assert_int_equal(bare_peek16(b, MAPF(seg[SMM_SEG_CS].selector)), BARE_CODE >> 4);
    assert_int_equal(bare_peek64(b, MAPF(seg[SMM_SEG_CS].base)), BARE_CODE);
    assert_int_equal(bare_peek16(b, MAPF(seg[SMM_SEG_DS].attributes)), 0x0093);
    assert_int_equal(bare_peek16(b, MAPF(ldtr_attributes)), 0x0082);
    assert_int_equal(bare_peek16(b, MAPF(tr_attributes)), 0x008B);
    assert_int_equal(bare_peek32(b, MAPF(tr_limit)), 0xFFFF);
    assert_int_equal(bare_peek32(b, MAPF(dr6)), 0xFFFF0FF0);
    assert_int_equal(bare_peek32(b, MAPF(cr0)), 0x60000010);
}

static void test_smi_entry_writes_the_save_map(void **state)
{
    struct bare *b = *state = make(64);
    struct cpu *c = &b->cpu;
    bare_code(b, ENTRY, "F4");
    c->dr[7] = 0x155;
    c->dr[6] = 0xFFFF4FF1;
    c->ldtr = (struct segment){0x50, 0x0082, 0x1234, 0xABC000};
    c->seg[SEG_FS].base = 0x123456789A;
    cpu_set_rflags(c, 0x2 | FLAG_CF | FLAG_OF | FLAG_DF);
    uint64_t at = code_here(b, "90 90");
    c->smi_pending = true;
    run(b, 10);

    assert_int_equal(bare_peek32(b, MAPF(revision_id)), 0x00020064);
    assert_int_equal(bare_peek32(b, MAPF(smbase)), SMBASE);
    assert_int_equal(bare_peek64(b, MAPF(rip)), at); /* taken before the first instruction */
    for (unsigned n = 0; n < 16; n++)
        assert_int_equal(bare_peek64(b, GPR_AT(MAP, n)), c->gpr[n]);
    assert_int_equal(bare_peek64(b, MAPF(rflags)) & 0xFFFFFFFF, 0x2 | FLAG_CF | FLAG_OF | FLAG_DF);
    assert_int_equal(bare_peek32(b, MAPF(cr0)), CR0_PE | CR0_ET | CR0_NE | CR0_PG | CR0_WP);
    assert_int_equal(bare_peek64(b, MAPF(cr3)), 0x10000);
    assert_int_equal(bare_peek32(b, MAPF(cr4)), CR4_PAE | CR4_PSE);
    assert_int_equal(bare_peek64(b, MAPF(efer)), EFER_LME | EFER_LMA | EFER_NXE);
    assert_int_equal(bare_peek32(b, MAPF(dr7)), 0x155);
    assert_int_equal(bare_peek32(b, MAPF(dr6)), 0xFFFF4FF1); /* reserved bits as MOV from DR6 */
    assert_int_equal(bare_peek16(b, MAPF(seg[SMM_SEG_CS].selector)), SEL_CODE64);
    assert_int_equal(bare_peek16(b, MAPF(seg[SMM_SEG_CS].attributes)), 0xA09B);
    assert_int_equal(bare_peek16(b, MAPF(seg[SMM_SEG_SS].selector)), SEL_DATA);
    assert_int_equal(bare_peek64(b, MAPF(seg[SMM_SEG_FS].base)), 0x123456789Aull);
    assert_int_equal(bare_peek64(b, MAPF(gdtr_base)), BARE_GDT);
    assert_int_equal(bare_peek32(b, MAPF(gdtr_limit)), 0x47);
    assert_int_equal(bare_peek64(b, MAPF(idtr_base)), BARE_IDT);
    assert_int_equal(bare_peek32(b, MAPF(idtr_limit)), 32 * 16 - 1);
    assert_int_equal(bare_peek16(b, MAPF(ldtr_selector)), 0x50);
    assert_int_equal(bare_peek32(b, MAPF(ldtr_limit)), 0x1234);
    assert_int_equal(bare_peek64(b, MAPF(ldtr_base)), 0xABC000);
    assert_int_equal(bare_peek16(b, MAPF(tr_selector)), SEL_TSS);
    assert_int_equal(bare_peek64(b, MAPF(tr_base)), BARE_TSS);
}

static void test_smi_leaves_unnamed_map_bytes_untouched(void **state)
{
    struct bare *b = *state = make(32);
    bare_code(b, ENTRY, "F4");
    bare_poke32(b, MAP + 0x60, 0x5A5A5A5A);      /* FE60: not a field */
    bare_poke32(b, MAP + 0xE0, 0xA5A5A5A5);      /* FEE0 */
    bare_poke32(b, MAP + 0x110, 0x12345678);     /* FF10 */
    bare_poke32(b, SMBASE + 0xFC00, 0x11111111); /* edk2's area below the map */
    code_here(b, "90");
    b->cpu.smi_pending = true;
    run(b, 10);
    assert_true(b->cpu.in_smm);
    assert_int_equal(bare_peek32(b, MAP + 0x60), 0x5A5A5A5A);
    assert_int_equal(bare_peek32(b, MAP + 0xE0), 0xA5A5A5A5);
    assert_int_equal(bare_peek32(b, MAP + 0x110), 0x12345678);
    assert_int_equal(bare_peek32(b, SMBASE + 0xFC00), 0x11111111);
}

static void test_smi_wakes_a_halted_cpu_and_saves_rip_after_hlt(void **state)
{
    struct bare *b = *state = make(32);
    bare_code(b, ENTRY, "F4");
    uint64_t at = code_here(b, "F4");
    run(b, 10);
    assert_int_equal(b->cpu.state, CPU_HALTED);
    assert_false(b->cpu.in_smm);
    b->cpu.smi_pending = true;
    assert_true(cpu_wants_to_run(&b->cpu));
    run(b, 10);
    assert_true(b->cpu.in_smm);
    assert_int_equal(bare_peek64(b, MAPF(rip)), at + 1);
}

/* ---- RSM ---- */

/* SMI at the first instruction of `code`, handler = RSM; returns the code address. */
static uint64_t smi_then_rsm(struct bare *b, const char *code)
{
    bare_code(b, ENTRY, "0F AA");
    uint64_t at = code_here(b, code);
    b->cpu.smi_pending = true;
    run(b, 20);
    return at;
}

static void check_round_trip(unsigned mode)
{
    struct bare *b = make(mode);
    struct cpu *c = &b->cpu;
    cpu_set_rflags(c, 0x2 | FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_DF | FLAG_OF);
    c->dr[7] = 0x403;
    c->ldtr = (struct segment){0x48, 0x0082, 0xFFF, 0x9000};
    struct cpu before = *c;
    uint64_t at = smi_then_rsm(b, "F4");

    assert_false(c->in_smm);
    assert_false(c->nmi_blocked);
    assert_int_equal(c->smi_count, 1);
    assert_int_equal(c->state, CPU_HALTED);
    assert_int_equal(c->rip, at + 1 - before.seg[SEG_CS].base);
    assert_memory_equal(c->gpr, before.gpr, sizeof(c->gpr));
    assert_int_equal(cpu_get_rflags(c), cpu_get_rflags(&before));
    assert_int_equal(c->cr0, before.cr0);
    assert_int_equal(c->cr3, before.cr3);
    assert_int_equal(c->cr4, before.cr4);
    assert_int_equal(c->efer, before.efer);
    assert_int_equal(c->dr[7], before.dr[7]);
    for (unsigned s = 0; s < SEG_COUNT; s++) {
        assert_int_equal(c->seg[s].selector, before.seg[s].selector);
        assert_int_equal(c->seg[s].attr, before.seg[s].attr);
        assert_int_equal(c->seg[s].limit, before.seg[s].limit);
        assert_int_equal(c->seg[s].base, before.seg[s].base);
    }
    assert_int_equal(c->gdtr.base, before.gdtr.base);
    assert_int_equal(c->gdtr.limit, before.gdtr.limit);
    assert_int_equal(c->idtr.base, before.idtr.base);
    assert_int_equal(c->idtr.limit, before.idtr.limit);
    assert_int_equal(c->ldtr.selector, 0x48);
    assert_int_equal(c->ldtr.base, 0x9000);
    assert_int_equal(c->tr.selector, before.tr.selector);
    assert_int_equal(c->tr.base, before.tr.base);
    assert_int_equal(c->code_bits, before.code_bits);
    assert_int_equal(c->long_mode, before.long_mode);
    assert_int_equal(c->protected_mode, before.protected_mode);
    assert_int_equal(c->cpl, before.cpl);
    assert_int_equal(c->smbase, SMBASE);
    bare_free(b);
}

static void test_rsm_returns_to_real_mode_with_all_state(void **state)
{
    (void)state;
    check_round_trip(16);
}

static void test_rsm_returns_to_protected_mode_with_all_state(void **state)
{
    (void)state;
    check_round_trip(32);
}

static void test_rsm_returns_to_long_mode_with_all_state(void **state)
{
    (void)state;
    check_round_trip(64);
}

static void test_rsm_loads_state_the_handler_edited(void **state)
{
    struct bare *b = *state = make(32);
    /* Handler: mov dword [MAP RAX], 0x600DF00D ; mov dword [MAP RIP], target ; rsm */
    uint64_t target = BARE_CODE + 0x1000;
    bare_code(b, target, "F4");
    char hex[160];
    snprintf(hex, sizeof(hex),
             "66 67 C7 05 %02X %02X %02X 00 0D F0 0D 60 "
             "66 67 C7 05 %02X %02X %02X 00 %02X %02X %02X 00 0F AA",
             GPR_AT(MAP, 0) & 0xFF, (GPR_AT(MAP, 0) >> 8) & 0xFF, GPR_AT(MAP, 0) >> 16,
             (unsigned)MAPF(rip) & 0xFF, ((unsigned)MAPF(rip) >> 8) & 0xFF,
             (unsigned)MAPF(rip) >> 16, (unsigned)target & 0xFF, ((unsigned)target >> 8) & 0xFF,
             (unsigned)target >> 16);
    bare_code(b, ENTRY, hex);
    code_here(b, "90");
    b->cpu.smi_pending = true;
    run(b, 20);
    assert_false(b->cpu.in_smm);
    assert_int_equal(b->cpu.state, CPU_HALTED);
    assert_int_equal(b->cpu.rip, target + 1);
    assert_int_equal((uint32_t)b->cpu.gpr[R_AX], 0x600DF00D);
}

static void test_rsm_relocates_smbase_through_the_ff00_field(void **state)
{
    struct bare *b = *state = make(16);
    /* mov dword [SMBASE+0xFF00], 0x50000 ; rsm */
    bare_code(b, ENTRY, "66 67 C7 05 00 FF 03 00 00 00 05 00 0F AA");
    code_here(b, "F4");
    b->cpu.smi_pending = true;
    run(b, 20);
    assert_false(b->cpu.in_smm);
    assert_int_equal(b->cpu.smbase, 0x50000);

    /* The next SMI enters at 0x58000 with CS 0x5000 and saves at 0x5FE00. */
    bare_code(b, 0x58000, "F4");
    code_here(b, "90");
    b->cpu.smi_pending = true;
    run(b, 10);
    assert_true(b->cpu.in_smm);
    assert_int_equal(b->cpu.seg[SEG_CS].selector, 0x5000);
    assert_int_equal(b->cpu.seg[SEG_CS].base, 0x50000);
    assert_int_equal(b->cpu.rip, 0x8001);
    assert_int_equal(bare_peek32(b, 0x5FF00), 0x50000);
    assert_int_equal(bare_peek32(b, 0x5FEFC), 0x00020064);
}

static void test_rsm_keeps_smbase_when_revision_bit_17_is_clear(void **state)
{
    struct bare *b = *state = make(16);
    /* mov dword [FEFC], 0x64 ; mov dword [FF00], 0x50000 ; rsm */
    bare_code(b, ENTRY,
              "66 67 C7 05 FC FE 03 00 64 00 00 00 "
              "66 67 C7 05 00 FF 03 00 00 00 05 00 0F AA");
    code_here(b, "F4");
    b->cpu.smi_pending = true;
    run(b, 20);
    assert_false(b->cpu.in_smm);
    assert_int_equal(b->cpu.smbase, SMBASE);
}

static void test_rsm_accepts_any_smbase_value(void **state)
{
    struct bare *b = *state = make(16);
    /* mov dword [FF00], 0x00012345 (unaligned) ; rsm */
    bare_code(b, ENTRY, "66 67 C7 05 00 FF 03 00 45 23 01 00 0F AA");
    code_here(b, "F4");
    b->cpu.smi_pending = true;
    run(b, 20);
    assert_int_equal(b->cpu.smbase, 0x12345);
    bare_code(b, 0x12345 + 0x8000, "F4");
    code_here(b, "90");
    b->cpu.smi_pending = true;
    run(b, 10);
    assert_true(b->cpu.in_smm);
    assert_int_equal(b->cpu.seg[SEG_CS].selector, 0x1234);
    assert_int_equal(b->cpu.seg[SEG_CS].base, 0x12345);
    assert_int_equal(bare_peek32(b, 0x12345 + 0xFF00), 0x12345);
}

/* ---- RSM validity checks (cpu.md §4.4) ---- */

/* Enters SMM from 64-bit mode (as the run loop does on an SMI), lets `edit`
 * corrupt the map, then runs the RSM at the entry point. */
static void check_rsm_refused(void (*edit)(struct bare *b), const char *why_part)
{
    struct bare *b = make(64);
    struct cpu *c = &b->cpu;
    bare_code(b, ENTRY, "0F AA");
    code_here(b, "F4");
    cpu_smm_enter(c);
    edit(b);
    c->gpr[R_BX] = 0x5555; /* an SMM-time value the failed RSM must not overwrite */
    uint64_t cr0 = c->cr0;
    run(b, 10);
    if (c->state != CPU_SHUTDOWN)
        print_error("RSM accepted a map with '%s'\n", why_part);
    assert_int_equal(c->state, CPU_SHUTDOWN);
    assert_int_equal(b->shutdowns, 1);
    if (!strstr(b->why, why_part))
        print_error("reason '%s' does not name '%s'\n", b->why, why_part);
    assert_non_null(strstr(b->why, why_part));
    /* Nothing committed. */
    assert_true(c->in_smm);
    assert_int_equal(c->gpr[R_BX], 0x5555);
    assert_int_equal(c->cr0, cr0);
    assert_int_equal(c->efer, 0);
    assert_int_equal(c->smbase, SMBASE);
    bare_free(b);
}

static void edit_pg_without_pe(struct bare *b)
{
    bare_poke64(b, MAPF(cr0), CR0_PG | CR0_ET);
    bare_poke64(b, MAPF(efer), 0);
}
static void edit_nw_without_cd(struct bare *b)
{
    bare_poke64(b, MAPF(cr0), bare_peek64(b, MAPF(cr0)) | CR0_NW);
}
static void edit_cr0_high(struct bare *b)
{
    bare_poke64(b, MAPF(cr0), bare_peek64(b, MAPF(cr0)) | (1ull << 32));
}
static void edit_dr6_high(struct bare *b)
{
    bare_poke64(b, MAPF(dr6), bare_peek64(b, MAPF(dr6)) | (1ull << 40));
}
static void edit_dr7_high(struct bare *b)
{
    bare_poke64(b, MAPF(dr7), bare_peek64(b, MAPF(dr7)) | (1ull << 63));
}
static void edit_cr4_vmxe(struct bare *b)
{
    bare_poke64(b, MAPF(cr4), bare_peek64(b, MAPF(cr4)) | (1ull << 13));
}
static void edit_cr4_smep(struct bare *b)
{
    bare_poke64(b, MAPF(cr4), bare_peek64(b, MAPF(cr4)) | (1ull << 20));
}
static void edit_cr4_osxsave(struct bare *b)
{
    bare_poke64(b, MAPF(cr4), bare_peek64(b, MAPF(cr4)) | (1ull << 18));
}
static void edit_cr3_reserved(struct bare *b)
{
    bare_poke64(b, MAPF(cr3), bare_peek64(b, MAPF(cr3)) | (1ull << 45));
}
static void edit_efer_svme(struct bare *b)
{
    bare_poke64(b, MAPF(efer), bare_peek64(b, MAPF(efer)) | (1ull << 12));
}
static void edit_efer_bit1(struct bare *b)
{
    bare_poke64(b, MAPF(efer), bare_peek64(b, MAPF(efer)) | (1ull << 1));
}
static void edit_lme_pg_without_pae(struct bare *b)
{
    bare_poke64(b, MAPF(cr4), CR4_PSE);
}
static void edit_cs_l_and_d(struct bare *b)
{
    bare_poke16(b, MAPF(seg[SMM_SEG_CS].attributes), 0xE09B);
}
static void edit_noncanonical_rip(struct bare *b)
{
    bare_poke64(b, MAPF(rip), 0x0000800000000000ull);
}

static void test_rsm_with_pg_and_no_pe_shuts_down(void **state)
{
    (void)state;
    check_rsm_refused(edit_pg_without_pe, "PG=1 with CR0.PE=0");
}

static void test_rsm_with_nw_and_no_cd_shuts_down(void **state)
{
    (void)state;
    check_rsm_refused(edit_nw_without_cd, "NW=1");
}

static void test_rsm_with_cr0_high_bits_shuts_down(void **state)
{
    (void)state;
    check_rsm_refused(edit_cr0_high, "63:32");
}

static void test_rsm_with_dr6_high_bits_shuts_down(void **state)
{
    (void)state;
    check_rsm_refused(edit_dr6_high, "63:32");
}

static void test_rsm_with_dr7_high_bits_shuts_down(void **state)
{
    (void)state;
    check_rsm_refused(edit_dr7_high, "63:32");
}

static void test_rsm_with_unadvertised_cr4_bits_shuts_down(void **state)
{
    (void)state;
    check_rsm_refused(edit_cr4_vmxe, "CR4");
    check_rsm_refused(edit_cr4_smep, "CR4");
    check_rsm_refused(edit_cr4_osxsave, "CR4");
}

static void test_rsm_with_cr3_reserved_bits_shuts_down(void **state)
{
    (void)state;
    check_rsm_refused(edit_cr3_reserved, "CR3");
}

static void test_rsm_with_efer_reserved_bits_shuts_down(void **state)
{
    (void)state;
    check_rsm_refused(edit_efer_svme, "EFER");
    check_rsm_refused(edit_efer_bit1, "EFER");
}

static void test_rsm_into_long_mode_without_pae_shuts_down(void **state)
{
    (void)state;
    check_rsm_refused(edit_lme_pg_without_pae, "PAE=0");
}

static void test_rsm_into_long_mode_with_cs_l_and_d_shuts_down(void **state)
{
    (void)state;
    check_rsm_refused(edit_cs_l_and_d, "CS.L=1 and CS.D=1");
}

static void test_rsm_to_noncanonical_64_bit_rip_shuts_down(void **state)
{
    (void)state;
    check_rsm_refused(edit_noncanonical_rip, "RIP");
}

static void test_rsm_ignores_attribute_bits_11_to_8(void **state)
{
    struct bare *b = *state = make(64);
    bare_code(b, ENTRY, "0F AA");
    code_here(b, "F4");
    cpu_smm_enter(&b->cpu);
    bare_poke16(b, MAPF(seg[SMM_SEG_DS].attributes), 0xCF93);
    run(b, 10);
    assert_false(b->cpu.in_smm);
    assert_int_equal(b->cpu.seg[SEG_DS].attr, 0xC093);
}

static void test_rsm_outside_smm_is_ud_in_real_mode(void **state)
{
    struct bare *b = *state = make(16);
    bare_poke32(b, 6 * 4, 0x00005000); /* IVT[6] = 0000:5000 */
    bare_code(b, 0x5000, "F4");
    uint64_t at = code_here(b, "0F AA");
    run(b, 10);
    assert_int_equal(b->cpu.state, CPU_HALTED);
    assert_int_equal(b->cpu.rip, 0x5001);
    assert_int_equal(bare_peek16(b, b->cpu.gpr[R_SP] & 0xFFFF), at - BARE_CODE); /* IP */
    assert_int_equal(bare_peek16(b, (b->cpu.gpr[R_SP] + 2) & 0xFFFF), BARE_CODE >> 4);
    assert_false(b->cpu.in_smm);
}

static void test_rsm_outside_smm_is_ud_in_long_mode(void **state)
{
    struct bare *b = *state = make(64);
    uint64_t at = code_here(b, "0F AA");
    run(b, 10);
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_int_equal(bare_peek64(b, b->cpu.gpr[R_SP]), at);
    assert_int_equal(b->shutdowns, 0);
}

/* ---- MSR 0x34 ---- */

static void test_msr_0x34_counts_smm_entries(void **state)
{
    struct bare *b = *state = make(16);
    /* mov ecx, 0x34 ; rdmsr ; mov [dword SCRATCH], eax ; rsm */
    bare_code(b, ENTRY, "66 B9 34 00 00 00 0F 32 66 67 A3 00 00 06 00 0F AA");
    for (unsigned k = 1; k <= 3; k++) {
        code_here(b, "F4");
        b->cpu.smi_pending = true;
        run(b, 20);
        assert_false(b->cpu.in_smm);
        assert_int_equal(bare_peek32(b, SCRATCH), k);
    }
    assert_int_equal(b->cpu.smi_count, 3);
}

static void test_msr_0x34_is_read_only(void **state)
{
    struct bare *b = *state = make(64);
    b->cpu.gpr[R_CX] = 0x34;
    b->cpu.gpr[R_AX] = 7;
    b->cpu.gpr[R_DX] = 0;
    code_here(b, "0F 30 0F 0B");
    run(b, 10);
    assert_int_equal(bare_vector(b), EXC_GP);
    assert_int_equal(b->cpu.smi_count, 0);
}

/* ---- events around SMM ---- */

static void test_smi_raised_inside_smm_is_taken_once_after_rsm(void **state)
{
    struct bare *b = *state = make(32);
    bare_code(b, ENTRY, "90 90 0F AA");
    uint64_t at = code_here(b, "F4");
    cpu_smm_enter(&b->cpu);
    b->cpu.smi_pending = true; /* two SMIs while in SMM collapse into one */
    b->cpu.smi_pending = true;
    run(b, 50);
    assert_false(b->cpu.in_smm);
    assert_false(b->cpu.smi_pending);
    assert_int_equal(b->cpu.smi_count, 2);
    assert_int_equal(b->cpu.state, CPU_HALTED);
    assert_int_equal(b->cpu.rip, at + 1);
}

static void test_nmi_is_held_in_smm_and_taken_after_rsm(void **state)
{
    struct bare *b = *state = make(64);
    /* Handler: four NOPs, then RSM. */
    bare_code(b, ENTRY, "90 90 90 90 0F AA");
    code_here(b, "F4");
    cpu_smm_enter(&b->cpu);
    b->cpu.nmi_pending = true;
    run(b, 3); /* three NOPs: still in SMM, NMI not taken */
    assert_true(b->cpu.in_smm);
    assert_true(b->cpu.nmi_pending);
    run(b, 20);
    assert_false(b->cpu.in_smm);
    assert_int_equal(bare_vector(b), EXC_NMI);
}

/* ---- the SMM view ---- */

/* Locks the SMBASE window as the MCH does in state C (platform.md §2.8). */
static void lock_smbase_window(struct bare *b)
{
    mem_region_add(b->system, mem_region_blackhole(&b->sys, "smbase-blackhole", 0x20000), SMBASE,
                   1);
    mem_region_add(b->smram, mem_region_alias(&b->sys, "smbase-window", b->ram, SMBASE, 0x20000),
                   SMBASE, 0);
}

static void test_smm_entry_and_rsm_use_the_smm_view(void **state)
{
    struct bare *b = *state = make(64);
    lock_smbase_window(b);
    /* Handler (in SMRAM): mov eax, [dword FF00] ; mov [dword SCRATCH], eax ; rsm */
    bare_code(b, ENTRY, "66 67 A1 00 FF 03 00 66 67 A3 00 00 06 00 0F AA");
    /* After RSM: mov eax, [0x3FF00] in the normal view: black hole. */
    code_here(b, "8B 04 25 00 FF 03 00 0F 0B");
    b->cpu.smi_pending = true;
    run(b, 20);
    assert_false(b->cpu.in_smm);
    assert_int_equal(bare_vector(b), EXC_UD);
    assert_int_equal(bare_peek32(b, SCRATCH), SMBASE); /* the map was in SMRAM RAM */
    assert_int_equal(bare_peek32(b, MAPF(revision_id)), 0x00020064);
    assert_int_equal((uint32_t)b->cpu.gpr[R_AX], 0xFFFFFFFF);
    assert_int_equal(mem_read(b->as, MAPF(smbase), 4), 0xFFFFFFFF);
}

/* A page that is different RAM in the two views: each view must see its own
 * frame even though the other view's translation was cached just before. */
static void test_tlb_keeps_normal_and_smm_translations_apart(void **state)
{
    struct bare *b = *state = make(32);
    mem_region_add(b->smram, mem_region_alias(&b->sys, "window", b->ram, 0x67000, 0x1000), 0x68000,
                   0);
    bare_poke32(b, 0x68000, 0xAAAA);
    bare_poke32(b, 0x67000, 0xBBBB);
    /* SMM: mov eax, [dword 0x68000] ; mov [dword SCRATCH], eax ; rsm */
    bare_code(b, ENTRY, "66 67 A1 00 80 06 00 66 67 A3 00 00 06 00 0F AA");
    code_here(b, "A1 00 80 06 00 89 C6 F4"); /* mov eax, [0x68000]; mov esi, eax; hlt */
    run(b, 10);
    assert_int_equal((uint32_t)b->cpu.gpr[R_SI], 0xAAAA);
    code_here(b, "A1 00 80 06 00 89 C7 F4"); /* the same, into edi, after the SMI */
    b->cpu.smi_pending = true;
    run(b, 20);
    assert_int_equal(bare_peek32(b, SCRATCH), 0xBBBB);
    assert_int_equal((uint32_t)b->cpu.gpr[R_DI], 0xAAAA);
    assert_int_equal(b->cpu.smi_count, 1);
}

static void test_smm_code_can_write_through_cs(void **state)
{
    struct bare *b = *state = make(16);
    /* mov dword cs:[0xFF00], 0x50000 ; rsm - CS is a writable data segment in SMM */
    bare_code(b, ENTRY, "2E 66 C7 06 00 FF 00 00 05 00 0F AA");
    code_here(b, "F4");
    b->cpu.smi_pending = true;
    run(b, 20);
    assert_false(b->cpu.in_smm);
    assert_int_equal(b->cpu.smbase, 0x50000);
}

/* An APM-like port: a write raises an SMI on the writing CPU. */
static void apm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct bare *b = opaque;
    (void)offset, (void)value, (void)size;
    b->cpu.smi_pending = true;
}

static uint64_t apm_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque, (void)offset, (void)size;
    return 0;
}

static void test_smi_raised_by_out_is_taken_right_after_it(void **state)
{
    struct bare *b = *state = make(32);
    static const struct mem_ops apm_ops = {"apm", apm_read, apm_write, 1, 4};
    mem_region_add(b->io_root, mem_region_mmio(&b->sys, "apm", 1, &apm_ops, b), 0xB2, 0);
    bare_code(b, ENTRY, "F4");
    uint64_t at = code_here(b, "E6 B2 40 40 40 F4"); /* out 0xB2, al ; inc eax x3 ; hlt */
    b->cpu.gpr[R_AX] = 0;
    run(b, 20);
    assert_true(b->cpu.in_smm);
    assert_int_equal(bare_peek64(b, MAPF(rip)), at + 2); /* the boundary right after OUT */
    assert_int_equal(bare_peek64(b, GPR_AT(MAP, 0)), 0); /* no INC ran before the SMI */
}

static void test_rsm_returns_to_cpl3(void **state)
{
    struct bare *b = *state = make(64);
    bare_user64(b);
    bare_code(b, ENTRY, "0F AA");
    code_here(b, "90 0F 0B");
    b->cpu.smi_pending = true;
    run(b, 20);
    assert_false(b->cpu.in_smm);
    assert_int_equal(bare_vector(b), EXC_UD); /* UD2 at CPL 3, delivered to CPL 0 */
    assert_int_equal(bare_peek64(b, b->cpu.gpr[R_SP] + 8), SEL_UCODE64); /* pushed CS */
    assert_int_equal(bare_peek64(b, b->cpu.gpr[R_SP] + 32), SEL_UDATA);  /* pushed SS */
}

/* ---- two machines ---- */

static void test_two_machines_do_not_interfere(void **state)
{
    (void)state;
    struct bare *m1 = make(16), *m2 = make(16);
    bare_code(m1, ENTRY, "66 67 C7 05 00 FF 03 00 00 00 05 00 0F AA"); /* relocate to 0x50000 */
    bare_code(m2, ENTRY, "0F AA");
    code_here(m1, "B0 01 F4");
    code_here(m2, "B0 02 F4"); /* same address, other bytes */
    m1->cpu.smi_pending = true;
    run(m1, 1); /* interleave a few instructions at a time */
    run(m2, 1);
    run(m1, 20);
    run(m2, 20);
    assert_int_equal(m1->cpu.gpr[R_AX] & 0xFF, 1);
    assert_int_equal(m2->cpu.gpr[R_AX] & 0xFF, 2);
    assert_int_equal(m1->cpu.smbase, 0x50000);
    assert_int_equal(m2->cpu.smbase, SMBASE);
    assert_int_equal(m1->cpu.smi_count, 1);
    assert_int_equal(m2->cpu.smi_count, 0);
    assert_int_equal(bare_peek32(m2, MAPF(revision_id)), 0); /* m2 never wrote a map */
    assert_int_equal(bare_peek32(m1, MAPF(revision_id)), 0x00020064);
    /* A map change in one machine leaves the other's view alone. */
    mem_region_add(m1->system, mem_region_blackhole(&m1->sys, "bh", 0x1000), SCRATCH, 1);
    bare_poke32(m2, SCRATCH, 0x22);
    assert_int_equal(mem_read(m1->as, SCRATCH, 4), 0xFFFFFFFF);
    assert_int_equal(mem_read(m2->as, SCRATCH, 4), 0x22);
    /* And both keep running their own code afterwards. */
    code_here(m1, "B0 11 F4");
    code_here(m2, "B0 22 F4");
    run(m2, 10);
    run(m1, 10);
    assert_int_equal(m1->cpu.gpr[R_AX] & 0xFF, 0x11);
    assert_int_equal(m2->cpu.gpr[R_AX] & 0xFF, 0x22);
    bare_free(m1);
    bare_free(m2);
}

int main(void)
{
#define T(name) cmocka_unit_test_teardown(name, teardown)
#define N(name) cmocka_unit_test(name)
    const struct CMUnitTest tests[] = {
        N(test_save_map_fields_sit_at_the_documented_offsets),
        T(test_smi_entry_loads_the_documented_state),
        T(test_smi_entry_from_real_mode_keeps_cr0_0x60000010),
        T(test_smi_entry_writes_the_save_map),
        T(test_smi_leaves_unnamed_map_bytes_untouched),
        T(test_smi_wakes_a_halted_cpu_and_saves_rip_after_hlt),
        N(test_rsm_returns_to_real_mode_with_all_state),
        N(test_rsm_returns_to_protected_mode_with_all_state),
        N(test_rsm_returns_to_long_mode_with_all_state),
        T(test_rsm_loads_state_the_handler_edited),
        T(test_rsm_relocates_smbase_through_the_ff00_field),
        T(test_rsm_keeps_smbase_when_revision_bit_17_is_clear),
        T(test_rsm_accepts_any_smbase_value),
        N(test_rsm_with_pg_and_no_pe_shuts_down),
        N(test_rsm_with_nw_and_no_cd_shuts_down),
        N(test_rsm_with_cr0_high_bits_shuts_down),
        N(test_rsm_with_dr6_high_bits_shuts_down),
        N(test_rsm_with_dr7_high_bits_shuts_down),
        N(test_rsm_with_unadvertised_cr4_bits_shuts_down),
        N(test_rsm_with_cr3_reserved_bits_shuts_down),
        N(test_rsm_with_efer_reserved_bits_shuts_down),
        N(test_rsm_into_long_mode_without_pae_shuts_down),
        N(test_rsm_into_long_mode_with_cs_l_and_d_shuts_down),
        N(test_rsm_to_noncanonical_64_bit_rip_shuts_down),
        T(test_rsm_ignores_attribute_bits_11_to_8),
        T(test_rsm_outside_smm_is_ud_in_real_mode),
        T(test_rsm_outside_smm_is_ud_in_long_mode),
        T(test_msr_0x34_counts_smm_entries),
        T(test_msr_0x34_is_read_only),
        T(test_smi_raised_inside_smm_is_taken_once_after_rsm),
        T(test_nmi_is_held_in_smm_and_taken_after_rsm),
        T(test_smm_entry_and_rsm_use_the_smm_view),
        T(test_tlb_keeps_normal_and_smm_translations_apart),
        T(test_smm_code_can_write_through_cs),
        T(test_smi_raised_by_out_is_taken_right_after_it),
        T(test_rsm_returns_to_cpl3),
        N(test_two_machines_do_not_interfere),
    };
#undef T
#undef N
    return cmocka_run_group_tests_name("smm", tests, NULL, NULL);
}
