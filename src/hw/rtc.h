/*
 * rtc.h - the MC146818 real-time clock and its 128 bytes of CMOS RAM behind
 * the index/data ports 0x70/0x71. Contract: Motorola MC146818A datasheet;
 * platform.md §1.9 for the bytes firmware reads; QEMU hw/rtc/mc146818rtc.c
 * for the reference platform.
 *
 * Time never comes from the host. The clock starts at RTC_DEFAULT_START
 * (2026-01-01 00:00:00) at rtc_init's clk->now, unless the board calls
 * rtc_set_time(), and advances with virtual time: the 32768 Hz divider
 * chain is computed exactly from clk->now, and the seconds count steps on
 * each of its 1 Hz edges. The flags of register C are derived lazily from
 * the same chain; a timer is armed on the clock only while an enabled
 * interrupt (PIE, AIE, UIE) has an event coming.
 *
 * Board wiring:
 *   rtc_init(&m->rtc, &m->mem, m->io_root, &m->clock, on_irq, owner, log);
 *   - on_irq(owner, level) follows register C bit 7 (IRQF); the board
 *     connects it to pic_set_irq(pic, 8, level) and ioapic_set_irq(ioapic,
 *     8, level). Called only on changes.
 *   - preload CMOS RAM with rtc_cmos_set() (platform.md §1.9: 0x34/0x35
 *     TOLUD, 0x5B-0x5D high RAM, 0x5F CPUs - 1, 0x0F on S3 entry); the
 *     clock bytes 0x00-0x0D and the century 0x32 are not RAM and refuse.
 *   - rtc_nmi_disabled() is port 0x70 bit 7 as last written, for whoever
 *     gates NMIs.
 *   - the board must keep clk->now current when a port access is made.
 *   - machine_reset() calls rtc_reset().
 *
 * Choices where the datasheet leaves room:
 *   - Port 0x70 reads 0xFF (write-only, as QEMU). The index is 7 bits.
 *   - Registers A-D power on as 0x26, 0x02 (24 h, BCD), 0x00, 0x80.
 *   - DV (register A bits 6:4) 000-010 run the divider (QEMU); 011-111
 *     stop it; leaving a stopped state starts the chain so that the first
 *     update comes 500 ms later. SET (register B bit 7) stops only the
 *     updates, and setting it clears UIE (QEMU); clearing it lets the
 *     next 1 Hz edge of the still-running chain update.
 *   - UIP is 1 for the last 8 divider cycles (244 us) before each update;
 *     the time registers already hold the new second at the update edge.
 *   - While updates are stopped the time bytes are plain storage; when they
 *     resume the bytes are decoded (BCD or binary, 12 or 24 h, with
 *     nibbles above 9 at face value) and normalised as a calendar would,
 *     so 31 February reads back as 3 March. The day of week is always
 *     computed from the date (1 = Sunday); writes to it are dropped once
 *     the clock runs. A write to a time byte while the clock runs stops,
 *     stores and resumes, so it takes effect at once.
 *   - DSE (daylight saving) and SQWE are stored and have no effect.
 *   - Alarm bytes with bits 7:6 = 11 match any value; other alarm values
 *     are compared after decoding, so an impossible one never matches.
 *   - Register C and D writes are ignored; reading C clears it and lowers IRQ.
 *   - rtc_reset() clears PIE, AIE, UIE, SQWE and register C (datasheet RESET);
 *     the time and CMOS RAM survive.
 */
#ifndef SMMVM_HW_RTC_H
#define SMMVM_HW_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "machine/clock.h" /* struct clock, struct timer (embedded) */

struct mem_system;
struct mem_region;

#define RTC_BASE_PORT     0x70
#define RTC_CMOS_BYTES    128
#define RTC_DEFAULT_START 1767225600 /* 2026-01-01 00:00:00 UTC, seconds since 1970 */

#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0A
#define RTC_REG_B         0x0B
#define RTC_REG_C         0x0C
#define RTC_REG_D         0x0D
#define RTC_CENTURY       0x32

#define RTC_A_UIP  0x80
#define RTC_B_SET  0x80
#define RTC_B_PIE  0x40
#define RTC_B_AIE  0x20
#define RTC_B_UIE  0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM   0x04 /* 1: binary */
#define RTC_B_24H  0x02
#define RTC_C_IRQF 0x80
#define RTC_C_PF   0x40
#define RTC_C_AF   0x20
#define RTC_C_UF   0x10
#define RTC_D_VRT  0x80

typedef void (*rtc_irq_fn)(void *owner, bool level);

struct rtc {
    uint8_t cmos[RTC_CMOS_BYTES]; /* RAM; also A, B, C and, while stopped, the time bytes */
    uint8_t index;
    bool nmi_disabled;
    bool irq; /* IRQ8 level last reported */

    /* The divider chain: cycles(t) = chain_cycles + 32768 Hz * (t - chain_ns). */
    bool chain_running;
    uint64_t chain_ns;
    uint64_t chain_cycles;

    /* Seconds while updating: seconds(t) = base_seconds + (1 Hz edges since base_edge). */
    bool updating;        /* chain running and SET clear */
    int64_t base_seconds; /* seconds since 1970-01-01 */
    uint64_t base_edge;

    uint64_t flags_ns; /* register C flags are accounted up to this time */
    struct clock *clk;
    struct timer irq_timer;
    rtc_irq_fn on_irq; /* may be NULL: then no timer is ever armed */
    void *owner;
    FILE *log;
    unsigned logged;
};

/* Power-on: CMOS RAM zero, registers as above, time RTC_DEFAULT_START at
 * clk->now. Maps 0x70-0x71 ("rtc") into `io`; `rtc` must not move for the
 * life of `sys` and `clk`. */
void rtc_init(struct rtc *rtc, struct mem_system *sys, struct mem_region *io, struct clock *clk,
              rtc_irq_fn on_irq, void *owner, FILE *log);
void rtc_reset(struct rtc *rtc);
/* Sets the running time to `seconds` since 1970-01-01 00:00:00 at clk->now. */
void rtc_set_time(struct rtc *rtc, int64_t seconds);
/* The time the clock shows at clk->now, in seconds since 1970. */
int64_t rtc_get_time(const struct rtc *rtc);
/* Board access to CMOS RAM bytes 0x0E-0x7F except 0x32: set returns false
 * (and does nothing) for the clock bytes or an index above 0x7F; get
 * returns 0 for those. Neither has side effects on the clock. */
bool rtc_cmos_set(struct rtc *rtc, unsigned index, uint8_t value);
uint8_t rtc_cmos_get(const struct rtc *rtc, unsigned index);
bool rtc_nmi_disabled(const struct rtc *rtc);

#endif
