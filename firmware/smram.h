/*
 * smram.h - data structures shared by the boot image and the SMM image: the first-SMI
 * context block in the window, the per-tile stub parameters, the SMRAM header, the CPU
 * table and the round block. Contract: ../shared/spec/firmware.md §2.3–§2.5, §4.3.
 *
 * Both images see these at the same physical addresses (identity mapping in both), so a
 * pointer computed by the boot CPU is the pointer SMM code uses.
 */
#ifndef SMMFW_SMRAM_H
#define SMMFW_SMRAM_H

#include <stdint.h>

#include "platform.h"

/* §2.3: the first 0x16 bytes follow OVMF's FIRST_SMI_HANDLER_CONTEXT offsets. */
struct __attribute__((packed)) first_smi_ctx {
    uint64_t gate; /* ~0 closed, else the one APIC ID allowed to relocate */
    uint32_t new_smbase;
    uint32_t feature_control_hi;
    uint32_t feature_control_lo;
    uint8_t feature_control_valid;
    uint8_t about_to_leave;
    uint16_t pen_segment;
    uint32_t status;
    uint32_t relocated_apic;
    uint32_t waiting;
    uint32_t entry_cs_base;
    uint32_t entry_rip;
    uint32_t magic;
    uint32_t version;
    uint8_t reserved[12];
};
_Static_assert(sizeof(struct first_smi_ctx) == 0x40, "context block is 64 bytes");

#define FSC_GATE_CLOSED 0xffffffffffffffffull
#define FSC_MAGIC       0x43464d53u /* "SMFC" */
#define FSC_GATE        ((volatile uint64_t *)(uintptr_t)WINDOW_BASE)
#define FSC_CTX         ((volatile struct first_smi_ctx *)(uintptr_t)WINDOW_BASE)

/* Parameters of one tile's entry stub, at SMBASE + 0x8000 + STUB_PARAMS_OFFSET (stub.S). */
#define STUB_PARAMS_OFFSET 0x100u
struct __attribute__((packed)) stub_params {
    uint32_t self;      /* 0x00 physical address of this block */
    uint32_t pad0;
    uint16_t gdt_limit; /* 0x08 */
    uint32_t gdt_base;
    uint16_t pad1;
    uint32_t jmp32_off; /* 0x10 m16:32 far pointer to the 32-bit part */
    uint16_t jmp32_sel;
    uint16_t pad2;
    uint32_t jmp64_off; /* 0x18 m16:32 far pointer to the 64-bit part */
    uint16_t jmp64_sel;
    uint16_t pad3;
    uint32_t cr3;       /* 0x20 */
    uint32_t slot;      /* 0x24 */
    uint64_t rsp;       /* 0x28 */
    uint16_t idt_limit; /* 0x30 */
    uint64_t idt_base;
    uint8_t pad4[6];
    uint64_t entry;     /* 0x40 C entry, smm_c_entry(slot) */
};
_Static_assert(__builtin_offsetof(struct stub_params, entry) == 0x40, "stub.S offsets");
#define MAX_STUB_BYTES 0x1e00u

enum cpu_state { CPU_ABSENT = 0, CPU_RELOCATING, CPU_PRESENT, CPU_EJECTING };
enum wfs_mode { WFS_UNKNOWN = 0, WFS_HELD, WFS_TAKEN };
enum reloc_phase { PHASE_BOOT = 0, PHASE_S3, PHASE_HOTPLUG };

/* §2.5, one entry per possible CPU, indexed by slot. */
struct cpu_entry {
    uint32_t apic_id;
    uint32_t smbase;
    uint32_t state;
    uint32_t expected;
    uint32_t arrived;
    uint32_t parked;
    uint32_t checkin;  /* epoch of the last round this CPU checked into */
    uint32_t checkout; /* epoch of the last round this CPU left */
};

/* SMRAM header at TSEG base (§2.4). */
struct smram_header {
    char magic[8]; /* "SMMFWSMR" */
    uint32_t layout_version;
    uint32_t possible;
    uint32_t boot_apic;
    uint32_t window;
    uint64_t requested;
    uint64_t negotiated;
    uint32_t wfs_mode;
    uint32_t tseg_size;
    uint32_t facs;
    uint32_t smm_data; /* physical address of struct smm_data */
    uint32_t checksum; /* sum of the 32-bit words before it, negated */
};
#define SMRAM_LAYOUT_VERSION 1

/* Everything SMM keeps: lives in the SMM image's .bss inside TSEG. */
struct smm_data {
    uint64_t magic;
    uint32_t possible;
    uint32_t boot_apic;
    uint32_t window;
    uint32_t wfs_mode;
    uint64_t requested;
    uint64_t negotiated;
    uint32_t tseg_base;
    uint32_t tseg_size;
    uint32_t tolud;
    uint32_t pmbase;
    /* round block, §4.3 */
    uint32_t epoch;
    uint32_t open;
    uint32_t released;
    uint32_t ejects_done;
    uint32_t fatal;
    uint32_t console_lock;
    uint32_t stray;
    uint32_t runtime; /* set by the boot CPU just before the locks: SMIs now run rounds */
    uint64_t gdt[4];
    uint64_t idt[64]; /* 32 gates of 16 bytes */
    struct cpu_entry cpu[SMMFW_MAX_CPUS];
};

#define SMM_DATA_MAGIC 0x41544144464d4d53ull /* "SMMFDATA" */

/* Head of the SMM image (smm_head.S): PC-relative offsets to what the installer needs. */
struct smm_image_head {
    uint64_t magic;
    int32_t entry_rel;    /* each value is relative to the address of its own field */
    int32_t exc_rel;
    int32_t data_rel;
    int32_t bss_rel;
    int32_t end_rel;
};
#define SMM_IMAGE_MAGIC 0x474d49534d4d4653ull /* "SFMMSIMG" */

/* GDT selectors used by every smmfw stage and handed to the payload. */
#define SEL_CODE64 0x08
#define SEL_DATA   0x10
#define SEL_CODE32 0x18

#endif
