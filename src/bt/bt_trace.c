/* bt_trace.c: --trace=tc: each new translation, guest code (Capstone) then host code;
 * TANDEM_PERF_MAP=1: a perf map of the translation cache for `perf report`. */
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bt_xlat.h"
#include "monitor.h"

static void listing(FILE *f, cs_mode mode, const uint8_t *code, size_t len, uint64_t addr,
                    const char *who)
{
	csh h;
	cs_insn *insn;
	size_t i, n;

	if (cs_open(CS_ARCH_X86, mode, &h) != CS_ERR_OK)
		return;
	n = cs_disasm(h, code, len, addr, 0, &insn);
	for (i = 0; i < n; i++)
		fprintf(f, "  %s %08" PRIx64 ":  %-8s %s\n", who, insn[i].address, insn[i].mnemonic,
		        insn[i].op_str);
	if (n)
		cs_free(insn, n);
	cs_close(&h);
}

void bt_trace_block(struct bt *bt, const struct tb *tb)
{
	uint8_t guest[4096];
	uint32_t len = tb->guest_len < sizeof(guest) ? tb->guest_len : sizeof(guest);

	fprintf(stderr,
	        "bt: block 0x%08x cpl %u: %u guest instructions (%u bytes) -> %u host bytes\n",
	        tb->eip, tb->cpl, tb->ninsn, tb->guest_len, tb->code_len);
	if (mmu_read(bt, tb->eip, guest, len, (tb->cpl & 3) == 3) == 0)
		listing(stderr, CS_MODE_32, guest, len, tb->eip, "guest");
	bt->cpu.exc.vector = -1;
	listing(stderr, CS_MODE_64, tb->code,
	        getenv("TANDEM_TRACE_STUBS") ? tb->code_len : tb->body_len,
	        (uint64_t)(uintptr_t)tb->code, "host ");
}

void bt_perf_map_block(const struct tb *tb)
{
	static FILE *map;
	static int state; /* 0: not looked at, 1: writing, -1: off */

	if (state == 0) {
		const char *env = getenv("TANDEM_PERF_MAP");
		char path[64];

		state = -1;
		if (env && *env && *env != '0') {
			snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
			map = fopen(path, "w");
			if (map) {
				setvbuf(map, NULL, _IOLBF, 0);
				state = 1;
			}
		}
	}
	if (state == 1)
		fprintf(map, "%" PRIxPTR " %x guest_%08x_len%u_cpl%u_n%u\n", (uintptr_t)tb->code,
		        tb->code_len, tb->eip, tb->guest_len, tb->cpl, tb->ninsn);
}
