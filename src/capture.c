// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.skel.h"
#include "capture_api.h"
#include "u64map.h"
#include "util.h"

struct capture {
	struct capture_bpf *skel;
	struct capture_opts opts;
	struct ring_buffer *rb;
	struct ring_buffer *code_rb; /* code events: names of code objects at first sight */
	struct ring_buffer *mem_rb;  /* rampa-bpf mem: faults and releases */
	/* capture__poll: events are delivered until this CLOCK_MONOTONIC time
	 * (ns), then the poll returns and leaves the rest queued: a flood of
	 * process events (a build's execs under -a) must not keep the caller
	 * from its deadline and its signals.
	 */
	uint64_t poll_until_ns;
	bool poll_cut;
	struct ring_buffer *ivl_rb; /* intervals for markers (opts.on_interval) */
	struct ring_buffer *st_rb;  /* sample instants (opts.sample_times) */
	struct ring_buffer *sw_rb;  /* short waits (opts.on_short_wait) */
	/* Sample instants waiting for the drain of their buffer. */
	struct pending_time {
		__u64 ts;
		__u32 gen, idx; /* idx: the drained key's index, when matched */
		struct sample_key key;
	} * pend;
	size_t npend, pend_cap;
	uint64_t times_dropped, times_unmatched;
	__u64 *times;	 /* drain buffer: instants grouped by key */
	__u32 *time_idx; /* ... and the index of each one's key */
	size_t times_cap, time_idx_cap;
	__u64 begin_ns;		 /* the run's window opened (capture__begin) */
	struct bpf_link **links; /* one per online CPU */
	int stats_fd;		 /* BPF run-time statistics on while open; -1: off */
	int *pfds;
	int ncpus_online, *cpus;
	int nr_possible;
	struct sample_key *keys;
	__u64 *vals;
	size_t keys_cap;
	unsigned int drains; /* the stack maps are cleared whole now and then */
	struct py_stack *pystack, *holder_pystack; /* drain buffers */
	struct user_stack *ustack;		   /* drain buffer */
	struct unwind_row *rows;		   /* unwind_rows, mapped; NULL: not */
	struct alloc_links {			   /* mem --precise: the allocator probes */
		pid_t pid;
		struct bpf_link *links[2 * ALLOC__MAX];
		int n;
		uint64_t sig; /* the files (device, inode) and offsets probed */
	} * alloc;
	size_t nalloc, alloc_cap;
	struct code_free_link { /* code_dealloc probes, one per Python process */
		pid_t pid;
		uint32_t epoch; /* py_proc.code_free_epoch while it is attached */
		struct bpf_link *link;
	} * cfree;
	size_t ncfree, cfree_cap;
	uint32_t cfree_epochs;		 /* the last epoch given */
	uint32_t map_entries[CMAP__MAX]; /* the sizes loaded */
};

/* mem --precise: the functions probed, by their names in glibc. */
static const struct {
	const char *name;
	size_t prog_off; /* of its entry program in the skeleton's progs */
	bool ret;	 /* a return probe too */
} alloc_progs[] = {
	[ALLOC_MALLOC] = { "malloc",
			   offsetof(struct capture_bpf, progs.on_malloc) -
			       offsetof(struct capture_bpf, progs),
			   true },
	[ALLOC_CALLOC] = { "calloc",
			   offsetof(struct capture_bpf, progs.on_calloc) -
			       offsetof(struct capture_bpf, progs),
			   true },
	[ALLOC_REALLOC] = { "realloc",
			    offsetof(struct capture_bpf, progs.on_realloc) -
				offsetof(struct capture_bpf, progs),
			    true },
	[ALLOC_FREE] = { "free",
			 offsetof(struct capture_bpf, progs.on_free) -
			     offsetof(struct capture_bpf, progs),
			 false },
	[ALLOC_POSIX_MEMALIGN] = { "posix_memalign",
				   offsetof(struct capture_bpf, progs.on_posix_memalign) -
				       offsetof(struct capture_bpf, progs),
				   true },
	[ALLOC_ALIGNED_ALLOC] = { "aligned_alloc",
				  offsetof(struct capture_bpf, progs.on_aligned_alloc) -
				      offsetof(struct capture_bpf, progs),
				  true },
	[ALLOC_MEMALIGN] = { "memalign",
			     offsetof(struct capture_bpf, progs.on_memalign) -
				 offsetof(struct capture_bpf, progs),
			     true },
	[ALLOC_PY_MALLOC] = { "PyObject_Malloc",
			      offsetof(struct capture_bpf, progs.on_malloc) -
				  offsetof(struct capture_bpf, progs),
			      true },
	[ALLOC_PY_CALLOC] = { "PyObject_Calloc",
			      offsetof(struct capture_bpf, progs.on_calloc) -
				  offsetof(struct capture_bpf, progs),
			      true },
	[ALLOC_PY_REALLOC] = { "PyObject_Realloc",
			       offsetof(struct capture_bpf, progs.on_realloc) -
				   offsetof(struct capture_bpf, progs),
			       true },
	[ALLOC_PY_FREE] = { "PyObject_Free",
			    offsetof(struct capture_bpf, progs.on_free) -
				offsetof(struct capture_bpf, progs),
			    false },
	[ALLOC_VALLOC] = { "valloc",
			   offsetof(struct capture_bpf, progs.on_valloc) -
			       offsetof(struct capture_bpf, progs),
			   true },
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

/* For the handlers of capture__poll's ring buffers: after this event, stop
 * (a negative return ends libbpf's loop; the event is consumed) once the
 * poll's time is spent, leaving the rest queued for the next poll.
 */
static int poll_budget_spent(struct capture *c)
{
	if (c->poll_until_ns && mono_ns() >= c->poll_until_ns) {
		c->poll_cut = true;
		return -EAGAIN;
	}
	return 0;
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
	return poll_budget_spent(c);
}

static int handle_mem_event(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;

	if (size >= sizeof(struct mem_event) && c->opts.on_mem)
		c->opts.on_mem(data, c->opts.ctx);
	return poll_budget_spent(c);
}

static void fill_sample(struct capture *c, const struct sample_key *k, __u64 count, int sfd,
			int pfd, struct capture_sample *s, __u64 *ustack, __u64 *kstack);

/* An interval's stacks are in the persistent off-CPU maps; the code events
 * that name its Python frames were sent before it.
 */
static int handle_interval(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const struct interval_event *e = data;
	__u64 ustack[RAMPA_MAX_STACK_DEPTH], kstack[RAMPA_MAX_STACK_DEPTH];
	struct capture_sample s;
	__u64 start;

	if (size < sizeof(*e) || !c->opts.on_interval || !c->begin_ns || e->end_ns <= c->begin_ns)
		return 0;
	start = e->start_ns < c->begin_ns ? c->begin_ns : e->start_ns;
	ring_buffer__consume(c->code_rb);
	fill_sample(c, &e->key, e->end_ns - start, -1, -1, &s, ustack, kstack);
	c->opts.on_interval(&s, start, e->end_ns, e->flags, c->opts.ctx);
	return poll_budget_spent(c);
}

static int handle_short_wait(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const struct short_wait_event *e = data;

	if (size < sizeof(*e) || !c->begin_ns || e->end_ns <= c->begin_ns)
		return 0;
	c->opts.on_short_wait(e->pid, e->tid, e->kind,
			      e->start_ns < c->begin_ns ? c->begin_ns : e->start_ns, e->end_ns,
			      e->flags, c->opts.ctx);
	return 0;
}

static int handle_sample_time(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const struct sample_time_event *e = data;

	if (size < sizeof(*e))
		return 0;
	if (c->npend >= CAPTURE_MAX_PENDING_TIMES) {
		c->times_dropped++;
		return 0;
	}
	grow_array((void **)&c->pend, &c->pend_cap, c->npend + 1, sizeof(*c->pend));
	c->pend[c->npend++] = (struct pending_time){ e->ts, e->gen, 0, e->key };
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

/* Every limited map sized from capture_maps[] (or the caller's sizes)
 * before load. 0, or -EINVAL after one error line.
 */
static int set_map_sizes(struct capture *c, const struct capture_opts *opts)
{
	const uint32_t *entries = opts->map_entries;
	struct bpf_object *obj = c->skel->obj;
	unsigned int hooks = (opts->offcpu_kinds ? CMAP_FOR_OFFCPU : 0) |
			     (opts->gil ? CMAP_FOR_GIL : 0) | (opts->mem ? CMAP_FOR_MEM : 0) |
			     (opts->on_interval ? CMAP_FOR_INTERVALS : 0) |
			     (opts->sample_times ? CMAP_FOR_SAMPLE_TIMES : 0);

	for (int i = 0; i < CMAP__MAX; i++) {
		const struct capture_map_size *row = &capture_maps[i];
		uint32_t n = capture_maps__entries(entries, i);
		bool unused = row->needs && !(row->needs & hooks) && !(entries && entries[i]);

		/* Unused without markers (the agent, top): one page, not 1 MiB. */
		if (i == CMAP_SHORT_WAIT_RING &&
		    !(c->opts.on_interval && c->opts.interval_min_ns && c->opts.on_short_wait))
			n = (uint32_t)sysconf(_SC_PAGESIZE);

		/* The BPF search over one table takes a fixed number of steps. */
		if (i == CMAP_UNWIND_ROWS && n > 1u << (RAMPA_UNWIND_ROW_STEPS - 1)) {
			p_err("map size %s=%u is over the unwinder's %u rows (raise "
			      "RAMPA_UNWIND_ROW_STEPS in include/capture.h)",
			      row->name, n, 1u << (RAMPA_UNWIND_ROW_STEPS - 1));
			return -EINVAL;
		}
		for (int k = 0; k < 4 && row->maps[k]; k++) {
			struct bpf_map *m = bpf_object__find_map_by_name(obj, row->maps[k]);
			int err;

			/* No hook of this run uses it: its smallest size. */
			if (m && unused)
				n = bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF
					? (uint32_t)sysconf(_SC_PAGESIZE)
					: 1;
			err = m ? bpf_map__set_max_entries(m, n) : -ENOENT;

			if (err) {
				p_err("cannot size BPF map %s (%s=%u): %s (capture_maps[] in "
				      "src/capture_maps.c names a map the BPF object lacks)",
				      row->maps[k], row->name, n, strerror(-err));
				return -EINVAL;
			}
		}
		c->map_entries[i] = n;
		p_debug("map size %s=%u", row->name, n);
	}
	return 0;
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
	err = set_map_sizes(c, opts);
	if (err) {
		capture__close(c);
		return err;
	}
	c->skel->rodata->filter_by_pid = !opts->system_wide;
	c->skel->rodata->follow_forks = opts->follow_forks;
	c->skel->rodata->offcpu_kinds = opts->offcpu_kinds;
	/* cpu mode: no hook on the scheduler at all. */
	bpf_program__set_autoload(c->skel->progs.on_sched_switch, opts->offcpu_kinds != 0);
	c->skel->rodata->gil_enabled = opts->gil;
	c->skel->rodata->gil_holders_only = opts->gil_holders;
	c->skel->rodata->lazy_wakeup = opts->lazy_wakeup;
	c->skel->rodata->interval_min_ns = opts->on_interval ? opts->interval_min_ns : 0;
	c->skel->rodata->slice_ns = opts->on_interval ? opts->slice_ns : 0;
	c->skel->rodata->timeline_ns = opts->timeline_ns;
	c->skel->rodata->sample_times = opts->sample_times;
	c->skel->rodata->short_waits_on =
	    opts->on_interval && opts->interval_min_ns && opts->on_short_wait;
	/* Always: it keeps the CPU time of exited threads (cheap, exits only). */
	bpf_program__set_autoload(c->skel->progs.on_sched_process_exit, true);
	bpf_program__set_autoload(c->skel->progs.on_sched_process_free, true);
	bpf_program__set_autoload(c->skel->progs.on_sys_enter, opts->gil);
	bpf_program__set_autoload(c->skel->progs.on_sys_exit, opts->gil);
	bpf_program__set_autoload(c->skel->progs.on_cpu_sample, !opts->no_sampling);
	c->skel->rodata->mem_enabled = opts->mem;
	if (opts->mem_fault_sample)
		c->skel->rodata->mem_fault_sample = opts->mem_fault_sample;
	/* --precise counts allocator blocks, not pages. */
	bpf_program__set_autoload(c->skel->progs.on_mem_fault, opts->mem && !opts->mem_precise);
	bpf_program__set_autoload(c->skel->progs.on_mem_fault_kernel,
				  opts->mem && !opts->mem_precise);
	/* The calls that give memory back; --precise follows anonymous
	 * mappings made outside the allocator (pymalloc's arenas) as blocks,
	 * resized by mremap and cut by munmap (brk and madvise: the heap's).
	 */
	{
		struct bpf_program *progs[] = {
			c->skel->progs.on_sys_enter_mmap,    c->skel->progs.on_sys_exit_mmap,
			c->skel->progs.on_sys_enter_munmap,  c->skel->progs.on_sys_exit_munmap,
			c->skel->progs.on_sys_enter_brk,     c->skel->progs.on_sys_exit_brk,
			c->skel->progs.on_sys_enter_mremap,  c->skel->progs.on_sys_exit_mremap,
			c->skel->progs.on_sys_enter_madvise, c->skel->progs.on_sys_exit_madvise,
		};

		for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
			bpf_program__set_autoload(
			    progs[i],
			    opts->mem && (i < 4 || (i >= 6 && i < 8) || !opts->mem_precise));
	}
	c->skel->rodata->mem_precise = opts->mem_precise;
	for (size_t i = 0; i < ALLOC__MAX; i++) {
		struct bpf_program *prog =
		    *(struct bpf_program **)((char *)&c->skel->progs + alloc_progs[i].prog_off);

		bpf_program__set_autoload(prog, opts->mem_precise);
		bpf_program__set_autoattach(prog, false);
	}
	bpf_program__set_autoload(c->skel->progs.on_alloc_return, opts->mem_precise);
	bpf_program__set_autoattach(c->skel->progs.on_alloc_return, false);
	if (opts->mem_precise) {
		if (opts->mem_sample_bytes)
			c->skel->rodata->mem_sample_bytes = opts->mem_sample_bytes;
	}
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
	    mmap(NULL, (size_t)c->map_entries[CMAP_UNWIND_ROWS] * sizeof(struct unwind_row),
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
	if (opts->on_interval)
		c->ivl_rb = ring_buffer__new(bpf_map__fd(c->skel->maps.intervals), handle_interval,
					     c, NULL);
	if (opts->sample_times)
		c->st_rb = ring_buffer__new(bpf_map__fd(c->skel->maps.sample_time_events),
					    handle_sample_time, c, NULL);
	if (c->skel->rodata->short_waits_on)
		c->sw_rb = ring_buffer__new(bpf_map__fd(c->skel->maps.short_waits),
					    handle_short_wait, c, NULL);
	if (!c->rb || !c->code_rb || (opts->mem && !c->mem_rb) ||
	    (opts->on_interval && !c->ivl_rb) || (opts->sample_times && !c->st_rb) ||
	    (c->skel->rodata->short_waits_on && !c->sw_rb)) {
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

static struct code_free_link *code_free_of(struct capture *c, pid_t pid)
{
	for (size_t i = 0; i < c->ncfree; i++)
		if (c->cfree[i].pid == pid)
			return &c->cfree[i];
	return NULL;
}

int capture__set_python(struct capture *c, pid_t pid, const struct py_proc *proc)
{
	int fd = bpf_map__fd(c->skel->maps.py_procs);
	struct code_free_link *l = code_free_of(c, pid);
	struct py_proc copy;
	__u32 key = pid;

	if (!proc) {
		bpf_map_delete_elem(fd, &key);
		return 0;
	}
	copy = *proc;
	copy.code_free_hooked = l != NULL;
	copy.code_free_epoch = l ? l->epoch : 0;
	if (bpf_map_update_elem(fd, &key, &copy, BPF_ANY)) {
		p_warn("cannot walk Python in PID %d: %s (at most %d Python processes)", (int)pid,
		       strerror(errno), c->map_entries[CMAP_PY_PROCS]);
		return -1;
	}
	return 0;
}

/* After the tables or a process's mappings change: the walks the scheduler
 * hook remembered are walked again, not reused.
 */
static void unwind_changed(struct capture *c)
{
	__atomic_fetch_add(&c->skel->bss->unwind_gen, 1, __ATOMIC_SEQ_CST);
}

int capture__unwind_rows(struct capture *c, __u32 first, const struct unwind_row *rows, __u32 n)
{
	uint32_t max = c->map_entries[CMAP_UNWIND_ROWS];

	if (!c->rows || first > max || n > max - first)
		return -1;
	memcpy(c->rows + first, rows, (size_t)n * sizeof(*rows));
	unwind_changed(c);
	return 0;
}

int capture__unwind_table(struct capture *c, __u32 id, const struct unwind_table *t)
{
	int err = bpf_map_update_elem(bpf_map__fd(c->skel->maps.unwind_tables), &id, t, BPF_ANY);

	unwind_changed(c);
	return err ? -1 : 0;
}

int capture__unwind_proc(struct capture *c, pid_t pid, const struct unwind_proc *p)
{
	int fd = bpf_map__fd(c->skel->maps.unwind_procs);
	__u32 key = pid;

	int err = 0;

	if (!p)
		bpf_map_delete_elem(fd, &key);
	else
		err = bpf_map_update_elem(fd, &key, p, BPF_ANY);
	unwind_changed(c);
	return err ? -1 : 0;
}

bool capture__can_unwind(const struct capture *c)
{
	return c && c->rows;
}

uint32_t capture__map_entries(const struct capture *c, enum capture_map_limit i)
{
	return c->map_entries[i];
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
	int n;

	c->poll_cut = false;
	c->poll_until_ns = mono_ns() + ((uint64_t)timeout_ms * 1000000 > CAPTURE_POLL_BUDGET_NS
					    ? (uint64_t)timeout_ms * 1000000
					    : CAPTURE_POLL_BUDGET_NS);
	n = ring_buffer__poll(c->rb, timeout_ms);
	/* Lazy events notify no one (lazy_wakeup): whatever woke the caller,
	 * those queued are read now too.
	 */
	if (c->opts.lazy_wakeup && n >= 0 && !c->poll_cut)
		n = ring_buffer__consume(c->rb);
	/* Code events are taken here too, so the ring buffer stays empty (each
	 * is a copy of names: cheap).
	 */
	c->poll_until_ns = 0;
	ring_buffer__consume(c->code_rb);
	/* Faults and intervals are resolved to stacks one by one: a budget of
	 * their own, so a flood of them (-a under a build) cannot hold the run
	 * past its deadline either; what is left waits for the next poll.
	 */
	c->poll_until_ns = mono_ns() + CAPTURE_POLL_BUDGET_NS / 2;
	if (c->mem_rb)
		ring_buffer__consume(c->mem_rb);
	c->poll_until_ns = mono_ns() + CAPTURE_POLL_BUDGET_NS / 2;
	if (c->ivl_rb)
		ring_buffer__consume(c->ivl_rb);
	c->poll_until_ns = 0;
	if (c->st_rb)
		ring_buffer__consume(c->st_rb);
	/* Short waits need no stack: a lookup each, taken whole. */
	if (c->sw_rb)
		ring_buffer__consume(c->sw_rb);
	if (c->poll_cut)
		return 1;
	return n < 0 ? n : 0;
}

int capture__poll_fd(const struct capture *c)
{
	return ring_buffer__epoll_fd(c->rb);
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
		.slice = k->slice,
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
		/* Opened before the window (threads asleep at attach): from its start. */
		if (st.ts < c->begin_ns)
			st.ts = c->begin_ns;
		fill_sample(c, &st.key, now_ns > st.ts ? now_ns - st.ts : 0, -1, -1, &s, ustack,
			    kstack);
		cb(&s, ctx);
	}
}

/* An open interval at the window's end, end_ns, to cb. */
static void flush_one(struct capture *c, struct offcpu_start *st, __u64 end_ns,
		      void (*cb)(const struct capture_sample *s, void *ctx), void *ctx,
		      __u64 *ustack, __u64 *kstack)
{
	struct capture_sample s;

	if (st->ts && st->ts < c->begin_ns)
		st->ts = c->begin_ns;
	if (st->ts && end_ns > st->ts) {
		fill_sample(c, &st->key, end_ns - st->ts, -1, -1, &s, ustack, kstack);
		cb(&s, ctx);
	}
}

/* Entries of offcpu_start taken in one call at the end. */
#define OFFCPU_FLUSH_BATCH 512

void capture__offcpu_flush(struct capture *c, __u64 end_ns,
			   void (*cb)(const struct capture_sample *s, void *ctx), void *ctx)
{
	int fd = bpf_map__fd(c->skel->maps.offcpu_start);
	__u64 ustack[RAMPA_MAX_STACK_DEPTH], kstack[RAMPA_MAX_STACK_DEPTH];
	struct offcpu_start st, *vals;
	__u32 tid, *keys, batch = 0;
	bool first = true;

	if (!c->opts.offcpu_kinds)
		return;
	ring_buffer__consume(c->code_rb);
	/* In batches first: taking the first key again after each delete
	 * scans the emptied buckets again, O(threads^2) with thousands of
	 * threads. BPF no longer writes the map after the window's end.
	 */
	keys = xmalloc(OFFCPU_FLUSH_BATCH * sizeof(*keys));
	vals = xmalloc(OFFCPU_FLUSH_BATCH * sizeof(*vals));
	for (;;) {
		__u32 n = OFFCPU_FLUSH_BATCH;
		int err = bpf_map_lookup_and_delete_batch(fd, first ? NULL : &batch, &batch, keys,
							  vals, &n, NULL);

		first = false;
		if (err && errno != ENOENT)
			n = 0; /* e.g. ENOSPC: a bucket larger than a batch; the loop below */
		for (__u32 i = 0; i < n; i++)
			flush_one(c, &vals[i], end_ns, cb, ctx, ustack, kstack);
		if (err)
			break;
	}
	free(keys);
	free(vals);
	/* What a batch could not take: the first key and delete it, until none
	 * is left: closed intervals (ts 0) are deleted too, and nothing stops
	 * the walk early.
	 */
	while (!bpf_map_get_next_key(fd, NULL, &tid)) {
		if (bpf_map_lookup_and_delete_elem(fd, &tid, &st)) {
			if (bpf_map_delete_elem(fd, &tid) && errno != ENOENT)
				break;
			continue;
		}
		flush_one(c, &st, end_ns, cb, ctx, ustack, kstack);
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

static int cmp_pending(const void *a, const void *b)
{
	const struct pending_time *x = a, *y = b;

	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* The instants of generation gen's samples matched to keys[0..n) (each
 * pending one's idx, UINT32_MAX: none), sorted by key then time, at the
 * start of c->pend; how many. Those of a later generation stay pending;
 * the rest are counted as unmatched.
 */
static size_t match_times(struct capture *c, __u32 gen, size_t n)
{
	struct u64map index = U64MAP_INIT; /* key hash -> index + 1 */
	size_t matched = 0, keep = 0;

	for (size_t i = 0; i < n; i++)
		*u64map_slot(&index, hash_bytes(&c->keys[i], sizeof(c->keys[i]), 0) >> 1, NULL) =
		    i + 1;
	for (size_t i = 0; i < c->npend; i++) {
		struct pending_time *p = &c->pend[i];
		uint64_t *v;

		p->idx = UINT32_MAX;
		if (p->gen != gen)
			continue;
		v = u64map_find(&index, hash_bytes(&p->key, sizeof(p->key), 0) >> 1);
		if (v && !memcmp(&c->keys[*v - 1], &p->key, sizeof(p->key)))
			p->idx = (__u32)(*v - 1);
		else
			c->times_unmatched++;
	}
	/* Matched first (sorted), then the later generations' kept. */
	for (size_t i = 0; i < c->npend; i++)
		if (c->pend[i].idx != UINT32_MAX) {
			struct pending_time t = c->pend[matched];

			c->pend[matched++] = c->pend[i];
			c->pend[i] = t;
		}
	if (matched)
		qsort(c->pend, matched, sizeof(*c->pend), cmp_pending);
	grow_array((void **)&c->times, &c->times_cap, matched ? matched : 1, sizeof(*c->times));
	grow_array((void **)&c->time_idx, &c->time_idx_cap, matched ? matched : 1,
		   sizeof(*c->time_idx));
	for (size_t i = 0; i < matched; i++) {
		c->times[i] = c->pend[i].ts;
		c->time_idx[i] = c->pend[i].idx;
	}
	for (size_t i = matched; i < c->npend; i++) {
		if ((__s32)(c->pend[i].gen - gen) > 0)
			c->pend[keep++] = c->pend[i];
		else if (c->pend[i].gen != gen)
			c->times_unmatched++;
	}
	c->npend = keep;
	u64map_free(&index);
	return matched;
}

void capture__sample_time_losses(const struct capture *c, uint64_t *dropped, uint64_t *unmatched)
{
	*dropped = c->times_dropped;
	*unmatched = c->times_unmatched;
}

int capture__drain(struct capture *c, void (*cb)(const struct capture_sample *s, void *ctx),
		   void *ctx)
{
	__u32 gen = c->skel->bss->active_buf, old = gen & 1;
	int cfd, sfd, pfd, ufd;
	size_t n, matched = 0, at = 0;
	__u64 ustack[RAMPA_MAX_STACK_DEPTH], kstack[RAMPA_MAX_STACK_DEPTH];
	struct timespec settle = { 0, 2 * 1000 * 1000 };

	/* A generation count whose parity is the buffer the programs fill. */
	__atomic_store_n(&c->skel->bss->active_buf, gen + 1, __ATOMIC_SEQ_CST);
	/* Let programs that read the old index before the flip finish: they run
	 * for microseconds in interrupt context.
	 */
	nanosleep(&settle, NULL);
	ring_buffer__consume(c->code_rb);
	if (c->st_rb)
		ring_buffer__consume(c->st_rb);
	cfd = bpf_map__fd(old ? c->skel->maps.counts1 : c->skel->maps.counts0);
	sfd = bpf_map__fd(old ? c->skel->maps.stacks1 : c->skel->maps.stacks0);
	pfd = bpf_map__fd(old ? c->skel->maps.py_stacks1 : c->skel->maps.py_stacks0);
	ufd = bpf_map__fd(old ? c->skel->maps.ustacks1 : c->skel->maps.ustacks0);

	n = take_counts(c, cfd);
	if (c->st_rb)
		matched = match_times(c, gen, n);
	for (size_t i = 0; i < n; i++) {
		struct capture_sample s;
		size_t from = at;

		while (at < matched && c->time_idx[at] == i)
			at++;
		if (!c->vals[i])
			continue;
		fill_sample(c, &c->keys[i], c->vals[i], sfd, pfd, &s, ustack, kstack);
		if (at > from) {
			s.times = c->times + from;
			s.ntimes = (__u32)(at - from < c->vals[i] ? at - from : c->vals[i]);
		}
		cb(&s, ctx);
	}
	/* The stacks these samples named go with them, by key: clearing a map
	 * walks it from its first bucket at each step (the agent's drains spent
	 * more there than on the samples). Every CAPTURE_CLEAR_DRAINS drains
	 * the maps are cleared whole, for stacks whose count was not kept (a
	 * full count map, a sample dropped after its stack was taken).
	 */
	if (++c->drains % CAPTURE_CLEAR_DRAINS == 0) {
		clear_map(sfd);
		clear_map(pfd);
		clear_map(ufd);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sample_key *k = &c->keys[i];

		if (k->kind != KIND_CPU)
			continue; /* in the persistent off-CPU maps */
		if (k->user_stack_id >= 0)
			bpf_map_delete_elem(sfd, &k->user_stack_id);
		if (k->kern_stack_id >= 0)
			bpf_map_delete_elem(sfd, &k->kern_stack_id);
		if (k->py_stack)
			bpf_map_delete_elem(pfd, &k->py_stack);
		if (k->user_stack)
			bpf_map_delete_elem(ufd, &k->user_stack);
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

bool capture__proc_comm(struct capture *c, pid_t pid, char *buf, size_t len)
{
	__u32 key = pid;
	char comm[16];

	if (!c || !len || bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.proc_names), &key, comm))
		return false;
	comm[sizeof(comm) - 1] = '\0';
	if (!comm[0])
		return false;
	snprintf(buf, len, "%s", comm);
	return true;
}

void capture__forget_proc_comm(struct capture *c, pid_t pid)
{
	__u32 key = pid;

	if (c)
		bpf_map_delete_elem(bpf_map__fd(c->skel->maps.proc_names), &key);
}

int capture__code_free_attach(struct capture *c, pid_t pid, const char *path, uint64_t offset)
{
	int fd = bpf_map__fd(c->skel->maps.py_procs);
	struct bpf_link *link;
	struct py_proc proc;
	__u32 key = pid;

	if (code_free_of(c, pid))
		return 0;
	link = bpf_program__attach_uprobe(c->skel->progs.on_code_dealloc, false, pid, path, offset);
	if (!link)
		return -errno;
	grow_array((void **)&c->cfree, &c->cfree_cap, c->ncfree + 1, sizeof(*c->cfree));
	/* Never 0: a new epoch for each probe, so that what threads remembered
	 * under an earlier one (another image after an exec) is not used.
	 */
	if (!++c->cfree_epochs)
		++c->cfree_epochs;
	c->cfree[c->ncfree++] = (struct code_free_link){ pid, c->cfree_epochs, link };
	/* Only now: a code object checked before the probe may have been freed
	 * unseen, so none of those is trusted.
	 */
	if (!bpf_map_lookup_elem(fd, &key, &proc)) {
		proc.code_free_hooked = 1;
		proc.code_free_epoch = c->cfree_epochs;
		bpf_map_update_elem(fd, &key, &proc, BPF_EXIST);
	}
	return 0;
}

void capture__code_free_detach(struct capture *c, pid_t pid)
{
	struct code_free_link *l = c ? code_free_of(c, pid) : NULL;
	int fd;
	struct py_proc proc;
	__u32 key = pid;

	if (!l)
		return;
	fd = bpf_map__fd(c->skel->maps.py_procs);
	if (!bpf_map_lookup_elem(fd, &key, &proc) && proc.code_free_hooked) {
		proc.code_free_hooked = 0;
		proc.code_free_epoch = 0;
		bpf_map_update_elem(fd, &key, &proc, BPF_EXIST);
	}
	bpf_link__destroy(l->link);
	*l = c->cfree[--c->ncfree];
}

void capture__begin(struct capture *c, __u64 begin_ns, __u64 origin_ns)
{
	c->begin_ns = begin_ns;
	c->skel->bss->timeline_origin_ns =
	    origin_ns && origin_ns <= begin_ns ? origin_ns : begin_ns;
	__atomic_store_n(&c->skel->bss->begin_ns, begin_ns, __ATOMIC_SEQ_CST);
}

void capture__mem_hold(struct capture *c, pid_t pid)
{
	__atomic_store_n(&c->skel->bss->mem_hold_tgid, (__u32)pid, __ATOMIC_SEQ_CST);
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
		/* What fires how often, and costs what (tools/bench/mem.sh). */
		if (info.run_cnt)
			p_debug("BPF program %s: %llu runs, %.3f s, %.0f ns a run",
				bpf_program__name(prog), (unsigned long long)info.run_cnt,
				info.run_time_ns / 1e9, (double)info.run_time_ns / info.run_cnt);
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

static struct alloc_links *alloc_links_of(struct capture *c, pid_t pid)
{
	for (size_t i = 0; i < c->nalloc; i++)
		if (c->alloc[i].pid == pid)
			return &c->alloc[i];
	return NULL;
}

void capture__alloc_detach(struct capture *c, pid_t pid)
{
	struct alloc_links *l = alloc_links_of(c, pid);

	if (!l)
		return;
	for (int i = 0; i < l->n; i++)
		bpf_link__destroy(l->links[i]);
	*l = c->alloc[--c->nalloc];
}

/* What probes in pid would be: each function's file (device, inode) and
 * offset, hashed; 0 when a file cannot be told.
 */
static uint64_t alloc_signature(const char *const paths[ALLOC__MAX],
				const uint64_t offsets[ALLOC__MAX])
{
	uint64_t h = 0x616c6c6f63;

	for (int f = 0; f < ALLOC__MAX; f++) {
		struct stat st;
		uint64_t v[4];

		if (!offsets[f])
			continue;
		if (stat(paths[f], &st))
			return 0;
		v[0] = f;
		v[1] = st.st_dev;
		v[2] = st.st_ino;
		v[3] = offsets[f];
		h = hash_bytes(v, sizeof(v), h);
	}
	return h;
}

int capture__alloc_attach(struct capture *c, pid_t pid, const char *const paths[ALLOC__MAX],
			  const uint64_t offsets[ALLOC__MAX])
{
	uint64_t sig = alloc_signature(paths, offsets);
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct alloc_links *l = alloc_links_of(c, pid);
	int err = 0;

	/* The same probes (CMD probed before its exec, which maps the same
	 * libc): kept as they are. Replaced, they would miss the calls made
	 * in between, and the returns of calls under way.
	 */
	if (l && sig && l->sig == sig)
		return 0;
	capture__alloc_detach(c, pid);
	grow_array((void **)&c->alloc, &c->alloc_cap, c->nalloc + 1, sizeof(*c->alloc));
	l = &c->alloc[c->nalloc++];
	memset(l, 0, sizeof(*l));
	l->pid = pid;
	l->sig = sig;
	/* Return probes first: a call entered between the two attaches has
	 * its return seen without its entry (ignored), never the reverse.
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (int f = 0; f < ALLOC__MAX; f++) {
			struct bpf_program *prog =
			    pass ? *(struct bpf_program **)((char *)&c->skel->progs +
							    alloc_progs[f].prog_off)
				 : c->skel->progs.on_alloc_return;
			struct bpf_link *link;

			if (!offsets[f] || (!pass && !alloc_progs[f].ret))
				continue;
			uo.retprobe = !pass;
			link =
			    bpf_program__attach_uprobe_opts(prog, pid, paths[f], offsets[f], &uo);
			if (!link) {
				err = -errno;
				p_debug("cannot attach a uprobe to %s in %s (PID %d): %s",
					alloc_progs[f].name, paths[f], (int)pid, strerror(errno));
				break;
			}
			l->links[l->n++] = link;
		}
		if (err)
			break;
	}
	if (err)
		capture__alloc_detach(c, pid);
	return err;
}

const char *capture__alloc_name(int fn)
{
	if (fn == ALLOC_MUNMAP)
		return "munmap";
	return fn >= 0 && fn < ALLOC__MAX ? alloc_progs[fn].name : NULL;
}

void capture__close(struct capture *c)
{
	if (!c)
		return;
	while (c->nalloc)
		capture__alloc_detach(c, c->alloc[0].pid);
	free(c->alloc);
	while (c->ncfree)
		capture__code_free_detach(c, c->cfree[0].pid);
	free(c->cfree);
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
	ring_buffer__free(c->ivl_rb);
	ring_buffer__free(c->sw_rb);
	ring_buffer__free(c->st_rb);
	free(c->pend);
	free(c->times);
	free(c->time_idx);
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
		munmap(c->rows,
		       (size_t)c->map_entries[CMAP_UNWIND_ROWS] * sizeof(struct unwind_row));
	free(c);
}
