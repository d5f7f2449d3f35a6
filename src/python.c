// SPDX-License-Identifier: GPL-2.0
/* CPython 3.9-3.15: where its runtime lives, how its frames and code objects
 * are laid out, and how to turn (code, offset) into "qualname (file:line)".
 * The layouts come from src/cpython_layouts.c (offsetof() over each
 * version's headers) and, for 3.13+, from the interpreter's own
 * _Py_DebugOffsets, read at attach time, where it has them.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "cpython_layouts.h"
#include "elf_syms.h"
#include "python.h"
#include "symbolize.h"
#include "utf8.h"
#include "util.h"

/* glibc's struct pthread keeps the kernel tid here on x86-64 (2.31 to 2.43,
 * see docs/cpython-internals.md); pthread_t points at struct pthread.
 */
#define GLIBC_PTHREAD_TID 0x2d0
#define MAX_LINETABLE	  (1 << 20)
/* Threads of one interpreter a userspace walk maps. */
#define PY_SNAPSHOT_MAX_THREADS 65536
#define CODE_BUCKETS		16384
#define CODE_PID_BUCKETS	1024
#define MAX_INTERP_RANGES	8

/* Where a code object keeps what names a frame. */
struct code_layout {
	uint16_t filename, name, qualname, firstlineno, linetable;
	uint16_t ascii_data, compact_data; /* unicode: sizeof PyASCII/PyCompactUnicodeObject */
};

struct py_target {
	pid_t pid;
	bool unsupported; /* CPython we cannot walk: remembered so it is said once */
	int minor;
	struct py_proc bpf;
	struct code_layout code;
	uint64_t ranges[MAX_INTERP_RANGES][2];
	int nranges;
	bool has_fp;
	/* The GIL: embedded in _PyRuntime (3.9-3.11) or pointed to by the
	 * interpreter (3.12+: interp->ceval.gil).
	 */
	uint64_t gil_runtime_off, gil_interp_ptr_off;
	char describe[320];
	/* Userspace walks: kernel tid -> thread state, from one list walk. */
	struct tstate_map {
		pid_t tid;
		uint64_t tstate;
	} * tmap;
	size_t ntmap, tmap_cap;
	struct py_target *next;
};

#define TARGET_BUCKETS 256

struct code_info;

struct python {
	struct py_target *targets[TARGET_BUCKETS];
	struct code_info *codes[CODE_BUCKETS];	    /* by id */
	struct code_info *snap_codes[CODE_BUCKETS]; /* userspace ids, by (pid, addr) */
	struct code_info *by_pid[CODE_PID_BUCKETS]; /* every live entry, by process */
	struct code_info *retired; /* set aside with their process, freed next release */
	uint64_t last_user_id;
	struct python_stats stats;
	/* tid -> thread state of one process, from one walk of its thread list:
	 * snapshots of thousands of threads would otherwise walk it once each.
	 */
	struct tstate_index {
		pid_t pid;
		uint64_t built_ns;
		size_t n, cap;
		struct tstate_entry {
			uint32_t tid;
			uint64_t tstate;
		} * e;
	} tsi;
};

static void free_codes(struct python *py);

struct python *python__new(void)
{
	return xcalloc(1, sizeof(struct python));
}

void python__free(struct python *py)
{
	if (!py)
		return;
	for (int i = 0; i < TARGET_BUCKETS; i++) {
		for (struct py_target *t = py->targets[i], *n; t; t = n) {
			n = t->next;
			free(t->tmap);
			free(t);
		}
	}
	free_codes(py);
	free(py->tsi.e);
	free(py);
}

static struct py_target *target_get(struct python *py, pid_t pid)
{
	for (struct py_target *t = py->targets[(unsigned int)pid % TARGET_BUCKETS]; t; t = t->next)
		if (t->pid == pid)
			return t;
	return NULL;
}

void python__forget(struct python *py, pid_t pid)
{
	struct py_target **pp = &py->targets[(unsigned int)pid % TARGET_BUCKETS];

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			struct py_target *t = *pp;

			*pp = t->next;
			free(t->tmap);
			free(t);
			return;
		}
	}
}

static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

/* ---- Layouts ---------------------------------------------------------- */

/* The walker's view of a layout (src/cpython_layouts.c): which fields it
 * follows in each version, and how it reads the instruction pointer.
 */
static void layout_to_proc(const struct cpython_layout *l, int minor, struct py_proc *p,
			   struct code_layout *c)
{
	p->rt_interp_head = l->runtime_state.interpreters_head;
	p->interp_threads = l->interpreter_state.threads_head;
	p->ts_next = l->thread_state.next;
	p->ts_thread_id = l->thread_state.thread_id;
	p->cframe_current = PY_OFF_NONE;
	p->fr_previous = l->interpreter_frame.previous;
	p->fr_code = l->interpreter_frame.executable;
	p->fr_ip = l->interpreter_frame.instr_ptr;
	/* 3.11 has no shim frames: is_entry only marks C entries. */
	p->fr_owner = minor >= 12 ? l->interpreter_frame.owner : PY_OFF_NONE;
	p->fr_is_entry = minor == 11 ? l->interpreter_frame.is_entry : PY_OFF_NONE;
	/* Frames owned by the C stack (3.12, 3.13) or the interpreter (3.14+)
	 * are shims: the lowest such owner value and all above it are skipped.
	 */
	p->owner_skip_min = minor >= 14	  ? l->values.frame_owned_by_interpreter
			    : minor >= 12 ? l->values.frame_owned_by_cstack
					  : 0xff;
	p->code_tag_mask = minor >= 14 ? l->values.py_tag_bits : 0;
	if (minor <= 10) {
		p->ts_frame = l->thread_state.frame;
		p->ip_mode = minor == 9 ? PY_IP_LASTI_BYTES : PY_IP_LASTI_WORDS;
	} else {
		p->ts_frame = minor <= 12 ? l->thread_state.cframe : l->thread_state.current_frame;
		if (minor <= 12)
			p->cframe_current = l->cframe.current_frame;
		p->ip_mode = PY_IP_POINTER;
		p->co_code_adaptive = l->code_object.co_code_adaptive;
	}
	c->filename = l->code_object.filename;
	c->name = l->code_object.name;
	c->qualname = minor >= 11 ? l->code_object.qualname : c->name; /* no co_qualname */
	c->firstlineno = l->code_object.firstlineno;
	c->linetable = l->code_object.linetable;
	c->ascii_data = l->unicode_object.asciiobject_size;
	c->compact_data = l->unicode_object.compactunicodeobject_size;
	p->gil_last_holder = l->gil_runtime_state.last_holder;
	p->gil_locked = l->gil_runtime_state.locked;
	p->gil_cond = l->gil_runtime_state.cond;
	p->gil_mutex = l->gil_runtime_state.mutex;
	p->gil_switch_cond = l->gil_runtime_state.switch_cond;
}

/* 3.13+: the fields the walker needs that the interpreter's own
 * _Py_DebugOffsets (d, a copy of its first bytes) has, in place of the
 * table's. The frame-owner enum, the stack-ref tags, the GIL's futex words
 * and (before 3.15) the compact str size are not there: the table's stay.
 */
static int layout_from_debug_offsets(const uint8_t *d, const struct cpython_debug_offsets *dbg,
				     struct cpython_layout *l, char *why, size_t why_len)
{
	const struct cpython_layout *pos = &dbg->pos;
	const struct {
		const char *name;
		uint32_t pos;
		uint32_t *dst;
	} fields[] = {
#define F(f) { #f, pos->f, &l->f }
		F(runtime_state.interpreters_head),
		F(interpreter_state.threads_head),
		F(thread_state.next),
		F(thread_state.current_frame),
		F(thread_state.thread_id),
		F(interpreter_frame.previous),
		F(interpreter_frame.executable),
		F(interpreter_frame.instr_ptr),
		F(interpreter_frame.owner),
		F(code_object.filename),
		F(code_object.name),
		F(code_object.qualname),
		F(code_object.linetable),
		F(code_object.firstlineno),
		F(code_object.co_code_adaptive),
		F(unicode_object.asciiobject_size),
		F(unicode_object.compactunicodeobject_size),
		F(gil_runtime_state.last_holder),
		F(gil_runtime_state.locked),
		F(interpreter_state.gil_runtime_state),
#undef F
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!fields[i].pos)
			continue;
		memcpy(&v, d + fields[i].pos, sizeof(v));
		/* All of these are small offsets; anything else is not a layout we know. */
		if (v > 0xffff) {
			snprintf(why, why_len, "_Py_DebugOffsets' %s holds 0x%llx", fields[i].name,
				 (unsigned long long)v);
			return -1;
		}
		*fields[i].dst = (uint32_t)v;
	}
	/* The GIL's holder and locked flag are there from the interpreter
	 * state: from the GIL, they lie inside it.
	 */
	if (pos->gil_runtime_state.locked) {
		uint32_t gil = l->interpreter_state.gil_runtime_state;

		if (l->gil_runtime_state.locked < gil || l->gil_runtime_state.last_holder < gil ||
		    l->gil_runtime_state.locked - gil >= l->gil_runtime_state.cond ||
		    l->gil_runtime_state.last_holder - gil >= l->gil_runtime_state.cond) {
			snprintf(why, why_len,
				 "_Py_DebugOffsets put the GIL's holder and locked flag at 0x%x "
				 "and 0x%x, its state at 0x%x",
				 l->gil_runtime_state.last_holder, l->gil_runtime_state.locked,
				 gil);
			return -1;
		}
		l->gil_runtime_state.locked -= gil;
		l->gil_runtime_state.last_holder -= gil;
	}
	return 0;
}

static void set_read_size(struct py_proc *p)
{
	uint16_t offs[] = { p->fr_previous, p->fr_code, p->fr_ip, p->fr_owner, p->fr_is_entry };
	unsigned int end = 0;

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		if (offs[i] != PY_OFF_NONE && offs[i] + 8u > end)
			end = offs[i] + 8u;
	p->fr_read_size = end > PY_FRAME_READ_MAX ? PY_FRAME_READ_MAX : end;
}

/* Tell the kernel where code objects and strings keep what names a frame. */
static int set_code_layout(struct py_proc *p, const struct code_layout *c)
{
	uint16_t offs[] = { c->filename, c->name, c->qualname, c->linetable, c->firstlineno, 0x18 };
	unsigned int end = 0;

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		if (offs[i] + 8u > end)
			end = offs[i] + 8u;
	if (end > PY_CODE_READ_MAX)
		return -1;
	p->co_filename = c->filename;
	p->co_name = c->name;
	p->co_qualname = c->qualname;
	p->co_linetable = c->linetable;
	p->co_firstlineno = c->firstlineno;
	p->co_read_size = (uint16_t)end;
	p->uni_ascii_data = c->ascii_data;
	p->uni_compact_data = c->compact_data;
	return 0;
}

/* ---- Finding the interpreter ----------------------------------------- */

struct find_ctx {
	pid_t pid;
	const char *path;
	const struct elf_syms *es;
	uint64_t bias, runtime, runtime_size, version_sym;
	uint64_t eval_fn;
	struct py_target *t;
};

static int find_runtime(const char *path, const struct elf_syms *es, uint64_t bias, uint64_t start,
			uint64_t end, void *vctx)
{
	struct find_ctx *ctx = vctx;
	uint64_t size = 0, rt = elf_syms__find_size(es, "_PyRuntime", &size);

	if (!rt)
		return 0;
	ctx->path = path;
	ctx->es = es;
	ctx->bias = bias;
	ctx->runtime = rt + bias;
	ctx->runtime_size = size;
	ctx->version_sym = elf_syms__find(es, "Py_Version");
	if (ctx->version_sym)
		ctx->version_sym += bias;
	ctx->eval_fn = elf_syms__find(es, "_PyEval_EvalFrameDefault");
	if (ctx->eval_fn)
		ctx->eval_fn += bias;
	return 1;
}

static int collect_ranges(const char *path, const struct elf_syms *es, uint64_t bias,
			  uint64_t start, uint64_t end, void *vctx)
{
	struct find_ctx *ctx = vctx;

	if (es == ctx->es && ctx->t->nranges < MAX_INTERP_RANGES) {
		ctx->t->ranges[ctx->t->nranges][0] = start;
		ctx->t->ranges[ctx->t->nranges][1] = end;
		ctx->t->nranges++;
	}
	return 0;
}

/* Minor version from a file name: python3.11, libpython3.11.so.1.0, python3.13t. */
static int minor_from_name(const char *path, char *suffix)
{
	const char *base = strrchr(path, '/');
	regex_t re;
	regmatch_t m[3];
	int minor = -1;

	base = base ? base + 1 : path;
	*suffix = '\0';
	if (regcomp(&re, "^(lib)?python3\\.([0-9]+)([a-z]*)", REG_EXTENDED))
		return -1;
	if (!regexec(&re, base, 3, m, 0)) {
		minor = atoi(base + m[2].rm_so);
		if (base[m[2].rm_eo] >= 'a' && base[m[2].rm_eo] <= 'z')
			*suffix = base[m[2].rm_eo];
	}
	regfree(&re);
	return minor;
}

static void add_target(struct python *py, struct py_target *t)
{
	unsigned int b = (unsigned int)t->pid % TARGET_BUCKETS;

	t->next = py->targets[b];
	py->targets[b] = t;
}

static enum python_inspect inspect(struct python *py, struct symbolizer *sym, pid_t pid,
				   struct py_proc *out, char *why, size_t why_len);

enum python_inspect python__inspect(struct python *py, struct symbolizer *sym, pid_t pid,
				    struct py_proc *out, char *why, size_t why_len)
{
	enum python_inspect ret;
	struct py_target *t;

	why[0] = '\0';
	python__forget(py, pid);
	ret = inspect(py, sym, pid, out, why, why_len);
	if (ret == PYTHON_UNSUPPORTED) {
		t = xcalloc(1, sizeof(*t));
		t->pid = pid;
		t->unsupported = true;
		add_target(py, t);
	}
	return ret;
}

bool python__checked(struct python *py, pid_t pid)
{
	return target_get(py, pid) != NULL;
}

static enum python_inspect inspect(struct python *py, struct symbolizer *sym, pid_t pid,
				   struct py_proc *out, char *why, size_t why_len)
{
	struct find_ctx ctx = { .pid = pid };
	struct cpython_layout layout;
	uint8_t dbg[1024];
	struct py_target *t;
	uint32_t hexversion = 0;
	int minor = -1;
	char suffix;

	if (symbolizer__for_each_module(sym, pid, find_runtime, &ctx) <= 0)
		return PYTHON_NONE;

	minor = minor_from_name(ctx.path, &suffix);
	if (suffix == 't') {
		snprintf(why, why_len,
			 "%s is a free-threaded build: it has no GIL and its layout "
			 "differs; Python frames are not walked",
			 ctx.path);
		return PYTHON_UNSUPPORTED;
	}
	/* 3.13+: the runtime starts with _Py_DebugOffsets. */
	if (!read_mem(pid, ctx.runtime, dbg, sizeof(dbg)) && !memcmp(dbg, "xdebugpy", 8)) {
		uint64_t v, ft;

		memcpy(&v, dbg + 8, 8);
		memcpy(&ft, dbg + 16, 8);
		hexversion = (uint32_t)v;
		if (ft) {
			snprintf(why, why_len,
				 "%s is a free-threaded build (no GIL); Python frames "
				 "are not walked",
				 ctx.path);
			return PYTHON_UNSUPPORTED;
		}
	} else if (ctx.version_sym) {
		read_mem(pid, ctx.version_sym, &hexversion, sizeof(hexversion));
	}
	if (hexversion) {
		if ((hexversion >> 24) != 3) {
			snprintf(why, why_len, "%s reports version 0x%08x", ctx.path, hexversion);
			return PYTHON_UNSUPPORTED;
		}
		minor = (hexversion >> 16) & 0xff;
	} else if (minor < 0) {
		/* 3.9 and 3.10 export no version: tell them apart by the runtime's size. */
		minor = ctx.runtime_size == 0x290 ? 9 : ctx.runtime_size == 0x2a0 ? 10 : -1;
	}
	if (minor < 9 || minor > 15) {
		snprintf(why, why_len, "%s is CPython 3.%d; rampa-bpf walks 3.9 to 3.15", ctx.path,
			 minor);
		return PYTHON_UNSUPPORTED;
	}
	if (suffix == 'd' && minor < 13) {
		snprintf(why, why_len, "%s is a debug build of 3.%d, whose layout differs",
			 ctx.path, minor);
		return PYTHON_UNSUPPORTED;
	}
	if (minor >= 13 && (!hexversion || memcmp(dbg, "xdebugpy", 8))) {
		snprintf(why, why_len, "%s: CPython 3.%d without readable _Py_DebugOffsets",
			 ctx.path, minor);
		return PYTHON_UNSUPPORTED;
	}

	layout = *cpython_layouts__get(minor);
	if (minor >= 13 &&
	    layout_from_debug_offsets(dbg, cpython_layouts__debug(minor), &layout, why, why_len))
		return PYTHON_UNSUPPORTED;
	t = xcalloc(1, sizeof(*t));
	t->pid = pid;
	t->minor = minor;
	t->bpf.runtime = ctx.runtime;
	t->bpf.version = 0x0300 | minor;
	layout_to_proc(&layout, minor, &t->bpf, &t->code);
	set_read_size(&t->bpf);
	if (set_code_layout(&t->bpf, &t->code)) {
		snprintf(why, why_len, "%s: CPython 3.%d code objects lie beyond %d bytes",
			 ctx.path, minor, PY_CODE_READ_MAX);
		free(t);
		return PYTHON_UNSUPPORTED;
	}
	/* The GIL: in _PyRuntime (3.9-3.11), else pointed to by the interpreter. */
	if (minor <= 11)
		t->gil_runtime_off = layout.runtime_state.ceval_gil;
	else if (minor == 12)
		t->gil_interp_ptr_off = layout.interpreter_state.ceval_gil;
	else
		memcpy(&t->gil_interp_ptr_off,
		       dbg + cpython_layouts__debug(minor)->pos.interpreter_state.ceval_gil, 8);
	/* Frame pointers: the eval loop starts with push %rbp; mov %rsp,%rbp. */
	if (ctx.eval_fn) {
		uint8_t code[8];

		if (!read_mem(pid, ctx.eval_fn, code, sizeof(code))) {
			const uint8_t *c = code;

			if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
				c += 4; /* endbr64 */
			t->has_fp = c[0] == 0x55 && c[1] == 0x48 && c[2] == 0x89 && c[3] == 0xe5;
		}
	}
	t->bpf.native_leaf_only = !t->has_fp;
	ctx.t = t;
	symbolizer__for_each_module(sym, pid, collect_ranges, &ctx);
	snprintf(t->describe, sizeof(t->describe), "CPython 3.%d (%s)", minor, ctx.path);
	add_target(py, t);
	*out = t->bpf;
	return PYTHON_FOUND;
}

uint64_t python__gil(struct python *py, pid_t pid)
{
	struct py_target *t = target_get(py, pid);
	uint64_t interp = 0, gil = 0;

	if (!t || t->unsupported)
		return 0;
	if (t->gil_runtime_off)
		return t->bpf.runtime + t->gil_runtime_off;
	if (!t->gil_interp_ptr_off || t->gil_interp_ptr_off > 0x10000)
		return 0;
	/* Set during interpreter start-up: 0 until then. */
	if (read_mem(pid, t->bpf.runtime + t->bpf.rt_interp_head, &interp, 8) || !interp ||
	    read_mem(pid, interp + t->gil_interp_ptr_off, &gil, 8))
		return 0;
	return gil;
}

pid_t python__tstate_tid(struct python *py, pid_t pid, uint64_t tstate)
{
	struct py_target *t = target_get(py, pid);
	uint64_t pthread;
	uint32_t tid;

	if (!t || t->unsupported || read_mem(pid, tstate + t->bpf.ts_thread_id, &pthread, 8) ||
	    read_mem(pid, pthread + GLIBC_PTHREAD_TID, &tid, 4))
		return 0;
	return (pid_t)tid;
}

const char *python__describe(struct python *py, pid_t pid)
{
	struct py_target *t = target_get(py, pid);

	return t && !t->unsupported ? t->describe : NULL;
}

bool python__in_interpreter(struct python *py, pid_t pid, uint64_t addr)
{
	struct py_target *t = target_get(py, pid);

	for (int i = 0; t && i < t->nranges; i++)
		if (addr >= t->ranges[i][0] && addr < t->ranges[i][1])
			return true;
	return false;
}

bool python__has_frame_pointers(struct python *py, pid_t pid)
{
	struct py_target *t = target_get(py, pid);

	return t && t->has_fp;
}

/* ---- Walking from userspace ------------------------------------------- */

static uint64_t code_from_memory(struct python *py, struct py_target *t, uint64_t addr);

static int tstate_index_build(struct tstate_index *x, pid_t pid, const struct py_proc *p)
{
	uint64_t interp, ts = 0;

	x->pid = pid;
	x->n = 0;
	x->built_ns = mono_ns();
	if (read_mem(pid, p->runtime + p->rt_interp_head, &interp, 8) || !interp ||
	    read_mem(pid, interp + p->interp_threads, &ts, 8))
		return -1;
	for (int i = 0; ts && i < RAMPA_PY_MAX_THREADS; i++) {
		uint64_t pthread;
		uint32_t ktid;

		if (!read_mem(pid, ts + p->ts_thread_id, &pthread, 8) &&
		    !read_mem(pid, pthread + GLIBC_PTHREAD_TID, &ktid, 4)) {
			grow_array((void **)&x->e, &x->cap, x->n + 1, sizeof(*x->e));
			x->e[x->n++] = (struct tstate_entry){ ktid, ts };
		}
		if (read_mem(pid, ts + p->ts_next, &ts, 8))
			return -1;
	}
	return 0;
}

/* The thread state of tid, from an index of the process's threads at most
 * 2 s old, so one snapshot of thousands of threads walks the list about once
 * (a miss does not walk again: native threads have none). 0 when the thread
 * has none.
 */
static uint64_t find_tstate(struct python *py, pid_t pid, pid_t tid, const struct py_proc *p)
{
	struct tstate_index *x = &py->tsi;

	if ((x->pid != pid || mono_ns() - x->built_ns >= 2000000000ull) &&
	    tstate_index_build(x, pid, p))
		return 0;
	for (size_t i = 0; i < x->n; i++)
		if (x->e[i].tid == (uint32_t)tid)
			return x->e[i].tstate;
	return 0;
}

int python__snapshot(struct python *py, pid_t pid, pid_t tid, struct py_stack *out)
{
	struct py_target *t = target_get(py, pid);
	const struct py_proc *p;
	uint64_t ts = 0, frame = 0;
	uint8_t buf[PY_FRAME_READ_MAX];

	out->depth = 0;
	out->truncated = 0;
	out->nentries = 0;
	if (!t || t->unsupported)
		return -1;
	p = &t->bpf;
	ts = find_tstate(py, pid, tid, p);
	if (!ts || read_mem(pid, ts + p->ts_frame, &frame, 8))
		return -1;
	if (frame && p->cframe_current != PY_OFF_NONE &&
	    read_mem(pid, frame + p->cframe_current, &frame, 8))
		return -1;
	/* The same rules as bpf/pystack.bpf.h. */
	for (int i = 0; frame && i < 2 * RAMPA_PY_MAX_DEPTH; i++) {
		uint64_t code = 0, ip = 0, prev = 0;
		struct py_frame *f;
		int64_t off;

		if (read_mem(pid, frame, buf, p->fr_read_size))
			return out->depth ? 0 : -1;
		memcpy(&code, buf + p->fr_code, 8);
		memcpy(&prev, buf + p->fr_previous, 8);
		code &= ~(uint64_t)p->code_tag_mask;
		frame = prev;
		if (p->fr_owner != PY_OFF_NONE && buf[p->fr_owner] >= p->owner_skip_min) {
			if (out->depth)
				out->frames[out->depth - 1].flags |= PY_FRAME_ENTRY;
			continue;
		}
		if (!code)
			continue;
		if (out->depth >= RAMPA_PY_MAX_DEPTH) {
			out->truncated = 1;
			break;
		}
		if (p->ip_mode == PY_IP_POINTER) {
			memcpy(&ip, buf + p->fr_ip, 8);
			off = ip ? (int64_t)(ip - (code + p->co_code_adaptive)) : -2;
		} else {
			int32_t lasti;

			memcpy(&lasti, buf + p->fr_ip, 4);
			off = p->ip_mode == PY_IP_LASTI_WORDS ? 2 * (int64_t)lasti : lasti;
		}
		f = &out->frames[out->depth++];
		f->offset = (int32_t)off;
		f->flags = p->ip_mode != PY_IP_POINTER ? PY_FRAME_ENTRY : 0;
		if (p->fr_is_entry != PY_OFF_NONE && buf[p->fr_is_entry])
			f->flags = PY_FRAME_ENTRY;
		/* Named now, while the thread sleeps in it: an id of our own. */
		f->code = code_from_memory(py, t, code);
		if (!f->code) {
			f->code = code;
			f->flags |= PY_FRAME_CODE_UNREADABLE;
		}
	}
	return 0;
}

/* ---- Code objects ----------------------------------------------------- */

/* What names one code object, as it was when the kernel (or a snapshot)
 * first saw it. Kept while its process lives (ids are never reused), set
 * aside when it exits or execs, freed one drain later.
 */
struct code_info {
	uint64_t id;
	pid_t pid;
	int minor;
	uint64_t addr;
	uint64_t filename_ptr, name_ptr, qualname_ptr, linetable_ptr;
	int firstlineno;
	char *qualname, *filename; /* UTF-8; NULL: unreadable at first sight */
	uint8_t *linetable;	   /* NULL: none read */
	uint32_t linetable_len;
	bool linetable_cut; /* longer than what was copied */
	bool memory_tried;  /* a fallback read from the target was tried */
	bool label_cut;	    /* its label was cut (counted once) */
	struct code_info *next;
	struct code_info *next_addr; /* userspace entries, by (pid, addr) */
	struct code_info *next_pid;  /* by_pid chain, then the retired list */
};

static unsigned int code_bucket(uint64_t id)
{
	return (unsigned int)((id * 0x9e3779b97f4a7c15ULL) >> 50) % CODE_BUCKETS;
}

static void code_free(struct code_info *c)
{
	free(c->qualname);
	free(c->filename);
	free(c->linetable);
	free(c);
}

static void free_codes(struct python *py)
{
	for (int i = 0; i < CODE_BUCKETS; i++) {
		for (struct code_info *c = py->codes[i], *n; c; c = n) {
			n = c->next;
			code_free(c);
		}
		py->codes[i] = NULL;
		py->snap_codes[i] = NULL;
	}
	memset(py->by_pid, 0, sizeof(py->by_pid));
	py->retired = NULL;
	py->stats.codes_held = 0;
}

static struct code_info *code_find(const struct python *py, uint64_t id)
{
	for (struct code_info *c = py->codes[code_bucket(id)]; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void code_add(struct python *py, struct code_info *c)
{
	unsigned int b = code_bucket(c->id), pb = (unsigned int)c->pid % CODE_PID_BUCKETS;

	c->next = py->codes[b];
	py->codes[b] = c;
	c->next_pid = py->by_pid[pb];
	py->by_pid[pb] = c;
	py->stats.codes_held++;
}

size_t python__retire_codes(struct python *py, pid_t pid,
			    void (*drop)(pid_t pid, uint64_t addr, void *ctx), void *ctx)
{
	struct code_info **pp = &py->by_pid[(unsigned int)pid % CODE_PID_BUCKETS], *c;
	size_t n = 0;

	while ((c = *pp)) {
		if (c->pid != pid) {
			pp = &c->next_pid;
			continue;
		}
		*pp = c->next_pid;
		if (c->id >> 63) {
			/* A later process with this PID must not match it. */
			unsigned int b = code_bucket(c->addr ^ (uint64_t)c->pid);

			for (struct code_info **ap = &py->snap_codes[b]; *ap;
			     ap = &(*ap)->next_addr)
				if (*ap == c) {
					*ap = c->next_addr;
					break;
				}
		} else if (drop) {
			drop(pid, c->addr, ctx);
		}
		c->next_pid = py->retired;
		py->retired = c;
		n++;
	}
	py->stats.codes_dropped += n;
	return n;
}

void python__release_codes(struct python *py)
{
	for (struct code_info *c = py->retired, *n; c; c = n) {
		n = c->next_pid;
		for (struct code_info **pp = &py->codes[code_bucket(c->id)]; *pp; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		code_free(c);
		py->stats.codes_held--;
	}
	py->retired = NULL;
}

char *python__decode_str(uint32_t state, int64_t length, const uint8_t *data, uint32_t nbytes,
			 unsigned int *nbad, bool *cut)
{
	unsigned int kind = (state >> 2) & 7;
	uint64_t total, nchars, head;
	char *s, *o;

	*cut = false;
	if ((kind != 1 && kind != 2 && kind != 4) || length < 0)
		return NULL;
	total = (uint64_t)length * kind;
	if (nbytes > total)
		nbytes = (uint32_t)total;
	nbytes -= nbytes % kind;
	nchars = nbytes / kind;
	/* Fewer bytes than the string has: the first and last halves. */
	*cut = nbytes < total;
	head = *cut ? nchars / 2 : nchars;
	s = o = xmalloc(nchars * 4 + sizeof(PY_CUT_MARK));
	for (uint64_t i = 0; i < nchars; i++) {
		uint32_t cp = kind == 1	  ? data[i]
			      : kind == 2 ? (uint32_t)data[2 * i] | (uint32_t)data[2 * i + 1] << 8
					  : (uint32_t)data[4 * i] | (uint32_t)data[4 * i + 1] << 8 |
						(uint32_t)data[4 * i + 2] << 16 |
						(uint32_t)data[4 * i + 3] << 24;

		if (i == head && *cut) {
			memcpy(o, PY_CUT_MARK, sizeof(PY_CUT_MARK) - 1);
			o += sizeof(PY_CUT_MARK) - 1;
		}
		/* A target's memory can hold anything: NUL, lone surrogates and
		 * values past Unicode are not text.
		 */
		if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
			cp = 0xfffd;
			(*nbad)++;
		}
		o += utf8_encode(cp, o);
	}
	*o = '\0';
	return s;
}

void python__code_event(struct python *py, const struct py_code_event *e)
{
	struct code_info *c;
	unsigned int nbad = 0;
	bool cut;

	if (code_find(py, e->id))
		return;
	c = xcalloc(1, sizeof(*c));
	c->id = e->id;
	c->pid = (pid_t)e->pid;
	c->minor = e->version & 0xff;
	c->addr = e->addr;
	c->filename_ptr = e->filename_ptr;
	c->name_ptr = e->name_ptr;
	c->qualname_ptr = e->qualname_ptr;
	c->linetable_ptr = e->linetable_ptr;
	c->firstlineno = e->firstlineno;
	if (e->qualname.ok) {
		c->qualname = python__decode_str(e->qualname.state, e->qualname.length,
						 e->qualname.data, e->qualname.nbytes, &nbad, &cut);
		py->stats.names_cut += cut;
	}
	if (e->filename.ok) {
		c->filename = python__decode_str(e->filename.state, e->filename.length,
						 e->filename.data, e->filename.nbytes, &nbad, &cut);
		py->stats.names_cut += cut;
	}
	py->stats.invalid_chars += nbad;
	if (e->linetable_ok && e->linetable_copied <= PY_CODE_LINETABLE_BYTES) {
		c->linetable = xmalloc(e->linetable_copied ? e->linetable_copied : 1);
		memcpy(c->linetable, e->linetable, e->linetable_copied);
		c->linetable_len = e->linetable_copied;
		c->linetable_cut = e->linetable_len > e->linetable_copied;
	}
	py->stats.code_events++;
	code_add(py, c);
}

/* A str object read from the target now, or NULL. */
static char *read_unicode(struct python *py, pid_t pid, uint64_t addr, const struct code_layout *l)
{
	uint8_t hdr[0x28], data[PY_CODE_STR_BYTES];
	uint32_t state, kind, half = PY_CODE_STR_BYTES / 2, nbytes;
	uint64_t data_addr, total;
	unsigned int nbad = 0;
	int64_t len;
	char *s;
	bool cut;

	if (!addr || read_mem(pid, addr, hdr, sizeof(hdr)))
		return NULL;
	memcpy(&len, hdr + 0x10, 8);
	memcpy(&state, hdr + 0x20, 4);
	kind = (state >> 2) & 7;
	if (len < 0 || len > (1 << 28) || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	if ((state >> 5) & 1)
		data_addr = addr + ((state >> 6) & 1 ? l->ascii_data : l->compact_data);
	else if (read_mem(pid, addr + l->compact_data, &data_addr, 8))
		return NULL;
	total = (uint64_t)len * kind;
	if (total <= sizeof(data)) {
		nbytes = (uint32_t)total;
		if (nbytes && read_mem(pid, data_addr, data, nbytes))
			return NULL;
	} else {
		nbytes = sizeof(data);
		if (read_mem(pid, data_addr, data, half) ||
		    read_mem(pid, data_addr + total - half, data + half, half))
			return NULL;
	}
	s = python__decode_str(state, len, data, nbytes, &nbad, &cut);
	py->stats.invalid_chars += nbad;
	py->stats.names_cut += cut;
	return s;
}

/* The code object at c->addr still has the identity c was captured with. */
static bool code_same(pid_t pid, const struct code_info *c, const struct code_layout *l)
{
	uint8_t hdr[PY_CODE_READ_MAX];
	uint64_t fn, nm, qn, lt;
	int32_t first;

	if (read_mem(pid, c->addr, hdr, PY_CODE_READ_MAX))
		return false;
	memcpy(&fn, hdr + l->filename, 8);
	memcpy(&nm, hdr + l->name, 8);
	memcpy(&qn, hdr + l->qualname, 8);
	memcpy(&lt, hdr + l->linetable, 8);
	memcpy(&first, hdr + l->firstlineno, 4);
	return fn == c->filename_ptr && nm == c->name_ptr && qn == c->qualname_ptr &&
	       lt == c->linetable_ptr && first == c->firstlineno;
}

/* The kernel could not read part of what names c (paged out, cut line
 * table): read it from the target, only while the object there is still the
 * one the kernel saw. Done once per code object.
 */
static void code_complete(struct python *py, struct code_info *c)
{
	struct py_target *t = target_get(py, c->pid);
	uint64_t size = 0;

	if (c->memory_tried || !t || t->unsupported)
		return;
	c->memory_tried = true;
	if (!code_same(c->pid, c, &t->code))
		return;
	if (!c->qualname)
		c->qualname = read_unicode(py, c->pid, c->qualname_ptr, &t->code);
	if (!c->filename)
		c->filename = read_unicode(py, c->pid, c->filename_ptr, &t->code);
	if ((!c->linetable || c->linetable_cut) && c->linetable_ptr &&
	    !read_mem(c->pid, c->linetable_ptr + 0x10, &size, 8) && size > 0 &&
	    size <= MAX_LINETABLE) {
		uint8_t *tab = xmalloc(size);

		if (!read_mem(c->pid, c->linetable_ptr + 0x20, tab, size) &&
		    code_same(c->pid, c, &t->code)) {
			free(c->linetable);
			c->linetable = tab;
			c->linetable_len = (uint32_t)size;
			c->linetable_cut = false;
		} else {
			free(tab);
		}
	}
	py->stats.memory_reads++;
}

/* A code object met by a userspace walk: named from the target right now,
 * under an id of userspace's own (bit 63). Reused while its identity holds.
 */
static uint64_t code_from_memory(struct python *py, struct py_target *t, uint64_t addr)
{
	const struct code_layout *l = &t->code;
	unsigned int b = code_bucket(addr ^ (uint64_t)t->pid);
	uint8_t hdr[PY_CODE_READ_MAX];
	struct code_info *c, probe = { .addr = addr };
	uint64_t size = 0;

	if (read_mem(t->pid, addr, hdr, PY_CODE_READ_MAX))
		return 0;
	memcpy(&probe.filename_ptr, hdr + l->filename, 8);
	memcpy(&probe.name_ptr, hdr + l->name, 8);
	memcpy(&probe.qualname_ptr, hdr + l->qualname, 8);
	memcpy(&probe.linetable_ptr, hdr + l->linetable, 8);
	memcpy(&probe.firstlineno, hdr + l->firstlineno, 4);
	for (c = py->snap_codes[b]; c; c = c->next_addr) {
		char *q;
		bool same;

		if (c->pid != t->pid || c->addr != addr || c->filename_ptr != probe.filename_ptr ||
		    c->name_ptr != probe.name_ptr || c->qualname_ptr != probe.qualname_ptr ||
		    c->linetable_ptr != probe.linetable_ptr || c->firstlineno != probe.firstlineno)
			continue;
		/* Pointers can match for another object: the name must too. */
		q = read_unicode(py, t->pid, probe.qualname_ptr, l);
		same = q && c->qualname && !strcmp(q, c->qualname);
		free(q);
		if (same)
			return c->id;
	}
	c = xmalloc(sizeof(*c));
	*c = probe;
	c->id = (1ULL << 63) | ++py->last_user_id;
	c->pid = t->pid;
	c->minor = t->minor;
	c->memory_tried = true;
	c->qualname = read_unicode(py, t->pid, c->qualname_ptr, l);
	c->filename = read_unicode(py, t->pid, c->filename_ptr, l);
	if (c->linetable_ptr && !read_mem(t->pid, c->linetable_ptr + 0x10, &size, 8) && size > 0 &&
	    size <= MAX_LINETABLE) {
		c->linetable = xmalloc(size);
		if (read_mem(t->pid, c->linetable_ptr + 0x20, c->linetable, size)) {
			free(c->linetable);
			c->linetable = NULL;
		} else {
			c->linetable_len = (uint32_t)size;
		}
	}
	py->stats.memory_reads++;
	code_add(py, c);
	c->next_addr = py->snap_codes[b];
	py->snap_codes[b] = c;
	return c->id;
}

/* Does a 3.9 lnotab (pairs of byte and line deltas) reach past addr? */
static bool lnotab_covers(const uint8_t *tab, int n, int addr)
{
	int a = 0;

	for (int i = 0; i + 1 < n; i += 2)
		a += tab[i];
	return a > addr;
}

/* s with its middle replaced by mark so that the result has fewer than room
 * bytes; cuts fall on UTF-8 character boundaries. Caller frees.
 */
static char *utf8_cut_middle(const char *s, size_t room, const char *mark)
{
	size_t n = strlen(s), m = strlen(mark), keep, head, tail;
	char *out;

	if (n < room)
		return xstrdup(s);
	keep = room > m + 1 ? room - m - 1 : 0;
	head = keep / 2;
	tail = keep - head;
	while (head > 0 && ((unsigned char)s[head] & 0xc0) == 0x80)
		head--;
	while (tail > 0 && ((unsigned char)s[n - tail] & 0xc0) == 0x80)
		tail--;
	out = xmalloc(head + m + tail + 1);
	memcpy(out, s, head);
	memcpy(out + head, mark, m);
	memcpy(out + head + m, s + n - tail, tail);
	out[head + m + tail] = '\0';
	return out;
}

/* Fit "qualname (filename:line)" in len bytes: the shorter of name and
 * path stays whole when the other can give up enough; else both give up
 * their middles, at character boundaries, around a visible mark.
 */
static bool format_label(char *buf, size_t len, const char *qual, const char *file,
			 const char *line)
{
	size_t lq = strlen(qual), lf = strlen(file), fixed = strlen(line) + 4;
	size_t budget = len > fixed + 1 + 2 * 16 ? len - fixed - 1 : 2 * 16, half = budget / 2;
	char *q = NULL, *f = NULL;

	if (lq + lf > budget) {
		size_t keep_f = lf <= half ? lf : lq <= half ? budget - lq : half;

		if (keep_f < lf)
			file = f = utf8_cut_middle(file, keep_f + 1, PY_CUT_MARK);
		lf = strlen(file);
		if (lq > budget - lf)
			qual = q = utf8_cut_middle(qual, budget - lf + 1, PY_CUT_MARK);
	}
	snprintf(buf, len, "%s (%s:%s)", qual, file, line);
	free(q);
	free(f);
	return q || f;
}

enum py_name python__frame_name(struct python *py, pid_t pid, const struct py_frame *f, char *buf,
				size_t len)
{
	enum py_name why = PY_NAMED;
	struct code_info *c = NULL;
	char line[16];
	int n = -1;

	if (f->flags & PY_FRAME_CODE_LOST)
		why = PY_NAME_LOST;
	else if (f->flags & PY_FRAME_CODE_UNREADABLE)
		why = PY_NAME_UNREADABLE;
	else if (!(c = code_find(py, f->code)))
		why = PY_NAME_UNKNOWN;
	if (c && (!c->qualname || !c->filename || c->linetable_cut))
		code_complete(py, c);
	if (c && (!c->qualname || !c->filename)) {
		why = PY_NAME_UNREADABLE;
		c = NULL;
	}
	if (!c) {
		snprintf(buf, len, "%s", PY_FRAME_UNREADABLE);
		return why;
	}
	if (c->linetable)
		n = python__line(c->minor, c->linetable, (int)c->linetable_len, c->firstlineno,
				 f->offset);
	/* A line past the part of the table that was kept is not known. 3.9's
	 * lnotab has no end marker: its last line holds to the end of the
	 * code, which a cut table does not reach.
	 */
	if (c->linetable_cut && c->minor <= 9 && n >= 0 &&
	    !lnotab_covers(c->linetable, (int)c->linetable_len, f->offset))
		n = -1;
	if (n < 0 && c->linetable_cut) {
		py->stats.lines_unknown++;
		snprintf(line, sizeof(line), "?");
	} else {
		snprintf(line, sizeof(line), "%d", n < 0 ? c->firstlineno : n);
	}
	if (format_label(buf, len, c->qualname, c->filename, line) && !c->label_cut) {
		c->label_cut = true;
		py->stats.labels_cut++;
	}
	return PY_NAMED;
}

const struct python_stats *python__stats(const struct python *py)
{
	return &py->stats;
}

/* ---- Line tables (verified against PyCode_Addr2Line, see the doc) ----- */

/* 3.9: co_lnotab, pairs (byte delta, signed line delta). */
static int line39(const uint8_t *tab, int n, int firstlineno, int addr)
{
	int line = firstlineno, a = 0;

	for (int i = 0; i + 1 < n; i += 2) {
		a += tab[i];
		if (a > addr)
			break;
		line += (int8_t)tab[i + 1];
	}
	return line;
}

/* 3.10: co_linetable, pairs (byte length, signed line delta); -128: no line. */
static int line310(const uint8_t *tab, int n, int firstlineno, int addr)
{
	int start = -1, end = 0, computed = firstlineno, line = -1, i = 0;

	if (addr < 0)
		return firstlineno;
	while (end <= addr) {
		if (i + 1 >= n)
			return -1;
		do {
			int8_t d;

			start = end;
			end += tab[i];
			d = (int8_t)tab[i + 1];
			i += 2;
			if (d == -128) {
				line = -1;
			} else {
				computed += d;
				line = computed;
			}
		} while (start == end && i + 1 < n);
	}
	return line;
}

static unsigned int rd_varint(const uint8_t *t, int n, int *j)
{
	unsigned int v, shift = 0;
	uint8_t b;

	if (*j >= n)
		return 0;
	b = t[(*j)++];
	v = b & 63;
	while ((b & 64) && *j < n && shift < 24) {
		b = t[(*j)++];
		shift += 6;
		v |= (unsigned int)(b & 63) << shift;
	}
	return v;
}

/* 3.11+: the location table of Objects/locations.md. */
static int line311(const uint8_t *tab, int n, int firstlineno, int addr)
{
	int i = 0, end = 0, computed = firstlineno;

	if (addr < 0)
		return firstlineno;
	while (i < n) {
		uint8_t b = tab[i];
		int code = (b >> 3) & 15, delta = 0, start;

		if (code == 13 || code == 14) {
			int j = i + 1;
			unsigned int v = rd_varint(tab, n, &j);

			delta = (v & 1) ? -(int)(v >> 1) : (int)(v >> 1);
		} else if (code >= 10 && code <= 12) {
			delta = code - 10;
		}
		computed += delta;
		start = end;
		end += ((b & 7) + 1) * 2;
		i++;
		while (i < n && !(tab[i] & 0x80))
			i++;
		if (addr >= start && addr < end)
			return code == 15 ? -1 : computed;
	}
	return -1;
}

int python__line(int minor, const uint8_t *tab, int n, int firstlineno, int addr)
{
	if (minor <= 9)
		return line39(tab, n, firstlineno, addr);
	if (minor == 10)
		return line310(tab, n, firstlineno, addr);
	return line311(tab, n, firstlineno, addr);
}

/* ---- For other readers of the target's memory (pythreads.c) ---------- */

int python__minor(struct python *py, pid_t pid)
{
	struct py_target *t = py ? target_get(py, pid) : NULL;

	return t && !t->unsupported ? t->minor : -1;
}

uint64_t python__runtime(struct python *py, pid_t pid)
{
	struct py_target *t = py ? target_get(py, pid) : NULL;

	return t && !t->unsupported ? t->bpf.runtime : 0;
}

uint64_t python__interp(struct python *py, pid_t pid)
{
	struct py_target *t = py ? target_get(py, pid) : NULL;
	uint64_t interp = 0;

	if (!t || t->unsupported ||
	    read_mem(pid, t->bpf.runtime + t->bpf.rt_interp_head, &interp, sizeof(interp)))
		return 0;
	return interp;
}
