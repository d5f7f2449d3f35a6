// SPDX-License-Identifier: GPL-2.0
/* Loader of bpf/dump.bpf.c: a task iterator limited to one process
 * (bpf_iter_link_info.task.pid), read like a file. Kept apart from
 * src/capture.c, which owns the sampling programs: the dump loads nothing
 * else and attaches to no event.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dump.skel.h"
#include "taskiter.h"
#include "util.h"

struct taskiter {
	struct dump_bpf *skel;
};

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int taskiter__open(struct taskiter **out)
{
	struct taskiter *d;
	int err;

	*out = NULL;
	libbpf_set_print(print_libbpf);
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		p_err("kernel BTF is missing (/sys/kernel/btf/vmlinux): rampa-bpf needs a kernel "
		      "built with CONFIG_DEBUG_INFO_BTF=y");
		return -EOPNOTSUPP;
	}
	if (geteuid() != 0) {
		p_err("not permitted to load BPF programs: run as root (sudo)");
		return -EPERM;
	}
	d = xcalloc(1, sizeof(*d));
	d->skel = dump_bpf__open_and_load();
	if (!d->skel) {
		err = errno;
		p_err("cannot load the task iterator (bpf/dump.bpf.c): %s (the kernel needs BPF "
		      "task iterators, Linux 5.8+, and bpf_task_pt_regs, 5.15+)",
		      strerror(err));
		free(d);
		return err == EPERM || err == EACCES ? -EPERM : -EOPNOTSUPP;
	}
	*out = d;
	return 0;
}

void taskiter__close(struct taskiter *d)
{
	if (!d)
		return;
	dump_bpf__destroy(d->skel);
	free(d);
}

struct dump_task *taskiter__read(struct taskiter *d, pid_t pid, size_t *n, int *err)
{
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info linfo = {};
	struct dump_task *tasks = NULL;
	size_t cap = 0, got = 0, have = 0;
	struct bpf_link *link;
	int fd;

	*n = 0;
	*err = 0;
	linfo.task.pid = (__u32)pid;
	opts.link_info = &linfo;
	opts.link_info_len = sizeof(linfo);
	link = bpf_program__attach_iter(d->skel->progs.dump_task, &opts);
	if (!link) {
		*err = -errno;
		p_debug("dump: cannot attach the task iterator: %s", strerror(errno));
		return NULL;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		*err = -errno;
		p_debug("dump: cannot create the task iterator: %s", strerror(errno));
		bpf_link__destroy(link);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		grow_array((void **)&tasks, &cap, got / sizeof(*tasks) + 1, sizeof(*tasks));
		have = cap * sizeof(*tasks);
		r = read(fd, (char *)tasks + got, have - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*err = -errno;
			break;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	bpf_link__destroy(link);
	*n = got / sizeof(*tasks);
	if (!*n) {
		free(tasks);
		return NULL;
	}
	return tasks;
}
