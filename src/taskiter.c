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
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <time.h>
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

unsigned int taskiter__sample(struct taskiter *d, const pid_t *tids, unsigned int n,
			      struct dump_sample *out, unsigned int timeout_ms)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = DUMP_SAMPLE_PERIOD_NS,
	};
	int map = bpf_map__fd(d->skel->maps.samples);
	struct bpf_link *links[DUMP_SAMPLE_THREADS] = {};
	int fds[DUMP_SAMPLE_THREADS];
	unsigned int taken = 0;
	uint64_t end;

	if (n > DUMP_SAMPLE_THREADS)
		n = DUMP_SAMPLE_THREADS;
	for (unsigned int i = 0; i < n; i++) {
		__u32 tid = (__u32)tids[i];

		memset(&out[i], 0, sizeof(out[i]));
		fds[i] = -1;
		if (bpf_map_update_elem(map, &tid, &out[i], BPF_ANY))
			continue;
		fds[i] = (int)syscall(__NR_perf_event_open, &attr, tids[i], -1, -1,
				      PERF_FLAG_FD_CLOEXEC);
		if (fds[i] < 0) {
			p_debug("dump: cannot sample thread %d: %s", (int)tids[i], strerror(errno));
			continue;
		}
		links[i] = bpf_program__attach_perf_event(d->skel->progs.dump_on_cpu, fds[i]);
		if (!links[i])
			p_debug("dump: cannot attach to thread %d: %s", (int)tids[i],
				strerror(errno));
	}
	end = mono_ns() + (uint64_t)timeout_ms * 1000000;
	for (;;) {
		struct timespec ts = { 0, 500000 };

		taken = 0;
		for (unsigned int i = 0; i < n; i++) {
			__u32 tid = (__u32)tids[i], done = 0;

			/* done is the value's first field: read it alone first. */
			if (!out[i].done && !bpf_map_lookup_elem(map, &tid, &out[i]))
				done = out[i].done;
			taken += out[i].done || done;
		}
		if (taken == n || mono_ns() >= end)
			break;
		nanosleep(&ts, NULL);
	}
	for (unsigned int i = 0; i < n; i++) {
		__u32 tid = (__u32)tids[i];

		bpf_link__destroy(links[i]);
		if (fds[i] >= 0)
			close(fds[i]);
		bpf_map_delete_elem(map, &tid);
	}
	return taken;
}
