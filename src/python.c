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
#include "python_int.h"
#include "symbolize.h"
#include "utf8.h"
#include "util.h"

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
	pycode_free_all(py);
	free(py->tsi.e);
	free(py);
}

struct py_target *py_target_get(struct python *py, pid_t pid)
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

int py_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
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

	why[0] = '\0';
	python__forget(py, pid);
	ret = inspect(py, sym, pid, out, why, why_len);
	if (ret == PYTHON_UNSUPPORTED)
		python__set_unsupported(py, pid);
	return ret;
}

void python__set_unsupported(struct python *py, pid_t pid)
{
	struct py_target *t;

	python__forget(py, pid);
	t = xcalloc(1, sizeof(*t));
	t->pid = pid;
	t->unsupported = true;
	add_target(py, t);
}

bool python__checked(struct python *py, pid_t pid)
{
	return py_target_get(py, pid) != NULL;
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
	if (!py_read_mem(pid, ctx.runtime, dbg, sizeof(dbg)) && !memcmp(dbg, "xdebugpy", 8)) {
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
		py_read_mem(pid, ctx.version_sym, &hexversion, sizeof(hexversion));
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
	if (minor >= 13 && (!hexversion || memcmp(dbg, "xdebugpy", 8))) {
		snprintf(why, why_len, "%s: CPython 3.%d without readable _Py_DebugOffsets",
			 ctx.path, minor);
		return PYTHON_NOT_READY;
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

		if (!py_read_mem(pid, ctx.eval_fn, code, sizeof(code))) {
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
	struct py_target *t = py_target_get(py, pid);
	uint64_t interp = 0, gil = 0;

	if (!t || t->unsupported)
		return 0;
	if (t->gil_runtime_off)
		return t->bpf.runtime + t->gil_runtime_off;
	if (!t->gil_interp_ptr_off || t->gil_interp_ptr_off > 0x10000)
		return 0;
	/* Set during interpreter start-up: 0 until then. */
	if (py_read_mem(pid, t->bpf.runtime + t->bpf.rt_interp_head, &interp, 8) || !interp ||
	    py_read_mem(pid, interp + t->gil_interp_ptr_off, &gil, 8))
		return 0;
	return gil;
}

pid_t python__tstate_tid(struct python *py, pid_t pid, uint64_t tstate)
{
	struct py_target *t = py_target_get(py, pid);
	uint64_t pthread;
	uint32_t tid;

	if (!t || t->unsupported || py_read_mem(pid, tstate + t->bpf.ts_thread_id, &pthread, 8) ||
	    py_read_mem(pid, pthread + GLIBC_PTHREAD_TID, &tid, 4))
		return 0;
	return (pid_t)tid;
}

const char *python__describe(struct python *py, pid_t pid)
{
	struct py_target *t = py_target_get(py, pid);

	return t && !t->unsupported ? t->describe : NULL;
}

bool python__in_interpreter(struct python *py, pid_t pid, uint64_t addr)
{
	struct py_target *t = py_target_get(py, pid);

	for (int i = 0; t && i < t->nranges; i++)
		if (addr >= t->ranges[i][0] && addr < t->ranges[i][1])
			return true;
	return false;
}

bool python__has_frame_pointers(struct python *py, pid_t pid)
{
	struct py_target *t = py_target_get(py, pid);

	return t && t->has_fp;
}

int python__code_dealloc(struct python *py, pid_t pid, uint64_t code, uint64_t *dealloc)
{
	struct py_target *t = py_target_get(py, pid);
	uint64_t type = 0, name = 0;
	char tname[5];

	*dealloc = 0;
	/* A code event can be handled before the sample that has the process
	 * read: not known yet is not a failure.
	 */
	if (!t)
		return -EAGAIN;
	/* PyTypeObject with the GIL builds' object header: ob_type at 8,
	 * tp_name at 0x18, tp_dealloc at 0x30 (3.9 to 3.15). A free-threaded
	 * header is larger: its tp_name is not "code" here, and nothing is hooked.
	 */
	if (t->unsupported || !code)
		return -ENOTSUP;
	/* The code object may be gone already (freed before its event was
	 * handled): another one may do.
	 */
	if (py_read_mem(pid, code + 8, &type, 8) || !type ||
	    py_read_mem(pid, type + 0x18, &name, 8) || !name ||
	    py_read_mem(pid, name, tname, sizeof(tname)) || memcmp(tname, "code", 5) ||
	    py_read_mem(pid, type + 0x30, dealloc, 8) || !*dealloc) {
		*dealloc = 0;
		return -EAGAIN;
	}
	return 0;
}

/* ---- Walking from userspace ------------------------------------------- */

static int tstate_index_build(struct tstate_index *x, pid_t pid, const struct py_proc *p)
{
	uint64_t interp, ts = 0;

	x->pid = pid;
	x->n = 0;
	x->built_ns = mono_ns();
	if (py_read_mem(pid, p->runtime + p->rt_interp_head, &interp, 8) || !interp ||
	    py_read_mem(pid, interp + p->interp_threads, &ts, 8))
		return -1;
	for (int i = 0; ts && i < RAMPA_PY_MAX_THREADS; i++) {
		uint64_t pthread;
		uint32_t ktid;

		if (!py_read_mem(pid, ts + p->ts_thread_id, &pthread, 8) &&
		    !py_read_mem(pid, pthread + GLIBC_PTHREAD_TID, &ktid, 4)) {
			grow_array((void **)&x->e, &x->cap, x->n + 1, sizeof(*x->e));
			x->e[x->n++] = (struct tstate_entry){ ktid, ts };
		}
		if (py_read_mem(pid, ts + p->ts_next, &ts, 8))
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
	struct py_target *t = py_target_get(py, pid);
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
	if (!ts || py_read_mem(pid, ts + p->ts_frame, &frame, 8))
		return -1;
	if (frame && p->cframe_current != PY_OFF_NONE &&
	    py_read_mem(pid, frame + p->cframe_current, &frame, 8))
		return -1;
	/* The same rules as bpf/pystack.bpf.h. */
	for (int i = 0; frame && i < 2 * RAMPA_PY_MAX_DEPTH; i++) {
		uint64_t code = 0, ip = 0, prev = 0;
		struct py_frame *f;
		int64_t off;

		uint64_t frame_addr = frame;

		if (py_read_mem(pid, frame, buf, p->fr_read_size))
			return out->depth ? 0 : -1;
		memcpy(&code, buf + p->fr_code, 8);
		memcpy(&prev, buf + p->fr_previous, 8);
		code &= ~(uint64_t)p->code_tag_mask;
		frame = prev;
		if (p->fr_owner != PY_OFF_NONE && buf[p->fr_owner] >= p->owner_skip_min) {
			if (out->depth)
				out->frames[out->depth - 1].flags |= PY_FRAME_ENTRY;
			/* Where the run's eval-loop call is: as the kernel's walk
			 * records it (struct py_stack).
			 */
			if (out->nentries < RAMPA_PY_MAX_ENTRIES) {
				out->entries[out->nentries] = frame_addr;
				out->entry_depths[out->nentries] = (uint16_t)out->depth;
			}
			if (out->nentries <= RAMPA_PY_MAX_ENTRIES)
				out->nentries++;
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
		f->code = pycode_from_memory(py, t, code);
		if (!f->code) {
			f->code = code;
			f->flags |= PY_FRAME_CODE_UNREADABLE;
		}
	}
	return 0;
}

/* ---- For other readers of the target's memory (pythreads.c) ---------- */

int python__minor(struct python *py, pid_t pid)
{
	struct py_target *t = py ? py_target_get(py, pid) : NULL;

	return t && !t->unsupported ? t->minor : -1;
}

uint64_t python__runtime(struct python *py, pid_t pid)
{
	struct py_target *t = py ? py_target_get(py, pid) : NULL;

	return t && !t->unsupported ? t->bpf.runtime : 0;
}

uint64_t python__interp(struct python *py, pid_t pid)
{
	struct py_target *t = py ? py_target_get(py, pid) : NULL;
	uint64_t interp = 0;

	if (!t || t->unsupported ||
	    py_read_mem(pid, t->bpf.runtime + t->bpf.rt_interp_head, &interp, sizeof(interp)))
		return 0;
	return interp;
}
