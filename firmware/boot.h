/*
 * boot.h - state of the boot path (firmware.md §3) shared between its files.
 */
#ifndef SMMFW_BOOT_H
#define SMMFW_BOOT_H

#include <stdint.h>

#include "smram.h"

#define FW_AREA_BYTES 0x100000u /* reserved firmware area directly below TSEG */
#define MAX_E820      32
#define MAX_MAP       48

struct mem_range {
    uint64_t base;
    uint64_t length;
    uint32_t type; /* 1 usable, 2 reserved, 3 ACPI, 4 NVS */
    uint32_t zero;
};

struct boot_state {
    uint64_t tolud;
    uint64_t high_bytes;
    struct mem_range e820[MAX_E820];
    unsigned ne820;
    uint32_t possible;
    uint32_t present;
    uint32_t boot_apic;
    uint32_t apic[SMMFW_MAX_CPUS];
    uint8_t present_at_boot[SMMFW_MAX_CPUS];
    uint32_t tseg_base, tseg_size, tseg_code;
    int ext_tseg;
    int window;
    uint64_t supported, requested, negotiated;
    int negotiation_absent;
    uint8_t system_states[6];
    int s3_enabled;
    int s3;         /* this boot is an S3 resume (firmware.md §9) */
    uint32_t facs;  /* from the SMRAM header on resume */
    uint32_t fw_base; /* start of the reserved firmware area */
    struct smm_data *smm; /* inside TSEG, valid until the TSEG lock */
    uint64_t rsdp;
    struct mem_range map[MAX_MAP];
    unsigned nmap;
};

extern struct boot_state bs;

/* tseg.c */
void tseg_populate(void);
void tseg_install_stubs(void);
void tseg_write_header(void);
void tseg_attach_s3(void);
/* acpi.c, dsdt.c */
uint64_t acpi_build(uint64_t base, uint64_t limit, uint64_t facs);
void dsdt_build(void);
/* payload.c */
void payload_load_and_run(void);

__attribute__((noreturn)) void boot_fatal_kv(const char *code, const char *key, uint64_t v);

#endif
