// SPDX-License-Identifier: GPL-2.0
/* Reading CPython objects in a target's memory for pythreads: str, int,
 * dict and an instance's attributes, through the layout of the target's
 * version (src/cpython_layouts.c, or _Py_DebugOffsets on 3.13+). The target
 * can hold anything: every read is bounded and its result checked (types by
 * their tp_flags, dict sizes, digit counts).
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
char *pyobj_text_from_bytes(struct pythreads *pt, const char *b, size_t len)
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

int pyobj_rd(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	if (!addr || addr >= (1ULL << 47))
		return -1;
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

int pyobj_rd_ptr(pid_t pid, uint64_t addr, uint64_t *v)
{
	*v = 0;
	return pyobj_rd(pid, addr, v, sizeof(*v));
}

/* The reader's view of the layout of 3.minor (src/cpython_layouts.c,
 * offsetof() on each version's headers); 3.13+ then take the fields their
 * _Py_DebugOffsets cover from there.
 */
void pyobj_layout_from_table(int minor, struct layout *l)
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

int pyobj_layout_from_debug(pid_t pid, uint64_t runtime, int minor, struct layout *l)
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

	if (dbg->size > sizeof(buf) || pyobj_rd(pid, runtime, buf, dbg->size) ||
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
#define STR_HDR	 0x50  /* pyobj_str_read() */
#define LONG_HDR 0x40  /* pyobj_long_read() */
#define DICT_HDR 0x30  /* pyobj_dict_open() */
#define TYPE_HDR 0x130 /* type_get() */

bool pyobj_layout_fits(const struct layout *l)
{
	return l->str_length + 8u <= STR_HDR && l->str_state + 4u <= STR_HDR &&
	       l->str_ascii + 16u <= STR_HDR && l->str_compact + 8u <= STR_HDR &&
	       l->long_size + 8u <= LONG_HDR && l->long_digits + 12u <= LONG_HDR &&
	       l->ma_keys + 8u <= DICT_HDR && l->ma_values + 8u <= DICT_HDR &&
	       l->tp_name + 8u <= TYPE_HDR && l->tp_flags + 8u <= TYPE_HDR &&
	       l->tp_basicsize + 8u <= TYPE_HDR && l->tp_dictoffset + 8u <= TYPE_HDR;
}

void pyobj_reset_python(struct proc *p)
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
	if (pyobj_rd(p->pid, type, buf, sizeof(buf)))
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
	ti->dummy = !pyobj_rd(p->pid, name_ptr, name, 13) && !memcmp(name, "_DummyThread", 13);
	if (pyobj_rd_ptr(p->pid, type + l->ht_cached_keys, &ti->cached_keys))
		ti->cached_keys = 0;
	return ti;
}

/* The flags of the type of an object whose first 16 bytes are in hdr. */
uint64_t pyobj_hdr_flags(struct proc *p, const uint8_t *hdr, struct type_info **out)
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

	if (n > 16 || pyobj_rd(p->pid, obj, buf, l->str_ascii + n))
		return false;
	memcpy(&len, buf + l->str_length, 8);
	memcpy(&state, buf + l->str_state, 4);
	/* compact (bit 5) and ascii (bit 6), kind 1 (bits 2-4) */
	if (len != (int64_t)n || (state & 0x7c) != 0x64 || memcmp(buf + l->str_ascii, s, n))
		return false;
	return pyobj_hdr_flags(p, buf, NULL) & TPFLAGS_UNICODE_SUBCLASS;
}

/* A str as one line of valid UTF-8, at most PYTHREADS_MAX_NAME_CHARS, and
 * in copy the first OS_NAME_MAX bytes CPython 3.14+ would make its OS name.
 */
char *pyobj_str_read(struct pythreads *pt, struct proc *p, uint64_t obj, char *copy,
		     uint8_t *copy_len)
{
	const struct layout *l = &p->lay;
	uint8_t hdr[STR_HDR], data[PYTHREADS_MAX_NAME_CHARS * 4];
	struct text t = { 0 };
	uint64_t at;
	int64_t len, n;
	uint32_t state, kind;

	if (pyobj_rd(p->pid, obj, hdr, l->str_compact + 8u) ||
	    !(pyobj_hdr_flags(p, hdr, NULL) & TPFLAGS_UNICODE_SUBCLASS))
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
	if (n && pyobj_rd(p->pid, at, data, (size_t)n * kind))
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
int pyobj_long_read(struct proc *p, uint64_t obj, uint64_t *v)
{
	const struct layout *l = &p->lay;
	uint8_t buf[LONG_HDR];
	uint32_t d[3] = { 0 };
	int64_t size;
	uint64_t nd;
	bool whole;

	/* Header and up to 3 digits in one read, the header alone if that fails. */
	whole = !pyobj_rd(p->pid, obj, buf, l->long_digits + 12u);
	if ((!whole && pyobj_rd(p->pid, obj, buf, l->long_digits)) ||
	    !(pyobj_hdr_flags(p, buf, NULL) & TPFLAGS_LONG_SUBCLASS))
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
	    (!whole && nd && pyobj_rd(p->pid, obj + l->long_digits, buf + l->long_digits, nd * 4)))
		return -1;
	memcpy(d, buf + l->long_digits, nd * 4);
	if (d[0] >> 30 || d[1] >> 30 || d[2] >> 4)
		return -1;
	*v = d[0] | (uint64_t)d[1] << 30 | (uint64_t)d[2] << 60;
	return 0;
}

/* ---- Dicts ------------------------------------------------------------- */

/* Walk a keys object from entry `from`, values from `values` (split
 * tables) or the entries. Entries in use go to *nentries. 0, or -1 when
 * unreadable or not a keys object of a size this code accepts.
 */
int pyobj_keys_each(struct proc *p, uint64_t keys, uint64_t values, uint64_t from,
		    uint64_t *nentries, entry_fn fn, void *ctx)
{
	const struct layout *l = &p->lay;
	uint8_t hdr[0x28], ent[ENTRY_CHUNK * 24];
	uint64_t vals[ENTRY_CHUNK], entries, n, size;
	unsigned int esize, koff, voff;

	if (pyobj_rd(p->pid, keys, hdr, sizeof(hdr)))
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

		if (pyobj_rd(p->pid, entries + i * esize, ent, c * esize) ||
		    (values && values != KEYS_ONLY &&
		     pyobj_rd(p->pid, values + l->values_items + i * 8, vals, c * 8)))
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
int pyobj_dict_open(struct proc *p, uint64_t obj, uint64_t *keys, uint64_t *values)
{
	const struct layout *l = &p->lay;
	uint8_t hdr[DICT_HDR];

	if (pyobj_rd(p->pid, obj, hdr, sizeof(hdr)) ||
	    !(pyobj_hdr_flags(p, hdr, NULL) & TPFLAGS_DICT_SUBCLASS))
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

	if (hint->key && pyobj_keys_each(p, keys, values, 0, &n, match_hint, &f))
		return -1;
	if (!f.key) {
		if (sc && sc->keys == keys && sc->age++ < RESCAN_EVERY)
			from = sc->scanned;
		if (pyobj_keys_each(p, keys, values, from, &n, match_text, &f))
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

int pyobj_dict_find(struct proc *p, uint64_t dict, const char *name, struct hint *hint,
		    struct scan *sc, uint64_t *value)
{
	uint64_t keys, values;

	if (pyobj_dict_open(p, dict, &keys, &values))
		return -1;
	return keys_find(p, keys, values, name, hint, sc, value, NULL);
}

/* Where an instance keeps its attributes: a dict, or values whose keys are
 * the type's shared keys (cap: how many values fit, 0 unknown). 0, or -1
 * when unreadable or not laid out as this version does.
 */
int pyobj_inst_storage(struct proc *p, uint64_t obj, const struct type_info *ti, uint64_t *dict,
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
		return pyobj_rd_ptr(p->pid, obj + ti->dictoffset, dict);
	}
	if (pyobj_rd(p->pid, obj - 32, pre, sizeof(pre)))
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
			    pyobj_rd(p->pid, obj + ti->basicsize, vh, sizeof(vh)) || !vh[3])
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
int pyobj_attr_get(struct proc *p, struct type_info *ti, uint64_t dict, uint64_t values,
		   uint64_t cap, enum attr a, uint64_t *value)
{
	uint64_t ix, unused;

	if (dict)
		return pyobj_dict_find(p, dict, attr_names[a], &p->h_attr[a], NULL, value);
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
	if (pyobj_rd_ptr(p->pid, values + p->lay.values_items + 8 * (uint64_t)ti->ix[a], value))
		return -1;
	return *value ? 1 : 0;
}
