/*
 * uart.h - a 16550A UART (COM1 at 0x3F8): transmit to a character device,
 * no receive path and no interrupts yet (they arrive with the PIC).
 */
#ifndef SMMVM_HW_UART_H
#define SMMVM_HW_UART_H

#include <stdint.h>

struct mem_system;
struct mem_region;
struct chardev;

struct uart {
    struct chardev *out;
    uint8_t ier, lcr, mcr, scr, fcr;
    uint16_t divisor;
};

void uart_init(struct uart *u, struct mem_system *sys, struct mem_region *io, uint16_t base,
               struct chardev *out);

#endif
