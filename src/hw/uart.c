/*
 * uart.c - 16550A register file (8 ports). With LCR.DLAB set, offsets 0/1
 * reach the divisor latch. The transmitter is always empty (LSR = 0x60):
 * bytes go straight to the character device. Nothing is ever received.
 */
#include "hw/uart.h"

#include "hw/chardev.h"
#include "mem/memory.h"

#define UART_LCR_DLAB 0x80
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MCR_LOOP 0x10

static uint64_t uart_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct uart *u = opaque;
    (void)size;
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (offset) {
    case 0: return dlab ? (u->divisor & 0xFF) : 0;
    case 1: return dlab ? (u->divisor >> 8) : u->ier;
    case 2: return 0x01 | ((u->fcr & 1) ? 0xC0 : 0); /* no interrupt pending */
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5: return UART_LSR_THRE | UART_LSR_TEMT;
    case 6: /* loopback maps MCR outputs to the modem inputs; otherwise carrier etc. present */
        return (u->mcr & UART_MCR_LOOP) ? ((u->mcr & 0x0F) << 4) : 0xB0;
    default: return u->scr;
    }
}

static void uart_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct uart *u = opaque;
    uint8_t v = (uint8_t)value;
    (void)size;
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (offset) {
    case 0:
        if (dlab)
            u->divisor = (uint16_t)((u->divisor & 0xFF00) | v);
        else if (!(u->mcr & UART_MCR_LOOP))
            chardev_write(u->out, &v, 1);
        return;
    case 1:
        if (dlab)
            u->divisor = (uint16_t)((u->divisor & 0x00FF) | (v << 8));
        else
            u->ier = v & 0x0F;
        return;
    case 2: u->fcr = v; return;
    case 3: u->lcr = v; return;
    case 4: u->mcr = v & 0x1F; return;
    case 7: u->scr = v; return;
    default: return; /* LSR and MSR are read-only */
    }
}

static const struct mem_ops uart_ops = {
    .name = "serial",
    .read = uart_read,
    .write = uart_write,
    .min_access = 1,
    .max_access = 1,
};

void uart_init(struct uart *u, struct mem_system *sys, struct mem_region *io, uint16_t base,
               struct chardev *out)
{
    *u = (struct uart){ .out = out, .divisor = 12 };
    mem_region_add(io, mem_region_mmio(sys, "serial", 8, &uart_ops, u), base, 0);
}
