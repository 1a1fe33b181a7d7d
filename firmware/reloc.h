/*
 * reloc.h - relocating one CPU into its TSEG tile (firmware.md §5.2), shared by the boot CPU
 * (boot, S3) and the monarch (hot-plug, in SMM).
 */
#ifndef SMMFW_RELOC_H
#define SMMFW_RELOC_H

#include "smram.h"

#define RELOC_OK        0
#define RELOC_NO_ENTRY -1 /* the CPU never passed the gate: still at SMBASE 0x30000 */

void reloc_copy_pen(void);
int reloc_cpu(struct smm_data *d, unsigned slot, enum reloc_phase phase);

extern const char pen_start[], pen_end[];

#endif
