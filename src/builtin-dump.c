// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf dump: every thread of a live process, now, without stopping it:
 * its names (OS and threading), its scheduler state (on a CPU, runnable, or
 * blocked and in which syscall), which thread holds the GIL, and its stack
 * innermost first: kernel frames, then native frames with the Python frames
 * in place of the interpreter's eval-loop frames that run them.
 *
 * Where each part comes from:
 * - state, context switches, user registers and kernel stack: one pass of a
 *   BPF task iterator over the process (bpf/dump.bpf.c). A task's user
 *   registers are saved at its kernel entry (bpf_task_pt_regs), so they are
 *   its registers while it is off CPU. A thread on a CPU has none to give:
 *   a per-thread cpu-clock event takes them at its next tick, with its
 *   kernel stack and a copy of the top of its user stack.
 * - native frames: libdwfl unwinds from those registers with .eh_frame,
 *   reading the stack with process_vm_readv (src/unwinder.c). No ptrace.
 * - Python frames: the thread state's frame chain read from memory
 *   (python__snapshot, the walker record uses for sleeping threads).
 * - names: src/pythreads.c; the GIL: gil.locked and gil.last_holder.
 * - syscall names: the kernel's UAPI header (asm/unistd_64.h of Debian's
 *   linux-libc-dev), turned into a table at build time.
 * A second iterator pass after the reads tells which threads ran meanwhile:
 * their stacks may be torn and are marked so, never presented as exact.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "commands.h"
#include "taskiter.h"
#include "json_writer.h"
#include "procfs.h"
#include "python.h"
#include "pythreads.h"
#include "stacks.h"
#include "symbolize.h"
#include "unwinder.h"
#include "util.h"

static const char *const syscall_names[] = {
#include "syscall_names.h"
};
#define NSYSCALLS (sizeof(syscall_names) / sizeof(syscall_names[0]))

/* task->__state bits (include/linux/sched.h); macros are not in BTF. */
#define TASK_INTERRUPTIBLE   0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_STOPPED	     0x0004
#define TASK_TRACED	     0x0008
#define TASK_DEAD	     0x0080
#define TASK_NOLOAD	     0x0400
#define PF_EXITING	     0x0004

#define FRAME_NAME_MAX 512
/* How long threads on a CPU get to reach their next tick. */
#define DUMP_SAMPLE_WAIT_MS 20

enum frame_kind { FRAME_KERNEL, FRAME_NATIVE, FRAME_PYTHON, FRAME_MARKER };
static const char *const kind_names[] = { "kernel", "native", "python", "marker" };

struct frame {
	enum frame_kind kind;
	uint64_t addr; /* kernel, native: the address; python: 0 */
	char *name;
};

struct thread {
	const struct dump_task *t;
	const struct dump_sample *sample; /* on a CPU: taken at its next tick, or NULL */
	char *os_name, *py_name;
	bool ran;	    /* it ran while it was read: its stacks may be torn */
	bool exited;	    /* gone at the second pass */
	const char *placed; /* how Python frames were placed among native ones, NULL: not */
	enum unwind_end native_end;
	bool native_read;
	struct frame *f;
	size_t n, cap;
};

struct dump_opts {
	pid_t pid;
	bool json, native, kernel;
};

/* What the dump could not read, reported with it. */
struct dump_stats {
	uint64_t threads, torn, on_cpu, exited;
	uint64_t sampled;	 /* on a CPU, stacks taken at their next tick */
	uint64_t not_sampled;	 /* on a CPU, not taken (asleep since, over the limit) */
	uint64_t python_unnamed; /* Python frames whose code object could not be named */
	uint64_t native_failed;	 /* native walks that stopped before the outermost frame */
	uint64_t kernel_failed;	 /* kernel stacks the kernel would not give */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: rampa-bpf dump [options] -p PID\n"
		   "\n"
		   "Print the stack of every thread of a running process, now, without\n"
		   "stopping it: Python, native and kernel frames, innermost first; the\n"
		   "thread's OS and Python names; whether it is on a CPU, runnable or blocked\n"
		   "(and in which syscall); and which thread holds the GIL. A thread that ran\n"
		   "while it was read is marked: its stack may be torn.\n"
		   "\n"
		   "options:\n"
		   "  -p, --pid PID            the process to dump (a thread id stands for its\n"
		   "                           process)\n"
		   "      --json               print JSON on stdout\n"
		   "      --native             show native frames (default)\n"
		   "      --no-native          leave native frames out: Python frames, the native\n"
		   "                           leaf outside the interpreter, kernel frames\n"
		   "      --kernel             show kernel frames (default)\n"
		   "      --no-kernel          leave kernel frames out\n"
		   "  -v, --verbose            print debugging details\n"
		   "  -h, --help               show this help\n"
		   "\n"
		   "Needs root (BPF task iterator). See rampa-bpf-dump(1).\n");
}

static void add_frame(struct thread *th, enum frame_kind kind, uint64_t addr, const char *name)
{
	grow_array((void **)&th->f, &th->cap, th->n + 1, sizeof(*th->f));
	th->f[th->n++] = (struct frame){ kind, addr, xstrdup(name) };
}

static const char *syscall_name(int64_t nr)
{
	if (nr >= 0 && (uint64_t)nr < NSYSCALLS && syscall_names[nr])
		return syscall_names[nr];
	return NULL;
}

/* The scheduler state in words, and blocked or not. */
static const char *state_name(const struct dump_task *t)
{
	if (t->flags & PF_EXITING || t->state & TASK_DEAD)
		return "exiting";
	if (t->state == 0)
		return t->on_cpu ? "running" : "runnable";
	if (t->state & TASK_TRACED)
		return "traced";
	if (t->state & TASK_STOPPED)
		return "stopped";
	if ((t->state & (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)) ==
	    (TASK_UNINTERRUPTIBLE | TASK_NOLOAD))
		return "idle";
	if (t->state & TASK_UNINTERRUPTIBLE)
		return "blocked-uninterruptible";
	return "blocked";
}

static bool in_syscall(const struct dump_task *t)
{
	return t->user && t->syscall >= 0 && !t->on_cpu;
}

static void kernel_frames(struct symbolizer *sym, struct thread *th)
{
	const struct dump_task *t = th->t;
	const __u64 *kstack = th->sample ? th->sample->kstack : t->kstack;
	int64_t bytes = th->sample ? th->sample->kstack_bytes : t->kstack_bytes;
	char buf[FRAME_NAME_MAX];

	if (t->on_cpu && !th->sample)
		return; /* no stack to read on a CPU; said once below */
	if (bytes < 0) {
		snprintf(buf, sizeof(buf), "[kernel stack unreadable: %s]", strerror((int)-bytes));
		add_frame(th, FRAME_MARKER, 0, buf);
		return;
	}
	for (long i = 0; i < bytes / 8 && i < RAMPA_MAX_STACK_DEPTH; i++) {
		size_t len;

		/* The symbolizer's "_[k]" suffix is for folded stacks; here
		 * every frame says its kind.
		 */
		symbolizer__kernel(sym, kstack[i], buf, sizeof(buf));
		len = strlen(buf);
		if (len > 4 && !strcmp(buf + len - 4, "_[k]"))
			buf[len - 4] = '\0';
		add_frame(th, FRAME_KERNEL, kstack[i], buf);
	}
}

static void python_frame(struct python *py, pid_t pid, const struct py_frame *f, struct thread *th,
			 struct dump_stats *st)
{
	char buf[FRAME_NAME_MAX];

	if (python__frame_name(py, pid, f, buf, sizeof(buf)) != PY_NAMED)
		st->python_unnamed++;
	add_frame(th, FRAME_PYTHON, 0, buf);
}

/* Python runs in the stack, leaf first: a run ends at a frame the
 * interpreter entered from C (PY_FRAME_ENTRY); the outermost may lack it.
 */
static unsigned int python_runs(const struct py_stack *ps)
{
	unsigned int runs = 0;

	for (uint32_t i = 0; i < ps->depth; i++)
		runs += (ps->frames[i].flags & PY_FRAME_ENTRY) != 0;
	if (ps->depth && !(ps->frames[ps->depth - 1].flags & PY_FRAME_ENTRY))
		runs++;
	return runs;
}

/* A thread's user stack as read: native frames leaf first (pc, stack pointer,
 * name) and Python frames with the ends of their runs.
 */
struct dump_ustack {
	uint64_t pcs[RAMPA_MAX_STACK_DEPTH], sps[RAMPA_MAX_STACK_DEPTH];
	bool act[RAMPA_MAX_STACK_DEPTH];
	char names[RAMPA_MAX_STACK_DEPTH][FRAME_NAME_MAX];
	unsigned int npcs;
	struct py_stack py;
	int home[RAMPA_PY_MAX_DEPTH]; /* native frame each Python frame runs in */
};

/* 3.12+: by the address of each run's entry frame (stacks__place_runs,
 * as record places them), when the whole native stack was read.
 */
static bool place_by_entry_frames(struct dump_ustack *u, bool complete)
{
	return complete && !u->py.truncated &&
	       stacks__place_runs(&u->py, u->sps, u->npcs, u->npcs, u->home);
}

/* Up to 3.11: the eval loop by name (_PyEval_EvalFrameDefault and its
 * clones), when the number of eval-loop frames and of runs agree, the rule
 * of record's splice.
 */
static bool place_by_names(struct dump_ustack *u, bool complete)
{
	unsigned int evals = 0, runs = python_runs(&u->py);
	uint32_t j = 0;

	for (unsigned int i = 0; i < u->npcs; i++)
		evals += stacks__is_eval_frame(u->names[i]);
	if (!complete || !u->py.depth || evals != runs || u->py.truncated)
		return false;
	for (unsigned int i = 0; i < u->npcs && j < u->py.depth; i++) {
		if (!stacks__is_eval_frame(u->names[i]))
			continue;
		while (j < u->py.depth) {
			bool entry = u->py.frames[j].flags & PY_FRAME_ENTRY;

			u->home[j++] = (int)i;
			if (entry)
				break;
		}
	}
	return j == u->py.depth;
}

/* Native frames leaf first, each eval-loop frame replaced by the Python run
 * it executes, when that can be told (above). Else the Python frames come
 * first, then a marker, then the native frames as they are.
 */
static void user_frames(struct symbolizer *sym, struct python *py, pid_t pid, struct dump_ustack *u,
			bool native, struct thread *th, struct dump_stats *st)
{
	bool complete = th->native_end == UNWIND_COMPLETE;
	uint32_t j = 0;

	for (unsigned int i = 0; i < u->npcs; i++)
		symbolizer__user(sym, pid, u->pcs[i], u->act[i], u->names[i], sizeof(u->names[i]));
	th->placed = NULL;
	if (native && u->py.depth) {
		if (place_by_entry_frames(u, complete))
			th->placed = "entry-frames";
		else if (place_by_names(u, complete))
			th->placed = "eval-frame-names";
	}
	if (th->placed) {
		for (unsigned int i = 0; i < u->npcs; i++) {
			if (j >= u->py.depth || u->home[j] != (int)i) {
				add_frame(th, FRAME_NATIVE, u->pcs[i], u->names[i]);
				continue;
			}
			while (j < u->py.depth && u->home[j] == (int)i)
				python_frame(py, pid, &u->py.frames[j++], th, st);
		}
		return;
	}
	/* Python frames above the native leaf when it is outside the
	 * interpreter (a C extension, libc), as record does without
	 * native frames to place them in.
	 */
	if (!native && u->py.depth && u->npcs && !python__in_interpreter(py, pid, u->pcs[0]))
		add_frame(th, FRAME_NATIVE, u->pcs[0], u->names[0]);
	for (j = 0; j < u->py.depth; j++)
		python_frame(py, pid, &u->py.frames[j], th, st);
	if (u->py.truncated) {
		char buf[80];

		snprintf(buf, sizeof(buf), "[truncated: deeper than %d Python frames]",
			 RAMPA_PY_MAX_DEPTH);
		add_frame(th, FRAME_MARKER, 0, buf);
	}
	if (native && u->npcs) {
		if (u->py.depth)
			add_frame(th, FRAME_MARKER, 0,
				  "[native stack follows: the eval-loop frames running the Python "
				  "frames above could not be told]");
		for (unsigned int i = 0; i < u->npcs; i++)
			add_frame(th, FRAME_NATIVE, u->pcs[i], u->names[i]);
	}
}

static void read_thread(struct symbolizer *sym, struct python *py, struct unwinder *uw,
			const struct dump_opts *o, struct dump_ustack *u, struct thread *th,
			struct dump_stats *st)
{
	const struct dump_task *t = th->t;

	const struct dump_sample *sm = th->sample;

	if (sm && (o->kernel || o->native))
		add_frame(th, FRAME_MARKER, 0,
			  "[on a CPU: native and kernel frames taken at its next tick]");
	if (o->kernel)
		kernel_frames(sym, th);
	if (t->on_cpu && !sm && (o->kernel || o->native))
		add_frame(th, FRAME_MARKER, 0,
			  "[native and kernel frames not read: the thread was on a CPU]");
	u->npcs = 0;
	th->native_end = UNWIND_FAILED;
	if (sm && sm->user && uw) {
		th->native_read = true;
		th->native_end = unwinder__walk(uw, (pid_t)t->tid, sm->regs, sm->stack_base,
						sm->stack, sm->stack_len, u->pcs, u->sps, u->act,
						o->native ? RAMPA_MAX_STACK_DEPTH : 1, &u->npcs);
		if (!o->native && u->npcs)
			th->native_end = UNWIND_COMPLETE;
	} else if (t->user && !t->on_cpu && uw) {
		/* The leaf at least, for the Python-then-leaf form of --no-native. */
		th->native_read = true;
		th->native_end =
		    unwinder__walk(uw, (pid_t)t->tid, t->regs, 0, NULL, 0, u->pcs, u->sps, u->act,
				   o->native ? RAMPA_MAX_STACK_DEPTH : 1, &u->npcs);
		if (!o->native && u->npcs)
			th->native_end = UNWIND_COMPLETE;
	}
	if (python__snapshot(py, t->pid, (pid_t)t->tid, &u->py))
		u->py.depth = 0;
	user_frames(sym, py, (pid_t)t->pid, u, o->native, th, st);
	if (o->native && th->native_read && th->native_end != UNWIND_COMPLETE) {
		st->native_failed += th->native_end == UNWIND_FAILED;
		add_frame(th, FRAME_MARKER, 0,
			  th->native_end == UNWIND_TRUNCATED
			      ? "[native stack truncated: deeper than 127 frames]"
			      : "[native stack ends here: no unwind information or unreadable "
				"memory past this frame]");
	}
	if (o->native && t->user && (!t->on_cpu || sm) && !uw)
		add_frame(th, FRAME_MARKER, 0, "[native frames not read: libdwfl unavailable]");
}

/* The thread holding the GIL now: 0 when nobody does, -1 when unknown. */
static pid_t gil_holder(struct python *py, const struct py_proc *pp, pid_t pid)
{
	uint64_t gil = python__gil(py, pid), holder = 0;
	int32_t locked = 0;
	struct iovec l[2] = { { &locked, 4 }, { &holder, 8 } };
	struct iovec r[2];

	if (!gil || pp->gil_locked == PY_OFF_NONE || pp->gil_last_holder == PY_OFF_NONE)
		return -1;
	r[0] = (struct iovec){ (void *)(gil + pp->gil_locked), 4 };
	r[1] = (struct iovec){ (void *)(gil + pp->gil_last_holder), 8 };
	if (process_vm_readv(pid, l, 2, r, 2, 0) != 12)
		return -1;
	if (!locked)
		return 0;
	return holder ? python__tstate_tid(py, pid, holder) : -1;
}

static const struct dump_task *find_task(const struct dump_task *v, size_t n, uint32_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].tid == tid)
			return &v[i];
	return NULL;
}

/* A name from the target on one line of text: control characters (a newline
 * in a thread name or a file name) become '?'. JSON escapes them instead.
 */
static const char *safe(const char *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s);
	text_safe(buf);
	return buf;
}

static void print_human(const struct dump_opts *o, const char *comm, const char *pydesc,
			const char *py_why, pid_t holder, struct thread *th, size_t n,
			const struct dump_stats *st)
{
	char buf[FRAME_NAME_MAX + 4 * PYTHREADS_MAX_NAME_CHARS];

	printf("Process %d: %s\n", (int)o->pid, comm);
	if (pydesc)
		printf("Python: %s\n", pydesc);
	else if (py_why[0])
		printf("Python: %s\n", py_why);
	if (pydesc) {
		if (holder > 0)
			printf("GIL: held by thread %d\n", (int)holder);
		else if (holder == 0)
			printf("GIL: not held\n");
		else
			printf("GIL: unknown\n");
	}
	for (size_t i = 0; i < n; i++) {
		const struct dump_task *t = th[i].t;
		const char *sc = in_syscall(t) ? syscall_name(t->syscall) : NULL;

		printf("\nThread %u", t->tid);
		if (th[i].os_name)
			printf(" \"%s\"", safe(th[i].os_name, buf, sizeof(buf)));
		if (th[i].py_name)
			printf(" (%s)", safe(th[i].py_name, buf, sizeof(buf)));
		printf(" %s", state_name(t));
		if (in_syscall(t)) {
			if (sc)
				printf(" [%s]", sc);
			else
				printf(" [syscall %lld]", (long long)t->syscall);
		}
		if (holder > 0 && (uint32_t)holder == t->tid)
			printf(" [GIL holder]");
		if (th[i].exited)
			printf(" (exited during the dump)");
		else if (th[i].ran)
			printf(" (ran while read: stack may be torn)");
		printf("\n");
		for (size_t k = 0; k < th[i].n; k++) {
			const struct frame *f = &th[i].f[k];

			printf("    %s%s\n", safe(f->name, buf, sizeof(buf)),
			       f->kind == FRAME_KERNEL	 ? " [kernel]"
			       : f->kind == FRAME_NATIVE ? " [native]"
							 : "");
		}
	}
	if (st->torn || st->python_unnamed || st->native_failed || st->kernel_failed)
		printf("\n%llu threads: %llu ran while read (may be torn), %llu Python frames "
		       "unnamed, %llu native walks cut short, %llu kernel stacks unreadable\n",
		       (unsigned long long)st->threads, (unsigned long long)st->torn,
		       (unsigned long long)st->python_unnamed,
		       (unsigned long long)st->native_failed,
		       (unsigned long long)st->kernel_failed);
}

static void print_json(const struct dump_opts *o, const char *comm, const char *pydesc,
		       const char *py_why, pid_t holder, struct thread *th, size_t n,
		       const struct dump_stats *st)
{
	struct jsonw *jw = jsonw__new(stdout);

	jsonw__start_object(jw);
	jsonw__s64_field(jw, "pid", o->pid);
	jsonw__string_field(jw, "comm", comm);
	jsonw__name(jw, "python");
	if (pydesc)
		jsonw__string(jw, pydesc);
	else
		jsonw__null(jw);
	if (!pydesc && py_why[0])
		jsonw__string_field(jw, "python_unsupported", py_why);
	jsonw__name(jw, "gil_holder");
	if (holder > 0)
		jsonw__s64(jw, holder);
	else
		jsonw__null(jw);
	jsonw__string_field(jw, "gil",
			    !pydesc	  ? "none"
			    : holder > 0  ? "held"
			    : holder == 0 ? "free"
					  : "unknown");
	jsonw__name(jw, "threads");
	jsonw__start_array(jw);
	for (size_t i = 0; i < n; i++) {
		const struct dump_task *t = th[i].t;
		const char *sc = in_syscall(t) ? syscall_name(t->syscall) : NULL;

		jsonw__start_object(jw);
		jsonw__u64_field(jw, "tid", t->tid);
		jsonw__name(jw, "os_name");
		th[i].os_name ? jsonw__string(jw, th[i].os_name) : jsonw__null(jw);
		jsonw__name(jw, "python_name");
		th[i].py_name ? jsonw__string(jw, th[i].py_name) : jsonw__null(jw);
		jsonw__string_field(jw, "state", state_name(t));
		jsonw__name(jw, "on_cpu");
		jsonw__bool(jw, t->on_cpu);
		jsonw__name(jw, "blocked");
		jsonw__bool(jw, t->state != 0);
		jsonw__name(jw, "syscall");
		if (in_syscall(t) && sc)
			jsonw__string(jw, sc);
		else
			jsonw__null(jw);
		jsonw__name(jw, "syscall_nr");
		if (in_syscall(t))
			jsonw__s64(jw, t->syscall);
		else
			jsonw__null(jw);
		jsonw__name(jw, "gil_holder");
		jsonw__bool(jw, holder > 0 && (uint32_t)holder == t->tid);
		jsonw__name(jw, "ran_while_read");
		jsonw__bool(jw, th[i].ran);
		jsonw__name(jw, "exited");
		jsonw__bool(jw, th[i].exited);
		jsonw__name(jw, "python_placed");
		th[i].placed ? jsonw__string(jw, th[i].placed) : jsonw__null(jw);
		jsonw__name(jw, "frames");
		jsonw__start_array(jw);
		for (size_t k = 0; k < th[i].n; k++) {
			const struct frame *f = &th[i].f[k];

			jsonw__start_object(jw);
			jsonw__string_field(jw, "kind", kind_names[f->kind]);
			jsonw__string_field(jw, "name", f->name);
			if (f->kind == FRAME_KERNEL || f->kind == FRAME_NATIVE) {
				char a[24];

				snprintf(a, sizeof(a), "0x%llx", (unsigned long long)f->addr);
				jsonw__string_field(jw, "addr", a);
			}
			jsonw__end_object(jw);
		}
		jsonw__end_array(jw);
		jsonw__end_object(jw);
	}
	jsonw__end_array(jw);
	jsonw__name(jw, "stats");
	jsonw__start_object(jw);
	jsonw__u64_field(jw, "threads", st->threads);
	jsonw__u64_field(jw, "on_cpu", st->on_cpu);
	jsonw__u64_field(jw, "on_cpu_sampled", st->sampled);
	jsonw__u64_field(jw, "on_cpu_not_sampled", st->not_sampled);
	jsonw__u64_field(jw, "ran_while_read", st->torn);
	jsonw__u64_field(jw, "exited", st->exited);
	jsonw__u64_field(jw, "python_frames_unnamed", st->python_unnamed);
	jsonw__u64_field(jw, "native_walks_cut", st->native_failed);
	jsonw__u64_field(jw, "kernel_stacks_unreadable", st->kernel_failed);
	jsonw__end_object(jw);
	jsonw__end_object(jw);
	jsonw__free(jw);
}

static int parse_args(struct dump_opts *o, int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_NATIVE, OPT_NO_NATIVE, OPT_KERNEL, OPT_NO_KERNEL };
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "native", no_argument, NULL, OPT_NATIVE },
		{ "no-native", no_argument, NULL, OPT_NO_NATIVE },
		{ "kernel", no_argument, NULL, OPT_KERNEL },
		{ "no-kernel", no_argument, NULL, OPT_NO_KERNEL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	unsigned long v;
	const char *pid_arg = NULL;
	pid_t tgid;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "p:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pid_arg = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_NATIVE:
		case OPT_NO_NATIVE:
			o->native = opt == OPT_NATIVE;
			break;
		case OPT_KERNEL:
		case OPT_NO_KERNEL:
			o->kernel = opt == OPT_KERNEL;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			if (optopt == 'p')
				p_err("dump: option -p needs a PID");
			else if (optopt)
				p_err("dump: unknown option '-%c' (see 'rampa-bpf dump --help')",
				      optopt);
			else
				p_err("dump: unknown option '%s' (see 'rampa-bpf dump --help')",
				      argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		p_err("dump: unexpected argument '%s' (the process is given with -p PID)",
		      argv[optind]);
		return EXIT_USAGE;
	}
	if (!pid_arg) {
		p_err("dump: no process given (use -p PID)");
		return EXIT_USAGE;
	}
	if (parse_ulong(pid_arg, 1, 0x3fffffff, &v)) {
		p_err("dump: '%s' is not a process id (a number from 1)", pid_arg);
		return EXIT_USAGE;
	}
	tgid = procfs__tgid((pid_t)v);
	if (!tgid) {
		p_err("dump: no process with PID %lu", v);
		return EXIT_NOTARGET;
	}
	if (procfs__zombie(tgid)) {
		p_err("dump: PID %d has exited: a zombie its parent (PID %d) has not waited for; "
		      "it has no stacks left to show",
		      (int)tgid, (int)procfs__ppid(tgid));
		return EXIT_NOTARGET;
	}
	o->pid = tgid;
	return 0;
}

int cmd_dump(int argc, char **argv)
{
	struct dump_opts o = { .native = true, .kernel = true };
	struct dump_stats st = {};
	struct taskiter *bpf = NULL;
	struct dump_task *first = NULL, *second = NULL;
	struct dump_sample *samples = NULL;
	size_t nfirst = 0, nsecond = 0;
	struct symbolizer *sym = NULL;
	struct python *py = NULL;
	struct pythreads *pt = NULL;
	struct unwinder *uw = NULL;
	struct thread *th = NULL;
	struct dump_ustack *us = NULL;
	struct py_proc pp;
	char comm[64], why[256] = "";
	const char *pydesc = NULL;
	pid_t holder = -1;
	int ret, err;

	ret = parse_args(&o, argc, argv);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	err = taskiter__open(&bpf);
	if (err)
		return err == -EPERM || err == -EOPNOTSUPP ? EXIT_NOPERM : EXIT_ERROR;
	procfs__comm(o.pid, comm, sizeof(comm));
	text_safe(comm);
	sym = symbolizer__new(NULL);
	py = python__new();
	symbolizer__refresh(sym, o.pid);
	if (python__inspect(py, sym, o.pid, &pp, why, sizeof(why)) == PYTHON_FOUND)
		pydesc = python__describe(py, o.pid);
	pt = pythreads__new(pydesc ? py : NULL);
	uw = unwinder__new(o.pid);

	first = taskiter__read(bpf, o.pid, &nfirst, &err);
	if (!first) {
		bool alive = procfs__start_time(o.pid) != 0;

		if (err)
			p_err("dump: cannot read the threads of %d with the task iterator: %s",
			      (int)o.pid, strerror(-err));
		else if (alive)
			p_err("dump: the task iterator gave no thread of %d, which runs (a process "
			      "this kernel hides from BPF?)",
			      (int)o.pid);
		else
			p_err("dump: no process with PID %d (it exited)", (int)o.pid);
		ret = err || alive ? EXIT_ERROR : EXIT_NOTARGET;
		goto cleanup;
	}
	th = xcalloc(nfirst, sizeof(*th));
	/* Threads on a CPU: their registers and stacks at their next tick. */
	if (o.native || o.kernel) {
		pid_t tids[DUMP_SAMPLE_THREADS];
		size_t where[DUMP_SAMPLE_THREADS];
		unsigned int nt = 0;

		for (size_t i = 0; i < nfirst && nt < DUMP_SAMPLE_THREADS; i++)
			if (first[i].on_cpu && first[i].user) {
				where[nt] = i;
				tids[nt++] = (pid_t)first[i].tid;
			}
		for (size_t i = 0; i < nfirst; i++)
			st.not_sampled += first[i].on_cpu && first[i].user;
		if (nt) {
			samples = xcalloc(nt, sizeof(*samples));
			taskiter__sample(bpf, tids, nt, samples, DUMP_SAMPLE_WAIT_MS);
			for (unsigned int k = 0; k < nt; k++)
				if (samples[k].done) {
					th[where[k]].sample = &samples[k];
					st.sampled++;
				}
			st.not_sampled -= st.sampled;
		}
	}
	us = xmalloc(sizeof(*us));
	for (size_t i = 0; i < nfirst; i++) {
		const char *os_name, *py_name;

		th[i].t = &first[i];
		pythreads__names(pt, o.pid, (pid_t)first[i].tid, &os_name, &py_name);
		th[i].os_name = os_name ? xstrdup(os_name) : NULL;
		th[i].py_name = py_name ? xstrdup(py_name) : NULL;
		read_thread(sym, py, uw, &o, us, &th[i], &st);
	}
	if (pydesc)
		holder = gil_holder(py, &pp, o.pid);
	second = taskiter__read(bpf, o.pid, &nsecond, &err);
	st.threads = nfirst;
	for (size_t i = 0; i < nfirst; i++) {
		const struct dump_task *a = &first[i], *b = find_task(second, nsecond, a->tid);

		th[i].exited = !b;
		th[i].ran = !b || a->on_cpu || b->on_cpu || a->switches != b->switches ||
			    a->runtime_ns != b->runtime_ns;
		st.exited += th[i].exited;
		st.torn += th[i].ran;
		st.on_cpu += a->on_cpu;
		st.kernel_failed += o.kernel && !a->on_cpu && a->kstack_bytes < 0;
	}
	if (o.json)
		print_json(&o, comm, pydesc, why, holder, th, nfirst, &st);
	else
		print_human(&o, comm, pydesc, why, holder, th, nfirst, &st);
	ret = EXIT_OK;
cleanup:
	for (size_t i = 0; th && i < nfirst; i++) {
		for (size_t k = 0; k < th[i].n; k++)
			free(th[i].f[k].name);
		free(th[i].f);
		free(th[i].os_name);
		free(th[i].py_name);
	}
	free(th);
	free(us);
	free(first);
	free(second);
	free(samples);
	unwinder__free(uw);
	pythreads__free(pt);
	python__free(py);
	symbolizer__free(sym);
	taskiter__close(bpf);
	return ret;
}
