/* SPDX-License-Identifier: GPL-2.0 */
/* Names, source lines and inlined functions of one ELF file's code through
 * elfutils' libdwfl (src/srcline.c): function names from .symtab, .dynsym or
 * a separate debug file, file:line and the chain of inlined calls where
 * DWARF exists. Separate debug files are looked for by build id inside the
 * target's root first (a container's), then the way elfutils does:
 * build-id and .gnu_debuglink under /usr/lib/debug (RAMPA_DEBUGINFO_PATH
 * replaces that list, in elfutils' --debuginfo-path syntax), and through
 * debuginfod when DEBUGINFOD_URLS is set.
 */
#ifndef RAMPA_SRCLINE_H
#define RAMPA_SRCLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct srcline;

/* Inlined calls one address can sit in, beyond which the outer ones are
 * dropped (and counted by the caller): deeper nests are template soup.
 */
#define SRCLINE_MAX_INLINE 16

struct srcline_frame {
	const char *func; /* by DWARF (linkage name, else name); NULL: unknown */
	const char *file; /* NULL: no line information */
	unsigned int line;
	bool inlined; /* an inlined call: its caller is the next frame */
};

/* Read the ELF file open on fd (the fd stays the caller's; a duplicate is
 * kept) as the file at path in pid's root, which is where separate debug
 * files are looked for first: the one by build id there is opened now,
 * while pid lives (no DWARF is read until a question needs it). NULL
 * (after one debug line) when libdwfl cannot read it.
 */
struct srcline *srcline__open(int fd, const char *path, pid_t pid);
void srcline__free(struct srcline *sl);

/* Frames of link-time address vaddr, innermost first: out[0] is the code at
 * vaddr (an inlined function's, if inlined), each next one its caller,
 * ending with the real function. with_inlines false: only that function,
 * with the line at vaddr. The count (0: nothing known; at most max) is
 * returned; *dropped (optional) gets how many outer frames did not fit.
 * The strings belong to sl.
 */
unsigned int srcline__frames(struct srcline *sl, uint64_t vaddr, bool with_inlines,
			     struct srcline_frame *out, unsigned int max, unsigned int *dropped);

/* The function symbol covering link-time address vaddr (from the file's
 * .symtab, .dynsym or its separate debug file's: no DWARF is read), or NULL.
 */
const char *srcline__symbol(struct srcline *sl, uint64_t vaddr);

/* Whether DWARF line information was found for the file. */
bool srcline__has_dwarf(struct srcline *sl);

#endif
