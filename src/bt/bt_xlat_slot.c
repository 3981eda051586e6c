/*
 * bt_xlat_slot.c: what every translator of one instruction emits to leave the
 * block or call out: a callout with its site recorded, and exit slots (jmp or jcc
 * to a guest target, chained later by the dispatcher). The bottom of the
 * translator: bt_translate.c and every bt_xlat*.c family call down into it.
 */
#include "bt_xlat.h"

/* A callout whose site records this instruction. */
void x_callout(struct xlat *x, int kind)
{
	uint32_t site = tc_site(x->bt, (uint8_t)kind, x->eip, x->bytes, x->in.length);

	emit_cpu_store32(&x->e, CPU_CO_SITE, site);
	emit_call(&x->e, x->bt->cache.stub_callout);
}

/* An exit slot to a guest target; chainable slots become direct jumps later. */
static void add_slot(struct xlat *x, uint32_t field, uint32_t target, bool chain)
{
	int k = x->nslots++;

	x->looped |= target == x->tb->eip;

	x->slot_field[k] = field;
	x->slot_target[k] = target;
	x->slot_chain[k] = chain;
}

void x_jmp_slot(struct xlat *x, uint32_t target, bool chain)
{
	add_slot(x, emit_jmp_slot(&x->e), target, chain);
}

void x_jcc_slot(struct xlat *x, uint8_t cc, uint32_t target)
{
	add_slot(x, emit_jcc_slot(&x->e, cc), target, true);
}
