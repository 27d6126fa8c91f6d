/* mc-hash.h — the one string hash of mucluc (FNV-1a style), 64 and 32 bits.
 *
 * Not cryptographic: for hash tables and for short index keys whose every
 * hit is verified. Header-only (static inline) because the merger's and
 * the importer's tables hash every record.
 *
 * Stored values: the merger's match-key index (mg_key, schemas/union.md)
 * is keyed by mc_hash64_str() of the key, big-endian. The 64-bit seed is
 * therefore fixed for good. Note that it is NOT FNV-1a's published offset
 * basis 14695981039346656037 (0xcbf29ce484222325): 1469598103934665603 has
 * lost that number's last digit. The stores written so far use it, so it
 * stays; the mixing is still sound (any odd-ish non-zero seed works).
 * The 32-bit variant uses FNV-1a's real 32-bit basis and prime. */
#ifndef MC_HASH_H
#define MC_HASH_H

#include <stddef.h>
#include <stdint.h>

#define MC_HASH64_SEED  1469598103934665603ull  /* see above: on disk, never change */
#define MC_HASH64_PRIME 1099511628211ull        /* FNV-1a 64-bit prime */
#define MC_HASH32_SEED  2166136261u             /* FNV-1a 32-bit offset basis */
#define MC_HASH32_PRIME 16777619u               /* FNV-1a 32-bit prime */

/* Fold one byte c into the running 64-bit hash h; returns the new hash. */
static inline uint64_t mc_hash64_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * MC_HASH64_PRIME;
}

/* Fold n bytes at p (may be NULL when n is 0) into h; returns the new hash. */
static inline uint64_t mc_hash64_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * MC_HASH64_PRIME;
	return h;
}

/* Fold the bytes of the NUL-terminated s (not the NUL) into h. */
static inline uint64_t mc_hash64_add_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * MC_HASH64_PRIME;
	return h;
}

/* 64-bit hash of n bytes at p: mc_hash64_add(MC_HASH64_SEED, p, n). */
static inline uint64_t mc_hash64(const void *p, size_t n)
{
	return mc_hash64_add(MC_HASH64_SEED, p, n);
}

/* 64-bit hash of the NUL-terminated s. May be 0: tables that use 0 for
 * "empty" map it to another value themselves. */
static inline uint64_t mc_hash64_str(const char *s)
{
	return mc_hash64_add_str(MC_HASH64_SEED, s);
}

/* 32-bit FNV-1a of n bytes at p. */
static inline uint32_t mc_hash32(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t h = MC_HASH32_SEED;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * MC_HASH32_PRIME;
	return h;
}

/* 32-bit FNV-1a of the NUL-terminated s. */
static inline uint32_t mc_hash32_str(const char *s)
{
	uint32_t h = MC_HASH32_SEED;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * MC_HASH32_PRIME;
	return h;
}

/* splitmix64's finaliser: spreads the bits of a hash, a sum or a
 * combination over all 64 (for table slots taken from the low bits).
 * In-memory use only: nothing stored depends on it. */
static inline uint64_t mc_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBull;
	x ^= x >> 31;
	return x;
}

#endif
