// SPDX-License-Identifier: GPL-2.0
/* CPython 3.9-3.15: where its runtime lives, how its frames and code objects
 * are laid out, and how to turn (code, offset) into "qualname (file:line)".
 * The layouts come from docs/cpython-internals.md (3.9-3.12, derived with
 * offsetof from each version's headers) and, for 3.13+, from the
 * interpreter's own _Py_DebugOffsets, read at attach time.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "elf_syms.h"
#include "python.h"
#include "symbolize.h"
#include "util.h"

/* glibc's struct pthread keeps the kernel tid here on x86-64 (2.31 to 2.43,
 * see docs/cpython-internals.md); pthread_t points at struct pthread.
 */
#define GLIBC_PTHREAD_TID 0x2d0
#define MAX_NAME_CHARS	  512
#define MAX_LINETABLE	  65536
#define CODE_BUCKETS	  4096
#define MAX_INTERP_RANGES 8

/* Where a code object keeps what names a frame. */
struct code_layout {
	uint16_t filename, name, qualname, firstlineno, linetable;
	uint16_t ascii_data, compact_data; /* unicode: sizeof PyASCII/PyCompactUnicodeObject */
};

struct code_entry {
	uint64_t addr;
	uint64_t filename_ptr, name_ptr, linetable_ptr; /* identity, checked each epoch */
	int firstlineno;
	char *label; /* qualname */
	char *filename;
	uint8_t *linetable;
	int linetable_len;
	unsigned int epoch;
	struct code_entry *next;
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
	struct code_entry *codes[CODE_BUCKETS];
	struct py_target *next;
};

#define TARGET_BUCKETS 256

struct python {
	struct py_target *targets[TARGET_BUCKETS];
	unsigned int epoch;
	struct python_stats stats;
};

struct python *python__new(void)
{
	struct python *py = xcalloc(1, sizeof(*py));

	py->epoch = 1;
	return py;
}

static void free_codes(struct py_target *t)
{
	for (int i = 0; i < CODE_BUCKETS; i++) {
		for (struct code_entry *c = t->codes[i], *n; c; c = n) {
			n = c->next;
			free(c->label);
			free(c->filename);
			free(c->linetable);
			free(c);
		}
		t->codes[i] = NULL;
	}
}

void python__free(struct python *py)
{
	if (!py)
		return;
	for (int i = 0; i < TARGET_BUCKETS; i++) {
		for (struct py_target *t = py->targets[i], *n; t; t = n) {
			n = t->next;
			free_codes(t);
			free(t);
		}
	}
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
			free_codes(t);
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

/* 3.9-3.12 have no debug offsets: offsetof() tables, see docs/cpython-internals.md. */
static void layout_pre313(int minor, struct py_proc *p, struct code_layout *c)
{
	p->ts_next = 0x08;
	p->cframe_current = PY_OFF_NONE;
	p->fr_owner = PY_OFF_NONE;
	p->fr_is_entry = PY_OFF_NONE;
	p->owner_skip_min = 0xff;
	p->code_tag_mask = 0;
	c->linetable = 0x78;
	c->ascii_data = 0x30;
	c->compact_data = 0x48;
	switch (minor) {
	case 9:
	case 10:
		p->rt_interp_head = 0x20;
		p->interp_threads = 0x08;
		p->ts_thread_id = 0xb0;
		p->ts_frame = 0x18; /* PyFrameObject *frame */
		p->fr_previous = 0x18;
		p->fr_code = 0x20;
		p->fr_ip = minor == 9 ? 0x68 : 0x60;
		p->ip_mode = minor == 9 ? PY_IP_LASTI_BYTES : PY_IP_LASTI_WORDS;
		c->filename = 0x68;
		c->name = 0x70;
		c->qualname = 0x70; /* no co_qualname before 3.11 */
		c->firstlineno = 0x28;
		break;
	case 11:
		p->rt_interp_head = 0x28;
		p->interp_threads = 0x10;
		p->ts_thread_id = 0x98;
		p->ts_frame = 0x38; /* _PyCFrame *cframe */
		p->cframe_current = 0x08;
		p->fr_previous = 0x30;
		p->fr_code = 0x20;
		p->fr_ip = 0x38;
		p->fr_is_entry = 0x44;
		p->ip_mode = PY_IP_POINTER;
		p->co_code_adaptive = 0xb8;
		c->filename = 0x70;
		c->name = 0x78;
		c->qualname = 0x80;
		c->firstlineno = 0x48;
		c->linetable = 0x88;
		break;
	case 12:
		p->rt_interp_head = 0x28;
		p->interp_threads = 0x48;
		p->ts_thread_id = 0x88;
		p->ts_frame = 0x38;
		p->cframe_current = 0x00;
		p->fr_previous = 0x08;
		p->fr_code = 0x00;
		p->fr_ip = 0x38;
		p->fr_owner = 0x46;
		p->owner_skip_min = 3; /* FRAME_OWNED_BY_CSTACK shims */
		p->ip_mode = PY_IP_POINTER;
		p->co_code_adaptive = 0xc0;
		c->filename = 0x70;
		c->name = 0x78;
		c->qualname = 0x80;
		c->firstlineno = 0x44;
		c->linetable = 0x88;
		c->ascii_data = 0x28;
		c->compact_data = 0x38;
		break;
	}
}

/* Positions of the members we need inside _Py_DebugOffsets, per version. */
struct dbg_positions {
	uint16_t size;
	uint16_t rt_interp_head, interp_threads_head;
	uint16_t ts_next, ts_current_frame, ts_thread_id;
	uint16_t fr_previous, fr_executable, fr_instr_ptr, fr_owner;
	uint16_t co_filename, co_name, co_qualname, co_linetable, co_firstlineno, co_adaptive;
	uint16_t uni_ascii_size, uni_compact_size; /* 0: not provided */
};

static const struct dbg_positions dbg_313 = { 584,   0x28,  0x48,  0xa8,  0xb8,	 0xc0,
					      0xe8,  0xf0,  0xf8,  0x108, 0x118, 0x120,
					      0x128, 0x130, 0x138, 0x158, 0x230, 0 };
static const struct dbg_positions dbg_314 = { 760,   0x28,  0x48,  0xc0,  0xd0,	 0xd8,
					      0x100, 0x108, 0x110, 0x120, 0x140, 0x148,
					      0x150, 0x158, 0x160, 0x180, 0x280, 0 };
static const struct dbg_positions dbg_315 = { 888,   0x28,  0x48,  0xc0,  0xd0,	 0xf0,
					      0x140, 0x148, 0x150, 0x160, 0x180, 0x188,
					      0x190, 0x198, 0x1a0, 0x1c0, 0x2e0, 0x2e8 };

static int layout_from_debug_offsets(const uint8_t *d, int minor, struct py_proc *p,
				     struct code_layout *c, char *why, size_t why_len)
{
	const struct dbg_positions *pos = minor == 13	? &dbg_313
					  : minor == 14 ? &dbg_314
							: &dbg_315;
	uint64_t v[18];
	const uint16_t *fields = &pos->rt_interp_head;
	int nfields = (int)(sizeof(*pos) / sizeof(uint16_t)) - 1;

	for (int i = 0; i < nfields; i++) {
		v[i] = 0;
		if (fields[i])
			memcpy(&v[i], d + fields[i], sizeof(v[i]));
		/* All of these are small offsets; anything else is not a layout we know. */
		if (v[i] > 0xffff) {
			snprintf(why, why_len, "_Py_DebugOffsets field %d holds 0x%llx", i,
				 (unsigned long long)v[i]);
			return -1;
		}
	}
	p->rt_interp_head = v[0];
	p->interp_threads = v[1];
	p->ts_next = v[2];
	p->ts_frame = v[3];
	p->ts_thread_id = v[4];
	p->fr_previous = v[5];
	p->fr_code = v[6];
	p->fr_ip = v[7];
	p->fr_owner = v[8];
	c->filename = v[9];
	c->name = v[10];
	c->qualname = v[11];
	c->linetable = v[12];
	c->firstlineno = v[13];
	p->co_code_adaptive = v[14];
	c->ascii_data = v[15];
	c->compact_data = v[16] ? v[16] : 0x38;
	p->cframe_current = PY_OFF_NONE;
	p->fr_is_entry = PY_OFF_NONE;
	p->ip_mode = PY_IP_POINTER;
	/* Not in the debug offsets: the frame-owner enum and stack-ref tags. */
	p->owner_skip_min = 3;
	p->code_tag_mask = minor >= 14 ? 3 : 0;
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

	t = xcalloc(1, sizeof(*t));
	t->pid = pid;
	t->minor = minor;
	t->bpf.runtime = ctx.runtime;
	t->bpf.version = 0x0300 | minor;
	if (minor >= 13) {
		if (layout_from_debug_offsets(dbg, minor, &t->bpf, &t->code, why, why_len)) {
			free(t);
			return PYTHON_UNSUPPORTED;
		}
	} else {
		layout_pre313(minor, &t->bpf, &t->code);
	}
	set_read_size(&t->bpf);
	if (minor <= 10)
		t->gil_runtime_off = 0x160;
	else if (minor == 11)
		t->gil_runtime_off = 0x168;
	else if (minor == 12)
		t->gil_interp_ptr_off = 0x180;
	else
		memcpy(&t->gil_interp_ptr_off, dbg + (minor == 13 ? 0x70 : 0x78), 8);
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

int python__snapshot(struct python *py, pid_t pid, pid_t tid, struct py_stack *out)
{
	struct py_target *t = target_get(py, pid);
	const struct py_proc *p;
	uint64_t interp, ts = 0, frame = 0;
	uint8_t buf[PY_FRAME_READ_MAX];

	out->depth = 0;
	out->truncated = 0;
	if (!t || t->unsupported)
		return -1;
	p = &t->bpf;
	if (read_mem(pid, p->runtime + p->rt_interp_head, &interp, 8) || !interp ||
	    read_mem(pid, interp + p->interp_threads, &ts, 8))
		return -1;
	for (int i = 0; ts && i < RAMPA_PY_MAX_THREADS; i++) {
		uint64_t pthread;
		uint32_t ktid;

		if (!read_mem(pid, ts + p->ts_thread_id, &pthread, 8) &&
		    !read_mem(pid, pthread + GLIBC_PTHREAD_TID, &ktid, 4) && ktid == (uint32_t)tid)
			break;
		if (read_mem(pid, ts + p->ts_next, &ts, 8))
			return -1;
	}
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
		f->code = code;
		f->offset = (int32_t)off;
		f->flags = p->ip_mode != PY_IP_POINTER ? PY_FRAME_ENTRY : 0;
		if (p->fr_is_entry != PY_OFF_NONE && buf[p->fr_is_entry])
			f->flags = PY_FRAME_ENTRY;
	}
	return 0;
}

/* ---- Code objects ----------------------------------------------------- */

static void put_utf8(char **out, size_t *left, uint32_t cp)
{
	char tmp[4];
	size_t n;

	if (cp < 0x80) {
		tmp[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xc0 | cp >> 6);
		tmp[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xe0 | cp >> 12);
		tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		tmp[0] = (char)(0xf0 | cp >> 18);
		tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (n >= *left)
		return;
	memcpy(*out, tmp, n);
	*out += n;
	*left -= n;
}

/* A str object as UTF-8; NULL if unreadable. */
static char *read_unicode(pid_t pid, uint64_t addr, const struct code_layout *c)
{
	uint8_t hdr[0x40], data[MAX_NAME_CHARS * 4];
	int64_t len;
	uint32_t state, kind, compact, ascii;
	uint64_t data_addr;
	char *s, *o;
	size_t left;

	if (!addr || read_mem(pid, addr, hdr, sizeof(hdr)))
		return NULL;
	memcpy(&len, hdr + 0x10, 8);
	memcpy(&state, hdr + 0x20, 4);
	kind = (state >> 2) & 7;
	compact = (state >> 5) & 1;
	ascii = (state >> 6) & 1;
	if (len < 0 || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	if (len > MAX_NAME_CHARS)
		len = MAX_NAME_CHARS;
	if (compact) {
		data_addr = addr + (ascii ? c->ascii_data : c->compact_data);
	} else if (read_mem(pid, addr + c->compact_data, &data_addr, 8)) {
		return NULL;
	}
	if (len && read_mem(pid, data_addr, data, len * kind))
		return NULL;
	left = len * 4 + 1;
	s = o = xmalloc(left);
	for (int64_t i = 0; i < len; i++) {
		uint32_t cp = kind == 1	  ? data[i]
			      : kind == 2 ? ((uint16_t *)data)[i]
					  : ((uint32_t *)data)[i];

		put_utf8(&o, &left, cp);
	}
	*o = '\0';
	return s;
}

static struct code_entry *load_code(struct python *py, struct py_target *t, uint64_t addr,
				    struct code_entry *c)
{
	const struct code_layout *l = &t->code;
	uint8_t hdr[0x100];
	uint64_t qual, tabsize = 0;
	int32_t first;

	py->stats.code_reads++;
	if (read_mem(t->pid, addr, hdr, sizeof(hdr)))
		goto failed;
	memcpy(&c->filename_ptr, hdr + l->filename, 8);
	memcpy(&c->name_ptr, hdr + l->name, 8);
	memcpy(&qual, hdr + l->qualname, 8);
	memcpy(&c->linetable_ptr, hdr + l->linetable, 8);
	memcpy(&first, hdr + l->firstlineno, 4);
	c->addr = addr;
	c->firstlineno = first;
	c->label = read_unicode(t->pid, qual, l);
	c->filename = read_unicode(t->pid, c->filename_ptr, l);
	if (!c->label || !c->filename)
		goto failed;
	/* PyBytesObject: ob_size at 0x10, bytes at 0x20 in every version. */
	if (c->linetable_ptr && !read_mem(t->pid, c->linetable_ptr + 0x10, &tabsize, 8) &&
	    tabsize > 0 && tabsize <= MAX_LINETABLE) {
		c->linetable = xmalloc(tabsize);
		if (read_mem(t->pid, c->linetable_ptr + 0x20, c->linetable, tabsize)) {
			free(c->linetable);
			c->linetable = NULL;
		} else {
			c->linetable_len = (int)tabsize;
		}
	}
	c->epoch = py->epoch;
	return c;
failed:
	py->stats.code_read_failed++;
	free(c->label);
	free(c->filename);
	c->label = c->filename = NULL;
	return NULL;
}

/* Code objects are freed and their memory reused: once per drain, check the
 * object still has the strings and table it had.
 */
static bool code_still_valid(struct python *py, struct py_target *t, struct code_entry *c)
{
	uint8_t hdr[0x100];
	uint64_t fn, nm, lt;

	if (c->epoch == py->epoch)
		return true;
	if (read_mem(t->pid, c->addr, hdr, sizeof(hdr)))
		return true; /* process gone: what we read before is the best there is */
	memcpy(&fn, hdr + t->code.filename, 8);
	memcpy(&nm, hdr + t->code.name, 8);
	memcpy(&lt, hdr + t->code.linetable, 8);
	if (fn != c->filename_ptr || nm != c->name_ptr || lt != c->linetable_ptr)
		return false;
	c->epoch = py->epoch;
	return true;
}

static struct code_entry *code_get(struct python *py, struct py_target *t, uint64_t addr)
{
	unsigned int b = (unsigned int)((addr >> 4) % CODE_BUCKETS);
	struct code_entry *c;

	for (c = t->codes[b]; c; c = c->next) {
		if (c->addr != addr)
			continue;
		if (code_still_valid(py, t, c))
			return c->label ? c : NULL;
		free(c->label);
		free(c->filename);
		free(c->linetable);
		c->label = c->filename = NULL;
		c->linetable = NULL;
		c->linetable_len = 0;
		return load_code(py, t, addr, c);
	}
	c = xcalloc(1, sizeof(*c));
	c->addr = addr;
	c->next = t->codes[b];
	t->codes[b] = c;
	return load_code(py, t, addr, c);
}

void python__new_epoch(struct python *py)
{
	py->epoch++;
}

const char *python__frame_name(struct python *py, pid_t pid, uint64_t code, int32_t offset,
			       char *buf, size_t len)
{
	struct py_target *t = target_get(py, pid);
	struct code_entry *c = t && !t->unsupported ? code_get(py, t, code) : NULL;
	int line;

	if (!c) {
		snprintf(buf, len, "[python code 0x%llx unreadable]", (unsigned long long)code);
		return buf;
	}
	line = c->linetable
		   ? python__line(t->minor, c->linetable, c->linetable_len, c->firstlineno, offset)
		   : -1;
	if (line < 0)
		line = c->firstlineno;
	snprintf(buf, len, "%s (%s:%d)", c->label, c->filename, line);
	return buf;
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
