// SPDX-License-Identifier: GPL-2.0
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"
#include "utf8.h"
#include "util.h"

struct jsonw {
	FILE *f;
	/* Per open object or array: nothing written in it yet. */
	bool *first;
	size_t depth, cap;
	bool after_name;
};

struct jsonw *jsonw__new(FILE *f)
{
	struct jsonw *jw = xcalloc(1, sizeof(*jw));

	jw->f = f;
	return jw;
}

void jsonw__free(struct jsonw *jw)
{
	if (!jw)
		return;
	assert(!jw->depth);
	free(jw->first);
	free(jw);
}

/* Before a value or a name: the comma that separates it from the previous one. */
static void sep(struct jsonw *jw)
{
	if (jw->after_name) {
		jw->after_name = false;
		return;
	}
	if (!jw->depth)
		return;
	if (!jw->first[jw->depth - 1])
		fputc(',', jw->f);
	jw->first[jw->depth - 1] = false;
}

/* After a value: a complete document ends its line. */
static void done(struct jsonw *jw)
{
	if (!jw->depth)
		fputc('\n', jw->f);
}

/* JSON string escapes (RFC 8259 7); ill-formed UTF-8 becomes U+FFFD. */
static const char *json_char(uint32_t cp, char *buf)
{
	if (cp == '"')
		return "\\\"";
	if (cp == '\\')
		return "\\\\";
	if (cp == UTF8_INVALID)
		return UTF8_REPLACEMENT_STR;
	if (cp < 0x20) {
		snprintf(buf, 16, "\\u%04x", (unsigned int)cp);
		return buf;
	}
	return NULL;
}

static void put_string(struct jsonw *jw, const char *s, size_t len)
{
	fputc('"', jw->f);
	utf8_escape(jw->f, s, len, false, json_char);
	fputc('"', jw->f);
}

static void open_level(struct jsonw *jw, char c)
{
	sep(jw);
	fputc(c, jw->f);
	grow_array((void **)&jw->first, &jw->cap, jw->depth + 1, sizeof(*jw->first));
	jw->first[jw->depth++] = true;
}

static void close_level(struct jsonw *jw, char c)
{
	assert(jw->depth && !jw->after_name);
	jw->depth--;
	fputc(c, jw->f);
	done(jw);
}

void jsonw__start_object(struct jsonw *jw)
{
	open_level(jw, '{');
}

void jsonw__end_object(struct jsonw *jw)
{
	close_level(jw, '}');
}

void jsonw__start_array(struct jsonw *jw)
{
	open_level(jw, '[');
}

void jsonw__end_array(struct jsonw *jw)
{
	close_level(jw, ']');
}

void jsonw__name(struct jsonw *jw, const char *name)
{
	assert(jw->depth && !jw->after_name);
	sep(jw);
	put_string(jw, name, strlen(name));
	fputc(':', jw->f);
	jw->after_name = true;
}

void jsonw__string_len(struct jsonw *jw, const char *s, size_t len)
{
	sep(jw);
	put_string(jw, s, len);
	done(jw);
}

void jsonw__string(struct jsonw *jw, const char *s)
{
	jsonw__string_len(jw, s, strlen(s));
}

void jsonw__u64(struct jsonw *jw, uint64_t v)
{
	sep(jw);
	fprintf(jw->f, "%" PRIu64, v);
	done(jw);
}

void jsonw__s64(struct jsonw *jw, int64_t v)
{
	sep(jw);
	fprintf(jw->f, "%" PRId64, v);
	done(jw);
}

void jsonw__float(struct jsonw *jw, const char *fmt, double v)
{
	sep(jw);
	if (isfinite(v))
		fprintf(jw->f, fmt, v);
	else
		fputs("null", jw->f);
	done(jw);
}

void jsonw__bool(struct jsonw *jw, bool v)
{
	sep(jw);
	fputs(v ? "true" : "false", jw->f);
	done(jw);
}

void jsonw__null(struct jsonw *jw)
{
	sep(jw);
	fputs("null", jw->f);
	done(jw);
}

void jsonw__string_field(struct jsonw *jw, const char *name, const char *s)
{
	jsonw__name(jw, name);
	jsonw__string(jw, s);
}

void jsonw__u64_field(struct jsonw *jw, const char *name, uint64_t v)
{
	jsonw__name(jw, name);
	jsonw__u64(jw, v);
}

void jsonw__s64_field(struct jsonw *jw, const char *name, int64_t v)
{
	jsonw__name(jw, name);
	jsonw__s64(jw, v);
}

void jsonw__float_field(struct jsonw *jw, const char *name, const char *fmt, double v)
{
	jsonw__name(jw, name);
	jsonw__float(jw, fmt, v);
}
