/*
 * pit.c - the 8254 PIT (0x40-0x43) and the timer bits of port 0x61.
 * Contract and the choices made where the datasheet leaves room: pit.h.
 *
 * A channel never ticks: it keeps the number of input clocks counted
 * before start_ns (base_ticks) and, while it runs, adds the clocks since
 * then. From that elapsed count d and the initial count N the counter and
 * OUT follow directly:
 *
 *   mode  counter reads        OUT                 OUT changes at d =
 *   0     (N - d) mod 2^16     d >= N              N
 *   1     (N - d) mod 2^16     d >= N (after gate) N
 *   2     N - d mod N          d mod N != N - 1    each period: N-1 (fall), N (rise)
 *   3     N - 2d mod N         d mod N < (N+1)/2   each period: (N+1)/2 (fall), N (rise)
 *   4     (N - d) mod 2^16     d != N              N (fall), N + 1 (rise)
 *   5     (N - d) mod 2^16     d != N (after gate) N, N + 1
 *
 * (mod 10000 for BCD counters). The gate: modes 0 and 4 pause while it is
 * low; modes 2 and 3 stop with OUT high and restart on its rising edge;
 * modes 1 and 5 start (or restart) on its rising edge.
 */
#include "hw/pit.h"

#include "mem/memory.h" /* struct mem_ops, mem_region_mmio(), mem_region_add() */

#define NS_PER_S 1000000000u

enum pit_log_cause {
    PIT_LOG_COUNT_ONE,     /* count 1 in mode 2 or 3 */
    PIT_LOG_WRITE_43_READ, /* read of the write-only control port */
};

static void pit_guest_error(struct pit *pit, enum pit_log_cause cause, const char *what)
{
    if (!pit->log || (pit->logged & (1u << cause)))
        return;
    pit->logged |= 1u << cause;
    fprintf(pit->log, "[t=%llu] pit: %s\n", (unsigned long long)pit->clk->now, what);
}

/* floor(ns * PIT_HZ / 1e9), exactly, without overflow for any ns. */
static uint64_t ns_to_ticks(uint64_t ns)
{
    return ns / NS_PER_S * PIT_HZ + ns % NS_PER_S * PIT_HZ / NS_PER_S;
}

/* The smallest ns with ns_to_ticks(ns) >= ticks. */
static uint64_t ticks_to_ns_ceil(uint64_t ticks)
{
    uint64_t r = ticks % PIT_HZ;

    return ticks / PIT_HZ * NS_PER_S + (r * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

/* Modes 6 and 7 are modes 2 and 3 (datasheet, "Control Word Format"). */
static unsigned ch_mode(const struct pit_channel *c)
{
    return c->mode >= 6 ? c->mode - 4u : c->mode;
}

static bool ch_running(const struct pit_channel *c)
{
    unsigned m = ch_mode(c);

    if (!c->loaded || !c->triggered)
        return false;
    return m == 1 || m == 5 || c->gate;
}

static uint64_t ch_elapsed(const struct pit_channel *c, uint64_t now)
{
    if (!ch_running(c) || now <= c->start_ns)
        return c->base_ticks;
    return c->base_ticks + ns_to_ticks(now - c->start_ns);
}

static uint16_t to_bcd(uint64_t v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static uint32_t from_bcd(uint16_t v)
{
    return (uint32_t)((v >> 12) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15));
}

static uint16_t ch_counter(const struct pit_channel *c, uint64_t now)
{
    uint64_t d, n = c->count, mod = c->bcd ? 10000 : 65536, v;

    if (!c->loaded || !c->triggered)
        return c->hold;
    d = ch_elapsed(c, now);
    switch (ch_mode(c)) {
    case 2:
        v = n - d % n;
        break;
    case 3:
        v = n - (d % n) * 2 % n;
        break;
    default:
        v = (n % mod + mod - d % mod);
        break;
    }
    v %= mod;
    return c->bcd ? to_bcd(v) : (uint16_t)v;
}

static bool ch_out(const struct pit_channel *c, uint64_t now)
{
    unsigned m = ch_mode(c);
    uint64_t d, n = c->count;

    if (!c->loaded)
        return m != 0; /* after a control word: mode 0 low, the others high */
    if (!c->triggered)
        return true;
    if ((m == 2 || m == 3) && !c->gate)
        return true;
    d = ch_elapsed(c, now);
    switch (m) {
    case 0:
    case 1:
        return d >= n;
    case 2:
        return d % n != n - 1;
    case 3:
        return d % n < (n + 1) / 2;
    default:
        return d != n;
    }
}

/* The next elapsed count after d at which OUT changes, or UINT64_MAX. */
static uint64_t ch_next_edge(const struct pit_channel *c, uint64_t d)
{
    uint64_t n = c->count, phase = d % n, period = d - phase;

    switch (ch_mode(c)) {
    case 0:
    case 1:
        return d < n ? n : UINT64_MAX;
    case 2:
        if (n == 1)
            return UINT64_MAX;
        return phase < n - 1 ? period + n - 1 : period + n;
    case 3:
        if (n == 1)
            return UINT64_MAX;
        return phase < (n + 1) / 2 ? period + (n + 1) / 2 : period + n;
    default:
        return d < n ? n : d == n ? n + 1 : UINT64_MAX;
    }
}

/* Reports OUT0 if it changed and arms the timer for its next change. */
static void pit_update_out0(struct pit *pit)
{
    const struct pit_channel *c = &pit->ch[0];
    uint64_t now = pit->clk->now, edge = UINT64_MAX;
    bool out = ch_out(c, now);

    if (!pit->on_out0)
        return;
    if (ch_running(c))
        edge = ch_next_edge(c, ch_elapsed(c, now));
    if (edge != UINT64_MAX)
        timer_arm(pit->clk, &pit->out0_timer, c->start_ns + ticks_to_ns_ceil(edge - c->base_ticks));
    else
        timer_cancel(pit->clk, &pit->out0_timer);
    if (out != pit->out0) {
        pit->out0 = out;
        pit->on_out0(pit->owner, out);
    }
}

/* clock_advance() has set clk->now to the deadline. */
static void pit_out0_fire(void *opaque, uint64_t now)
{
    (void)now;
    pit_update_out0(opaque);
}

static void ch_restart(struct pit_channel *c, uint64_t now)
{
    c->base_ticks = 0;
    c->start_ns = now;
}

static void ch_load(struct pit *pit, struct pit_channel *c, uint16_t reg)
{
    unsigned m = ch_mode(c);
    uint64_t now = pit->clk->now;

    if (m == 1 || m == 5)
        c->hold = ch_counter(c, now);
    c->count_reg = reg;
    c->count = c->bcd ? (reg ? from_bcd(reg) : 10000) : (reg ? reg : 65536);
    c->loaded = true;
    c->null_count = false;
    c->triggered = !(m == 1 || m == 5);
    ch_restart(c, now);
    if (c->count == 1 && (m == 2 || m == 3))
        pit_guest_error(pit, PIT_LOG_COUNT_ONE, "count 1 in mode 2 or 3 (illegal): OUT held");
}

static void ch_latch_count(struct pit_channel *c, uint64_t now)
{
    if (c->latch_bytes)
        return; /* a latched count is held until read */
    c->latch = ch_counter(c, now);
    c->latch_bytes = c->rw;
    c->latch_msb_next = false;
}

static void pit_read_back(struct pit *pit, uint8_t value)
{
    uint64_t now = pit->clk->now;

    for (unsigned n = 0; n < 3; n++) {
        struct pit_channel *c = &pit->ch[n];

        if (!(value & (2u << n)))
            continue;
        if (!(value & 0x20))
            ch_latch_count(c, now);
        if (!(value & 0x10) && !c->status_latched) {
            c->status = (uint8_t)(ch_out(c, now) << 7 | c->null_count << 6 | c->rw << 4 |
                                  c->mode << 1 | c->bcd);
            c->status_latched = true;
        }
    }
}

static void pit_write_control(struct pit *pit, uint8_t value)
{
    struct pit_channel *c;
    uint64_t now = pit->clk->now;
    unsigned rw = (value >> 4) & 3;

    if (value >> 6 == 3) {
        pit_read_back(pit, value);
        return;
    }
    c = &pit->ch[value >> 6];
    if (rw == 0) {
        ch_latch_count(c, now);
        return;
    }
    c->hold = ch_counter(c, now);
    c->rw = (uint8_t)rw;
    c->mode = (value >> 1) & 7;
    c->bcd = value & 1;
    c->loaded = false;
    c->triggered = false;
    c->null_count = true;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->latch_bytes = 0;
    c->status_latched = false;
}

static void pit_write_data(struct pit *pit, struct pit_channel *c, uint8_t value)
{
    switch (c->rw) {
    case 1:
        ch_load(pit, c, value);
        return;
    case 2:
        ch_load(pit, c, (uint16_t)(value << 8));
        return;
    default:
        if (c->write_msb_next) {
            c->write_msb_next = false;
            ch_load(pit, c, (uint16_t)(c->write_lsb | value << 8));
            return;
        }
        c->write_lsb = value;
        c->write_msb_next = true;
        c->null_count = true;
        if (ch_mode(c) == 0) {
            /* "Writing the first byte disables counting; OUT is set low immediately." */
            c->hold = ch_counter(c, pit->clk->now);
            c->loaded = false;
        }
        return;
    }
}

static uint8_t pit_read_data(struct pit_channel *c, uint64_t now)
{
    uint16_t v;

    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->latch_bytes == 1 || c->latch_bytes == 2) {
        v = c->latch_bytes == 1 ? (c->latch & 0xFF) : (c->latch >> 8);
        c->latch_bytes = 0;
        return (uint8_t)v;
    }
    if (c->latch_bytes == 3) {
        if (!c->latch_msb_next) {
            c->latch_msb_next = true;
            return (uint8_t)c->latch;
        }
        c->latch_bytes = 0;
        return (uint8_t)(c->latch >> 8);
    }
    v = ch_counter(c, now);
    switch (c->rw) {
    case 1:
        return (uint8_t)v;
    case 2:
        return (uint8_t)(v >> 8);
    default:
        c->read_msb_next = !c->read_msb_next;
        return (uint8_t)(c->read_msb_next ? v : v >> 8);
    }
}

static uint64_t pit_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pit *pit = opaque;

    (void)size; /* pit_ops admits 1-byte accesses only */
    if (offset == 3) {
        pit_guest_error(pit, PIT_LOG_WRITE_43_READ, "read of control port 0x43 returns 0");
        return 0;
    }
    return pit_read_data(&pit->ch[offset], pit->clk->now);
}

static void pit_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pit *pit = opaque;

    (void)size;
    if (offset == 3)
        pit_write_control(pit, (uint8_t)value);
    else
        pit_write_data(pit, &pit->ch[offset], (uint8_t)value);
    pit_update_out0(pit);
}

uint8_t pit_port61_read(const struct pit *pit)
{
    uint64_t now = pit->clk->now;
    unsigned refresh = (unsigned)(now / PIT_REFRESH_NS) & 1;

    return (uint8_t)((pit->port61 & 0x0F) | refresh << 4 | ch_out(&pit->ch[2], now) << 5);
}

static uint64_t port61_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)offset;
    (void)size;
    return pit_port61_read(opaque);
}

static void port61_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pit *pit = opaque;

    (void)offset;
    (void)size;
    pit->port61 = value & 0x0F;
    pit_set_gate(pit, 2, value & 1);
}

static const struct mem_ops pit_ops = {
    .name = "pit",
    .read = pit_read,
    .write = pit_write,
    .min_access = 1,
    .max_access = 1,
};

static const struct mem_ops port61_ops = {
    .name = "pcspk",
    .read = port61_read,
    .write = port61_write,
    .min_access = 1,
    .max_access = 1,
};

static void pit_power_on(struct pit *pit)
{
    for (unsigned n = 0; n < 3; n++) {
        pit->ch[n] = (struct pit_channel){
            .mode = 3,
            .rw = 3,
            .count = 65536,
            .gate = n != 2,
            .loaded = true,
            .triggered = true,
            .start_ns = pit->clk->now,
        };
    }
    pit->port61 = 0;
}

void pit_init(struct pit *pit, struct mem_system *sys, struct mem_region *io, struct clock *clk,
              pit_out_fn on_out0, void *owner, FILE *log)
{
    *pit = (struct pit){.clk = clk, .on_out0 = on_out0, .owner = owner, .log = log};
    timer_init(&pit->out0_timer, pit_out0_fire, pit);
    pit_power_on(pit);
    pit->out0 = ch_out(&pit->ch[0], clk->now);
    pit_update_out0(pit);
    mem_region_add(io, mem_region_mmio(sys, "pit", 4, &pit_ops, pit), PIT_BASE_PORT, 0);
    mem_region_add(io, mem_region_mmio(sys, "pcspk", 1, &port61_ops, pit), PIT_PORT61, 0);
}

void pit_reset(struct pit *pit)
{
    pit_power_on(pit);
    pit_update_out0(pit);
}

void pit_set_gate(struct pit *pit, unsigned channel, bool level)
{
    struct pit_channel *c;
    uint64_t now = pit->clk->now, d;
    unsigned m;

    if (channel > 2 || pit->ch[channel].gate == level)
        return;
    c = &pit->ch[channel];
    m = ch_mode(c);
    d = ch_elapsed(c, now);
    if (level && (m == 1 || m == 5)) {
        if (c->loaded && !c->triggered)
            c->hold = ch_counter(c, now);
        c->triggered = c->loaded;
        ch_restart(c, now);
    } else if (level && (m == 2 || m == 3)) {
        ch_restart(c, now);
    } else if (m != 1 && m != 5) {
        /* modes 0 and 4 pause and resume; modes 2 and 3 stop on a falling gate */
        c->base_ticks = d;
        c->start_ns = now;
    }
    c->gate = level;
    if (channel == 0)
        pit_update_out0(pit);
}

bool pit_out(const struct pit *pit, unsigned channel)
{
    return channel < 3 && ch_out(&pit->ch[channel], pit->clk->now);
}

uint16_t pit_counter(const struct pit *pit, unsigned channel)
{
    return channel < 3 ? ch_counter(&pit->ch[channel], pit->clk->now) : 0;
}
