/*
 * save_offsets.h - the save-state offsets the first-SMI handler (stub.S, assembler) uses, as
 * plain numbers so GNU as can include them. tseg.c checks every one against the C layout in
 * ../src/cpu/smm_state.h at compile time (firmware.md §11).
 */
#ifndef SMMFW_SAVE_OFFSETS_H
#define SMMFW_SAVE_OFFSETS_H

#define SAVE_CS_SELECTOR 0xfe10
#define SAVE_CS_ATTR     0xfe12
#define SAVE_CS_LIMIT    0xfe14
#define SAVE_CS_BASE     0xfe18
#define SAVE_AUTO_HALT   0xfec9
#define SAVE_REVISION    0xfefc
#define SAVE_SMBASE      0xff00
#define SAVE_CR0         0xff58
#define SAVE_RFLAGS      0xff70
#define SAVE_RIP         0xff78

#endif
