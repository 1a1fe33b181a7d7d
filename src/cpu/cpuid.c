/*
 * cpuid.c - CPUID, built from features.def (cpu.md §2).
 *
 * Identity: "GenuineIntel", family 6, model 0x0F, stepping 11 (a Core 2
 * class signature). Reasons: the SMM behaviour we model is Intel's; this
 * signature predates the model tables where Linux and edk2 apply
 * model-specific MSR and idle quirks (intel_idle, RAPL, uncore), so neither
 * touches MSRs we do not implement; and leaf 0xA is zero, so no
 * architectural perfmon is assumed. Revisit when a phase-2 guest disagrees.
 */
#include "cpu/cpu_impl.h"

#define CPUID_FAMILY   6
#define CPUID_MODEL    0x0F
#define CPUID_STEPPING 11

/* Builds one feature register from the table: advertised bits only. */
static uint32_t feature_reg(unsigned which)
{
    uint32_t v = 0;
#define FEATURE(reg, bit, name, advertised)                                                        \
    if ((reg) == which && (advertised))                                                            \
        v |= 1u << (bit);
#include "cpu/features.def"
#undef FEATURE
    return v;
}

uint32_t cpuid_feature_reg(unsigned which)
{
    return feature_reg(which);
}

static void put_str(uint32_t *regs, const char *s)
{
    for (unsigned k = 0; k < 4; k++)
        memcpy(&regs[k], s + 4 * k, 4);
}

void cpu_cpuid(struct cpu *c)
{
    uint32_t leaf = (uint32_t)c->gpr[R_AX], sub = (uint32_t)c->gpr[R_CX];
    uint32_t r[4] = { 0, 0, 0, 0 }; /* EAX EBX ECX EDX */
    const uint32_t max_basic = 0xB, max_ext = 0x80000008;
    if (leaf > max_basic && leaf < 0x80000000)
        leaf = max_basic; /* Intel: out-of-range basic leaves return the highest basic leaf */
    if (leaf > max_ext)
        leaf = max_basic;
    switch (leaf) {
    case 0:
        r[0] = max_basic;
        memcpy(&r[1], "Genu", 4);
        memcpy(&r[3], "ineI", 4);
        memcpy(&r[2], "ntel", 4);
        break;
    case 1:
        r[0] = (CPUID_FAMILY << 8) | ((CPUID_MODEL & 0xF) << 4) | CPUID_STEPPING |
               ((CPUID_MODEL >> 4) << 16);
    {
        unsigned per_pkg = 1u << (c->topo_thread_bits + c->topo_core_bits);
        r[1] = (c->apic_id << 24) | ((per_pkg > 255 ? 255 : per_pkg) << 16) | (8u << 8);
        r[2] = feature_reg(2);
        r[3] = feature_reg(1);
        if ((uint32_t)c->topo_threads * (c->topo_cores ? c->topo_cores : 1) > 1)
            r[3] |= 1u << 28; /* HTT: more than one logical CPU per package */
        break;
    }
    case 4: /* deterministic cache parameters: no cache levels described */
        break;
    case 0xB: /* extended topology: level 0 SMT, level 1 core, then invalid */
        if (sub == 0) {
            r[0] = c->topo_thread_bits;
            r[1] = c->topo_threads ? c->topo_threads : 1;
            r[2] = 0x100 | sub;
        } else if (sub == 1) {
            r[0] = (uint32_t)c->topo_thread_bits + c->topo_core_bits;
            r[1] = (uint32_t)(c->topo_threads ? c->topo_threads : 1) * (c->topo_cores ? c->topo_cores : 1);
            r[2] = 0x200 | sub;
        } else {
            r[2] = sub;
        }
        r[3] = c->apic_id;
        break;
    case 0x80000000:
        r[0] = max_ext;
        break;
    case 0x80000001:
        r[2] = feature_reg(4);
        r[3] = feature_reg(3);
        break;
    case 0x80000002:
        put_str(r, "smmvm virtual CP");
        break;
    case 0x80000003:
        put_str(r, "U\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        break;
    case 0x80000007:
        r[3] = 1u << 8; /* invariant TSC: the TSC follows virtual time */
        break;
    case 0x80000008:
        r[0] = 40 | (48 << 8);
        break;
    default:
        break;
    }
    reg_write(c, R_AX, 4, r[0]);
    reg_write(c, R_BX, 4, r[1]);
    reg_write(c, R_CX, 4, r[2]);
    reg_write(c, R_DX, 4, r[3]);
}
