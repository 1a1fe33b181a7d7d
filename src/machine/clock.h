/*
 * clock.h - the machine's virtual clock and its timer events (cpu.md §5.9).
 * Time is in ticks of 1 ns; one retired instruction is one tick. Timers
 * fire in deadline order, ties in the order they were armed, so runs are
 * deterministic. No host clock is ever read.
 */
#ifndef SMMVM_MACHINE_CLOCK_H
#define SMMVM_MACHINE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*timer_fn)(void *opaque, uint64_t now);

struct timer {
    uint64_t deadline;
    uint64_t seq; /* arming order, to break ties */
    timer_fn fn;
    void *opaque;
    bool armed;
};

#define CLOCK_MAX_TIMERS 64

struct clock {
    uint64_t now;
    uint64_t next_seq;
    struct timer *armed[CLOCK_MAX_TIMERS]; /* unsorted; few timers exist */
    unsigned n_armed;
};

void clock_init(struct clock *clk);
void timer_init(struct timer *t, timer_fn fn, void *opaque);
/* Arms (or re-arms) t to fire at absolute time `deadline`. */
void timer_arm(struct clock *clk, struct timer *t, uint64_t deadline);
void timer_cancel(struct clock *clk, struct timer *t);
/* The earliest deadline, or UINT64_MAX when nothing is armed. */
uint64_t clock_next_deadline(const struct clock *clk);
/* Advances to `now` and fires every timer due by then, earliest first. */
void clock_advance(struct clock *clk, uint64_t now);

#endif
