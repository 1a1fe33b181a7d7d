/*
 * fwcfg.h - QEMU fw_cfg access for the boot stage (platform.md §4): traditional reads for
 * small items, DMA for files. Never used in SMM (DMA buffers must be normal RAM, §4.2).
 */
#ifndef SMMFW_FWCFG_H
#define SMMFW_FWCFG_H

#include <stdint.h>

struct fwcfg_file {
    uint32_t size;
    uint16_t key;
};

int fwcfg_detect(void); /* 1 if the signature is "QEMU" and the ID reports DMA */
void fwcfg_read_key(uint16_t key, void *buf, uint32_t len);
int fwcfg_find(const char *name, struct fwcfg_file *f);
/* Read len bytes at offset of item key into buf by DMA; returns 0 on success. */
int fwcfg_dma_read(uint16_t key, uint32_t offset, void *buf, uint32_t len);
int fwcfg_dma_write(uint16_t key, const void *buf, uint32_t len);

#endif
