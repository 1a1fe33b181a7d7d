/*
 * fwcfg.c - fw_cfg, traditional and DMA interface (platform.md §4.1–§4.3).
 */
#include "fwcfg.h"

#include "hw.h"
#include "lib.h"
#include "platform.h"

static uint32_t bswap32(uint32_t v)
{
    return __builtin_bswap32(v);
}

static uint64_t bswap64(uint64_t v)
{
    return __builtin_bswap64(v);
}

void fwcfg_read_key(uint16_t key, void *buf, uint32_t len)
{
    uint8_t *p = buf;

    outw(FWCFG_PORT_SEL, key);
    while (len--)
        *p++ = inb(FWCFG_PORT_DATA);
}

int fwcfg_detect(void)
{
    char sig[4];
    uint32_t id;

    fwcfg_read_key(FWCFG_KEY_SIGNATURE, sig, 4);
    if (memcmp(sig, "QEMU", 4) != 0)
        return 0;
    fwcfg_read_key(FWCFG_KEY_ID, &id, 4);
    return (id & 2) != 0;
}

int fwcfg_find(const char *name, struct fwcfg_file *f)
{
    uint32_t count;

    outw(FWCFG_PORT_SEL, FWCFG_KEY_FILE_DIR);
    uint8_t *c = (uint8_t *)&count;
    for (int i = 0; i < 4; i++)
        c[i] = inb(FWCFG_PORT_DATA);
    count = bswap32(count);
    for (uint32_t i = 0; i < count && i < 4096; i++) {
        struct __attribute__((packed)) {
            uint32_t size;
            uint16_t key;
            uint16_t reserved;
            char name[56];
        } e;
        uint8_t *p = (uint8_t *)&e;
        for (unsigned j = 0; j < sizeof(e); j++)
            p[j] = inb(FWCFG_PORT_DATA);
        e.name[55] = 0;
        if (str_eq(e.name, name)) {
            f->size = bswap32(e.size);
            f->key = (uint16_t)((e.key >> 8) | (e.key << 8));
            return 1;
        }
    }
    return 0;
}

struct __attribute__((packed, aligned(16))) fwcfg_dma_access {
    uint32_t control;
    uint32_t length;
    uint64_t address;
};

static struct fwcfg_dma_access dma_desc;

static int fwcfg_dma(uint32_t control, void *buf, uint32_t len)
{
    volatile struct fwcfg_dma_access *d = &dma_desc;

    d->control = bswap32(control);
    d->length = bswap32(len);
    d->address = bswap64((uint64_t)(uintptr_t)buf);
    __asm__ volatile("" : : : "memory");
    outl(FWCFG_PORT_DMA_HI, 0);
    outl(FWCFG_PORT_DMA_LO, bswap32((uint32_t)(uintptr_t)d));
    uint32_t ctl;
    while ((ctl = bswap32(d->control)) & ~1u)
        cpu_pause();
    return ctl & 1 ? -1 : 0;
}

#define DMA_ERROR  0x01u
#define DMA_READ   0x02u
#define DMA_SKIP   0x04u
#define DMA_SELECT 0x08u
#define DMA_WRITE  0x10u

int fwcfg_dma_read(uint16_t key, uint32_t offset, void *buf, uint32_t len)
{
    if (fwcfg_dma(((uint32_t)key << 16) | DMA_SELECT | DMA_SKIP, 0, offset))
        return -1;
    return fwcfg_dma(DMA_READ, buf, len);
}

int fwcfg_dma_write(uint16_t key, const void *buf, uint32_t len)
{
    return fwcfg_dma(((uint32_t)key << 16) | DMA_SELECT | DMA_WRITE, (void *)buf, len);
}
