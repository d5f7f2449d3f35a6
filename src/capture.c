// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.skel.h"
#include "capture_api.h"
#include "util.h"

struct capture {
	struct capture_bpf *skel;
	struct capture_opts opts;
	struct ring_buffer *rb;
	struct ring_buffer *code_rb; /* code events: names of code objects at first sight */
	struct ring_buffer *mem_rb;  /* rampa-bpf mem: faults and releases */
	__u64 begin_ns;		     /* the run's window opened (capture__begin) */
	struct bpf_link **links;     /* one per online CPU */
	int stats_fd;		     /* BPF run-time statistics on while open; -1: off */
	int *pfds;
	int ncpus_online, *cpus;
	int nr_possible;
	struct sample_key *keys;
	__u64 *vals;
	size_t keys_cap;
	unsigned int empty_drains; /* in a row: the stack maps are cleared now and then */
	struct py_stack *pystack, *holder_pystack; /* drain buffers */
	struct user_stack *ustack;		   /* drain buffer */
	struct unwind_row *rows;		   /* unwind_rows, mapped; NULL: not */
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int read_online_cpus(int **cpus)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	size_t cap = 0;
	int n = 0, a, b;
	char sep;

	*cpus = NULL;
	if (!f)
		return -1;
	/* Format: "0-3,5,7-8\n" */
	while (fscanf(f, "%d", &a) == 1) {
		b = a;
		sep = (char)fgetc(f);
		if (sep == '-') {
			if (fscanf(f, "%d", &b) != 1)
				break;
			sep = (char)fgetc(f);
		}
		for (int i = a; i <= b; i++) {
			grow_array((void **)cpus, &cap, n + 1, sizeof(int));
			(*cpus)[n++] = i;
		}
		if (sep != ',')
			break;
	}
	fclose(f);
	return n;
}

/* Every code event written before a sample was counted is delivered before
 * the sample: samples name code by the ids these events carry.
 */
static int handle_code_event(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;

	if (size >= sizeof(struct py_code_event) && c->opts.on_code)
		c->opts.on_code(data, c->opts.ctx);
	return 0;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;

	if (size < sizeof(struct capture_event))
		return 0;
	if (c->opts.on_event)
		c->opts.on_event(data, c->opts.ctx);
	return 0;
}

static int handle_mem_event(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;

	if (size >= sizeof(struct mem_event) && c->opts.on_mem)
		c->opts.on_mem(data, c->opts.ctx);
	return 0;
}

/* Root, or CAP_BPF with CAP_PERFMON (or CAP_SYS_ADMIN on older kernels). */
static bool has_privileges(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};
	__u64 eff;

	if (geteuid() == 0)
		return true;
	if (syscall(__NR_capget, &hdr, data))
		return false;
	eff = data[0].effective | (__u64)data[1].effective << 32;
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return true;
	return (eff & (1ULL << 39 /* CAP_BPF */)) && (eff & (1ULL << 38 /* CAP_PERFMON */));
}

int capture__open(struct capture **out, const struct capture_opts *opts)
{
	struct capture *c;
	int err;

	*out = NULL;
	libbpf_set_print(libbpf_print);
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		p_err(
		    "kernel BTF is missing (/sys/kernel/btf/vmlinux): rampa-bpf needs a kernel built "
		    "with CONFIG_DEBUG_INFO_BTF=y");
		return -EOPNOTSUPP;
	}
	if (!has_privileges()) {
		p_err("not permitted to load BPF programs: run as root (sudo), or grant CAP_BPF "
		      "and CAP_PERFMON");
		return -EPERM;
	}
	c = xcalloc(1, sizeof(*c));
	c->opts = *opts;
	c->stats_fd = -1;
	c->pystack = xmalloc(sizeof(*c->pystack));
	c->holder_pystack = xmalloc(sizeof(*c->holder_pystack));
	c->ustack = xmalloc(sizeof(*c->ustack));
	c->nr_possible = libbpf_num_possible_cpus();
	c->ncpus_online = read_online_cpus(&c->cpus);
	if (c->nr_possible <= 0 || c->ncpus_online <= 0) {
		p_err("cannot read the CPU list from /sys/devices/system/cpu");
		capture__close(c);
		return -EIO;
	}
	c->skel = capture_bpf__open();
	if (!c->skel) {
		err = errno;
		p_err("cannot open the BPF object: %s", strerror(err));
		capture__close(c);
		return err == EPERM || err == EACCES ? -EIO : -err;
	}
	c->skel->rodata->filter_by_pid = !opts->system_wide;
	c->skel->rodata->follow_forks = opts->follow_forks;
	c->skel->rodata->offcpu_kinds = opts->offcpu_kinds;
	/* cpu mode: no hook on the scheduler at all. */
	bpf_program__set_autoload(c->skel->progs.on_sched_switch, opts->offcpu_kinds != 0);
	c->skel->rodata->gil_enabled = opts->gil;
	c->skel->rodata->gil_holders_only = opts->gil_holders;
	/* Always: it keeps the CPU time of exited threads (cheap, exits only). */
	bpf_program__set_autoload(c->skel->progs.on_sched_process_exit, true);
	bpf_program__set_autoload(c->skel->progs.on_sys_enter, opts->gil);
	bpf_program__set_autoload(c->skel->progs.on_sys_exit, opts->gil);
	bpf_program__set_autoload(c->skel->progs.on_cpu_sample, !opts->no_sampling);
	c->skel->rodata->mem_enabled = opts->mem;
	if (opts->mem_fault_sample)
		c->skel->rodata->mem_fault_sample = opts->mem_fault_sample;
	bpf_program__set_autoload(c->skel->progs.on_mem_fault, opts->mem);
	bpf_program__set_autoload(c->skel->progs.on_mem_sys_enter, opts->mem);
	bpf_program__set_autoload(c->skel->progs.on_mem_sys_exit, opts->mem);
	/* The verifier's statistics for the sampler (-v shows them): its
	 * verification time is part of attach.
	 */
	if (getenv("RAMPA_VERIFIER_STATS"))
		bpf_program__set_log_level(c->skel->progs.on_cpu_sample, 4);
	err = capture_bpf__load(c->skel);
	if (err) {
		/* With privileges, EACCES is the verifier refusing a program. */
		p_err("cannot load BPF programs: %s (the kernel rejected them; rerun with -v for "
		      "the verifier log, and report it with your kernel version)",
		      strerror(-err));
		capture__close(c);
		return -EINVAL; /* not EACCES: privileges were checked */
	}
	c->rows =
	    mmap(NULL, (size_t)RAMPA_UNWIND_ROWS * sizeof(struct unwind_row),
		 PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(c->skel->maps.unwind_rows), 0);
	if (c->rows == MAP_FAILED) {
		/* Without it the unwinder has no tables: frame pointers only. */
		p_warn("cannot map the unwind table array: %s; native stacks are walked by frame "
		       "pointers only",
		       strerror(errno));
		c->rows = NULL;
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), handle_event, c, NULL);
	c->code_rb =
	    ring_buffer__new(bpf_map__fd(c->skel->maps.py_code_events), handle_code_event, c, NULL);
	if (opts->mem)
		c->mem_rb = ring_buffer__new(bpf_map__fd(c->skel->maps.mem_events),
					     handle_mem_event, c, NULL);
	if (!c->rb || !c->code_rb || (opts->mem && !c->mem_rb)) {
		p_err("cannot set up the event ring buffers: %s", strerror(errno));
		capture__close(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

int capture__add_target(struct capture *c, pid_t pid, __u64 start_ticks)
{
	__u32 key = pid;

	/* The kernel compares in ticks of RAMPA_TICK_NS; another USER_HZ: unchecked. */
	if (sysconf(_SC_CLK_TCK) * RAMPA_TICK_NS != 1000000000ull)
		start_ticks = 0;
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.targets), &key, &start_ticks, BPF_ANY)) {
		p_err("cannot add PID %d to the target map: %s", (int)pid, strerror(errno));
		return -1;
	}
	return 0;
}

void capture__remove_target(struct capture *c, pid_t pid)
{
	__u32 key = pid;

	bpf_map_delete_elem(bpf_map__fd(c->skel->maps.targets), &key);
}

bool capture__has_python(struct capture *c, pid_t pid)
{
	struct py_proc proc;
	__u32 key = pid;

	return !bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.py_procs), &key, &proc);
}

int capture__set_python(struct capture *c, pid_t pid, const struct py_proc *proc)
{
	int fd = bpf_map__fd(c->skel->maps.py_procs);
	__u32 key = pid;

	if (!proc) {
		bpf_map_delete_elem(fd, &key);
		return 0;
	}
	if (bpf_map_update_elem(fd, &key, proc, BPF_ANY)) {
		p_warn("cannot walk Python in PID %d: %s (at most %d Python processes)", (int)pid,
		       strerror(errno), RAMPA_PY_PROC_MAP_ENTRIES);
		return -1;
	}
	return 0;
}

int capture__unwind_rows(struct capture *c, __u32 first, const struct unwind_row *rows, __u32 n)
{
	if (!c->rows || first > RAMPA_UNWIND_ROWS || n > RAMPA_UNWIND_ROWS - first)
		return -1;
	memcpy(c->rows + first, rows, (size_t)n * sizeof(*rows));
	return 0;
}

int capture__unwind_table(struct capture *c, __u32 id, const struct unwind_table *t)
{
	return bpf_map_update_elem(bpf_map__fd(c->skel->maps.unwind_tables), &id, t, BPF_ANY) ? -1
											      : 0;
}

int capture__unwind_proc(struct capture *c, pid_t pid, const struct unwind_proc *p)
{
	int fd = bpf_map__fd(c->skel->maps.unwind_procs);
	__u32 key = pid;

	if (!p) {
		bpf_map_delete_elem(fd, &key);
		return 0;
	}
	return bpf_map_update_elem(fd, &key, p, BPF_ANY) ? -1 : 0;
}

bool capture__can_unwind(const struct capture *c)
{
	return c && c->rows;
}

void capture__forget_code(struct capture *c, pid_t pid, __u64 addr)
{
	struct py_code_key key = { .pid = pid, .addr = addr };

	bpf_map_delete_elem(bpf_map__fd(c->skel->maps.py_codes), &key);
}

static int open_cpu_clock(int cpu, unsigned int hz)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = hz,
	};

	return syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

int capture__start(struct capture *c)
{
	/* The kernel times our programs while this fd is open (and every other
	 * BPF program: two clock reads a run); the summary says what they cost
	 * the targets. Without it (an old kernel), no figure is given.
	 */
	c->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	int err;

	if (c->opts.no_sampling)
		goto tracepoints;
	c->links = xcalloc(c->ncpus_online, sizeof(*c->links));
	c->pfds = xcalloc(c->ncpus_online, sizeof(*c->pfds));
	for (int i = 0; i < c->ncpus_online; i++)
		c->pfds[i] = -1;
	for (int i = 0; i < c->ncpus_online; i++) {
		int cpu = c->cpus[i];

		c->pfds[i] = open_cpu_clock(cpu, c->opts.hz);
		if (c->pfds[i] < 0) {
			err = errno;
			if (err == EACCES || err == EPERM)
				p_err("cannot open perf event on cpu %d: %s (run as root or grant "
				      "CAP_PERFMON, or lower kernel.perf_event_paranoid)",
				      cpu, strerror(err));
			else if (err == EINVAL && c->opts.hz > 1000)
				p_err("cannot open perf event on cpu %d at %u Hz: %s (the kernel "
				      "limits the rate: see kernel.perf_event_max_sample_rate)",
				      cpu, c->opts.hz, strerror(err));
			else
				p_err("cannot open perf event on cpu %d: %s (the kernel needs "
				      "CONFIG_PERF_EVENTS)",
				      cpu, strerror(err));
			return err == EACCES || err == EPERM ? -EPERM : -EIO;
		}
		c->links[i] =
		    bpf_program__attach_perf_event(c->skel->progs.on_cpu_sample, c->pfds[i]);
		if (!c->links[i]) {
			p_err("cannot attach the sampling program on cpu %d: %s", cpu,
			      strerror(errno));
			return -EIO;
		}
	}
tracepoints:
	err = capture_bpf__attach(c->skel);
	if (err) {
		p_err("cannot attach scheduler tracepoints: %s", strerror(-err));
		return -EIO;
	}
	return 0;
}

int capture__poll(struct capture *c, int timeout_ms)
{
	int n = ring_buffer__poll(c->rb, timeout_ms);

	/* Code events are taken here too, so the ring buffer stays empty. */
	ring_buffer__consume(c->code_rb);
	if (c->mem_rb)
		ring_buffer__consume(c->mem_rb);
	return n < 0 ? n : 0;
}

static void reserve_keys(struct capture *c, size_t need)
{
	size_t cap = c->keys_cap;

	grow_array((void **)&c->keys, &c->keys_cap, need, sizeof(*c->keys));
	if (c->keys_cap != cap || !c->vals)
		c->vals = xrealloc(c->vals, c->keys_cap * sizeof(*c->vals));
}

/* Key by key, for kernels without the batch API on hash maps. */
static size_t take_counts_slow(struct capture *c, int fd)
{
	struct sample_key next;
	size_t n = 0;

	while (!bpf_map_get_next_key(fd, n ? &c->keys[n - 1] : NULL, &next)) {
		reserve_keys(c, n + 1);
		c->keys[n++] = next;
	}
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &c->keys[i], &c->vals[i]))
			c->vals[i] = 0;
		bpf_map_delete_elem(fd, &c->keys[i]);
	}
	return n;
}

/* Read every key and value of a count map, deleting them. */
static size_t take_counts(struct capture *c, int fd)
{
	const __u32 batch = 256;
	__u64 token = 0;
	void *in = NULL;
	size_t n = 0;
	__u32 count;
	int err;

	for (;;) {
		reserve_keys(c, n + batch);
		count = batch;
		err = bpf_map_lookup_and_delete_batch(fd, in, &token, c->keys + n, c->vals + n,
						      &count, NULL);
		if (err && errno != ENOENT) {
			if (n == 0 && errno == EINVAL)
				return take_counts_slow(c, fd);
			p_warn("draining the count map: %s", strerror(errno));
			return n;
		}
		n += count;
		if (err)
			return n;
		in = &token;
	}
}

/* Stack id -> addresses (leaf first) and their number; false if the id is gone. */
static bool read_stack(int fd, __s32 id, __u64 *ips, __u32 *n)
{
	*n = 0;
	if (bpf_map_lookup_elem(fd, &id, ips))
		return false;
	while (*n < RAMPA_MAX_STACK_DEPTH && ips[*n])
		(*n)++;
	return true;
}

/* A sample from its key: CPU samples take their stacks from the drained
 * buffer's maps, off-CPU intervals from the persistent off-CPU maps.
 */
static void fill_sample(struct capture *c, const struct sample_key *k, __u64 count, int sfd,
			int pfd, struct capture_sample *s, __u64 *ustack, __u64 *kstack)
{
	if (k->kind == KIND_MEM) {
		sfd = bpf_map__fd(c->skel->maps.mem_stacks);
		pfd = bpf_map__fd(c->skel->maps.mem_py_stacks);
	} else if (k->kind != KIND_CPU) {
		sfd = bpf_map__fd(c->skel->maps.offcpu_stacks);
		pfd = bpf_map__fd(c->skel->maps.offcpu_py_stacks);
	}
	*s = (struct capture_sample){
		.pid = k->pid,
		.tid = k->tid,
		.ustack = ustack,
		.kstack = kstack,
		.count = count,
		.py_status = k->py_status,
		.kind = k->kind,
		.snap_id = k->snap_id,
	};
	if (k->user_stack_id >= 0)
		s->ustack_lost = !read_stack(sfd, k->user_stack_id, ustack, &s->nustack);
	s->unwind_status = k->unwind_status;
	if (k->user_stack) {
		int ufd = bpf_map__fd(k->kind != KIND_CPU ? c->skel->maps.offcpu_ustacks
				      : sfd == bpf_map__fd(c->skel->maps.stacks1)
					  ? c->skel->maps.ustacks1
					  : c->skel->maps.ustacks0);

		if (bpf_map_lookup_elem(ufd, &k->user_stack, c->ustack)) {
			s->ustack_lost = true;
		} else {
			s->nustack = c->ustack->n < RAMPA_MAX_STACK_DEPTH ? c->ustack->n
									  : RAMPA_MAX_STACK_DEPTH;
			memcpy(ustack, c->ustack->ips, s->nustack * sizeof(*ustack));
			s->usp = c->ustack->sps;
		}
	}
	if (k->user_stack_id < 0 && k->user_ip) {
		ustack[0] = k->user_ip;
		s->nustack = 1;
	}
	if (k->kern_stack_id >= 0)
		s->kstack_lost = !read_stack(sfd, k->kern_stack_id, kstack, &s->nkstack);
	if (k->py_stack && !bpf_map_lookup_elem(pfd, &k->py_stack, c->pystack))
		s->py = c->pystack;
	s->holder = k->holder;
	if (k->holder_py && !bpf_map_lookup_elem(pfd, &k->holder_py, c->holder_pystack))
		s->holder_py = c->holder_pystack;
}

void capture__consume_codes(struct capture *c)
{
	ring_buffer__consume(c->code_rb);
}

void capture__mem_sample(struct capture *c, const struct sample_key *key, __u64 count,
			 void (*cb)(const struct capture_sample *s, void *ctx), void *ctx)
{
	__u64 ustack[RAMPA_MAX_STACK_DEPTH], kstack[RAMPA_MAX_STACK_DEPTH];
	struct capture_sample s;

	fill_sample(c, key, count, -1, -1, &s, ustack, kstack);
	cb(&s, ctx);
}

void capture__gil_threads(struct capture *c,
			  void (*cb)(__u32 tid, const struct gil_thread *t, void *ctx), void *ctx)
{
	int fd = bpf_map__fd(c->skel->maps.gil_threads);
	struct gil_thread t;
	__u32 tid, prev;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &prev, &tid)) {
		first = false;
		prev = tid;
		if (!bpf_map_lookup_elem(fd, &tid, &t))
			cb(tid, &t, ctx);
	}
}

int capture__offcpu_seed(struct capture *c, pid_t pid, pid_t tid, __u32 kind, __u32 snap_id,
			 __u64 ts, __u64 run_ns)
{
	struct offcpu_start st = { .ts = ts, .rt = run_ns };
	__u32 key = tid;

	if (!(c->opts.offcpu_kinds & (1u << kind)))
		return 1;
	st.key.pid = pid;
	st.key.tid = tid;
	st.key.kind = kind;
	st.key.user_stack_id = -1;
	st.key.kern_stack_id = -1;
	st.key.snap_id = snap_id;
	/* A thread that switched since the start is accounted from its switch. */
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.offcpu_start), &key, &st, BPF_NOEXIST))
		return errno == EEXIST ? 1 : -1;
	return 0;
}

void capture__offcpu_pending(struct capture *c, __u64 now_ns,
			     void (*cb)(const struct capture_sample *s, void *ctx), void *ctx)
{
	int fd = bpf_map__fd(c->skel->maps.offcpu_start);
	__u64 ustack[RAMPA_MAX_STACK_DEPTH], kstack[RAMPA_MAX_STACK_DEPTH];
	struct offcpu_start st;
	__u32 tid, prev;
	bool first = true;

	if (!c->opts.offcpu_kinds)
		return;
	ring_buffer__consume(c->code_rb);
	while (!bpf_map_get_next_key(fd, first ? NULL : &prev, &tid)) {
		struct capture_sample s;

		first = false;
		prev = tid;
		if (bpf_map_lookup_elem(fd, &tid, &st) || !st.ts)
			continue;
		fill_sample(c, &st.key, now_ns > st.ts ? now_ns - st.ts : 0, -1, -1, &s, ustack,
			    kstack);
		cb(&s, ctx);
	}
}

void capture__offcpu_flush(struct capture *c, __u64 end_ns,
			   void (*cb)(const struct capture_sample *s, void *ctx), void *ctx)
{
	int fd = bpf_map__fd(c->skel->maps.offcpu_start);
	__u64 ustack[RAMPA_MAX_STACK_DEPTH], kstack[RAMPA_MAX_STACK_DEPTH];
	struct offcpu_start st;
	__u32 tid;

	if (!c->opts.offcpu_kinds)
		return;
	ring_buffer__consume(c->code_rb);
	/* Take the first key and delete it, until none is left: closed
	 * intervals (ts 0) are deleted too, and nothing stops the walk early.
	 */
	while (!bpf_map_get_next_key(fd, NULL, &tid)) {
		if (bpf_map_lookup_and_delete_elem(fd, &tid, &st)) {
			if (bpf_map_delete_elem(fd, &tid) && errno != ENOENT)
				break;
			continue;
		}
		if (st.ts && st.ts < c->begin_ns)
			st.ts = c->begin_ns;
		if (st.ts && end_ns > st.ts) {
			struct capture_sample s;

			fill_sample(c, &st.key, end_ns - st.ts, -1, -1, &s, ustack, kstack);
			cb(&s, ctx);
		}
	}
}

/* Empty a map whose keys are at most 8 bytes. */
static void clear_map(int fd)
{
	__u64 next;

	/* Deleting as we go: the first key of what is left, until nothing is. */
	while (!bpf_map_get_next_key(fd, NULL, &next))
		if (bpf_map_delete_elem(fd, &next))
			break;
}

int capture__drain(struct capture *c, void (*cb)(const struct capture_sample *s, void *ctx),
		   void *ctx)
{
	__u32 old = c->skel->bss->active_buf & 1;
	int cfd, sfd, pfd;
	size_t n;
	__u64 ustack[RAMPA_MAX_STACK_DEPTH], kstack[RAMPA_MAX_STACK_DEPTH];
	struct timespec settle = { 0, 2 * 1000 * 1000 };

	__atomic_store_n(&c->skel->bss->active_buf, old ^ 1, __ATOMIC_SEQ_CST);
	/* Let programs that read the old index before the flip finish: they run
	 * for microseconds in interrupt context.
	 */
	nanosleep(&settle, NULL);
	ring_buffer__consume(c->code_rb);
	cfd = bpf_map__fd(old ? c->skel->maps.counts1 : c->skel->maps.counts0);
	sfd = bpf_map__fd(old ? c->skel->maps.stacks1 : c->skel->maps.stacks0);
	pfd = bpf_map__fd(old ? c->skel->maps.py_stacks1 : c->skel->maps.py_stacks0);

	n = take_counts(c, cfd);
	for (size_t i = 0; i < n; i++) {
		struct capture_sample s;

		if (!c->vals[i])
			continue;
		fill_sample(c, &c->keys[i], c->vals[i], sfd, pfd, &s, ustack, kstack);
		cb(&s, ctx);
	}
	/* Also drops stacks whose count update failed, so the map never fills up.
	 * A walk over an empty map still visits every bucket: with no count
	 * (an idle machine, a drain at an exec) the stacks wait for a later drain.
	 */
	if (n || ++c->empty_drains % 16 == 0) {
		clear_map(sfd);
		clear_map(pfd);
		clear_map(bpf_map__fd(old ? c->skel->maps.ustacks1 : c->skel->maps.ustacks0));
	}
	return 0;
}

__u64 capture__exit_runtime(struct capture *c, pid_t pid)
{
	__u32 key = pid;
	__u64 v = 0;

	bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.exit_runtime), &key, &v);
	return v;
}

void capture__begin(struct capture *c, __u64 begin_ns)
{
	c->begin_ns = begin_ns;
	__atomic_store_n(&c->skel->bss->begin_ns, begin_ns, __ATOMIC_SEQ_CST);
}

void capture__end(struct capture *c, __u64 end_ns)
{
	__atomic_store_n(&c->skel->bss->end_ns, end_ns, __ATOMIC_SEQ_CST);
}

void capture__stats(struct capture *c, uint64_t out[STAT__MAX])
{
	int fd = bpf_map__fd(c->skel->maps.stats);
	__u64 *vals = xcalloc(c->nr_possible, sizeof(*vals));

	for (__u32 i = 0; i < STAT__MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int cpu = 0; cpu < c->nr_possible; cpu++)
			out[i] += vals[cpu];
	}
	free(vals);
}

void capture__prog_stats(struct capture *c, struct capture_prog_stats *out)
{
	struct bpf_program *prog;

	memset(out, 0, sizeof(*out));
	bpf_object__for_each_program(prog, c->skel->obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		out->run_ns += info.run_time_ns;
		out->runs += info.run_cnt;
		if (prog == c->skel->progs.on_cpu_sample) {
			out->sampler_ns = info.run_time_ns;
			out->sampler_runs = info.run_cnt;
		} else if (prog == c->skel->progs.on_sched_switch) {
			out->switch_ns = info.run_time_ns;
			out->switch_runs = info.run_cnt;
		}
	}
	out->measured = c->stats_fd >= 0;
}

void capture__close(struct capture *c)
{
	if (!c)
		return;
	if (c->stats_fd >= 0)
		close(c->stats_fd);
	for (int i = 0; c->links && i < c->ncpus_online; i++)
		bpf_link__destroy(c->links[i]);
	for (int i = 0; c->pfds && i < c->ncpus_online; i++)
		if (c->pfds[i] >= 0)
			close(c->pfds[i]);
	ring_buffer__free(c->rb);
	ring_buffer__free(c->code_rb);
	ring_buffer__free(c->mem_rb);
	capture_bpf__destroy(c->skel);
	free(c->links);
	free(c->pfds);
	free(c->cpus);
	free(c->keys);
	free(c->vals);
	free(c->pystack);
	free(c->holder_pystack);
	free(c->ustack);
	if (c->rows)
		munmap(c->rows, (size_t)RAMPA_UNWIND_ROWS * sizeof(struct unwind_row));
	free(c);
}
