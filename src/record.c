// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf record: sample the on-CPU stacks of processes or of a command. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "capture_api.h"
#include "commands.h"
#include "folded.h"
#include "labels.h"
#include "report.h"
#include "output.h"
#include "gilwait.h"
#include "profile.h"
#include "python.h"
#include "pythreads.h"
#include "symbolize.h"
#include "util.h"

#define DEFAULT_HZ	   99
#define MAX_HZ		   10000
#define DRAIN_INTERVAL_SEC 1.0
#define MAX_PIDS	   256
/* A process whose interpreter is not mapped yet (libpython loads after exec)
 * is looked at again this often, for this long.
 */
#define PY_RETRY_SEC	 0.02
#define PY_RETRY_FOR_SEC 3.0
/* How long CMD has to exit after SIGTERM when the profile ends first. */
#define CHILD_STOP_GRACE_SEC 2.0
/* Processes named in the summary, heaviest first. */
#define PROCESSES_LISTED 8
#define MAX_FRAMES	 (2 + RAMPA_PY_MAX_DEPTH + 2 * RAMPA_MAX_STACK_DEPTH)

/* Threads that had samples: those of live processes by tid, those of
 * processes that exited only counted.
 */
struct tid_set {
	uint32_t *slots; /* tid + 1; open addressing */
	pid_t *pids;	 /* the process of the thread in each slot */
	size_t cap, n;
	size_t gone; /* threads of exited processes, let go */
};

struct record {
	/* options */
	pid_t pids[MAX_PIDS];
	uint64_t pid_starts[MAX_PIDS]; /* start times: a PID is a process only with it */
	int npids;
	bool system_wide;
	char **cmd;
	double duration;
	unsigned int hz;
	const char *output;
	unsigned int output_flags; /* OUTPUT_IN_PLACE */
	bool as_root;		   /* -- CMD keeps root under sudo */
	const char *format_name;
	enum output_format format;
	unsigned int label_flags; /* --short-paths, --no-lines */
	bool quiet;
	enum record_mode { MODE_CPU, MODE_WALL, MODE_OFFCPU, MODE_GILWAIT, MODE_GIL } mode;
	bool per_thread;
	bool per_process; /* a "name-PID" frame under the root */
	bool no_children; /* -p: the PIDs alone, not their descendants */
	pid_t *desc;	  /* -p: descendants alive at attach, followed too */
	size_t ndesc, desc_cap;
	bool json;
	struct gilwait *gil;
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC */
	struct tstate_tid {
		pid_t pid, tid;
		uint64_t tstate;
	} * tstates;
	size_t ntstates, tstates_cap;

	/* state */
	struct capture *cap;
	struct symbolizer *sym;
	struct python *py;
	struct pythreads *pt; /* with -T and gil-wait: thread names */
	struct pending {
		pid_t pid;
		double first, next;
	} pending[64];
	int npending;
	uint64_t py_samples[PY_MAP_FULL + 1]; /* samples of Python processes by status */
	uint64_t py_spliced, py_leaf_only;
	enum py_name cur_unnamed;	   /* the sample being built has an unnamed frame */
	uint64_t py_unnamed[PY_NAME__MAX]; /* on-CPU samples with one, by cause */
	uint64_t py_unnamed_other;	   /* off-CPU and GIL-wait stacks with one */
	uint64_t py_ok_unnamed;		   /* ... of them walked whole (PY_OK) */
	uint64_t ns_by_kind[3];		   /* off-CPU nanoseconds by enum sample_kind */
	uint64_t samples_cpu;		   /* on-CPU samples */
	uint64_t snapshots, snapshot_failed, snapshot_late;
	struct snapshot {
		uint32_t *frames; /* after the process root, root first */
		uint32_t n;
	} * snaps;
	size_t nsnaps, snaps_cap;
	struct seed {
		pid_t pid, tid;
		uint32_t kind;	  /* KIND_OFFCPU_BLOCKED or _RUNNABLE */
		uint32_t snap_id; /* snaps[snap_id - 1] */
	} * seeds;
	size_t nseeds, seeds_cap;
	struct thread_name {
		pid_t pid;
		uint32_t tid, frame;
	} * tnames;
	size_t ntnames, tnames_cap;
	struct profile *prof;
	pid_t child;
	bool child_execed;
	int child_status;
	bool child_exited;
	struct rusage child_rusage;
	struct tid_set tids;
	pid_t *exited; /* processes gone since the last drain, forgotten after it */
	size_t nexited, exited_cap;
	uint64_t nprocs, nexits;
	size_t procs_gone; /* -a: processes with samples let go at exit */
	uint64_t ustack_lost, kstack_lost;
	double cpu_start, cpu_last;   /* target CPU seconds (-p mode) */
	double t_invoked, t_sampling; /* rampa-bpf started; perf events attached */
	struct output_file of;
};

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t got_sigchld;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void on_sigchld(int sig)
{
	(void)sig;
	got_sigchld = 1;
}

static void gil_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rampa-bpf gil-wait [options] [-p PID[,PID...]]\n"
	    "       rampa-bpf gil-wait [options] -- CMD [ARGS...]\n"
	    "\n"
	    "Measure, for every thread of the targets (every Python process on the\n"
	    "machine when none is given), the time spent waiting to take the GIL, and\n"
	    "where: a futex wait on the GIL's condition or mutex, seen at the syscall, so\n"
	    "stripped interpreters work. Writes the waiting Python stacks as collapsed\n"
	    "stacks weighted in microseconds, and prints a table per thread: wall time,\n"
	    "GIL wait (seconds and %% of wall), number of waits, longest wait, and the\n"
	    "threads that held the GIL meanwhile, with the Python code they ran.\n"
	    "\n"
	    "options:\n"
	    "  -p, --pid PID[,PID...]   these processes, all their threads, and the processes\n"
	    "                           they have started or start (see --no-children)\n"
	    "      --no-children        -p: the given processes only\n"
	    "  -d, --duration TIME      stop after TIME (e.g. 30, 500ms, 2m); default: until\n"
	    "                           Ctrl-C or the targets exit\n"
	    "  -o, --output FILE        the waiting stacks (default rampa-gil-PID.folded); the\n"
	    "                           format follows the extension, as for record\n"
	    "      --format FORMAT      folded, svg, speedscope, pprof or pstats\n"
	    "      --json               print the table as JSON on stdout\n"
	    "      --output-in-place    write through a symlink, FIFO or device at FILE\n"
	    "      --as-root            under sudo, run CMD as root (default: the sudo user)\n" LABEL_HELP
	    "  -q, --quiet              print only errors and the table\n"
	    "  -v, --verbose            print debugging details\n"
	    "  -h, --help               show this help\n"
	    "\n"
	    "Free-threaded builds have no GIL and are reported as such. See\n"
	    "rampa-bpf-gil-wait(1).\n");
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rampa-bpf record [options] -p PID[,PID...]\n"
	    "       rampa-bpf record [options] -a\n"
	    "       rampa-bpf record [options] -- CMD [ARGS...]\n"
	    "\n"
	    "Profile every thread of the targets (Python, native and kernel frames) until\n"
	    "the duration ends, the targets exit, or Ctrl-C; then write collapsed stacks\n"
	    "(one 'root;...;leaf COUNT' line per distinct stack).\n"
	    "\n"
	    "options:\n"
	    "  -p, --pid PID[,PID...]   profile these running processes, all their threads,\n"
	    "                           and their descendants: alive now or forked later\n"
	    "      --no-children        with -p: the given processes only\n"
	    "      --per-process        put 'NAME-PID' under the root frame: a tree per process\n"
	    "  -a, --all                profile every process on the machine\n"
	    "  -d, --duration TIME      stop after TIME (e.g. 30, 30s, 500ms, 2m), a deadline:\n"
	    "                           a CMD still running then is stopped (SIGTERM);\n"
	    "                           default: until Ctrl-C or the targets exit\n"
	    "  -m, --mode MODE          cpu: on-CPU samples, counts are samples (default)\n"
	    "                           wall: on-CPU and off-CPU time, counts are microseconds\n"
	    "                           offcpu: time blocked off-CPU only, in microseconds\n"
	    "                           gil: on-CPU samples of threads holding the GIL\n"
	    "  -F, --frequency HZ       samples per second per CPU (1-%d, default %d)\n"
	    "  -T, --per-thread         put 'NAME-TID' under the process root frame: the\n"
	    "                           thread's latest name (threading's, else the OS's)\n"
	    "  -o, --output FILE        where to write the profile (default rampa-PID.folded)\n"
	    "      --format FORMAT      folded, svg, speedscope, pprof or pstats (default: from\n"
	    "                           the extension of FILE: .folded .svg .speedscope.json\n"
	    "                           .pb.gz .pstats)\n"
	    "      --output-in-place    write through a symlink, FIFO or device at FILE\n"
	    "                           (refused by default)\n"
	    "      --as-root            under sudo, run CMD as root (default: as the user\n"
	    "                           who ran sudo)\n" LABEL_HELP
	    "  -q, --quiet              print only errors\n"
	    "  -v, --verbose            print debugging details (libbpf, symbol loading)\n"
	    "  -h, --help               show this help\n"
	    "\n"
	    "With -- CMD, CMD starts under the profiler (and its children are followed);\n"
	    "rampa-bpf then exits with CMD's exit status. Needs root, or CAP_BPF and\n"
	    "CAP_PERFMON. See rampa-bpf-record(1).\n",
	    MAX_HZ, DEFAULT_HZ);
}

static void tid_set_rehash(struct tid_set *s, size_t cap, bool (*drop)(pid_t pid, void *ctx),
			   void *ctx);

static bool tid_set_add(struct tid_set *s, pid_t pid, uint32_t tid)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap)
		tid_set_rehash(s, s->cap ? s->cap * 2 : 256, NULL, NULL);
	for (i = (tid * 2654435761u) & (s->cap - 1); s->slots[i]; i = (i + 1) & (s->cap - 1))
		if (s->slots[i] == tid + 1)
			return false;
	s->slots[i] = tid + 1;
	s->pids[i] = pid;
	s->n++;
	return true;
}

/* The set in cap slots, without the threads of processes drop says exited. */
static void tid_set_rehash(struct tid_set *s, size_t cap, bool (*drop)(pid_t pid, void *ctx),
			   void *ctx)
{
	struct tid_set t = { .cap = cap, .gone = s->gone };

	t.slots = xcalloc(cap, sizeof(*t.slots));
	t.pids = xcalloc(cap, sizeof(*t.pids));
	for (size_t j = 0; j < s->cap; j++) {
		if (!s->slots[j])
			continue;
		if (drop && drop(s->pids[j], ctx))
			t.gone++;
		else
			tid_set_add(&t, s->pids[j], s->slots[j] - 1);
	}
	free(s->slots);
	free(s->pids);
	*s = t;
}

/* utime + stime of a whole process in seconds, or -1. */
static double proc_cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_text_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	/* The command name may hold spaces and parentheses: skip past the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
			 &stime) != 2)
		return -1;
	return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

static double targets_cpu_seconds(const struct record *r)
{
	double sum = 0;
	int alive = 0;

	for (int i = 0; i < r->npids; i++) {
		double s = proc_cpu_seconds(r->pids[i]);

		if (s >= 0) {
			sum += s;
			alive++;
		}
	}
	return alive ? sum : -1;
}

/* The state letter of a /proc .../stat file (0 if unreadable). The name
 * may hold anything, ')' and newlines included: the state follows the last
 * ')'.
 */
static char stat_state(const char *path)
{
	char buf[1024], *p;

	if (read_text_file(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')) || !p[1])
		return 0;
	return p[2];
}

static bool stat_running(const char *path)
{
	char state = stat_state(path);

	return state && state != 'Z' && state != 'X';
}

/* A process's start time (clock ticks after boot, /proc/PID/stat field 22):
 * with its PID, what identifies it; 0 when it is gone.
 */
static uint64_t proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_text_file(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return 0;
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		   "%*d %*d %llu",
		   &start) != 1)
		return 0;
	return start + 1; /* never 0 for a live process */
}

/* A process lives while any of its threads does: its main thread may have
 * exited (a zombie leader) while the others run on. A new process that took
 * the PID is not it (start differs).
 */
static bool proc_alive(pid_t pid, uint64_t start)
{
	char path[320];
	struct dirent *de;
	bool alive = false;
	DIR *dir;

	if (start && proc_start_time(pid) != start)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (stat_running(path))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	while (dir && !alive && (de = readdir(dir))) {
		if (atoi(de->d_name) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, de->d_name);
		alive = stat_running(path);
	}
	if (dir)
		closedir(dir);
	return alive;
}

/* Accept a thread id for its process; 0 when there is no such process. */
static pid_t tgid_of(pid_t pid)
{
	char path[64], line[256];
	pid_t tgid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

static int parse_pids(struct record *r, const char *arg)
{
	char *copy = xstrdup(arg), *save = NULL, *tok;
	unsigned long v;
	int ret = 0;

	/* The whole list's syntax first: a typo is a usage error, whatever exists. */
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_ulong(tok, 1, 0x3fffffff, &v)) {
			p_err("invalid PID '%s' in '-p %s' (give process ids like -p 1234,5678)",
			      tok, arg);
			free(copy);
			return EXIT_USAGE;
		}
	}
	free(copy);
	copy = xstrdup(arg);
	save = NULL;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		pid_t tgid;
		bool dup = false;

		parse_ulong(tok, 1, 0x3fffffff, &v);
		tgid = tgid_of((pid_t)v);
		if (!tgid) {
			p_err("no process with PID %lu (check it with 'ps -p %lu'; it may have "
			      "exited)",
			      v, v);
			ret = EXIT_NOTARGET;
			break;
		}
		if (tgid != (pid_t)v)
			p_info("PID %lu is a thread of process %d: profiling the whole process", v,
			       (int)tgid);
		for (int i = 0; i < r->npids; i++)
			dup |= r->pids[i] == tgid;
		if (dup)
			continue;
		if (r->npids == MAX_PIDS) {
			p_err("too many PIDs (at most %d; use -a to profile every process)",
			      MAX_PIDS);
			ret = EXIT_USAGE;
			break;
		}
		r->pid_starts[r->npids] = proc_start_time(tgid);
		r->pids[r->npids++] = tgid;
	}
	free(copy);
	return ret;
}

static int parse_args(struct record *r, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, 'd' },
		{ "frequency", required_argument, NULL, 'F' },
		{ "mode", required_argument, NULL, 'm' },
		{ "per-thread", no_argument, NULL, 'T' },
		{ "per-process", no_argument, NULL, 'P' },
		{ "no-children", no_argument, NULL, 'C' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "output-in-place", no_argument, NULL, 'I' },
		{ "as-root", no_argument, NULL, 'R' },
		{ "short-paths", no_argument, NULL, OPT_SHORT_PATHS },
		{ "no-lines", no_argument, NULL, OPT_NO_LINES },
		{},
	};
	bool gil = r->mode == MODE_GILWAIT;
	const char *cmd = gil ? "gil-wait" : "record";
	unsigned long v;
	int opt, err;

	r->hz = DEFAULT_HZ;
	optind = 1;
	opterr = 0;
	/* '+': stop at the first non-option so CMD keeps its own options. */
	while ((opt = getopt_long(argc, argv, "+p:ad:F:o:m:Tqvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			err = parse_pids(r, optarg);
			if (err)
				return err;
			break;
		case 'a':
			r->system_wide = true;
			break;
		case OPT_SHORT_PATHS:
			r->label_flags |= LABEL_SHORT_PATHS;
			break;
		case OPT_NO_LINES:
			r->label_flags |= LABEL_NO_LINES;
			break;
		case 'm':
			if (gil) {
				p_err(
				    "gil-wait has no --mode: it measures GIL waits (for samples, use "
				    "'rampa-bpf record --mode ...')");
				return EXIT_USAGE;
			}
			if (!strcmp(optarg, "cpu")) {
				r->mode = MODE_CPU;
			} else if (!strcmp(optarg, "wall")) {
				r->mode = MODE_WALL;
			} else if (!strcmp(optarg, "offcpu") || !strcmp(optarg, "off-cpu")) {
				r->mode = MODE_OFFCPU;
			} else if (!strcmp(optarg, "gil")) {
				r->mode = MODE_GIL;
			} else {
				p_err("unknown mode '%s' (use cpu, wall, offcpu or gil)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'P':
			r->per_process = true;
			break;
		case 'C':
			r->no_children = true;
			break;
		case 'T':
			r->per_thread = true;
			break;
		case 'd':
			if (parse_duration(optarg, &r->duration)) {
				p_err("invalid duration '%s' (use seconds like 30, or 500ms, 2m)",
				      optarg);
				return EXIT_USAGE;
			}
			break;
		case 'F':
			if (parse_ulong(optarg, 1, MAX_HZ, &v)) {
				p_err(
				    "invalid frequency '%s' (give samples per second from 1 to %d)",
				    optarg, MAX_HZ);
				return EXIT_USAGE;
			}
			r->hz = v;
			break;
		case 'o':
			if (!*optarg) {
				p_err("empty output path given to -o");
				return EXIT_USAGE;
			}
			r->output = optarg;
			break;
		case 'f':
			if (output__format_for(optarg, NULL) == OUTPUT_INVALID) {
				p_err("unknown format '%s' (supported: %s)", optarg,
				      output__format_list);
				return EXIT_USAGE;
			}
			r->format_name = optarg;
			break;
		case 'q':
			r->quiet = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'I':
			r->output_flags |= OUTPUT_IN_PLACE;
			break;
		case 'R':
			r->as_root = true;
			break;
		case 'j':
			if (!gil) {
				p_err("--json is an option of gil-wait");
				return EXIT_USAGE;
			}
			r->json = true;
			break;
		case 'h':
			if (gil)
				gil_usage(stdout);
			else
				usage(stdout);
			return -1;
		default:
			if (optopt && strchr("pdFofm", optopt))
				p_err("option -%c needs a value (see 'rampa-bpf %s --help')",
				      optopt, cmd);
			else if (optopt)
				p_err("unknown option -%c (see 'rampa-bpf %s --help')", optopt,
				      cmd);
			else
				p_err(
				    "unknown or incomplete option '%s' (see 'rampa-bpf %s --help')",
				    argv[optind - 1], cmd);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		r->cmd = argv + optind;
	/* gil-wait with no target: every Python process on the machine. */
	if (gil && !r->npids && !r->cmd)
		r->system_wide = true;
	if ((r->npids > 0) + r->system_wide + (r->cmd != NULL) != 1) {
		if (!r->npids && !r->system_wide && !r->cmd)
			p_err(
			    "nothing to profile: give -p PID, -a, or -- CMD (see 'rampa-bpf record "
			    "--help')");
		else
			p_err("give only one of -p PID, -a and -- CMD");
		return EXIT_USAGE;
	}
	return 0;
}

/* Open the output now (a temporary file beside it, renamed into place when
 * complete), so an unwritable path fails before any profiling and a crash
 * never leaves a partial profile behind.
 */
static int open_output(struct record *r)
{
	return output__open(&r->of, r->output, r->output_flags) ? EXIT_OUTPUT : 0;
}

static void discard_output(struct record *r)
{
	if (r->of.f)
		output__commit(&r->of, 0);
}

static int finish_output(struct record *r)
{
	int ok = !output__write(r->of.f, r->prof, r->format);

	if (!ok)
		p_err("cannot write output '%s': %s", r->output, strerror(errno));
	if (output__commit(&r->of, ok) || !ok)
		return EXIT_OUTPUT;
	return 0;
}

/* A thread's CPU time so far in ns (/proc/PID/task/TID/schedstat), or -1. */
static int64_t thread_run_ns(pid_t pid, pid_t tid)
{
	char path[96], buf[128];
	long long ns;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	if (read_text_file(path, buf, sizeof(buf)) <= 0 || sscanf(buf, "%lld", &ns) != 1)
		return -1;
	return ns;
}

/* A thread's state letter from /proc/PID/task/TID/stat (0 if unreadable). */
static char thread_state(pid_t pid, pid_t tid)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	return stat_state(path);
}

static void process_name(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_text_file(path, buf, len) <= 0)
		snprintf(buf, len, "pid %d", (int)pid);
}

/* Per-process root frame names, read at first sight and after exec. */
struct proc_name {
	pid_t pid;
	uint32_t frame;
	uint32_t pid_frame; /* "name-PID", 0: not made yet */
	char name[64];
	uint64_t samples; /* on-CPU samples */
	uint64_t weight;  /* in the output's unit */
	/* CPU time of its threads when the run started (0 for a process
	 * created during it); unknown for one first seen mid-run.
	 */
	int64_t base_ns;
	bool base_known;
	int64_t end_ns_used; /* CPU time used when the window closed, -1: not read */
	struct proc_name *next;
};

static struct proc_name *proc_names[256];

static struct proc_name *proc_entry(struct record *r, pid_t pid, bool refresh)
{
	struct proc_name **pp = &proc_names[(unsigned int)pid % 256], *p;

	for (p = *pp; p; p = p->next)
		if (p->pid == pid && !refresh)
			return p;
		else if (p->pid == pid)
			break;
	if (!p) {
		p = xcalloc(1, sizeof(*p));
		p->pid = pid;
		p->next = *pp;
		*pp = p;
	}
	process_name(pid, p->name, sizeof(p->name));
	p->frame = profile__intern(r->prof, p->name);
	p->pid_frame = 0;
	return p;
}

static uint32_t proc_frame(struct record *r, pid_t pid, bool refresh)
{
	return proc_entry(r, pid, refresh)->frame;
}

/* CPU time of pid's live threads now (sum of their schedstat run time, ns);
 * -1 when the process is gone. Exited threads not yet reaped (a zombie
 * leader, an orphan's) are left out: BPF kept their time at exit.
 */
static int64_t process_run_ns(pid_t pid)
{
	char path[64];
	struct dirent *de;
	int64_t sum = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		pid_t tid = atoi(de->d_name);
		char state = tid > 0 ? thread_state(pid, tid) : 0;
		int64_t ns = state && state != 'Z' && state != 'X' ? thread_run_ns(pid, tid) : -1;

		if (ns > 0)
			sum += ns;
	}
	closedir(dir);
	return sum;
}

/* pid's CPU time is counted from now (known_zero: it was created during the
 * run and has used none before it).
 */
static void proc_base(struct record *r, pid_t pid, bool known_zero)
{
	struct proc_name *p = proc_entry(r, pid, false);
	int64_t ns = known_zero ? 0 : process_run_ns(pid);

	p->base_ns = ns < 0 ? 0 : ns;
	p->base_known = ns >= 0;
	p->end_ns_used = -1;
}

/* CPU seconds the sampled processes used during the run: live threads now,
 * exited ones at exit (kept by BPF), less what they had used before. -1
 * when a sampled process has no known start (first seen mid-run, not a
 * child of a target), *unknown gets how many.
 */
static int64_t process_used_ns(struct record *r, struct proc_name *p)
{
	int64_t live = process_run_ns(p->pid);

	return (live > 0 ? live : 0) + (int64_t)capture__exit_runtime(r->cap, p->pid);
}

/* The window closes: what every known process has used so far. */
static void processes_at_end(struct record *r)
{
	for (int i = 0; i < 256; i++)
		for (struct proc_name *p = proc_names[i]; p; p = p->next)
			p->end_ns_used = p->base_known ? process_used_ns(r, p) : -1;
}

static double sampled_cpu_seconds(struct record *r, int *unknown)
{
	int64_t sum = 0;

	*unknown = 0;
	for (int i = 0; i < 256; i++) {
		for (struct proc_name *p = proc_names[i]; p; p = p->next) {
			if (!p->samples)
				continue;
			if (!p->base_known) {
				(*unknown)++;
				continue;
			}
			sum += (p->end_ns_used >= 0 ? p->end_ns_used : process_used_ns(r, p)) -
			       p->base_ns;
		}
	}
	return *unknown ? -1 : sum / 1e9;
}

static void inspect_python(struct record *r, pid_t pid, bool retry);

/* The descendants of roots alive now, from every /proc/PID/stat's parent;
 * a malloc'd array in *out, its length returned.
 */
static size_t find_descendants(const pid_t *roots, int nroots, pid_t **out)
{
	struct pp {
		pid_t pid, ppid;
		bool in;
	} *v = NULL;
	size_t n = 0, cap = 0, nout = 0, out_cap = 0;
	struct dirent *de;
	DIR *dir = opendir("/proc");
	bool grew = true;

	*out = NULL;
	while (dir && (de = readdir(dir))) {
		char path[64], buf[1024], *p;
		pid_t pid = atoi(de->d_name), ppid;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		/* The name may hold ')': the fields follow the last one. */
		if (pid <= 0 || read_text_file(path, buf, sizeof(buf)) <= 0 ||
		    !(p = strrchr(buf, ')')) || sscanf(p + 1, " %*c %d", &ppid) != 1)
			continue;
		grow_array((void **)&v, &cap, n + 1, sizeof(*v));
		v[n++] = (struct pp){ pid, ppid, false };
	}
	if (dir)
		closedir(dir);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < nroots; j++)
			v[i].in |= v[i].pid == roots[j];
	while (grew) {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < n && !v[i].in; j++)
				if (v[j].in && v[j].pid == v[i].ppid) {
					v[i].in = grew = true;
					grow_array((void **)out, &out_cap, nout + 1, sizeof(**out));
					(*out)[nout++] = v[i].pid;
				}
		}
	}
	free(v);
	return nout;
}

/* -p covers the process tree: the descendants alive now join the targets
 * (those forked later are followed by BPF).
 */
static void add_descendants(struct record *r)
{
	pid_t *d;
	size_t n = find_descendants(r->pids, r->npids, &d);

	for (size_t i = 0; i < n; i++) {
		uint64_t st = proc_start_time(d[i]);

		if (!st || capture__add_target(r->cap, d[i], st - 1))
			continue;
		grow_array((void **)&r->desc, &r->desc_cap, r->ndesc + 1, sizeof(*r->desc));
		r->desc[r->ndesc++] = d[i];
		symbolizer__refresh(r->sym, d[i]);
		inspect_python(r, d[i], false);
		p_debug("following descendant %d of the targets", (int)d[i]);
	}
	free(d);
}

/* With --per-process: "name-PID" under the root, one tree per process. */
static uint32_t proc_pid_frame(struct record *r, pid_t pid)
{
	struct proc_name *p = proc_entry(r, pid, false);
	char label[96];

	if (!p->pid_frame) {
		snprintf(label, sizeof(label), "%s-%d", p->name, (int)pid);
		p->pid_frame = profile__intern(r->prof, label);
	}
	return p->pid_frame;
}

static size_t processes_with_samples(void)
{
	size_t n = 0;

	for (int i = 0; i < 256; i++)
		for (struct proc_name *p = proc_names[i]; p; p = p->next)
			n += p->weight != 0;
	return n;
}

static int cmp_proc_samples(const void *a, const void *b)
{
	const struct proc_name *x = *(struct proc_name *const *)a,
			       *y = *(struct proc_name *const *)b;

	return x->weight < y->weight ? 1 : x->weight > y->weight ? -1 : x->pid - y->pid;
}

/* The processes that have samples, heaviest first: name, PID, weight. */
static void print_processes(struct record *r, const char *unit)
{
	struct proc_name **v = NULL;
	size_t n = 0, cap = 0;

	for (int i = 0; i < 256; i++)
		for (struct proc_name *p = proc_names[i]; p; p = p->next)
			if (p->weight) {
				grow_array((void **)&v, &cap, n + 1, sizeof(*v));
				v[n++] = p;
			}
	/* -a lets exited processes go: they are counted, not listed. */
	if (n + r->procs_gone > 1) {
		size_t shown = n < PROCESSES_LISTED ? n : PROCESSES_LISTED;

		qsort(v, n, sizeof(*v), cmp_proc_samples);
		fprintf(stderr, "  processes     %zu with samples (%s):", n + r->procs_gone, unit);
		for (size_t i = 0; i < shown; i++)
			fprintf(stderr, "%s %s (PID %d) %" PRIu64, i ? "," : "", v[i]->name,
				(int)v[i]->pid, v[i]->weight);
		if (n + r->procs_gone > shown)
			fprintf(stderr, ", %zu more%s", n + r->procs_gone - shown,
				r->procs_gone ? " (exited ones not listed)" : "");
		fputc('\n', stderr);
	}
	free(v);
}

/* True when the process let go had samples. */
static bool forget_proc_name(pid_t pid)
{
	struct proc_name **pp = &proc_names[(unsigned int)pid % 256], *p;
	bool had;

	for (; (p = *pp); pp = &p->next) {
		if (p->pid == pid) {
			*pp = p->next;
			had = p->weight != 0;
			free(p);
			return had;
		}
	}
	return false;
}

static void free_proc_names(void)
{
	for (int i = 0; i < 256; i++) {
		for (struct proc_name *p = proc_names[i], *n; p; p = n) {
			n = p->next;
			free(p);
		}
		proc_names[i] = NULL;
	}
}

/* gil-wait with no target: every CPython process running now. */
static void inspect_all_processes(struct record *r)
{
	struct dirent *de;
	DIR *dir = opendir("/proc");
	pid_t self = getpid();

	while (dir && (de = readdir(dir))) {
		pid_t pid = atoi(de->d_name);

		if (pid <= 0 || pid == self)
			continue;
		symbolizer__refresh(r->sym, pid);
		inspect_python(r, pid, false);
	}
	if (dir)
		closedir(dir);
}

static void pending_remove(struct record *r, pid_t pid)
{
	for (int i = 0; i < r->npending; i++) {
		if (r->pending[i].pid == pid) {
			r->pending[i] = r->pending[--r->npending];
			return;
		}
	}
}

/* Look for CPython in pid; if absent, look again shortly: a libpython is
 * mapped by the dynamic loader after exec.
 */
static void inspect_python(struct record *r, pid_t pid, bool retry)
{
	struct py_proc proc;
	char why[512];
	double now = now_sec();

	switch (python__inspect(r->py, r->sym, pid, &proc, why, sizeof(why))) {
	case PYTHON_FOUND:
		if (r->mode == MODE_GILWAIT || r->mode == MODE_GIL) {
			/* The GIL exists once the interpreter is set up. */
			proc.gil = python__gil(r->py, pid);
			capture__set_python(r->cap, pid, &proc);
			if (!proc.gil)
				break;
		} else {
			capture__set_python(r->cap, pid, &proc);
		}
		pending_remove(r, pid);
		p_debug("PID %d: %s", (int)pid, python__describe(r->py, pid));
		return;
	case PYTHON_UNSUPPORTED:
		pending_remove(r, pid);
		capture__set_python(r->cap, pid, NULL);
		p_warn("PID %d: %s; its stacks are native only", (int)pid, why);
		return;
	case PYTHON_NONE:
		capture__set_python(r->cap, pid, NULL);
		break;
	}
	if (!retry)
		return;
	if ((r->mode == MODE_GILWAIT || r->mode == MODE_GIL) && python__describe(r->py, pid) &&
	    !python__gil(r->py, pid))
		p_debug("PID %d: interpreter not set up yet, looking again", (int)pid);
	for (int i = 0; i < r->npending; i++) {
		if (r->pending[i].pid == pid) {
			if (now - r->pending[i].first > PY_RETRY_FOR_SEC)
				pending_remove(r, pid);
			else
				r->pending[i].next = now + PY_RETRY_SEC;
			return;
		}
	}
	if (r->npending < (int)(sizeof(r->pending) / sizeof(r->pending[0])))
		r->pending[r->npending++] = (struct pending){ pid, now, now + PY_RETRY_SEC };
}

static void retry_pending(struct record *r)
{
	double now = now_sec();

	for (int i = r->npending - 1; i >= 0; i--) {
		if (i < r->npending && now >= r->pending[i].next) {
			pid_t pid = r->pending[i].pid;

			symbolizer__refresh(r->sym, pid);
			inspect_python(r, pid, true);
		}
	}
}

/* Native user frames, root first, in out (RAMPA_MAX_STACK_DEPTH entries).
 * Walking from the leaf, a return address in no mapping means the walk left
 * the real stack (code without frame pointers): nothing rootward of it is
 * kept but that one "[unknown]".
 */
static uint32_t native_frames(struct record *r, const struct capture_sample *s, uint32_t *out)
{
	uint32_t tmp[RAMPA_MAX_STACK_DEPTH], n = 0;
	char buf[FOLDED_MAX_FRAME + 1];

	for (uint32_t i = 0; i < s->nustack && i < RAMPA_MAX_STACK_DEPTH; i++) {
		symbolizer__user(r->sym, s->pid, s->ustack[i], i == 0, buf, sizeof(buf));
		tmp[n++] = profile__intern(r->prof, buf);
		if (!strcmp(buf, "[unknown]"))
			break;
	}
	for (uint32_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* One Python frame as a profile frame; a frame that cannot be named counts
 * against the sample being built (r->cur_unnamed).
 */
static uint32_t python_frame(struct record *r, const struct capture_sample *s,
			     const struct py_frame *f)
{
	char buf[FOLDED_MAX_FRAME + 1];
	enum py_name why = python__frame_name(r->py, s->pid, f, buf, sizeof(buf));

	if (why != PY_NAMED && !r->cur_unnamed)
		r->cur_unnamed = why;
	return profile__intern(r->prof, buf);
}

static bool is_eval_frame(const char *name)
{
	static const char eval[] = "_PyEval_EvalFrameDefault";

	return !strncmp(name, eval, sizeof(eval) - 1) &&
	       (name[sizeof(eval) - 1] == '\0' || name[sizeof(eval) - 1] == '.');
}

/* Native frames (root first) with each eval-loop frame replaced by the run of
 * Python frames it executed. Only when the counts agree; else returns false.
 */
static bool splice_python(struct record *r, const struct capture_sample *s, uint32_t *frames,
			  uint32_t *n)
{
	const struct py_stack *py = s->py;
	uint32_t out = *n, runs = 0, evals = 0, native[RAMPA_MAX_STACK_DEPTH], nnative;
	bool missing;
	int j;

	for (uint32_t i = 0; i < py->depth; i++)
		runs += (py->frames[i].flags & PY_FRAME_ENTRY) != 0;
	/* The outermost run may lack a marker: the walk ends at its root. */
	if (py->depth && !(py->frames[py->depth - 1].flags & PY_FRAME_ENTRY))
		runs++;
	nnative = native_frames(r, s, native);
	for (uint32_t i = 0; i < nnative; i++)
		evals += is_eval_frame(profile__frame_name(r->prof, native[i]));
	/* A leaf function without its own frame (-momit-leaf-frame-pointer)
	 * hides its caller: when that is the one eval frame missing, the
	 * topmost run sits right above the leaf. Not when no eval frame was
	 * recognised at all (a stripped interpreter): the runs' places are
	 * then unknown, not missing.
	 */
	missing = evals >= 1 && evals + 1 == runs && nnative > 1 &&
		  !is_eval_frame(profile__frame_name(r->prof, native[nnative - 1]));
	if ((!evals && !missing) || (evals != runs && !missing) || py->truncated ||
	    s->py_status == PY_READ_FAILED) {
		p_debug("splice: %u eval frames, %u Python runs in %u frames", evals, runs,
			py->depth);
		return false;
	}
	j = (int)py->depth - 1; /* next Python frame, walking root to leaf */
	for (uint32_t i = 0; i < nnative; i++) {
		bool eval = is_eval_frame(profile__frame_name(r->prof, native[i]));

		if (!eval && !(missing && i == nnative - 1)) {
			frames[out++] = native[i];
			continue;
		}
		/* One run: frames up to the next entry marker nearer the leaf. */
		do {
			frames[out++] = python_frame(r, s, &py->frames[j]);
			j--;
		} while (j >= 0 && !(py->frames[j].flags & PY_FRAME_ENTRY));
		if (!eval)
			frames[out++] = native[i];
	}
	*n = out;
	return true;
}

/* Python frames root to leaf, then the native leaf if it is outside the
 * interpreter (a C extension, libc): without frame pointers in the
 * interpreter, native frames beyond the leaf are not trustworthy.
 */
static void python_then_leaf(struct record *r, const struct capture_sample *s, uint32_t *frames,
			     uint32_t *n)
{
	const struct py_stack *py = s->py;
	char buf[FOLDED_MAX_FRAME + 1];

	/* The walk stopped at unreadable memory: the frames rootward of it
	 * are missing, and the stack says so.
	 */
	if (s->py_status == PY_READ_FAILED) {
		frames[(*n)++] = profile__intern(r->prof, PY_FRAME_UNREADABLE);
		if (!r->cur_unnamed)
			r->cur_unnamed = PY_NAME_UNREADABLE;
	}
	if (py->truncated) {
		snprintf(buf, sizeof(buf), "[truncated: deeper than %d Python frames]",
			 RAMPA_PY_MAX_DEPTH);
		frames[(*n)++] = profile__intern(r->prof, buf);
	}
	for (int i = (int)py->depth - 1; i >= 0; i--)
		frames[(*n)++] = python_frame(r, s, &py->frames[i]);
	if (s->nustack && !python__in_interpreter(r->py, s->pid, s->ustack[0])) {
		symbolizer__user(r->sym, s->pid, s->ustack[0], true, buf, sizeof(buf));
		frames[(*n)++] = profile__intern(r->prof, buf);
	}
}

/* "NAME-TID": the thread's latest name (pythreads.h), "thread" when none
 * could be read.
 */
static void thread_label(struct record *r, pid_t pid, uint32_t tid, char *buf, size_t len)
{
	const char *name = pythreads__name(r->pt, pid, (pid_t)tid);

	snprintf(buf, len, "%s-%u", name && name[0] ? name : "thread", tid);
}

static uint32_t thread_frame(struct record *r, pid_t pid, uint32_t tid)
{
	char label[PYTHREADS_MAX_NAME_CHARS * 4 + 32];

	for (size_t i = 0; i < r->ntnames; i++)
		if (r->tnames[i].tid == tid && r->tnames[i].pid == pid)
			return r->tnames[i].frame;
	thread_label(r, pid, tid, label, sizeof(label));
	grow_array((void **)&r->tnames, &r->tnames_cap, r->ntnames + 1, sizeof(*r->tnames));
	r->tnames[r->ntnames] = (struct thread_name){ pid, tid, profile__intern(r->prof, label) };
	return r->tnames[r->ntnames++].frame;
}

/* Names given since a thread frame was made rename it: a thread is shown
 * under its latest name, in every stack.
 */
static void rename_threads(struct record *r)
{
	char label[PYTHREADS_MAX_NAME_CHARS * 4 + 32];

	for (size_t i = 0; i < r->ntnames; i++) {
		thread_label(r, r->tnames[i].pid, r->tnames[i].tid, label, sizeof(label));
		profile__rename_frame(r->prof, r->tnames[i].frame, label);
	}
}

static const char *thread_name_of(pid_t pid, pid_t tid, void *ctx)
{
	return pythreads__name(((struct record *)ctx)->pt, pid, tid);
}

/* Kernel frames root first. A stack taken in a tracepoint ends in the BPF
 * machinery that took it: those leaf frames are ours, not the target's.
 */
static uint32_t kernel_frames(struct record *r, const struct capture_sample *s, uint32_t *out)
{
	uint32_t n = 0, skip = 0;
	char buf[FOLDED_MAX_FRAME + 1];

	for (; skip < s->nkstack; skip++) {
		symbolizer__kernel(r->sym, s->kstack[skip], buf, sizeof(buf));
		if (strncmp(buf, "bpf_", 4) && strncmp(buf, "__bpf_", 6))
			break;
	}
	for (int i = (int)s->nkstack - 1; i >= (int)skip; i--) {
		symbolizer__kernel(r->sym, s->kstack[i], buf, sizeof(buf));
		out[n++] = profile__intern(r->prof, buf);
	}
	return n;
}

static pid_t holder_tid(struct record *r, pid_t pid, uint64_t tstate)
{
	pid_t tid;

	for (size_t i = 0; i < r->ntstates; i++)
		if (r->tstates[i].pid == pid && r->tstates[i].tstate == tstate)
			return r->tstates[i].tid;
	tid = python__tstate_tid(r->py, pid, tstate);
	if (!tid)
		return 0;
	grow_array((void **)&r->tstates, &r->tstates_cap, r->ntstates + 1, sizeof(*r->tstates));
	r->tstates[r->ntstates++] = (struct tstate_tid){ pid, tid, tstate };
	return tid;
}

/* Who held the GIL while this thread waited, and what Python code it ran. */
static void gil_behind(struct record *r, const struct capture_sample *s)
{
	char where[FOLDED_MAX_FRAME + 1];
	const char *w = NULL;

	pid_t holder = s->holder ? holder_tid(r, s->pid, s->holder) : 0;

	/* Still the last holder itself: the GIL is being handed over, nobody has it. */
	if (holder == (pid_t)s->tid) {
		gilwait__behind(r->gil, s->pid, s->tid, 0, GILWAIT_HANDOFF, s->count);
		return;
	}
	if (s->holder_py && s->holder_py->depth) {
		python__frame_name(r->py, s->pid, &s->holder_py->frames[0], where, sizeof(where));
		w = where;
	}
	gilwait__behind(r->gil, s->pid, s->tid, holder, w, s->count);
}

static void gil_thread_seen(__u32 tid, const struct gil_thread *t, void *ctx)
{
	gilwait__thread(((struct record *)ctx)->gil, t->pid, tid);
}

static void gil_thread_stats(__u32 tid, const struct gil_thread *t, void *ctx)
{
	gilwait__stats(((struct record *)ctx)->gil, tid, t);
}

/* Threads of pid alive now. */
static void gil_threads_alive(struct record *r, pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	while (dir && (de = readdir(dir)))
		if (atoi(de->d_name) > 0)
			gilwait__thread(r->gil, pid, atoi(de->d_name));
	if (dir)
		closedir(dir);
}

static const char *describe_python(pid_t pid, void *ctx)
{
	return python__describe(((struct record *)ctx)->py, pid);
}

/* What a sample or interval weighs in the output's unit. */
static uint64_t weight_of(struct record *r, const struct capture_sample *s)
{
	if (s->kind == KIND_CPU) {
		r->samples_cpu += s->count;
		if (r->mode == MODE_CPU || r->mode == MODE_GIL)
			return s->count;
		return r->mode == MODE_WALL ? s->count * 1000000ULL / r->hz : 0;
	}
	if (s->kind < 3)
		r->ns_by_kind[s->kind] += s->count;
	if ((r->mode == MODE_GILWAIT) != (s->kind == KIND_GIL_WAIT))
		return 0;
	if (r->mode == MODE_OFFCPU && s->kind != KIND_OFFCPU_BLOCKED)
		return 0;
	return (s->count + 500) / 1000;
}

static void on_sample(const struct capture_sample *s, void *ctx)
{
	struct record *r = ctx;
	struct proc_name *pe;
	uint32_t frames[MAX_FRAMES], n = 0;
	uint64_t weight;

	/* Before exec the child runs rampa-bpf's own code: not the target's. */
	if (r->child && s->pid == (__u32)r->child && !r->child_execed)
		return;
	weight = weight_of(r, s);
	r->cur_unnamed = PY_NAMED;
	if (s->kind == KIND_GIL_WAIT && r->gil)
		gil_behind(r, s);
	if (!weight)
		return;
	tid_set_add(&r->tids, s->pid, s->tid);
	if (s->ustack_lost)
		r->ustack_lost += s->count;
	if (s->kstack_lost)
		r->kstack_lost += s->count;

	if (s->kind == KIND_CPU && s->py_status != PY_NOT_PYTHON && s->py_status <= PY_MAP_FULL)
		r->py_samples[s->py_status] += s->count;

	frames[n++] = proc_frame(r, s->pid, false);
	pe = proc_entry(r, s->pid, false);
	pe->weight += weight;
	if (s->kind == KIND_CPU)
		pe->samples += s->count;
	if (r->per_process)
		frames[n++] = proc_pid_frame(r, s->pid);
	if (r->per_thread)
		frames[n++] = thread_frame(r, s->pid, s->tid);
	if (s->snap_id && s->snap_id <= r->nsnaps) {
		const struct snapshot *sn = &r->snaps[s->snap_id - 1];

		memcpy(frames + n, sn->frames, sn->n * sizeof(*frames));
		n += sn->n;
	} else if (s->py && s->py->depth) {
		uint32_t start = n;

		if (python__has_frame_pointers(r->py, s->pid) && splice_python(r, s, frames, &n)) {
			r->py_spliced += s->kind == KIND_CPU ? s->count : 0;
		} else {
			n = start;
			python_then_leaf(r, s, frames, &n);
			r->py_leaf_only += s->kind == KIND_CPU ? s->count : 0;
		}
	} else {
		n += native_frames(r, s, frames + n);
		if (s->py_status == PY_READ_FAILED || s->py_status == PY_MAP_FULL)
			frames[n++] = profile__intern(r->prof, "[python stack lost]");
	}
	n += kernel_frames(r, s, frames + n);
	/* In wall time, say which time was not spent running. */
	if (r->mode == MODE_WALL && s->kind == KIND_OFFCPU_BLOCKED)
		frames[n++] = profile__intern(r->prof, "[off-cpu]");
	else if (r->mode == MODE_WALL && s->kind == KIND_OFFCPU_RUNNABLE)
		frames[n++] = profile__intern(r->prof, "[runqueue]");
	if (n == 1u + r->per_thread)
		frames[n++] = profile__intern(
		    r->prof, s->kind == KIND_GIL_WAIT ? "[no Python frame: thread start or exit]"
						      : "[no stack]");
	if (r->cur_unnamed && s->kind == KIND_CPU) {
		r->py_unnamed[r->cur_unnamed] += s->count;
		if (s->py_status == PY_OK)
			r->py_ok_unnamed += s->count;
	} else if (r->cur_unnamed)
		r->py_unnamed_other++;
	profile__add(r->prof, frames, n, weight);
}

/* The stacks of a thread asleep since before the run, taken from memory and
 * /proc while it still sleeps: Python frames, then kernel frames.
 */
static uint32_t sleeper_frames(struct record *r, pid_t pid, pid_t tid, struct py_stack *py,
			       uint32_t *frames)
{
	uint32_t n = 0, kframes[RAMPA_MAX_STACK_DEPTH], nk = 0;
	struct capture_sample fake = { .pid = pid };
	char path[96], line[256];
	FILE *f;

	/* Kernel frames, leaf first: "[<0>] do_nanosleep+0x6c/0x140". */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", (int)pid, (int)tid);
	f = fopen(path, "re");
	while (f && nk < RAMPA_MAX_STACK_DEPTH && fgets(line, sizeof(line), f)) {
		char *name = strchr(line, ' ');

		if (!name)
			continue;
		name++;
		name[strcspn(name, "+ \n")] = '\0';
		snprintf(path, sizeof(path), "%s_[k]", name);
		kframes[nk++] = profile__intern(r->prof, path);
	}
	if (f)
		fclose(f);
	if (!python__snapshot(r->py, pid, tid, py) && py->depth) {
		fake.py = py;
		python_then_leaf(r, &fake, frames, &n);
	} else {
		frames[n++] = profile__intern(r->prof, "[asleep since before the run]");
	}
	while (nk)
		frames[n++] = kframes[--nk];
	return n;
}

/* Threads asleep when the run starts have no switch-out to catch. First all
 * of them are accounted from r->start_ns, the instant sampling began (a quick
 * pass: one /proc read each), then their stacks are taken from memory and
 * /proc. A thread that ran in between may have slept elsewhere since: its
 * first interval keeps a marker instead of a stack that may be wrong.
 */
static void snapshot_sleepers(struct record *r, pid_t pid)
{
	struct sleeper {
		pid_t tid;
		int64_t run_ns;
		uint32_t slot;
	} *sl = NULL;
	size_t nsl = 0, cap = 0;
	struct py_stack *py;
	char path[64];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		pid_t tid = atoi(de->d_name);
		char state = tid > 0 ? thread_state(pid, tid) : 0;
		int64_t run_ns;
		int seeded;

		if (state != 'S' && state != 'D')
			continue;
		run_ns = thread_run_ns(pid, tid);
		grow_array((void **)&r->snaps, &r->snaps_cap, r->nsnaps + 1, sizeof(*r->snaps));
		r->snaps[r->nsnaps] = (struct snapshot){ NULL, 0 };
		r->nsnaps++;
		seeded = capture__offcpu_seed(r->cap, pid, tid, KIND_OFFCPU_BLOCKED,
					      (__u32)r->nsnaps, r->start_ns);
		if (seeded) {
			r->snapshot_failed += seeded < 0;
			continue;
		}
		r->snapshots++;
		grow_array((void **)&sl, &cap, nsl + 1, sizeof(*sl));
		sl[nsl++] = (struct sleeper){ tid, run_ns, (uint32_t)r->nsnaps - 1 };
	}
	closedir(dir);
	py = xmalloc(sizeof(*py));
	for (size_t i = 0; i < nsl; i++) {
		uint32_t frames[MAX_FRAMES], n;
		struct snapshot *sn = &r->snaps[sl[i].slot];

		n = sleeper_frames(r, pid, sl[i].tid, py, frames);
		if (sl[i].run_ns < 0 || thread_run_ns(pid, sl[i].tid) != sl[i].run_ns) {
			n = 0;
			frames[n++] = profile__intern(
			    r->prof, "[asleep since before the run: woke before its "
				     "stack was taken]");
			r->snapshot_late++;
		}
		sn->frames = xmalloc(n * sizeof(*frames));
		memcpy(sn->frames, frames, n * sizeof(*frames));
		sn->n = n;
	}
	free(py);
	free(sl);
}

/* Name now, while the process lives, what an open off-CPU interval will
 * need when it closes: at exit the target's memory is gone.
 */
static void warm_pending(const struct capture_sample *s, void *ctx)
{
	struct record *r = ctx;
	char buf[FOLDED_MAX_FRAME + 1];

	if (r->per_thread)
		thread_frame(r, s->pid, s->tid);
	for (uint32_t i = 0; i < s->nustack; i++)
		symbolizer__user(r->sym, s->pid, s->ustack[i], i == 0, buf, sizeof(buf));
}

static bool exit_pending(const struct record *r, pid_t pid)
{
	for (size_t i = 0; i < r->nexited; i++)
		if (r->exited[i] == pid)
			return true;
	return false;
}

static bool exited_pid(pid_t pid, void *ctx)
{
	return exit_pending(ctx, pid);
}

static void drop_code(pid_t pid, uint64_t addr, void *ctx)
{
	capture__forget_code(((struct record *)ctx)->cap, pid, addr);
}

/* Every sample of a process that exited before a drain is resolved by it:
 * what was kept of the process goes now, so memory stays flat however many
 * processes come and go (-a, a forking server). Its frames' names stay in
 * the profile; its code objects' names go one drain later (in flight).
 */
static void forget_exited(struct record *r)
{
	size_t kept = 0;

	if (r->nexited && r->tids.n)
		tid_set_rehash(&r->tids, r->tids.cap, exited_pid, r);
	for (size_t i = 0; i < r->ntnames; i++)
		if (!exit_pending(r, r->tnames[i].pid))
			r->tnames[kept++] = r->tnames[i];
	r->ntnames = kept;
	for (size_t i = 0; i < r->nexited; i++) {
		pid_t pid = r->exited[i];

		symbolizer__forget(r->sym, pid);
		python__forget(r->py, pid);
		python__retire_codes(r->py, pid, drop_code, r);
		capture__set_python(r->cap, pid, NULL);
		pythreads__forget(r->pt, pid);
		pending_remove(r, pid);
		/* Its name, samples and CPU time serve the summary; only -a,
		 * which may see processes without end, lets them go.
		 */
		if (r->system_wide)
			r->procs_gone += forget_proc_name(pid);
	}
	r->nexited = 0;
}

static void drain(struct record *r)
{
	pythreads__refresh(r->pt);
	capture__drain(r->cap, on_sample, r);
	/* Set aside before this drain: no sample carries their ids now. */
	python__release_codes(r->py);
	capture__offcpu_pending(r->cap, 0, warm_pending, r);
	if (r->gil) {
		capture__gil_threads(r->cap, gil_thread_seen, r);
		gilwait__names(r->gil, thread_name_of, r);
	}
	rename_threads(r);
	/* gil-wait names threads of exited processes in its table at the end. */
	if (!r->gil)
		forget_exited(r);
}

static void on_code(const struct py_code_event *e, void *ctx)
{
	python__code_event(((struct record *)ctx)->py, e);
}

static void on_event(const struct capture_event *e, void *ctx)
{
	struct record *r = ctx;

	switch (e->type) {
	case EVENT_NEW_PROCESS:
		/* Its PID was used by a process that just exited: finish with that
		 * one first, so neither is resolved against the other's maps.
		 */
		if (exit_pending(r, e->pid))
			drain(r);
		r->nprocs++;
		symbolizer__refresh(r->sym, e->pid);
		proc_frame(r, e->pid, true);
		if (!python__checked(r->py, e->pid))
			inspect_python(r, e->pid, true);
		break;
	case EVENT_EXEC:
		/* Samples of the old image must resolve against the old maps. */
		drain(r);
		if (r->child && e->pid == (__u32)r->child)
			r->child_execed = true;
		symbolizer__refresh(r->sym, e->pid);
		proc_frame(r, e->pid, true);
		python__retire_codes(r->py, e->pid, drop_code, r);
		python__forget(r->py, e->pid);
		inspect_python(r, e->pid, true);
		break;
	case EVENT_FORK:
		p_debug("following child %u of %u", e->pid, e->ppid);
		proc_base(r, e->pid, true);
		break;
	case EVENT_EXIT:
		r->nexits++;
		if (r->gil)
			break;
		grow_array((void **)&r->exited, &r->exited_cap, r->nexited + 1, sizeof(*r->exited));
		r->exited[r->nexited++] = e->pid;
		break;
	}
}

/* Under sudo, CMD runs as the user who ran sudo (their uid, gid and
 * groups), not as root; --as-root keeps root. 0 and *uid == 0 for no change.
 */
static int sudo_user(struct record *r, uid_t *uid, gid_t *gid, gid_t **groups, int *ngroups)
{
	const char *uid_s = getenv("SUDO_UID"), *gid_s = getenv("SUDO_GID");
	unsigned long u, g;
	struct passwd *pw;
	int n = 64;

	*uid = 0;
	*ngroups = 0;
	*groups = NULL;
	if (r->as_root || geteuid() != 0 || !uid_s || !gid_s)
		return 0;
	if (parse_ulong(uid_s, 0, 0xfffffffe, &u) || parse_ulong(gid_s, 0, 0xfffffffe, &g)) {
		p_err("SUDO_UID '%s' or SUDO_GID '%s' is not a user id (fix the environment, or "
		      "pass --as-root to run the command as root)",
		      uid_s, gid_s);
		return EXIT_USAGE;
	}
	if (!u)
		return 0;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	pw = getpwuid(*uid);
	*groups = xcalloc(n, sizeof(gid_t));
	if (!pw || getgrouplist(pw->pw_name, *gid, *groups, &n) < 0) {
		/* No such user in the password database, or too many groups: the
		 * primary group alone, never root's groups.
		 */
		(*groups)[0] = *gid;
		n = 1;
	}
	*ngroups = n;
	return 0;
}

/* Fork CMD stopped on a pipe; it execs once start_child() releases it. */
static int spawn_child(struct record *r, int *go_fd, int *err_fd)
{
	int go[2], errp[2], ngroups, ret;
	gid_t gid = 0, *groups;
	uid_t uid;
	pid_t pid;

	ret = sudo_user(r, &uid, &gid, &groups, &ngroups);
	if (ret)
		return ret;
	if (uid && !r->quiet)
		p_info("running '%s' as SUDO_UID %d, not root (--as-root keeps root)", r->cmd[0],
		       (int)uid);
	else if (r->as_root && getenv("SUDO_UID") && geteuid() == 0 && !r->quiet)
		p_info("running '%s' as root (--as-root)", r->cmd[0]);

	if (pipe2(go, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		p_err("cannot create a pipe: %s", strerror(errno));
		return EXIT_ERROR;
	}
	pid = fork();
	if (pid < 0) {
		p_err("cannot fork: %s", strerror(errno));
		free(groups);
		return EXIT_ERROR;
	}
	if (pid == 0) {
		char c;
		int e;

		close(go[1]);
		close(errp[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (read(go[0], &c, 1) != 1)
			_exit(EXIT_NOEXEC);
		if (uid && (setgroups(ngroups, groups) || setgid(gid) || setuid(uid))) {
			e = -errno; /* negative: the drop failed, not the exec */
			if (write(errp[1], &e, sizeof(e)) < 0)
				_exit(EXIT_NOEXEC);
			_exit(EXIT_NOEXEC);
		}
		execvp(r->cmd[0], r->cmd);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(EXIT_NOEXEC);
		_exit(EXIT_NOEXEC);
	}
	free(groups);
	close(go[0]);
	close(errp[1]);
	r->child = pid;
	*go_fd = go[1];
	*err_fd = errp[0];
	return 0;
}

static int start_child(struct record *r, int go_fd, int err_fd)
{
	ssize_t n;
	int e = 0;

	n = write(go_fd, "g", 1);
	close(go_fd);
	/* EOF on the CLOEXEC pipe means exec succeeded. */
	do
		n = read(err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(err_fd);
	if (n == sizeof(e) && e < 0) {
		p_err("cannot run '%s' as SUDO_UID %s: %s (pass --as-root to run it as root)",
		      r->cmd[0], getenv("SUDO_UID"), strerror(-e));
		waitpid(r->child, NULL, 0);
		r->child = 0;
		return EXIT_NOEXEC;
	}
	if (n == sizeof(e)) {
		p_err("cannot run '%s': %s%s", r->cmd[0], strerror(e),
		      e == ENOENT ? " (check the command name and PATH)" : "");
		waitpid(r->child, NULL, 0);
		r->child = 0;
		return EXIT_NOEXEC;
	}
	return 0;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	/* No SA_RESTART: the poll must return so the loop sees the flag. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
}

static void describe_target(struct record *r, char *buf, size_t len)
{
	char name[64];
	size_t off = 0;

	if (r->system_wide) {
		snprintf(buf, len, "all processes");
		return;
	}
	if (r->cmd) {
		snprintf(buf, len, "'%s' (PID %d)", r->cmd[0], (int)r->child);
		return;
	}
	for (int i = 0; i < r->npids && off + 1 < len; i++) {
		/* The name seen at attach: the process may be gone by now. */
		snprintf(name, sizeof(name), "%s", proc_entry(r, r->pids[i], false)->name);
		text_safe(name); /* a target line on stderr and in every format's title */
		off += snprintf(buf + off, len - off, "%sPID %d (%s)", i ? ", " : "",
				(int)r->pids[i], name);
	}
}

static void print_python_summary(struct record *r, const uint64_t *st)
{
	static const char *const causes[PY_NAME__MAX] = {
		[PY_NAME_UNREADABLE] = "code object unreadable",
		[PY_NAME_LOST] = "names not handed over: code event buffer full",
		[PY_NAME_UNKNOWN] = "names never received",
	};
	const struct python_stats *ps = python__stats(r->py);
	const uint64_t *c = r->py_samples;
	uint64_t running = c[PY_OK] + c[PY_TRUNCATED] + c[PY_READ_FAILED] + c[PY_MAP_FULL];
	uint64_t all = running + c[PY_NO_THREAD] + c[PY_NO_FRAME];
	uint64_t whole = c[PY_OK] - (r->py_ok_unnamed < c[PY_OK] ? r->py_ok_unnamed : c[PY_OK]);

	if (!all)
		return;
	fprintf(stderr, "  python        %" PRIu64 " samples in Python processes; ", all);
	if (running)
		fprintf(stderr,
			"%.1f%% of those running Python code have the whole Python stack, every "
			"frame named\n",
			whole == running ? 100.0 : floor(1000.0 * whole / running) / 10);
	else
		fprintf(stderr, "none running Python code\n");
	if (c[PY_TRUNCATED])
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "truncated (deeper than the limit)",
			c[PY_TRUNCATED]);
	if (c[PY_READ_FAILED])
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "Python stack unreadable midway",
			c[PY_READ_FAILED]);
	if (c[PY_MAP_FULL])
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "Python stack map full", c[PY_MAP_FULL]);
	for (int i = 1; i < PY_NAME__MAX; i++)
		if (r->py_unnamed[i])
			fprintf(stderr, "    %-40s %" PRIu64 " samples\n", causes[i],
				r->py_unnamed[i]);
	if (r->py_unnamed_other)
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "off-CPU stacks with an unnamed frame",
			r->py_unnamed_other);
	if (c[PY_NO_THREAD] + c[PY_NO_FRAME])
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "in threads not running Python code",
			c[PY_NO_THREAD] + c[PY_NO_FRAME]);
	if (r->py_spliced)
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "native frames spliced at the eval loop",
			r->py_spliced);
	if (r->py_leaf_only)
		fprintf(stderr, "    %-40s %" PRIu64 "\n",
			"C frames: leaf only (no frame pointers)", r->py_leaf_only);
	fprintf(stderr,
		"    %-40s %" PRIu64 " named in the kernel at first sight, %" PRIu64
		" read from memory",
		"code objects", ps->code_events, ps->memory_reads);
	/* Their frames keep their names in the profile. */
	if (ps->codes_dropped)
		fprintf(stderr, "; %" PRIu64 " let go at exit or exec, %" PRIu64 " held at the end",
			ps->codes_dropped, ps->codes_held);
	fputc('\n', stderr);
	if (ps->names_cut + ps->labels_cut)
		fprintf(stderr, "    %-40s %" PRIu64 " names, %" PRIu64 " frame labels\n",
			"cut in the middle (too long)", ps->names_cut, ps->labels_cut);
	if (ps->lines_unknown)
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "lines unknown: line table cut",
			ps->lines_unknown);
	if (ps->invalid_chars)
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "characters not text, replaced (U+FFFD)",
			ps->invalid_chars);
	(void)st;
}

static void print_summary(struct record *r, double elapsed, const char *why)
{
	const struct symbolizer_stats *ss = symbolizer__stats(r->sym);
	uint64_t st[STAT__MAX], run_ns, runs;
	struct rusage self;
	double cpu = -1, self_cpu;
	int cpu_unknown = 0;
	char target[512];
	bool any_loss = false;
	struct {
		const char *what;
		uint64_t n;
	} losses[32];
	int nl = 0;

	capture__stats(r->cap, st);
	capture__prog_stats(r->cap, &run_ns, &runs);
	getrusage(RUSAGE_SELF, &self);
	self_cpu = self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6 + self.ru_stime.tv_sec +
		   self.ru_stime.tv_usec / 1e6;
	if (!r->system_wide)
		cpu = sampled_cpu_seconds(r, &cpu_unknown);

	losses[nl++] =
	    (typeof(losses[0])){ "user stack hash collisions", st[STAT_USTACK_COLLISION] };
	losses[nl++] =
	    (typeof(losses[0])){ "kernel stack hash collisions", st[STAT_KSTACK_COLLISION] };
	losses[nl++] = (typeof(losses[0])){ "user stacks unreadable", st[STAT_USTACK_FAILED] };
	losses[nl++] = (typeof(losses[0])){ "kernel stacks unreadable", st[STAT_KSTACK_FAILED] };
	losses[nl++] = (typeof(losses[0])){ "stack map full", st[STAT_STACK_MAP_FULL] };
	losses[nl++] =
	    (typeof(losses[0])){ "samples dropped: count map full", st[STAT_COUNT_MAP_FULL] };
	losses[nl++] = (typeof(losses[0])){ "process events lost", st[STAT_EVENTS_LOST] };
	losses[nl++] =
	    (typeof(losses[0])){ "children not followed: target map full", st[STAT_TARGETS_FULL] };
	losses[nl++] =
	    (typeof(losses[0])){ "stacks evicted before drain", r->ustack_lost + r->kstack_lost };
	losses[nl++] = (typeof(losses[0])){ "frames in no known mapping", ss->unmapped };
	losses[nl++] = (typeof(losses[0])){ "frames in unreadable files", ss->no_file };
	losses[nl++] = (typeof(losses[0])){ "target files refused: not regular or too large",
					    ss->files_refused };
	losses[nl++] = (typeof(losses[0])){ "frame names with invalid UTF-8 (now U+FFFD)",
					    profile__invalid_utf8(r->prof) };
	losses[nl++] =
	    (typeof(losses[0])){ "off-CPU intervals dropped: map full", st[STAT_OFFCPU_MAP_FULL] };
	losses[nl++] =
	    (typeof(losses[0])){ "off-CPU stacks dropped: maps full", st[STAT_OFFCPU_STACK_FULL] };
	losses[nl++] =
	    (typeof(losses[0])){ "asleep at start but not accounted", r->snapshot_failed };
	losses[nl++] =
	    (typeof(losses[0])){ "asleep at start, stack not taken in time", r->snapshot_late };
	losses[nl++] = (typeof(losses[0])){ "Python frames unnamed: code object unreadable",
					    st[STAT_PY_CODE_UNREADABLE] };
	losses[nl++] = (typeof(losses[0])){ "Python frames unnamed: code event buffer full",
					    st[STAT_PY_CODE_LOST] };
	losses[nl++] = (typeof(losses[0])){ "Python frames unnamed: names never received",
					    r->py_unnamed[PY_NAME_UNKNOWN] };
	losses[nl++] = (typeof(losses[0])){ "Python stacks cut at unreadable memory",
					    st[STAT_PY_READ_FAILED] };
	losses[nl++] = (typeof(losses[0])){ "Python stacks lost: thread beyond the first 32768",
					    st[STAT_PY_THREADS_LIMIT] };

	if (r->quiet)
		return;
	describe_target(r, target, sizeof(target));
	fprintf(stderr, "rampa-bpf: profiled %s for %.2f s%s%s%s\n", target, elapsed,
		why ? " (" : "", why ? why : "", why ? ")" : "");
	if (r->mode == MODE_CPU)
		fprintf(stderr,
			"  mode          cpu: on-CPU samples at %u Hz per CPU; counts are samples "
			"(one sample = %.3g ms of CPU)\n",
			r->hz, 1000.0 / r->hz);
	else if (r->mode == MODE_WALL)
		fprintf(
		    stderr,
		    "  mode          wall: on-CPU samples at %u Hz (one = %.3g ms) plus measured "
		    "off-CPU time; counts are microseconds\n",
		    r->hz, 1000.0 / r->hz);
	else if (r->mode == MODE_GIL)
		fprintf(stderr,
			"  mode          gil: on-CPU samples at %u Hz of threads holding the GIL; "
			"counts are samples (%" PRIu64
			" samples of threads not holding it left out)\n",
			r->hz, st[STAT_GIL_NOT_HELD]);
	else if (r->mode == MODE_OFFCPU)
		fprintf(stderr, "  mode          offcpu: measured time blocked off-CPU; counts are "
				"microseconds\n");
	else
		fprintf(stderr, "  mode          gil-wait: measured time waiting to take the GIL; "
				"counts are microseconds\n");
	if (r->mode == MODE_WALL || r->mode == MODE_OFFCPU)
		fprintf(stderr,
			"  time          %.2f s on-CPU (sampled), %.2f s blocked, %.2f s runnable "
			"waiting for a CPU%s\n",
			(double)r->samples_cpu / r->hz, r->ns_by_kind[KIND_OFFCPU_BLOCKED] / 1e9,
			r->ns_by_kind[KIND_OFFCPU_RUNNABLE] / 1e9,
			r->mode == MODE_OFFCPU ? " (only blocked time is written)" : "");
	if (r->mode != MODE_GILWAIT)
		fprintf(stderr, "  samples       %" PRIu64 " on-CPU (%.1f per second)\n",
			r->samples_cpu, elapsed > 0 ? r->samples_cpu / elapsed : 0.0);
	if (r->mode == MODE_CPU || r->mode == MODE_WALL) {
		/* Samples are Poisson: 2 sigma is 2 sqrt(n) samples. */
		double got = (double)r->samples_cpu / r->hz, err = 2 * sqrt(r->samples_cpu) / r->hz;

		if (cpu > 0)
			fprintf(
			    stderr,
			    "  CPU time      %.2f s sampled (+-%.2f s) of %.2f s used by the sampled "
			    "processes (%.1f%%)\n",
			    got, err, cpu, 100.0 * got / cpu);
		else if (cpu_unknown)
			fprintf(
			    stderr,
			    "  CPU time      %.2f s sampled; not compared: %d sampled process%s "
			    "ran before the run and %s not a target (CPU time since unknown)\n",
			    got, cpu_unknown, cpu_unknown == 1 ? "" : "es",
			    cpu_unknown == 1 ? "was" : "were");
	}
	if (r->snapshots || r->snapshot_failed)
		fprintf(stderr,
			"  asleep        %" PRIu64 " threads asleep at the start, "
			"accounted from then\n",
			r->snapshots);
	if (r->mode != MODE_GILWAIT)
		fprintf(stderr, "  threads       %zu in %zu process%s (%" PRIu64 " exited)\n",
			r->tids.n + r->tids.gone, processes_with_samples() + r->procs_gone,
			processes_with_samples() + r->procs_gone == 1 ? "" : "es", r->nexits);
	print_processes(r, r->mode == MODE_CPU || r->mode == MODE_GIL ? "samples" : "us");
	print_python_summary(r, st);
	fprintf(stderr, "  stacks        %zu distinct, %zu frame names\n",
		profile__nstacks(r->prof), profile__nframes(r->prof));
	for (int i = 0; i < nl; i++) {
		if (!losses[i].n)
			continue;
		if (!any_loss)
			fprintf(stderr, "  losses\n");
		any_loss = true;
		fprintf(stderr, "    %-40s %" PRIu64 "\n", losses[i].what, losses[i].n);
	}
	if (!any_loss)
		fprintf(stderr, "  losses        none\n");
	/* Not losses: these frames are in the profile, named by their file. */
	if (ss->no_file + ss->no_symbol)
		fprintf(stderr,
			"  names         %" PRIu64
			" native frame%s named file+offset (the file has "
			"no symbols%s)\n",
			ss->no_file + ss->no_symbol, ss->no_file + ss->no_symbol == 1 ? "" : "s",
			ss->no_file ? " or could not be read" : "");
	if (ss->files_dropped)
		fprintf(stderr,
			"  symbols       %" PRIu64 " file%s' symbol tables let go (mapped by no "
			"live process; read again if mapped again)\n",
			ss->files_dropped, ss->files_dropped == 1 ? "" : "s");
	fprintf(stderr, "  attach        %.0f ms from start to sampling\n",
		1000 * (r->t_sampling - r->t_invoked));
	fprintf(stderr, "  profiler CPU  %.3f s (%.2f%% of one core)", self_cpu,
		elapsed > 0 ? 100.0 * self_cpu / elapsed : 0.0);
	if (runs)
		fprintf(stderr, "; BPF sampler %" PRIu64 " runs, %.0f ns each", runs,
			(double)run_ns / runs);
	fputc('\n', stderr);
}

/* What the profile is, for the header or title of every format. */
static void set_meta(struct record *r, double elapsed)
{
	struct profile_meta *m = profile__meta(r->prof);
	char target[200];

	describe_target(r, target, sizeof(target));
	m->mode = r->mode == MODE_WALL	    ? "wall"
		  : r->mode == MODE_OFFCPU  ? "offcpu"
		  : r->mode == MODE_GILWAIT ? "gil-wait"
					    : "cpu";
	m->unit = r->mode == MODE_CPU || r->mode == MODE_GIL ? "samples" : "microseconds";
	snprintf(m->target, sizeof(m->target), "%s%s", target,
		 r->mode == MODE_GIL ? " (samples of threads holding the GIL)" : "");
	m->duration_sec = elapsed;
	m->hz = r->mode == MODE_GILWAIT || r->mode == MODE_OFFCPU ? 0 : r->hz;
	m->window = r->cmd && r->child_exited ? "command" : "attach";
}

static void progress(struct record *r, double elapsed)
{
	if (r->quiet || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\r\033[Krampa-bpf: %.0f s, %" PRIu64 " samples", elapsed,
		profile__total(r->prof));
}

static int run(struct record *r)
{
	struct capture_opts copts = {
		.hz = r->hz,
		.system_wide = r->system_wide,
		.follow_forks = r->cmd != NULL || !r->no_children,
		.gil = r->mode == MODE_GILWAIT,
		.gil_holders = r->mode == MODE_GIL,
		.no_sampling = r->mode == MODE_GILWAIT,
		.offcpu_kinds = r->mode == MODE_WALL
				    ? (1u << KIND_OFFCPU_BLOCKED) | (1u << KIND_OFFCPU_RUNNABLE)
				: r->mode == MODE_OFFCPU ? 1u << KIND_OFFCPU_BLOCKED
							 : 0,
		.on_event = on_event,
		.on_code = on_code,
		.ctx = r,
	};
	int ret, go_fd = -1, err_fd = -1;
	double start, next_drain, drain_wait, elapsed, next_cpu_read;
	const char *why = NULL;
	char target[512];

	/* First: a signal during attach (which takes a moment) still ends the
	 * run the documented way, with the profile written.
	 */
	install_signals();
	ret = capture__open(&r->cap, &copts);
	if (ret)
		return ret;
	if (r->cmd) {
		ret = spawn_child(r, &go_fd, &err_fd);
		if (ret)
			return ret;
		/* Stopped on its pipe: it exists, with its start time. */
		uint64_t st = proc_start_time(r->child);

		if (capture__add_target(r->cap, r->child, st ? st - 1 : 0))
			return EXIT_ERROR;
	}
	for (int i = 0; i < r->npids; i++) {
		if (capture__add_target(r->cap, r->pids[i],
					r->pid_starts[i] ? r->pid_starts[i] - 1 : 0))
			return EXIT_ERROR;
		/* Still the process named on the command line, now that the kernel
		 * watches its exit: had it gone before, its PID (free, or another
		 * process's) would stay in the targets.
		 */
		if (!r->pid_starts[i] || proc_start_time(r->pids[i]) != r->pid_starts[i]) {
			capture__remove_target(r->cap, r->pids[i]);
			p_err("PID %d exited before profiling started (check it with 'ps -p %d')",
			      (int)r->pids[i], (int)r->pids[i]);
			return EXIT_NOTARGET;
		}
		/* Before the first sample, so every sample can carry Python frames. */
		symbolizer__refresh(r->sym, r->pids[i]);
		inspect_python(r, r->pids[i], false);
		if (r->mode == MODE_GILWAIT && !python__gil(r->py, r->pids[i]))
			p_warn("PID %d: %s", (int)r->pids[i],
			       python__describe(r->py, r->pids[i])
				   ? "its interpreter has no GIL set up yet; looking again"
				   : "no CPython with a GIL found in it: nothing to measure");
	}
	if (r->npids && !r->no_children)
		add_descendants(r);
	if (r->mode == MODE_GILWAIT && r->system_wide)
		inspect_all_processes(r);
	/* Kernel symbols take tens of ms to load: not while CMD's first
	 * events (its execs) wait to be handled, or a short program ends
	 * before its interpreter is known.
	 */
	if (r->cmd)
		symbolizer__kernel(r->sym, 0, target, sizeof(target));
	ret = capture__start(r->cap);
	if (ret)
		return ret;
	r->t_sampling = now_sec();
	r->start_ns = mono_ns();
	capture__begin(r->cap, r->start_ns);
	r->cpu_start = r->cpu_last = targets_cpu_seconds(r);
	for (int i = 0; i < r->npids; i++)
		proc_base(r, r->pids[i], false);
	for (size_t i = 0; i < r->ndesc; i++)
		proc_base(r, r->desc[i], false);
	if (r->child)
		proc_base(r, r->child, true);
	if (r->mode == MODE_WALL || r->mode == MODE_OFFCPU) {
		for (int i = 0; i < r->npids; i++)
			snapshot_sleepers(r, r->pids[i]);
		for (size_t i = 0; i < r->ndesc; i++)
			snapshot_sleepers(r, r->desc[i]);
	}
	/* -d counts from the instant every thread is accounted from. */
	start = r->start_ns / 1e9;
	if (r->cmd) {
		ret = start_child(r, go_fd, err_fd);
		if (ret)
			return ret;
	}
	if (!r->quiet) {
		describe_target(r, target, sizeof(target));
		if (r->mode == MODE_GILWAIT)
			fprintf(stderr, "rampa-bpf: measuring GIL waits of %s", target);
		else if (r->mode == MODE_OFFCPU)
			/* Off-CPU time is measured at each switch, not sampled. */
			fprintf(stderr, "rampa-bpf: profiling %s (offcpu mode)", target);
		else
			fprintf(stderr, "rampa-bpf: profiling %s (%s mode, %u Hz)", target,
				r->mode == MODE_CPU    ? "cpu"
				: r->mode == MODE_WALL ? "wall"
						       : "gil",
				r->hz);
		if (r->duration)
			fprintf(stderr, " for %g s", r->duration);
		fprintf(stderr, "; Ctrl-C stops and writes %s\n", r->output);
	}

	/* Drain early and often at first: a short-lived process must have its
	 * code objects read while it lives; then once a second.
	 */
	drain_wait = 0.05;
	next_drain = start + drain_wait;
	next_cpu_read = start + 0.1;
	while (!stop_signal) {
		double now = now_sec(), wait = 0.1;

		if (r->duration) {
			if (now - start >= r->duration)
				break;
			if (r->duration - (now - start) < wait)
				wait = r->duration - (now - start);
		}
		if (r->npending && wait > PY_RETRY_SEC)
			wait = PY_RETRY_SEC;
		capture__poll(r->cap, (int)(wait * 1000) + 1);
		retry_pending(r);
		now = now_sec();
		if (now >= next_drain) {
			drain(r);
			if (drain_wait < DRAIN_INTERVAL_SEC)
				drain_wait = drain_wait * 2 > DRAIN_INTERVAL_SEC
						 ? DRAIN_INTERVAL_SEC
						 : drain_wait * 2;
			next_drain = now + drain_wait;
			progress(r, now - start);
		}
		if (r->child && got_sigchld) {
			got_sigchld = 0;
			if (wait4(r->child, &r->child_status, WNOHANG, &r->child_rusage) ==
			    r->child) {
				r->child_exited = true;
				why = "command exited";
				break;
			}
		}
		if (r->npids && now >= next_cpu_read) {
			bool any = false;
			double cpu = targets_cpu_seconds(r);

			next_cpu_read = now + 0.1;
			for (int i = 0; i < r->npids; i++)
				any |= proc_alive(r->pids[i], r->pid_starts[i]);
			if (!any) {
				why = r->npids == 1
					  ? "the target exited; profile covers its lifetime "
					    "until then"
					  : "all targets exited";
				break;
			}
			if (cpu >= 0)
				r->cpu_last = cpu;
		}
	}
	/* The window ends now for every thread: time after it is not counted. */
	r->end_ns = mono_ns();
	capture__end(r->cap, r->end_ns);
	/* Forks still queued give their processes a start before the close. */
	capture__poll(r->cap, 0);
	processes_at_end(r);
	elapsed = (r->end_ns - r->start_ns) / 1e9;
	if (stop_signal) {
		why = stop_signal == SIGINT ? "interrupted" : "stopped by a signal";
		if (r->child && !r->child_exited && stop_signal != SIGINT)
			kill(r->child, stop_signal);
	} else if (!why) {
		why = NULL;
	}
	if (!r->quiet && isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	/* Process events still queued, the last samples, then the intervals
	 * of threads still off-CPU, counted up to now.
	 */
	capture__poll(r->cap, 0);
	drain(r);
	capture__offcpu_flush(r->cap, r->end_ns, on_sample, r);
	python__release_codes(r->py); /* every sample is in */
	if (r->gil) {
		capture__gil_threads(r->cap, gil_thread_stats, r);
		for (int i = 0; i < r->npids; i++)
			if (python__describe(r->py, r->pids[i]))
				gil_threads_alive(r, r->pids[i]);
		gilwait__names(r->gil, thread_name_of, r);
	}
	print_summary(r, elapsed, why);
	set_meta(r, elapsed);
	if (r->label_flags) {
		struct profile *l = labels__apply(r->prof, r->label_flags);

		profile__free(r->prof);
		r->prof = l;
	}
	ret = finish_output(r);
	if (r->gil) {
		fflush(stderr);
		gilwait__print(r->gil, stdout, r->json, r->start_ns, r->end_ns, describe_python, r);
		fflush(stdout);
	}
	if (!ret && !r->quiet) {
		char amount[32];

		fprintf(stderr, "rampa-bpf: wrote %s (%zu stacks, %s)\n", r->output,
			profile__nstacks(r->prof),
			fmt_amount(amount, sizeof(amount), profile__total(r->prof),
				   profile__meta(r->prof)->unit));
		if (!profile__total(r->prof) && r->mode == MODE_GILWAIT)
			p_info("no thread waited for the GIL");
		else if (!profile__total(r->prof))
			p_warn("no samples: the target did not run on a CPU while profiled "
			       "(idle or blocked?)");
		if (r->format == OUTPUT_SVG)
			fprintf(stderr, "rampa-bpf: view it: open %s in a browser\n", r->output);
		else if (r->format == OUTPUT_FOLDED)
			fprintf(stderr,
				"rampa-bpf: view it: rampa-bpf report %s -o flame.svg, then open "
				"flame.svg in a browser (or: rampa-bpf report %s --top 20)\n",
				r->output, r->output);
	}
	return ret;
}

/* The profile ended (deadline, signal, error) while CMD still runs: it was
 * started for the profile, so it ends with it. SIGTERM, and SIGKILL if it is
 * still there after CHILD_STOP_GRACE_SEC; never an unbounded wait.
 */
static void stop_child(struct record *r)
{
	double until = now_sec() + CHILD_STOP_GRACE_SEC;
	const char *how = "SIGTERM";
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	size_t nd;
	pid_t got, *d;

	/* Its descendants were profiled with it and end with it too. */
	nd = find_descendants(&r->child, 1, &d);
	kill(r->child, SIGTERM);
	for (size_t i = 0; i < nd; i++)
		kill(d[i], SIGTERM);
	while ((got = waitpid(r->child, &r->child_status, WNOHANG)) == 0 && now_sec() < until)
		nanosleep(&tick, NULL);
	for (size_t i = 0; i < nd; i++)
		while (proc_alive(d[i], 0) && now_sec() < until)
			nanosleep(&tick, NULL);
	for (size_t i = 0; i < nd; i++)
		if (proc_alive(d[i], 0) && !kill(d[i], SIGKILL))
			how = "SIGKILL";
	if (got != r->child) {
		kill(r->child, SIGKILL);
		how = "SIGKILL";
		while (waitpid(r->child, &r->child_status, 0) < 0 && errno == EINTR)
			;
	}
	free(d);
	if (!r->quiet && !(WIFSIGNALED(r->child_status) && WTERMSIG(r->child_status) == SIGINT))
		p_info("the profile ended before the command: stopped it (PID %d) and its %zu "
		       "descendant%s with %s",
		       (int)r->child, nd, nd == 1 ? "" : "s", how);
}

static int record_main(int argc, char **argv, bool gil)
{
	struct record r = { .cpu_start = -1, .cpu_last = -1, .t_invoked = now_sec() };
	char defout[64];
	int ret;

	if (gil) {
		r.mode = MODE_GILWAIT;
		r.gil = gilwait__new();
	}
	ret = parse_args(&r, argc, argv);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	r.prof = profile__new();
	r.sym = symbolizer__new(NULL);
	r.py = python__new();
	if (r.per_thread || gil)
		r.pt = pythreads__new(r.py);
	if (!r.output) {
		const char *kind = gil ? "gil-" : "";
		const char *e = output__format_ext(output__format_for(r.format_name, NULL));

		if (r.npids)
			snprintf(defout, sizeof(defout), "rampa-%s%d%s", kind, (int)r.pids[0], e);
		else if (r.system_wide)
			snprintf(defout, sizeof(defout), "rampa-%sall%s", kind, e);
		else
			snprintf(defout, sizeof(defout), "rampa-%s%s%s", kind,
				 strrchr(r.cmd[0], '/') ? strrchr(r.cmd[0], '/') + 1 : r.cmd[0], e);
		r.output = defout;
	}
	r.format = output__format_for(r.format_name, r.output);
	ret = open_output(&r);
	if (!ret)
		ret = run(&r);
	discard_output(&r);
	if (r.child) {
		/* A profile failure wins; otherwise report like the command did. */
		if (!r.child_exited)
			stop_child(&r);
		if (!ret)
			ret = WIFEXITED(r.child_status) ? WEXITSTATUS(r.child_status)
							: 128 + WTERMSIG(r.child_status);
	}
	capture__close(r.cap);
	if (r.pt && pythreads__stats(r.pt)->threads_over)
		p_warn("thread names: %" PRIu64 " threads past the limit of %d per process are "
		       "shown by their names at first sight",
		       pythreads__stats(r.pt)->threads_over, PYTHREADS_MAX_THREADS);
	pythreads__free(r.pt);
	python__free(r.py);
	symbolizer__free(r.sym);
	profile__free(r.prof);
	free(r.tids.slots);
	free(r.tids.pids);
	free(r.exited);
	for (size_t i = 0; i < r.nsnaps; i++)
		free(r.snaps[i].frames);
	free(r.snaps);
	free(r.seeds);
	free(r.desc);
	free(r.tnames);
	free(r.tstates);
	gilwait__free(r.gil);
	free_proc_names();
	return ret;
}

int cmd_record(int argc, char **argv)
{
	return record_main(argc, argv, false);
}

int cmd_gil_wait(int argc, char **argv)
{
	return record_main(argc, argv, true);
}
