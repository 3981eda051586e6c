/* dt_common.c: the runner logic shared by native.c (-m32 host) and guest.c (ring 0):
 * the scratch pattern, loading a case, collecting and formatting its result. */
#include "difftest.h"

#ifdef DT_GUEST
#include "rt.h"
#else
#include <stdio.h>
#include <string.h>
#endif

#define SCRATCH_WORDS (DT_SCRATCH_SIZE / 4)

uint32_t dt_pristine[SCRATCH_WORDS];

static inline volatile uint32_t *ctl(unsigned off)
{
	return (volatile uint32_t *)(uintptr_t)(DT_CTL + off);
}

/* The deterministic scratch pattern: a hash of the word index, with a few runs of
 * zeros and all-ones so compares and bit scans see those too. */
void dt_pristine_init(void)
{
	for (uint32_t i = 0; i < SCRATCH_WORDS; i++) {
		uint32_t x = i * 0x9E3779B1u + 0x7F4A7C15u;
		x ^= x >> 15;
		x *= 0x85EBCA77u;
		x ^= x >> 13;
		x *= 0xC2B2AE3Du;
		x ^= x >> 16;
		if ((i & 0x1F0) == 0x100)
			x = (i & 0x200) ? 0xFFFFFFFFu : 0;
		dt_pristine[i] = x;
	}
	memcpy((void *)(uintptr_t)DT_SCRATCH, dt_pristine, DT_SCRATCH_SIZE);
}

void dt_load_case(const struct dt_case *c)
{
	*ctl(DT_CTL_EXIT) = (uint32_t)(uintptr_t)dt_epilogue;
	*ctl(DT_CTL_CODE) = (uint32_t)(uintptr_t)c->code;
	for (int i = 0; i < 8; i++)
		*ctl(DT_CTL_IN + 4 * i) = c->regs[i];
	*ctl(DT_CTL_IN + 32) = c->eflags;
	for (int i = 0; i < 9; i++)
		*ctl(DT_CTL_OUT + 4 * i) = 0;
}

/* Registers and flags from the control block; the scratch bytes that differ from
 * the pattern are hashed (with their range) and reset, so the next case starts
 * from the pristine scratch again. */
void dt_collect(struct dt_result *r)
{
	volatile uint32_t *s = (volatile uint32_t *)(uintptr_t)DT_SCRATCH;
	uint32_t lo = 0, hi = SCRATCH_WORDS, h = 2166136261u;

	for (int i = 0; i < 8; i++)
		r->regs[i] = *ctl(DT_CTL_OUT + 4 * i);
	r->eflags = *ctl(DT_CTL_OUT + 32) & DT_FLAGS_CMP;
	while (lo < SCRATCH_WORDS && s[lo] == dt_pristine[lo])
		lo++;
	if (lo == SCRATCH_WORDS) {
		hi = lo = 0;
	} else {
		while (s[hi - 1] == dt_pristine[hi - 1])
			hi--;
	}
	h = (h ^ lo) * 16777619u;
	h = (h ^ hi) * 16777619u;
	for (uint32_t i = lo; i < hi; i++) {
		uint32_t w = s[i];
		for (int k = 0; k < 4; k++, w >>= 8)
			h = (h ^ (w & 0xFF)) * 16777619u;
		s[i] = dt_pristine[i];
	}
	r->dirty_lo = lo * 4;
	r->dirty_hi = hi * 4;
	r->memhash = h;
}

int dt_format(char *buf, unsigned size, uint32_t index, const struct dt_result *r)
{
	return snprintf(buf, size,
	                "case %u eax=%08x ecx=%08x edx=%08x ebx=%08x esp=%08x ebp=%08x esi=%08x "
	                "edi=%08x eflags=%08x dirty=%04x-%04x mem=%08x\n",
	                (unsigned)index, (unsigned)r->regs[0], (unsigned)r->regs[1],
	                (unsigned)r->regs[2], (unsigned)r->regs[3], (unsigned)r->regs[4],
	                (unsigned)r->regs[5], (unsigned)r->regs[6], (unsigned)r->regs[7],
	                (unsigned)r->eflags, (unsigned)r->dirty_lo, (unsigned)r->dirty_hi,
	                (unsigned)r->memhash);
}

const struct dt_case *dt_first_case(const struct dt_blob_hdr *h, unsigned long blob_len)
{
	if (blob_len < sizeof(*h) || memcmp(h->magic, DT_BLOB_MAGIC, 8) != 0 ||
	    h->hdr_size != sizeof(*h))
		return NULL;
	return (const struct dt_case *)((const char *)h + h->hdr_size);
}

const struct dt_case *dt_next_case(const struct dt_case *c)
{
	return (const struct dt_case *)((const char *)c + c->size);
}
