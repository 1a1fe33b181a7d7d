/*
 * a20.S - the A20 gate through System Control Port A (0x92): linear 0x100500 (FFFF:0510)
 * is its own byte with A20 on (the power-on state) and wraps to 0x500 with bit 1 of port
 * 0x92 clear; the port reads back what was written, and bit 0 (fast reset) is left alone.
 */
#include "rom.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: a20\n"
    xorw %ax, %ax
    movw %ax, %ds
    movw $0xFFFF, %ax
    movw %ax, %es
    movb $0x11, 0x500
    movb $0x22, %es:0x510           /* linear 0x100500 */
    movzbl 0x500, %eax
    KV16 "a20 on: byte at 0x500", %eax, 2
    movzbl %es:0x510, %eax
    KV16 "a20 on: byte at 0x100500", %eax, 2
    inb $0x92, %al
    movzbl %al, %eax
    KV16 "port 0x92 at power-on", %eax, 2

    movb $0x00, %al                 /* A20 off */
    outb %al, $0x92
    movzbl %es:0x510, %eax
    KV16 "a20 off: read 0x100500 (wraps to 0x500)", %eax, 2
    movb $0x33, %es:0x510           /* lands at 0x500 */
    movzbl 0x500, %eax
    KV16 "a20 off: 0x500 after a write to 0x100500", %eax, 2
    inb $0x92, %al
    movzbl %al, %eax
    KV16 "port 0x92 after writing 0x00", %eax, 2

    movb $0x02, %al                 /* A20 on again: the high byte is still there */
    outb %al, $0x92
    movzbl %es:0x510, %eax
    KV16 "a20 on again: byte at 0x100500", %eax, 2
    movzbl 0x500, %eax
    KV16 "a20 on again: byte at 0x500", %eax, 2
    inb $0x92, %al
    movzbl %al, %eax
    KV16 "port 0x92 after writing 0x02", %eax, 2
    PUTS16 "done\n"
    EXIT 0
