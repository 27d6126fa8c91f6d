/* mc-buf.h — growable byte buffers with a hard cap, and per-record arenas.
 *
 * Every size that input controls is bounded: a buffer refuses to grow past
 * its cap with MC_E_TOOBIG (like curl's dynbuf). The named limits for input
 * live in mc-limits.h. */
#ifndef MC_BUF_H
#define MC_BUF_H

#include <stddef.h>
#include <stdint.h>

struct mc_buf {
	char *data;    /* always NUL-terminated when non-NULL (not counted in len) */
	size_t len;
	size_t cap;    /* allocated bytes */
	size_t max;    /* hard cap on len */
};

/* Initialise an empty buffer that may hold at most max bytes. No allocation. */
void mc_buf_init(struct mc_buf *b, size_t max);
/* Free the storage; the buffer is left empty and reusable. */
void mc_buf_free(struct mc_buf *b);
/* Make it empty, keeping storage. */
void mc_buf_reset(struct mc_buf *b);
/* Append len bytes. 0, -ENOMEM or MC_E_TOOBIG (buffer unchanged on failure). */
int mc_buf_add(struct mc_buf *b, const void *p, size_t len);
int mc_buf_addc(struct mc_buf *b, char c);
int mc_buf_adds(struct mc_buf *b, const char *s);
int mc_buf_addf(struct mc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ensure room for n more bytes without exceeding max. */
int mc_buf_reserve(struct mc_buf *b, size_t n);
/* Hand the storage to the caller (caller frees with free()); b is left empty.
 * Returns "" copy semantics never: returns NULL when the buffer is empty and unallocated. */
char *mc_buf_steal(struct mc_buf *b, size_t *len);

/* Arena: many small allocations freed in one call. One per record, one per
 * HTTP request. Allocations are 8-byte aligned. */
struct mc_arena;

/* New arena whose total allocation may not exceed max bytes (0 = no cap).
 * 0 or -ENOMEM; *ret set only on success. Caller frees with mc_arena_free. */
int mc_arena_new(size_t max, struct mc_arena **ret);
/* Free the arena and everything allocated from it. NULL is a no-op. */
void mc_arena_free(struct mc_arena *a);
/* Forget every allocation, keeping the first block for reuse. */
void mc_arena_reset(struct mc_arena *a);
/* Allocate n bytes (uninitialised). NULL when out of memory or over the cap. */
void *mc_arena_alloc(struct mc_arena *a, size_t n);
void *mc_arena_zalloc(struct mc_arena *a, size_t n);
/* Copy len bytes and add a NUL. NULL on failure. */
char *mc_arena_strndup(struct mc_arena *a, const char *s, size_t len);
char *mc_arena_strdup(struct mc_arena *a, const char *s);
char *mc_arena_printf(struct mc_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes handed out so far (for limits and statistics). */
size_t mc_arena_used(const struct mc_arena *a);
/* 1 when an allocation was refused since the last reset because it would
 * have passed the arena's cap (the input is too big, not the machine out of
 * memory), else 0. */
int mc_arena_over_cap(const struct mc_arena *a);

/* Growable array of pointers or structs in an arena: *arr has *n elements and
 * room for *cap; grow to hold one more of size elsz. 0, MC_E_TOOBIG (the
 * arena's cap) or -ENOMEM. */
int mc_arena_grow(struct mc_arena *a, void **arr, size_t *n, size_t *cap, size_t elsz);

#endif
