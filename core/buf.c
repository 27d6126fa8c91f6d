/* buf.c — capped growable buffers and per-record arenas. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc-buf.h"
#include "mc-error.h"

void mc_buf_init(struct mc_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void mc_buf_free(struct mc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void mc_buf_reset(struct mc_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int mc_buf_reserve(struct mc_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return MC_E_TOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (b->max < SIZE_MAX && ncap > b->max + 1)
		ncap = b->max + 1;
	p = realloc(b->data, ncap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int mc_buf_add(struct mc_buf *b, const void *p, size_t len)
{
	int rc = mc_buf_reserve(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int mc_buf_addc(struct mc_buf *b, char c)
{
	return mc_buf_add(b, &c, 1);
}

int mc_buf_adds(struct mc_buf *b, const char *s)
{
	return mc_buf_add(b, s, strlen(s));
}

int mc_buf_addf(struct mc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	rc = mc_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *mc_buf_steal(struct mc_buf *b, size_t *len)
{
	char *p = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* ---- arena ---- */

struct block {
	struct block *next;
	size_t size, used;
	max_align_t data[];
};

struct mc_arena {
	struct block *head;   /* current block; the first block is last in the chain */
	size_t max, total;
	int over;             /* an allocation was refused for the cap since the last reset */
};

#define ARENA_BLOCK 8192u

static struct block *block_new(size_t min)
{
	size_t size = min > ARENA_BLOCK ? min : ARENA_BLOCK;
	struct block *b = malloc(sizeof(*b) + size);

	if (!b)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

int mc_arena_new(size_t max, struct mc_arena **ret)
{
	struct mc_arena *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->head = block_new(0);
	if (!a->head) {
		free(a);
		return -ENOMEM;
	}
	a->max = max;
	*ret = a;
	return 0;
}

void mc_arena_free(struct mc_arena *a)
{
	struct block *b, *n;

	if (!a)
		return;
	for (b = a->head; b; b = n) {
		n = b->next;
		free(b);
	}
	free(a);
}

void mc_arena_reset(struct mc_arena *a)
{
	struct block *b = a->head, *n;

	while (b->next) {
		n = b->next;
		free(b);
		b = n;
	}
	b->used = 0;
	a->head = b;
	a->total = 0;
	a->over = 0;
}

void *mc_arena_alloc(struct mc_arena *a, size_t n)
{
	struct block *b = a->head;
	size_t an = (n + 7u) & ~(size_t)7u;
	void *p;

	if (an < n)
		return NULL;
	if (a->max && (an > a->max || a->total > a->max - an)) {
		a->over = 1;
		return NULL;
	}
	if (b->size - b->used < an) {
		/* Big allocations get a block of their own behind the current one
		 * so the current block's free tail stays usable. */
		struct block *nb = block_new(an);

		if (!nb)
			return NULL;
		if (an > ARENA_BLOCK / 4) {
			nb->next = b->next;
			b->next = nb;
			nb->used = an;
			a->total += an;
			return nb->data;
		}
		nb->next = b;
		a->head = b = nb;
	}
	p = (char *)b->data + b->used;
	b->used += an;
	a->total += an;
	return p;
}

void *mc_arena_zalloc(struct mc_arena *a, size_t n)
{
	void *p = mc_arena_alloc(a, n);

	if (p)
		memset(p, 0, n);
	return p;
}

char *mc_arena_strndup(struct mc_arena *a, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = mc_arena_alloc(a, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *mc_arena_strdup(struct mc_arena *a, const char *s)
{
	return mc_arena_strndup(a, s, strlen(s));
}

char *mc_arena_printf(struct mc_arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = mc_arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t mc_arena_used(const struct mc_arena *a)
{
	return a->total;
}

int mc_arena_over_cap(const struct mc_arena *a)
{
	return a->over;
}

int mc_arena_grow(struct mc_arena *a, void **arr, size_t *n, size_t *cap, size_t elsz)
{
	size_t ncap;
	void *p;

	if (*n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / elsz)
		return -ENOMEM;
	p = mc_arena_alloc(a, ncap * elsz);
	if (!p)
		return a->over ? MC_E_TOOBIG : -ENOMEM;
	if (*n)
		memcpy(p, *arr, *n * elsz);
	*arr = p;
	*cap = ncap;
	return 0;
}
