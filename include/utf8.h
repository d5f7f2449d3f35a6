/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_UTF8_H
#define RAMPA_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* Frame names come from a target's memory and from ELF files: any bytes. Every
 * output format wants valid UTF-8, so names are made valid once, when they
 * enter a profile (profile__intern), and every writer checks again what else
 * it prints (titles, labels, file names).
 */

#define UTF8_REPLACEMENT     0xfffd	    /* U+FFFD REPLACEMENT CHARACTER */
#define UTF8_REPLACEMENT_STR "\xef\xbf\xbd" /* its encoding, 3 bytes */
#define UTF8_INVALID	     UINT32_MAX

/* Decode the character at s[0..len), len > 0: its code point in *cp and its
 * length in bytes. An ill-formed sequence (a stray continuation byte, a byte
 * never used (C0, C1, F5-FF), a truncated sequence, an overlong form, a
 * surrogate U+D800-DFFF, beyond U+10FFFF) gives UTF8_INVALID and the length of
 * its maximal subpart (Unicode 3.9, "U+FFFD substitution of maximal
 * subparts", as Python's and browsers' decoders do), so decoding resumes at
 * the next byte that may start a character. NUL decodes to U+0000.
 */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Encode cp (a scalar value: at most U+10FFFF, no surrogate) into out[0..4);
 * its length, 1 to 4.
 */
size_t utf8_encode(uint32_t cp, char *out);

/* Length of the longest prefix of s[0..len) that is valid UTF-8 holding no
 * NUL: len when all of it is.
 */
size_t utf8_valid_len(const char *s, size_t len);

/* Copy s[0..len) into dst (size >= 1 bytes, always NUL-terminated) with every
 * ill-formed sequence and every NUL replaced by U+FFFD. When dst is too small
 * the copy stops before the first character that does not fit, never inside
 * one. Returns how many replacements were made.
 */
size_t utf8_sanitize(char *dst, size_t size, const char *s, size_t len);

/* The same into a new NUL-terminated string (at most 3 * len + 1 bytes);
 * *replaced (may be NULL) gets how many replacements were made.
 */
char *utf8_sanitize_dup(const char *s, size_t len, size_t *replaced);

/* The largest n <= max (and <= len) at which valid UTF-8 s[0..len) may be cut
 * without splitting a character.
 */
size_t utf8_cut(const char *s, size_t len, size_t max);

/* What utf8_escape() writes for one code point: NULL to copy its bytes as
 * they are, else a NUL-terminated replacement (buf, 16 bytes, is free to
 * hold it). cp is UTF8_INVALID for an ill-formed sequence.
 */
typedef const char *(*utf8_escape_fn)(uint32_t cp, char *buf);

/* Write s[0..len) to f, decoding it as utf8_decode() does and writing each
 * code point as esc says; stops early at a NUL when stop_at_nul. Unchanged
 * runs are written in one piece.
 */
void utf8_escape(FILE *f, const char *s, size_t len, bool stop_at_nul, utf8_escape_fn esc);

#endif
