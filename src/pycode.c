// SPDX-License-Identifier: GPL-2.0
/* Code objects and line tables: what names each code object, as BPF copied
 * it at first sight (or a snapshot read it from memory), kept while its
 * process lives; "qualname (file:line)" from it, lines from CPython's own
 * line-table formats (3.9 lnotab, 3.10 linetable, 3.11+ locations table),
 * checked against PyCode_Addr2Line (docs/cpython-internals.md).
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

/* ---- Code objects ----------------------------------------------------- */

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

void pycode_free_all(struct python *py)
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

	if (!addr || py_read_mem(pid, addr, hdr, sizeof(hdr)))
		return NULL;
	memcpy(&len, hdr + 0x10, 8);
	memcpy(&state, hdr + 0x20, 4);
	kind = (state >> 2) & 7;
	if (len < 0 || len > (1 << 28) || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	if ((state >> 5) & 1)
		data_addr = addr + ((state >> 6) & 1 ? l->ascii_data : l->compact_data);
	else if (py_read_mem(pid, addr + l->compact_data, &data_addr, 8))
		return NULL;
	total = (uint64_t)len * kind;
	if (total <= sizeof(data)) {
		nbytes = (uint32_t)total;
		if (nbytes && py_read_mem(pid, data_addr, data, nbytes))
			return NULL;
	} else {
		nbytes = sizeof(data);
		if (py_read_mem(pid, data_addr, data, half) ||
		    py_read_mem(pid, data_addr + total - half, data + half, half))
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

	if (py_read_mem(pid, c->addr, hdr, PY_CODE_READ_MAX))
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
	struct py_target *t = py_target_get(py, c->pid);
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
	    !py_read_mem(c->pid, c->linetable_ptr + 0x10, &size, 8) && size > 0 &&
	    size <= MAX_LINETABLE) {
		uint8_t *tab = xmalloc(size);

		if (!py_read_mem(c->pid, c->linetable_ptr + 0x20, tab, size) &&
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
uint64_t pycode_from_memory(struct python *py, struct py_target *t, uint64_t addr)
{
	const struct code_layout *l = &t->code;
	unsigned int b = code_bucket(addr ^ (uint64_t)t->pid);
	uint8_t hdr[PY_CODE_READ_MAX];
	struct code_info *c, probe = { .addr = addr };
	uint64_t size = 0;

	if (py_read_mem(t->pid, addr, hdr, PY_CODE_READ_MAX))
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
	if (c->linetable_ptr && !py_read_mem(t->pid, c->linetable_ptr + 0x10, &size, 8) &&
	    size > 0 && size <= MAX_LINETABLE) {
		c->linetable = xmalloc(size);
		if (py_read_mem(t->pid, c->linetable_ptr + 0x20, c->linetable, size)) {
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
