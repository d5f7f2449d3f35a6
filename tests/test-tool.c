// SPDX-License-Identifier: GPL-2.0
/* Drives rampa-bpf's userspace modules directly, for tests that need no root. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpython_layouts.h"
#include "demangle.h"
#include "elf_syms.h"
#include "folded.h"
#include "json_writer.h"
#include "ksyms.h"
#include "output.h"
#include "procmaps.h"
#include "profile.h"
#include "python.h"
#include "pythreads.h"
#include "capture_api.h"
#include "stacks.h"
#include "store.h"
#include "symbolize.h"
#include "memtrack.h"
#include "u64map.h"
#include "unwind.h"
#include "utf8.h"
#include "util.h"

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 0);
}

/* maps FILE ADDR...: the mapping holding each address. */
static int cmd_maps(int argc, char **argv)
{
	struct proc_maps *m = proc_maps__parse_file(argv[0]);

	if (!m)
		return 1;
	printf("%zu executable mappings\n", m->n);
	for (int i = 1; i < argc; i++) {
		const struct map_entry *e = proc_maps__find(m, num(argv[i]));

		if (!e)
			printf("%s none\n", argv[i]);
		else
			printf("%s %" PRIx64 "-%" PRIx64 " off=%" PRIx64 " inode=%" PRIu64
			       " deleted=%d path=%s\n",
			       argv[i], e->start, e->end, e->pgoff, e->inode, e->deleted, e->path);
	}
	proc_maps__free(m);
	return 0;
}

/* elf FILE [OFFSET...]: summary, then the symbol at each file offset. */
static int cmd_elf(int argc, char **argv)
{
	const char *err = NULL;
	struct elf_syms *es = elf_syms__open(argv[0], &err);

	if (!es) {
		printf("error: %s\n", err);
		return 1;
	}
	printf("symbols=%zu symtab=%d build_id=%s\n", elf_syms__count(es), elf_syms__has_symtab(es),
	       elf_syms__build_id(es));
	for (int i = 1; i < argc; i++) {
		uint64_t vaddr, off = 0;
		const char *name;

		if (elf_syms__offset_to_vaddr(es, num(argv[i]), &vaddr)) {
			printf("%s unmapped\n", argv[i]);
			continue;
		}
		name = elf_syms__lookup(es, vaddr, &off);
		printf("%s vaddr=0x%" PRIx64 " %s+0x%" PRIx64 "\n", argv[i], vaddr,
		       name ? name : "(none)", off);
	}
	elf_syms__free(es);
	return 0;
}

/* unwind-row FILE ADDR...: the unwind row covering each link address, as the
 * BPF walker gets it: "ADDR kind=K cfa=OFF rbp=OFF" (kind: enum unwind_kind).
 */
static int cmd_unwind_row(int argc, char **argv)
{
	struct unwind_row *rows;
	size_t n, bad;
	const char *why = NULL;
	int fd = open(argv[0], O_RDONLY | O_CLOEXEC);

	if (fd < 0 || unwind__compile_file(fd, &rows, &n, &bad, &why)) {
		printf("error: %s\n", why ? why : "cannot open");
		if (fd >= 0)
			close(fd);
		return 1;
	}
	close(fd);
	for (int i = 1; i < argc; i++) {
		uint64_t a = num(argv[i]);
		size_t k = n;

		while (k && rows[k - 1].pc > a)
			k--;
		if (!k) {
			printf("%s none\n", argv[i]);
			continue;
		}
		printf("%s kind=%u cfa=%d rbp=%d\n", argv[i], rows[k - 1].kind & 0xf,
		       rows[k - 1].cfa_off, rows[k - 1].rbp_off);
	}
	free(rows);
	return 0;
}

/* elf-find FILE NAME: link address of a symbol. */
static int cmd_elf_find(int argc, char **argv)
{
	struct elf_syms *es = elf_syms__open(argv[0], NULL);

	if (!es || argc < 2)
		return 1;
	printf("0x%" PRIx64 "\n", elf_syms__find(es, argv[1]));
	elf_syms__free(es);
	return 0;
}

/* ksym FILE ADDR...: kernel symbol per address. */
static int cmd_ksym(int argc, char **argv)
{
	struct ksyms *ks = ksyms__load(argv[0]);

	if (!ks)
		return 1;
	printf("hidden=%d\n", ksyms__hidden(ks));
	for (int i = 1; i < argc; i++) {
		const char *n = ksyms__lookup(ks, num(argv[i]));

		printf("%s %s\n", argv[i], n ? n : "(none)");
	}
	ksyms__free(ks);
	return 0;
}

/* symbolize PID ADDR...: frame names as a live capture would give them. */
static int cmd_symbolize(int argc, char **argv)
{
	struct symbolizer *sym = symbolizer__new(NULL);
	pid_t pid = (pid_t)num(argv[0]);
	char buf[512];

	symbolizer__refresh(sym, pid);
	for (int i = 1; i < argc; i++)
		printf("%s %s\n", argv[i],
		       symbolizer__user(sym, pid, num(argv[i]), true, buf, sizeof(buf)));
	symbolizer__free(sym);
	return 0;
}

/* demangle NAME...: each name as the symbolizer writes it. */
static int cmd_demangle(int argc, char **argv)
{
	char buf[1024];

	for (int i = 0; i < argc; i++)
		printf("%s\n", demangle(argv[i], buf, sizeof(buf)));
	return 0;
}

/* folded: read "a;b;c N" lines on stdin into a profile, write it back. */
static int cmd_folded(int argc, char **argv)
{
	struct profile *p = profile__new();
	char *line = NULL, *sp, *save, *tok;
	size_t cap = 0;
	uint32_t frames[4096];

	while (getline(&line, &cap, stdin) > 0) {
		uint32_t n = 0;

		line[strcspn(line, "\n")] = '\0';
		sp = strrchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		for (tok = strtok_r(line, ";", &save); tok && n < 4096;
		     tok = strtok_r(NULL, ";", &save))
			frames[n++] = profile__intern(p, tok);
		profile__add(p, frames, n, num(sp + 1));
	}
	free(line);
	folded__write(stdout, p);
	fprintf(stderr, "stacks=%zu frames=%zu total=%" PRIu64 "\n", profile__nstacks(p),
		profile__nframes(p), profile__total(p));
	profile__free(p);
	return 0;
}

/* folded-read FILE [lenient]: stream FILE through the collapsed-stack reader;
 * print what it counted and the peak memory of the whole process.
 */
static int cmd_folded_read(int argc, char **argv)
{
	struct profile *p = profile__new();
	struct folded_read_stats st;
	struct rusage ru;
	FILE *f = fopen(argv[0], "r");
	int ret;

	if (!f) {
		perror(argv[0]);
		return 1;
	}
	ret = folded__read(f, argv[0], p, argc > 1 ? FOLDED_LENIENT : 0, &st);
	fclose(f);
	getrusage(RUSAGE_SELF, &ru);
	printf("ret=%d lines=%zu stacks=%zu skipped=%zu first_bad=%zu distinct=%zu frames=%zu "
	       "total=%" PRIu64 " maxrss_kb=%ld\n",
	       ret, st.lines, st.stacks, st.skipped, st.first_bad, profile__nstacks(p),
	       profile__nframes(p), profile__total(p), ru.ru_maxrss);
	profile__free(p);
	return ret ? 1 : 0;
}

/* maxrss CMD [ARG...]: run CMD; "maxrss_kb=N" on stderr, its peak memory,
 * and its exit status as ours (128 + signal when killed).
 */
static int cmd_maxrss(int argc, char **argv)
{
	struct rusage ru;
	pid_t pid;
	int status;

	(void)argc;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 125;
	}
	if (!pid) {
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 125;
	}
	fprintf(stderr, "maxrss_kb=%ld\n", ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Bytes from hex ("" is empty); *len gets how many. */
static char *unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	char *b = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			v = '?';
		b[i] = (char)v;
	}
	b[n] = '\0';
	*len = n;
	return b;
}

static void print_hex(const char *s, size_t len)
{
	if (!len)
		fputc('-', stdout);
	for (size_t i = 0; i < len; i++)
		printf("%02x", (unsigned char)s[i]);
}

/* utf8 [-s SIZE] HEX...: each byte string through utf8_sanitize() into a
 * buffer of SIZE bytes (default: large enough); "OUTHEX REPLACED VALIDLEN"
 * per input, "-" for no bytes.
 */
static int cmd_utf8(int argc, char **argv)
{
	size_t size = 0;
	int i = 0;

	if (argc >= 2 && !strcmp(argv[0], "-s")) {
		size = (size_t)num(argv[1]);
		i = 2;
	}
	for (; i < argc; i++) {
		size_t len, cap, replaced, valid;
		char *in = unhex(argv[i], &len), *out;

		cap = size ? size : 3 * len + 1;
		out = xmalloc(cap);
		valid = utf8_valid_len(in, len);
		replaced = utf8_sanitize(out, cap, in, len);
		print_hex(out, strlen(out));
		printf(" %zu %zu\n", replaced, valid);
		free(in);
		free(out);
	}
	return 0;
}

/* json-string HEX...: the byte strings as one JSON array of strings. */
static int cmd_json_string(int argc, char **argv)
{
	struct jsonw *jw = jsonw__new(stdout);

	jsonw__start_array(jw);
	for (int i = 0; i < argc; i++) {
		size_t len;
		char *in = unhex(argv[i], &len);

		jsonw__string_len(jw, in, len);
		free(in);
	}
	jsonw__end_array(jw);
	jsonw__free(jw);
	return 0;
}

/* Names from path: one per line, or NUL-separated (nul); empty ones skipped. */
static char **read_names(const char *path, bool nul, size_t *n)
{
	FILE *f = fopen(path, "r");
	char **names = NULL, *line = NULL;
	size_t cap = 0, lcap = 0;
	ssize_t len;

	*n = 0;
	if (!f) {
		perror(path);
		return NULL;
	}
	while ((len = getdelim(&line, &lcap, nul ? '\0' : '\n', f)) > 0) {
		if (line[len - 1] == (nul ? '\0' : '\n'))
			line[--len] = '\0';
		if (!len)
			continue;
		grow_array((void **)&names, &cap, *n + 1, sizeof(*names));
		names[(*n)++] = xstrdup(line);
	}
	free(line);
	fclose(f);
	return names;
}

/* write-all-formats [-z] NAMESFILE OUTDIR: a profile whose frame names are
 * NAMESFILE's names, one per line or NUL-separated (-z), taken as raw bytes,
 * written in every format (OUTDIR/p.folded, p.svg, p.speedscope.json,
 * p.pb.gz) through the same calls record and report make. Every name is a
 * root frame once; other stacks mix them, half with a "NAME-TID" thread frame,
 * one deeper than the folded reader takes. The target is the first name, set
 * unsanitized. Prints what the profile holds.
 */
static int cmd_write_all_formats(int argc, char **argv)
{
	static const char *const files[] = { "p.folded", "p.svg", "p.speedscope.json", "p.pb.gz" };
	bool nul = argc > 2 && !strcmp(argv[0], "-z");
	const char *dir = argv[nul ? 2 : 1];
	struct profile *p = profile__new();
	struct profile_meta *m = profile__meta(p);
	uint32_t *frames = xmalloc((FOLDED_MAX_DEPTH + 100) * sizeof(*frames));
	size_t n, deep = FOLDED_MAX_DEPTH + 100;
	char **names = read_names(argv[nul ? 1 : 0], nul, &n), path[4096];
	int ret = 0;

	if (!n) {
		fprintf(stderr, "test-tool write-all-formats: no names in %s\n", argv[nul ? 1 : 0]);
		return 1;
	}
	for (size_t i = 0; i < 2 * n; i++) {
		uint32_t d = 0, depth = 1 + (uint32_t)(i % 12);
		char thread[4096 + 16];

		frames[d++] = profile__intern(p, names[i % n]);
		if (i >= n && (i & 1)) {
			snprintf(thread, sizeof(thread), "%s-%zu", names[(i * 7) % n],
				 1000 + i % 50);
			frames[d++] = profile__intern(p, thread);
		}
		for (; d < depth; d++)
			frames[d] = profile__intern(p, names[(i * 31 + d * 17) % n]);
		profile__add(p, frames, d, 1 + i % 97);
	}
	for (size_t d = 0; d < deep; d++)
		frames[d] = profile__intern(p, names[d % n]);
	profile__add(p, frames, (uint32_t)deep, 5);

	m->mode = "cpu";
	m->unit = "samples";
	snprintf(m->target, sizeof(m->target), "%s", names[0]);
	m->duration_sec = 1.5;
	m->hz = 99;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (output__write_file(path, p, output__format_for(NULL, path), 0))
			ret = 1;
	}
	printf("names=%zu frames=%zu invalid_utf8=%zu stacks=%zu total=%" PRIu64 "\n", n,
	       profile__nframes(p), profile__invalid_utf8(p), profile__nstacks(p),
	       profile__total(p));
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(frames);
	profile__free(p);
	return ret;
}

/* Running, not exited (a zombie waiting for its parent counts as exited). */
static bool running(pid_t pid)
{
	char path[64], buf[512], *s;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_text_file(path, buf, sizeof(buf)) <= 0 || !(s = strrchr(buf, ')')))
		return false;
	return s[1] == ' ' && s[2] != 'Z' && s[2] != 'X';
}

/* thread-names PID [SECONDS]: PID's thread names as record -T gives them,
 * read every 50 ms until PID exits or SECONDS pass (default: once), then
 * "TID python|os NAME" for every thread seen.
 */
static int cmd_thread_names(int argc, char **argv)
{
	struct symbolizer *sym = symbolizer__new(NULL);
	struct python *py = python__new();
	struct pythreads *pt = pythreads__new(py);
	pid_t pid = (pid_t)num(argv[0]), tids[4096];
	double until = now_sec() + (argc > 1 ? strtod(argv[1], NULL) : 0);
	enum python_inspect found = PYTHON_NONE;
	size_t ntids = 0;

	do {
		char path[64], why[256];
		struct dirent *de;
		struct py_proc proc;
		DIR *dir;

		if (found == PYTHON_NONE) {
			symbolizer__refresh(sym, pid);
			found = python__inspect(py, sym, pid, &proc, why, sizeof(why));
		}
		pythreads__refresh(pt);
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		dir = opendir(path);
		while (dir && (de = readdir(dir))) {
			pid_t tid = atoi(de->d_name);
			size_t i = 0;

			while (i < ntids && tids[i] != tid)
				i++;
			if (tid > 0 && i == ntids && ntids < sizeof(tids) / sizeof(tids[0]))
				tids[ntids++] = tid;
			if (tid > 0)
				pythreads__name(pt, pid, tid);
		}
		if (dir)
			closedir(dir);
		if (now_sec() < until)
			usleep(50000);
	} while (now_sec() < until && running(pid));
	for (size_t i = 0; i < ntids; i++) {
		const char *n = pythreads__name(pt, pid, tids[i]);

		printf("%d %s %s\n", (int)tids[i],
		       pythreads__is_python(pt, pid, tids[i]) ? "python" : "os", n ? n : "(none)");
	}
	pythreads__free(pt);
	python__free(py);
	symbolizer__free(sym);
	return 0;
}

/* py-decode STATE LENGTH HEX: a CPython str (state word, length in
 * characters, the bytes of its characters kept) through the name decoder.
 */
static int cmd_py_decode(int argc, char **argv)
{
	const char *hex = argv[2];
	size_t n = strlen(hex) / 2;
	uint8_t *data = xmalloc(n + 1);
	unsigned int nbad = 0;
	bool cut;
	char *s;

	for (size_t i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &data[i]);
	s = python__decode_str((uint32_t)num(argv[0]), (int64_t)strtoll(argv[1], NULL, 0), data,
			       (uint32_t)n, &nbad, &cut);
	printf("%s\nbad=%u cut=%d\n", s ? s : "(null)", nbad, cut);
	free(s);
	free(data);
	return 0;
}

/* layouts 3.X: CPython 3.X's layout tables (src/cpython_layouts.c), as
 * tools/cpython-layouts/gen.sh prints them from that version's headers.
 */
static int cmd_layouts(int argc, char **argv)
{
	int minor = strncmp(argv[0], "3.", 2) ? -1 : atoi(argv[0] + 2);

	if (cpython_layouts__print(stdout, minor)) {
		fprintf(stderr, "test-tool layouts: no table for %s\n", argv[0]);
		return 1;
	}
	return 0;
}

/* py-line MINOR FIRSTLINENO HEX ADDR...: the line of each bytecode offset
 * (bytes) by the line table HEX of a CPython 3.MINOR code object, as
 * "ADDR LINE" (-1: no line).
 */
static int cmd_py_line(int argc, char **argv)
{
	const char *hex = argv[2];
	int n = (int)(strlen(hex) / 2);
	uint8_t *tab = xmalloc((size_t)n + 1);

	for (int i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &tab[i]);
	for (int i = 3; i < argc; i++) {
		int addr = atoi(argv[i]);

		printf("%d %d\n", addr, python__line(atoi(argv[0]), tab, n, atoi(argv[1]), addr));
	}
	free(tab);
	return 0;
}

static uint32_t rnd(void)
{
	return (uint32_t)rand() << 16 ^ (uint32_t)rand();
}

/* frame-parse LABEL: how a Python frame label splits into name, file, line. */
static int cmd_frame_parse(int argc, char **argv)
{
	struct frame_py py;

	if (!frame__parse_python(argv[0], &py)) {
		printf("not python\n");
		return 0;
	}
	printf("name=%.*s file=%.*s line=%lu\n", (int)py.qualname_len, py.qualname,
	       (int)py.file_len, py.file, (unsigned long)py.line);
	return 0;
}

/* py-names SEED N: N code events holding random bytes (a target's memory
 * can hold anything) through the Python name reader, then one frame of
 * each; the frame labels on stdout, NUL-terminated, and the reader's
 * counters on stderr.
 */
static int cmd_py_names(int argc, char **argv)
{
	struct python *py = python__new();
	struct py_code_event *e = xcalloc(1, sizeof(*e));
	char buf[FOLDED_MAX_FRAME + 1];
	const struct python_stats *st;
	int n = atoi(argv[1]), named = 0;

	srand((unsigned int)atoi(argv[0]));
	for (int i = 0; i < n; i++) {
		struct py_code_str *strs[] = { &e->qualname, &e->filename };
		struct py_frame f = { .code = (uint64_t)i + 1 };

		e->pid = 1;
		e->version = 0x0300 | (9 + rnd() % 7);
		e->id = (uint64_t)i + 1;
		e->addr = rnd();
		e->firstlineno = (int32_t)rnd() - (rnd() % 2 ? 0 : INT32_MAX);
		for (int k = 0; k < 2; k++) {
			struct py_code_str *c = strs[k];
			uint32_t mode = rnd() % 8;

			c->ok = rnd() % 16 != 0;
			c->state =
			    mode < 6 ? (1u << (2 + mode % 3)) | 0x20 : rnd(); /* kind 1, 2, 4 */
			c->length = mode == 7 ? (int64_t)rnd() * rnd() : rnd() % 6000;
			c->nbytes = rnd() % (PY_CODE_STR_BYTES + 1);
			for (uint32_t j = 0; j < c->nbytes; j++)
				c->data[j] = mode < 3 ? 0x20 + rnd() % 0x5f : rnd();
		}
		e->linetable_ok = rnd() % 4 != 0;
		e->linetable_copied = rnd() % 300;
		e->linetable_len = e->linetable_copied + (rnd() % 3 ? 0 : rnd() % 100);
		for (uint32_t j = 0; j < e->linetable_copied; j++)
			e->linetable[j] = rnd();
		python__code_event(py, e);
		f.offset = (int32_t)(rnd() % 600) - 2;
		f.flags = rnd() % 20  ? 0
			  : rnd() % 2 ? PY_FRAME_CODE_LOST
				      : PY_FRAME_CODE_UNREADABLE;
		if (rnd() % 50 == 0)
			f.code = (uint64_t)n + 1 + rnd(); /* an id whose event never came */
		named += python__frame_name(py, 1, &f, buf, sizeof(buf)) == PY_NAMED;
		fwrite(buf, strlen(buf) + 1, 1, stdout);
	}
	st = python__stats(py);
	fprintf(stderr,
		"frames=%d named=%d invalid_chars=%" PRIu64 " names_cut=%" PRIu64
		" labels_cut=%" PRIu64 " lines_unknown=%" PRIu64 "\n",
		n, named, st->invalid_chars, st->names_cut, st->labels_cut, st->lines_unknown);
	free(e);
	python__free(py);
	return 0;
}

/* Native functions for hand-made stacks: one is named like CPython's eval
 * loop, so the symbolizer, reading this very program, names it so.
 */
__attribute__((noinline, used)) void _PyEval_EvalFrameDefault(void)
{
	__asm__ volatile("");
}
__attribute__((noinline, used)) void tt_call_c(void)
{
	__asm__ volatile("");
}
__attribute__((noinline, used)) void tt_leaf_c(void)
{
	__asm__ volatile("");
}
__attribute__((noinline, used)) void tt_main_c(void)
{
	__asm__ volatile("");
}

/* stacks NATIVE PY: the sample-to-frames step on a hand-made sample of this
 * process. NATIVE: native frames root to leaf, comma-separated, of eval,
 * call_c, leaf_c, main_c. PY: Python functions root to leaf, each ending in
 * '!' when it was entered from C (PY_FRAME_ENTRY), "-" for none. Prints
 * "splice: STACK" or "no splice", then "leaf: STACK" (Python frames above
 * the native leaf), frames joined by ';'.
 */
static int cmd_stacks(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} natives[] = {
		{ "eval", _PyEval_EvalFrameDefault },
		{ "call_c", tt_call_c },
		{ "leaf_c", tt_leaf_c },
		{ "main_c", tt_main_c },
	};
	struct profile *prof = profile__new();
	struct symbolizer *sym = symbolizer__new(NULL);
	struct python *py = python__new();
	struct stacks_opts so = { 0 };
	struct stacks *b = stacks__new(prof, sym, py, NULL, &so);
	struct py_stack *st = xcalloc(1, sizeof(*st));
	struct py_code_event *e = xcalloc(1, sizeof(*e));
	__u64 ustack[RAMPA_MAX_STACK_DEPTH];
	uint32_t frames[STACKS_MAX_FRAMES], n = 0, nu = 0;
	struct capture_sample s = { .pid = (__u32)getpid(), .kind = KIND_CPU, .count = 1 };

	char *list = xstrdup(argv[0]), *save = NULL, *tok;
	char *names[RAMPA_PY_MAX_DEPTH];
	uint32_t flags[RAMPA_PY_MAX_DEPTH], np = 0;

	/* Where Python frames go is tested here, not naming: names without
	 * the file:line this -g build would add.
	 */
	symbolizer__set_srcline(sym, false);
	/* Native: given root first, a sample holds them leaf first. */
	for (tok = strtok_r(list, ",", &save); tok && nu < RAMPA_MAX_STACK_DEPTH;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t i = 0;

		while (i < sizeof(natives) / sizeof(natives[0]) && strcmp(tok, natives[i].name))
			i++;
		if (i == sizeof(natives) / sizeof(natives[0])) {
			fprintf(stderr, "test-tool stacks: unknown native frame '%s'\n", tok);
			return 2;
		}
		/* A return address: one past a call, inside its function. */
		ustack[nu++] = (__u64)(uintptr_t)natives[i].fn + 1;
	}
	for (uint32_t i = 0; i < nu / 2; i++) {
		__u64 t = ustack[i];

		ustack[i] = ustack[nu - 1 - i];
		ustack[nu - 1 - i] = t;
	}
	/* The leaf is where the thread was: the function's first byte. */
	if (nu)
		ustack[0]--;
	free(list);
	list = xstrdup(argv[1]);
	save = NULL;
	for (tok = strtok_r(list, ",", &save); tok && strcmp(tok, "-") && np < RAMPA_PY_MAX_DEPTH;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(tok);

		flags[np] = len && tok[len - 1] == '!' ? PY_FRAME_ENTRY : 0;
		if (flags[np])
			tok[len - 1] = '\0';
		names[np++] = tok;
	}
	/* Their code objects' names, as the kernel hands them over. */
	for (uint32_t i = 0; i < np; i++) {
		struct py_code_str *strs[] = { &e->qualname, &e->filename };
		const char *text[] = { names[i], "/app/hand.py" };

		memset(e, 0, sizeof(*e));
		e->pid = s.pid;
		e->version = 0x030b;
		e->id = i + 1;
		e->addr = 0x1000 * (i + 1);
		e->firstlineno = 10 * (int32_t)(i + 1);
		for (int k = 0; k < 2; k++) {
			strs[k]->ok = 1;
			strs[k]->state = (1u << 2) | (1u << 5); /* compact ASCII */
			strs[k]->length = (int64_t)strlen(text[k]);
			strs[k]->nbytes = (uint32_t)strlen(text[k]);
			memcpy(strs[k]->data, text[k], strs[k]->nbytes);
		}
		python__code_event(py, e);
		/* Leaf first in the stack. */
		st->frames[np - 1 - i] =
		    (struct py_frame){ .code = i + 1, .offset = -2, .flags = flags[i] };
	}
	st->depth = np;
	s.ustack = ustack;
	s.nustack = nu;
	s.py = st;
	s.py_status = PY_OK;
	for (int pass = 0; pass < 2; pass++) {
		bool ok = true;

		n = 0;
		if (pass == 0)
			ok = stacks__splice(b, &s, frames, &n);
		else
			stacks__python_then_leaf(b, &s, frames, &n);
		if (!ok) {
			printf("no splice\n");
			continue;
		}
		printf("%s: ", pass ? "leaf" : "splice");
		for (uint32_t i = 0; i < n; i++)
			printf("%s%s", i ? ";" : "", profile__frame_name(prof, frames[i]));
		putchar('\n');
	}
	free(list);
	free(e);
	free(st);
	stacks__free(b);
	python__free(py);
	symbolizer__free(sym);
	profile__free(prof);
	return 0;
}

/* place-runs SPS DEPTH ENTRIES: where stacks__place_runs puts the Python
 * frames of a hand-made stack. SPS: the native frames' stack pointers, leaf
 * first, in hex; DEPTH: Python frames; ENTRIES: "ADDR:DEPTH" leaf first
 * (ADDR in hex), "-" for none. Prints "homes: H,H..." (the native frame of
 * each Python frame, leaf first) or "not placed".
 */
static int cmd_place_runs(int argc, char **argv)
{
	struct py_stack *st = xcalloc(1, sizeof(*st));
	uint64_t sps[RAMPA_MAX_STACK_DEPTH];
	int home[RAMPA_PY_MAX_DEPTH];
	uint32_t nsps = 0;
	char *list = xstrdup(argv[0]), *save = NULL, *tok;

	(void)argc;
	for (tok = strtok_r(list, ",", &save); tok && nsps < RAMPA_MAX_STACK_DEPTH;
	     tok = strtok_r(NULL, ",", &save))
		sps[nsps++] = strtoull(tok, NULL, 16);
	free(list);
	st->depth = (uint32_t)atoi(argv[1]);
	if (st->depth > RAMPA_PY_MAX_DEPTH)
		st->depth = RAMPA_PY_MAX_DEPTH;
	list = xstrdup(argv[2]);
	save = NULL;
	for (tok = strtok_r(list, ",", &save); tok && strcmp(tok, "-");
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');

		if (st->nentries < RAMPA_PY_MAX_ENTRIES) {
			st->entries[st->nentries] = strtoull(tok, NULL, 16);
			st->entry_depths[st->nentries] = colon ? (uint16_t)atoi(colon + 1) : 0;
		}
		if (st->nentries <= RAMPA_PY_MAX_ENTRIES)
			st->nentries++;
	}
	free(list);
	if (!stacks__place_runs(st, sps, nsps, nsps, home)) {
		printf("not placed\n");
	} else {
		printf("homes: ");
		for (uint32_t j = 0; j < st->depth; j++)
			printf("%s%d", j ? "," : "", home[j]);
		putchar('\n');
	}
	free(st);
	return 0;
}

static bool bit13(const struct u64map_slot *e, void *ctx)
{
	(void)ctx;
	return e->key != U64MAP_EMPTY - 1 && (e->key & (1 << 13));
}

/* u64map N SEED: N random puts, finds and deletions on a small key space,
 * checked against a plain array; "ok ENTRIES" or the first difference.
 */
static int cmd_u64map(int argc, char **argv)
{
	enum { KEYS = 4096 };
	struct u64map m = U64MAP_INIT;
	uint64_t *ref = xcalloc(KEYS, sizeof(*ref)); /* value + 1; 0: absent */
	long n = atol(argv[0]);
	size_t live = 0;

	srand((unsigned int)atoi(argv[1]));
	for (long i = 0; i < n; i++) {
		/* Keys that collide in the low bits, and U64MAP_EMPTY - 1. */
		uint64_t k = (uint64_t)(rand() % KEYS), key = k == 0 ? U64MAP_EMPTY - 1 : k << 12;
		int op = rand() % 3;
		uint64_t *v = u64map_find(&m, key);

		if ((v != NULL) != (ref[k] != 0) || (v && *v + 1 != ref[k])) {
			printf("step %ld: key %#" PRIx64 " found %d, expected %d\n", i, key,
			       v != NULL, ref[k] != 0);
			return 1;
		}
		if (op == 0) {
			bool added;

			*u64map_slot(&m, key, &added) = (uint64_t)i;
			live += added;
			ref[k] = (uint64_t)i + 1;
		} else if (op == 1) {
			if (u64map_del(&m, key) != (ref[k] != 0)) {
				printf("step %ld: delete of %#" PRIx64 " disagrees\n", i, key);
				return 1;
			}
			live -= ref[k] != 0;
			ref[k] = 0;
		}
		/* Now and then, every key with bit 13 set at once. */
		if (i % 997 == 0) {
			size_t want = 0, got;

			for (size_t j = 1; j < KEYS; j++)
				if (ref[j] && ((j << 12) & (1 << 13))) {
					ref[j] = 0;
					want++;
				}
			got = u64map_del_if(&m, bit13, NULL);
			live -= want;
			if (got != want) {
				printf("step %ld: del_if took %zu, expected %zu\n", i, got, want);
				return 1;
			}
		}
		if (m.n != live) {
			printf("step %ld: %zu entries, expected %zu\n", i, m.n, live);
			return 1;
		}
	}
	printf("ok %zu\n", m.n);
	u64map_free(&m);
	free(ref);
	return 0;
}

/* frame-rename: a thread frame made with profile__add_unlisted and renamed
 * leaves a process frame that read the same untouched (--per-process -T).
 */
static int cmd_frame_rename(int argc, char **argv)
{
	struct profile *p = profile__new();
	uint32_t proc = profile__intern(p, "gunicorn-7");
	uint32_t thread = profile__add_unlisted(p, "gunicorn-7");

	profile__rename_frame(p, thread, "MainThread-7");
	printf("process %s\nthread %s\nintern again %s\n", profile__frame_name(p, proc),
	       profile__frame_name(p, thread),
	       profile__intern(p, "gunicorn-7") == proc ? "same" : "other");
	profile__free(p);
	return 0;
}

/* timeline STACKS SLICES MAX_CELLS [OUT.folded]: a profile of STACKS stacks,
 * each weighing 1 + its index % 3 in every one of SLICES 1 s slices, added
 * slice by slice as capture does, with at most MAX_CELLS cells beyond one
 * per stack (0: the default bound). Prints the slice width, slices, cells,
 * times coarsened, the total, whether every stack's slices add up to its
 * weight, and the peak memory; OUT gets it as collapsed stacks.
 */
static int cmd_timeline(int argc, char **argv)
{
	unsigned long nstacks = strtoul(argv[0], NULL, 10), nslices = strtoul(argv[1], NULL, 10);
	struct profile *p = profile__new();
	struct profile_timeline_stats ts;
	struct rusage ru;
	uint32_t fr[2];
	bool sums = true;
	char name[32];

	profile__set_timeline(p, 1.0, strtoul(argv[2], NULL, 10));
	fr[0] = profile__intern(p, "root");
	for (unsigned long s = 0; s < nslices; s++) {
		for (unsigned long i = 0; i < nstacks; i++) {
			snprintf(name, sizeof(name), "s%lu", i);
			fr[1] = profile__intern(p, name);
			profile__add_at(p, fr, 2, 1 + i % 3, (uint32_t)s);
		}
	}
	for (size_t i = 0; i < profile__nstacks(p); i++) {
		uint32_t n, cur = 0, slice, prev = UINT32_MAX;
		uint64_t w, sw, sum = 0;

		profile__stack(p, i, &n, &w);
		while (profile__stack_slice(p, i, &cur, &slice, &sw)) {
			sums &= slice < prev; /* latest first, each slice once */
			prev = slice;
			sum += sw;
		}
		sums &= sum == w;
	}
	profile__timeline_stats(p, &ts);
	if (argc > 3) {
		FILE *f = fopen(argv[3], "w");

		if (!f || folded__write_header(f, p) || folded__write(f, p) || fclose(f)) {
			perror(argv[3]);
			return 1;
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("slice_sec=%g nslices=%u cells=%zu coarsened=%u total=%" PRIu64
	       " slices_add_up=%s maxrss_kb=%ld\n",
	       profile__slice_sec(p), profile__nslices(p), ts.cells, ts.coarsened,
	       profile__total(p), sums ? "yes" : "no", ru.ru_maxrss);
	profile__free(p);
	return 0;
}

/* safe-name NAME: the store's directory name for service NAME, then that
 * name read back (a second line, when it differs from NAME).
 */
static int cmd_safe_name(int argc, char **argv)
{
	char safe[STORE_NAME_MAX], back[STORE_NAME_MAX];

	(void)argc;
	store__safe_name(argv[0], safe, sizeof(safe));
	store__name_of(safe, back, sizeof(back));
	printf("%s\n", safe);
	if (strcmp(back, argv[0]))
		printf("%s\n", back);
	return 0;
}

/* memtrack: commands on stdin, one a line, into a memtrack; then each
 * stack's "stack N retained R churn C" and the totals. Numbers in any C base.
 *   fault PID ADDR BYTES STACK		a sampled page (default mode)
 *   release PID ADDR LEN		pages given back
 *   move PID ADDR LEN ADDR2 LEN2	pages moved (mremap)
 *   map PID ADDR LEN BYTES STACK	a sampled mapping (--precise)
 *   unmap PID ADDR LEN			mappings cut
 *   remap PID ADDR LEN ADDR2 LEN2 [BYTES STACK]	mappings moved, growth sampled
 * Stacks 0-7 exist, each of one frame.
 */
struct tt_stack_sums {
	uint64_t retained[8], churn[8];
};

static void tt_memtrack_sum(const uint32_t *frames, uint32_t n, uint64_t retained, uint64_t churn,
			    void *ctx)
{
	struct tt_stack_sums *s = ctx;

	if (n && frames[0] < 8) {
		s->retained[frames[0]] += retained;
		s->churn[frames[0]] += churn;
	}
}

static int cmd_memtrack(int argc, char **argv)
{
	struct memtrack *mt = memtrack__new();
	struct tt_stack_sums sums = { 0 };
	struct memtrack_totals t;
	char line[512], op[32];
	unsigned long long a[7];

	(void)argc;
	(void)argv;
	for (uint32_t i = 0; i < 8; i++)
		memtrack__stack_add(mt, i, true, 1, &i, 1);
	while (fgets(line, sizeof(line), stdin)) {
		int n = sscanf(line, "%31s %lli %lli %lli %lli %lli %lli %lli", op, &a[0], &a[1],
			       &a[2], &a[3], &a[4], &a[5], &a[6]);

		if (n < 1 || op[0] == '#')
			continue;
		if (!strcmp(op, "fault") && n == 5)
			memtrack__fault(mt, a[0], a[1], a[2], a[3]);
		else if (!strcmp(op, "release") && n == 4)
			memtrack__release(mt, a[0], a[1], a[2]);
		else if (!strcmp(op, "move") && n == 6)
			memtrack__move(mt, a[0], a[1], a[2], a[3], a[4]);
		else if (!strcmp(op, "map") && n == 6)
			memtrack__map_alloc(mt, a[0], a[1], a[2], a[3], a[4]);
		else if (!strcmp(op, "unmap") && n == 4)
			memtrack__map_release(mt, a[0], a[1], a[2]);
		else if (!strcmp(op, "remap") && (n == 6 || n == 8))
			memtrack__map_move(mt, a[0], a[1], a[2], a[3], a[4], n == 8 ? a[5] : 0,
					   n == 8 ? (int64_t)a[6] : -1);
		else {
			fprintf(stderr, "test-tool memtrack: bad line: %s", line);
			memtrack__free(mt);
			return 2;
		}
	}
	memtrack__stacks(mt, tt_memtrack_sum, &sums);
	for (int i = 0; i < 8; i++)
		if (sums.retained[i] || sums.churn[i])
			printf("stack %d retained %" PRIu64 " churn %" PRIu64 "\n", i,
			       sums.retained[i], sums.churn[i]);
	memtrack__totals(mt, &t);
	printf("total retained %" PRIu64 " churn %" PRIu64 " sampled %" PRIu64 " refaulted %" PRIu64
	       "\n",
	       t.retained, t.churn, t.sampled, t.refaulted);
	memtrack__free(mt);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	int min_args;
} cmds[] = {
	{ "maps", cmd_maps, 1 },
	{ "memtrack", cmd_memtrack, 0 },
	{ "elf", cmd_elf, 1 },
	{ "elf-find", cmd_elf_find, 2 },
	{ "unwind-row", cmd_unwind_row, 2 },
	{ "ksym", cmd_ksym, 1 },
	{ "symbolize", cmd_symbolize, 1 },
	{ "demangle", cmd_demangle, 1 },
	{ "folded", cmd_folded, 0 },
	{ "folded-read", cmd_folded_read, 1 },
	{ "maxrss", cmd_maxrss, 1 },
	{ "utf8", cmd_utf8, 0 },
	{ "json-string", cmd_json_string, 0 },
	{ "write-all-formats", cmd_write_all_formats, 2 },
	{ "thread-names", cmd_thread_names, 1 },
	{ "py-decode", cmd_py_decode, 3 },
	{ "py-names", cmd_py_names, 2 },
	{ "py-line", cmd_py_line, 3 },
	{ "layouts", cmd_layouts, 1 },
	{ "frame-parse", cmd_frame_parse, 1 },
	{ "stacks", cmd_stacks, 2 },
	{ "place-runs", cmd_place_runs, 3 },
	{ "u64map", cmd_u64map, 2 },
	{ "frame-rename", cmd_frame_rename, 0 },
	{ "timeline", cmd_timeline, 3 },
	{ "safe-name", cmd_safe_name, 1 },
};

int main(int argc, char **argv)
{
	progname = "test-tool";
	for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		if (argc - 2 < cmds[i].min_args) {
			fprintf(stderr, "test-tool %s: missing arguments\n", argv[1]);
			return 2;
		}
		return cmds[i].fn(argc - 2, argv + 2);
	}
	fprintf(stderr,
		"usage: test-tool maps|elf|elf-find|ksym|symbolize|folded|folded-read|maxrss|utf8|"
		"json-string|write-all-formats|thread-names|py-decode|py-names|py-line|layouts|"
		"frame-parse|stacks|u64map|frame-rename|timeline|safe-name|memtrack ARGS\n");
	return 2;
}
