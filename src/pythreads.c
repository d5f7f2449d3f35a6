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
#include "pythreads.h"
#include "utf8.h"
#include "util.h"

/* glibc's struct pthread keeps the kernel tid here on x86-64 (2.31 to 2.43,
 * docs/cpython-internals.md §2); a thread's ident is its pthread_t.
 */
#define GLIBC_PTHREAD_TID 0x2d0
#define PROC_BUCKETS	  64
#define TYPE_CACHE	  16
#define ENTRY_CHUNK	  256
/* A full content scan of a dict is redone after this many refreshes, in case
 * its keys object was freed and another allocated at the same address.
 */
#define RESCAN_EVERY 16

/* Type flags, the same in 3.9-3.15 (object.h). */
#define TPFLAGS_INLINE_VALUES	 (1UL << 2) /* 3.13+ */
#define TPFLAGS_MANAGED_DICT	 (1UL << 4) /* 3.11+ */
#define TPFLAGS_LONG_SUBCLASS	 (1UL << 24)
#define TPFLAGS_UNICODE_SUBCLASS (1UL << 28)
#define TPFLAGS_DICT_SUBCLASS	 (1UL << 29)

enum inst_storage {
	INST_DICTOFFSET, /* 3.9/3.10: PyObject *__dict__ at obj + tp_dictoffset */
	INST_VALUES_311, /* values at obj - 32, dict at obj - 24 */
	INST_TAGGED_312, /* obj - 24: dict, or values - 1 (odd) */
	INST_INLINE_313, /* dict at obj - 24, else values at obj + tp_basicsize */
};

struct layout {
	uint32_t interp_modules; /* sys.modules in PyInterpreterState */
	uint16_t ht_cached_keys; /* PyHeapTypeObject */
	uint16_t tp_name, tp_basicsize, tp_flags, tp_dictoffset;
	uint16_t ma_keys, ma_values;
	uint16_t values_items; /* PyDictValues.values */
	uint16_t str_length, str_state, str_ascii, str_compact;
	uint16_t long_size, long_digits; /* ob_size (3.12+: lv_tag), ob_digit */
	bool long_tag;			 /* 3.12+: lv_tag = ndigits << 3 | sign */
	bool keys_39;			 /* 3.9/3.10 PyDictKeysObject */
	enum inst_storage inst;
};

/* The Thread attributes read, and where they sit in a type's shared keys. */
enum attr { ATTR_NATIVE_ID, ATTR_NAME, ATTR__MAX };
static const char *const attr_names[ATTR__MAX] = { "_native_id", "_name" };
#define IX_UNKNOWN (-1)
#define IX_ABSENT  (-2)

struct type_info {
	uint64_t addr;
	uint64_t flags, cached_keys;
	int64_t basicsize, dictoffset;
	int64_t ix[ATTR__MAX]; /* index in cached_keys, IX_UNKNOWN or IX_ABSENT */
	bool dummy;	       /* threading._DummyThread: Python's placeholder name */
};

/* A key str object found before, checked again once a refresh. */
struct hint {
	uint64_t key;
	unsigned int checked;
};

/* Where a content scan of one dict stopped: entries are only appended to a
 * keys object, so the ones scanned need not be read again.
 */
struct scan {
	uint64_t keys, scanned;
	unsigned int age;
};

/* CPython 3.14+ copies a thread's Python name into its OS name: encoded
 * with "replace" (a surrogate becomes '?'), cut to 15 bytes.
 */
#define OS_NAME_MAX 15

struct thread {
	pid_t tid, ns_tid;
	char *py;		       /* threading name last seen, NULL: none yet */
	char *os;		       /* OS name last seen (valid UTF-8), NULL: none yet */
	char os_raw[OS_NAME_MAX + 1];  /* ... its bytes as the kernel has them */
	char py_copy[OS_NAME_MAX + 1]; /* ... and what 3.14+ would copy of py */
	uint8_t os_len, py_copy_len;
	bool os_own;	   /* the OS name was set, not inherited */
	bool use_py;	   /* the Python name is the later one */
	bool counted;	   /* in stats.python_named */
	unsigned int seen; /* refresh that last listed it */
};

struct proc {
	pid_t pid;
	bool gone, other_ns;
	uint64_t start;		    /* procfs__start_time(): a reused PID differs */
	bool started;		    /* start is known */
	char comm[OS_NAME_MAX + 1]; /* the process's name, which threads inherit */
	uint8_t comm_len;
	bool comm_ok;
	unsigned int epoch; /* last refresh */
	struct thread *t;
	size_t n, cap;
	uint32_t *slots; /* tid -> index + 1 in t, open addressing */
	size_t nslots;
	uint64_t over; /* most threads not followed at one refresh */
	/* CPython, reset when the interpreter changes (exec) */
	uint64_t runtime;
	int minor;
	bool lay_ok;
	struct layout lay;
	struct hint h_threading, h_active, h_attr[ATTR__MAX];
	struct scan in_modules, in_threading;
	struct type_info types[TYPE_CACHE];
	unsigned int ntypes;
	struct proc *next;
};

struct pythreads {
	struct python *py;
	struct proc *procs[PROC_BUCKETS];
	unsigned int epoch;
	struct pythreads_stats stats;
};

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

/* ---- Text ---------------------------------------------------------------- */

struct text {
	char *s;
	size_t len, cap;
};

/* Append one character; NUL, controls, surrogates and non-characters
 * beyond U+10FFFF become U+FFFD (a name is one line of text).
 */
static void text_put(struct pythreads *pt, struct text *t, uint32_t cp)
{
	char enc[4];
	size_t n;

	if (cp == UTF8_INVALID || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
		pt->stats.invalid_chars++;
		cp = UTF8_REPLACEMENT;
	}
	n = utf8_encode(cp, enc);
	grow_array((void **)&t->s, &t->cap, t->len + n + 1, 1);
	memcpy(t->s + t->len, enc, n);
	t->len += n;
	t->s[t->len] = '\0';
}

/* Bytes that should be UTF-8 (an OS thread name) as valid text. */
static char *text_from_bytes(struct pythreads *pt, const char *b, size_t len)
{
	struct text t = { 0 };

	for (size_t i = 0; i < len;) {
		uint32_t cp;

		i += utf8_decode(b + i, len - i, &cp);
		text_put(pt, &t, cp);
	}
	if (!t.s)
		t.s = xstrdup("");
	return t.s;
}

/* ---- Reading the target -------------------------------------------------- */

static int rd(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	if (!addr || addr >= (1ULL << 47))
		return -1;
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

static int rd_ptr(pid_t pid, uint64_t addr, uint64_t *v)
{
	*v = 0;
	return rd(pid, addr, v, sizeof(*v));
}

/* The reader's view of the layout of 3.minor (src/cpython_layouts.c,
 * offsetof() on each version's headers); 3.13+ then take the fields their
 * _Py_DebugOffsets cover from there.
 */
static void layout_from_table(int minor, struct layout *l)
{
	const struct cpython_layout *c = cpython_layouts__get(minor);

	memset(l, 0, sizeof(*l));
	l->interp_modules = c->interpreter_state.imports_modules;
	l->ht_cached_keys = c->heap_type_object.ht_cached_keys;
	l->tp_name = c->type_object.tp_name;
	l->tp_basicsize = c->type_object.tp_basicsize;
	l->tp_flags = c->type_object.tp_flags;
	l->tp_dictoffset = c->type_object.tp_dictoffset;
	l->ma_keys = c->dict_object.ma_keys;
	l->ma_values = c->dict_object.ma_values;
	l->values_items = c->dict_values.values;
	l->str_length = c->unicode_object.length;
	l->str_state = c->unicode_object.state;
	l->str_ascii = c->unicode_object.asciiobject_size;
	l->str_compact = c->unicode_object.compactunicodeobject_size;
	l->long_size = c->long_object.lv_tag;
	l->long_digits = c->long_object.ob_digit;
	l->long_tag = minor >= 12;
	l->keys_39 = minor <= 10;
	l->inst = minor <= 10	? INST_DICTOFFSET
		  : minor == 11 ? INST_VALUES_311
		  : minor == 12 ? INST_TAGGED_312
				: INST_INLINE_313;
}

static int layout_from_debug(pid_t pid, uint64_t runtime, int minor, struct layout *l)
{
	const struct cpython_debug_offsets *dbg = cpython_layouts__debug(minor);
	const struct cpython_layout *d = &dbg->pos;
	const struct {
		uint32_t pos;
		uint16_t *dst;
	} fields[] = {
		{ d->type_object.tp_name, &l->tp_name },
		{ d->type_object.tp_flags, &l->tp_flags },
		{ d->type_object.tp_basicsize, &l->tp_basicsize },
		{ d->type_object.tp_dictoffset, &l->tp_dictoffset },
		{ d->heap_type_object.ht_cached_keys, &l->ht_cached_keys },
		{ d->dict_object.ma_keys, &l->ma_keys },
		{ d->dict_object.ma_values, &l->ma_values },
		{ d->long_object.lv_tag, &l->long_size },
		{ d->long_object.ob_digit, &l->long_digits },
		{ d->unicode_object.state, &l->str_state },
		{ d->unicode_object.length, &l->str_length },
		{ d->unicode_object.asciiobject_size, &l->str_ascii },
		{ d->unicode_object.compactunicodeobject_size, &l->str_compact },
	};
	uint8_t buf[1024];
	uint64_t v, version;

	if (dbg->size > sizeof(buf) || rd(pid, runtime, buf, dbg->size) ||
	    memcmp(buf, "xdebugpy", 8))
		return -1;
	memcpy(&version, buf + 8, 8);
	if (((version >> 24) & 0xff) != 3 || (int)((version >> 16) & 0xff) != minor)
		return -1;
	memcpy(&v, buf + d->interpreter_state.imports_modules, 8);
	if (v > 0x10000) /* an offset into the interpreter state, no more */
		return -1;
	l->interp_modules = (uint32_t)v;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!fields[i].pos)
			continue;
		memcpy(&v, buf + fields[i].pos, 8);
		/* Offsets into small objects: anything larger is no layout this
		 * code knows.
		 */
		if (v > 0x1000)
			return -1;
		*fields[i].dst = (uint16_t)v;
	}
	return 0;
}

/* The buffers objects are read into hold every field at these offsets. */
#define STR_HDR	 0x50  /* str_read() */
#define LONG_HDR 0x40  /* long_read() */
#define DICT_HDR 0x30  /* dict_open() */
#define TYPE_HDR 0x130 /* type_get() */

static bool layout_fits(const struct layout *l)
{
	return l->str_length + 8u <= STR_HDR && l->str_state + 4u <= STR_HDR &&
	       l->str_ascii + 16u <= STR_HDR && l->str_compact + 8u <= STR_HDR &&
	       l->long_size + 8u <= LONG_HDR && l->long_digits + 12u <= LONG_HDR &&
	       l->ma_keys + 8u <= DICT_HDR && l->ma_values + 8u <= DICT_HDR &&
	       l->tp_name + 8u <= TYPE_HDR && l->tp_flags + 8u <= TYPE_HDR &&
	       l->tp_basicsize + 8u <= TYPE_HDR && l->tp_dictoffset + 8u <= TYPE_HDR;
}

static void reset_python(struct proc *p)
{
	p->lay_ok = false;
	memset(&p->h_threading, 0, sizeof(p->h_threading));
	memset(&p->h_active, 0, sizeof(p->h_active));
	memset(p->h_attr, 0, sizeof(p->h_attr));
	memset(&p->in_modules, 0, sizeof(p->in_modules));
	memset(&p->in_threading, 0, sizeof(p->in_threading));
	p->ntypes = 0;
}

static struct type_info *type_get(struct proc *p, uint64_t type)
{
	const struct layout *l = &p->lay;
	struct type_info *ti;
	uint8_t buf[TYPE_HDR];
	uint64_t name_ptr;
	char name[16];

	for (unsigned int i = 0; i < p->ntypes && i < TYPE_CACHE; i++)
		if (p->types[i].addr == type)
			return &p->types[i];
	if (rd(p->pid, type, buf, sizeof(buf)))
		return NULL;
	ti = &p->types[p->ntypes++ % TYPE_CACHE];
	memset(ti, 0, sizeof(*ti));
	ti->addr = type;
	for (int a = 0; a < ATTR__MAX; a++)
		ti->ix[a] = IX_UNKNOWN;
	memcpy(&ti->flags, buf + l->tp_flags, 8);
	memcpy(&ti->basicsize, buf + l->tp_basicsize, 8);
	memcpy(&ti->dictoffset, buf + l->tp_dictoffset, 8);
	memcpy(&name_ptr, buf + l->tp_name, 8);
	ti->dummy = !rd(p->pid, name_ptr, name, 13) && !memcmp(name, "_DummyThread", 13);
	if (rd_ptr(p->pid, type + l->ht_cached_keys, &ti->cached_keys))
		ti->cached_keys = 0;
	return ti;
}

/* The flags of the type of an object whose first 16 bytes are in hdr. */
static uint64_t hdr_flags(struct proc *p, const uint8_t *hdr, struct type_info **out)
{
	struct type_info *ti;
	uint64_t type;

	memcpy(&type, hdr + 8, 8);
	ti = type_get(p, type);
	if (out)
		*out = ti;
	return ti ? ti->flags : 0;
}

/* A str object equal to the ASCII text s. */
static bool str_is(struct proc *p, uint64_t obj, const char *s)
{
	const struct layout *l = &p->lay;
	size_t n = strlen(s);
	uint8_t buf[STR_HDR];
	int64_t len;
	uint32_t state;

	if (n > 16 || rd(p->pid, obj, buf, l->str_ascii + n))
		return false;
	memcpy(&len, buf + l->str_length, 8);
	memcpy(&state, buf + l->str_state, 4);
	/* compact (bit 5) and ascii (bit 6), kind 1 (bits 2-4) */
	if (len != (int64_t)n || (state & 0x7c) != 0x64 || memcmp(buf + l->str_ascii, s, n))
		return false;
	return hdr_flags(p, buf, NULL) & TPFLAGS_UNICODE_SUBCLASS;
}

/* A str as one line of valid UTF-8, at most PYTHREADS_MAX_NAME_CHARS, and
 * in copy the first OS_NAME_MAX bytes CPython 3.14+ would make its OS name.
 */
static char *str_read(struct pythreads *pt, struct proc *p, uint64_t obj, char *copy,
		      uint8_t *copy_len)
{
	const struct layout *l = &p->lay;
	uint8_t hdr[STR_HDR], data[PYTHREADS_MAX_NAME_CHARS * 4];
	struct text t = { 0 };
	uint64_t at;
	int64_t len, n;
	uint32_t state, kind;

	if (rd(p->pid, obj, hdr, l->str_compact + 8u) ||
	    !(hdr_flags(p, hdr, NULL) & TPFLAGS_UNICODE_SUBCLASS))
		return NULL;
	memcpy(&len, hdr + l->str_length, 8);
	memcpy(&state, hdr + l->str_state, 4);
	kind = (state >> 2) & 7;
	if (len < 0 || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	n = len > PYTHREADS_MAX_NAME_CHARS ? PYTHREADS_MAX_NAME_CHARS : len;
	if (state & 0x20) /* compact: the characters follow the header */
		at = obj + ((state & 0x40) ? l->str_ascii : l->str_compact);
	else
		memcpy(&at, hdr + l->str_compact, 8);
	if (n && rd(p->pid, at, data, (size_t)n * kind))
		return NULL;
	*copy_len = 0;
	for (int64_t i = 0; i < n; i++) {
		uint32_t cp = kind == 1	  ? data[i]
			      : kind == 2 ? ((uint16_t *)data)[i]
					  : ((uint32_t *)data)[i];
		char enc[4];
		size_t k = 1;

		/* An "ascii" string holds nothing above 0x7f. */
		text_put(pt, &t, (state & 0x40) && cp > 0x7f ? UTF8_INVALID : cp);
		if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			enc[0] = '?';
		else
			k = utf8_encode(cp, enc);
		for (size_t j = 0; j < k && *copy_len < OS_NAME_MAX; j++)
			copy[(*copy_len)++] = enc[j];
	}
	if (len > n) {
		pt->stats.names_cut++;
		text_put(pt, &t, 0x2026);
	}
	if (!t.s)
		t.s = xstrdup("");
	return t.s;
}

/* A non-negative int of at most 64 bits (30-bit digits, as every 64-bit
 * build has them).
 */
static int long_read(struct proc *p, uint64_t obj, uint64_t *v)
{
	const struct layout *l = &p->lay;
	uint8_t buf[LONG_HDR];
	uint32_t d[3] = { 0 };
	int64_t size;
	uint64_t nd;
	bool whole;

	/* Header and up to 3 digits in one read, the header alone if that fails. */
	whole = !rd(p->pid, obj, buf, l->long_digits + 12u);
	if ((!whole && rd(p->pid, obj, buf, l->long_digits)) ||
	    !(hdr_flags(p, buf, NULL) & TPFLAGS_LONG_SUBCLASS))
		return -1;
	memcpy(&size, buf + l->long_size, 8);
	if (l->long_tag) {
		if ((size & 3) == 2) /* negative */
			return -1;
		nd = (size & 3) == 1 ? 0 : (uint64_t)size >> 3;
	} else {
		if (size < 0)
			return -1;
		nd = (uint64_t)size;
	}
	if (nd > 3 ||
	    (!whole && nd && rd(p->pid, obj + l->long_digits, buf + l->long_digits, nd * 4)))
		return -1;
	memcpy(d, buf + l->long_digits, nd * 4);
	if (d[0] >> 30 || d[1] >> 30 || d[2] >> 4)
		return -1;
	*v = d[0] | (uint64_t)d[1] << 30 | (uint64_t)d[2] << 60;
	return 0;
}

/* ---- Dicts ------------------------------------------------------------- */

/* Called for each live entry (ix: its index); nonzero stops the walk. */
typedef int (*entry_fn)(struct proc *p, uint64_t key, uint64_t value, uint64_t ix, void *ctx);

/* keys_each() values for a keys object alone (shared keys): every key, value 0. */
#define KEYS_ONLY UINT64_MAX

/* Walk a keys object from entry `from`, values from `values` (split
 * tables) or the entries. Entries in use go to *nentries. 0, or -1 when
 * unreadable or not a keys object of a size this code accepts.
 */
static int keys_each(struct proc *p, uint64_t keys, uint64_t values, uint64_t from,
		     uint64_t *nentries, entry_fn fn, void *ctx)
{
	const struct layout *l = &p->lay;
	uint8_t hdr[0x28], ent[ENTRY_CHUNK * 24];
	uint64_t vals[ENTRY_CHUNK], entries, n, size;
	unsigned int esize, koff, voff;

	if (rd(p->pid, keys, hdr, sizeof(hdr)))
		return -1;
	if (l->keys_39) {
		/* dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries, dk_indices[] */
		uint64_t ix;

		memcpy(&size, hdr + 0x08, 8);
		memcpy(&n, hdr + 0x20, 8);
		if (size < 8 || size > (1u << 26) || (size & (size - 1)))
			return -1;
		ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
		entries = keys + 0x28 + size * ix;
		esize = 24, koff = 8, voff = 16;
	} else {
		/* dk_refcnt, dk_log2_size, dk_log2_index_bytes, dk_kind, dk_version,
		 * dk_usable, dk_nentries, dk_indices[]
		 */
		uint8_t log2 = hdr[8], log2_ix = hdr[9], kind = hdr[10];

		memcpy(&n, hdr + 0x18, 8);
		if (log2 < 3 || log2 > 26 || log2_ix < log2 || log2_ix > log2 + 3 || kind > 2)
			return -1;
		size = 1ULL << log2;
		entries = keys + 0x20 + (1ULL << log2_ix);
		if (kind == 0) /* DICT_KEYS_GENERAL: hash, key, value */
			esize = 24, koff = 8, voff = 16;
		else /* DICT_KEYS_UNICODE, DICT_KEYS_SPLIT: key, value */
			esize = 16, koff = 0, voff = 8;
	}
	if (n > size || n > PYTHREADS_MAX_DICT_ENTRIES)
		return -1;
	if (nentries)
		*nentries = n;
	for (uint64_t i = from; i < n; i += ENTRY_CHUNK) {
		uint64_t c = n - i < ENTRY_CHUNK ? n - i : ENTRY_CHUNK;

		if (rd(p->pid, entries + i * esize, ent, c * esize) ||
		    (values && values != KEYS_ONLY &&
		     rd(p->pid, values + l->values_items + i * 8, vals, c * 8)))
			return -1;
		for (uint64_t j = 0; j < c; j++) {
			uint64_t k, v = 0;

			memcpy(&k, ent + j * esize + koff, 8);
			if (values == KEYS_ONLY)
				v = 1;
			else if (values)
				v = vals[j];
			else
				memcpy(&v, ent + j * esize + voff, 8);
			if (k && v && fn(p, k, values == KEYS_ONLY ? 0 : v, i + j, ctx))
				return 0;
		}
	}
	return 0;
}

/* A dict's keys and values (NULL unless split); -1 if obj is no dict. */
static int dict_open(struct proc *p, uint64_t obj, uint64_t *keys, uint64_t *values)
{
	const struct layout *l = &p->lay;
	uint8_t hdr[DICT_HDR];

	if (rd(p->pid, obj, hdr, sizeof(hdr)) || !(hdr_flags(p, hdr, NULL) & TPFLAGS_DICT_SUBCLASS))
		return -1;
	memcpy(keys, hdr + l->ma_keys, 8);
	memcpy(values, hdr + l->ma_values, 8);
	return *keys ? 0 : -1;
}

struct find {
	const char *name;
	struct hint *hint;
	uint64_t key, value, ix;
};

static int match_hint(struct proc *p, uint64_t key, uint64_t value, uint64_t ix, void *ctx)
{
	struct find *f = ctx;

	if (key != f->hint->key)
		return 0;
	/* Checked once a refresh: str objects are freed and their memory reused. */
	if (f->hint->checked != p->epoch) {
		if (!str_is(p, key, f->name))
			return 0;
		f->hint->checked = p->epoch;
	}
	f->key = key;
	f->value = value;
	f->ix = ix;
	return 1;
}

static int match_text(struct proc *p, uint64_t key, uint64_t value, uint64_t ix, void *ctx)
{
	struct find *f = ctx;

	if (!str_is(p, key, f->name))
		return 0;
	f->key = key;
	f->value = value;
	f->ix = ix;
	return 1;
}

/* Look name up in a keys object: first by the key object found last time
 * (hint: interned strings keep their address), then by content, from where
 * the last content scan of that keys object stopped (sc). 1 found (*value,
 * *ix), 0 absent, -1 unreadable.
 */
static int keys_find(struct proc *p, uint64_t keys, uint64_t values, const char *name,
		     struct hint *hint, struct scan *sc, uint64_t *value, uint64_t *ix)
{
	struct find f = { name, hint, 0, 0, 0 };
	uint64_t n = 0, from = 0;

	if (hint->key && keys_each(p, keys, values, 0, &n, match_hint, &f))
		return -1;
	if (!f.key) {
		if (sc && sc->keys == keys && sc->age++ < RESCAN_EVERY)
			from = sc->scanned;
		if (keys_each(p, keys, values, from, &n, match_text, &f))
			return -1;
		if (sc && !f.key) {
			if (sc->keys != keys || from == 0)
				sc->age = 0;
			sc->keys = keys;
			sc->scanned = n;
		}
	}
	if (!f.key)
		return 0;
	if (hint->key != f.key) {
		hint->key = f.key;
		hint->checked = p->epoch;
	}
	*value = f.value;
	if (ix)
		*ix = f.ix;
	return 1;
}

static int dict_find(struct proc *p, uint64_t dict, const char *name, struct hint *hint,
		     struct scan *sc, uint64_t *value)
{
	uint64_t keys, values;

	if (dict_open(p, dict, &keys, &values))
		return -1;
	return keys_find(p, keys, values, name, hint, sc, value, NULL);
}

/* Where an instance keeps its attributes: a dict, or values whose keys are
 * the type's shared keys (cap: how many values fit, 0 unknown). 0, or -1
 * when unreadable or not laid out as this version does.
 */
static int inst_storage(struct proc *p, uint64_t obj, const struct type_info *ti, uint64_t *dict,
			uint64_t *values, uint64_t *cap)
{
	const struct layout *l = &p->lay;
	uint64_t pre[2]; /* 3.11+: the two words at obj - 32 */

	*dict = *values = *cap = 0;
	if (l->inst == INST_DICTOFFSET || !(ti->flags & TPFLAGS_MANAGED_DICT)) {
		/* __dict__ at tp_dictoffset (negative offsets are for
		 * variable-size objects, which a Thread is not).
		 */
		if (ti->dictoffset <= 0 || ti->dictoffset > 0x1000)
			return -1;
		return rd_ptr(p->pid, obj + ti->dictoffset, dict);
	}
	if (rd(p->pid, obj - 32, pre, sizeof(pre)))
		return -1;
	switch (l->inst) {
	case INST_VALUES_311: /* values at obj - 32, dict at obj - 24 */
		*values = pre[0];
		*dict = *values ? 0 : pre[1];
		return 0;
	case INST_TAGGED_312: /* obj - 24: the dict, or (char *)values - 1 */
		if (pre[1] & 1)
			*values = pre[1] + 1;
		else
			*dict = pre[1];
		return 0;
	case INST_INLINE_313: /* dict at obj - 24, else values at tp_basicsize */
		*dict = pre[1];
		if (!*dict && (ti->flags & TPFLAGS_INLINE_VALUES)) {
			uint8_t vh[4]; /* capacity, size, embedded, valid */

			if (ti->basicsize < 16 || ti->basicsize > 0x1000 ||
			    rd(p->pid, obj + ti->basicsize, vh, sizeof(vh)) || !vh[3])
				return -1;
			*values = obj + ti->basicsize;
			*cap = vh[0];
		}
		return 0;
	default:
		return -1;
	}
}

/* Attribute a of an instance: 1 found (*value), 0 absent, -1 unreadable.
 * Values in shared keys are found by an index looked up once a refresh per
 * type.
 */
static int attr_get(struct proc *p, struct type_info *ti, uint64_t dict, uint64_t values,
		    uint64_t cap, enum attr a, uint64_t *value)
{
	uint64_t ix, unused;

	if (dict)
		return dict_find(p, dict, attr_names[a], &p->h_attr[a], NULL, value);
	if (!values)
		return 0;
	if (ti->ix[a] == IX_UNKNOWN) {
		int r = ti->cached_keys ? keys_find(p, ti->cached_keys, KEYS_ONLY, attr_names[a],
						    &p->h_attr[a], NULL, &unused, &ix)
					: 0;

		if (r < 0)
			return -1;
		ti->ix[a] = r ? (int64_t)ix : IX_ABSENT;
	}
	if (ti->ix[a] == IX_ABSENT)
		return 0;
	if (cap && (uint64_t)ti->ix[a] >= cap)
		return -1;
	if (rd_ptr(p->pid, values + p->lay.values_items + 8 * (uint64_t)ti->ix[a], value))
		return -1;
	return *value ? 1 : 0;
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
	t->os = text_from_bytes(pt, raw, len);
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
	if (rd(p->pid, obj, hdr, sizeof(hdr)) || !hdr_flags(p, hdr, &ti) || !ti || ti->dummy ||
	    inst_storage(p, obj, ti, &dict, &values, &cap))
		return 0;
	/* Its native id, else the kernel tid in its pthread (the ident). */
	if (attr_get(p, ti, dict, values, cap, ATTR_NATIVE_ID, &attr) == 1 &&
	    !long_read(p, attr, &native))
		t = thread_by_ns_tid(a->pt, p, native);
	if (!t && !long_read(p, key, &ident) && !rd(p->pid, ident + GLIBC_PTHREAD_TID, &tid, 4))
		t = thread_by_ns_tid(a->pt, p, tid);
	if (!t || attr_get(p, ti, dict, values, cap, ATTR_NAME, &attr) != 1)
		return 0;
	name = str_read(a->pt, p, attr, copy, &copy_len);
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
		reset_python(p);
		p->runtime = runtime;
		p->minor = minor;
	}
	if (!p->lay_ok) {
		layout_from_table(minor, &p->lay);
		if ((minor >= 13 && layout_from_debug(p->pid, runtime, minor, &p->lay)) ||
		    !layout_fits(&p->lay))
			goto unreadable;
		p->lay_ok = true;
	}
	p->ntypes = 0; /* types are read again at each refresh */
	interp = python__interp(pt->py, p->pid);
	if (!interp)
		return; /* not set up yet */
	pt->stats.python_reads++;
	if (rd_ptr(p->pid, interp + p->lay.interp_modules, &modules))
		goto unreadable;
	if (!modules)
		return;
	switch (dict_find(p, modules, "threading", &p->h_threading, &p->in_modules, &mod)) {
	case 0:
		return; /* threading not imported: no Python names */
	case -1:
		goto unreadable;
	}
	/* PyModuleObject.md_dict follows the object header in 3.9-3.15. */
	if (rd_ptr(p->pid, mod + 0x10, &mdict) ||
	    dict_find(p, mdict, "_active", &p->h_active, &p->in_threading, &active) != 1)
		goto unreadable;
	{
		uint64_t keys, values;

		if (dict_open(p, active, &keys, &values) ||
		    keys_each(p, keys, values, 0, NULL, on_active, &a))
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
