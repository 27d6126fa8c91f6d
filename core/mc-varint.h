/* mc-varint.h — the integer encodings of every stored form: unsigned LEB128
 * varints, zigzag for signed values, and fixed 64-bit little- and big-endian.
 *
 * One copy for the record value (core/pack.c, schemas/lmdb.md), the
 * merger's member and union values (merger/mg-pack.c, schemas/union.md) and
 * the store's keys and counters. These bytes are on disk: the encodings
 * never change. Header-only (static inline): they sit in the inner loop of
 * packing and unpacking every record. */
#ifndef MC_VARINT_H
#define MC_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "mc-error.h"

/* Most bytes one varint of a uint64_t takes. */
#define MC_VARINT_MAX 10

/* Write v as unsigned LEB128 (7 bits a byte, low group first, high bit set
 * on every byte but the last) to out, which has room for MC_VARINT_MAX
 * bytes. The encoding is canonical: no redundant trailing zero groups.
 * Returns the number of bytes written (1..MC_VARINT_MAX). */
static inline size_t mc_varint_put(unsigned char *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (unsigned char)v;
	return n;
}

/* Read one varint from *p (not past end) into *ret and advance *p past it.
 * Only the canonical form mc_varint_put writes is accepted: a last byte of
 * 0 after other bytes, more than 64 bits, or input that ends first are
 * MC_E_CORRUPT. 0 or MC_E_CORRUPT; on failure *p and *ret are unchanged. */
static inline int mc_varint_get(const unsigned char **p, const unsigned char *end,
				uint64_t *ret)
{
	const unsigned char *s = *p;
	uint64_t v = 0;
	unsigned shift = 0;

	for (;;) {
		unsigned char c;

		if (s >= end || shift > 63)
			return MC_E_CORRUPT;
		c = *s++;
		if (shift == 63 && c > 1)
			return MC_E_CORRUPT;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			if (c == 0 && shift)
				return MC_E_CORRUPT;
			*p = s;
			*ret = v;
			return 0;
		}
		shift += 7;
	}
}

/* Zigzag: signed to unsigned so that small magnitudes give short varints
 * (0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3 ...), and back. */
static inline uint64_t mc_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t mc_unzigzag(uint64_t z)
{
	return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

/* Fixed 64-bit little-endian (values: datestamps, counters) and big-endian
 * (keys, so that LMDB's byte order is numeric order) at p (8 bytes). */
static inline void mc_put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t mc_get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline void mc_put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static inline uint64_t mc_get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

#endif
