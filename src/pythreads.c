// SPDX-License-Identifier: GPL-2.0
/* Thread names: threading.Thread.name from the target's memory, the OS name
 * from /proc, and which of the two a thread was given last (pythreads.h).
 *
 * The path through CPython, every offset derived from each version's headers
 * (docs/cpython-internals.md, "Thread names"): interp->modules (3.12+:
 * interp->imports.modules) is sys.modules; its "threading" entry is a module
 * whose md_dict holds "_active", a dict ident -> Thread; a Thread's
 * attributes live in its __dict__ (3.9/3.10: at tp_dictoffset), in values
 * before the object (3.11/3.12, keys shared in the type's ht_cached_keys) or
 * inline after it (3.13+), or in a dict materialized from those.
 *
 * The target can hold anything: every read is bounded and its result checked
 * (types by their tp_flags, dict sizes, digit counts), and anything that does
 * not fit leaves the names as they were.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cpython_layouts.h"
#include "python.h"
#include "procfs.h"
#include "pythreads_int.h"
#include "utf8.h"
#include "util.h"

struct pythreads *pythreads__new(struct python *py)
{
	struct pythreads *pt = xcalloc(1, sizeof(*pt));

	pt->py = py;
	pt->epoch = 1;
	return pt;
}

static void free_proc(struct proc *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->t[i].py);
		free(p->t[i].os);
	}
	free(p->t);
	free(p->slots);
	free(p);
}

void pythreads__free(struct pythreads *pt)
{
	if (!pt)
		return;
	for (int b = 0; b < PROC_BUCKETS; b++)
		for (struct proc *p = pt->procs[b], *n; p; p = n) {
			n = p->next;
			free_proc(p);
		}
	free(pt);
}

const struct pythreads_stats *pythreads__stats(const struct pythreads *pt)
{
	return &pt->stats;
}

/* ---- Threads of a process --------------------------------------------- */

static size_t tid_slot(pid_t tid, size_t nslots)
{
	return ((uint32_t)tid * 0x9e3779b1u) & (nslots - 1);
}

static struct thread *thread_get(struct proc *p, pid_t tid)
{
	for (size_t s = p->nslots ? tid_slot(tid, p->nslots) : 0; p->nslots && p->slots[s];
	     s = (s + 1) & (p->nslots - 1))
		if (p->t[p->slots[s] - 1].tid == tid)
			return &p->t[p->slots[s] - 1];
	return NULL;
}

static void slot_put(struct proc *p, size_t i)
{
	size_t s = tid_slot(p->t[i].tid, p->nslots);

	while (p->slots[s])
		s = (s + 1) & (p->nslots - 1);
	p->slots[s] = (uint32_t)i + 1;
}

/* Follow thread tid; NULL past PYTHREADS_MAX_THREADS. */
static struct thread *thread_add(struct proc *p, pid_t tid)
{
	struct thread *t = thread_get(p, tid);

	if (t)
		return t;
	if (p->n >= PYTHREADS_MAX_THREADS)
		return NULL;
	grow_array((void **)&p->t, &p->cap, p->n + 1, sizeof(*p->t));
	t = &p->t[p->n++];
	memset(t, 0, sizeof(*t));
	t->tid = t->ns_tid = tid;
	if (p->n * 2 > p->nslots) {
		free(p->slots);
		p->nslots = p->nslots ? p->nslots * 4 : 64;
		p->slots = xcalloc(p->nslots, sizeof(*p->slots));
		for (size_t i = 0; i < p->n; i++)
			slot_put(p, i);
	} else {
		slot_put(p, p->n - 1);
	}
	return t;
}

/* The tid of a thread as its own PID namespace knows it (NSpid's last). */
static pid_t ns_tid(pid_t pid, pid_t tid)
{
	char path[64], buf[2048], *s;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tid;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return tid;
	buf[n] = '\0';
	s = strstr(buf, "\nNSpid:");
	if (!s)
		return tid;
	s += 7;
	s[strcspn(s, "\n")] = '\0';
	s = strrchr(s, '\t') ? strrchr(s, '\t') + 1 : s;
	return atoi(s) > 0 ? atoi(s) : tid;
}

/* The OS name is CPython's copy of the Python name (3.14+ makes one). */
static bool is_copy(const struct thread *t)
{
	return t->py && t->os_len == t->py_copy_len && !memcmp(t->os_raw, t->py_copy, t->os_len);
}

/* Take the OS name of a thread. Seen first, it counts as set (not simply
 * inherited from the process's name) when it differs from the process's
 * name; changed since the last look, and not CPython's copy of the Python
 * name, it is a rename. The main thread's OS name is the process's name
 * (exec changes it): a Python main thread keeps its Python name.
 */
static void see_os(struct pythreads *pt, struct proc *p, struct thread *t, const char *raw,
		   size_t len)
{
	bool first = !t->os;

	if (len > OS_NAME_MAX)
		len = OS_NAME_MAX;
	if (!first && t->os_len == len && !memcmp(t->os_raw, raw, len))
		return;
	free(t->os);
	t->os = pyobj_text_from_bytes(pt, raw, len);
	memcpy(t->os_raw, raw, len);
	t->os_len = (uint8_t)len;
	if (t->tid == p->pid)
		t->os_own = false;
	else if (first)
		t->os_own = p->comm_ok && (len != p->comm_len || memcmp(raw, p->comm, len));
	else if (!is_copy(t)) {
		t->os_own = true;
		t->use_py = false;
	}
}

/* Take the Python name of a thread. Seen first, it is the later name unless
 * the thread's OS name was set and is no copy of it (a Thread is named
 * before it starts; an OS name is set after); changed, it is a rename.
 */
static void see_py(struct pythreads *pt, struct thread *t, char *name, const char *copy,
		   uint8_t copy_len)
{
	bool first = !t->py;

	if (!first && !strcmp(t->py, name)) {
		free(name);
		return;
	}
	free(t->py);
	t->py = name;
	memcpy(t->py_copy, copy, copy_len);
	t->py_copy_len = copy_len;
	t->use_py = !first || !t->os_own || is_copy(t);
	if (!t->counted) {
		t->counted = true;
		pt->stats.python_named++;
	}
}

/* A comm file's bytes (at most OS_NAME_MAX) without the newline; -1 if none. */
static int comm_read(const char *path, char *buf)
{
	char b[OS_NAME_MAX + 2];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n <= 0)
		return -1;
	if (b[n - 1] == '\n')
		n--;
	if (n > OS_NAME_MAX)
		n = OS_NAME_MAX;
	memcpy(buf, b, (size_t)n);
	return (int)n;
}

static void read_comm(struct pythreads *pt, struct proc *p, struct thread *t)
{
	char path[64], buf[OS_NAME_MAX];
	int n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)p->pid, (int)t->tid);
	n = comm_read(path, buf);
	if (n < 0)
		return;
	see_os(pt, p, t, buf, (size_t)n);
	t->seen = pt->epoch;
}

static bool same_pid_ns(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	if (stat(path, &a) || stat("/proc/self/ns/pid", &b))
		return true;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* The thread of p listed at this refresh whose namespace tid is ns. */
static struct thread *thread_by_ns_tid(struct pythreads *pt, struct proc *p, uint64_t ns)
{
	struct thread *t;

	if (!ns || ns >= (1u << 30))
		return NULL;
	if (!p->other_ns) {
		t = thread_get(p, (pid_t)ns);
		return t && t->seen == pt->epoch ? t : NULL;
	}
	for (size_t i = 0; i < p->n; i++)
		if ((uint64_t)p->t[i].ns_tid == ns && p->t[i].seen == pt->epoch)
			return &p->t[i];
	return NULL;
}

struct active_ctx {
	struct pythreads *pt;
	unsigned int threads;
};

/* One entry of threading._active: ident -> Thread. */
static int on_active(struct proc *p, uint64_t key, uint64_t obj, uint64_t ix, void *vctx)
{
	struct active_ctx *a = vctx;
	struct type_info *ti = NULL;
	struct thread *t = NULL;
	uint64_t ident, native, dict, values, cap, attr;
	char *name, copy[OS_NAME_MAX];
	uint8_t hdr[16], copy_len;
	uint32_t tid;

	if (++a->threads > PYTHREADS_MAX_THREADS)
		return 1;
	if (pyobj_rd(p->pid, obj, hdr, sizeof(hdr)) || !pyobj_hdr_flags(p, hdr, &ti) || !ti ||
	    ti->dummy || pyobj_inst_storage(p, obj, ti, &dict, &values, &cap))
		return 0;
	/* Its native id, else the kernel tid in its pthread (the ident). */
	if (pyobj_attr_get(p, ti, dict, values, cap, ATTR_NATIVE_ID, &attr) == 1 &&
	    !pyobj_long_read(p, attr, &native))
		t = thread_by_ns_tid(a->pt, p, native);
	if (!t && !pyobj_long_read(p, key, &ident) &&
	    !pyobj_rd(p->pid, ident + GLIBC_PTHREAD_TID, &tid, 4))
		t = thread_by_ns_tid(a->pt, p, tid);
	if (!t || pyobj_attr_get(p, ti, dict, values, cap, ATTR_NAME, &attr) != 1)
		return 0;
	name = pyobj_str_read(a->pt, p, attr, copy, &copy_len);
	if (name)
		see_py(a->pt, t, name, copy, copy_len);
	return 0;
}

static void read_python(struct pythreads *pt, struct proc *p)
{
	struct active_ctx a = { pt, 0 };
	uint64_t runtime = python__runtime(pt->py, p->pid), interp, modules, mod, mdict, active;
	int minor = python__minor(pt->py, p->pid);

	if (minor < 9 || minor > 15 || !runtime)
		return;
	if (runtime != p->runtime || minor != p->minor) {
		pyobj_reset_python(p);
		p->runtime = runtime;
		p->minor = minor;
	}
	if (!p->lay_ok) {
		pyobj_layout_from_table(minor, &p->lay);
		if ((minor >= 13 && pyobj_layout_from_debug(p->pid, runtime, minor, &p->lay)) ||
		    !pyobj_layout_fits(&p->lay))
			goto unreadable;
		p->lay_ok = true;
	}
	p->ntypes = 0; /* types are read again at each refresh */
	interp = python__interp(pt->py, p->pid);
	if (!interp)
		return; /* not set up yet */
	pt->stats.python_reads++;
	if (pyobj_rd_ptr(p->pid, interp + p->lay.interp_modules, &modules))
		goto unreadable;
	if (!modules)
		return;
	switch (pyobj_dict_find(p, modules, "threading", &p->h_threading, &p->in_modules, &mod)) {
	case 0:
		return; /* threading not imported: no Python names */
	case -1:
		goto unreadable;
	}
	/* PyModuleObject.md_dict follows the object header in 3.9-3.15. */
	if (pyobj_rd_ptr(p->pid, mod + 0x10, &mdict) ||
	    pyobj_dict_find(p, mdict, "_active", &p->h_active, &p->in_threading, &active) != 1)
		goto unreadable;
	{
		uint64_t keys, values;

		if (pyobj_dict_open(p, active, &keys, &values) ||
		    pyobj_keys_each(p, keys, values, 0, NULL, on_active, &a))
			goto unreadable;
	}
	return;
unreadable:
	pt->stats.python_unreadable++;
}

static void refresh_proc(struct pythreads *pt, struct proc *p)
{
	char path[64];
	struct dirent *de;
	uint64_t start;
	uint64_t over = 0;
	DIR *dir;
	int n;

	if (p->gone || p->epoch == pt->epoch)
		return;
	p->epoch = pt->epoch;
	if (!(start = procfs__start_time(p->pid)) || (p->started && start != p->start)) {
		p->gone = true; /* exited, or its PID now belongs to another process */
		return;
	}
	p->start = start;
	p->started = true;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)p->pid);
	n = comm_read(path, p->comm);
	p->comm_ok = n >= 0;
	p->comm_len = n > 0 ? (uint8_t)n : 0;
	pt->stats.refreshes++;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	dir = opendir(path);
	while (dir && (de = readdir(dir))) {
		pid_t tid = atoi(de->d_name);
		struct thread *t;

		if (tid <= 0)
			continue;
		if (!(t = thread_add(p, tid))) {
			over++;
			continue;
		}
		read_comm(pt, p, t);
		if (p->other_ns && t->ns_tid == t->tid)
			t->ns_tid = ns_tid(p->pid, tid);
	}
	if (dir)
		closedir(dir);
	if (over > p->over) {
		pt->stats.threads_over += over - p->over;
		p->over = over;
	}
	if (pt->py)
		read_python(pt, p);
}

static struct proc *proc_get(struct pythreads *pt, pid_t pid)
{
	struct proc **pp = &pt->procs[(unsigned int)pid % PROC_BUCKETS], *p;

	for (p = *pp; p; p = p->next)
		if (p->pid == pid)
			return p;
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->other_ns = !same_pid_ns(pid);
	p->next = *pp;
	*pp = p;
	return p;
}

void pythreads__forget(struct pythreads *pt, pid_t pid)
{
	struct proc **pp, *p;

	if (!pt)
		return;
	for (pp = &pt->procs[(unsigned int)pid % PROC_BUCKETS]; (p = *pp); pp = &p->next) {
		if (p->pid == pid) {
			*pp = p->next;
			free_proc(p);
			return;
		}
	}
}

void pythreads__refresh(struct pythreads *pt)
{
	if (!pt)
		return;
	pt->epoch++;
	for (int b = 0; b < PROC_BUCKETS; b++)
		for (struct proc *p = pt->procs[b]; p; p = p->next)
			refresh_proc(pt, p);
}

static struct thread *lookup(struct pythreads *pt, pid_t pid, pid_t tid)
{
	struct proc *p;
	struct thread *t;

	if (!pt)
		return NULL;
	p = proc_get(pt, pid);
	refresh_proc(pt, p);
	t = thread_get(p, tid);
	/* Born since this refresh: its OS name now, its Python name next time. */
	if (!t && !p->gone && (t = thread_add(p, tid)))
		read_comm(pt, p, t);
	return t;
}

const char *pythreads__name(struct pythreads *pt, pid_t pid, pid_t tid)
{
	struct thread *t = lookup(pt, pid, tid);

	if (!t)
		return NULL;
	return t->use_py && t->py ? t->py : t->os ? t->os : t->py;
}

int pythreads__is_python(struct pythreads *pt, pid_t pid, pid_t tid)
{
	struct thread *t = lookup(pt, pid, tid);

	return t && t->py && (t->use_py || !t->os);
}

void pythreads__names(struct pythreads *pt, pid_t pid, pid_t tid, const char **os, const char **py)
{
	struct thread *t = lookup(pt, pid, tid);

	*os = t ? t->os : NULL;
	*py = t ? t->py : NULL;
}
