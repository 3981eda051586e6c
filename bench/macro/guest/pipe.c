/*
 * pipe.c: minios pipes and descriptors. A pipe is a PIPE_SIZE-byte ring; read sleeps
 * while it is empty and a writer exists, write sleeps while it is full and a reader
 * exists. Descriptors 0..2 are the console (write only).
 */
#include "minios.h"

struct pipe {
	int used;
	uint32_t rpos, wpos; /* free-running counters */
	int readers, writers;
	uint8_t buf[PIPE_SIZE];
};

static struct pipe pipes[NPIPE];

static struct fd *fd_get(int fd)
{
	return fd >= 0 && fd < NFD && cur->fd[fd].pipe ? &cur->fd[fd] : NULL;
}

int pipe_open(uint32_t fds_va)
{
	int r = -1, w = -1;
	struct pipe *p = NULL;

	if (!user_range(fds_va, 8, 1))
		return -1;
	for (int i = 0; i < NPIPE && !p; i++)
		if (!pipes[i].used)
			p = &pipes[i];
	for (int i = 3; i < NFD; i++)
		if (!cur->fd[i].pipe) {
			if (r < 0)
				r = i;
			else if (w < 0)
				w = i;
		}
	if (!p || w < 0)
		return -1;
	memset(p, 0, sizeof(*p));
	p->used = 1;
	p->readers = p->writers = 1;
	cur->fd[r] = (struct fd){p, 0};
	cur->fd[w] = (struct fd){p, 1};
	((volatile int *)fds_va)[0] = r;
	((volatile int *)fds_va)[1] = w;
	return 0;
}

int fd_read(int fd, uint32_t buf, uint32_t n)
{
	struct fd *f = fd_get(fd);
	uint32_t k = 0;

	if (!f || f->write || !user_range(buf, n, 1))
		return -1;
	struct pipe *p = f->pipe;

	while (p->rpos == p->wpos && n) {
		if (!p->writers)
			return 0;
		sleep_on(p);
	}
	for (; k < n && p->rpos != p->wpos; k++)
		((volatile uint8_t *)buf)[k] = p->buf[p->rpos++ % PIPE_SIZE];
	wakeup(p);
	return (int)k;
}

int fd_write(int fd, uint32_t buf, uint32_t n)
{
	if (fd >= 0 && fd <= 2 && !cur->fd[fd].pipe) {
		if (!user_range(buf, n, 0))
			return -1;
		console_write((const char *)buf, n);
		return (int)n;
	}
	struct fd *f = fd_get(fd);
	uint32_t k = 0;

	if (!f || !f->write || !user_range(buf, n, 0))
		return -1;
	struct pipe *p = f->pipe;

	while (k < n) {
		while (p->wpos - p->rpos == PIPE_SIZE) {
			if (!p->readers)
				return k ? (int)k : -1;
			wakeup(p);
			sleep_on(p);
		}
		for (; k < n && p->wpos - p->rpos < PIPE_SIZE; k++)
			p->buf[p->wpos++ % PIPE_SIZE] = ((const volatile uint8_t *)buf)[k];
		wakeup(p);
	}
	return (int)k;
}

void fd_dup(struct fd *f)
{
	if (!f->pipe)
		return;
	if (f->write)
		f->pipe->writers++;
	else
		f->pipe->readers++;
}

void fd_drop(struct fd *f)
{
	struct pipe *p = f->pipe;

	if (!p)
		return;
	if (f->write)
		p->writers--;
	else
		p->readers--;
	if (!p->readers && !p->writers)
		p->used = 0;
	wakeup(p);
	f->pipe = NULL;
}

int fd_close(int fd)
{
	struct fd *f = fd_get(fd);

	if (!f)
		return -1;
	fd_drop(f);
	return 0;
}
