/*
 * apic.h - the local xAPIC of each CPU (at 0xFEE00000 by default) and the
 * APIC bus that carries IPIs between CPUs (cpu.md §1.1, platform.md §6.1).
 * Delivery is immediate: the ICR delivery-status bit always reads idle.
 */
#ifndef SMMVM_CPU_APIC_H
#define SMMVM_CPU_APIC_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;

enum apic_delivery {
    APIC_DM_FIXED = 0,
    APIC_DM_LOWEST = 1,
    APIC_DM_SMI = 2,
    APIC_DM_NMI = 4,
    APIC_DM_INIT = 5,
    APIC_DM_STARTUP = 6,
    APIC_DM_EXTINT = 7,
};

struct lapic {
    uint32_t id;       /* register value: APIC ID in bits 31:24 */
    uint32_t tpr, ldr, dfr, svr, esr, esr_pending;
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t icr_low, icr_high;
    uint32_t lvt[7]; /* CMCI, timer, thermal, perf, LINT0, LINT1, error */
    uint32_t timer_initial, timer_divide;
    uint64_t timer_start;    /* virtual time the count was loaded */
    uint64_t timer_deadline; /* next expiry, UINT64_MAX when stopped */
};

/* All CPUs that can receive IPIs; the machine owns it and keeps it current
 * as CPUs are plugged and ejected. */
#define APIC_BUS_MAX 256
struct apic_bus {
    struct cpu *cpus[APIC_BUS_MAX];
    unsigned n;
};

void apic_reset(struct cpu *c);
/* Is `paddr` inside this CPU's enabled APIC page? */
bool apic_claims(const struct cpu *c, uint64_t paddr);
uint32_t apic_mmio_read(struct cpu *c, uint64_t paddr, unsigned size);
void apic_mmio_write(struct cpu *c, uint64_t paddr, unsigned size, uint32_t value);
/* Delivers an interrupt message (IPI, I/O APIC, MSI) on the bus. */
void apic_bus_deliver(struct apic_bus *bus, struct cpu *src, uint32_t dest, bool logical,
                      unsigned shorthand, enum apic_delivery mode, uint8_t vector, bool level,
                      bool trigger_level);
/* The highest-priority fixed interrupt deliverable now, or -1. */
int apic_pending_vector(const struct cpu *c);
/* Moves `vector` from IRR to ISR (interrupt acknowledge). */
void apic_accept(struct cpu *c, int vector);
/* Does LINT0 (or a disabled APIC) pass the 8259's INTR through? */
bool apic_accepts_pic(const struct cpu *c);
/* TPR write from MOV CR8 (CR8 = TPR[7:4]). */
void apic_set_tpr(struct cpu *c, uint32_t tpr);
/* Timer expiry at virtual time `now` (the machine's timer calls this). */
void apic_timer_expire(struct cpu *c, uint64_t now);

/* INIT, SIPI, SMI and NMI arriving at a CPU, with the hardware semantics of
 * cpu.md §4.6 (or QEMU-TCG's with tcg_smm_compat). */
void cpu_signal_init(struct cpu *c);
void cpu_signal_sipi(struct cpu *c, uint8_t vector);
void cpu_signal_smi(struct cpu *c);
void cpu_signal_nmi(struct cpu *c);

#endif
