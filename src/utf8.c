// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "utf8.h"
#include "util.h"

size_t utf8_decode(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	uint32_t v;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	/* The well-formed sequences of Unicode's table 3-7: the second byte's
	 * range rules out overlong forms (E0, F0), surrogates (ED) and code
	 * points beyond U+10FFFF (F4); C0, C1 and F5-FF never occur.
	 */
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		*cp = UTF8_INVALID;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*cp = UTF8_INVALID;
			return i;
		}
		v = (v << 6) | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return n;
}

size_t utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t utf8_valid_len(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n;

		/* ASCII without NUL, eight bytes at a time: most names are. */
		if (i + 8 <= len) {
			uint64_t v;

			memcpy(&v, s + i, 8);
			if (!(v & 0x8080808080808080ULL) &&
			    !((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL)) {
				i += 8;
				continue;
			}
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (cp == UTF8_INVALID || !cp)
			break;
		i += n;
	}
	return i;
}

size_t utf8_sanitize(char *dst, size_t size, const char *s, size_t len)
{
	size_t i = 0, out = 0, replaced = 0;

	while (i < len) {
		size_t valid = utf8_valid_len(s + i, len - i), n;
		uint32_t cp;

		if (valid) {
			n = out + valid < size ? valid : utf8_cut(s + i, valid, size - 1 - out);
			memcpy(dst + out, s + i, n);
			out += n;
			i += n;
			if (n < valid)
				break;
			continue;
		}
		/* An ill-formed sequence or a NUL. */
		if (out + 3 >= size)
			break;
		memcpy(dst + out, UTF8_REPLACEMENT_STR, 3);
		out += 3;
		replaced++;
		i += utf8_decode(s + i, len - i, &cp);
	}
	dst[out] = '\0';
	return replaced;
}

char *utf8_sanitize_dup(const char *s, size_t len, size_t *replaced)
{
	size_t valid = utf8_valid_len(s, len), n;
	char *d;

	if (valid == len) {
		d = xmalloc(len + 1);
		memcpy(d, s, len);
		d[len] = '\0';
		n = 0;
	} else {
		/* Each replaced sequence is at least one byte and becomes three. */
		d = xmalloc(3 * len + 1);
		n = utf8_sanitize(d, 3 * len + 1, s, len);
		d = xrealloc(d, strlen(d) + 1);
	}
	if (replaced)
		*replaced = n;
	return d;
}

size_t utf8_cut(const char *s, size_t len, size_t max)
{
	size_t n = max;

	if (max >= len)
		return len;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

void utf8_escape(FILE *f, const char *s, size_t len, bool stop_at_nul, utf8_escape_fn esc)
{
	size_t i = 0, run = 0;

	while (i < len && !(stop_at_nul && !s[i])) {
		char buf[16];
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		const char *rep = esc(cp, buf);

		if (rep) {
			fwrite(s + run, 1, i - run, f);
			fputs(rep, f);
			run = i + n;
		}
		i += n;
	}
	fwrite(s + run, 1, i - run, f);
}
