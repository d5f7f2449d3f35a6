// SPDX-License-Identifier: GPL-2.0
/* See include/srcline.h. One Dwfl per file, reported at its link addresses:
 * libdwfl finds the separate debug file lazily, on the first question that
 * needs DWARF, and keeps it.
 */
#include <dwarf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "srcline.h"
#include "util.h"

struct srcline {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Dwfl_Callbacks cb; /* libdwfl keeps a pointer to it */
	char *debuginfo_path;
	GElf_Addr bias; /* libdwfl address = link address + bias */
	pid_t pid;
	/* The debug file by build id in pid's root, opened with the reader:
	 * libdwfl looks for it on the first question that needs DWARF, which
	 * may come after the process (and its root) is gone. -1: none.
	 */
	int root_debug_fd;
	char *root_debug_path;
};

/* Beyond this, a debuginfod search that found nothing stops the searches
 * of the rest of the run: the run waits for each one, file after file.
 */
#define DEBUGINFOD_SLOW_NS (2ull * 1000 * 1000 * 1000)

/* elfutils' search (build id, debuglink, then debuginfod when
 * DEBUGINFOD_URLS is set), timed: a server that is down or silent costs
 * its timeout once, not once per file.
 */
static int standard_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
				   Dwarf_Addr base, const char *file_name,
				   const char *debuglink_file, GElf_Word debuglink_crc,
				   char **debuginfo_file_name)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	uint64_t t0 = mono_ns();
	int fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
					      debuglink_file, debuglink_crc, debuginfo_file_name);

	if (fd < 0 && urls && *urls && mono_ns() - t0 > DEBUGINFOD_SLOW_NS) {
		p_warn("debuginfod (DEBUGINFOD_URLS=%s) gave nothing for %s in %.1f s: not asked "
		       "again in this run (check the server, or set DEBUGINFOD_TIMEOUT)",
		       urls, modname, (mono_ns() - t0) / 1e9);
		unsetenv("DEBUGINFOD_URLS");
	}
	return fd;
}

/* The debug file in the process's root (open_root_debug), else the way
 * elfutils does (build id, debuglink, debuginfod), which checks what it
 * finds against the build id or the debuglink's CRC.
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	struct srcline *sl = *userdata;

	if (sl && sl->root_debug_fd >= 0) {
		int fd = sl->root_debug_fd;

		p_debug("debug file of %s: %s in the root of %d", modname, sl->root_debug_path,
			(int)sl->pid);
		*debuginfo_file_name = sl->root_debug_path;
		sl->root_debug_path = NULL;
		sl->root_debug_fd = -1; /* libdwfl's now */
		return fd;
	}
	return standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
				       debuglink_crc, debuginfo_file_name);
}

/* A container's debug files are its own: the one by build id inside the
 * process's root comes first (a host file of the same path would describe
 * other code), then elfutils' search (find_debuginfo).
 */
static void open_root_debug(struct srcline *sl)
{
	const unsigned char *bits;
	GElf_Addr id_vaddr;
	int len = dwfl_module_build_id(sl->mod, &bits, &id_vaddr);
	char path[PATH_MAX], *p;

	if (sl->pid <= 0 || len <= 1 || sl->debuginfo_path)
		return;
	p = path + snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%02x/", bits[0]);
	for (int i = 1; i < len; i++)
		p += sprintf(p, "%02x", bits[i]);
	strcpy(p, ".debug");
	sl->root_debug_fd = open_in_root(sl->pid, path, RAMPA_MAX_READ_FILE);
	if (sl->root_debug_fd >= 0)
		sl->root_debug_path = xstrdup(path);
}

struct srcline *srcline__open(int fd, const char *path, pid_t pid)
{
	struct srcline *sl = xcalloc(1, sizeof(*sl));
	const char *env = getenv("RAMPA_DEBUGINFO_PATH");
	const char *base = strrchr(path, '/');
	void **userdata = NULL;
	int dfd;

	sl->pid = pid;
	sl->root_debug_fd = -1;
	if (env && env[0])
		sl->debuginfo_path = xstrdup(env);
	sl->cb.find_elf = dwfl_build_id_find_elf; /* unused: the file is reported by fd */
	sl->cb.find_debuginfo = find_debuginfo;
	sl->cb.debuginfo_path = &sl->debuginfo_path;
	sl->dwfl = dwfl_begin(&sl->cb);
	dfd = dup(fd);
	if (!sl->dwfl || dfd < 0 || lseek(dfd, 0, SEEK_SET) < 0)
		goto fail;
	dwfl_report_begin(sl->dwfl);
	/* At its link addresses (ET_DYN at base 0 plus p_vaddr): no bias. */
	sl->mod = dwfl_report_elf(sl->dwfl, base ? base + 1 : path, path, dfd, 0, true);
	dfd = -1; /* consumed, even on failure */
	dwfl_report_end(sl->dwfl, NULL, NULL);
	if (!sl->mod || !dwfl_module_getelf(sl->mod, &sl->bias))
		goto fail;
	dwfl_module_info(sl->mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	if (userdata)
		*userdata = sl;
	open_root_debug(sl);
	return sl;
fail:
	p_debug("libdwfl cannot read %s: %s", path, dwfl_errmsg(-1));
	if (dfd >= 0)
		close(dfd);
	srcline__free(sl);
	return NULL;
}

void srcline__free(struct srcline *sl)
{
	if (!sl)
		return;
	if (sl->dwfl)
		dwfl_end(sl->dwfl);
	if (sl->root_debug_fd >= 0)
		close(sl->root_debug_fd);
	free(sl->root_debug_path);
	free(sl->debuginfo_path);
	free(sl);
}

bool srcline__has_dwarf(struct srcline *sl)
{
	Dwarf_Addr bias;

	return dwfl_module_getdwarf(sl->mod, &bias) != NULL;
}

/* The name people call a function by: its linkage name (C++, Rust:
 * demangled by the caller), else its DWARF name, through abstract origins.
 */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	return name ? name : dwarf_diename(die);
}

static bool is_function(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/* The symbol covering addr when it is code (a data symbol is no name for
 * an instruction).
 */
static const char *symbol_name(Dwfl_Module *mod, GElf_Addr addr)
{
	GElf_Off off;
	GElf_Sym sym;
	const char *name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);

	if (!name ||
	    (GELF_ST_TYPE(sym.st_info) != STT_FUNC && GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC))
		return NULL;
	return name;
}

const char *srcline__symbol(struct srcline *sl, uint64_t vaddr)
{
	return symbol_name(sl->mod, vaddr + sl->bias);
}

unsigned int srcline__frames(struct srcline *sl, uint64_t vaddr, bool with_inlines,
			     struct srcline_frame *out, unsigned int max, unsigned int *dropped)
{
	Dwarf_Addr addr = vaddr + sl->bias, cubias = 0;
	Dwarf_Die *cudie, *scopes = NULL, *chain = NULL;
	Dwarf_Files *files = NULL;
	const char *file = NULL;
	int line = 0, nscopes, nchain = 0, i;
	unsigned int n = 0, lost = 0;
	Dwfl_Line *dl;

	if (dropped)
		*dropped = 0;
	if (!max)
		return 0;
	dl = dwfl_module_getsrc(sl->mod, addr);
	if (dl)
		file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
	if (!file)
		line = 0;
	cudie = dwfl_module_addrdie(sl->mod, addr, &cubias);
	nscopes = cudie ? dwarf_getscopes(cudie, addr - cubias, &scopes) : 0;
	for (i = 0; i < nscopes && !is_function(&scopes[i]); i++)
		;
	if (i < nscopes)
		nchain = dwarf_getscopes_die(&scopes[i], &chain);
	if (nchain > 0)
		dwarf_getsrcfiles(cudie, &files, NULL);
	/* Innermost first: an inlined function's frame has the line in it,
	 * and its call site is the line of the frame that called it.
	 */
	for (i = 0; i < nchain; i++) {
		Dwarf_Die *die = &chain[i];
		Dwarf_Attribute attr;
		Dwarf_Word v;
		int tag = dwarf_tag(die);

		if (!is_function(die))
			continue;
		if (tag == DW_TAG_inlined_subroutine) {
			if (with_inlines) {
				if (n < max - 1)
					out[n++] =
					    (struct srcline_frame){ die_name(die), file,
								    (unsigned int)line, true };
				else
					lost++;
			}
			if (files && !dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &v))
				file = dwarf_filesrc(files, v, NULL, NULL);
			if (!dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &v))
				line = (int)v;
			continue;
		}
		break;
	}
	/* The real function by DWARF (the caller prefers the symbol tables:
	 * a symbol search here would scan them whole, per address).
	 */
	out[n].func = i < nchain ? die_name(&chain[i]) : NULL;
	out[n].file = file;
	out[n].line = file ? (unsigned int)line : 0;
	out[n].inlined = false;
	if (out[n].func || out[n].file)
		n++;
	free(scopes);
	free(chain);
	if (dropped)
		*dropped = lost;
	return n;
}
