/*
 * bt_rsp.c: stack-pointer loops (bt_rsp.h): which one-block loops may run with
 * host RSP = r8 + guest ESP, the check of their host code, and the alternate
 * signal stack that keeps signal frames out of guest memory while they run.
 */
#include "bt_rsp.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "bt.h"
#include "bt_asm.h"
#include "bt_xlat.h"

#define ALTSTACK_SIZE (256u * 1024)

int bt_rsp_altstack(void)
{
	static __thread bool ready;
	stack_t ss;
	void *p;

	if (ready)
		return 0;
	if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE) &&
	    ss.ss_size >= ALTSTACK_SIZE) {
		ready = true;
		return 0;
	}
	p = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	ss = (stack_t){.ss_sp = p, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
	if (sigaltstack(&ss, NULL)) {
		munmap(p, ALTSTACK_SIZE);
		return -1;
	}
	ready = true;
	return 0; /* kept for the thread's life: a handler may be running on it later */
}

bool bt_rsp_available(const struct bt *bt)
{
	stack_t ss;
	int sig;

	if (bt->rsp_off || sigaltstack(NULL, &ss) || (ss.ss_flags & SS_DISABLE) ||
	    ss.ss_size < ALTSTACK_SIZE)
		return false;
	/*
	 * Every handler must run on that stack: the kernel would otherwise write its
	 * signal frame below RSP, into guest memory (or fail and kill the process).
	 */
	for (sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sigaction(sig, NULL, &sa))
			continue; /* (glibc's own, not settable) */
		if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
			continue;
		if (!(sa.sa_flags & SA_ONSTACK))
			return false;
	}
	return true;
}

static bool rewritten(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_ENTER:
	case ZYDIS_MNEMONIC_LEAVE:
	case ZYDIS_MNEMONIC_PUSHF:
	case ZYDIS_MNEMONIC_PUSHFD:
	case ZYDIS_MNEMONIC_POPF:
	case ZYDIS_MNEMONIC_POPFD:
	case ZYDIS_MNEMONIC_CLI:
	case ZYDIS_MNEMONIC_STI:
	case ZYDIS_MNEMONIC_HLT:
	case ZYDIS_MNEMONIC_CPUID:
	case ZYDIS_MNEMONIC_RDMSR:
	case ZYDIS_MNEMONIC_WRMSR:
	case ZYDIS_MNEMONIC_RDTSC:
	case ZYDIS_MNEMONIC_BOUND:
	case ZYDIS_MNEMONIC_LDS:
	case ZYDIS_MNEMONIC_LES:
	case ZYDIS_MNEMONIC_LSS:
	case ZYDIS_MNEMONIC_LFS:
	case ZYDIS_MNEMONIC_LGS:
	case ZYDIS_MNEMONIC_ARPL:
	case ZYDIS_MNEMONIC_SALC:
	case ZYDIS_MNEMONIC_TZCNT:
	case ZYDIS_MNEMONIC_LZCNT:
	case ZYDIS_MNEMONIC_FWAIT:
	case ZYDIS_MNEMONIC_XLAT:
		return true;
	default:
		return false;
	}
}

bool bt_rsp_insn_ok(struct xlat *x)
{
	const ZydisDecodedInstruction *in = &x->in;
	int i;

	if (bt_adapt_reason(x->bt, x->eip, x->tb->cpl) || in->address_width != 32 ||
	    in->meta.isa_ext == ZYDIS_ISA_EXT_X87 || rewritten(in->mnemonic))
		return false;
	switch (in->meta.category) {
	case ZYDIS_CATEGORY_COND_BR:
		break;
	case ZYDIS_CATEGORY_UNCOND_BR:
		if (x->op[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
			return false; /* an indirect jmp probes the jump cache */
		break;
	case ZYDIS_CATEGORY_CALL:
	case ZYDIS_CATEGORY_RET:
	case ZYDIS_CATEGORY_PUSH:
	case ZYDIS_CATEGORY_POP:
	case ZYDIS_CATEGORY_SYSTEM:
	case ZYDIS_CATEGORY_INTERRUPT:
	case ZYDIS_CATEGORY_IO:
	case ZYDIS_CATEGORY_IOSTRINGOP:
	case ZYDIS_CATEGORY_STRINGOP:
	case ZYDIS_CATEGORY_DECIMAL:
	case ZYDIS_CATEGORY_SEGOP:
		return false;
	default:
		break;
	}
	for (i = 0; i < in->operand_count; i++) {
		const ZydisDecodedOperand *o = &x->op[i];
		ZydisRegisterClass cls;

		if (o->type != ZYDIS_OPERAND_TYPE_REGISTER)
			continue;
		cls = ZydisRegisterGetClass(o->reg.value);
		if (cls == ZYDIS_REGCLASS_SEGMENT || cls == ZYDIS_REGCLASS_CONTROL ||
		    cls == ZYDIS_REGCLASS_DEBUG)
			return false;
		if ((o->reg.value == R(ESP) || o->reg.value == R(SP)) &&
		    (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			return false; /* RSP = r8 + ESP would go stale */
	}
	return true;
}

static bool kept_reg(ZydisRegister r)
{
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);

	return big == ZYDIS_REGISTER_RSP || big == ZYDIS_REGISTER_R15 || big == ZYDIS_REGISTER_R8;
}

bool bt_rsp_body_ok(const uint8_t *code, uint32_t from, uint32_t to)
{
	static ZydisDecoder d64;
	static bool ready;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	uint32_t off = from;
	int i;

	if (!ready) {
		ZydisDecoderInit(&d64, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
		ready = true;
	}
	while (off < to) {
		if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d64, code + off, to - off, &in, op)))
			return false;
		switch (in.meta.category) {
		case ZYDIS_CATEGORY_CALL:
		case ZYDIS_CATEGORY_RET:
		case ZYDIS_CATEGORY_PUSH:
		case ZYDIS_CATEGORY_POP:
		case ZYDIS_CATEGORY_SYSTEM:
		case ZYDIS_CATEGORY_SYSCALL:
		case ZYDIS_CATEGORY_SYSRET:
		case ZYDIS_CATEGORY_INTERRUPT:
			return false;
		case ZYDIS_CATEGORY_COND_BR:
		case ZYDIS_CATEGORY_UNCOND_BR:
			/* relative only, and never back into the entry's lea */
			if (op[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE || !op[0].imm.is_relative ||
			    (int64_t)off + in.length + op[0].imm.value.s < (int64_t)from)
				return false;
			break;
		default:
			break;
		}
		for (i = 0; i < in.operand_count; i++)
			if (op[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
			    (op[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
			    kept_reg(op[i].reg.value))
				return false;
		off += in.length;
	}
	return true;
}

void emit_rsp_enter(struct emit *e)
{
	static const uint8_t lea[] = {0x4b, 0x8d, 0x24, 0x38}; /* lea rsp, [r8 + r15] */

	_Static_assert(sizeof(lea) == BT_RSP_PROLOGUE_LEN, "BT_RSP_PROLOGUE_LEN");
	emit_bytes(e, lea, sizeof(lea));
}

void emit_rsp_leave(struct emit *e)
{
	static const uint8_t mov[] = {0x49, 0x8b, 0x66,
	                              CPU_HOST_RSP}; /* mov rsp, [r14 + host_rsp] */

	emit_bytes(e, mov, sizeof(mov));
}
