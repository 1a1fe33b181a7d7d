/*
 * pic.c - the master/slave 8259A pair and the ICH9 ELCR (0x20/0x21,
 * 0xA0/0xA1, 0x4D0/0x4D1). Contract and the choices made where the
 * datasheet leaves room: pic.h. The CPU reaches us through pic_ack(); we
 * reach the CPU only through the on_intr callback the board gave us.
 *
 * Command port writes, decided by bits 4 and 3 (8259A datasheet, "Command
 * Words"):
 *
 *   bit 4  bit 3  word   effect
 *   1      x      ICW1   start initialisation; data bytes ICW2, ICW3 (not SNGL), ICW4 (IC4)
 *   0      0      OCW2   EOI / rotation, by bits 7:5 (table below)
 *   0      1      OCW3   poll (bit 2), IRR/ISR read select (bits 1:0), special mask (6:5)
 *
 *   OCW2 bits 7:5   R SL EOI
 *   000             rotate in automatic EOI mode: clear
 *   001             non-specific EOI: clear the highest-priority ISR bit
 *   010             no operation
 *   011             specific EOI: clear ISR bit L (bits 2:0)
 *   100             rotate in automatic EOI mode: set
 *   101             rotate on non-specific EOI: EOI, then the cleared level becomes lowest
 *   110             set priority: level L becomes lowest
 *   111             rotate on specific EOI: clear ISR bit L, L becomes lowest
 */
#include "hw/pic.h"

#include "mem/memory.h" /* struct mem_ops, mem_region_mmio(), mem_region_add() */

enum pic_log_cause {
    PIC_LOG_MCS80, /* ICW4 absent or with uPM = 0: MCS-80/85 mode is not modelled */
};

static void pic_guest_error(struct pic *pic, enum pic_log_cause cause, const char *what)
{
    if (!pic->log || (pic->logged & (1u << cause)))
        return;
    pic->logged |= 1u << cause;
    fprintf(pic->log, "pic: %s\n", what);
}

/* Master input 2 (the slave's INT output) is edge-triggered like any other
 * master input (ELCR1 bit 2 is read-only 0): a slave request that goes away
 * after the master latched the edge gives the spurious IRQ 15 of real PCs. */
static bool pin_is_level(const struct pic *pic, unsigned n, unsigned pin)
{
    const struct pic_chip *c = &pic->chip[n];

    return c->ltim || ((c->elcr >> pin) & 1);
}

/* Rank (0 = highest priority) of the best bit in `bits`, 8 if none. */
static unsigned chip_rank(const struct pic_chip *c, uint8_t bits)
{
    for (unsigned rank = 0; rank < 8; rank++) {
        if (bits & (1u << ((rank + c->highest_prio) & 7)))
            return rank;
    }
    return 8;
}

/* The input this chip would present at INTA now, or -1. A request must beat
 * every in-service level; in special mask mode masked in-service levels do
 * not count, and in special fully nested mode the master lets the slave
 * interrupt its own in-service cascade level. */
static int chip_pending(const struct pic_chip *c, bool is_master)
{
    unsigned request = chip_rank(c, c->irr & ~c->imr);
    uint8_t blocking = c->isr;

    if (request == 8)
        return -1;
    if (c->special_mask)
        blocking &= ~c->imr;
    if (is_master && c->sfnm)
        blocking &= (uint8_t) ~(1u << PIC_CASCADE_IRQ);
    if (request < chip_rank(c, blocking))
        return (int)((request + c->highest_prio) & 7);
    return -1;
}

static void chip_set_input(struct pic *pic, unsigned n, unsigned pin, bool level)
{
    struct pic_chip *c = &pic->chip[n];
    uint8_t bit = (uint8_t)(1u << pin);

    if (pin_is_level(pic, n, pin)) {
        c->irr = level ? (c->irr | bit) : (c->irr & ~bit);
    } else if (level && !(c->line & bit)) {
        c->irr |= bit;
    }
    c->line = level ? (c->line | bit) : (c->line & ~bit);
}

/* Recomputes the cascade line and INTR; reports an INTR change last, with
 * the state already consistent, so the callback may call pic_ack(). */
static void pic_update(struct pic *pic)
{
    bool slave_int = chip_pending(&pic->chip[1], false) >= 0;
    bool intr;

    chip_set_input(pic, 0, PIC_CASCADE_IRQ, slave_int);
    intr = chip_pending(&pic->chip[0], true) >= 0;
    if (intr == pic->intr)
        return;
    pic->intr = intr;
    if (pic->on_intr)
        pic->on_intr(pic->owner, intr);
}

static void chip_ack(struct pic *pic, unsigned n, unsigned pin)
{
    struct pic_chip *c = &pic->chip[n];
    uint8_t bit = (uint8_t)(1u << pin);

    if (!c->auto_eoi)
        c->isr |= bit;
    else if (c->rotate_on_aeoi)
        c->highest_prio = (uint8_t)((pin + 1) & 7);
    if (!pin_is_level(pic, n, pin))
        c->irr &= ~bit;
}

uint8_t pic_ack(struct pic *pic)
{
    struct pic_chip *master = &pic->chip[0], *slave = &pic->chip[1];
    int irq = chip_pending(master, true);
    uint8_t vector;

    if (irq < 0) {
        vector = master->vector_base | 7; /* spurious IRQ 7: ISR untouched */
    } else if (irq == PIC_CASCADE_IRQ) {
        int irq2 = chip_pending(slave, false);

        chip_ack(pic, 0, PIC_CASCADE_IRQ);
        if (irq2 < 0) {
            vector = slave->vector_base | 7; /* spurious IRQ 15 */
        } else {
            chip_ack(pic, 1, (unsigned)irq2);
            vector = (uint8_t)(slave->vector_base | irq2);
        }
    } else {
        chip_ack(pic, 0, (unsigned)irq);
        vector = (uint8_t)(master->vector_base | irq);
    }
    pic_update(pic);
    return vector;
}

static void chip_write_icw1(struct pic *pic, unsigned n, uint8_t value)
{
    struct pic_chip *c = &pic->chip[n];

    c->ltim = value & 0x08;
    c->single = value & 0x02;
    c->icw4_expected = value & 0x01;
    c->init_step = 2;
    c->imr = 0;
    c->isr = 0;
    c->highest_prio = 0;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    /* "If IC4 = 0, all functions selected in ICW4 are set to zero." */
    c->auto_eoi = false;
    c->sfnm = false;
    c->rotate_on_aeoi = false;
    c->icw4 = 0;
    /* The edge sense latches are reset: edge requests go, level inputs that
     * are asserted stay requested. */
    c->irr = 0;
    for (unsigned pin = 0; pin < 8; pin++) {
        if (pin_is_level(pic, n, pin))
            c->irr |= c->line & (1u << pin);
    }
}

static void chip_write_ocw2(struct pic_chip *c, uint8_t value)
{
    unsigned level = value & 7;

    switch (value >> 5) {
    case 0:
        c->rotate_on_aeoi = false;
        break;
    case 4:
        c->rotate_on_aeoi = true;
        break;
    case 1:
    case 5: {
        unsigned rank = chip_rank(c, c->isr);
        if (rank == 8)
            break; /* nothing in service: no effect */
        level = (rank + c->highest_prio) & 7;
        c->isr &= (uint8_t) ~(1u << level);
        if (value >> 5 == 5)
            c->highest_prio = (uint8_t)((level + 1) & 7);
        break;
    }
    case 3:
        c->isr &= (uint8_t) ~(1u << level);
        break;
    case 7:
        c->isr &= (uint8_t) ~(1u << level);
        c->highest_prio = (uint8_t)((level + 1) & 7);
        break;
    case 6:
        c->highest_prio = (uint8_t)((level + 1) & 7);
        break;
    default:
        break; /* 2: no operation */
    }
}

static void chip_write_ocw3(struct pic_chip *c, uint8_t value)
{
    if (value & 0x04)
        c->poll = true;
    if (value & 0x02)
        c->read_isr = value & 0x01;
    if (value & 0x40)
        c->special_mask = value & 0x20;
}

static void chip_write_data(struct pic *pic, unsigned n, uint8_t value)
{
    struct pic_chip *c = &pic->chip[n];

    switch (c->init_step) {
    case 2:
        c->vector_base = value & 0xF8;
        c->init_step = c->single ? (c->icw4_expected ? 4 : 0) : 3;
        break;
    case 3:
        c->icw3 = value;
        c->init_step = c->icw4_expected ? 4 : 0;
        break;
    case 4:
        c->icw4 = value;
        c->auto_eoi = value & 0x02;
        c->sfnm = value & 0x10;
        c->init_step = 0;
        break;
    default:
        c->imr = value;
        return;
    }
    if (c->init_step == 0 && !(c->icw4 & 0x01))
        pic_guest_error(pic, PIC_LOG_MCS80, "MCS-80/85 mode not modelled; 8086 vectors used");
}

static uint8_t chip_read_command(struct pic *pic, unsigned n)
{
    struct pic_chip *c = &pic->chip[n];
    int pin;

    if (!c->poll)
        return c->read_isr ? c->isr : c->irr;
    c->poll = false;
    pin = chip_pending(c, n == 0);
    if (pin < 0)
        return 0x00;
    chip_ack(pic, n, (unsigned)pin);
    pic_update(pic);
    return (uint8_t)(0x80 | pin);
}

static uint64_t pic_chip_read(struct pic *pic, unsigned n, uint64_t offset)
{
    return offset == 0 ? chip_read_command(pic, n) : pic->chip[n].imr;
}

static void pic_chip_write(struct pic *pic, unsigned n, uint64_t offset, uint8_t value)
{
    struct pic_chip *c = &pic->chip[n];

    if (offset != 0)
        chip_write_data(pic, n, value);
    else if (value & 0x10)
        chip_write_icw1(pic, n, value);
    else if (value & 0x08)
        chip_write_ocw3(c, value);
    else
        chip_write_ocw2(c, value);
    pic_update(pic);
}

/* The ops tables admit 1-byte accesses only; the dispatcher splits wider ones. */
static uint64_t pic_master_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    return pic_chip_read(opaque, 0, offset);
}

static uint64_t pic_slave_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    return pic_chip_read(opaque, 1, offset);
}

static void pic_master_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    (void)size;
    pic_chip_write(opaque, 0, offset, (uint8_t)value);
}

static void pic_slave_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    (void)size;
    pic_chip_write(opaque, 1, offset, (uint8_t)value);
}

static uint64_t elcr_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct pic *pic = opaque;

    (void)size;
    return pic->chip[offset & 1].elcr;
}

/* A pin that becomes level-triggered requests exactly while its line is
 * asserted; one that becomes edge-triggered keeps its request. */
static void elcr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pic *pic = opaque;
    struct pic_chip *c = &pic->chip[offset & 1];

    (void)size;
    c->elcr = (uint8_t)value & c->elcr_mask;
    c->irr = (uint8_t)((c->irr & ~c->elcr) | (c->line & c->elcr));
    pic_update(pic);
}

static const struct mem_ops pic_master_ops = {
    .name = "pic",
    .read = pic_master_read,
    .write = pic_master_write,
    .min_access = 1,
    .max_access = 1,
};

static const struct mem_ops pic_slave_ops = {
    .name = "pic",
    .read = pic_slave_read,
    .write = pic_slave_write,
    .min_access = 1,
    .max_access = 1,
};

static const struct mem_ops elcr_ops = {
    .name = "elcr",
    .read = elcr_read,
    .write = elcr_write,
    .min_access = 1,
    .max_access = 1,
};

static void pic_power_on(struct pic *pic, uint8_t master_line, uint8_t slave_line)
{
    pic->chip[0] = (struct pic_chip){.line = master_line, .elcr_mask = 0xF8};
    pic->chip[1] = (struct pic_chip){.line = slave_line, .elcr_mask = 0xDE};
}

void pic_init(struct pic *pic, struct mem_system *sys, struct mem_region *io, pic_intr_fn on_intr,
              void *owner, FILE *log)
{
    *pic = (struct pic){.on_intr = on_intr, .owner = owner, .log = log};
    pic_power_on(pic, 0, 0);
    mem_region_add(io, mem_region_mmio(sys, "pic", 2, &pic_master_ops, pic), PIC_MASTER_PORT, 0);
    mem_region_add(io, mem_region_mmio(sys, "pic", 2, &pic_slave_ops, pic), PIC_SLAVE_PORT, 0);
    mem_region_add(io, mem_region_mmio(sys, "elcr", 2, &elcr_ops, pic), PIC_ELCR_PORT, 0);
}

void pic_reset(struct pic *pic)
{
    pic_power_on(pic, pic->chip[0].line, pic->chip[1].line);
    pic_update(pic);
}

void pic_set_irq(struct pic *pic, unsigned irq, bool level)
{
    if (irq > 15 || irq == PIC_CASCADE_IRQ)
        return;
    chip_set_input(pic, irq >> 3, irq & 7, level);
    pic_update(pic);
}

bool pic_output(const struct pic *pic)
{
    return pic->intr;
}
