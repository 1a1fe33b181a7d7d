/*
 * clock.c - virtual-time timers. A timer callback may re-arm itself or
 * others; the loop re-scans after each firing so such changes count.
 */
#include "machine/clock.h"

#include "util.h"

void clock_init(struct clock *clk)
{
    *clk = (struct clock){ 0 };
}

void timer_init(struct timer *t, timer_fn fn, void *opaque)
{
    *t = (struct timer){ .fn = fn, .opaque = opaque };
}

void timer_cancel(struct clock *clk, struct timer *t)
{
    if (!t->armed)
        return;
    for (unsigned k = 0; k < clk->n_armed; k++) {
        if (clk->armed[k] == t) {
            clk->armed[k] = clk->armed[--clk->n_armed];
            break;
        }
    }
    t->armed = false;
}

void timer_arm(struct clock *clk, struct timer *t, uint64_t deadline)
{
    timer_cancel(clk, t);
    /* A fixed number of timer objects exists per machine (devices own them),
     * so running out is an emulator bug, never guest input. */
    BUG_ON(clk->n_armed == CLOCK_MAX_TIMERS);
    t->deadline = deadline;
    t->seq = clk->next_seq++;
    t->armed = true;
    clk->armed[clk->n_armed++] = t;
}

static struct timer *earliest(const struct clock *clk)
{
    struct timer *best = NULL;
    for (unsigned k = 0; k < clk->n_armed; k++) {
        struct timer *t = clk->armed[k];
        if (!best || t->deadline < best->deadline ||
            (t->deadline == best->deadline && t->seq < best->seq))
            best = t;
    }
    return best;
}

uint64_t clock_next_deadline(const struct clock *clk)
{
    const struct timer *t = earliest(clk);
    return t ? t->deadline : UINT64_MAX;
}

void clock_advance(struct clock *clk, uint64_t now)
{
    for (;;) {
        struct timer *t = earliest(clk);
        if (!t || t->deadline > now)
            break;
        timer_cancel(clk, t);
        if (clk->now < t->deadline)
            clk->now = t->deadline;
        t->fn(t->opaque, clk->now);
    }
    if (clk->now < now)
        clk->now = now;
}
