/*
 * msr.c - RDMSR/WRMSR (cpu.md §2.4). Unknown indices raise #GP(0) and are
 * logged under guest_errors with the RIP; reserved-bit writes raise #GP(0).
 */
#include "cpu/cpu_impl.h"

#define MSR_IA32_TSC            0x10
#define MSR_IA32_APIC_BASE      0x1B
#define MSR_SMI_COUNT           0x34
#define MSR_IA32_FEATURE_CONTROL 0x3A
#define MSR_SYSENTER_CS         0x174
#define MSR_SYSENTER_ESP        0x175
#define MSR_SYSENTER_EIP        0x176
#define MSR_EFER                0xC0000080
#define MSR_STAR                0xC0000081
#define MSR_LSTAR               0xC0000082
#define MSR_CSTAR               0xC0000083
#define MSR_SFMASK              0xC0000084
#define MSR_FS_BASE             0xC0000100
#define MSR_GS_BASE             0xC0000101
#define MSR_KERNEL_GS_BASE      0xC0000102

#define APIC_BASE_BSP 0x100ull
#define APIC_BASE_EN  0x800ull

static bool canonical(uint64_t v)
{
    return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

static bool msr_read(struct cpu *c, uint32_t index, uint64_t *v)
{
    switch (index) {
    case MSR_IA32_TSC: *v = cpu_tsc(c); return true;
    case MSR_IA32_APIC_BASE: *v = c->apic_base; return true;
    case MSR_SMI_COUNT: *v = c->smi_count; return true;
    case MSR_IA32_FEATURE_CONTROL: *v = c->feature_control; return true;
    case MSR_SYSENTER_CS: *v = c->sysenter_cs; return true;
    case MSR_SYSENTER_ESP: *v = c->sysenter_esp; return true;
    case MSR_SYSENTER_EIP: *v = c->sysenter_eip; return true;
    case MSR_EFER: *v = c->efer; return true;
    case MSR_STAR: *v = c->star; return true;
    case MSR_LSTAR: *v = c->lstar; return true;
    case MSR_CSTAR: *v = c->cstar; return true;
    case MSR_SFMASK: *v = c->sfmask; return true;
    case MSR_FS_BASE: *v = c->seg[SEG_FS].base; return true;
    case MSR_GS_BASE: *v = c->seg[SEG_GS].base; return true;
    case MSR_KERNEL_GS_BASE: *v = c->kernel_gs_base; return true;
    default: return false;
    }
}

static bool msr_write(struct cpu *c, uint32_t index, uint64_t v)
{
    switch (index) {
    case MSR_IA32_TSC:
        c->tsc_offset = v - (cpu_tsc(c) - c->tsc_offset);
        return true;
    case MSR_IA32_APIC_BASE:
        /* Base must be 4 KiB aligned below MAXPHYADDR; BSP is read-only; EXTD
         * (bit 10) needs x2APIC, which is not advertised. */
        if (v & ~(0xFFFFFFFFFF000ull | APIC_BASE_EN | APIC_BASE_BSP))
            return false;
        c->apic_base = (v & ~APIC_BASE_BSP) | (c->apic_base & APIC_BASE_BSP);
        return true;
    case MSR_SMI_COUNT:
        return false; /* read-only */
    case MSR_IA32_FEATURE_CONTROL:
        if (c->feature_control & 1)
            return false; /* locked until reset */
        c->feature_control = v;
        return true;
    case MSR_SYSENTER_CS: c->sysenter_cs = v & 0xFFFF; return true;
    case MSR_SYSENTER_ESP: c->sysenter_esp = v; return canonical(v);
    case MSR_SYSENTER_EIP: c->sysenter_eip = v; return canonical(v);
    case MSR_EFER: return cpu_write_efer(c, v);
    case MSR_STAR: c->star = v; return true;
    case MSR_LSTAR:
        if (!canonical(v))
            return false;
        c->lstar = v;
        return true;
    case MSR_CSTAR:
        if (!canonical(v))
            return false;
        c->cstar = v;
        return true;
    case MSR_SFMASK: c->sfmask = v & 0xFFFFFFFF; return true;
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
        if (!canonical(v))
            return false;
        if (index == MSR_FS_BASE)
            c->seg[SEG_FS].base = v;
        else if (index == MSR_GS_BASE)
            c->seg[SEG_GS].base = v;
        else
            c->kernel_gs_base = v;
        return true;
    default:
        return false;
    }
}

void cpu_rdmsr(struct cpu *c)
{
    uint32_t index = (uint32_t)c->gpr[R_CX];
    uint64_t v;
    if (!msr_read(c, index, &v)) {
        cpu_guest_error(c, "rdmsr of unknown MSR 0x%x at rip 0x%llx", index,
                        (unsigned long long)c->rip);
        GP0(c);
    }
    reg_write(c, R_AX, 4, (uint32_t)v);
    reg_write(c, R_DX, 4, v >> 32);
}

void cpu_wrmsr(struct cpu *c)
{
    uint32_t index = (uint32_t)c->gpr[R_CX];
    uint64_t v = ((c->gpr[R_DX] & 0xFFFFFFFF) << 32) | (uint32_t)c->gpr[R_AX];
    if (!msr_write(c, index, v)) {
        cpu_guest_error(c, "wrmsr 0x%llx to MSR 0x%x refused at rip 0x%llx",
                        (unsigned long long)v, index, (unsigned long long)c->rip);
        GP0(c);
    }
}
