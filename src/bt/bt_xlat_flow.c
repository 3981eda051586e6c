/*
 * bt_xlat_flow.c: control flow. Direct branches end the block in exit slots
 * the dispatcher chains; indirect branches and returns probe the jump cache
 * inline (flag-free) and leave the cache only on a miss.
 */
#include "bt_xlat.h"

static bool is_far(const struct xlat *x)
{
	return x->in.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR;
}

/* A 16-bit operand size (IP wraps at 64 KiB, 16-bit pushes): in C, the block ends. */
static int slow16(struct xlat *x)
{
	x_callout(x, BT_CO_slow);
	x_jmp_slot(x, x->eip + x->in.length, false);
	return 1;
}

static uint32_t rel_target(const struct xlat *x)
{
	ZyanU64 t = 0;

	ZydisCalcAbsoluteAddress(&x->in, &x->op[0], x->eip, &t);
	return (uint32_t)t;
}

/* r13d = the target of an indirect branch (read before anything changes). */
static bool indirect_target(struct xlat *x)
{
	if (x->in.operand_width != 32)
		return false; /* a 16-bit IP would wrap at 64 KiB */
	return load_operand(x, &x->op[0], R(R13D));
}

enum x_next x_jmp(struct xlat *x)
{
	if (is_far(x)) {
		x_callout(x, BT_CO_far);
		return 1;
	}
	if (x->in.operand_width != 32)
		return slow16(x);
	if (x->op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		x_jmp_slot(x, rel_target(x), true);
		return 1;
	}
	if (!indirect_target(x))
		return unsupported(x);
	emit_lookup(&x->e, x->bt->cache.stub_miss);
	return 1;
}

enum x_next x_call(struct xlat *x)
{
	uint32_t ret = x->eip + x->in.length;

	if (is_far(x)) {
		x_callout(x, BT_CO_far);
		return 1;
	}
	if (x->in.operand_width != 32)
		return slow16(x);
	if (x->op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		emit_stack_store_imm(&x->e, -4, ret);
		emit_esp_add(&x->e, -4);
		x_jmp_slot(x, rel_target(x), true);
		return 1;
	}
	if (!indirect_target(x))
		return unsupported(x);
	emit_stack_store_imm(&x->e, -4, ret);
	emit_esp_add(&x->e, -4);
	emit_lookup(&x->e, x->bt->cache.stub_miss);
	return 1;
}

enum x_next x_ret(struct xlat *x)
{
	int32_t pop = 4, ic;

	if (is_far(x)) {
		x_callout(x, BT_CO_far);
		return 1;
	}
	if (x->in.operand_width != 32)
		return slow16(x);
	if (x->in.operand_count_visible && x->op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		pop += (int32_t)(x->op[0].imm.value.u & 0xffff);
	emit_stack_load(&x->e, 13, 0);
	emit_esp_add(&x->e, pop);
	/* A ret usually goes back to the same call site: an inline cache first. */
	ic = tc_ic_alloc(x->bt);
	if (ic >= 0)
		emit_lookup_ic(&x->e, x->bt->cache.stub_miss, ic);
	else
		emit_lookup(&x->e, x->bt->cache.stub_miss);
	return 1;
}

/*
 * A conditional branch is an exit slot for its taken edge; the block goes on with the
 * fall-through path while slots remain for a last branch (jcc + jmp, or loop's two), as
 * a compiler lays out straight-line code: no jump between a jcc and the next
 * instruction, one host taken branch where the guest takes one.
 */
enum x_next x_jcc(struct xlat *x)
{
	if (x->in.operand_width != 32)
		return slow16(x);
	x_jcc_slot(x, x->in.opcode & 0xf, rel_target(x));
	if (x->nslots + 2 <= TB_SLOTS)
		return 0;
	x_jmp_slot(x, x->eip + x->in.length, true);
	return 1;
}

/* loop/loope/loopne/jecxz: the same opcode with addr32 uses ECX in 64-bit mode. */
enum x_next x_loop(struct xlat *x)
{
	const uint8_t head[] = {0x67, x->in.opcode, 0x05}; /* taken: skip the fall-through jump */

	if (x->in.address_width != 32 || x->in.operand_width != 32)
		return unsupported(x);
	emit_bytes(&x->e, head, sizeof(head));
	x_jmp_slot(x, x->eip + x->in.length, true);
	x_jmp_slot(x, rel_target(x), true);
	return 1;
}
