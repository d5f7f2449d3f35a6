// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"
#include "utf8.h"
#include "util.h"

/* Append a frame name so that the reader splits it back into one frame: the
 * format's separators replaced (';' by ':', line ends by spaces), cut on a
 * character boundary at FOLDED_MAX_FRAME bytes, no trailing blanks (the
 * reader strips them before the count), never empty, and a '#' that would
 * start the line (a comment) replaced by U+FF03 FULLWIDTH NUMBER SIGN.
 * 1 when the name had to be cut.
 */
static int append_frame(char **buf, size_t *len, size_t *cap, const char *name, int line_start)
{
	static const char unnamed[] = "[unnamed]";
	size_t n = strlen(name), start = *len, i = 0;
	int cut = 0;

	/* Each byte may become three (U+FFFD, U+FF03). */
	grow_array((void **)buf, cap, *len + 3 * n + sizeof(unnamed) + 1, 1);
	while (i < n) {
		size_t at = *len, k;
		uint32_t cp;
		char *o = *buf + at;

		k = utf8_decode(name + i, n - i, &cp);
		if (cp == UTF8_INVALID || !cp) {
			memcpy(o, UTF8_REPLACEMENT_STR, 3);
			*len += 3;
		} else if (cp == ';') {
			o[0] = ':';
			*len += 1;
		} else if (cp == '\n' || cp == '\r') {
			o[0] = ' ';
			*len += 1;
		} else if (cp == '#' && line_start && at == start) {
			memcpy(o, "\xef\xbc\x83", 3);
			*len += 3;
		} else {
			memcpy(o, name + i, k);
			*len += k;
		}
		i += k;
		if (*len - start > FOLDED_MAX_FRAME) {
			*len = at;
			cut = 1;
			break;
		}
	}
	while (*len > start && ((*buf)[*len - 1] == ' ' || (*buf)[*len - 1] == '\t'))
		(*len)--;
	if (*len == start) {
		memcpy(*buf + start, unnamed, sizeof(unnamed) - 1);
		*len += sizeof(unnamed) - 1;
	}
	(*buf)[*len] = '\0';
	return cut;
}

/* Room for " COUNT" within the reader's FOLDED_MAX_LINE. */
#define STACK_TEXT_MAX (FOLDED_MAX_LINE - 21)

/* What folded__write() sorts: a stack of p, its first k frames written. */
struct out_stack {
	const uint32_t *frames;
	uint32_t k;
	uint32_t index; /* in p, for ties */
};

/* A frame's text in a line ended by term (';' before the next frame, '\0'
 * at the end of the stack, as strcmp() sees the line), for ranking.
 */
struct out_word {
	const char *text;
	size_t len;
	char term;
	uint32_t id, at; /* at: 0..3, first frame * 2 + last frame */
};

static int cmp_word(const void *a, const void *b)
{
	const struct out_word *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->text, y->text, n);
	unsigned char cx, cy;

	if (c)
		return c;
	/* One text is a prefix of the other, or both are the same: its
	 * terminator against the other's next byte, or both terminators.
	 */
	cx = (unsigned char)(n < x->len ? x->text[n] : x->term);
	cy = (unsigned char)(n < y->len ? y->text[n] : y->term);
	return cx < cy ? -1 : cx > cy;
}

/* Per frame id, four ranks (first frame or not, last frame or not). */
static const uint32_t *out_rank[4];

static inline uint32_t out_key(const struct out_stack *s, uint32_t j)
{
	return out_rank[(j == 0) * 2 + (j + 1 == s->k)][s->frames[j]];
}

static int cmp_out_stack(const void *a, const void *b)
{
	const struct out_stack *x = a, *y = b;
	uint32_t n = x->k < y->k ? x->k : y->k;

	for (uint32_t j = 0; j < n; j++) {
		uint32_t kx = out_key(x, j), ky = out_key(y, j);

		if (kx != ky)
			return kx < ky ? -1 : 1;
	}
	return x->index < y->index ? -1 : x->index > y->index;
}

/* A stack's timeline, on the line after it:
 *   # slices [SLICE=WEIGHT SLICE=WEIGHT ...]
 * slices in increasing order, numbered from the profile's start in units
 * of the header's "slice W s". Other tools skip it: a comment, and a line
 * that does not end in a count.
 */
struct cell {
	uint32_t slice;
	uint64_t weight;
};

static int write_slices(FILE *f, const struct profile *p, size_t i, struct cell **cells,
			size_t *cap)
{
	uint32_t cur = 0, slice;
	uint64_t w;
	size_t n = 0;

	while (profile__stack_slice(p, i, &cur, &slice, &w)) {
		grow_array((void **)cells, cap, n + 1, sizeof(**cells));
		(*cells)[n++] = (struct cell){ slice, w };
	}
	if (!n)
		return 0;
	fputs("# slices [", f);
	/* Latest first in the profile: written oldest first. */
	while (n--)
		fprintf(f, "%" PRIu32 "=%" PRIu64 "%s", (*cells)[n].slice, (*cells)[n].weight,
			n ? " " : "]\n");
	return ferror(f) ? -1 : 0;
}

/* Lines are sorted by their text, as strcmp() orders them. A line is a
 * sequence of frame texts each ended by ';' or the line's end, and no text
 * holds either, so no such word is a prefix of another: comparing lines is
 * comparing their words in turn. Each word (frame name, whether it is the
 * first frame and whether the last) is ranked once, and the stacks are
 * sorted by their words' ranks, without their text in memory.
 */
int folded__write(FILE *f, const struct profile *p)
{
	size_t ns = profile__nstacks(p), nf = profile__nframes(p), out = 0, nwords = 0;
	size_t names_cut = 0, stacks_cut = 0, cap = 0, len = 0, i;
	struct out_stack *lines = xmalloc((ns ? ns : 1) * sizeof(*lines));
	/* Per frame id: its text as a first frame ([0]) and as any other
	 * ([1]), and whether it was cut.
	 */
	char **text[2];
	size_t *tlen[2];
	unsigned char *cut[2];
	struct out_word *words = xmalloc((nf ? nf : 1) * 4 * sizeof(*words));
	uint32_t *rank = xmalloc((nf ? nf : 1) * 4 * sizeof(*rank));
	char *buf = NULL;
	int ret = 0, timeline = profile__slice_sec(p) > 0;
	struct cell *cells = NULL;
	size_t ncap = 0;

	for (int v = 0; v < 2; v++) {
		text[v] = xcalloc(nf ? nf : 1, sizeof(*text[v]));
		tlen[v] = xcalloc(nf ? nf : 1, sizeof(*tlen[v]));
		cut[v] = xcalloc(nf ? nf : 1, 1);
		for (size_t i = 0; i < nf; i++) {
			len = 0;
			cut[v][i] = (unsigned char)append_frame(
			    &buf, &len, &cap, profile__frame_name(p, (uint32_t)i), !v);
			text[v][i] = xmalloc(len + 1);
			memcpy(text[v][i], buf, len + 1);
			tlen[v][i] = len;
		}
	}
	for (size_t i = 0; i < nf; i++)
		for (uint32_t at = 0; at < 4; at++)
			words[nwords++] = (struct out_word){ text[at < 2][i], tlen[at < 2][i],
							     at & 1 ? '\0' : ';', (uint32_t)i, at };
	qsort(words, nwords, sizeof(*words), cmp_word);
	for (size_t i = 0, r = 0; i < nwords; i++) {
		if (i && cmp_word(&words[i - 1], &words[i]))
			r++;
		rank[words[i].at * nf + words[i].id] = (uint32_t)r;
	}
	for (int at = 0; at < 4; at++)
		out_rank[at] = rank + at * nf;

	for (size_t i = 0; i < ns; i++) {
		uint32_t n, k = 0;
		uint64_t w;
		const uint32_t *frames = profile__stack(p, i, &n, &w);

		if (!n || !w)
			continue;
		/* Deeper or longer than the reader takes: the leaf side goes. */
		for (len = 0; k < n; k++) {
			if (k == FOLDED_MAX_DEPTH) {
				stacks_cut++;
				break;
			}
			len += (k ? 1 : 0) + tlen[!!k][frames[k]];
			names_cut += cut[!!k][frames[k]];
			if (k && len > STACK_TEXT_MAX) {
				stacks_cut++;
				break;
			}
		}
		lines[out++] = (struct out_stack){ frames, k, (uint32_t)i };
	}
	/* Sorted already when p was read from sorted lines: one comparison per line tells. */
	for (i = 1; i < out && cmp_out_stack(&lines[i - 1], &lines[i]) < 0; i++)
		;
	if (i < out)
		qsort(lines, out, sizeof(*lines), cmp_out_stack);
	for (size_t i = 0; i < out; i++) {
		uint32_t n;
		uint64_t w;

		profile__stack(p, lines[i].index, &n, &w);
		len = 0;
		for (uint32_t j = 0; j < lines[i].k; j++) {
			uint32_t id = lines[i].frames[j];

			grow_array((void **)&buf, &cap, len + tlen[!!j][id] + 24, 1);
			if (j)
				buf[len++] = ';';
			memcpy(buf + len, text[!!j][id], tlen[!!j][id]);
			len += tlen[!!j][id];
		}
		len += (size_t)snprintf(buf + len, 23, " %" PRIu64 "\n", w);
		if (fwrite(buf, 1, len, f) != len)
			ret = -1;
		if (timeline && write_slices(f, p, lines[i].index, &cells, &ncap))
			ret = -1;
	}
	for (int v = 0; v < 2; v++) {
		for (size_t i = 0; i < nf; i++)
			free(text[v][i]);
		free(text[v]);
		free(tlen[v]);
		free(cut[v]);
	}
	free(words);
	free(rank);
	free(buf);
	free(lines);
	free(cells);
	if (names_cut || stacks_cut)
		p_warn(
		    "folded output: %zu frame%s cut at %d bytes, %zu stack%s cut at %d frames or "
		    "1 MiB (the limits of folded readers)",
		    names_cut, names_cut == 1 ? "" : "s", FOLDED_MAX_FRAME, stacks_cut,
		    stacks_cut == 1 ? "" : "s", FOLDED_MAX_DEPTH);
	return ret;
}

int folded__write_header(FILE *f, const struct profile *p)
{
	const struct profile_meta *m = profile__meta_ro(p);
	const char *t = m->target[0] ? m->target : "unknown";
	char target[3 * sizeof(m->target) + 1];

	utf8_sanitize(target, sizeof(target), t, strlen(t));
	fputs("# rampa-bpf: target \"", f);
	for (const char *c = target; *c; c++)
		fputc(*c == '"' ? '\'' : *c == '\n' || *c == '\r' ? ' ' : *c, f);
	fprintf(f, "\", mode %s, unit %s, ", m->mode ? m->mode : "cpu",
		m->unit ? m->unit : "samples");
	if (m->duration_sec > 0)
		fprintf(f, "duration %.3f s, ", m->duration_sec);
	else
		fputs("duration unknown, ", f);
	/* Bytes are not sampled at a rate: no rate said. */
	if (m->hz)
		fprintf(f, "rate %u Hz", m->hz);
	else if (!m->unit || strcmp(m->unit, "bytes"))
		fputs("rate unknown", f);
	else
		fputs("rate none", f);
	if (profile__slice_sec(p) > 0)
		fprintf(f, ", slice %.9g s", profile__slice_sec(p));
	if (m->window)
		fprintf(f, ", window %s", m->window);
	if (m->groups_known)
		fprintf(f, ", groups %s",
			m->groups == (PROFILE_GROUP_PROCESS | PROFILE_GROUP_THREAD)
			    ? "process+thread"
			: m->groups == PROFILE_GROUP_PROCESS ? "process"
			: m->groups == PROFILE_GROUP_THREAD  ? "thread"
							     : "none");
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

struct reader {
	const char *name;
	struct profile *p;
	unsigned int flags;
	double scale; /* every count is multiplied by it (1: as read) */
	struct folded_read_stats *st;
	uint32_t *frames;
	/* austin's collapsed stacks give a Python frame's line as a frame of its
	 * own after it: "main (app.py);L14". Merged into "main (app.py:14)".
	 */
	uint32_t *merged;
	char *merge_buf;
	size_t merge_cap;
	int any_marker; /* a marker was interned: only then are stacks checked */
	/* The last stack added: its text, and where each of its frames ends.
	 * Sorted input (FlameGraph's, ours) repeats long prefixes line after
	 * line; frames in a common prefix are neither validated nor interned
	 * again.
	 */
	char *prev;
	size_t prev_len, prev_cap;
	uint32_t *prev_ends;
	uint32_t prev_depth;
	/* Where each frame of the line being read ends, from its check. */
	uint32_t *ends;
	/* Frame text -> id, in front of profile__intern(): looked up by length
	 * and bytes where they lie in the line, with no copy and no strlen().
	 */
	struct name_slot {
		const char *name;
		uint32_t len, id;
	} * names;
	size_t nnames, names_cap;
	bool austin; /* "# austin: VERSION" seen: its "# duration:" is in microseconds */
	/* The stack of the last line and its count, for a "# slices" line
	 * after it: how much of the count has a slice already.
	 */
	size_t last_stack;
	uint64_t last_count, last_timed;
	bool have_last;
};

static void names_rehash(struct reader *r)
{
	size_t cap = r->names_cap ? r->names_cap * 2 : 1024;
	struct name_slot *old = r->names, *slots = xcalloc(cap, sizeof(*slots));

	for (size_t i = 0; i < r->names_cap; i++) {
		size_t s;

		if (!old[i].name)
			continue;
		s = hash_bytes(old[i].name, old[i].len, 0) & (cap - 1);
		while (slots[s].name)
			s = (s + 1) & (cap - 1);
		slots[s] = old[i];
	}
	free(old);
	r->names = slots;
	r->names_cap = cap;
}

static uint32_t intern_frame(struct reader *r, const char *frame, size_t len)
{
	size_t s;
	uint32_t id;

	if ((r->nnames + 1) * 2 > r->names_cap)
		names_rehash(r);
	s = hash_bytes(frame, len, 0) & (r->names_cap - 1);
	while (r->names[s].name) {
		if (r->names[s].len == len && !memcmp(r->names[s].name, frame, len))
			return r->names[s].id;
		s = (s + 1) & (r->names_cap - 1);
	}
	/* Valid UTF-8 without NUL (parse_line checked): stored as it is, so the
	 * profile's copy is the key from now on.
	 */
	id = profile__intern_len(r->p, frame, len);
	if (len > 1 && frame[0] == 'L' && frame[1] >= '0' && frame[1] <= '9')
		r->any_marker = 1;
	r->names[s] = (struct name_slot){ profile__frame_name(r->p, id), (uint32_t)len, id };
	r->nnames++;
	return id;
}

static void set_meta(struct profile *p, const char *key, size_t klen, const char *val, size_t vlen)
{
	static const char *const units[] = { "samples", "microseconds", "nanoseconds", "bytes" };
	struct profile_meta *m = profile__meta(p);
	char v[256];
	size_t full = vlen;

	if (vlen >= sizeof(v))
		vlen = sizeof(v) - 1;
	memcpy(v, val, vlen);
	v[vlen] = '\0';
#define KEY(k) (klen == sizeof(k) - 1 && !memcmp(key, k, klen))
	if (KEY("mode")) {
		if (profile__mode(v))
			m->mode = profile__mode(v)->name;
	} else if (KEY("unit")) {
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(v, units[i]))
				m->unit = units[i];
	} else if (KEY("target")) {
		/* Comment lines are not checked: the target is made valid here. */
		utf8_sanitize(m->target, sizeof(m->target), val, full);
	} else if (KEY("duration")) {
		double d;

		if (!parse_duration(v, &d))
			m->duration_sec = d;
	} else if (KEY("window")) {
		if (!strcmp(v, "command"))
			m->window = "command";
		else if (!strcmp(v, "attach"))
			m->window = "attach";
	} else if (KEY("groups")) {
		static const char *const groups[] = { "none", "process", "thread",
						      "process+thread" };

		for (unsigned int i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			if (!strcmp(v, groups[i])) {
				m->groups = i;
				m->groups_known = true;
			}
	} else if (KEY("slice")) {
		double d;

		/* Set once, before any stack: a second header (files put end to
		 * end) keeps the first's.
		 */
		if (!parse_duration(v, &d) && d > 0 && !profile__slice_sec(p) && !profile__total(p))
			profile__set_timeline(p, d, 0);
	} else if (KEY("hz")) {
		unsigned long hz;

		if (!parse_ulong(v, 1, 1000000, &hz))
			m->hz = (unsigned int)hz;
	}
#undef KEY
}

/* Our own header: target "T", mode M, unit U, duration D s, rate R Hz */
static void header_line(struct reader *r, const char *v, size_t len)
{
	const char *end = v + len, *q;

	if (len > 8 && !memcmp(v, "target \"", 8) && (q = memchr(v + 8, '"', len - 8))) {
		set_meta(r->p, "target", 6, v + 8, (size_t)(q - v - 8));
		v = q + 1;
	}
	while (v < end) {
		const char *comma, *sp;
		size_t n;

		while (v < end && (*v == ',' || *v == ' '))
			v++;
		comma = memchr(v, ',', (size_t)(end - v));
		if (!comma)
			comma = end;
		sp = memchr(v, ' ', (size_t)(comma - v));
		if (sp) {
			const char *val = sp + 1;

			n = (size_t)(comma - val);
			/* "10.0 s", "99 Hz": the number only. */
			if (n > 2 && !memcmp(comma - 2, " s", 2))
				n -= 2;
			else if (n > 3 && !memcmp(comma - 3, " Hz", 3))
				n -= 3;
			if ((size_t)(sp - v) == 4 && !memcmp(v, "rate", 4))
				set_meta(r->p, "hz", 2, val, n);
			else
				set_meta(r->p, v, (size_t)(sp - v), val, n);
		}
		v = comma;
	}
}

static void comment_line(struct reader *r, const char *s, size_t len)
{
	const char *colon, *key, *val;
	size_t klen, vlen;

	s++, len--;
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	colon = memchr(s, ':', len);
	if (!colon)
		return;
	key = s;
	klen = (size_t)(colon - s);
	val = colon + 1;
	vlen = len - klen - 1;
	while (vlen && (*val == ' ' || *val == '\t'))
		val++, vlen--;
	while (vlen && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
		vlen--;
	if (klen == 9 && !memcmp(key, "rampa-bpf", 9)) {
		header_line(r, val, vlen);
	} else if (klen == 6 && !memcmp(key, "austin", 6)) {
		r->austin = true;
	} else if (r->austin && klen == 8 && !memcmp(key, "duration", 8)) {
		char us[32];
		unsigned long v;

		if (vlen < sizeof(us)) {
			memcpy(us, val, vlen);
			us[vlen] = '\0';
			if (!parse_ulong(us, 1, ULONG_MAX, &v))
				profile__meta(r->p)->duration_sec = v / 1e6;
		}
	} else {
		set_meta(r->p, key, klen, val, vlen);
	}
}

static int is_line_marker(const char *name)
{
	if (name[0] != 'L' || !name[1])
		return 0;
	for (name++; *name; name++)
		if (*name < '0' || *name > '9')
			return 0;
	return 1;
}

static int has_line_marker(const struct reader *r, uint32_t depth)
{
	for (uint32_t i = 1; i < depth; i++)
		if (is_line_marker(profile__frame_name(r->p, r->frames[i])))
			return 1;
	return 0;
}

/* r->frames[0..depth) into r->merged, each "name (file)" followed by "LNUM"
 * made one "name (file:NUM)"; the new depth.
 */
static uint32_t merge_line_markers(struct reader *r, uint32_t depth)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < depth; i++) {
		const char *name = profile__frame_name(r->p, r->frames[i]);
		const char *prev = n ? profile__frame_name(r->p, r->merged[n - 1]) : NULL;
		size_t plen = prev ? strlen(prev) : 0;
		struct frame_py py;

		if (prev && is_line_marker(name) && plen > 3 && prev[plen - 1] == ')' &&
		    strstr(prev, " (") && (!frame__parse_python(prev, &py) || !py.line)) {
			size_t need = plen + strlen(name) + 1;

			grow_array((void **)&r->merge_buf, &r->merge_cap, need, 1);
			snprintf(r->merge_buf, need, "%.*s:%s)", (int)(plen - 1), prev, name + 1);
			r->merged[n - 1] = profile__intern(r->p, r->merge_buf);
			continue;
		}
		r->merged[n++] = r->frames[i];
	}
	return n;
}

/* How many bytes a[0..n) and b[0..n) have in common at the start, compared
 * eight at a time: sorted input shares hundreds of bytes line after line.
 */
static size_t common_prefix(const char *a, const char *b, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return i + (size_t)__builtin_ctzll(x ^ y) / 8;
#else
			return i + (size_t)__builtin_clzll(x ^ y) / 8;
#endif
		}
	}
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* "SLICE=WEIGHT ...]" after "# slices [": the previous line's stack in
 * those slices. NULL, or why the line is malformed.
 */
static const char *slices_line(struct reader *r, const char *s, size_t len, char *why,
			       size_t whylen)
{
	const char *end = s + len;

	if (!profile__slice_sec(r->p))
		return NULL; /* no slice width said: nothing to place them in */
	if (!r->have_last)
		return "'# slices' line with no stack line before it";
	if (s[len - 1] != ']')
		return "'# slices' line does not end in ']'";
	end--;
	/* Checked whole first (pass 0), then added (pass 1): a line skipped
	 * with --lenient leaves no trace.
	 */
	for (int pass = 0; pass < 2; pass++) {
		const char *at = s;
		uint64_t timed = r->last_timed;

		while (at < end) {
			unsigned long long slice = 0, w = 0;
			const char *d = at;

			while (d < end && *d >= '0' && *d <= '9' && slice <= UINT32_MAX)
				slice = slice * 10 + (unsigned)(*d++ - '0');
			if (d == at || d >= end || *d != '=' || slice > UINT32_MAX) {
				s = at;
				goto bad;
			}
			at = ++d;
			while (d < end && *d >= '0' && *d <= '9' && w <= FOLDED_MAX_COUNT)
				w = w * 10 + (unsigned)(*d++ - '0');
			if (d == at || (d < end && *d != ' ')) {
				s = at;
				goto bad;
			}
			if (w > r->last_count - timed) {
				snprintf(
				    why, whylen,
				    "'# slices' add up to more than the stack's count %" PRIu64,
				    r->last_count);
				return why;
			}
			timed += w;
			/* Scaled down (floor): the slices never add up to more
			 * than the stack's count, scaled to the nearest.
			 */
			if (pass)
				profile__add_slice(r->p, r->last_stack, (uint32_t)slice,
						   r->scale == 1 ? w : (uint64_t)(w * r->scale));
			at = d < end ? d + 1 : d;
		}
		r->last_timed = pass ? timed : r->last_timed;
	}
	return NULL;
bad:
	snprintf(why, whylen, "'# slices' entry '%.*s' is not SLICE=COUNT",
		 (int)(end - s > 24 ? 24 : end - s), s);
	return why;
}

/* Parse one line (without its '\n'); NULL when it was added, or why not. */
static const char *parse_line(struct reader *r, const char *s, size_t len, char *why, size_t whylen)
{
	const char *end, *tok, *frame;
	uint64_t count = 0, scaled;
	uint32_t depth = 0, shared = 0;
	size_t common, from;

	while (len && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (!len)
		return NULL;
	if (len > 10 && !memcmp(s, "# slices [", 10))
		return slices_line(r, s + 10, len - 10, why, whylen);
	if (s[0] == '#') {
		comment_line(r, s, len);
		return NULL;
	}
	end = s + len;
	tok = end;
	while (tok > s && tok[-1] != ' ' && tok[-1] != '\t')
		tok--;
	if (tok == s) {
		if (utf8_valid_len(s, len) != len)
			return memchr(s, '\0', len) ? "NUL byte in line" : "invalid UTF-8";
		return "no count (expected 'frame;frame;... COUNT')";
	}
	if (*tok == '-' && tok + 1 < end) {
		snprintf(why, whylen, "negative count '%.*s'",
			 (int)(end - tok > 32 ? 32 : end - tok), tok);
		return why;
	}
	for (const char *d = tok; d < end; d++) {
		if (*d < '0' || *d > '9') {
			if (utf8_valid_len(tok, (size_t)(end - tok)) != (size_t)(end - tok))
				return "invalid UTF-8";
			snprintf(why, whylen, "count '%.*s' is not a whole number",
				 (int)(end - tok > 32 ? 32 : end - tok), tok);
			return why;
		}
		count = count * 10 + (uint64_t)(*d - '0');
		if (count > FOLDED_MAX_COUNT)
			return "count too large (limit 2^53)";
	}
	end = tok;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == s)
		return "empty stack";
	len = (size_t)(end - s);

	/* Frames the previous stack ends with a ';' inside the common prefix are the same frames.
	 */
	common = common_prefix(s, r->prev, len < r->prev_len ? len : r->prev_len);
	while (shared < r->prev_depth && r->prev_ends[shared] < common &&
	       r->prev_ends[shared] < r->prev_len)
		shared++;
	from = shared ? r->prev_ends[shared - 1] + 1 : 0;
	if (utf8_valid_len(s + from, len - from) != len - from)
		return memchr(s + from, '\0', len - from) ? "NUL byte in line" : "invalid UTF-8";

	/* Check every new frame before interning any, so a skipped line leaves no trace. */
	depth = shared;
	frame = s + from;
	for (;;) {
		const char *c = memchr(frame, ';', (size_t)(end - frame));

		if (!c)
			c = end;
		if (c == frame) {
			snprintf(why, whylen, "empty frame %u", depth + 1);
			return why;
		}
		if (c - frame > FOLDED_MAX_FRAME) {
			snprintf(why, whylen, "frame %u is longer than %d bytes", depth + 1,
				 FOLDED_MAX_FRAME);
			return why;
		}
		if (depth == FOLDED_MAX_DEPTH) {
			snprintf(why, whylen, "more than %d frames", FOLDED_MAX_DEPTH);
			return why;
		}
		r->ends[depth++] = (uint32_t)(c - s);
		if (c == end)
			break;
		frame = c + 1;
	}
	if (profile__total(r->p) + count > FOLDED_MAX_COUNT)
		return "total count too large (limit 2^53)";

	/* r->frames[0..shared) still hold the previous stack's ids. */
	grow_array((void **)&r->prev, &r->prev_cap, len, 1);
	memcpy(r->prev + from, s + from, len - from);
	r->prev_len = len;
	frame = s + from;
	for (uint32_t i = shared; i < depth; i++) {
		r->prev_ends[i] = r->ends[i];
		r->frames[i] = intern_frame(r, frame, (size_t)(s + r->ends[i] - frame));
		frame = s + r->ends[i] + 1;
	}
	r->prev_depth = depth;
	r->have_last = count != 0;
	r->last_count = count;
	r->last_timed = 0;
	scaled = r->scale == 1 ? count : (uint64_t)llround(count * r->scale);
	if (count && r->any_marker && has_line_marker(r, depth))
		r->last_stack = profile__add(r->p, r->merged, merge_line_markers(r, depth), scaled);
	else if (count)
		r->last_stack = profile__add(r->p, r->frames, depth, scaled);
	r->st->stacks++;
	return NULL;
}

/* 0 to go on, -1 to stop at a malformed line. */
static int feed_line(struct reader *r, const char *s, size_t len, const char *too_long)
{
	char why[96];
	const char *err;

	r->st->lines++;
	err = too_long ? too_long : parse_line(r, s, len, why, sizeof(why));
	if (!err)
		return 0;
	if (!r->st->first_bad) {
		r->st->first_bad = r->st->lines;
		snprintf(r->st->first_error, sizeof(r->st->first_error), "%s", err);
	}
	if (r->flags & FOLDED_LENIENT) {
		r->st->skipped++;
		return 0;
	}
	if (!(r->flags & FOLDED_QUIET))
		p_err("%s:%zu: %s (fix the line, or skip malformed lines with --lenient)", r->name,
		      r->st->lines, err);
	return -1;
}

static void reader_init(struct reader *r, const char *name, struct profile *p, unsigned int flags,
			struct folded_read_stats *st)
{
	memset(st, 0, sizeof(*st));
	r->name = name;
	r->p = p;
	r->flags = flags;
	r->scale = 1;
	r->st = st;
	r->frames = xmalloc(FOLDED_MAX_DEPTH * sizeof(*r->frames));
	r->merged = xmalloc(FOLDED_MAX_DEPTH * sizeof(*r->merged));
	r->merge_buf = NULL;
	r->merge_cap = 0;
	r->any_marker = 0;
	r->prev = NULL;
	r->prev_len = r->prev_cap = 0;
	r->prev_ends = xmalloc(FOLDED_MAX_DEPTH * sizeof(*r->prev_ends));
	r->ends = xmalloc(FOLDED_MAX_DEPTH * sizeof(*r->ends));
	r->prev_depth = 0;
	r->names = NULL;
	r->nnames = r->names_cap = 0;
	r->austin = false;
	r->have_last = false;
}

static int reader_finish(struct reader *r, int ret)
{
	if (!ret && r->st->skipped && !(r->flags & FOLDED_QUIET))
		p_warn("%s: skipped %zu malformed line%s (first: line %zu: %s)", r->name,
		       r->st->skipped, r->st->skipped == 1 ? "" : "s", r->st->first_bad,
		       r->st->first_error);
	free(r->frames);
	free(r->merged);
	free(r->merge_buf);
	free(r->prev);
	free(r->prev_ends);
	free(r->ends);
	free(r->names);
	return ret;
}

static const char too_long_msg[] = "line longer than 1 MiB";

int folded__read_mem(const char *buf, size_t len, const char *name, struct profile *p,
		     unsigned int flags, struct folded_read_stats *st)
{
	struct reader r;
	const char *s = buf, *end = buf + len;
	int ret = 0;

	reader_init(&r, name, p, flags, st);
	while (s < end && !ret) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		ret = feed_line(&r, s, n, n > FOLDED_MAX_LINE ? too_long_msg : NULL);
		s += n + 1;
	}
	return reader_finish(&r, ret);
}

int folded__read(FILE *f, const char *name, struct profile *p, unsigned int flags,
		 struct folded_read_stats *st)
{
	return folded__read_scaled(f, name, p, flags, st, 1);
}

int folded__read_scaled(FILE *f, const char *name, struct profile *p, unsigned int flags,
			struct folded_read_stats *st, double scale)
{
	const size_t cap = FOLDED_MAX_LINE + (1 << 16);
	char *buf = xmalloc(cap);
	size_t have = 0;
	int ret = 0, discarding = 0, eof = 0;
	struct reader r;

	reader_init(&r, name, p, flags, st);
	r.scale = scale;
	while (!ret && !eof) {
		size_t got = fread(buf + have, 1, cap - have, f), start = 0;

		if (got < cap - have) {
			if (ferror(f)) {
				if (!(flags & FOLDED_QUIET))
					p_err("cannot read '%s': %s", name, strerror(errno));
				ret = -1;
				break;
			}
			eof = 1;
		}
		have += got;
		while (!ret) {
			char *nl = memchr(buf + start, '\n', have - start);
			size_t n;

			if (!nl)
				break;
			n = (size_t)(nl - buf - start);
			if (discarding)
				discarding = 0;
			else
				ret = feed_line(&r, buf + start, n,
						n > FOLDED_MAX_LINE ? too_long_msg : NULL);
			start += n + 1;
		}
		if (ret)
			break;
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have > FOLDED_MAX_LINE) {
			/* Report the line once, drop the rest of it up to its newline. */
			if (!discarding)
				ret = feed_line(&r, NULL, 0, too_long_msg);
			discarding = 1;
			have = 0;
		}
		if (eof && have && !ret && !discarding)
			ret = feed_line(&r, buf, have, NULL);
	}
	free(buf);
	return reader_finish(&r, ret);
}
