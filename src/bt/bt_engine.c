/*
 * bt_engine.c: the binary translator as an engine: its ops, and the dispatcher
 * that finds or makes the translation of the next guest address, chains the
 * branch that led there, enters the cache, and turns what comes back
 * (exceptions, interrupts, core exits) into guest state or exit records.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "bt.h"
#include "bt_callout.h"
#include "bt_mmio.h"
#include "bt_rsp.h"
#include "engine.h"
#include "hostcaps.h"
#include "log.h"
#include "monitor.h"

#define EFL_TF 0x100u
#define EFL_IF 0x200u

#include <stddef.h>
_Static_assert(offsetof(struct bt_cpu, eip) == CPU_EIP, "bt_asm.h: CPU_EIP");
_Static_assert(offsetof(struct bt_cpu, hflags) == CPU_HFLAGS, "bt_asm.h: CPU_HFLAGS");
_Static_assert(offsetof(struct bt_cpu, host_rsp) == CPU_HOST_RSP, "bt_asm.h: CPU_HOST_RSP");
_Static_assert(offsetof(struct bt_cpu, exit_request) == CPU_EXIT_REQ, "bt_asm.h: CPU_EXIT_REQ");
_Static_assert(offsetof(struct bt_cpu, jc) == CPU_JC, "bt_asm.h: CPU_JC");
_Static_assert(offsetof(struct bt_cpu, exit_tb) == CPU_EXIT_TB, "bt_asm.h: CPU_EXIT_TB");
_Static_assert(offsetof(struct bt_cpu, c_callout) == CPU_C_CALLOUT, "bt_asm.h: CPU_C_CALLOUT");
_Static_assert(offsetof(struct bt_cpu, co_site) == CPU_CO_SITE, "bt_asm.h: CPU_CO_SITE");
_Static_assert(offsetof(struct bt_cpu, exit_reason) == CPU_EXIT_REASON,
               "bt_asm.h: CPU_EXIT_REASON");
_Static_assert(offsetof(struct bt_cpu, df_step) == CPU_DFSTEP, "bt_asm.h: CPU_DFSTEP");
_Static_assert(offsetof(struct bt_cpu, arg) == CPU_ARG, "bt_asm.h: CPU_ARG");
_Static_assert(offsetof(struct bt_cpu, jump) == CPU_JUMP, "bt_asm.h: CPU_JUMP");
_Static_assert(offsetof(struct bt_cpu, ic) == CPU_IC, "bt_asm.h: CPU_IC");
_Static_assert(offsetof(struct bt_cpu, vbase) == CPU_VBASE, "bt_asm.h: CPU_VBASE");
_Static_assert(offsetof(struct bt_cpu, jc_key) == CPU_JC_KEY, "bt_asm.h: CPU_JC_KEY");
_Static_assert(offsetof(struct bt_cpu, gjc) == CPU_GJC, "bt_asm.h: CPU_GJC");
_Static_assert(offsetof(struct bt_cpu, gjc_key) == CPU_GJC_KEY, "bt_asm.h: CPU_GJC_KEY");

static const char *const callout_names[BT_CO_NR] = {
#define X(n, h, f) #n,
    BT_CALLOUTS(X)
#undef X
};

/* VIEW_NR views, each 4 GiB with its guards (bt.h): about 42 GiB of address space each. */
#define BT_RESERVE (VIEW_NR * ((4ULL << 30) + BT_GUARD_BELOW + BT_GUARD_ABOVE + (16u << 10)))

static int bt_probe(char *why, size_t len)
{
	void *p =
	    mmap(NULL, BT_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		snprintf(why, len,
		         "bt: cannot reserve %llu GiB of address space for the guest views",
		         (unsigned long long)(BT_RESERVE >> 30));
		return -ENOTSUP;
	}
	munmap(p, BT_RESERVE);
	return 0;
}

static void bt_info(FILE *f)
{
	fprintf(f, "bt.memory           view base in r8: [r8 + reg64*scale + disp32] in guarded "
	           "4 GiB views; no GS, no system call on a ring change\n");
	fprintf(f, "bt.bcd              %s\n", bt_compat_method());
}

static void bt_destroy(void *state)
{
	struct bt *bt = state;

	if (!bt)
		return;
	/*
	 * The host-side proof that the guest stayed in its views: the canaries around
	 * them and the stubs at the head of the cache are as they were. Broken
	 * confinement must never pass for a clean run.
	 */
	if (bt->cache.tc &&
	    (mmu_canary_check(bt) ||
	     memcmp(bt->cache.tc, bt_stubs_start, (size_t)(bt_stubs_end - bt_stubs_start)))) {
		log_err("bt: host memory outside guest RAM changed: aborting");
		abort();
	}
	bt_signals_remove(bt);
	tc_destroy(bt);
	mmu_destroy(bt);
	bt_decoders_destroy(bt);
	if (bt->adaptive.mmio_scratch && bt->adaptive.mmio_scratch != MAP_FAILED)
		munmap(bt->adaptive.mmio_scratch, 4096);
	munmap(bt, sizeof(*bt));
}

static int bt_create(struct monitor *mon, void **state)
{
	struct bt *bt;
	int ret;

	bt = mmap(NULL, sizeof(*bt), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bt == MAP_FAILED)
		return -ENOMEM;
	bt->mon = mon;
	bt->mmu.openbus_fd = -1; /* none yet: bt_destroy after an early failure must not close 0 */
	bt->trace = ((mon->opts.trace & TRACE_TC) ? BT_TRACE_TC : 0) |
	            ((mon->opts.trace & TRACE_ADAPT) ? BT_TRACE_ADAPT : 0);
	bt->adaptive.on = !mon->opts.no_adaptive;
	bt->rsp_ok = -1;
	{
		const char *rsp = getenv("TANDEM_BT_RSP");

		bt->rsp_off = rsp && !strcmp(rsp, "0");
	}
	bt->cpu.exc.vector = -1;
	bt->cpu.c_callout = (uint64_t)(uintptr_t)bt_callout;
	bt->cpu.apic_base = 0xfee00900u;
	bt->cpu.dr[6] = 0xffff0ff0u;
	bt->cpu.dr[7] = 0x400u;
	bt->adaptive.mmio_scratch =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ret = -ENOMEM;
	if (bt->adaptive.mmio_scratch == MAP_FAILED)
		goto fail;
	bt->cpu.df_step = 1; /* LOAD_GUEST sets it from the flags at every entry */
	if ((ret = mmu_init(bt)) || (ret = tc_init(bt)))
		goto fail;
	ret = -EINVAL;
	if (bt_decoders_init(bt) || bt_signals_install(bt))
		goto fail;
	tc_caches_use(bt, false);
	bt_fpu_reset(bt);
	*state = bt;
	return 0;
fail:
	log_err("bt: cannot create the translator: %s", strerror(-ret));
	bt_destroy(bt);
	return ret;
}

static void seg_from(struct bt_seg *s, const struct vcpu_seg *v)
{
	if (!v->present && !(v->sel & ~3u)) /* a null selector: unusable */
		*s = (struct bt_seg){.sel = v->sel, .limit = 0, .type = BT_SEG_NULL};
	else
		*s = (struct bt_seg){v->sel, v->base, v->limit, v->dpl, v->type};
}

static int bt_set_regs(void *state, const struct vcpu_regs *r)
{
	struct bt *bt = state;
	struct bt_cpu *c = &bt->cpu;

	memcpy(c->gpr, &r->eax, sizeof(c->gpr));
	c->eip = r->eip;
	bt_set_eflags(c, r->eflags);
	c->cr0 = r->cr0;
	c->cr2 = r->cr2;
	c->cr3 = r->cr3;
	c->cr4 = r->cr4;
	seg_from(&c->seg[SEG_ES], &r->es);
	seg_from(&c->seg[SEG_CS], &r->cs);
	seg_from(&c->seg[SEG_SS], &r->ss);
	seg_from(&c->seg[SEG_DS], &r->ds);
	seg_from(&c->seg[SEG_FS], &r->fs);
	seg_from(&c->seg[SEG_GS], &r->gs);
	c->gdt_base = r->gdt_base;
	c->gdt_limit = r->gdt_limit;
	c->idt_base = r->idt_base;
	c->idt_limit = r->idt_limit;
	c->tr_sel = r->tr.sel;
	c->tr_base = r->tr.base;
	c->tr_limit = r->tr.limit;
	mmu_flush(bt);
	tc_flush(bt);
	bt->stats.shadow_flushes = bt->stats.tc_flushes = 0;
	bt_set_cpl(bt, r->cs.sel & 3);
	return 0;
}

static void seg_to(struct vcpu_seg *v, const struct bt_seg *s)
{
	*v = (struct vcpu_seg){.base = s->base,
	                       .limit = s->limit,
	                       .sel = s->sel,
	                       .dpl = s->dpl,
	                       .type = s->type,
	                       .present = 1,
	                       .s = 1,
	                       .db = 1,
	                       .g = 1};
	if (s->type & BT_SEG_NULL) /* KVM's "unusable" segment */
		*v = (struct vcpu_seg){.sel = s->sel};
}

static int bt_get_regs(void *state, struct vcpu_regs *r)
{
	struct bt *bt = state;
	const struct bt_cpu *c = &bt->cpu;

	memset(r, 0, sizeof(*r));
	memcpy(&r->eax, c->gpr, sizeof(c->gpr));
	r->eip = c->eip;
	r->eflags = bt_eflags(c);
	r->cr0 = c->cr0;
	r->cr2 = c->cr2;
	r->cr3 = c->cr3;
	r->cr4 = c->cr4;
	seg_to(&r->es, &c->seg[SEG_ES]);
	seg_to(&r->cs, &c->seg[SEG_CS]);
	seg_to(&r->ss, &c->seg[SEG_SS]);
	seg_to(&r->ds, &c->seg[SEG_DS]);
	seg_to(&r->fs, &c->seg[SEG_FS]);
	seg_to(&r->gs, &c->seg[SEG_GS]);
	r->gdt_base = c->gdt_base;
	r->gdt_limit = c->gdt_limit;
	r->idt_base = c->idt_base;
	r->idt_limit = c->idt_limit;
	return 0;
}

/* Async-signal-safe. In the cache: unlink so the running block leaves at its end. */
static void bt_kick(void *state, void *uctx)
{
	struct bt *bt = state;
	ucontext_t *uc = uctx;

	bt->cpu.exit_request = 1;
	if (uc && tc_contains(bt, (uintptr_t)uc->uc_mcontext.gregs[REG_RIP]))
		tc_kick_async(bt, (uintptr_t)uc->uc_mcontext.gregs[REG_RIP],
		              (uint64_t)uc->uc_mcontext.gregs[REG_R9],
		              (uint64_t)uc->uc_mcontext.gregs[REG_R11],
		              (uint64_t)uc->uc_mcontext.gregs[REG_R13]);
}

static int stop_with(struct bt *bt, struct exit_record *ex, enum exit_reason why)
{
	if (bt->core_exit.reason == EXIT_UNSUPPORTED && bt->core_exit.what[0]) {
		*ex = bt->core_exit;
		return 0;
	}
	exit_make(ex, why, bt->cpu.eip, bt->cpu.vflags & EFL_IF);
	return 0;
}

/* The next block to run at cpu->eip; NULL when that took an exception or a stop. */
static struct tb *next_block(struct bt *bt, int *err)
{
	uint8_t cpl = (uint8_t)(bt->cpu.cpl | (bt->stepping ? TB_STEP : 0));
	struct tb *tb =
	    bt->stepping ? tc_lookup(bt, bt->cpu.eip, cpl) : tc_lookup_fast(bt, bt->cpu.eip, cpl);

	bt->stats.lookups++;
	if (tb) {
		bt->stats.lookup_hits++;
		return tb;
	}
	bt->stats.lookup_misses++;
	*err = bt_translate(bt, bt->cpu.eip, &tb);
	return *err ? NULL : tb;
}

/*
 * After a single-stepped block (guest TF set when its one instruction began): the
 * #DB trap, DR6.BS, EIP at the next instruction, unless the instruction did not
 * complete (a fault, or a kick before it ran), delivered an exception or software
 * interrupt itself (int n, into: not traced), or was a mov ss / pop ss.
 */
static void step_done(struct bt *bt, int reason, uint32_t eip0, uint64_t exceptions0)
{
	struct bt_cpu *c = &bt->cpu;

	bt->stepping = false;
	if (!c->exit_request) {
		tc_caches_use(bt, false);
	}
	if (reason == BT_EXIT_EXCEPTION || c->exc.vector >= 0 ||
	    bt->stats.exceptions != exceptions0)
		return;
	if (reason == BT_EXIT_KICK && c->eip == eip0)
		return;
	if (reason == BT_EXIT_CORE && bt->core_exit.reason != EXIT_HLT &&
	    bt->core_exit.reason != EXIT_STOP && bt->core_exit.reason != EXIT_KICK)
		return;
	if (c->shadow == SHADOW_SS && c->shadow_eip == c->eip)
		return;
	c->dr[6] |= DR6_BS;
	bt_raise(bt, EXC_DB, false, 0);
}

static int run_loop(struct bt *bt, struct exit_record *ex)
{
	struct bt_cpu *c = &bt->cpu;
	int (*enter)(struct bt_cpu *, void *) =
	    (int (*)(struct bt_cpu *, void *))bt->cache.stub_enter;
	struct tb *prev = NULL, *tb;
	int prev_slot = 0, reason, err;
	uint8_t shadow;
	uint32_t eip0;
	uint64_t flushes;

	memset(&bt->core_exit, 0, sizeof(bt->core_exit));
	for (;;) {
		if (c->exit_request) {
			c->exit_request = 0;
			tc_relink(bt);
			tc_caches_use(bt, false);
			/* A device access stepped in the cache ended the run (bt_mmio_step_end). */
			exit_make(ex, bt->mmu.stop_request ? EXIT_STOP : EXIT_KICK, c->eip,
			          c->vflags & EFL_IF);
			bt->mmu.stop_request = false;
			return 0;
		}
		if (bt->adaptive.adapt_full) {
			/* No room to note an access that wrapped: start both afresh. */
			bt->adaptive.adapt_full = false;
			tc_flush(bt);
			bt_adapt_reset(bt);
			prev = NULL;
		}
		if (bt->adaptive.nadapt_pending) {
			bt_adapt_apply(bt);
			prev = NULL;
		}
		if (c->exc.vector >= 0) {
			bt->stats.exceptions++;
			c->shadow = 0;
			if (bt_deliver(bt))
				return stop_with(bt, ex, EXIT_SHUTDOWN);
			prev = NULL;
		}
		if (bt->ferr) { /* FERR# (CR0.NE=0) is wired to IRQ13 on a PC */
			bt->ferr = false;
			pic_pulse_irq(&bt->mon->pic, 13);
		}
		/* sti, mov ss: the instruction after them runs before any interrupt. */
		shadow = c->shadow_eip == c->eip ? c->shadow : 0;
		c->shadow = 0;
		/* An NMI (a local APIC NMI IPI) ignores IF; none again until the next iret. */
		if (!shadow && !bt->nmi_blocked && monitor_nmi_pending(bt->mon)) {
			monitor_nmi_ack(bt->mon);
			bt->nmi_blocked = true;
			if (bt_deliver_irq(bt, EXC_NMI))
				return stop_with(bt, ex, EXIT_SHUTDOWN);
			prev = NULL;
		}
		if (!shadow && (c->vflags & EFL_IF) && monitor_irq_pending(bt->mon)) {
			if (bt_deliver_irq(bt, monitor_irq_ack(bt->mon)))
				return stop_with(bt, ex, EXIT_SHUTDOWN);
			prev = NULL;
		}
		err = 0;
		bt->stepping = c->vflags & EFL_TF;
		flushes = bt->stats.tc_flushes;
		tb = next_block(bt, &err);
		if (bt->stats.tc_flushes != flushes)
			prev = NULL; /* translating flushed a full cache: prev's slot is gone */
		if (!tb) {
			bt->stepping = false;
			if (err == -1)
				continue; /* a fetch fault: delivered at the top */
			return stop_with(bt, ex, EXIT_INTERNAL);
		}
		bt->stats.enters++;
		eip0 = c->eip;
		if (bt->stepping) {
			/* No chains, no jump or return caches: every instruction comes back here.
			 */
			uint64_t exceptions0 = bt->stats.exceptions;

			tc_caches_use(bt, true);
			reason = enter(c, tb->code);
			step_done(bt, reason, eip0, exceptions0);
		} else {
			if (prev && prev->valid)
				tc_chain(bt, prev, prev_slot, tb);
			tc_jc_enter(bt, tb);
			reason = enter(c, tb->code);
		}
		prev = NULL;
		/*
		 * Whatever way the cache was left (a kick, a fault, a stop), a page-table
		 * or MMIO redirect never outlives its callout pair: the view comes back.
		 */
		if (bt->adaptive.redirect.kind != ADAPT_NONE) {
			bt->adaptive.redirect.kind = ADAPT_NONE;
			mmu_set_view(bt);
		}
		if (reason == BT_EXIT_KICK && c->eip == eip0 && shadow && !c->shadow) {
			c->shadow = shadow; /* kicked before the shadowed instruction ran */
			c->shadow_eip = eip0;
		}
		switch (reason) {
		case BT_EXIT_CHAIN:
			if (tb->cpl & TB_STEP)
				break;
			prev = (struct tb *)(uintptr_t)(c->exit_tb & ~(uint64_t)7);
			prev_slot = (int)(c->exit_tb & 7);
			break;
		case BT_EXIT_MISS:
		case BT_EXIT_KICK:
		case BT_EXIT_RESUME:
		case BT_EXIT_EXCEPTION:
			break;
		case BT_EXIT_CORE:
			*ex = bt->core_exit;
			ex->if_flag = c->vflags & EFL_IF;
			return 0;
		default:
			log_err("bt: unexpected exit reason %d at eip=0x%x", reason, c->eip);
			return -EIO;
		}
	}
}

/* The guest's x87 state is in the host FPU exactly while the loop runs. */
static int bt_run(void *state, struct exit_record *ex)
{
	struct bt *bt = state;
	int r;

	if (bt->rsp_ok < 0) {
		/*
		 * Once: the scan of every signal's handler is 64 system calls. Handlers are
		 * installed before the first run (all with SA_ONSTACK), and the engine runs
		 * on one thread, the one the kick timer signals (mtimer_init).
		 */
		bt_rsp_altstack(); /* failing, bt_rsp_available says no */
		bt->rsp_ok = bt_rsp_available(bt);
	}
	bt_fpu_enter(bt);
	r = run_loop(bt, ex);
	bt_fpu_leave(bt);
	return r;
}

static void bt_print_stats(void *state, FILE *f)
{
	struct bt *bt = state;
	int i;

	fprintf(f, "== bt ==\n");
#define X(fld, d) fprintf(f, "  %-25s %12" PRIu64 "   %s\n", #fld, bt->stats.fld, d);
	BT_STATS(X)
#undef X
	for (i = 0; i < BT_CO_NR; i++)
		if (bt->stats.co_count[i])
			fprintf(f, "  callout.%-17s %12" PRIu64 "\n", callout_names[i],
			        bt->stats.co_count[i]);
}

const struct engine_ops bt_engine_ops = {
    .name = "bt",
    .desc = "binary translation into a translation cache",
    .probe = bt_probe,
    .info = bt_info,
    .create = bt_create,
    .destroy = bt_destroy,
    .set_regs = bt_set_regs,
    .get_regs = bt_get_regs,
    .run = bt_run,
    .kick = bt_kick,
    .print_stats = bt_print_stats,
    .options = bt_engine_options,
};
