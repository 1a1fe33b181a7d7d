/*
 * host.c - the native side: maps the shared window RWX at a low fixed
 * address, copies the instruction there followed by an absolute jump to
 * diff_native_exit (native.S), and runs it. A fault (SIGFPE, SIGSEGV,
 * SIGILL, SIGBUS, SIGTRAP) is caught on an alternate stack, since the test
 * may load any value into RSP; the handler records the vector (the kernel's
 * trap number) and the register file at the fault, then siglongjmps back.
 */
#define _GNU_SOURCE /* MAP_FIXED_NOREPLACE, REG_* in ucontext_t */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <asm/prctl.h>   /* ARCH_GET_FS, ARCH_GET_GS */
#include <sys/syscall.h> /* SYS_arch_prctl */
#include <ucontext.h>
#include <unistd.h>

#include "diff.h"

struct native_regs {
    uint64_t gpr[16];
    uint64_t rflags;
};
extern struct native_regs diff_native_in, diff_native_out;
extern uint64_t diff_native_target;
extern uint8_t diff_native_taken;
void diff_native_enter(void);
void diff_native_exit(void);
void diff_native_exit_taken(void);
void diff_native_far_jump(void);
void diff_native_set_ds_es(unsigned selector);
extern uint8_t diff_native_far[8];

#define USER32_CS 0x23 /* Linux's flat 32-bit user code segment */
#define USER_CS   0x33
#define USER_DS   0x2B

/* Writes `jmp *0(%rip); .quad to` at p. */
static void put_exit(uint8_t *p, void (*to)(void))
{
    static const uint8_t jmp[6] = {0xFF, 0x25, 0, 0, 0, 0};
    uint64_t addr = (uint64_t)(uintptr_t)to;
    memcpy(p, jmp, sizeof(jmp));
    memcpy(p + sizeof(jmp), &addr, 8);
}

/* A signal handler can only reach the runner through file-scope state; this
 * program has one thread and one window, so one set suffices. */
static uint8_t *window;
static sigjmp_buf fault_env;
static struct diff_result fault_result;

static void on_fault(int sig, siginfo_t *si, void *uc_void)
{
    (void)sig;
    (void)si;
    const ucontext_t *uc = uc_void;
    const greg_t *g = uc->uc_mcontext.gregs;
    static const int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                  REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                  REG_R12, REG_R13, REG_R14, REG_R15};
    for (int k = 0; k < 16; k++)
        fault_result.gpr[k] = (uint64_t)g[order[k]];
    fault_result.rflags = (uint64_t)g[REG_EFL];
    fault_result.rip = (uint64_t)g[REG_RIP];
    fault_result.vector = (int)g[REG_TRAPNO];
    siglongjmp(fault_env, 1);
}

uint64_t host_init(void)
{
    /* Below 2 GiB so that disp32 absolute and 0x67 operands can reach it. */
    static const uint64_t candidates[] = {0x40000000, 0x50000000, 0x60000000,
                                          0x30000000, 0x20000000, 0x70000000};
    for (unsigned k = 0; k < sizeof(candidates) / sizeof(candidates[0]) && !window; k++) {
        void *p =
            mmap((void *)(uintptr_t)candidates[k], WIN_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == MAP_FAILED)
            continue;
        if ((uintptr_t)p != candidates[k]) {
            munmap(p, WIN_SIZE);
            continue;
        }
        window = p;
    }
    if (!window) {
        fprintf(stderr, "diff: cannot map an RWX window below 2 GiB\n");
        exit(1);
    }

    static uint8_t altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        perror("diff: sigaltstack");
        exit(1);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    /* NODEFER: we leave the handler by siglongjmp without restoring the
     * mask (a sigprocmask call per case would dominate the run time). */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGFPE, SIGSEGV, SIGILL, SIGBUS, SIGTRAP};
    for (unsigned k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
        sigaction(sigs[k], &sa, NULL);
    /* Compatibility-mode code far-jumps to these 64-bit trampolines, which
     * must sit below 4 GiB: the window is. */
    put_exit(window + WIN_TRAMP, diff_native_exit);
    put_exit(window + WIN_TRAMP + 16, diff_native_exit_taken);
    return (uint64_t)(uintptr_t)window;
}

/* `jmp far USER_CS:tramp` (EA ptr16:32), valid in 32-bit code. */
static void put_far_exit(uint8_t *p, uint64_t tramp)
{
    uint32_t off = (uint32_t)tramp;
    uint16_t sel = USER_CS;
    p[0] = 0xEA;
    memcpy(p + 1, &off, 4);
    memcpy(p + 5, &sel, 2);
}

uint64_t host_seg_base(unsigned fs_or_gs)
{
    unsigned long base = 0;
    if (syscall(SYS_arch_prctl, fs_or_gs ? ARCH_GET_GS : ARCH_GET_FS, &base) != 0) {
        perror("diff: arch_prctl");
        exit(1);
    }
    return base;
}

uint8_t *host_window(void)
{
    return window;
}

void host_run(const struct diff_case *k, struct diff_result *out)
{
    uint64_t base = (uint64_t)(uintptr_t)window;
    uint8_t *code = window + (k->rip - base);
    memcpy(code, k->code, k->len);
    if (k->compat) {
        put_far_exit(code + k->len, base + WIN_TRAMP);
        if (k->branch_target)
            put_far_exit(window + (k->branch_target - base), base + WIN_TRAMP + 16);
    } else {
        put_exit(code + k->len, diff_native_exit);
        if (k->branch_target)
            put_exit(window + (k->branch_target - base), diff_native_exit_taken);
    }

    memcpy(diff_native_in.gpr, k->gpr, sizeof(k->gpr));
    diff_native_in.rflags = (k->rflags & RFL_COMPARED) | 0x202;
    diff_native_target = (uint64_t)(uintptr_t)code;
    diff_native_taken = 0;
    if (k->compat) {
        uint32_t off = (uint32_t)(uintptr_t)code;
        uint16_t sel = USER32_CS;
        memcpy(diff_native_far, &off, 4);
        memcpy(diff_native_far + 4, &sel, 2);
        diff_native_target = (uint64_t)(uintptr_t)diff_native_far_jump;
        diff_native_set_ds_es(USER_DS);
    }
    if (sigsetjmp(fault_env, 0) == 0) {
        diff_native_enter();
        if (k->compat)
            diff_native_set_ds_es(0);
        memcpy(out->gpr, diff_native_out.gpr, sizeof(out->gpr));
        out->rflags = diff_native_out.rflags;
        out->vector = -1;
        out->rip = diff_native_taken ? k->branch_target : (uint64_t)(uintptr_t)code + k->len;
        return;
    }
    if (k->compat)
        diff_native_set_ds_es(0);
    *out = fault_result;
}
