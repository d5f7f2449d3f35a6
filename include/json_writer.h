/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_JSON_WRITER_H
#define RAMPA_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The one JSON writer of rampa-bpf (speedscope, gil-wait --json), after
 * bpftool's json_writer: a writer over a FILE * that places the commas and
 * colons itself, so callers only say what comes next. Strings are always
 * valid JSON text whatever their bytes: '"', '\' and control characters are
 * escaped (\u00XX), ill-formed UTF-8 becomes U+FFFD. Output is compact; the
 * top-level value ends with a newline.
 */
struct jsonw;

struct jsonw *jsonw__new(FILE *f);
/* Frees the writer (NULL is fine); the document must be complete. */
void jsonw__free(struct jsonw *jw);

void jsonw__start_object(struct jsonw *jw);
void jsonw__end_object(struct jsonw *jw);
void jsonw__start_array(struct jsonw *jw);
void jsonw__end_array(struct jsonw *jw);

/* The name of the next member of the current object. */
void jsonw__name(struct jsonw *jw, const char *name);

/* Values: in an array, or after jsonw__name() in an object. */
void jsonw__string(struct jsonw *jw, const char *s);
void jsonw__string_len(struct jsonw *jw, const char *s, size_t len); /* s need not end in NUL */
void jsonw__u64(struct jsonw *jw, uint64_t v);
void jsonw__s64(struct jsonw *jw, int64_t v);
/* fmt is a printf format for one double ("%.6f"); NaN and infinities,
 * which JSON has not, are written as null.
 */
void jsonw__float(struct jsonw *jw, const char *fmt, double v);
void jsonw__bool(struct jsonw *jw, bool v);
void jsonw__null(struct jsonw *jw);

/* A member in one call: jsonw__name() then the value. */
void jsonw__string_field(struct jsonw *jw, const char *name, const char *s);
void jsonw__u64_field(struct jsonw *jw, const char *name, uint64_t v);
void jsonw__s64_field(struct jsonw *jw, const char *name, int64_t v);
void jsonw__float_field(struct jsonw *jw, const char *name, const char *fmt, double v);

#endif
