/*
 * ioapic.c - the ICH9 I/O APIC at 0xFEC00000. Contract, register map and
 * the choices made where the datasheets leave room: ioapic.h.
 *
 * A pin is delivered when it is pending and unmasked:
 *
 *   trigger  pending is set by       delivery                 pending cleared by
 *   edge     a 0 -> 1 input change   once                     the delivery
 *            while unmasked
 *   level    the input being 1       once, sets remote IRR;   the input going 0
 *                                    again after the EOI
 *                                    clears remote IRR
 *
 * SMI, NMI, INIT and ExtINT entries are always treated as edge-triggered
 * (82093AA: "edge only" for those modes), so an NMI pin cannot be left
 * waiting for an EOI that never comes.
 */
#include "hw/ioapic.h"

#include "mem/memory.h" /* struct mem_ops, mem_region_mmio(), mem_region_add() */

#define IOAPIC_RTE_LOW_WRITABLE  0x1AFFFull /* vector, mode, dest mode, polarity, trigger, mask */
#define IOAPIC_RTE_HIGH_WRITABLE 0xFF000000u

enum ioapic_log_cause {
    IOAPIC_LOG_RESERVED_MODE, /* delivery mode 011 or 110 */
    IOAPIC_LOG_WIDTH,         /* IOWIN or EOI access that is not 32 bits */
    IOAPIC_LOG_REGISTER,      /* IOREGSEL names no register */
};

static void ioapic_guest_error(struct ioapic *io, enum ioapic_log_cause cause, const char *what)
{
    if (!io->log || (io->logged & (1u << cause)))
        return;
    io->logged |= 1u << cause;
    fprintf(io->log, "ioapic: %s\n", what);
}

static unsigned rte_mode(uint64_t e)
{
    return (unsigned)(e >> IOAPIC_RTE_DM_SHIFT) & 7;
}

static bool rte_is_level(uint64_t e)
{
    unsigned dm = rte_mode(e);

    return (e & IOAPIC_RTE_LEVEL) && (dm == IOAPIC_DM_FIXED || dm == IOAPIC_DM_LOWEST);
}

static void ioapic_service(struct ioapic *io)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint32_t bit = 1u << pin;
        uint64_t e = io->redir[pin];
        unsigned dm = rte_mode(e);
        bool level = rte_is_level(e);

        if (!(io->pending & bit) || (e & IOAPIC_RTE_MASKED))
            continue;
        if (level && (e & IOAPIC_RTE_REMOTE_IRR))
            continue; /* waits for the EOI */
        if (!level)
            io->pending &= ~bit;
        if (dm == 3 || dm == 6) {
            ioapic_guest_error(io, IOAPIC_LOG_RESERVED_MODE, "reserved delivery mode: dropped");
            continue;
        }
        if (level)
            io->redir[pin] |= IOAPIC_RTE_REMOTE_IRR;
        if (io->deliver)
            io->deliver(io->owner, (uint8_t)(e >> IOAPIC_RTE_DEST_SHIFT),
                        e & IOAPIC_RTE_DEST_LOGICAL, dm, (uint8_t)(e & IOAPIC_RTE_VECTOR), level);
    }
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
    uint32_t bit;
    bool was;

    if (pin >= IOAPIC_PINS)
        return;
    bit = 1u << pin;
    was = io->line & bit;
    io->line = level ? (io->line | bit) : (io->line & ~bit);
    if (rte_is_level(io->redir[pin]))
        io->pending = level ? (io->pending | bit) : (io->pending & ~bit);
    else if (level && !was && !(io->redir[pin] & IOAPIC_RTE_MASKED))
        io->pending |= bit;
    ioapic_service(io);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->redir[pin];

        if ((e & IOAPIC_RTE_VECTOR) == vector && (e & IOAPIC_RTE_REMOTE_IRR))
            io->redir[pin] = e & ~IOAPIC_RTE_REMOTE_IRR;
    }
    ioapic_service(io);
}

static uint32_t ioapic_read_register(struct ioapic *io)
{
    unsigned sel = io->ioregsel, pin = (sel - IOAPIC_REG_REDTBL) / 2;

    switch (sel) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARB:
        return (uint32_t)io->id << 24;
    case IOAPIC_REG_VER:
        return (IOAPIC_PINS - 1) << 16 | IOAPIC_VERSION;
    default:
        break;
    }
    if (sel < IOAPIC_REG_REDTBL || pin >= IOAPIC_PINS) {
        ioapic_guest_error(io, IOAPIC_LOG_REGISTER, "IOREGSEL names no register: reads 0");
        return 0;
    }
    return (uint32_t)(sel & 1 ? io->redir[pin] >> 32 : io->redir[pin]);
}

static void ioapic_write_redir_low(struct ioapic *io, unsigned pin, uint32_t value)
{
    uint32_t bit = 1u << pin;
    uint64_t old = io->redir[pin];
    uint64_t e =
        (old & ~0xFFFFFFFFull) | (value & IOAPIC_RTE_LOW_WRITABLE) | (old & IOAPIC_RTE_REMOTE_IRR);

    if (!rte_is_level(e)) {
        e &= ~IOAPIC_RTE_REMOTE_IRR;
        if (rte_is_level(old))
            io->pending &= ~bit; /* an edge pin needs a new edge */
    } else {
        io->pending = (io->pending & ~bit) | (io->line & bit);
    }
    io->redir[pin] = e;
}

static void ioapic_write_register(struct ioapic *io, uint32_t value)
{
    unsigned sel = io->ioregsel, pin = (sel - IOAPIC_REG_REDTBL) / 2;

    switch (sel) {
    case IOAPIC_REG_ID:
        io->id = (value >> 24) & 0x0F;
        return;
    case IOAPIC_REG_VER:
    case IOAPIC_REG_ARB:
        return; /* read-only */
    default:
        break;
    }
    if (sel < IOAPIC_REG_REDTBL || pin >= IOAPIC_PINS) {
        ioapic_guest_error(io, IOAPIC_LOG_REGISTER, "IOREGSEL names no register: write dropped");
        return;
    }
    if (sel & 1)
        io->redir[pin] =
            (io->redir[pin] & 0xFFFFFFFFull) | (uint64_t)(value & IOAPIC_RTE_HIGH_WRITABLE) << 32;
    else
        ioapic_write_redir_low(io, pin, value);
    ioapic_service(io);
}

static uint64_t ioapic_read(void *opaque, uint64_t offset, unsigned size)
{
    struct ioapic *io = opaque;

    switch (offset & 0xFF) {
    case IOAPIC_IOREGSEL:
        return io->ioregsel;
    case IOAPIC_IOWIN:
        if (size == 4)
            return ioapic_read_register(io);
        ioapic_guest_error(io, IOAPIC_LOG_WIDTH, "IOWIN/EOI access not 32 bits: ignored");
        return 0;
    default:
        return 0;
    }
}

static void ioapic_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct ioapic *io = opaque;

    switch (offset & 0xFF) {
    case IOAPIC_IOREGSEL:
        io->ioregsel = (uint8_t)value;
        return;
    case IOAPIC_IOWIN:
    case IOAPIC_EOI:
        if (size != 4) {
            ioapic_guest_error(io, IOAPIC_LOG_WIDTH, "IOWIN/EOI access not 32 bits: ignored");
            return;
        }
        if ((offset & 0xFF) == IOAPIC_EOI)
            ioapic_eoi(io, (uint8_t)value);
        else
            ioapic_write_register(io, (uint32_t)value);
        return;
    default:
        return;
    }
}

/* Up to 32-bit accesses reach the handlers with their own size (the IOWIN
 * width check needs it); 64-bit ones arrive as two 32-bit halves. */
static const struct mem_ops ioapic_ops = {
    .name = "ioapic",
    .read = ioapic_read,
    .write = ioapic_write,
    .min_access = 1,
    .max_access = 4,
};

static void ioapic_power_on(struct ioapic *io)
{
    io->id = 0;
    io->ioregsel = 0;
    io->pending = 0;
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        io->redir[pin] = IOAPIC_RTE_MASKED;
}

void ioapic_init(struct ioapic *io, struct mem_system *sys, struct mem_region *system,
                 uint64_t paddr, ioapic_deliver_fn deliver, void *owner, FILE *log)
{
    *io = (struct ioapic){.deliver = deliver, .owner = owner, .log = log};
    ioapic_power_on(io);
    mem_region_add(system, mem_region_mmio(sys, "ioapic", IOAPIC_MMIO_BYTES, &ioapic_ops, io),
                   paddr, 0);
}

void ioapic_reset(struct ioapic *io)
{
    ioapic_power_on(io);
}
