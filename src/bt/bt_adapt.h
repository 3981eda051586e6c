/*
 * bt_adapt.h: adaptive translation (bt_adapt.c, bt_adapt_apply.c): which guest instructions fault
 * often enough to be retranslated into a form that does the work without the host fault.
 */
#ifndef TANDEM_BT_ADAPT_H
#define TANDEM_BT_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

struct bt;

/*
 * Adaptive translation: a guest instruction that faults in translated code
 * BT_ADAPT_THRESHOLD times for the same reason (a store to a traced page table,
 * an access to MMIO, a divide by zero) is retranslated into a form that does the
 * work without the host fault, and its old translation is patched to jump there.
 */
#define BT_ADAPT_THRESHOLD 8
enum { ADAPT_NONE, ADAPT_PT, ADAPT_MMIO, ADAPT_DIV, ADAPT_PF };

struct bt_adapt {
	uint32_t eip;
	uint8_t cpl;
	bool used;
	uint8_t reason;   /* ADAPT_* once retranslated; 0 while counting */
	uint8_t counting; /* the reason being counted */
	bool wrap;        /* its accesses wrap at 4 GiB: exact (lea) forms */
	uint16_t faults;
};
#define BT_ADAPT_SLOTS 4096

/* Adaptive translation's state (struct bt's adaptive member). */
struct bt_adaptive {
	bool on; /* --no-adaptive clears it */
	struct bt_adapt adapt[BT_ADAPT_SLOTS];
#define BT_ADAPT_PENDING 64
	struct bt_adapt *adapt_pending[BT_ADAPT_PENDING]; /* noted in signal handlers, acted on by
	                                                     the dispatcher */
	int nadapt_pending;
	bool adapt_full;  /* bt_adapt_wrap found no room: flush and reset */
	struct {          /* between an adaptive access's pre and post callouts */
		int kind; /* 0 none (the access goes through the view), ADAPT_PT, ADAPT_MMIO */
		uint32_t pa;
		uint32_t old[2];
		bool smc; /* ADAPT_PT on a page with code: its blocks (this one too) are gone */
	} redirect;
	uint8_t *mmio_scratch; /* a page adaptive MMIO accesses run against */
};

/* Count a fault of instruction eip for reason; async-signal-safe (only notes it). */
void bt_adapt_fault(struct bt *bt, uint32_t eip, int reason);
/* From the dispatcher: retranslate what crossed the threshold, patch the old blocks. */
void bt_adapt_apply(struct bt *bt);
/* The translator asks: has this instruction been adapted, and why? */
int bt_adapt_reason(struct bt *bt, uint32_t eip, uint8_t cpl);
/*
 * A guest access of instruction eip faulted in a view's guard: it wrapped at 4 GiB.
 * Marks it for the exact (lea) form and queues its retranslation (done even with
 * --no-adaptive: this is correctness). Returns 1; 0 when it already had the exact
 * form (a translator bug: the caller stops the guest); -1 when the table has no
 * room (bt->adaptive.adapt_full is set: the dispatcher starts the cache and the table
 * afresh, and the access faults again). Async-signal-safe.
 */
int bt_adapt_wrap(struct bt *bt, uint32_t eip);
/* Does instruction eip need the exact (lea) form of its guest accesses? */
bool bt_adapt_is_wrap(struct bt *bt, uint32_t eip, uint8_t cpl);
/* Forget every instruction's adaptation state (with the cache flushed, as no block may keep one).
 */
void bt_adapt_reset(struct bt *bt);

#endif
