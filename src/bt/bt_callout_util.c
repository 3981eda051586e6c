/*
 * bt_callout_util.c: the services every callout handler calls down into: guest
 * registers and operands of the decoded instruction, stack pushes and pops, raising
 * a fault at the instruction, going on in the target's block. No handler lives here.
 */
#include <string.h>

#include "bt_callout.h"
#include "monitor.h"

#define EFL_TF 0x100u
#define EFL_IF 0x200u

uint32_t co_get_reg(struct co *k, ZydisRegister r)
{
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LEGACY_32, r);
	uint32_t v = k->c->gpr[ZydisRegisterGetId(big)];

	switch (ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LEGACY_32, r)) {
	case 8:
		return (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) ? (v >> 8) & 0xff
		                                                          : v & 0xff;
	case 16:
		return v & 0xffff;
	default:
		return v;
	}
}

void co_set_reg(struct co *k, ZydisRegister r, uint32_t v)
{
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LEGACY_32, r);
	uint32_t *g = &k->c->gpr[ZydisRegisterGetId(big)];

	switch (ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LEGACY_32, r)) {
	case 8:
		if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH)
			*g = (*g & ~0xff00u) | ((v & 0xff) << 8);
		else
			*g = (*g & ~0xffu) | (v & 0xff);
		break;
	case 16:
		*g = (*g & ~0xffffu) | (v & 0xffff);
		break;
	default:
		*g = v;
	}
}

uint32_t co_off(struct co *k, const ZydisDecodedOperand *o)
{
	uint32_t ea = (uint32_t)o->mem.disp.value;

	if (o->mem.base != ZYDIS_REGISTER_NONE)
		ea += co_get_reg(k, o->mem.base);
	if (o->mem.index != ZYDIS_REGISTER_NONE)
		ea += co_get_reg(k, o->mem.index) * (o->mem.scale ? o->mem.scale : 1);
	return k->in.address_width == 16 ? ea & 0xffff : ea;
}

int co_seg_of(ZydisRegister r)
{
	switch (r) {
	case ZYDIS_REGISTER_ES:
		return SEG_ES;
	case ZYDIS_REGISTER_CS:
		return SEG_CS;
	case ZYDIS_REGISTER_SS:
		return SEG_SS;
	case ZYDIS_REGISTER_FS:
		return SEG_FS;
	case ZYDIS_REGISTER_GS:
		return SEG_GS;
	default:
		return SEG_DS;
	}
}

int co_str_src_seg(struct co *k)
{
	int i;

	for (i = 0; i < k->in.operand_count; i++)
		if (k->op[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    (k->op[i].mem.base == ZYDIS_REGISTER_ESI ||
		     k->op[i].mem.base == ZYDIS_REGISTER_SI))
			return co_seg_of(k->op[i].mem.segment);
	return SEG_DS;
}

uint32_t co_ea(struct co *k, const ZydisDecodedOperand *o)
{
	return bt_lin(k->c->seg, co_seg_of(o->mem.segment), co_off(k, o));
}

int co_read(struct co *k, const ZydisDecodedOperand *o, uint32_t *v)
{
	*v = 0;
	if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		*v = co_get_reg(k, o->reg.value);
		return 0;
	}
	if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		*v = (uint32_t)o->imm.value.u;
		return 0;
	}
	return mmu_read(k->bt, co_ea(k, o), v, o->size / 8, k->c->cpl == 3);
}

int co_write(struct co *k, const ZydisDecodedOperand *o, uint32_t v)
{
	if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		co_set_reg(k, o->reg.value, v);
		return 0;
	}
	return mmu_write(k->bt, co_ea(k, o), &v, o->size / 8, k->c->cpl == 3);
}

int co_fault(struct co *k, int vector, bool has_err, uint32_t err)
{
	bt_raise(k->bt, vector, has_err, err);
	k->c->eip = k->site->eip;
	return BT_EXIT_EXCEPTION;
}

int co_pending(struct co *k)
{
	k->c->eip = k->site->eip;
	return k->c->exc.vector >= 0 ? BT_EXIT_EXCEPTION : BT_EXIT_CORE;
}

int co_fpu_cr0(struct co *k, uint32_t old_cr0)
{
	if (!bt_fpu_cr0_changed(k->bt, old_cr0))
		return CO_NEXT;
	k->c->eip = k->next;
	return BT_EXIT_RESUME;
}

bool co_need_cpl0(struct co *k)
{
	if (k->c->cpl == 0)
		return true;
	co_fault(k, EXC_GP, true, 0);
	return false;
}

int co_unsupported(struct co *k, const char *what)
{
	char text[96] = "";
	ZydisFormatter f;

	ZydisFormatterInit(&f, ZYDIS_FORMATTER_STYLE_INTEL);
	ZydisFormatterFormatInstruction(&f, &k->in, k->op, k->in.operand_count_visible, text,
	                                sizeof(text), k->site->eip, NULL);
	bt_unsupported(k->bt, k->site->eip, "%s '%s'", what, text[0] ? text : "(undecodable)");
	k->bt->stats.slow_path++;
	k->c->eip = k->site->eip;
	return BT_EXIT_CORE;
}

void co_shadow(struct co *k, uint8_t kind)
{
	struct bt_cpu *c = k->c;

	if (c->shadow && c->shadow_eip == k->site->eip)
		return; /* in a shadow already: only the first of a row makes one */
	c->shadow = kind;
	c->shadow_eip = k->next;
}

int co_push(struct co *k, uint32_t v, int size)
{
	if (mmu_write(k->bt, bt_lin(k->c->seg, SEG_SS, k->c->gpr[4] - (uint32_t)size), &v,
	              (uint32_t)size, k->c->cpl == 3))
		return -1;
	k->c->gpr[4] -= (uint32_t)size;
	return 0;
}

int co_pop(struct co *k, uint32_t *v, int size)
{
	*v = 0;
	if (mmu_read(k->bt, bt_lin(k->c->seg, SEG_SS, k->c->gpr[4]), v, (uint32_t)size,
	             k->c->cpl == 3))
		return -1;
	k->c->gpr[4] += (uint32_t)size;
	return 0;
}

int co_jump(struct co *k)
{
	struct bt *bt = k->bt;
	const uint8_t *code;
	struct tb *tb;

	if ((k->c->vflags & EFL_IF) && monitor_irq_pending(bt->mon))
		return BT_EXIT_RESUME; /* the dispatcher delivers it first */
	if (bt->stepping || (k->c->vflags & EFL_TF))
		return BT_EXIT_RESUME; /* single-stepping: one instruction per dispatch */
	code = tc_jc_lookup(bt, k->c->eip);
	if (!code) {
		tb = tc_lookup(bt, k->c->eip, k->c->cpl);
		if (!tb)
			return BT_EXIT_RESUME;
		tc_jc_enter(bt, tb);
		code = tb->code;
	}
	k->c->jump = (uint64_t)(uintptr_t)code;
	return BT_CO_JUMP;
}

int co_deliver_fast(struct co *k)
{
	struct exit_record *ex = &k->bt->core_exit;

	memset(ex, 0, sizeof(*ex));
	k->bt->stats.exceptions++;
	if (bt_deliver(k->bt)) {
		if (!ex->what[0])
			exit_make(ex, EXIT_SHUTDOWN, k->site->eip, false);
		return BT_EXIT_CORE;
	}
	return co_jump(k);
}

int co_stop(struct co *k, uint32_t eip)
{
	exit_make(&k->bt->core_exit, EXIT_STOP, eip, k->c->vflags & 0x200);
	return BT_EXIT_CORE;
}

/*
 * Decoded callout instructions, direct-mapped by their bytes: the cold callouts
 * (segment loads and pushes, mov cr, far transfers) decode their guest instruction
 * at every call, and Zydis's full decode was 31% of a minios ping-pong's time
 * (perf). Keyed by the bytes themselves, so an entry left by another site, or by
 * a block since invalidated, decodes the same; per thread, so engines on several
 * threads never share one.
 */
#define CO_DEC_ENTRIES 256
struct co_dec {
	uint8_t len; /* 0: empty */
	uint8_t bytes[15];
	struct co k; /* in and op decoded from bytes */
};
static _Thread_local struct co_dec co_decoded[CO_DEC_ENTRIES];

static bool same_bytes(const struct co_dec *d, const struct bt_site *s)
{
	return d->len == s->len && !memcmp(d->bytes, s->bytes, s->len);
}

struct co *co_decode(struct co *k)
{
	const struct bt_site *s = k->site;
	uint32_t h = 2166136261u;
	struct co_dec *d;
	unsigned i;

	if (s->len == 0 || s->len > sizeof(d->bytes))
		return ZYAN_SUCCESS(
		           ZydisDecoderDecodeFull(k->bt->dec32, s->bytes, s->len, &k->in, k->op))
		           ? k
		           : NULL;
	for (i = 0; i < s->len; i++)
		h = (h ^ s->bytes[i]) * 16777619u;
	/* two ways: a trap stub's `mov ds, ax` and `pop ds` must not evict each other */
	d = &co_decoded[(h ^ (h >> 16)) % CO_DEC_ENTRIES & ~1u];
	if (!same_bytes(d, s)) {
		if (same_bytes(d + 1, s)) {
			d++;
		} else {
			d[1] = d[0]; /* the older entry goes to way 1, the new one in way 0 */
			if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(k->bt->dec32, s->bytes, s->len,
			                                         &d->k.in, d->k.op))) {
				d->len = 0;
				return NULL;
			}
			d->len = s->len;
			memcpy(d->bytes, s->bytes, s->len);
		}
	}
	d->k.bt = k->bt;
	d->k.c = k->c;
	d->k.site = k->site;
	d->k.next = k->next;
	return &d->k;
}
