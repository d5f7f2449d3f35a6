/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_SYMBOLIZE_H
#define RAMPA_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Turns user and kernel addresses into frame names. Keeps the last maps seen
 * for each process (so frames of a process that exited still resolve, until
 * symbolizer__forget()) and one symbol table per distinct file (by device,
 * inode, size and mtime) while a known process maps it; of the files no
 * known process maps, the 64 that were mapped last are kept too.
 */
struct symbolizer;

struct symbolizer_stats {
	uint64_t frames;	     /* user frames looked up */
	uint64_t unmapped;	     /* address in no known mapping: "[unknown]" */
	uint64_t no_symbol;	     /* mapped file but no symbol: "module+0xOFF" */
	uint64_t no_file;	     /* file could not be read (deleted, gone): "module+0xOFF" */
	uint64_t procs_unreadable;   /* processes whose maps could not be read */
	uint64_t files_refused;	     /* not regular, too large, or via a magic link */
	uint64_t files_dropped;	     /* symbol tables let go: no known process maps the file */
	uint64_t srclines;	     /* (file, address) named with file:line (DWARF) */
	uint64_t inlined;	     /* inlined-call frames made for them */
	uint64_t inline_dropped;     /* inlined calls past SRCLINE_MAX_INLINE, not shown */
	uint64_t srcline_unreadable; /* files libdwfl could not read: names only */
	uint64_t cache_hits;	     /* user frames named from the (file, address) cache */
	uint64_t cache_dropped;	     /* cache entries let go at the bound (named again on use) */
	uint64_t sites_unkept;	     /* addresses named whole at once, past the sites' bounds */
};

/* Frames one address can name (the function and the inlined calls in it). */
#define SYMBOLIZER_MAX_FRAMES 16
/* Longest frame label made, NUL included (longer ones are cut). */
#define SYMBOLIZER_FRAME_LEN 4097 /* FOLDED_MAX_FRAME + 1 */

struct symbolizer *symbolizer__new(const char *kallsyms_path);
/* Native frames with file:line and inlined calls where DWARF exists (on,
 * the default unless RAMPA_SRCLINE=0), or named from symbol tables only (no
 * DWARF read: cheaper).
 */
void symbolizer__set_srcline(struct symbolizer *sym, bool on);
/* For a long run at a low rate (the agent): native frames named from ELF
 * symbol tables only (no DWARF, no libdwfl: code they do not name is
 * FILE+0xOFFSET, counted), and 8 symbol tables of files no live process
 * maps kept rather than 64 (the idle longest let go first, counted).
 */
void symbolizer__set_lean(struct symbolizer *sym);
void symbolizer__free(struct symbolizer *sym);

/* Read (again) the maps of pid: on first sight and after exec. */
void symbolizer__refresh(struct symbolizer *sym, pid_t pid);
struct proc_maps;
/* pid's executable mappings as last read (the symbolizer's, valid until its
 * next read of them), NULL when none were or pid is gone: the engine's other
 * readers of maps take these, just read, rather than read them again.
 */
const struct proc_maps *symbolizer__maps(struct symbolizer *sym, pid_t pid);
/* Drop what is known of pid (it exited): memory stays flat under churn. */
void symbolizer__forget(struct symbolizer *sym, pid_t pid);
/* Frame name of a user address. leaf is false for return addresses, which
 * point after the call instruction.
 */
const char *symbolizer__user(struct symbolizer *sym, pid_t pid, uint64_t addr, bool leaf, char *buf,
			     size_t len);
/* The frames of a user address, innermost first: the code at addr (an
 * inlined function's when it was inlined: "func (inlined) (file.h:LINE)"),
 * then the functions that inlined it, ending with the function the code is
 * in ("func (file.c:LINE)" with DWARF, "func" without, "module+0xSTART"
 * for stripped code, "[unknown]" outside any mapping). symbolizer__user
 * gives that last one. *names points to the count returned (>= 1, at most
 * SYMBOLIZER_MAX_FRAMES), valid until the next call on sym.
 */
unsigned int symbolizer__user_frames(struct symbolizer *sym, pid_t pid, uint64_t addr, bool leaf,
				     const char *const **names);
/* Sites: a native address kept as (file, link-time address) while a run
 * lasts and named whole (file:line, inlined calls) once, at its end, when
 * only the addresses that are in the profile are left (srcline's DWARF is
 * read then, not while the target runs). A file with sites is kept
 * (pinned) until the symbolizer is freed.
 */
#define SYMBOLIZER_MAX_SITE_FILES 65535
/* Sites' files whose DWARF reader is opened while the process lives (its
 * root's debug files are found then); the others' are opened at the end
 * by path, if it is still the file.
 */
#define SYMBOLIZER_SITE_READERS	 256
#define SYMBOLIZER_MAX_SITE_ADDR (1ull << 48)
struct symbolizer_site {
	uint32_t file;	  /* the site's file, from 1; 0: no site, the name is final */
	uint64_t vaddr;	  /* link-time address (a return address's call instruction) */
	const char *path; /* the file as mapped, and its build id ("" if none) */
	const char *build_id;
	/* The executable mapping holding it, in link-time addresses: [start,
	 * limit) at file offset offset.
	 */
	uint64_t start, limit, offset;
};
/* The site of a user address into *site (strings valid until the next
 * call on sym), and NULL; or, when it has none, its final name ("[unknown]",
 * "[vdso]", an unreadable file's FILE+0xOFFSET; valid until the next call)
 * with site->file 0. A known site needs nothing more: the caller keeps its
 * frame by (file, vaddr).
 */
const char *symbolizer__user_site(struct symbolizer *sym, pid_t pid, uint64_t addr, bool leaf,
				  struct symbolizer_site *site);
/* Right after symbolizer__user_site gave site: its function's name by the
 * symbol tables alone (what splicing needs: the eval loop's name), for the
 * run; valid until the next call on sym.
 */
const char *symbolizer__site_name(struct symbolizer *sym, const struct symbolizer_site *site);
/* The frames of site (file, vaddr), named whole as symbolizer__user_frames
 * names them; the same answer.
 */
unsigned int symbolizer__site_frames(struct symbolizer *sym, uint32_t file, uint64_t vaddr,
				     const char *const **names);
const char *symbolizer__kernel(struct symbolizer *sym, uint64_t addr, char *buf, size_t len);
const struct symbolizer_stats *symbolizer__stats(const struct symbolizer *sym);

struct elf_syms;
/* Call fn for each executable file mapping of pid (as last read), with its
 * symbols (NULL if unreadable) and load bias (runtime = link address + bias).
 * Stops when fn returns non-zero and returns that value.
 */
int symbolizer__for_each_module(struct symbolizer *sym, pid_t pid,
				int (*fn)(const char *path, const struct elf_syms *es,
					  uint64_t bias, uint64_t start, uint64_t end, void *ctx),
				void *ctx);

#endif
