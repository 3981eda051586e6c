/* seg.c: data segments with bases (lds/lfs/lgs, 16-bit addressing), and the faults of task
 * switches. */
#include "st.h"

#define SEL_BASED 0x30     /* data, base &seg_area, 4 GiB */
#define SEL_TSS_OK 0x38    /* an available TSS */
#define SEL_TSS_SHORT 0x40 /* a TSS with limit 0x60 < 0x67 */
#define SEL_TSS_NP 0x48    /* a TSS, not present */
#define SEL_RT_A 0x50      /* data, base &rt_area, 4 GiB */
#define SEL_RT_B 0x58      /* data, base &rt_area + 16, 4 GiB */
#define SEL_RT_WRAP 0x60   /* data, base 0xF0000000, 4 GiB: base + offset wraps */

static uint64_t seg_gdt[13] __attribute__((aligned(8)));
static uint32_t rt_area[16];
static volatile uint32_t seg_area[4];
static uint32_t tss_area[32] __attribute__((aligned(128)));

static uint64_t desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)(flags & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

static void gdt_with_extras(struct dtr *old)
{
	struct dtr g;

	sgdt(old);
	memcpy(seg_gdt, (void *)old->base, 6 * 8);
	seg_gdt[SEL_BASED >> 3] = desc((uint32_t)seg_area, 0xfffff, 0x92, 0xc);
	seg_gdt[SEL_TSS_OK >> 3] = desc((uint32_t)tss_area, 0x67, 0x89, 0);
	seg_gdt[SEL_TSS_SHORT >> 3] = desc((uint32_t)tss_area, 0x60, 0x89, 0);
	seg_gdt[SEL_TSS_NP >> 3] = desc((uint32_t)tss_area, 0x67, 0x09, 0);
	seg_gdt[SEL_RT_A >> 3] = desc((uint32_t)rt_area, 0xfffff, 0x92, 0xc);
	seg_gdt[SEL_RT_B >> 3] = desc((uint32_t)rt_area + 16, 0xfffff, 0x92, 0xc);
	seg_gdt[SEL_RT_WRAP >> 3] = desc(0xF0000000u, 0xfffff, 0x92, 0xc);
	g = (struct dtr){sizeof(seg_gdt) - 1, (uint32_t)seg_gdt};
	lgdt(&g);
}

/* lds/les/lfs/lgs from a far pointer: the register's base applies to what follows. */
static void c_far_pointer_loads(void)
{
	struct dtr old;
	static struct __attribute__((packed)) {
		uint32_t off;
		uint16_t sel;
	} fp = {0x1234, SEL_BASED};
	uint32_t off_fs = 0, off_gs = 0, v_fs = 0, v_gs = 0, v_es = 0;

	gdt_with_extras(&old);
	seg_area[1] = 0xabcd0001u;
	seg_area[2] = 0xabcd0002u;
	seg_area[3] = 0xabcd0003u;
	__asm__ volatile("lfs %[fp], %%eax\n\t"
	                 "movl %%eax, %[ofs]\n\t"
	                 "movl %%fs:4, %%eax\n\t"
	                 "movl %%eax, %[vfs]\n\t"
	                 "lgs %[fp], %%eax\n\t"
	                 "movl %%eax, %[ogs]\n\t"
	                 "movl %%gs:8, %%eax\n\t"
	                 "movl %%eax, %[vgs]\n\t"
	                 "pushl %%es\n\t"
	                 "les %[fp], %%eax\n\t"
	                 "movl $12, %%edi\n\t"
	                 "movl %%es:(%%edi), %%eax\n\t"
	                 "popl %%es\n\t"
	                 "movl %%eax, %[ves]\n\t"
	                 "movw %w[k], %%fs\n\t"
	                 "movw %w[k], %%gs"
	                 : [ofs] "=m"(off_fs), [ogs] "=m"(off_gs), [vfs] "=m"(v_fs),
	                   [vgs] "=m"(v_gs), [ves] "=m"(v_es)
	                 : [fp] "m"(fp), [k] "r"(SEL_KDATA)
	                 : "eax", "edi", "memory");
	lgdt(&old);
	EXPECT_EQ("lfs offset", off_fs, 0x1234);
	EXPECT_EQ("lgs offset", off_gs, 0x1234);
	EXPECT_EQ("fs:4 through the loaded base", v_fs, 0xabcd0001u);
	EXPECT_EQ("gs:8 through the loaded base", v_gs, 0xabcd0002u);
	EXPECT_EQ("es:(edi) through the loaded base", v_es, 0xabcd0003u);
}

/* 16-bit addressing ([bx+disp], computed apart from the access) adds the base too. */
static void c_addr16_with_bases(void)
{
	struct dtr old;
	uint32_t a = 0, b = 0;

	gdt_with_extras(&old);
	seg_area[1] = 0xabcd1001u;
	seg_area[2] = 0xabcd1002u;
	__asm__ volatile("movw %w[s], %%gs\n\t"
	                 "movl $0x10004, %%ebx\n\t" /* BX = 4: the upper half is not used */
	                 "movl %%gs:(%%bx), %[a]\n\t"
	                 "movl %%gs:4(%%bx), %[b]\n\t"
	                 "movw %w[k], %%gs"
	                 : [a] "=&r"(a), [b] "=&r"(b)
	                 : [s] "r"(SEL_BASED), [k] "r"(SEL_KDATA)
	                 : "ebx", "memory");
	lgdt(&old);
	EXPECT_EQ("gs:[bx]", a, 0xabcd1001u);
	EXPECT_EQ("gs:[bx+4]", b, 0xabcd1002u);
}

/*
 * One piece of code reading and writing through FS and GS in every addressing form
 * (one register, two, bit test, xlat, lods, AH, a store): run with GS/FS bases that
 * differ (as each Linux process's TLS base does), it must see each base.
 */
static __attribute__((noinline)) void rt_probe(uint32_t off, uint32_t out[8])
{
	__asm__ volatile("movl %%gs:(%%ebx), %%eax\n\t"
	                 "movl %%eax, 0(%%edi)\n\t"
	                 "movl $1, %%esi\n\t"
	                 "movl %%gs:4(%%ebx,%%esi,4), %%eax\n\t" /* off + 8 */
	                 "movl %%eax, 4(%%edi)\n\t"
	                 "movl $33, %%ecx\n\t"
	                 "xorl %%eax, %%eax\n\t"
	                 "btl %%ecx, %%gs:(%%ebx)\n\t" /* bit 1 of off + 4 */
	                 "setc %%al\n\t"
	                 "movl %%eax, 8(%%edi)\n\t"
	                 "movl $2, %%eax\n\t"
	                 "xlatb %%gs:(%%ebx)\n\t" /* byte off + 2 */
	                 "movzbl %%al, %%eax\n\t"
	                 "movl %%eax, 12(%%edi)\n\t"
	                 "leal 12(%%ebx), %%esi\n\t"
	                 "cld\n\t"
	                 "lodsl %%fs:(%%esi), %%eax\n\t" /* off + 12 through FS */
	                 "movl %%eax, 16(%%edi)\n\t"
	                 "xorl %%eax, %%eax\n\t"
	                 "movb %%fs:1(%%ebx), %%ah\n\t" /* byte off + 1 */
	                 "movl %%eax, 20(%%edi)\n\t"
	                 "movl $0x5eed0000, %%eax\n\t"
	                 "orl %%ebx, %%eax\n\t"
	                 "movl %%eax, %%gs:16(%%ebx)\n\t" /* off + 16 */
	                 :
	                 : "b"(off), "D"(out)
	                 : "eax", "ecx", "esi", "memory", "cc");
}

static void rt_run(const char *what, uint16_t sel, uint32_t base, uint32_t off)
{
	uint32_t out[8] = {0}, p = base + off - (uint32_t)rt_area; /* byte index into rt_area */
	const uint8_t *b = (const uint8_t *)rt_area;
	uint32_t i;

	for (i = 0; i < 16; i++)
		rt_area[i] = 0x01020304u * (i + 1) ^ 0xa5a50000u;
	__asm__ volatile("movw %w0, %%fs\n\tmovw %w0, %%gs" : : "r"(sel) : "memory");
	rt_probe(off, out);
	__asm__ volatile("movw %w0, %%fs\n\tmovw %w0, %%gs" : : "r"(SEL_KDATA) : "memory");
#define RT_EQ(form, got, want)                                                                     \
	do {                                                                                       \
		if ((uint32_t)(got) != (uint32_t)(want))                                           \
			st_fail("%s: %s = 0x%x, want 0x%x", what, form, (uint32_t)(got),           \
			        (uint32_t)(want));                                                 \
	} while (0)
	RT_EQ("gs:[ebx]", out[0], rt_area[p / 4]);
	RT_EQ("gs:[ebx+esi*4+4]", out[1], rt_area[p / 4 + 2]);
	RT_EQ("bt gs:[ebx], 33", out[2], (rt_area[p / 4 + 1] >> 1) & 1);
	RT_EQ("gs xlat", out[3], b[p + 2]);
	RT_EQ("fs lods", out[4], rt_area[p / 4 + 3]);
	RT_EQ("mov ah, fs:[ebx+1]", out[5], (uint32_t)b[p + 1] << 8);
	RT_EQ("mov gs:[ebx+16], eax", rt_area[p / 4 + 4], 0x5eed0000u | off);
#undef RT_EQ
}

/* FS and GS bases added at run time: the same code under three bases (one wrapping). */
static void c_fs_gs_bases_at_run_time(void)
{
	struct dtr old;
	int round;

	gdt_with_extras(&old);
	for (round = 0; round < 2; round++) { /* the second round runs the blocks translated */
		rt_run("base A", SEL_RT_A, (uint32_t)rt_area, 8);
		rt_run("base B", SEL_RT_B, (uint32_t)rt_area + 16, 4);
		rt_run("base A again", SEL_RT_A, (uint32_t)rt_area, 0);
		rt_run("base 0xF0000000 (wraps)", SEL_RT_WRAP, 0xF0000000u,
		       (uint32_t)rt_area + 0x10000000u + 8);
	}
	lgdt(&old);
}

/* Faults a task switch raises before it switches (SDM Vol 3 7.3), in the old task. */
static void c_task_switch_faults(void)
{
	struct dtr old;

	gdt_with_extras(&old);
	st_nfaults = 0;
	__asm__ volatile(ST_ARM "ljmp %0, $0" ST_RESUME : : "i"(SEL_TSS) : "memory");
	expect_fault("ljmp to the busy current TSS", 13, SEL_TSS, st_at);
	st_nfaults = 0;
	__asm__ volatile(ST_ARM "lcall %0, $0" ST_RESUME : : "i"(SEL_TSS_SHORT) : "memory");
	expect_fault("lcall to a TSS with limit < 0x67", 10, SEL_TSS_SHORT, st_at);
	st_nfaults = 0;
	__asm__ volatile(ST_ARM "lcall %0, $0" ST_RESUME : : "i"(SEL_TSS_NP) : "memory");
	expect_fault("lcall to a TSS not present", 11, SEL_TSS_NP, st_at);
	/* iret with NT: the link (our TSS's, 0 here) must name a busy TSS, else #TS(link) */
	st_nfaults = 0;
	__asm__ volatile("pushfl\n\torl $0x4000, (%%esp)\n\tpopfl\n\t" ST_ARM "iret" ST_RESUME
	                 "\n\tpushfl\n\tandl $~0x4000, (%%esp)\n\tpopfl"
	                 :
	                 :
	                 : "memory");
	expect_fault("iret with NT to a null link", 10, 0, st_at);
	EXPECT_EQ("busy bit of the current TSS", (seg_gdt[SEL_TSS >> 3] >> 40) & 0xf, 0xb);
	EXPECT_EQ("type of the available TSS", (seg_gdt[SEL_TSS_OK >> 3] >> 40) & 0xf, 0x9);
	lgdt(&old);
}

/* A null selector in a data segment register: loading it is allowed, any access through
 * it is #GP(0), an explicit fs: operand or stos's implicit es: alike; lea is no access
 * (SDM Vol 3 5.4.1). QEMU's TCG does not check (base 0): accepted there. */
static volatile uint32_t null_word = 0x600dcafe;

static void c_null_selector_use(void)
{
	uint32_t v = 0, a = 0;
	uint16_t fs, es;
	void *d = (void *)&null_word;

	__asm__ volatile("movw %%fs, %0\n\tmovw %%es, %1" : "=r"(fs), "=r"(es));
	st_nfaults = 0;
	__asm__ volatile("movw %w2, %%fs\n\t.byte 0x64\n\tleal 4(%3), %1\n\t" ST_ARM
	                 "movl %%fs:(%3), %0" ST_RESUME "\n\tmovw %w4, %%fs"
	                 : "+r"(v), "=&r"(a)
	                 : "r"(0), "r"(d), "r"((uint32_t)fs)
	                 : "memory");
	EXPECT_EQ("lea through a null fs (no access)", a, (uint32_t)d + 4);
	if (st_on_qemu) {
		EXPECT_EQ("fs: load, faults (QEMU: no null-selector check)", st_nfaults, 0);
	} else {
		expect_fault("fs: load through a null fs", 13, 0, st_at);
		EXPECT_EQ("its destination (never written)", v, 0);
	}
	st_nfaults = 0;
	__asm__ volatile("movw %w1, %%es\n\t" ST_ARM "stosb" ST_RESUME "\n\tmovw %w3, %%es"
	                 : "+D"(d)
	                 : "r"(0), "a"(0x55), "r"((uint32_t)es)
	                 : "memory");
	if (st_on_qemu) {
		EXPECT_EQ("stosb, faults (QEMU: no null-selector check)", st_nfaults, 0);
		null_word = 0x600dcafe;
	} else {
		expect_fault("stosb through a null es", 13, 0, st_at);
	}
	EXPECT_EQ("the word stosb aimed at", null_word, 0x600dcafe);
}

/* push sreg with a 32-bit operand: 4 bytes, the selector zero-extended (AMD APM and
 * QEMU; the SDM lets recent Intel CPUs store 16 bits only), ESP down by 4; with a 16-bit
 * operand 2 bytes and ESP down by 2. */
static void c_push_sreg(void)
{
	uint32_t slot[2] = {0xffffffffu, 0xffffffffu}, esp_delta, ds;

	__asm__ volatile("movw %%ds, %w0" : "=r"(ds));
	__asm__ volatile("movl %%esp, %%ecx\n\t"
	                 "leal 8(%2), %%esp\n\t"
	                 "pushl %%ds\n\t"
	                 "pushw %%ss\n\t"
	                 "movl %%esp, %0\n\t"
	                 "movl %%ecx, %%esp\n\t"
	                 "subl %2, %0"
	                 : "=&r"(esp_delta), "+m"(slot)
	                 : "r"(slot)
	                 : "ecx", "memory");
	EXPECT_EQ("pushl %ds: the selector, zero-extended", slot[1], ds & 0xffff);
	EXPECT_EQ("pushw %ss: 2 bytes below it", slot[0] >> 16, SEL_KDATA);
	EXPECT_EQ("pushw %ss: the bytes below untouched", slot[0] & 0xffff, 0xffff);
	EXPECT_EQ("esp after both pushes", esp_delta, 2);
}

CHECK_LIST(seg) = {
    {"seg.far_pointer_loads_with_bases", c_far_pointer_loads},
    {"seg.addr16_with_bases", c_addr16_with_bases},
    {"seg.task_switch_faults", c_task_switch_faults},
    {"seg.fs_gs_bases_at_run_time", c_fs_gs_bases_at_run_time},
    {"seg.null_selector_use_gp", c_null_selector_use},
    {"seg.push_sreg_sizes", c_push_sreg},
    CHECK_END,
};
