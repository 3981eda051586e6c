/*
 * gen.c: the difftest case generator. Emits random sequences of non-privileged
 * i386 instructions as raw machine code (hand-encoded: see the op table near the
 * end), each case with random initial registers and flags, into a blob that the
 * native runner (native.c, a -m32 host process) and the guest runner (guest.c, a
 * Multiboot kernel on any engine) both execute. Deterministic: case K depends
 * only on (seed, K).
 *
 * usage: gen [--seed S] [--cases N] -o FILE        write a blob of cases 0..N-1
 *        gen [--seed S] --case K -o FILE           a blob holding only case K
 *        gen [--seed S] --first K --cases N -o FILE   cases K..K+N-1
 *        gen [--seed S] --case K --list            Capstone listing of case K
 *        gen [--seed S] [--cases N] --defmasks     per case "K MASK": the flags defined at the end
 *        gen [--seed S] [--cases N] --masks        per case "K MASK": the flags to compare
 *                                                 under QEMU, or "K skip" (see qbad)
 *        --skip OP,...: never generate those ops (names: the op table; gen --skip x
 *        lists them), e.g. what an engine does not support yet
 *        --units U: only the first U top-level units of each case (run.sh bisects
 *        a failing case with it to the shortest failing prefix)
 *
 * Invariants every case keeps (so it runs identically everywhere):
 *  - memory operands land in scratch [DT_SCRATCH, +DT_DATA_END): their base and
 *    index registers are loaded with `mov reg, imm32` just before the
 *    instruction (any register, any ModRM/SIB form; ESP as a base with its
 *    tracked value); displacements and indexes are random, so effective
 *    addresses often wrap around 2^32;
 *  - ESP is written only by stack instructions, tracked exactly, and stays
 *    inside the scratch stack area; return addresses (code addresses differ
 *    between runners) are overwritten once popped and never reach a register;
 *  - no faults: divisors and dividends are set up so the quotient fits, bsf/bsr
 *    sources are non-zero, aam's immediate is non-zero, bound's bounds hold;
 *  - DF is 0 at the end; no segment-register values (they differ by ring);
 *  - flags: the generator tracks which arithmetic flags are architecturally
 *    undefined; an instruction that reads a flag that may be undefined (jcc,
 *    setcc, cmovcc, adc, rcl, lahf, pushf, daa, ...) is preceded by a `cmp`, so
 *    undefined values never leak into registers or memory. What remains
 *    undefined at the end is the case's defmask (used only against QEMU).
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "difftest.h"

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, NOREG = -1 };
#define R(r) (1u << (r))

#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u
#define ALL6 (CF | PF | AF | ZF | SF | OF)
#define LOGIC_DEF (CF | PF | ZF | SF | OF)

#define MAXCODE 8192
#define CODE_BUDGET 1200   /* stop adding units past this many bytes */
#define STACK_MAX 0xC00    /* pushed bytes below DT_STACK_TOP */
#define STACK_MIN (-0x600) /* popped bytes above it */
#define MAX_NEST 2

struct gen {
	uint64_t rng;
	uint8_t code[MAXCODE];
	int len;
	int depth;        /* bytes pushed: ESP = DT_STACK_TOP - depth */
	int df;           /* DF now */
	uint32_t undef;   /* arithmetic flags whose value is architecturally undefined now */
	uint32_t touched; /* flags written since the last reset (for loop bodies) */
	uint32_t qbad;    /* defined flags QEMU's TCG is known to get wrong (cmpxchg8b) */
	int qskip;        /* a qbad flag was read: the case is not comparable under QEMU */
	uint32_t avoid;   /* registers that must not be written (ESP always) */
	int no_stack;     /* no ESP changes (inside conditional or repeated blocks) */
	int no_df;        /* no DF changes */
	int no_esp_mem;   /* no ESP-based memory operands (inside call bodies) */
	int nest;
	uint32_t hot; /* a hot scratch offset: half the accesses go near it */
};
static struct gen g;

/* ---------------------------------------------------------------- random */
static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}
static uint32_t rnd32(void)
{
	return (uint32_t)(splitmix(&g.rng) >> 16);
}
static uint32_t rndn(uint32_t n) /* [0, n) */
{
	return n ? (uint32_t)(((uint64_t)(splitmix(&g.rng) >> 32) * n) >> 32) : 0;
}
static int chance(int pct)
{
	return (int)rndn(100) < pct;
}
static int32_t rnd_range(int32_t lo, int32_t hi) /* [lo, hi] */
{
	return lo + (int32_t)rndn((uint32_t)(hi - lo + 1));
}
/* An interesting value: edge cases half the time. */
static uint32_t rnd_val(int size)
{
	/* clang-format off */
	static const uint32_t edge[] = {0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF,
	                                0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, 0x10,
	                                0x0F, 0x09, 0x99, 0x1F, 0x20, 0x21};
	/* clang-format on */
	uint32_t v;
	switch (rndn(6)) {
	case 0:
		v = edge[rndn(sizeof(edge) / sizeof(edge[0]))];
		break;
	case 1:
		v = (uint32_t)rnd_range(-40, 40);
		break;
	case 2:
		v = rnd32() & (rndn(2) ? 0xFF : 0xFFFF);
		break;
	default:
		v = rnd32();
	}
	if (size == 1)
		return v & 0xFF;
	if (size == 2)
		return v & 0xFFFF;
	return v;
}

/* ---------------------------------------------------------------- emission */
static void b(uint32_t x)
{
	if (g.len < MAXCODE)
		g.code[g.len++] = (uint8_t)x;
}
static void b16(uint32_t x)
{
	b(x);
	b(x >> 8);
}
static void b32(uint32_t x)
{
	b16(x);
	b16(x >> 16);
}
static void imm(int size, uint32_t v)
{
	if (size == 1)
		b(v);
	else if (size == 2)
		b16(v);
	else
		b32(v);
}

static void flags(uint32_t def, uint32_t undef)
{
	g.undef = (g.undef & ~def) | undef;
	g.qbad &= ~(def | undef);
	if ((def & ALL6) == ALL6)
		g.qbad &= ~DT_FLAG_DF;
	g.touched |= def | undef;
}

static int writable(int r)
{
	return r >= 0 && r != ESP && !(g.avoid & R(r));
}
/* Register number for an operand of size 1/2/4; 8-bit numbers 4-7 are AH..BH. */
static int reg_writable(int size, int r)
{
	return size == 1 ? writable(r & 3) : writable(r);
}
static int pick_dst(int size)
{
	int cand[8], n = 0;
	for (int r = 0; r < 8; r++)
		if (reg_writable(size, r))
			cand[n++] = r;
	return n ? cand[rndn((uint32_t)n)] : NOREG;
}
static int pick_src(void)
{
	return (int)rndn(8);
}
static int pick_size(void)
{
	int x = (int)rndn(20);
	return x < 11 ? 4 : x < 16 ? 1 : 2;
}

/* mov r32, imm32 (B8+r), the setup instruction; also 8-bit and 16-bit forms. */
static void emit_mov_ri(int size, int r, uint32_t v)
{
	if (size == 2)
		b(0x66);
	b((size == 1 ? 0xB0 : 0xB8) + r);
	imm(size, v);
}

/* Emit `cmp` so that every arithmetic flag is defined again. */
static void sanitize(void)
{
	switch (rndn(3)) {
	case 0:
		b(0x39);
		b(0xC0 | pick_src() << 3 | pick_src()); /* cmp r32, r32 */
		break;
	case 1:
		b(0x3D);
		b32(rnd_val(4)); /* cmp eax, imm32 */
		break;
	default:
		b(0x83);
		b(0xF8 | pick_src());
		b(rnd_val(1)); /* cmp r32, imm8 */
	}
	flags(ALL6, 0);
}
static void need(uint32_t f)
{
	if (g.undef & f)
		sanitize();
	if (g.qbad & f)
		g.qskip = 1;
}
/* clang-format off */
static const uint32_t cond_flags[16] = {OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF,
                                        SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF,
                                        ZF | SF | OF};
/* clang-format on */

/* ---------------------------------------------------------------- memory operands */
struct mem {
	uint8_t modrm; /* mod and rm; the reg field is or-ed in by put_mem */
	int has_sib;
	uint8_t sib;
	int dsize;
	uint32_t disp;
	uint32_t target; /* the linear address it hits */
	uint32_t regs;   /* registers the address uses */
};

#define M_NO_ESP 1 /* ESP may not be the base (pop m: ESP changes before the write) */
#define M_EXACT 2  /* the operand must hit T exactly (some forms round it otherwise) */

static uint32_t esp_now(void)
{
	return DT_STACK_TOP - (uint32_t)g.depth;
}

/* A scratch offset for an access of size bytes, with margin bytes of slack on
 * both sides (string ops, bit offsets, address rounding). */
static uint32_t pick_target(uint32_t size, uint32_t margin)
{
	uint32_t lo = 16 + margin, hi = DT_DATA_END - 16 - margin - size, off;
	switch (rndn(8)) {
	case 0: /* straddle or touch a page boundary */
		off = (rndn(DT_DATA_END / 0x1000 - 1) + 1) * 0x1000 - rndn(size + 2);
		break;
	case 1:
	case 2:
	case 3:
	case 4: /* near this case's hot spot: loads see earlier stores */
		off = g.hot + rndn(64);
		break;
	default:
		off = lo + rndn(hi - lo);
	}
	if (chance(40))
		off &= ~(size - 1);
	if (off < lo)
		off = lo;
	if (off > hi)
		off = hi;
	return DT_SCRATCH + off;
}

static int pick_addr_reg(void)
{
	int cand[8], n = 0;
	for (int r = 0; r < 8; r++)
		if (writable(r))
			cand[n++] = r;
	return n ? cand[rndn((uint32_t)n)] : NOREG;
}

/* Build a memory operand that addresses target T (0: pick one for size bytes),
 * emitting the `mov reg, imm32` set-ups for its base and index registers. */
static void gen_mem(struct mem *m, int size, int mflags, uint32_t T)
{
	int base, index = NOREG, scale = 0, sib, dsize;
	int32_t d = 0;
	uint32_t bv = 0, iv = 0;

	if (!T)
		T = pick_target((uint32_t)size, 0);
	memset(m, 0, sizeof(*m));
	sib = chance(50);
	int esp_ok = !g.no_esp_mem && !(mflags & (M_NO_ESP | M_EXACT));
	int x = (int)rndn(10);
	if (x == 0)
		base = NOREG;
	else if (x == 1 && esp_ok)
		base = ESP;
	else
		base = pick_addr_reg();
	if (base == ESP)
		sib = 1;
	if (sib && chance(80)) {
		index = chance(15) && base != ESP && base != NOREG ? base : pick_addr_reg();
		scale = (int)rndn(4);
	}
	if (base == NOREG && index == NOREG)
		sib = chance(20); /* [disp32] via SIB (index none, base none) */
	/* displacement size */
	if (base == NOREG)
		dsize = 4;
	else {
		int y = (int)rndn(3);
		dsize = y == 0 ? 0 : y == 1 ? 1 : 4;
		if (dsize == 0 && base == EBP)
			dsize = 1;
		if (base == index && (mflags & M_EXACT))
			dsize = 4;
	}
	if (dsize == 1)
		d = (int8_t)rnd32();
	else if (dsize == 4)
		d = chance(50) ? rnd_range(-4096, 4096) : (int32_t)rnd32();
	uint32_t s = 1u << scale;

	/* Solve base + index * s + disp = T for the free variable. */
	if (base == ESP) {
		bv = esp_now();
		if (index != NOREG) {
			int32_t rem = (int32_t)(T - bv - (uint32_t)d);
			int32_t k =
			    rem >= 0 ? rem / (int32_t)s : -((-rem + (int32_t)s - 1) / (int32_t)s);
			iv = (uint32_t)k;
			if (dsize == 0)
				dsize = 1, d = 0;
		} else if (dsize == 4) {
			d = (int32_t)(T - bv);
		} else {
			if (dsize == 0 && chance(50))
				dsize = 1;
			d = dsize ? (int32_t)rnd_range(-64, 64) : 0;
		}
		T = bv + iv * s + (uint32_t)d;
	} else if (base != NOREG && base == index) {
		if (dsize == 4) {
			bv = chance(50) ? rnd32() : (uint32_t)rnd_range(-1000, 1000);
			d = (int32_t)(T - bv * (s + 1));
		} else {
			bv = (T - (uint32_t)d) / (s + 1);
		}
		iv = bv;
		T = bv * (s + 1) + (uint32_t)d;
	} else if (base != NOREG) {
		if (index != NOREG)
			iv = chance(50) ? (uint32_t)rnd_range(-64, 64) : rnd32();
		bv = T - iv * s - (uint32_t)d;
	} else if (index != NOREG) {
		iv = chance(50) ? (uint32_t)rnd_range(-64, 64) : rnd32();
		d = (int32_t)(T - iv * s);
	} else {
		d = (int32_t)T;
	}

	/* set-ups */
	if (base != NOREG && base != ESP) {
		emit_mov_ri(4, base, bv);
		m->regs |= R(base);
	}
	if (index != NOREG && index != base) {
		emit_mov_ri(4, index, iv);
		m->regs |= R(index);
	}

	int mod = dsize == 0 ? 0 : dsize == 1 ? 1 : 2;
	if (base == NOREG)
		mod = 0;
	if (sib) {
		int sb = base == NOREG ? 5 : base;
		int si = index == NOREG ? 4 : index;
		int ss = index == NOREG ? (chance(10) ? (int)rndn(4) : 0) : scale;
		m->modrm = (uint8_t)(mod << 6 | 4);
		m->has_sib = 1;
		m->sib = (uint8_t)(ss << 6 | si << 3 | sb);
	} else {
		m->modrm = (uint8_t)(base == NOREG ? 5 : mod << 6 | base);
	}
	m->dsize = base == NOREG ? 4 : dsize;
	m->disp = (uint32_t)d;
	m->target = T;
}

static void put_mem(const struct mem *m, int regfield)
{
	b(m->modrm | (regfield & 7) << 3);
	if (m->has_sib)
		b(m->sib);
	if (m->dsize == 1)
		b(m->disp);
	else if (m->dsize == 4)
		b32(m->disp);
}

/* An r/m operand: a register or a memory operand (set-ups already emitted). */
struct rm {
	int is_mem;
	int reg;
	struct mem m;
};

/* dst: the operand is written. mem_pct: chance of a memory operand. */
static int gen_rm(struct rm *o, int size, int dst, int mem_pct, int mflags)
{
	memset(o, 0, sizeof(*o));
	if (chance(mem_pct)) {
		o->is_mem = 1;
		gen_mem(&o->m, size, mflags, 0);
		return 1;
	}
	o->reg = dst ? pick_dst(size) : pick_src();
	if (o->reg == NOREG) {
		o->is_mem = 1;
		gen_mem(&o->m, size, mflags, 0);
	}
	return 1;
}
static void put_rm(const struct rm *o, int regfield)
{
	if (o->is_mem)
		put_mem(&o->m, regfield);
	else
		b(0xC0 | (regfield & 7) << 3 | o->reg);
}

/* Prefixes in random order: operand size, segment override (memory operands
 * only; never FS/GS, whose bases differ between runners; CS only for reads),
 * lock. */
static void prefixes(int size, const struct rm *o, int is_write, int lock)
{
	uint8_t p[4];
	int n = 0;
	if (size == 2)
		p[n++] = 0x66;
	if (o && o->is_mem && chance(15)) {
		static const uint8_t segs[] = {0x26, 0x36, 0x3E, 0x2E};
		p[n++] = segs[rndn(is_write ? 3 : 4)];
	}
	if (lock && o && o->is_mem)
		p[n++] = 0xF0;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)rndn((uint32_t)i + 1);
		uint8_t t = p[i];
		p[i] = p[j];
		p[j] = t;
	}
	for (int i = 0; i < n; i++)
		b(p[i]);
}
/* Opcode byte with the w bit: 8-bit form op, wider op+1. */
static uint8_t opw(int size, uint8_t op)
{
	return (uint8_t)(size == 1 ? op : op + 1);
}

/* Store v to [T] with an absolute-address mov (a set-up, e.g. a divisor). */
static void emit_store_abs(int size, uint32_t T, uint32_t v)
{
	if (size == 2)
		b(0x66);
	b(size == 1 ? 0xC6 : 0xC7);
	b(0x05);
	b32(T);
	imm(size, v);
}

/* ---------------------------------------------------------------- instructions */

/* add or adc sbb and sub xor cmp, every form. */
static int op_alu(void)
{
	int op = (int)rndn(8), size = pick_size(), lock = 0;
	struct rm o;
	int wr = op != 7;

	if (op == 2 || op == 3)
		need(CF);
	switch (rndn(5)) {
	case 0: /* op r/m, reg */
		gen_rm(&o, size, wr, 50, 0);
		lock = wr && o.is_mem && chance(25);
		prefixes(size, &o, wr, lock);
		b(opw(size, (uint8_t)(op << 3)));
		put_rm(&o, pick_src());
		break;
	case 1: { /* op reg, r/m */
		int r = wr ? pick_dst(size) : pick_src();
		if (r == NOREG)
			return 0;
		gen_rm(&o, size, 0, 60, 0);
		prefixes(size, &o, 0, 0);
		b(opw(size, (uint8_t)(op << 3 | 2)));
		put_rm(&o, r);
		break;
	}
	case 2: /* op al/ax/eax, imm */
		if (wr && !writable(EAX))
			return 0;
		if (size == 2)
			b(0x66);
		b(opw(size, (uint8_t)(op << 3 | 4)));
		imm(size, rnd_val(size));
		break;
	default: { /* 80/81/83 (and 82, the 8-bit alias invalid in 64-bit mode) /op imm */
		gen_rm(&o, size, wr, 50, 0);
		lock = wr && o.is_mem && chance(25);
		prefixes(size, &o, wr, lock);
		if (size == 1) {
			b(chance(15) ? 0x82 : 0x80);
			put_rm(&o, op);
			b(rnd_val(1));
		} else if (chance(50)) {
			b(0x83);
			put_rm(&o, op);
			b(rnd_val(1));
		} else {
			b(0x81);
			put_rm(&o, op);
			imm(size, rnd_val(size));
		}
	}
	}
	if (op == 1 || op == 4 || op == 6)
		flags(LOGIC_DEF, AF);
	else
		flags(ALL6, 0);
	return 1;
}

static int op_test(void)
{
	int size = pick_size();
	struct rm o;
	switch (rndn(3)) {
	case 0:
		gen_rm(&o, size, 0, 50, 0);
		prefixes(size, &o, 0, 0);
		b(opw(size, 0x84));
		put_rm(&o, pick_src());
		break;
	case 1:
		if (size == 2)
			b(0x66);
		b(opw(size, 0xA8));
		imm(size, rnd_val(size));
		break;
	default:
		gen_rm(&o, size, 0, 50, 0);
		prefixes(size, &o, 0, 0);
		b(opw(size, 0xF6));
		put_rm(&o, 0);
		imm(size, rnd_val(size));
	}
	flags(LOGIC_DEF, AF);
	return 1;
}

/* inc/dec (FE/FF /0 /1 and the short 40+r/48+r forms), neg, not. */
static int op_unary(void)
{
	int size = pick_size(), kind = (int)rndn(4); /* inc dec neg not */
	struct rm o;
	if (kind < 2 && size != 1 && chance(40)) {
		int r = pick_dst(size);
		if (r == NOREG)
			return 0;
		if (size == 2)
			b(0x66);
		b((kind ? 0x48 : 0x40) + r);
	} else {
		gen_rm(&o, size, 1, 50, 0);
		int lock = o.is_mem && chance(25);
		prefixes(size, &o, 1, lock);
		if (kind < 2) {
			b(opw(size, 0xFE));
			put_rm(&o, kind);
		} else {
			b(opw(size, 0xF6));
			put_rm(&o, kind == 2 ? 3 : 2);
		}
	}
	if (kind < 2)
		flags(OF | SF | ZF | AF | PF, 0);
	else if (kind == 2)
		flags(ALL6, 0);
	return 1;
}

/* mul/imul r/m (F6/F7 /4 /5), imul r, r/m (0F AF), imul r, r/m, imm (69, 6B). */
static int op_mul(void)
{
	int size = pick_size();
	struct rm o;
	int form = (int)rndn(3);
	if (form == 0) {
		if (!writable(EAX) || (size != 1 && !writable(EDX)))
			return 0;
		gen_rm(&o, size, 0, 50, 0);
		prefixes(size, &o, 0, 0);
		b(opw(size, 0xF6));
		put_rm(&o, chance(50) ? 4 : 5);
	} else {
		if (size == 1)
			size = 4;
		int r = pick_dst(size);
		if (r == NOREG)
			return 0;
		gen_rm(&o, size, 0, 50, 0);
		prefixes(size, &o, 0, 0);
		if (form == 1) {
			b(0x0F);
			b(0xAF);
			put_rm(&o, r);
		} else if (chance(50)) {
			b(0x6B);
			put_rm(&o, r);
			b(rnd_val(1));
		} else {
			b(0x69);
			put_rm(&o, r);
			imm(size, rnd_val(size));
		}
	}
	flags(CF | OF, SF | ZF | AF | PF);
	return 1;
}

/* div/idiv with a dividend and divisor that cannot fault. */
static int op_div(void)
{
	int size = pick_size(), sgn = chance(50);
	int bits = size * 8;
	uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << bits) - 1;
	uint32_t d, h;
	int64_t D;

	if (!writable(EAX) || (size != 1 && !writable(EDX)))
		return 0;
	/* divisor with |d| >= 2 */
	do {
		d = chance(50) ? (uint32_t)rnd_range(2, 100) : rnd32();
		if (sgn && chance(40))
			d = 0u - d;
		d &= mask;
		D = sgn ? (int64_t)((int32_t)(d << (32 - bits)) >> (32 - bits)) : (int64_t)d;
		if (D < 0)
			D = -D;
	} while (D < 2);
	/* high half of the dividend: unsigned h < d; signed |h| <= |d|/2 - 1 */
	if (!sgn) {
		h = (uint32_t)((uint64_t)rnd32() % (uint64_t)D);
	} else {
		int64_t lim = D / 2 - 1;
		int64_t hv = lim > 0 ? (int64_t)(rnd32() % (uint64_t)(2 * lim + 1)) - lim : 0;
		h = (uint32_t)hv & mask;
	}
	uint32_t save = g.avoid;
	if (size == 1)
		emit_mov_ri(1, 4, h); /* mov ah, h */
	else
		emit_mov_ri(size, EDX, h);
	g.avoid |= R(EAX) | R(EDX);
	struct rm o;
	memset(&o, 0, sizeof(o));
	if (chance(50)) {
		int r = pick_dst(size);
		if (r == NOREG)
			goto mem;
		o.reg = r;
		emit_mov_ri(size, r, d);
	} else {
	mem:
		o.is_mem = 1;
		uint32_t T = pick_target((uint32_t)size, 0);
		emit_store_abs(size, T, d);
		gen_mem(&o.m, size, M_EXACT, T);
	}
	g.avoid = save;
	prefixes(size, &o, 0, 0);
	b(opw(size, 0xF6));
	put_rm(&o, sgn ? 7 : 6);
	flags(0, ALL6);
	return 1;
}

/* Flags a shift or rotate by count leaves defined/undefined. */
static void shift_flags(int kind, int size, uint32_t count)
{
	uint32_t c = count & 31, bits = (uint32_t)size * 8;
	if (c == 0)
		return;
	switch (kind) {
	case 0:
	case 1: /* rol ror */
		flags(CF | (c == 1 ? OF : 0), c == 1 ? 0 : OF);
		break;
	case 2:
	case 3: { /* rcl rcr */
		uint32_t t = size == 4 ? c : size == 2 ? c % 17 : c % 9;
		flags((t ? CF : 0) | (c == 1 ? OF : 0), c == 1 ? 0 : OF);
		break;
	}
	default: /* shl shr sar */
		flags(SF | ZF | PF | (c == 1 ? OF : 0) | (c < bits ? CF : 0),
		      AF | (c == 1 ? 0 : OF) | (c < bits ? 0 : CF));
	}
}

static uint32_t rnd_count(int bits)
{
	switch (rndn(4)) {
	case 0:
		return rndn(256);
	case 1:
		return rndn(32);
	default:
		return rndn((uint32_t)bits + 1);
	}
}

/* rol ror rcl rcr shl shr sar: by 1, by imm8, by CL. */
static int op_shift(void)
{
	static const int kinds[] = {0, 1, 2, 3, 4, 5, 7};
	int size = pick_size(), kind = kinds[rndn(7)], form = (int)rndn(3);
	uint32_t count;
	struct rm o;
	uint32_t save = g.avoid;

	if (form == 2 && !writable(ECX))
		form = 1;
	count = form == 0 ? 1 : rnd_count(size * 8);
	if (kind == 2 || kind == 3)
		need(CF);
	if (form == 2) {
		emit_mov_ri(1, ECX, count); /* mov cl, count */
		g.avoid |= R(ECX);
	}
	gen_rm(&o, size, 1, 45, 0);
	g.avoid = save;
	prefixes(size, &o, 1, 0);
	b(opw(size, form == 0 ? 0xD0 : form == 1 ? 0xC0 : 0xD2));
	put_rm(&o, kind);
	if (form == 1)
		b(count);
	shift_flags(kind, size, count);
	return 1;
}

/* shld/shrd by imm8 or CL (16-bit counts kept <= 16: above that the result is undefined). */
static int op_shxd(void)
{
	int size = chance(70) ? 4 : 2, right = chance(50), bycl = chance(50);
	uint32_t count;
	struct rm o;
	uint32_t save = g.avoid;

	if (bycl && !writable(ECX))
		bycl = 0;
	count = rnd_count(size * 8);
	if (size == 2 && (count & 31) > 16)
		count = rndn(17) | (rndn(8) << 5);
	if (bycl) {
		emit_mov_ri(1, ECX, count);
		g.avoid |= R(ECX);
	}
	gen_rm(&o, size, 1, 45, 0);
	g.avoid = save;
	prefixes(size, &o, 1, 0);
	b(0x0F);
	b((right ? 0xAC : 0xA4) + bycl);
	put_rm(&o, pick_src());
	if (!bycl)
		b(count);
	uint32_t c = count & 31;
	if (c)
		flags(SF | ZF | PF | (c == 1 ? OF : 0) | ((int)c < size * 8 ? CF : 0),
		      AF | (c == 1 ? 0 : OF) | ((int)c < size * 8 ? 0 : CF));
	return 1;
}

/* bt bts btr btc: reg/imm bit offsets, register and memory operands. */
static int op_bt(void)
{
	int size = chance(65) ? 4 : 2, kind = (int)rndn(4), byimm = chance(40);
	struct rm o;
	uint32_t save = g.avoid;
	int off_reg = NOREG;

	memset(&o, 0, sizeof(o));
	if (chance(50)) { /* memory operand */
		o.is_mem = 1;
		if (!byimm) {
			/* a register bit offset reaches beyond the operand: keep it small */
			off_reg = pick_dst(4);
			if (off_reg == NOREG) {
				byimm = 1;
			} else {
				emit_mov_ri(4, off_reg, (uint32_t)rnd_range(-256, 255));
				g.avoid |= R(off_reg);
			}
		}
		gen_mem(&o.m, size, 0, pick_target((uint32_t)size, 40));
		g.avoid = save;
	} else {
		o.reg = kind ? pick_dst(size) : pick_src();
		if (o.reg == NOREG)
			return 0;
		if (!byimm)
			off_reg = pick_src();
	}
	prefixes(size, &o, kind != 0, kind && o.is_mem && chance(25));
	b(0x0F);
	if (byimm) {
		b(0xBA);
		put_rm(&o, 4 + kind);
		b(chance(70) ? rndn((uint32_t)size * 8) : rndn(256));
	} else {
		b(0xA3 + 8 * kind);
		put_rm(&o, off_reg);
	}
	flags(CF, OF | SF | AF | PF);
	return 1;
}

/* bsf/bsr with a non-zero source (a zero source leaves the destination undefined). */
static int op_bsf(void)
{
	int size = chance(70) ? 4 : 2, r = pick_dst(size);
	struct rm o;
	if (r == NOREG)
		return 0;
	memset(&o, 0, sizeof(o));
	uint32_t nz = rnd_val(size);
	if (!nz)
		nz = 1u << rndn((uint32_t)size * 8);
	if (chance(50)) {
		o.is_mem = 1;
		uint32_t T = pick_target((uint32_t)size, 0), save = g.avoid;
		emit_store_abs(size, T, nz);
		gen_mem(&o.m, size, M_EXACT, T);
		g.avoid = save;
	} else {
		o.reg = pick_dst(size);
		if (o.reg == NOREG)
			return 0;
		/* or src, nz: keeps the register's random bits, makes it non-zero */
		if (size == 2)
			b(0x66);
		b(0x81);
		b(0xC8 | o.reg);
		imm(size, nz);
	}
	prefixes(size, &o, 0, 0);
	b(0x0F);
	b(chance(50) ? 0xBC : 0xBD);
	put_rm(&o, r);
	flags(ZF, CF | OF | SF | AF | PF);
	return 1;
}

static int op_setcc(void)
{
	int cc = (int)rndn(16);
	struct rm o;
	need(cond_flags[cc]);
	gen_rm(&o, 1, 1, 40, 0);
	prefixes(1, &o, 1, 0);
	b(0x0F);
	b(0x90 + cc);
	put_rm(&o, 0);
	return 1;
}

static int op_cmov(void)
{
	int cc = (int)rndn(16), size = chance(70) ? 4 : 2, r = pick_dst(size);
	struct rm o;
	if (r == NOREG)
		return 0;
	need(cond_flags[cc]);
	gen_rm(&o, size, 0, 45, 0);
	prefixes(size, &o, 0, 0);
	b(0x0F);
	b(0x40 + cc);
	put_rm(&o, r);
	return 1;
}

/* mov in every form: 88-8B, C6/C7, B0+r/B8+r, A0-A3 (moffs), movzx/movsx. */
static int op_mov(void)
{
	int size = pick_size();
	struct rm o;
	switch (rndn(6)) {
	case 0: /* mov r/m, reg */
		gen_rm(&o, size, 1, 70, 0);
		prefixes(size, &o, 1, 0);
		b(opw(size, 0x88));
		put_rm(&o, pick_src());
		break;
	case 1: { /* mov reg, r/m */
		int r = pick_dst(size);
		if (r == NOREG)
			return 0;
		gen_rm(&o, size, 0, 70, 0);
		prefixes(size, &o, 0, 0);
		b(opw(size, 0x8A));
		put_rm(&o, r);
		break;
	}
	case 2: /* mov r/m, imm */
		gen_rm(&o, size, 1, 60, 0);
		prefixes(size, &o, 1, 0);
		b(opw(size, 0xC6));
		put_rm(&o, 0);
		imm(size, rnd_val(size));
		break;
	case 3: { /* mov reg, imm */
		int r = pick_dst(size);
		if (r == NOREG)
			return 0;
		emit_mov_ri(size, r, rnd_val(size));
		break;
	}
	case 4: { /* moffs: mov al/ax/eax, [abs]; mov [abs], al/ax/eax */
		int store = chance(50);
		if (!store && !writable(EAX))
			return 0;
		if (size == 2)
			b(0x66);
		if (chance(10))
			b(0x3E);
		b(opw(size, store ? 0xA2 : 0xA0));
		b32(pick_target((uint32_t)size, 0));
		break;
	}
	default: { /* movzx/movsx */
		int dsize = chance(75) ? 4 : 2, ssize = dsize == 2 || chance(50) ? 1 : 2;
		int r = pick_dst(dsize);
		if (r == NOREG)
			return 0;
		gen_rm(&o, ssize, 0, 50, 0);
		prefixes(dsize, &o, 0, 0);
		b(0x0F);
		b((chance(50) ? 0xB6 : 0xBE) + (ssize == 2));
		put_rm(&o, r);
	}
	}
	return 1;
}

/* lea with random addressing bytes (no memory access: any register values do),
 * 32-bit and 16-bit (0x67) address forms, 32- and 16-bit destinations. */
static int lea(int a16)
{
	int size = chance(75) ? 4 : 2, r = pick_dst(size);
	if (r == NOREG)
		return 0;
	if (size == 2)
		b(0x66);
	if (a16)
		b(0x67);
	b(0x8D);
	int mod = (int)rndn(3), rm = (int)rndn(8);
	b(mod << 6 | r << 3 | rm);
	if (a16) {
		if (mod == 1)
			b(rnd32());
		else if (mod == 2 || (mod == 0 && rm == 6))
			b16(rnd32());
		return 1;
	}
	int base = rm;
	if (rm == 4) {
		uint8_t sib = (uint8_t)rnd32();
		b(sib);
		base = sib & 7;
	}
	if (mod == 1)
		b(rnd32());
	else if (mod == 2 || (mod == 0 && base == 5))
		b32(rnd_val(4));
	return 1;
}
static int op_lea(void)
{
	return lea(0);
}
static int op_lea16(void)
{
	return lea(1);
}

/* xchg (86/87, 90+r), xadd, cmpxchg, cmpxchg8b, bswap. */
static int xchg_op(int which)
{
	int size = pick_size();
	struct rm o;
	switch (which) {
	case 0: { /* xchg r/m, reg */
		int r = pick_dst(size);
		if (r == NOREG)
			return 0;
		uint32_t save = g.avoid;
		g.avoid |= size == 1 ? R(r & 3) : R(r);
		gen_rm(&o, size, 1, 50, 0);
		g.avoid = save;
		prefixes(size, &o, 1, o.is_mem && chance(20));
		b(opw(size, 0x86));
		put_rm(&o, r);
		return 1;
	}
	case 1: { /* xchg eax, r (90+r; 90 itself is nop) */
		int r = pick_dst(4);
		if (r == NOREG || !writable(EAX))
			return 0;
		if (chance(30))
			b(0x66);
		b(0x90 + r);
		return 1;
	}
	case 2: { /* xadd */
		int r = pick_dst(size);
		if (r == NOREG)
			return 0;
		uint32_t save = g.avoid;
		g.avoid |= size == 1 ? R(r & 3) : R(r);
		gen_rm(&o, size, 1, 50, 0);
		g.avoid = save;
		prefixes(size, &o, 1, o.is_mem && chance(30));
		b(0x0F);
		b(opw(size, 0xC0));
		put_rm(&o, r);
		flags(ALL6, 0);
		return 1;
	}
	case 3: { /* cmpxchg r/m, reg (compares with al/ax/eax) */
		if (!writable(EAX))
			return 0;
		uint32_t save = g.avoid;
		g.avoid |= R(EAX);
		gen_rm(&o, size, 1, 60, 0);
		g.avoid = save;
		int r = pick_src();
		if (chance(40)) { /* make it equal: load the accumulator from the operand */
			if (o.is_mem) {
				if (size == 2)
					b(0x66);
				b(opw(size, 0xA0));
				b32(o.m.target);
			} else if (o.reg != EAX) {
				if (size == 2)
					b(0x66);
				b(opw(size, 0x8A));
				b(0xC0 | 0 << 3 | o.reg);
			}
		}
		prefixes(size, &o, 1, o.is_mem && chance(30));
		b(0x0F);
		b(opw(size, 0xB0));
		put_rm(&o, r);
		flags(ALL6, 0);
		return 1;
	}
	case 4: { /* cmpxchg8b m64 */
		if (!writable(EAX) || !writable(EDX))
			return 0;
		uint32_t T = pick_target(8, 0), save = g.avoid;
		if (chance(50)) { /* equal: EDX:EAX = [T] */
			b(0xA1);
			b32(T);
			b(0x8B);
			b(0x15);
			b32(T + 4);
		}
		g.avoid |= R(EAX) | R(EDX);
		memset(&o, 0, sizeof(o));
		o.is_mem = 1;
		gen_mem(&o.m, 8, M_EXACT, T);
		g.avoid = save;
		prefixes(4, &o, 1, chance(30));
		b(0x0F);
		b(0xC7);
		put_mem(&o.m, 1);
		flags(ZF, 0);
		/* QEMU 7.2's TCG recomputes the other flags instead of keeping them,
		 * and its pushf shows DF set until the next full flags update */
		g.qbad |= (ALL6 & ~ZF) | DT_FLAG_DF;
	}
		return 1;
	default: { /* bswap */
		int r = pick_dst(4);
		if (r == NOREG)
			return 0;
		b(0x0F);
		b(0xC8 + r);
		return 1;
	}
	}
}
static int op_xchg(void)
{
	return xchg_op((int)rndn(2));
}
static int op_xadd(void)
{
	return xchg_op(2);
}
static int op_cmpxchg(void)
{
	return xchg_op(3);
}
static int op_cmpxchg8b(void)
{
	return xchg_op(4);
}
static int op_bswap(void)
{
	return xchg_op(5);
}

/* cbw/cwde, cwd/cdq, lahf/sahf, clc/stc/cmc, nops, xlat. */
static int misc_op(int which)
{
	switch (which) {
	case 0: /* cbw / cwde */
		if (!writable(EAX))
			return 0;
		if (chance(40))
			b(0x66);
		b(0x98);
		return 1;
	case 1: /* cwd / cdq */
		if (!writable(EDX))
			return 0;
		if (chance(40))
			b(0x66);
		b(0x99);
		return 1;
	case 2: /* lahf */
		if (!writable(EAX))
			return 0;
		need(SF | ZF | AF | PF | CF);
		b(0x9F);
		return 1;
	case 3: /* sahf */
		b(0x9E);
		flags(SF | ZF | AF | PF | CF, 0);
		return 1;
	case 4: /* clc stc cmc */
		switch (rndn(3)) {
		case 0:
			b(0xF8);
			break;
		case 1:
			b(0xF9);
			break;
		default:
			need(CF);
			b(0xF5);
		}
		flags(CF, 0);
		return 1;
	case 5: { /* nops: 90, 66 90, 0f 1f /0 with an addressing form (no access) */
		int k = (int)rndn(3);
		if (k == 0) {
			b(0x90);
		} else if (k == 1) {
			b(0x66);
			b(0x90);
		} else {
			if (chance(30))
				b(0x66);
			b(0x0F);
			b(0x1F);
			int mod = (int)rndn(3);
			b(mod << 6 | 4);
			b(rnd32() & 0xFF & ~7u); /* sib with base eax.. (not 5) */
			if (mod == 1)
				b(rnd32());
			else if (mod == 2)
				b32(rnd32());
		}
		return 1;
	}
	case 6: { /* xlat: al = [ebx + al] */
		if (!writable(EAX) || !writable(EBX))
			return 0;
		emit_mov_ri(4, EBX, pick_target(1, 256) - 128);
		if (chance(20))
			b(0x3E);
		b(0xD7);
		return 1;
	}
	case 7: { /* arpl r/m16, r16 (63 is movsxd in 64-bit mode) */
		struct rm o;
		gen_rm(&o, 2, 1, 40, 0);
		prefixes(4, &o, 1, 0);
		b(0x63);
		put_rm(&o, pick_src());
		flags(ZF, 0);
		return 1;
	}
	default: { /* bound r32, m32&32 (62 is EVEX in 64-bit mode), bounds that hold */
		int size = chance(75) ? 4 : 2;
		int r = pick_dst(size);
		if (r == NOREG)
			return 0;
		int32_t v = rnd_range(-100000, 100000);
		if (size == 2)
			v = (int16_t)v;
		int32_t lo = v - rnd_range(0, 1000), hi = v + rnd_range(0, 1000);
		if (size == 2) {
			lo = lo < -32768 ? -32768 : lo;
			hi = hi > 32767 ? 32767 : hi;
		}
		uint32_t T = pick_target((uint32_t)size * 2, 0), save = g.avoid;
		emit_mov_ri(size, r, (uint32_t)v);
		emit_store_abs(size, T, (uint32_t)lo);
		emit_store_abs(size, T + (uint32_t)size, (uint32_t)hi);
		g.avoid |= R(r);
		struct rm o;
		memset(&o, 0, sizeof(o));
		o.is_mem = 1;
		gen_mem(&o.m, size * 2, M_EXACT, T);
		g.avoid = save;
		prefixes(size, &o, 0, 0);
		b(0x62);
		put_mem(&o.m, r);
		return 1;
	}
	}
}

static int op_cbw(void)
{
	return misc_op((int)rndn(2));
}
static int op_lahf(void)
{
	return misc_op(2 + (int)rndn(2));
}
static int op_flagop(void)
{
	return misc_op(4);
}
static int op_nop(void)
{
	return misc_op(5);
}
static int op_xlat(void)
{
	return misc_op(6);
}
static int op_arpl(void)
{
	return misc_op(7);
}
static int op_bound(void)
{
	return misc_op(8);
}

/* BCD adjusts: daa das aaa aas aam aad (all invalid in 64-bit mode). */
static int op_bcd(void)
{
	if (!writable(EAX))
		return 0;
	switch (rndn(6)) {
	case 0:
	case 1:
		need(AF | CF);
		b(rndn(2) ? 0x27 : 0x2F);
		flags(CF | AF | SF | ZF | PF, OF);
		break;
	case 2:
	case 3:
		need(AF);
		b(rndn(2) ? 0x37 : 0x3F);
		flags(AF | CF, OF | SF | ZF | PF);
		break;
	case 4: {
		uint32_t base = chance(60) ? 10 : 1 + rndn(255);
		b(0xD4);
		b(base);
		flags(SF | ZF | PF, OF | AF | CF);
		break;
	}
	default: {
		uint32_t base = chance(60) ? 10 : rndn(256);
		b(0xD5);
		b(base);
		flags(SF | ZF | PF, OF | AF | CF);
	}
	}
	return 1;
}

static int stack_room(int push_bytes)
{
	return !g.no_stack && g.depth + push_bytes <= STACK_MAX &&
	       g.depth + push_bytes >= STACK_MIN;
}

/* push/pop: registers, immediates, memory, 16-bit forms, pusha/popa, pushf/popf. */
static int stack_op(int x)
{
	int size = chance(80) ? 4 : 2;
	struct rm o;
	if (x != 3 && x != 5 && g.depth > 0x200 && chance(50))
		x = 3; /* lean towards popping */
	switch (x) {
	case 0:
	case 1: { /* push reg (including esp) */
		if (!stack_room(size))
			return 0;
		if (size == 2)
			b(0x66);
		b(0x50 + pick_src());
		g.depth += size;
		return 1;
	}
	case 2: /* push imm */
		if (!stack_room(size))
			return 0;
		if (size == 2)
			b(0x66);
		if (chance(50)) {
			b(0x6A);
			b(rnd_val(1));
		} else {
			b(0x68);
			imm(size, rnd_val(size));
		}
		g.depth += size;
		return 1;
	case 3: { /* pop reg */
		int r = pick_dst(size);
		if (r == NOREG || !stack_room(-size))
			return 0;
		if (size == 2)
			b(0x66);
		b(0x58 + r);
		g.depth -= size;
		return 1;
	}
	case 4: /* push m */
		if (!stack_room(size))
			return 0;
		o.is_mem = 1;
		gen_mem(&o.m, size, 0, 0);
		prefixes(size, &o, 0, 0);
		b(0xFF);
		put_mem(&o.m, 6);
		g.depth += size;
		return 1;
	case 5: /* pop m (not ESP-based: ESP moves before the store) */
		if (!stack_room(-size))
			return 0;
		o.is_mem = 1;
		gen_mem(&o.m, size, M_NO_ESP, 0);
		prefixes(size, &o, 1, 0);
		b(0x8F);
		put_mem(&o.m, 0);
		g.depth -= size;
		return 1;
	case 6: /* pusha */
		if (!stack_room(8 * size))
			return 0;
		if (size == 2)
			b(0x66);
		b(0x60);
		g.depth += 8 * size;
		return 1;
	case 7: /* popa: writes every register but ESP */
		if (g.avoid & ~R(ESP) || !stack_room(-8 * size))
			return 0;
		if (size == 2)
			b(0x66);
		b(0x61);
		g.depth -= 8 * size;
		return 1;
	case 8: /* pushf; and [esp], <defined flags>: IF, IOPL and undefined flags masked */
		if (!stack_room(size))
			return 0;
		if (g.qbad)
			g.qskip = 1;
		if (size == 2)
			b(0x66);
		b(0x9C);
		if (size == 2)
			b(0x66);
		b(0x81);
		b(0x24);
		b(0x24); /* and [esp], imm */
		imm(size, (DT_FLAGS_ARITH & ~g.undef) | DT_FLAG_DF);
		g.depth += size;
		flags(LOGIC_DEF, AF);
		return 1;
	default: { /* push imm; popf: random arithmetic flags, DF kept (or set if allowed) */
		if (!stack_room(size))
			return 0;
		uint32_t v = (rnd32() & DT_FLAGS_ARITH) | 2;
		int df = g.df;
		if (!g.no_df && chance(20))
			df = !df;
		if (df)
			v |= DT_FLAG_DF;
		if (size == 2)
			b(0x66);
		b(0x68);
		imm(size, v);
		if (size == 2)
			b(0x66);
		b(0x9D);
		g.df = df;
		flags(ALL6, 0);
		return 1;
	}
	}
}

static int op_push(void)
{
	static const int k[] = {0, 1, 2, 4};
	return stack_op(k[rndn(4)]);
}
static int op_pop(void)
{
	return stack_op(chance(50) ? 3 : 5);
}
static int op_pusha(void)
{
	return stack_op(6 + (int)rndn(2));
}
static int op_pushf(void)
{
	return stack_op(8 + (int)rndn(2));
}

/* movs cmps stos lods scas, 8/16/32-bit, with rep/repe/repne, DF 0 or 1. */
static int op_string(void)
{
	int kind = (int)rndn(5); /* movs cmps stos lods scas */
	int size = pick_size();
	static const uint8_t opc[] = {0xA4, 0xA6, 0xAA, 0xAC, 0xAE};
	int uses_si = kind == 0 || kind == 1 || kind == 3;
	int uses_di = kind != 3;
	int rep = chance(70);
	if ((rep && !writable(ECX)) || (uses_si && !writable(ESI)) || (uses_di && !writable(EDI)) ||
	    (kind == 3 && !writable(EAX)))
		return 0;
	if (!g.no_df && chance(35)) {
		g.df = !g.df;
		b(g.df ? 0xFD : 0xFC);
	}
	uint32_t count = rep ? (chance(10) ? 0 : rndn(24)) : 1;
	uint32_t span = count * (uint32_t)size + 8;
	if (rep)
		emit_mov_ri(4, ECX, count);
	if (uses_si)
		emit_mov_ri(4, ESI, pick_target((uint32_t)size, span));
	if (uses_di)
		emit_mov_ri(4, EDI, pick_target((uint32_t)size, span));
	/* rep before 0x66: Capstone 4 lists "66 f3 a5" as rep movsd (the CPU: movsw) */
	if (rep)
		b(kind == 1 || kind == 4 ? (chance(50) ? 0xF3 : 0xF2) : 0xF3);
	if (size == 2)
		b(0x66);
	if (uses_si && chance(15))
		b("\x26\x2e\x36\x3e"[rndn(4)]); /* source segment override */
	b(opw(size, opc[kind]));
	if ((kind == 1 || kind == 4) && count)
		flags(ALL6, 0);
	if (g.df && !g.no_df && chance(50)) {
		b(0xFC);
		g.df = 0;
	}
	return 1;
}

/* ---------------------------------------------------------------- control flow */
static int gen_unit(void);

struct saved {
	int depth, df, no_stack, no_df, no_esp_mem, nest;
	uint32_t undef, touched, avoid, qbad;
};
static void save(struct saved *s)
{
	s->depth = g.depth;
	s->df = g.df;
	s->no_stack = g.no_stack;
	s->no_df = g.no_df;
	s->no_esp_mem = g.no_esp_mem;
	s->nest = g.nest;
	s->undef = g.undef;
	s->touched = g.touched;
	s->avoid = g.avoid;
	s->qbad = g.qbad;
}
static void restore(const struct saved *s)
{
	g.depth = s->depth;
	g.df = s->df;
	g.no_stack = s->no_stack;
	g.no_df = s->no_df;
	g.no_esp_mem = s->no_esp_mem;
	g.nest = s->nest;
	g.undef = s->undef;
	g.touched = s->touched;
	g.avoid = s->avoid;
	g.qbad = s->qbad;
}
static void gen_units(int n)
{
	for (int i = 0; i < n; i++)
		gen_unit();
}

/* A short forward branch over 1-3 units: jcc rel8/rel32, jmp (dead code), loop/
 * loope/loopne/jecxz forward (on ECX, or with 0x67 on CX). */
static int op_branch(void)
{
	struct saved s;
	int kind = (int)rndn(10), at, near = 0, n = 1 + (int)rndn(3);
	uint32_t before = g.undef, qbefore;

	if (g.nest >= MAX_NEST)
		return 0;
	save(&s);
	if (kind <= 4) { /* jcc */
		int cc = (int)rndn(16);
		need(cond_flags[cc]);
		before = g.undef;
		near = chance(25);
		if (near) {
			b(0x0F);
			b(0x80 + cc);
			at = g.len;
			b32(0);
		} else {
			b(0x70 + cc);
			at = g.len;
			b(0);
		}
	} else if (kind <= 6) { /* jmp over dead code */
		near = chance(30);
		b(near ? 0xE9 : 0xEB);
		at = g.len;
		if (near)
			b32(0);
		else
			b(0);
	} else { /* loop loope loopne jecxz */
		int op = (int)rndn(4);
		if (op < 3 && !writable(ECX))
			return 0;
		if (op == 1 || op == 2) {
			need(ZF);
			before = g.undef;
		}
		if (rndn(3) == 0)
			b(0x67); /* the count is CX (jcxz, loopw...) */
		b(op == 0 ? 0xE2 : op == 1 ? 0xE1 : op == 2 ? 0xE0 : 0xE3);
		at = g.len;
		b(0);
	}
	qbefore = g.qbad;
	g.nest++;
	g.no_stack = 1;
	g.no_df = 1;
	int start = g.len;
	gen_units(n);
	int dist = g.len - start;
	if (!near && dist > 127) { /* too long for rel8: drop the block */
		g.len = start;
		dist = 0;
	}
	if (near) {
		g.code[at] = (uint8_t)dist;
		g.code[at + 1] = (uint8_t)(dist >> 8);
		g.code[at + 2] = 0;
		g.code[at + 3] = 0;
	} else {
		g.code[at] = (uint8_t)dist;
	}
	uint32_t block_undef = g.undef, block_touched = g.touched, block_qbad = g.qbad;
	restore(&s);
	g.touched = block_touched | s.touched;
	if (kind <= 4 || kind >= 7) { /* either path: undefined if undefined on one */
		g.undef = before | block_undef;
		g.qbad = qbefore | block_qbad;
	} else { /* jmp: the block never runs */
		g.undef = before;
		g.qbad = qbefore;
	}
	return 1;
}

/* mov ecx, n; L: body; loop/loope/loopne L (backward). */
static int op_loop(void)
{
	struct saved s;
	if (g.nest >= MAX_NEST || !writable(ECX))
		return 0;
	int op = (int)rndn(3);
	int a16 = rndn(3) == 0; /* 0x67: the count is CX, ECX's upper half stays */
	save(&s);
	int outer = g.len;
	emit_mov_ri(4, ECX, (a16 ? rnd32() & 0xFFFF0000u : 0) | (1 + rndn(6)));
	int top = g.len;
	g.nest++;
	g.no_stack = 1;
	g.no_df = 1;
	g.avoid |= R(ECX);
	g.undef = ALL6; /* the body runs again with whatever it left */
	g.touched = 0;
	gen_units(1 + (int)rndn(3));
	if (op)
		need(ZF);
	int dist = g.len + 2 + a16 - top;
	uint32_t body_undef = g.undef, touched = g.touched, body_qbad = g.qbad;
	if (dist > 128) {
		g.len = outer;
		restore(&s);
		return 0;
	}
	if (a16)
		b(0x67);
	b(op == 0 ? 0xE2 : op == 1 ? 0xE1 : 0xE0);
	b((uint32_t)-dist);
	restore(&s);
	g.undef = (body_undef & touched) | (s.undef & ~touched);
	g.qbad = body_qbad | s.qbad;
	g.touched |= touched;
	return 1;
}

/* Overwrite the stale return address the ret left below ESP (code addresses
 * differ between runners): mov dword [esp+disp8], imm32. */
static void wipe_below_esp(int disp)
{
	b(0xC7);
	b(0x44);
	b(0x24);
	b((uint32_t)disp);
	b32(rnd32());
}

/* Local calls: call rel32 forward or backward, ret or ret imm16. */
static int op_call(void)
{
	struct saved s;
	if (g.nest >= MAX_NEST || !stack_room(8))
		return 0;
	int arg = chance(25);
	int back = chance(40);
	save(&s);
	if (arg) { /* push imm32: popped by ret 4 */
		b(0x68);
		b32(rnd32());
		g.depth += 4;
	}
	int jmp_at = 0, call_at = 0, fn;
	if (back) { /* jmp over; F: body; ret; over: call F */
		b(0xEB);
		jmp_at = g.len;
		b(0);
	} else { /* call F; jmp over; F: body; ret; over: */
		b(0xE8);
		call_at = g.len;
		b32(0);
		b(0xEB);
		jmp_at = g.len;
		b(0);
	}
	fn = g.len;
	g.nest++;
	g.depth += 4;
	g.no_stack = 1;
	g.no_df = 1;
	g.no_esp_mem = 1;
	gen_units(1 + (int)rndn(3));
	if (arg) {
		b(0xC2);
		b16(4);
	} else {
		b(0xC3);
	}
	uint32_t undef = g.undef, touched = g.touched, qbad = g.qbad;
	if (g.len - (jmp_at + 1) > 127) {
		g.len = jmp_at - (back ? 1 : 6) - (arg ? 5 : 0);
		restore(&s);
		return 0;
	}
	g.code[jmp_at] = (uint8_t)(g.len - (jmp_at + 1));
	if (back) {
		b(0xE8);
		b32((uint32_t)(fn - (g.len + 4)));
	} else {
		uint32_t rel = (uint32_t)(fn - (call_at + 4));
		memcpy(&g.code[call_at], &rel, 4);
	}
	restore(&s);
	g.undef = undef;
	g.qbad = qbad;
	g.touched |= touched;
	/* after ret (imm): the return address is at esp-4 (esp-8 with an argument) */
	wipe_below_esp(arg ? -8 : -4);
	return 1;
}

/* Indirect transfers to a local label through a register or memory:
 * call L1; L1: pop r; lea r, [r + (F - L1)]; then call r / call [m] (F: body;
 * ret), jmp r / jmp [m] / push r; ret (F: past dead code). The code address is
 * wiped from r, memory and the stack afterwards. */
static int op_indirect(void)
{
	struct saved s;
	int r = pick_dst(4);
	if (g.nest >= MAX_NEST || r == NOREG || !stack_room(8))
		return 0;
	int kind = (int)rndn(5); /* call r, call [m], jmp r, jmp [m], push r; ret */
	save(&s);
	b(0xE8);
	b32(0);
	int l1 = g.len;
	b(0x58 + r);
	b(0x8D);
	b(0x80 | r << 3 | r); /* lea r, [r + disp32] */
	int lea_at = g.len;
	b32(0);
	struct mem m;
	uint32_t T = 0;
	g.avoid |= R(r);
	if (kind == 1 || kind == 3) {
		T = pick_target(4, 0);
		b(0x89);
		b(0x05 | r << 3);
		b32(T); /* mov [T], r */
		gen_mem(&m, 4, M_EXACT, T);
	}
	switch (kind) {
	case 0:
		b(0xFF);
		b(0xD0 | r);
		break;
	case 1:
		b(0xFF);
		put_mem(&m, 2);
		break;
	case 2:
		b(0xFF);
		b(0xE0 | r);
		break;
	case 3:
		b(0xFF);
		put_mem(&m, 4);
		break;
	default:
		b(0x50 + r);
		b(0xC3);
	}
	int jmp_at = 0;
	if (kind <= 1) {
		b(0xEB);
		jmp_at = g.len;
		b(0);
	}
	int fn = g.len;
	g.nest++;
	g.no_stack = 1;
	g.no_df = 1;
	if (kind > 1) { /* dead code, then F */
		struct saved d;
		save(&d);
		gen_units(1 + (int)rndn(2));
		restore(&d);
		fn = g.len;
	}
	/* F: first wipe the code address from r and [T] */
	emit_mov_ri(4, r, rnd_val(4));
	if (T)
		emit_store_abs(4, T, rnd32());
	if (kind <= 1) { /* body; ret */
		g.depth += 4;
		g.no_esp_mem = 1;
		gen_units(1 + (int)rndn(2));
		b(0xC3);
		g.depth -= 4;
	}
	uint32_t undef = g.undef, touched = g.touched, qbad = g.qbad;
	if (jmp_at) {
		if (g.len - (jmp_at + 1) > 127) {
			g.len = l1 - 5;
			restore(&s);
			return 0;
		}
		g.code[jmp_at] = (uint8_t)(g.len - (jmp_at + 1));
	}
	uint32_t off = (uint32_t)(fn - l1);
	memcpy(&g.code[lea_at], &off, 4);
	restore(&s);
	if (kind <= 1) {
		g.undef = undef;
		g.qbad = qbad;
		g.touched |= touched;
	}
	wipe_below_esp(-4);
	return 1;
}

/* enter size, 0|1 ... leave. */
static int op_enter(void)
{
	struct saved s;
	int level = (int)rndn(2), o16 = rndn(4) == 0;
	uint32_t size = chance(50) ? rndn(17) * 4 : rndn(64);
	if (g.nest >= MAX_NEST || !writable(EBP) || !stack_room(8 + (int)size))
		return 0;
	save(&s);
	if (o16) {
		/* enterw/leavew: BP gets the frame's low half, leavew loads ESP from all of
		 * EBP: give EBP the stack's upper half (the scratch's, 0x0080) first. */
		level = 0;
		emit_mov_ri(4, EBP, (DT_SCRATCH & 0xFFFF0000u) | (0x100 + rndn(0xD000)));
		b(0x66);
	}
	b(0xC8);
	b16(size);
	b((uint32_t)level);
	g.depth += (o16 ? 2 : 4) + 4 * level + (int)size;
	g.nest++;
	g.no_stack = 1;
	g.no_df = 1;
	g.avoid |= R(EBP);
	gen_units(1 + (int)rndn(3));
	if (o16)
		b(0x66);
	b(0xC9);
	uint32_t undef = g.undef, touched = g.touched, qbad = g.qbad;
	restore(&s);
	g.undef = undef;
	g.qbad = qbad;
	g.touched |= touched;
	return 1;
}

/* ---------------------------------------------------------------- the op table */
struct op {
	const char *name;
	int (*fn)(void);
	int weight;
};
/* clang-format off */
static struct op ops[] = {
	{"alu", op_alu, 30},        {"test", op_test, 4},       {"unary", op_unary, 8},
	{"mul", op_mul, 6},         {"div", op_div, 4},         {"shift", op_shift, 12},
	{"shxd", op_shxd, 4},       {"bt", op_bt, 6},           {"bsf", op_bsf, 3},
	{"setcc", op_setcc, 4},     {"cmov", op_cmov, 4},       {"mov", op_mov, 12},
	{"lea", op_lea, 3},         {"lea16", op_lea16, 1},     {"xchg", op_xchg, 3},
	{"xadd", op_xadd, 2},       {"cmpxchg", op_cmpxchg, 2}, {"cmpxchg8b", op_cmpxchg8b, 1},
	{"bswap", op_bswap, 1},     {"cbw", op_cbw, 2},         {"lahf", op_lahf, 1},
	{"flagop", op_flagop, 1},   {"nop", op_nop, 1},         {"xlat", op_xlat, 1},
	{"arpl", op_arpl, 1},       {"bound", op_bound, 1},     {"bcd", op_bcd, 3},
	{"push", op_push, 3},       {"pop", op_pop, 2},         {"pusha", op_pusha, 1},
	{"pushf", op_pushf, 2},     {"string", op_string, 6},   {"branch", op_branch, 5},
	{"loop", op_loop, 2},       {"call", op_call, 2},       {"indirect", op_indirect, 2},
	{"enter", op_enter, 1},
};
/* clang-format on */
#define NOPS (sizeof(ops) / sizeof(ops[0]))

static int total_weight;

/* --skip a,b,c: never generate those ops (e.g. what an engine cannot do yet). */
static void skip_ops(const char *list)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
		unsigned i;
		for (i = 0; i < NOPS && strcmp(ops[i].name, t); i++)
			;
		if (i == NOPS) {
			fprintf(stderr, "gen: --skip: no op '%s'; the ops:", t);
			for (i = 0; i < NOPS; i++)
				fprintf(stderr, " %s", ops[i].name);
			fprintf(stderr, "\n");
			exit(2);
		}
		ops[i].weight = 0;
	}
}

static int gen_unit(void)
{
	if (!total_weight)
		for (unsigned i = 0; i < NOPS; i++)
			total_weight += ops[i].weight;
	if (!total_weight) {
		b(0x90);
		return 1;
	}
	int total = total_weight;
	for (int tries = 0; tries < 20; tries++) {
		int x = (int)rndn((uint32_t)total);
		unsigned i = 0;
		while (x >= ops[i].weight)
			x -= ops[i++].weight;
		int len0 = g.len;
		struct saved s;
		save(&s);
		if (ops[i].fn())
			return 1;
		g.len = len0; /* an op that gave up emits nothing */
		restore(&s);
	}
	b(0x90);
	return 1;
}

/* ---------------------------------------------------------------- cases */
struct gcase {
	uint32_t regs[8], eflags, defmask;
	uint32_t qemu_mask; /* flags comparable under QEMU; 0 with qemu_skip */
	int qemu_skip;
	int len;
	int nunits;
	int unit_at[64]; /* where each top-level unit starts */
};

static int max_units = -1; /* --units U: only the first U units (prefix bisection) */

static void gen_case(uint64_t seed, uint32_t k, struct gcase *c)
{
	uint64_t s = seed ^ ((uint64_t)k * 0xD1B54A32D192ED03ull);
	memset(&g, 0, sizeof(g));
	g.rng = splitmix(&s) ^ 0x5DEECE66Dull;
	g.avoid = R(ESP);
	g.hot = 64 + rndn(DT_DATA_END - 256);
	for (int i = 0; i < 8; i++)
		c->regs[i] = rnd_val(4);
	c->regs[ESP] = DT_STACK_TOP;
	c->eflags = (rnd32() & DT_FLAGS_ARITH) | 2;
	int units = 1 + (int)(chance(20) ? rndn(8) : rndn(40));
	c->nunits = 0;
	for (int i = 0; i < units && g.len < CODE_BUDGET; i++) {
		if (max_units >= 0 && i >= max_units)
			break;
		c->unit_at[c->nunits++] = g.len;
		gen_unit();
	}
	if (g.df)
		b(0xFC);
	c->defmask = DT_FLAGS_CMP & ~g.undef;
	c->qemu_mask = c->defmask & ~g.qbad;
	c->qemu_skip = g.qskip;
	c->len = g.len;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "gen: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static void write_blob(FILE *f, uint64_t seed, uint32_t first, uint32_t n)
{
	struct dt_blob_hdr h;
	static const uint8_t pad[4];
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, DT_BLOB_MAGIC, sizeof(DT_BLOB_MAGIC));
	h.ncases = n;
	h.hdr_size = sizeof(h);
	h.seed_lo = (uint32_t)seed;
	h.seed_hi = (uint32_t)(seed >> 32);
	fwrite(&h, sizeof(h), 1, f);
	for (uint32_t k = first; k < first + n; k++) {
		struct gcase c;
		struct dt_case dc;
		gen_case(seed, k, &c);
		uint32_t body = (uint32_t)(sizeof(dc) + (uint32_t)c.len + DT_TERMINATOR_LEN);
		dc.size = (body + 3) & ~3u;
		dc.index = k;
		memcpy(dc.regs, c.regs, sizeof(dc.regs));
		dc.eflags = c.eflags;
		dc.defmask = c.defmask;
		dc.code_len = (uint32_t)c.len;
		fwrite(&dc, sizeof(dc), 1, f);
		fwrite(g.code, 1, (size_t)c.len, f);
		uint8_t term[DT_TERMINATOR_LEN] = {0xFF, 0x25};
		uint32_t at = DT_CTL + DT_CTL_EXIT;
		memcpy(term + 2, &at, 4);
		fwrite(term, 1, sizeof(term), f);
		fwrite(pad, 1, dc.size - body, f);
	}
}

static void list_case(uint64_t seed, uint32_t k)
{
	static const char *names[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
	struct gcase c;
	csh h;
	cs_insn *insn;

	gen_case(seed, k, &c);
	printf("case %u (seed %" PRIu64 "): %d bytes of code, %d units%s\n", k, seed, c.len,
	       c.nunits, max_units >= 0 ? " (a prefix: --units)" : "");
	printf("  initial:");
	for (int i = 0; i < 8; i++)
		printf(" %s=%08x", names[i], c.regs[i]);
	printf(" eflags=%08x\n  flags defined at the end: %04x%s\n", c.eflags, c.defmask,
	       c.defmask == DT_FLAGS_CMP ? " (all)" : "");
	if (c.qemu_skip)
		printf("  under QEMU: not compared (reads flags QEMU's cmpxchg8b gets wrong)\n");
	else if (c.qemu_mask != c.defmask)
		printf("  under QEMU: flags compared: %04x (QEMU's cmpxchg8b changes the others)\n",
		       c.qemu_mask);
	if (cs_open(CS_ARCH_X86, CS_MODE_32, &h) != CS_ERR_OK)
		die("capstone: cs_open failed");
	size_t off = 0;
	while (off < (size_t)c.len) {
		size_t n = cs_disasm(h, g.code + off, (size_t)c.len - off, off, 0, &insn);
		for (size_t i = 0; i < n; i++) {
			char hex[64] = "";
			for (int u = 0; u < c.nunits; u++)
				if ((uint64_t)c.unit_at[u] == insn[i].address)
					printf("  ; unit %d%s\n", u,
					       u == c.nunits - 1 && max_units >= 0
					           ? " (the last one)"
					           : "");
			for (int j = 0; j < insn[i].size && j < 15; j++)
				sprintf(hex + 3 * j, "%02x ", insn[i].bytes[j]);
			printf("  %04" PRIx64 ":  %-33s %s %s\n", insn[i].address, hex,
			       insn[i].mnemonic, insn[i].op_str);
			off = insn[i].address + insn[i].size;
		}
		if (n)
			cs_free(insn, n);
		if (off < (size_t)c.len && !n) { /* something capstone does not know */
			printf("  %04zx:  %02x                                .byte 0x%02x\n", off,
			       g.code[off], g.code[off]);
			off++;
		}
	}
	printf(
	    "  %04x:  ff 25 %02x %02x %02x %02x                 (end of case: jmp to the runner)\n",
	    c.len, DT_CTL & 0xFF, (DT_CTL >> 8) & 0xFF, (DT_CTL >> 16) & 0xFF, DT_CTL >> 24);
	cs_close(&h);
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || !*s || *end)
		die("bad %s '%s'", what, s);
	return v;
}

int main(int argc, char **argv)
{
	uint64_t seed = DT_DEFAULT_SEED;
	uint32_t ncases = DT_DEFAULT_CASES, one = 0, from = 0;
	int have_one = 0, list = 0, masks = 0, defmasks = 0;
	const char *out = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--seed") && i + 1 < argc)
			seed = parse_u64(argv[++i], "seed");
		else if (!strcmp(a, "--cases") && i + 1 < argc)
			ncases = (uint32_t)parse_u64(argv[++i], "case count");
		else if (!strcmp(a, "--first") && i + 1 < argc)
			from = (uint32_t)parse_u64(argv[++i], "case number");
		else if (!strcmp(a, "--case") && i + 1 < argc)
			one = (uint32_t)parse_u64(argv[++i], "case number"), have_one = 1;
		else if (!strcmp(a, "--units") && i + 1 < argc)
			max_units = (int)parse_u64(argv[++i], "unit count");
		else if (!strcmp(a, "--skip") && i + 1 < argc)
			skip_ops(argv[++i]);
		else if (!strcmp(a, "--list"))
			list = 1;
		else if (!strcmp(a, "--masks"))
			masks = 1;
		else if (!strcmp(a, "--defmasks"))
			defmasks = 1;
		else if (!strcmp(a, "-o") && i + 1 < argc)
			out = argv[++i];
		else
			die("usage: gen [--seed S] [--cases N [--first K] | --case K] [--units U] "
			    "[--skip "
			    "OP,...] "
			    "(-o FILE | --list | --masks | --defmasks)");
	}
	if (list) {
		if (!have_one)
			die("--list needs --case K");
		list_case(seed, one);
		return 0;
	}
	uint32_t first = have_one ? one : from, n = have_one ? 1 : ncases;
	if (masks || defmasks) {
		for (uint32_t k = first; k < first + n; k++) {
			struct gcase c;
			gen_case(seed, k, &c);
			if (defmasks)
				printf("%u %04x\n", k, c.defmask);
			else if (c.qemu_skip)
				printf("%u skip\n", k);
			else
				printf("%u %04x\n", k, c.qemu_mask);
		}
		return 0;
	}
	if (!out)
		die("no output: -o FILE, --list, --masks or --defmasks");
	FILE *f = fopen(out, "wb");
	if (!f)
		die("%s: %s", out, strerror(errno));
	write_blob(f, seed, first, n);
	if (fclose(f) != 0)
		die("%s: %s", out, strerror(errno));
	return 0;
}
