/*
 * rtc.c - MC146818 RTC and CMOS RAM at 0x70/0x71. Contract and the choices
 * made where the datasheet leaves room: rtc.h.
 *
 * Two derived quantities, both exact integer functions of clk->now:
 *   cycles(t)  the 32768 Hz divider chain (frozen while DV stops it);
 *   seconds(t) base_seconds + the chain's 1 Hz edges since base_edge, while
 *              updates run (chain running, SET clear). While they do not,
 *              the time bytes in cmos[] are the truth.
 * Register C flags are accounted lazily: before anything that changes the
 * configuration or reads C, rtc_sync() looks at the chain edges between
 * flags_ns and now under the configuration that held over that interval.
 *
 *   register A  bit 7 UIP (read-only), 6:4 DV, 3:0 RS (periodic rate)
 *   register B  SET PIE AIE UIE SQWE DM 24/12 DSE
 *   register C  IRQF PF AF UF 0 0 0 0 (read-only; reading clears)
 *   register D  VRT 0 ... (read-only, 0x80)
 *
 *   RS      periodic period (divider cycles)
 *   0       none
 *   1, 2    128, 256
 *   3-15    2^(RS-1): 3 -> 122.07 us, 6 -> 976.56 us, 15 -> 500 ms
 */
#include "hw/rtc.h"

#include "mem/memory.h" /* struct mem_ops, mem_region_mmio(), mem_region_add() */

#define NS_PER_S        1000000000u
#define RTC_HZ          32768u
#define RTC_UIP_CYCLES  8u /* 244 us before each update */
#define SECONDS_PER_DAY 86400

enum rtc_log_cause {
    RTC_LOG_READ_ONLY, /* write to register C or D */
    RTC_LOG_DIVIDER,   /* DV value other than 010 or 11x */
};

static void rtc_guest_error(struct rtc *rtc, enum rtc_log_cause cause, const char *what)
{
    if (!rtc->log || (rtc->logged & (1u << cause)))
        return;
    rtc->logged |= 1u << cause;
    fprintf(rtc->log, "[t=%llu] rtc: %s\n", (unsigned long long)rtc->clk->now, what);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

/* Days since 1970-01-01 of the first of month m (1-12) in year y, and back
 * (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"). */
static int64_t days_from_civil(int64_t y, int64_t m)
{
    int64_t era, yoe, doy;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static uint64_t ns_to_cycles(uint64_t ns)
{
    return ns / NS_PER_S * RTC_HZ + ns % NS_PER_S * RTC_HZ / NS_PER_S;
}

/* The smallest ns with ns_to_cycles(ns) >= cycles. */
static uint64_t cycles_to_ns_ceil(uint64_t cycles)
{
    uint64_t r = cycles % RTC_HZ;

    return cycles / RTC_HZ * NS_PER_S + (r * NS_PER_S + RTC_HZ - 1) / RTC_HZ;
}

static uint64_t rtc_cycles(const struct rtc *rtc, uint64_t now)
{
    if (!rtc->chain_running || now <= rtc->chain_ns)
        return rtc->chain_cycles;
    return rtc->chain_cycles + ns_to_cycles(now - rtc->chain_ns);
}

/* When the chain reaches `cycles` (> the current count; chain running). */
static uint64_t rtc_cycles_time(const struct rtc *rtc, uint64_t cycles)
{
    return rtc->chain_ns + cycles_to_ns_ceil(cycles - rtc->chain_cycles);
}

static int64_t rtc_seconds_at_edge(const struct rtc *rtc, uint64_t edge)
{
    return rtc->base_seconds + (int64_t)(edge - rtc->base_edge);
}

/* --- time bytes: encoding per register B ---------------------------------------------------- */

static bool rtc_binary(const struct rtc *rtc)
{
    return rtc->cmos[RTC_REG_B] & RTC_B_DM;
}

static uint8_t rtc_encode(const struct rtc *rtc, int64_t v)
{
    v = floor_mod(v, 100);
    return rtc_binary(rtc) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

/* Nibbles above 9 are taken at face value. */
static int rtc_decode(const struct rtc *rtc, uint8_t b)
{
    return rtc_binary(rtc) ? b : (b >> 4) * 10 + (b & 15);
}

static uint8_t rtc_encode_hours(const struct rtc *rtc, int h)
{
    if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
        return rtc_encode(rtc, h);
    return (uint8_t)(rtc_encode(rtc, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

static int rtc_decode_hours(const struct rtc *rtc, uint8_t b)
{
    int h12;

    if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
        return rtc_decode(rtc, b);
    h12 = rtc_decode(rtc, b & 0x7F);
    return (h12 == 12 ? 0 : h12) + (b & 0x80 ? 12 : 0);
}

/* The guest-visible byte `index` (a time byte) for time `s`. */
static uint8_t rtc_time_byte(const struct rtc *rtc, int64_t s, unsigned index)
{
    int64_t days = floor_div(s, SECONDS_PER_DAY), sod = floor_mod(s, SECONDS_PER_DAY), year;
    int month, day;

    civil_from_days(days, &year, &month, &day);
    switch (index) {
    case RTC_SECONDS:
        return rtc_encode(rtc, sod % 60);
    case RTC_MINUTES:
        return rtc_encode(rtc, sod / 60 % 60);
    case RTC_HOURS:
        return rtc_encode_hours(rtc, (int)(sod / 3600));
    case RTC_DAY_OF_WEEK:
        return rtc_encode(rtc, floor_mod(days + 4, 7) + 1);
    case RTC_DAY_OF_MONTH:
        return rtc_encode(rtc, day);
    case RTC_MONTH:
        return rtc_encode(rtc, month);
    case RTC_YEAR:
        return rtc_encode(rtc, year);
    default:
        return rtc_encode(rtc, floor_div(year, 100)); /* RTC_CENTURY */
    }
}

static bool rtc_is_time_byte(unsigned index)
{
    switch (index) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY:
        return true;
    default:
        return false;
    }
}

static void rtc_store_fields(struct rtc *rtc, int64_t s)
{
    static const uint8_t fields[] = {RTC_SECONDS,      RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
                                     RTC_DAY_OF_MONTH, RTC_MONTH,   RTC_YEAR,  RTC_CENTURY};

    for (unsigned k = 0; k < sizeof(fields); k++)
        rtc->cmos[fields[k]] = rtc_time_byte(rtc, s, fields[k]);
}

/* The stored time bytes as seconds since 1970, normalised like a calendar. */
static int64_t rtc_fields_seconds(const struct rtc *rtc)
{
    const uint8_t *c = rtc->cmos;
    int64_t year = rtc_decode(rtc, c[RTC_CENTURY]) * 100 + rtc_decode(rtc, c[RTC_YEAR]);
    int64_t month0 = rtc_decode(rtc, c[RTC_MONTH]) - 1;
    int64_t days;

    year += floor_div(month0, 12);
    days =
        days_from_civil(year, floor_mod(month0, 12) + 1) + rtc_decode(rtc, c[RTC_DAY_OF_MONTH]) - 1;
    return days * SECONDS_PER_DAY + rtc_decode_hours(rtc, c[RTC_HOURS]) * 3600 +
           rtc_decode(rtc, c[RTC_MINUTES]) * 60 + rtc_decode(rtc, c[RTC_SECONDS]);
}

static int64_t rtc_seconds(const struct rtc *rtc, uint64_t now)
{
    if (!rtc->updating)
        return rtc_fields_seconds(rtc);
    return rtc_seconds_at_edge(rtc, rtc_cycles(rtc, now) / RTC_HZ);
}

static void rtc_freeze(struct rtc *rtc, uint64_t now)
{
    rtc_store_fields(rtc, rtc_seconds(rtc, now));
    rtc->updating = false;
}

static void rtc_resume_if_due(struct rtc *rtc, uint64_t now)
{
    if (rtc->updating || !rtc->chain_running || (rtc->cmos[RTC_REG_B] & RTC_B_SET))
        return;
    rtc->base_seconds = rtc_fields_seconds(rtc);
    rtc->base_edge = rtc_cycles(rtc, now) / RTC_HZ;
    rtc->updating = true;
}

/* --- alarm and interrupt flags --------------------------------------------------------------- */

/* An alarm byte as a value to match, or -1 for "don't care" (bits 7:6 = 11). */
static int rtc_alarm_field(const struct rtc *rtc, unsigned index)
{
    uint8_t b = rtc->cmos[index];

    if ((b & 0xC0) == 0xC0)
        return -1;
    return index == RTC_HOURS_ALARM ? rtc_decode_hours(rtc, b) : rtc_decode(rtc, b);
}

/* The first second after `after` whose time of day matches the alarm, or
 * INT64_MAX if it never does. Every alarm repeats within a day. */
static int64_t rtc_next_alarm(const struct rtc *rtc, int64_t after)
{
    int as = rtc_alarm_field(rtc, RTC_SECONDS_ALARM), am = rtc_alarm_field(rtc, RTC_MINUTES_ALARM);
    int ah = rtc_alarm_field(rtc, RTC_HOURS_ALARM);
    int64_t first_day = floor_div(after, SECONDS_PER_DAY);

    if (as > 59 || am > 59 || ah > 23)
        return INT64_MAX;
    for (int64_t day = first_day; day <= first_day + 1; day++) {
        for (int h = 0; h < 24; h++) {
            if (ah >= 0 && h != ah)
                continue;
            for (int m = 0; m < 60; m++) {
                int64_t minute = day * SECONDS_PER_DAY + h * 3600 + m * 60;
                if ((am >= 0 && m != am) || minute + 59 <= after)
                    continue;
                if (as < 0)
                    return after >= minute ? after + 1 : minute;
                if (minute + as > after)
                    return minute + as;
            }
        }
    }
    return INT64_MAX;
}

static uint64_t rtc_periodic_cycles(const struct rtc *rtc)
{
    unsigned rs = rtc->cmos[RTC_REG_A] & 0x0F;

    if (rs == 0)
        return 0;
    return rs <= 2 ? 64u << rs : 1u << (rs - 1);
}

static bool rtc_irqf(const struct rtc *rtc)
{
    uint8_t b = rtc->cmos[RTC_REG_B], c = rtc->cmos[RTC_REG_C];

    return ((c & RTC_C_PF) && (b & RTC_B_PIE)) || ((c & RTC_C_AF) && (b & RTC_B_AIE)) ||
           ((c & RTC_C_UF) && (b & RTC_B_UIE));
}

/* The next time an enabled event could raise IRQF, or UINT64_MAX. */
static uint64_t rtc_next_event(const struct rtc *rtc, uint64_t now)
{
    uint8_t b = rtc->cmos[RTC_REG_B];
    uint64_t c = rtc_cycles(rtc, now), p = rtc_periodic_cycles(rtc), best = UINT64_MAX;

    if (!rtc->chain_running || rtc_irqf(rtc))
        return UINT64_MAX; /* nothing counts, or IRQ already high until C is read */
    if ((b & RTC_B_PIE) && p)
        best = (c / p + 1) * p;
    if (rtc->updating && (b & RTC_B_UIE)) {
        uint64_t e = (c / RTC_HZ + 1) * RTC_HZ;
        best = e < best ? e : best;
    }
    if (rtc->updating && (b & RTC_B_AIE)) {
        int64_t s = rtc_next_alarm(rtc, rtc_seconds_at_edge(rtc, c / RTC_HZ));
        if (s != INT64_MAX) {
            uint64_t e = (rtc->base_edge + (uint64_t)(s - rtc->base_seconds)) * RTC_HZ;
            best = e < best ? e : best;
        }
    }
    return best == UINT64_MAX ? best : rtc_cycles_time(rtc, best);
}

static void rtc_update_irq(struct rtc *rtc)
{
    bool irq = rtc_irqf(rtc);
    uint64_t next;

    if (!rtc->on_irq)
        return;
    next = rtc_next_event(rtc, rtc->clk->now);
    if (next != UINT64_MAX)
        timer_arm(rtc->clk, &rtc->irq_timer, next);
    else
        timer_cancel(rtc->clk, &rtc->irq_timer);
    if (irq != rtc->irq) {
        rtc->irq = irq;
        rtc->on_irq(rtc->owner, irq);
    }
}

/* Sets the flags for the chain edges in (flags_ns, now]. */
static void rtc_sync(struct rtc *rtc, uint64_t now)
{
    uint64_t c0, c1, p = rtc_periodic_cycles(rtc);

    if (now <= rtc->flags_ns)
        return;
    c0 = rtc_cycles(rtc, rtc->flags_ns);
    c1 = rtc_cycles(rtc, now);
    rtc->flags_ns = now;
    if (c1 == c0)
        return;
    if (p && c1 / p > c0 / p)
        rtc->cmos[RTC_REG_C] |= RTC_C_PF;
    if (rtc->updating && c1 / RTC_HZ > c0 / RTC_HZ) {
        int64_t s0 = rtc_seconds_at_edge(rtc, c0 / RTC_HZ);
        int64_t s1 = rtc_seconds_at_edge(rtc, c1 / RTC_HZ);
        rtc->cmos[RTC_REG_C] |= RTC_C_UF;
        if (rtc_next_alarm(rtc, s0) <= s1)
            rtc->cmos[RTC_REG_C] |= RTC_C_AF;
    }
}

static void rtc_irq_fire(void *opaque, uint64_t now)
{
    struct rtc *rtc = opaque;

    rtc_sync(rtc, now);
    rtc_update_irq(rtc);
}

/* --- registers ------------------------------------------------------------------------------- */

static void rtc_write_reg_a(struct rtc *rtc, uint64_t now, uint8_t value)
{
    unsigned dv = (value >> 4) & 7;
    bool run = dv <= 2;

    if (dv < 2 || dv == 3 || dv == 4 || dv == 5)
        rtc_guest_error(rtc, RTC_LOG_DIVIDER,
                        "register A DV other than 010 or 11x: 000, 001 run, 011-101 stop");
    if (rtc->updating)
        rtc_freeze(rtc, now);
    if (rtc->chain_running && !run) {
        rtc->chain_cycles = rtc_cycles(rtc, now);
        rtc->chain_running = false;
    } else if (!rtc->chain_running && run) {
        /* "The first update cycle begins one-half second later." */
        rtc->chain_running = true;
        rtc->chain_ns = now;
        rtc->chain_cycles = RTC_HZ / 2;
    }
    rtc->cmos[RTC_REG_A] = value & 0x7F;
    rtc_resume_if_due(rtc, now);
}

static void rtc_write_reg_b(struct rtc *rtc, uint64_t now, uint8_t value)
{
    if (value & RTC_B_SET) {
        value &= (uint8_t)~RTC_B_UIE;
        if (rtc->updating)
            rtc_freeze(rtc, now); /* encoded in the old format, as the chip left them */
    }
    rtc->cmos[RTC_REG_B] = value;
    rtc_resume_if_due(rtc, now);
}

static uint8_t rtc_read_data(struct rtc *rtc)
{
    uint64_t now = rtc->clk->now;
    unsigned i = rtc->index;
    uint8_t v;

    if (rtc_is_time_byte(i))
        return rtc->updating ? rtc_time_byte(rtc, rtc_seconds(rtc, now), i) : rtc->cmos[i];
    switch (i) {
    case RTC_REG_A:
        v = rtc->cmos[RTC_REG_A];
        if (rtc->updating && rtc_cycles(rtc, now) % RTC_HZ >= RTC_HZ - RTC_UIP_CYCLES)
            v |= RTC_A_UIP;
        return v;
    case RTC_REG_C:
        rtc_sync(rtc, now);
        v = (uint8_t)(rtc->cmos[RTC_REG_C] | (rtc_irqf(rtc) ? RTC_C_IRQF : 0));
        rtc->cmos[RTC_REG_C] = 0;
        rtc_update_irq(rtc);
        return v;
    case RTC_REG_D:
        return RTC_D_VRT;
    default:
        return rtc->cmos[i];
    }
}

static void rtc_write_data(struct rtc *rtc, uint8_t value)
{
    uint64_t now = rtc->clk->now;
    unsigned i = rtc->index;

    rtc_sync(rtc, now); /* the interval so far ran under the old configuration */
    if (rtc_is_time_byte(i)) {
        bool was_updating = rtc->updating;
        if (was_updating)
            rtc_freeze(rtc, now);
        rtc->cmos[i] = value;
        if (was_updating)
            rtc_resume_if_due(rtc, now);
    } else if (i == RTC_REG_A) {
        rtc_write_reg_a(rtc, now, value);
    } else if (i == RTC_REG_B) {
        rtc_write_reg_b(rtc, now, value);
    } else if (i == RTC_REG_C || i == RTC_REG_D) {
        rtc_guest_error(rtc, RTC_LOG_READ_ONLY, "write to read-only register C or D ignored");
    } else {
        rtc->cmos[i] = value;
    }
    rtc_update_irq(rtc);
}

static uint64_t rtc_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size; /* rtc_ops admits 1-byte accesses only */
    return offset == 0 ? 0xFF : rtc_read_data(opaque);
}

static void rtc_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct rtc *rtc = opaque;

    (void)size;
    if (offset == 0) {
        rtc->index = value & 0x7F;
        rtc->nmi_disabled = value & 0x80;
        return;
    }
    rtc_write_data(rtc, (uint8_t)value);
}

static const struct mem_ops rtc_ops = {
    .name = "rtc",
    .read = rtc_read,
    .write = rtc_write,
    .min_access = 1,
    .max_access = 1,
};

void rtc_init(struct rtc *rtc, struct mem_system *sys, struct mem_region *io, struct clock *clk,
              rtc_irq_fn on_irq, void *owner, FILE *log)
{
    *rtc = (struct rtc){
        .chain_running = true,
        .chain_ns = clk->now,
        .updating = true,
        .base_seconds = RTC_DEFAULT_START,
        .flags_ns = clk->now,
        .clk = clk,
        .on_irq = on_irq,
        .owner = owner,
        .log = log,
    };
    rtc->cmos[RTC_REG_A] = 0x26;
    rtc->cmos[RTC_REG_B] = RTC_B_24H;
    timer_init(&rtc->irq_timer, rtc_irq_fire, rtc);
    mem_region_add(io, mem_region_mmio(sys, "rtc", 2, &rtc_ops, rtc), RTC_BASE_PORT, 0);
}

void rtc_reset(struct rtc *rtc)
{
    rtc_sync(rtc, rtc->clk->now);
    rtc->cmos[RTC_REG_B] &= (uint8_t) ~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
    rtc->cmos[RTC_REG_C] = 0;
    rtc_update_irq(rtc);
}

void rtc_set_time(struct rtc *rtc, int64_t seconds)
{
    uint64_t now = rtc->clk->now;

    rtc_sync(rtc, now);
    if (rtc->updating) {
        rtc->base_seconds = seconds;
        rtc->base_edge = rtc_cycles(rtc, now) / RTC_HZ;
    } else {
        rtc_store_fields(rtc, seconds);
    }
    rtc_update_irq(rtc);
}

int64_t rtc_get_time(const struct rtc *rtc)
{
    return rtc_seconds(rtc, rtc->clk->now);
}

static bool rtc_is_ram(unsigned index)
{
    return index < RTC_CMOS_BYTES && index > RTC_REG_D && index != RTC_CENTURY;
}

bool rtc_cmos_set(struct rtc *rtc, unsigned index, uint8_t value)
{
    if (!rtc_is_ram(index))
        return false;
    rtc->cmos[index] = value;
    return true;
}

uint8_t rtc_cmos_get(const struct rtc *rtc, unsigned index)
{
    return rtc_is_ram(index) ? rtc->cmos[index] : 0;
}

bool rtc_nmi_disabled(const struct rtc *rtc)
{
    return rtc->nmi_disabled;
}
