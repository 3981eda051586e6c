/* check_bt_rsp.c: the host-code check behind bt's stack-pointer loops (bt_rsp_body_ok). */
#include <check.h>
#include <string.h>

#include "bt_rsp.h"
#include "check_suites.h"

/* The compute guest's matrix loop as bt emits it, the entry's lea first (4 bytes). */
static const uint8_t matrix[] = {
    0x4b, 0x8d, 0x24, 0x38,             /* lea rsp, [r8 + r15]           */
    0x41, 0x8b, 0x0c, 0x10,             /* mov ecx, [r8 + rdx]           */
    0x83, 0xe8, 0x80,                   /* sub eax, -0x80                */
    0x83, 0xc2, 0x04,                   /* add edx, 4                    */
    0x41, 0x0f, 0xaf, 0x4c, 0x00, 0x80, /* imul ecx, [r8 + rax - 0x80]   */
    0x01, 0x4c, 0x24, 0x14,             /* add [rsp + 0x14], ecx         */
    0x8b, 0x4c, 0x24, 0x18,             /* mov ecx, [rsp + 0x18]         */
    0x39, 0xc8,                         /* cmp eax, ecx                  */
    0x0f, 0x85, 0x00, 0x00, 0x00, 0x00, /* jne (a slot, patched later)   */
};

/* The matrix body with one instruction appended; true if the check accepts it. */
static bool with(const uint8_t *insn, size_t n)
{
	uint8_t buf[sizeof(matrix) + 16];

	memcpy(buf, matrix, sizeof(matrix));
	memcpy(buf + sizeof(matrix), insn, n);
	return bt_rsp_body_ok(buf, BT_RSP_PROLOGUE_LEN, (uint32_t)(sizeof(matrix) + n));
}

START_TEST(accepts_the_matrix_loop)
{
	static const uint8_t nop[] = {0x90};

	ck_assert(bt_rsp_body_ok(matrix, BT_RSP_PROLOGUE_LEN, sizeof(matrix)));
	ck_assert(with(nop, sizeof(nop)));
}
END_TEST

START_TEST(refuses_what_breaks_rsp_equals_r8_plus_r15)
{
	static const struct {
		uint8_t b[8];
		size_t n;
	} bad[] = {
	    {{0x45, 0x8d, 0x7f, 0xfc}, 4},             /* lea r15d, [r15 - 4]: guest ESP  */
	    {{0x41, 0x83, 0xc7, 0x04}, 4},             /* add r15d, 4                     */
	    {{0x41, 0xb7, 0x01}, 3},                   /* mov r15b, 1                     */
	    {{0x49, 0x89, 0xc0}, 3},                   /* mov r8, rax: the view base      */
	    {{0x48, 0x83, 0xc4, 0x08}, 4},             /* add rsp, 8                      */
	    {{0x48, 0x89, 0xc4}, 3},                   /* mov rsp, rax                    */
	    {{0x50}, 1},                               /* push rax: a store below RSP     */
	    {{0x5c}, 1},                               /* pop rsp                         */
	    {{0xe8, 0, 0, 0, 0}, 5},                   /* call: a return address at RSP   */
	    {{0xc3}, 1},                               /* ret                             */
	    {{0x43, 0xff, 0x64, 0xe3, 0x08}, 5},       /* jmp [r11 + r12*8 + 8]: indirect */
	    {{0x41, 0xff, 0xe2}, 3},                   /* jmp r10                         */
	    {{0x0f, 0x85, 0xd0, 0xff, 0xff, 0xff}, 6}, /* jne back into the entry's lea   */
	    {{0x9c}, 1},                               /* pushfq                          */
	    {{0x0f, 0x05}, 2},                         /* syscall                         */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!with(bad[i].b, bad[i].n), "accepted bad instruction %zu", i);
	/* an undecodable tail is refused too */
	ck_assert(!bt_rsp_body_ok((const uint8_t[]){0x0f, 0x0b, 0x0f}, 0, 3));
}
END_TEST

Suite *bt_rsp_suite(void)
{
	Suite *s = suite_create("bt_rsp");
	TCase *tc = tcase_create("body");

	tcase_add_test(tc, accepts_the_matrix_loop);
	tcase_add_test(tc, refuses_what_breaks_rsp_equals_r8_plus_r15);
	suite_add_tcase(s, tc);
	return s;
}
