/*
 * q35_poweron.S - touches nothing and stops: the power-on register state for
 * tests/mtree/run.sh (in the ROM suite it only prints its name and exits).
 */
#include "rom.h"

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: q35_poweron\ndone\n"
    EXIT 0
