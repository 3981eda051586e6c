/* bt_engine.c: the binary translator's engine entry (the translator is its own issue). */
#include <errno.h>
#include <stdio.h>

#include "engine.h"
#include "log.h"

static int bt_probe(char *why, size_t len)
{
	snprintf(why, len, "bt: the binary translator is not implemented yet");
	return -ENOTSUP;
}

static void bt_info(FILE *f)
{
	fprintf(f, "bt.status           not implemented yet\n");
}

static int bt_create(struct monitor *mon, void **state)
{
	(void)mon;
	*state = NULL;
	log_err("bt: the binary translator is not implemented yet");
	return -ENOTSUP;
}

static void bt_destroy(void *state)
{
	(void)state;
}

static int bt_regs(void *state, struct vcpu_regs *r)
{
	(void)state;
	(void)r;
	return -ENOTSUP;
}

static int bt_set_regs(void *state, const struct vcpu_regs *r)
{
	(void)state;
	(void)r;
	return -ENOTSUP;
}

static int bt_run(void *state, struct exit_record *ex)
{
	(void)state;
	(void)ex;
	return -ENOTSUP;
}

static void bt_kick(void *state)
{
	(void)state;
}

const struct engine_ops bt_engine_ops = {
	.name = "bt",
	.desc = "binary translation into a translation cache (not implemented yet)",
	.probe = bt_probe,
	.info = bt_info,
	.create = bt_create,
	.destroy = bt_destroy,
	.set_regs = bt_set_regs,
	.get_regs = bt_regs,
	.run = bt_run,
	.kick = bt_kick,
	.print_stats = NULL,
};
