/* sysnum.h: minios system call numbers (int 0x80: EAX = number, EBX/ECX/EDX args, EAX result). */
#ifndef TANDEM_MINIOS_SYSNUM_H
#define TANDEM_MINIOS_SYSNUM_H

enum {
	MSYS_exit = 1, /* exit(status): never returns */
	MSYS_fork = 2, /* child pid to the parent, 0 to the child, -1 when full */
	MSYS_wait = 3, /* wait(int *status): a reaped child's pid, -1 with no children */
	MSYS_yield = 4,
	MSYS_pipe = 5,  /* pipe(int fds[2]): 0 or -1 */
	MSYS_read = 6,  /* read(fd, buf, n): bytes, 0 at end of file, -1 bad fd */
	MSYS_write = 7, /* write(fd, buf, n): fd 1 and 2 are the console */
	MSYS_close = 8,
	MSYS_sbrk = 9, /* sbrk(incr): the old break, -1 out of range */
	MSYS_getpid = 10,
	MSYS_nswitch = 11, /* context switches since boot */
	MSYS_nfree = 12,   /* free frames */
};

#endif
