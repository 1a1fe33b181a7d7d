/*
 * bench.h - shared frame of the benchmark ROMs (bench/*.S).
 *
 * Each ROM is built twice per mode: with -DITERATIONS=N (the measurement) and with
 * -DITERATIONS=1 (boot and exit cost, subtracted by run.sh). -DLONG_MODE=1 runs the loop
 * in 64-bit long mode (identity map with 2 MiB pages from tests/rom/lib), else in real mode.
 * A ROM prints "bench: NAME-MODE", "iterations: N", "insns_per_iter: K" (hex, as every
 * value the lib prints), a checksum, "done", and exits through isa-debug-exit.
 * Instructions executed by the loop: ITERATIONS * K, exactly.
 */
#include "rom.h"

#ifndef ITERATIONS
#define ITERATIONS 1
#endif
#ifndef LONG_MODE
#define LONG_MODE 0
#endif

/* BENCH_ENTER: from main16 to the benchmark mode (real mode: nothing to do). */
.macro BENCH_ENTER
#if LONG_MODE
    RM_TO_PM32
    PM32_TO_LM64
    call idt64_init
#endif
.endm

.macro BENCH_REPORT name, per_iter
#if LONG_MODE
    PUTS64 "bench: \name-lm\n"
    KV64 "iterations", $ITERATIONS, 8
    KV64 "insns_per_iter", $\per_iter, 8
    KV64 "checksum", %rax
    PUTS64 "done\n"
#else
    PUTS16 "bench: \name-rm\n"
    KV16 "iterations", $ITERATIONS, 8
    KV16 "insns_per_iter", $\per_iter, 8
    KV16 "checksum", %eax
    PUTS16 "done\n"
#endif
    EXIT 0
.endm
