// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "demangle.h"
#include "elf_syms.h"
#include "ksyms.h"
#include "procmaps.h"
#include "srcline.h"
#include "symbolize.h"
#include "u64map.h"
#include "util.h"

/* A process's maps are re-read on a miss at most this often. */
#define MAPS_REFRESH_MIN_SEC 0.2
/* Symbol tables of files no known process maps, kept in case another
 * process maps them again (the same program started again and again);
 * beyond this many the one idle longest is let go.
 */
#define IDLE_FILES_MAX	64
#define LEAN_IDLE_FILES 8
/* Named frames of (file, address) kept, over all files: past this many a
 * file's whole cache is let go (counted) before it takes another.
 */
#define FRAME_CACHE_MAX (1u << 18)

/* The frames of one (file, address), innermost first: n names, each
 * NUL-terminated, one after the other.
 */
struct cached_frames {
	unsigned int n;
	bool no_symbol; /* named file+offset: counted again on every hit */
	char names[];
};

struct elf_file {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct elf_syms *syms;	 /* NULL: not an ELF we can read */
	struct srcline *srcline; /* NULL: not tried yet, or unreadable by libdwfl */
	bool srcline_tried;
	char *path;	      /* as the process maps it, for libdwfl's debuglink search */
	pid_t pid;	      /* the process it was first read for: its root has debug files */
	struct u64map frames; /* link address -> struct cached_frames * */
	unsigned int refs;    /* map entries of known processes resolved to it */
	uint32_t site_id;     /* from 1 when it has sites (pinned): sym->site_files[id - 1] */
	uint64_t idle_since;  /* sym->idle_clock when refs fell to 0 */
	struct elf_file *next;
};

struct proc_entry {
	pid_t pid;
	struct proc_maps *maps;
	struct elf_file **files; /* per map entry, resolved lazily */
	bool *files_tried;
	double read_at;
	bool gone;
	struct proc_entry *next;
};

#define PROC_BUCKETS 1024
#define FILE_BUCKETS 256

struct symbolizer {
	struct proc_entry *procs[PROC_BUCKETS];
	struct elf_file *files[FILE_BUCKETS];
	struct ksyms *ksyms;
	const char *kallsyms_path;
	bool ksyms_tried;
	size_t nidle;				/* files with refs 0 */
	size_t idle_max;			/* IDLE_FILES_MAX, or LEAN_IDLE_FILES */
	bool no_dwfl;				/* lean: no libdwfl either */
	size_t ncached;				/* entries of all files' frame caches */
	bool no_srcline;			/* names from symbol tables only: no DWARF read */
	const char *out[SYMBOLIZER_MAX_FRAMES]; /* what symbolizer__user_frames returns */
	char scratch[SYMBOLIZER_FRAME_LEN];	/* a name that is not cached */
	uint64_t idle_clock;			/* counts files going idle */
	struct elf_file **site_files;		/* files with sites, pinned: by site id - 1 */
	size_t nsite_files, site_files_cap;
	size_t site_readers; /* libdwfl readers opened for sites' files */
	/* The last symbolizer__user_site's file, for symbolizer__site_name. */
	struct elf_file *site_f;
	const struct map_entry *site_m;
	pid_t site_pid;
	struct symbolizer_stats stats;
};

struct symbolizer *symbolizer__new(const char *kallsyms_path)
{
	struct symbolizer *sym = xcalloc(1, sizeof(*sym));

	sym->kallsyms_path = kallsyms_path;
	/* RAMPA_SRCLINE=0: names only, the cheap way (docs/PERFORMANCE.md). */
	sym->no_srcline = getenv("RAMPA_SRCLINE") && !strcmp(getenv("RAMPA_SRCLINE"), "0");
	sym->idle_max = IDLE_FILES_MAX;
	/* A debuginfod server that takes the connection and never answers
	 * held the whole run (elfutils' client waits 90 s by default, frame
	 * after frame): 5 s without progress, unless the user says otherwise.
	 */
	setenv("DEBUGINFOD_TIMEOUT", "5", 0);
	return sym;
}

static void file_cache_clear(struct symbolizer *sym, struct elf_file *f)
{
	for (size_t i = 0; i < f->frames.cap; i++)
		if (u64map_used(&f->frames, i))
			free((void *)(uintptr_t)f->frames.slots[i].val);
	sym->ncached -= f->frames.n;
	u64map_free(&f->frames);
}

static void file_free(struct symbolizer *sym, struct elf_file *f)
{
	file_cache_clear(sym, f);
	srcline__free(f->srcline);
	elf_syms__free(f->syms);
	free(f->path);
	free(f);
}

/* The file idle longest goes, while more than IDLE_FILES_MAX are idle. */
static void trim_idle_files(struct symbolizer *sym)
{
	while (sym->nidle > sym->idle_max) {
		struct elf_file **oldest = NULL, *f;

		for (int i = 0; i < FILE_BUCKETS; i++)
			for (struct elf_file **fp = &sym->files[i]; *fp; fp = &(*fp)->next)
				if (!(*fp)->refs &&
				    (!oldest || (*fp)->idle_since < (*oldest)->idle_since))
					oldest = fp;
		if (!oldest)
			return;
		f = *oldest;
		*oldest = f->next;
		file_free(sym, f);
		sym->nidle--;
		sym->stats.files_dropped++;
	}
}

static struct elf_file *file_ref(struct symbolizer *sym, struct elf_file *f)
{
	if (f && f->refs++ == 0)
		sym->nidle--;
	return f;
}

static void file_unref(struct symbolizer *sym, struct elf_file *f)
{
	if (f && --f->refs == 0) {
		f->idle_since = ++sym->idle_clock;
		sym->nidle++;
	}
}

static void proc_entry_clear(struct symbolizer *sym, struct proc_entry *p)
{
	for (size_t i = 0; p->maps && p->files && i < p->maps->n; i++)
		file_unref(sym, p->files[i]);
	trim_idle_files(sym);
	proc_maps__free(p->maps);
	free(p->files);
	free(p->files_tried);
	p->maps = NULL;
	p->files = NULL;
	p->files_tried = NULL;
}

void symbolizer__free(struct symbolizer *sym)
{
	if (!sym)
		return;
	for (int i = 0; i < PROC_BUCKETS; i++) {
		for (struct proc_entry *p = sym->procs[i], *n; p; p = n) {
			n = p->next;
			proc_entry_clear(sym, p);
			free(p);
		}
	}
	for (int i = 0; i < FILE_BUCKETS; i++) {
		for (struct elf_file *f = sym->files[i], *n; f; f = n) {
			n = f->next;
			file_free(sym, f);
		}
	}
	ksyms__free(sym->ksyms);
	free(sym->site_files);
	free(sym);
}

static struct proc_entry *proc_get(struct symbolizer *sym, pid_t pid, bool create)
{
	unsigned int b = (unsigned int)pid % PROC_BUCKETS;
	struct proc_entry *p;

	for (p = sym->procs[b]; p; p = p->next)
		if (p->pid == pid)
			return p;
	if (!create)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->next = sym->procs[b];
	sym->procs[b] = p;
	return p;
}

/* Returns 0 when new maps were read; keeps the old ones when the process is gone. */
static int proc_read_maps(struct symbolizer *sym, struct proc_entry *p)
{
	struct proc_maps *maps;

	p->read_at = now_sec();
	if (p->gone)
		return -1;
	maps = proc_maps__read(p->pid);
	if (!maps || maps->n == 0) {
		/* Gone, or a zombie: its last maps are the best we will have. */
		proc_maps__free(maps);
		if (!p->maps)
			sym->stats.procs_unreadable++;
		p->gone = true;
		return -1;
	}
	proc_entry_clear(sym, p);
	p->maps = maps;
	p->files = xcalloc(maps->n, sizeof(*p->files));
	p->files_tried = xcalloc(maps->n, sizeof(*p->files_tried));
	return 0;
}

void symbolizer__forget(struct symbolizer *sym, pid_t pid)
{
	struct proc_entry **pp = &sym->procs[(unsigned int)pid % PROC_BUCKETS], *p;

	for (; (p = *pp); pp = &p->next) {
		if (p->pid == pid) {
			*pp = p->next;
			proc_entry_clear(sym, p);
			free(p);
			return;
		}
	}
}

const struct proc_maps *symbolizer__maps(struct symbolizer *sym, pid_t pid)
{
	struct proc_entry *p = proc_get(sym, pid, false);

	return p && !p->gone ? p->maps : NULL;
}

void symbolizer__refresh(struct symbolizer *sym, pid_t pid)
{
	struct proc_entry *p = proc_get(sym, pid, true);

	p->gone = false; /* exec or a reused pid: read afresh */
	proc_read_maps(sym, p);
}

/* A file the target could have planted: not a regular file, too large, or
 * reached through a /proc magic link. Counted, never read.
 */
static void count_refused(struct symbolizer *sym, const char *path)
{
	if (errno != EINVAL && errno != EFBIG && errno != ELOOP && errno != EXDEV)
		return;
	sym->stats.files_refused++;
	p_debug("not reading '%s': %s", path,
		errno == EFBIG ? "larger than RAMPA_MAX_READ_FILE" : strerror(errno));
}

/* Look for a separate debug file by build id, inside the process's root first
 * (resolved there: a link in a container cannot point at a host file).
 */
static void add_debug_symbols(struct symbolizer *sym, struct elf_syms *es, pid_t pid)
{
	const char *id = elf_syms__build_id(es);
	char path[PATH_MAX];
	int fd;

	if (elf_syms__has_symtab(es) || strlen(id) < 3)
		return;
	snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", id, id + 2);
	fd = open_in_root(pid, path, RAMPA_MAX_READ_FILE);
	if (fd < 0) {
		count_refused(sym, path);
		fd = open_regular(path, RAMPA_MAX_READ_FILE);
		if (fd < 0)
			count_refused(sym, path);
	}
	if (fd < 0)
		return;
	p_debug("debug symbols for build id %s from %s", id, path);
	elf_syms__add_symbols_fd(es, fd);
	close(fd);
}

static struct elf_file *file_known(struct symbolizer *sym, const struct stat *st)
{
	unsigned int b = (unsigned int)(st->st_ino ^ st->st_dev) % FILE_BUCKETS;

	for (struct elf_file *f = sym->files[b]; f; f = f->next)
		if (f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
		    f->mtime.tv_sec == st->st_mtim.tv_sec &&
		    f->mtime.tv_nsec == st->st_mtim.tv_nsec)
			return f;
	return NULL;
}

static struct elf_file *file_for_fd(struct symbolizer *sym, int fd, pid_t pid, const char *what)
{
	struct elf_file *f;
	struct stat st;
	const char *err = NULL;
	unsigned int b;

	if (fstat(fd, &st))
		return NULL;
	f = file_known(sym, &st);
	if (f)
		return f;
	b = (unsigned int)(st.st_ino ^ st.st_dev) % FILE_BUCKETS;
	f = xcalloc(1, sizeof(*f));
	sym->nidle++; /* until a map entry takes it */
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	f->pid = pid;
	f->path = xstrdup(what);
	f->syms = elf_syms__open_fd(fd, &err);
	if (f->syms)
		add_debug_symbols(sym, f->syms, pid);
	else
		p_debug("cannot read symbols of %s: %s", what, err);
	f->next = sym->files[b];
	sym->files[b] = f;
	return f;
}

/* The mapped file itself: map_files sees through deletion and replacement;
 * the path under /proc/PID/root resolves inside containers and chroots.
 * An fd, or -1.
 */
static int open_mapped_fd(struct symbolizer *sym, pid_t pid, const struct map_entry *m)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start,
		 m->end);
	fd = open_regular(path, RAMPA_MAX_READ_FILE);
	if (fd < 0)
		count_refused(sym, path);
	/* The kernel prints paths relative to the reader's root: the process's
	 * root comes first for containers (resolved inside it), then the path
	 * as printed (a chroot seen from the host).
	 */
	for (int i = 0; fd < 0 && !m->deleted && i < 2; i++) {
		fd = i == 0 ? open_in_root(pid, m->path, RAMPA_MAX_READ_FILE)
			    : open_regular(m->path, RAMPA_MAX_READ_FILE);
		if (fd < 0)
			count_refused(sym, m->path);
		/* Same path, other file: the binary was replaced since it was mapped. */
		if (fd >= 0 && (fstat(fd, &st) || st.st_ino != m->inode)) {
			close(fd);
			fd = -1;
		}
	}
	return fd;
}

static struct elf_file *open_mapped_file(struct symbolizer *sym, pid_t pid,
					 const struct map_entry *m)
{
	char path[PATH_MAX];
	struct elf_file *f;
	struct stat st;
	int fd;

	/* A file known already (a new process of a known program): a stat()
	 * finds it, without opening it.
	 */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start,
		 m->end);
	if (!stat(path, &st) && S_ISREG(st.st_mode) && st.st_ino == m->inode &&
	    (f = file_known(sym, &st)))
		return f;
	fd = open_mapped_fd(sym, pid, m);
	if (fd < 0)
		return NULL;
	f = file_for_fd(sym, fd, pid, m->path);
	close(fd);
	return f;
}

/* f's libdwfl reader, made on the first frame that needs it (most mapped
 * files never have a sample): the file is opened again, as mapped by pid;
 * without a mapping (m NULL: its processes may be gone), by its path as
 * mapped, if that is still the file, and without the process's root.
 */
static struct srcline *file_srcline(struct symbolizer *sym, struct elf_file *f, pid_t pid,
				    const struct map_entry *m)
{
	struct stat st;
	int fd;

	if (f->srcline_tried)
		return f->srcline;
	f->srcline_tried = true;
	fd = m ? open_mapped_fd(sym, pid, m) : open_regular(f->path, RAMPA_MAX_READ_FILE);
	if (fd < 0) {
		sym->stats.srcline_unreadable++;
		return NULL;
	}
	if (!fstat(fd, &st) && st.st_dev == f->dev && st.st_ino == f->ino)
		f->srcline = srcline__open(fd, f->path, m ? f->pid : 0);
	close(fd);
	if (!f->srcline)
		sym->stats.srcline_unreadable++;
	return f->srcline;
}

/* The symbol as people read it (C++ and Rust demangled), into buf. */
static void demangle_into(const char *name, char *buf, size_t len)
{
	if (demangle(name, buf, len) != buf)
		snprintf(buf, len, "%s", name);
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

_Static_assert(SRCLINE_MAX_INLINE <= SYMBOLIZER_MAX_FRAMES,
	       "an address's frames must fit symbolizer__user_frames' answer");

/* One frame's label: "func (file.c:LINE)" as Python frames show theirs,
 * an inlined call marked as perf marks it: "func (inlined) (file.h:LINE)".
 */
static void frame_label(const char *func, const struct srcline_frame *fr, char *buf, size_t len)
{
	char name[SYMBOLIZER_FRAME_LEN - 64]; /* room for the file and line */

	demangle_into(func, name, sizeof(name));
	if (fr->file && fr->line)
		snprintf(buf, len, "%s%s (%s:%u)", name, fr->inlined ? " (inlined)" : "",
			 basename_of(fr->file), fr->line);
	else
		snprintf(buf, len, "%s%s", name, fr->inlined ? " (inlined)" : "");
}

/* Let every file's cache go when all of them hold FRAME_CACHE_MAX: the hot
 * addresses come back on their next sample.
 */
static void bound_caches(struct symbolizer *sym)
{
	if (sym->ncached < FRAME_CACHE_MAX)
		return;
	sym->stats.cache_dropped += sym->ncached;
	for (int i = 0; i < FILE_BUCKETS; i++)
		for (struct elf_file *f = sym->files[i]; f; f = f->next)
			file_cache_clear(sym, f);
}

static unsigned int out_cached(struct symbolizer *sym, const struct cached_frames *c)
{
	const char *p = c->names;

	for (unsigned int i = 0; i < c->n; i++) {
		sym->out[i] = p;
		p += strlen(p) + 1;
	}
	return c->n;
}

static unsigned int out_scratch(struct symbolizer *sym)
{
	sym->out[0] = sym->scratch;
	return 1;
}

/* Frames of a file's link address vaddr (innermost first) into sym->out,
 * through the file's cache.
 */
static unsigned int file_frames(struct symbolizer *sym, struct elf_file *f, pid_t pid,
				const struct map_entry *m, const char *path, uint64_t vaddr)
{
	static char labels[SRCLINE_MAX_INLINE][SYMBOLIZER_FRAME_LEN];
	struct srcline_frame fr[SRCLINE_MAX_INLINE];
	struct srcline *sl = NULL;
	struct cached_frames *c;
	unsigned int n = 0, dropped = 0;
	const char *name;
	uint64_t *slot, key = vaddr; /* vaddr may become its function's start */
	size_t size = 0;

	slot = u64map_find(&f->frames, key);
	if (slot) {
		c = (struct cached_frames *)(uintptr_t)*slot;
		sym->stats.no_symbol += c->no_symbol;
		sym->stats.cache_hits++;
		return out_cached(sym, c);
	}
	if (!sym->no_srcline)
		sl = file_srcline(sym, f, pid, m);
	if (sl)
		n = srcline__frames(sl, vaddr, true, fr, SRCLINE_MAX_INLINE, &dropped);
	sym->stats.inline_dropped += dropped;
	/* The real function: by symbol table first (separate debug symbols
	 * by build id included), then what libdwfl found (debuglink,
	 * debuginfod): without lines, its symbol tables only.
	 */
	name = elf_syms__lookup(f->syms, vaddr, NULL);
	if (!name && !sym->no_dwfl &&
	    (sl || (sym->no_srcline && (sl = file_srcline(sym, f, pid, m)))))
		name = srcline__symbol(sl, vaddr);
	if (!name && n)
		name = fr[n - 1].func;
	if (!name) {
		uint64_t start;

		/* Name stripped code by the start of its function, so samples in
		 * one function add up in one frame.
		 */
		if (!elf_syms__function_start(f->syms, vaddr, &start))
			vaddr = start;
		sym->stats.no_symbol++;
		snprintf(labels[0], sizeof(labels[0]), "%s+0x%" PRIx64, basename_of(path), vaddr);
		n = 1;
	} else if (!n) {
		demangle_into(name, labels[0], sizeof(labels[0]));
		n = 1;
	} else {
		frame_label(name, &fr[n - 1], labels[n - 1], sizeof(labels[n - 1]));
		sym->stats.srclines += fr[n - 1].file && fr[n - 1].line;
		for (unsigned int i = 0; i + 1 < n; i++)
			frame_label(fr[i].func ? fr[i].func : "[inlined function without a name]",
				    &fr[i], labels[i], sizeof(labels[i]));
		sym->stats.inlined += n - 1;
	}
	/* Names only: a symbol table's answer is quick to find again; libdwfl's
	 * (a search over every symbol) and a miss are kept.
	 */
	if (sym->no_srcline && name && !sl) {
		snprintf(sym->scratch, sizeof(sym->scratch), "%s", labels[0]);
		return out_scratch(sym);
	}
	for (unsigned int i = 0; i < n; i++)
		size += strlen(labels[i]) + 1;
	c = xmalloc(sizeof(*c) + size);
	c->n = n;
	c->no_symbol = !name;
	size = 0;
	for (unsigned int i = 0; i < n; i++) {
		size_t l = strlen(labels[i]) + 1;

		memcpy(c->names + size, labels[i], l);
		size += l;
	}
	bound_caches(sym);
	*u64map_slot(&f->frames, key, NULL) = (uint64_t)(uintptr_t)c;
	sym->ncached++;
	return out_cached(sym, c);
}

/* The mapping, file and link address of a user address: 0, or 1 with a
 * final name in sym->scratch (no mapping, not a file, a file unreadable).
 * *f is NULL (and *m too) with 1.
 */
static int locate(struct symbolizer *sym, pid_t pid, uint64_t addr, bool leaf,
		  const struct map_entry **mp, struct elf_file **fp, uint64_t *vaddr)
{
	struct proc_entry *p = proc_get(sym, pid, true);
	const struct map_entry *m = NULL;
	struct elf_file *f;
	uint64_t lookup = leaf || addr == 0 ? addr : addr - 1;
	uint64_t off;
	size_t idx;

	*mp = NULL;
	*fp = NULL;
	sym->stats.frames++;
	if (!p->maps && !p->gone)
		proc_read_maps(sym, p);
	m = proc_maps__find(p->maps, lookup);
	/* Libraries loaded after the last read (dlopen): read the maps again. */
	if (!m && !p->gone && now_sec() - p->read_at >= MAPS_REFRESH_MIN_SEC) {
		proc_read_maps(sym, p);
		m = proc_maps__find(p->maps, lookup);
	}
	if (!m) {
		sym->stats.unmapped++;
		snprintf(sym->scratch, sizeof(sym->scratch), "[unknown]");
		return 1;
	}
	if (!m->path[0] || m->path[0] == '[') {
		if (!strcmp(m->path, "[vdso]")) {
			snprintf(sym->scratch, sizeof(sym->scratch), "[vdso]");
		} else {
			sym->stats.unmapped++;
			snprintf(sym->scratch, sizeof(sym->scratch), "[unknown]");
		}
		return 1;
	}

	idx = (size_t)(m - p->maps->entries);
	if (!p->files_tried[idx]) {
		p->files_tried[idx] = true;
		p->files[idx] = file_ref(sym, open_mapped_file(sym, pid, m));
	}
	f = p->files[idx];
	off = lookup - m->start + m->pgoff;
	if (!f || !f->syms) {
		sym->stats.no_file++;
		snprintf(sym->scratch, sizeof(sym->scratch), "%s+0x%" PRIx64, basename_of(m->path),
			 off);
		return 1;
	}
	if (elf_syms__offset_to_vaddr(f->syms, off, vaddr))
		*vaddr = off;
	*mp = m;
	*fp = f;
	return 0;
}

unsigned int symbolizer__user_frames(struct symbolizer *sym, pid_t pid, uint64_t addr, bool leaf,
				     const char *const **names)
{
	const struct map_entry *m;
	struct elf_file *f;
	uint64_t vaddr;

	*names = sym->out;
	if (locate(sym, pid, addr, leaf, &m, &f, &vaddr))
		return out_scratch(sym);
	return file_frames(sym, f, pid, m, m->path, vaddr);
}

const char *symbolizer__user_site(struct symbolizer *sym, pid_t pid, uint64_t addr, bool leaf,
				  struct symbolizer_site *site)
{
	const struct map_entry *m;
	struct elf_file *f;
	uint64_t vaddr, start;
	unsigned int n;

	memset(site, 0, sizeof(*site));
	sym->site_f = NULL;
	if (locate(sym, pid, addr, leaf, &m, &f, &vaddr))
		return sym->scratch;
	/* Past this many files, or an address no key holds: named whole now. */
	if ((!f->site_id && sym->nsite_files >= SYMBOLIZER_MAX_SITE_FILES) ||
	    vaddr >= SYMBOLIZER_MAX_SITE_ADDR) {
		sym->stats.sites_unkept++;
		n = file_frames(sym, f, pid, m, m->path, vaddr);
		return sym->out[n - 1];
	}
	if (!f->site_id) {
		/* Kept until the end: the sites are named after the process may
		 * be gone, from this file and its libdwfl reader (opened now,
		 * while the file can be reached through the process; no DWARF is
		 * read).
		 */
		file_ref(sym, f);
		/* A reader holds two descriptors (the file, its debug file): at
		 * most SYMBOLIZER_SITE_READERS are opened here, the others by
		 * path at the end.
		 */
		if (!sym->no_srcline && !f->srcline_tried &&
		    sym->site_readers < SYMBOLIZER_SITE_READERS)
			sym->site_readers += file_srcline(sym, f, pid, m) != NULL;
		grow_array((void **)&sym->site_files, &sym->site_files_cap, sym->nsite_files + 1,
			   sizeof(*sym->site_files));
		sym->site_files[sym->nsite_files] = f;
		f->site_id = (uint32_t)++sym->nsite_files;
	}
	site->file = f->site_id;
	site->vaddr = vaddr;
	site->path = m->path;
	site->build_id = elf_syms__build_id(f->syms);
	site->offset = m->pgoff;
	if (elf_syms__offset_to_vaddr(f->syms, m->pgoff, &start))
		start = m->pgoff;
	site->start = start;
	site->limit = start + (m->end - m->start);
	sym->site_f = f;
	sym->site_m = m;
	sym->site_pid = pid;
	return NULL;
}

const char *symbolizer__site_name(struct symbolizer *sym, const struct symbolizer_site *site)
{
	const char *name;
	uint64_t no_symbol;
	unsigned int n;

	if (!sym->site_f || site->file != sym->site_f->site_id)
		return "[unknown]";
	/* The function by the symbol tables; code they do not name is named
	 * whole now, the way it will be at the end (rare: the names found by
	 * libdwfl alone, and stripped code's FILE+0xSTART).
	 */
	name = elf_syms__lookup(sym->site_f->syms, site->vaddr, NULL);
	if (name) {
		demangle_into(name, sym->scratch, sizeof(sym->scratch));
		return sym->scratch;
	}
	/* Counted when named at the end (symbolizer__site_frames), not now. */
	no_symbol = sym->stats.no_symbol;
	n = file_frames(sym, sym->site_f, sym->site_pid, sym->site_m, sym->site_m->path,
			site->vaddr);
	sym->stats.no_symbol = no_symbol;
	return sym->out[n - 1];
}

unsigned int symbolizer__site_frames(struct symbolizer *sym, uint32_t file, uint64_t vaddr,
				     const char *const **names)
{
	struct elf_file *f = file && file <= sym->nsite_files ? sym->site_files[file - 1] : NULL;

	*names = sym->out;
	if (!f) {
		snprintf(sym->scratch, sizeof(sym->scratch), "[unknown]");
		return out_scratch(sym);
	}
	return file_frames(sym, f, f->pid, NULL, f->path, vaddr);
}

const char *symbolizer__user(struct symbolizer *sym, pid_t pid, uint64_t addr, bool leaf, char *buf,
			     size_t len)
{
	const char *const *names;
	unsigned int n = symbolizer__user_frames(sym, pid, addr, leaf, &names);

	snprintf(buf, len, "%s", names[n - 1]);
	return buf;
}

void symbolizer__set_srcline(struct symbolizer *sym, bool on)
{
	sym->no_srcline = !on;
}

void symbolizer__set_lean(struct symbolizer *sym)
{
	sym->no_srcline = true;
	sym->no_dwfl = true;
	sym->idle_max = LEAN_IDLE_FILES;
	trim_idle_files(sym);
}

const char *symbolizer__kernel(struct symbolizer *sym, uint64_t addr, char *buf, size_t len)
{
	const char *name;

	if (!sym->ksyms_tried) {
		sym->ksyms_tried = true;
		sym->ksyms = ksyms__load(sym->kallsyms_path);
		if (!sym->ksyms || ksyms__hidden(sym->ksyms))
			p_warn("kernel symbols are unavailable (%s hides addresses): kernel frames "
			       "show as addresses; run as root or set kernel.kptr_restrict=0",
			       sym->kallsyms_path ? sym->kallsyms_path : "/proc/kallsyms");
	}
	name = ksyms__lookup(sym->ksyms, addr);
	if (name)
		snprintf(buf, len, "%s_[k]", name);
	else
		snprintf(buf, len, "0x%" PRIx64 "_[k]", addr);
	return buf;
}

int symbolizer__for_each_module(struct symbolizer *sym, pid_t pid,
				int (*fn)(const char *path, const struct elf_syms *es,
					  uint64_t bias, uint64_t start, uint64_t end, void *ctx),
				void *ctx)
{
	struct proc_entry *p = proc_get(sym, pid, true);

	if (!p->maps && !p->gone)
		proc_read_maps(sym, p);
	for (size_t i = 0; p->maps && i < p->maps->n; i++) {
		const struct map_entry *m = &p->maps->entries[i];
		uint64_t vaddr;
		struct elf_file *f;
		int ret;

		if (!m->path[0] || m->path[0] == '[')
			continue;
		if (!p->files_tried[i]) {
			p->files_tried[i] = true;
			p->files[i] = file_ref(sym, open_mapped_file(sym, pid, m));
		}
		f = p->files[i];
		if (!f || !f->syms || elf_syms__offset_to_vaddr(f->syms, m->pgoff, &vaddr))
			continue;
		ret = fn(m->path, f->syms, m->start - vaddr, m->start, m->end, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

const struct symbolizer_stats *symbolizer__stats(const struct symbolizer *sym)
{
	return &sym->stats;
}
