/*
 * values.c - the PRNG (xoshiro256** seeded through splitmix64) and the
 * biased operand values and shift counts the generator draws. Every random
 * choice of the suite comes from here.
 */
#include "diff.h"

/* ---- PRNG ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
    for (unsigned k = 0; k < 4; k++)
        r->s[k] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
    return n ? rng_next(r) % n : 0;
}

/* ---- values ---- */

uint64_t mask_of(unsigned bytes)
{
    return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

uint64_t gen_value(struct rng *r, unsigned bytes)
{
    uint64_t m = mask_of(bytes), sign = 1ull << (8 * bytes - 1);
    unsigned bits = 8 * bytes;
    switch (rng_below(r, 20)) {
    case 0:
        return 0;
    case 1:
        return 1;
    case 2:
        return m; /* -1 */
    case 3:
        return sign; /* most negative */
    case 4:
        return sign - 1; /* most positive */
    case 5:
        return (sign + 1) & m;
    case 6:
        return (m - 1) & m; /* -2 */
    case 7:
        return rng_below(r, 16);
    case 8:
        return (m - rng_below(r, 16)) & m;
    case 9:
        return (sign + rng_below(r, 8) - 4) & m;
    case 10:
        return (1ull << rng_below(r, bits)) & m;
    case 11:
        return ~(1ull << rng_below(r, bits)) & m;
    case 12: /* nibble and byte carry edges: ..0F, ..10, ..FF, ..00 */
        return ((rng_next(r) & ~0xFFull) |
                (uint64_t[]){0x0F, 0x10, 0xFF, 0x00, 0x7F, 0x80}[rng_below(r, 6)]) &
               m;
    case 13: /* a byte/word/dword boundary */
        return ((1ull << (8 * (1 + rng_below(r, bytes)) - 1)) - rng_below(r, 2)) & m;
    default:
        return rng_next(r) & m;
    }
}

/* A second operand that meets the first at a boundary a quarter of the time. */
uint64_t gen_partner(struct rng *r, unsigned bytes, uint64_t a)
{
    uint64_t m = mask_of(bytes);
    switch (rng_below(r, 24)) {
    case 0:
        return a & m;
    case 1:
        return (0 - a) & m;
    case 2:
        return ~a & m;
    case 3:
        return (a + 1) & m;
    case 4:
        return (a - 1) & m;
    case 5:
        return ((1ull << (8 * bytes - 1)) - a) & m;
    default:
        return gen_value(r, bytes);
    }
}

unsigned gen_count(struct rng *r, unsigned bits)
{
    switch (rng_below(r, 14)) {
    case 0:
        return 0;
    case 1:
        return 1;
    case 2:
        return bits - 1;
    case 3:
        return bits;
    case 4:
        return bits + 1;
    case 5:
        return 32 + (unsigned)rng_below(r, 2); /* masks to 0, 1 below 64 bits */
    case 6:
        return 63 + (unsigned)rng_below(r, 3); /* 63, 64, 65 */
    case 7:
        return 2 * bits + (unsigned)rng_below(r, 3) - 1;
    case 8:
        return (unsigned)rng_below(r, 256);
    case 9:
        return 0x20 * (unsigned)rng_below(r, 8) + (unsigned)rng_below(r, 2); /* high bits only */
    default:
        return (unsigned)rng_below(r, bits + 2);
    }
}
