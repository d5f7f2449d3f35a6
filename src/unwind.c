// SPDX-License-Identifier: GPL-2.0
/* Unwind tables from .eh_frame: see include/unwind.h. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture_api.h"
#include "procmaps.h"
#include "u64map.h"
#include "unwind.h"
#include "util.h"

/* DWARF register numbers of x86-64. */
#define DW_RBP 6
#define DW_RSP 7
#define DW_RA  16

/* ---- Compiling one file ---------------------------------------------- */

struct fde_start {
	uint64_t pc;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Bytes of a pointer of DWARF EH encoding enc (its low nibble); 0: unknown
 * (LEB128 forms, which no x86-64 toolchain uses for FDE addresses).
 */
static size_t enc_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		return 8;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		return 4;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		return 2;
	}
	return 0;
}

/* The FDE address encoding a CIE gives in its augmentation ('R'), or
 * DW_EH_PE_absptr; 0xff when it cannot be known.
 */
static uint8_t cie_fde_encoding(const Dwarf_CIE *cie)
{
	const uint8_t *d = cie->augmentation_data, *end = d + cie->augmentation_data_size;
	const char *a = cie->augmentation;

	if (!a || a[0] != 'z')
		return a && !a[0] ? DW_EH_PE_absptr : 0xff;
	for (a++; *a && d && d < end; a++) {
		switch (*a) {
		case 'R':
			return *d;
		case 'L':
			d++;
			break;
		case 'P': {
			size_t n = enc_size(*d);

			if (!n)
				return 0xff;
			d += 1 + n;
			break;
		}
		case 'S':
		case 'B':
			break;
		default:
			return 0xff;
		}
	}
	return DW_EH_PE_absptr;
}

/* Read an encoded pointer at p (field at link address addr). */
static bool read_encoded(const uint8_t *p, uint8_t enc, uint64_t addr, uint64_t *out)
{
	int64_t v;

	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		memcpy(&v, p, 8);
		break;
	case DW_EH_PE_udata4: {
		uint32_t u;

		memcpy(&u, p, 4);
		v = u;
		break;
	}
	case DW_EH_PE_sdata4: {
		int32_t i;

		memcpy(&i, p, 4);
		v = i;
		break;
	}
	default:
		return false;
	}
	switch (enc & 0x70) {
	case DW_EH_PE_absptr:
		*out = (uint64_t)v;
		return true;
	case DW_EH_PE_pcrel:
		*out = addr + (uint64_t)v;
		return true;
	}
	return false;
}

/* The start addresses of every FDE in .eh_frame (data, at link address
 * base), sorted; their number, or -1.
 */
static ssize_t fde_starts(Elf *elf, Elf_Data *data, uint64_t base, uint64_t **out)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	struct u64map cies = {}; /* CIE offset -> its FDE encoding */
	uint64_t *starts = NULL;
	size_t n = 0, cap = 0;
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	int ret;

	if (!ident)
		return -1;
	/* CIEs come before the FDEs that use them in every linker's output. */
	for (; off != (Dwarf_Off)-1; off = next) {
		ret = dwarf_next_cfi(ident, data, true, off, &next, &e);
		if (ret == 1)
			break;
		if (ret < 0) {
			if (next == (Dwarf_Off)-1 || next <= off)
				break;
			continue;
		}
		if (dwarf_cfi_cie_p(&e)) {
			*u64map_slot(&cies, off, NULL) = cie_fde_encoding(&e.cie);
		} else {
			uint64_t *enc = u64map_find(&cies, e.fde.CIE_pointer), pc;
			const uint8_t *p = e.fde.start;
			size_t sz;

			if (!enc || *enc == 0xff || !(sz = enc_size((uint8_t)*enc)) ||
			    p + 2 * sz > e.fde.end)
				continue;
			if (!read_encoded(p, (uint8_t)*enc,
					  base + (uint64_t)(p - (const uint8_t *)data->d_buf), &pc))
				continue;
			grow_array((void **)&starts, &cap, n + 1, sizeof(*starts));
			starts[n++] = pc;
		}
	}
	u64map_free(&cies);
	qsort(starts, n, sizeof(*starts), cmp_u64);
	*out = starts;
	return (ssize_t)n;
}

/* The CFA expression every x86-64 linker gives a PLT's entries of 16 bytes:
 * rsp + N, plus 8 when (rip & 15) >= K (past the entry's push):
 * breg7 N; breg16 0; lit15; and; litK; ge; lit3; shl; plus. Any other
 * expression stays UNWIND_BAD.
 */
static struct unwind_row plt_row(struct unwind_row r, const Dwarf_Op *ops)
{
	static const uint8_t shape[9] = { DW_OP_breg7, DW_OP_breg16, DW_OP_lit15, DW_OP_and, 0,
					  DW_OP_ge,    DW_OP_lit3,   DW_OP_shl,	  DW_OP_plus };

	for (int i = 0; i < 9; i++)
		if (i != 4 && ops[i].atom != shape[i])
			return r;
	if (ops[4].atom < DW_OP_lit0 || ops[4].atom > DW_OP_lit15 || ops[1].number ||
	    (int64_t)ops[0].number < 8 || (int64_t)ops[0].number > INT16_MAX)
		return r;
	r.kind = UNWIND_CFA_PLT;
	r.cfa_off = (int16_t)ops[0].number;
	r.rbp_off = (int8_t)(ops[4].atom - DW_OP_lit0);
	return r;
}

/* The row for the CFI state of frame. */
static struct unwind_row classify(Dwarf_Frame *frame, uint64_t pc)
{
	struct unwind_row r = { .pc = (uint32_t)pc, .kind = UNWIND_BAD };
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t off;
	int reg;

	if (dwarf_frame_register(frame, DW_RA, mem, &ops, &nops))
		return r;
	if (nops == 0 && ops == mem) {
		r.kind = UNWIND_END; /* undefined: the outermost frame */
		return r;
	}
	if (nops != 2 || ops[0].atom != DW_OP_call_frame_cfa || ops[1].atom != DW_OP_plus_uconst ||
	    (int64_t)ops[1].number != -8)
		return r;
	if (dwarf_frame_cfa(frame, &ops, &nops))
		return r;
	if (nops == 9)
		return plt_row(r, ops);
	if (nops != 1)
		return r;
	/* libdw gives "register + offset" as DW_OP_bregx (or DW_OP_bregN). */
	if (ops[0].atom == DW_OP_bregx) {
		reg = (int)ops[0].number;
		off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		reg = ops[0].atom - DW_OP_breg0;
		off = (int64_t)ops[0].number;
	} else {
		return r;
	}
	if (reg == DW_RSP)
		r.kind = UNWIND_CFA_RSP;
	else if (reg == DW_RBP)
		r.kind = UNWIND_CFA_RBP;
	else
		return r;
	if (off >= INT16_MIN && off <= INT16_MAX) {
		r.cfa_off = (int16_t)off;
	} else if (off % 8 == 0 && off / 8 >= INT16_MIN && off / 8 <= INT16_MAX) {
		r.cfa_off = (int16_t)(off / 8);
		r.kind |= UNWIND_CFA_X8;
	} else {
		r.kind = UNWIND_BAD;
		return r;
	}
	if (dwarf_frame_register(frame, DW_RBP, mem, &ops, &nops)) {
		r.kind = UNWIND_BAD;
		return r;
	}
	if (nops == 0) /* same value, or undefined: left as it is */
		return r;
	off = 0;
	if (ops[0].atom != DW_OP_call_frame_cfa ||
	    (nops == 2 && ops[1].atom != DW_OP_plus_uconst) || nops > 2) {
		r.kind = UNWIND_BAD;
		return r;
	}
	if (nops == 2)
		off = (int64_t)ops[1].number;
	if (off % 8 || off / 8 < INT8_MIN || off / 8 > INT8_MAX) {
		r.kind = UNWIND_BAD;
		return r;
	}
	r.rbp_off = (int8_t)(off / 8);
	r.kind |= UNWIND_RBP_SAVED;
	return r;
}

struct rows {
	struct unwind_row *v;
	size_t n, cap, bad;
};

static void push_row(struct rows *rs, struct unwind_row r)
{
	if (rs->n) {
		struct unwind_row *last = &rs->v[rs->n - 1];

		/* Same rule as the row before: one row covers both. */
		if (last->kind == r.kind && last->cfa_off == r.cfa_off &&
		    last->rbp_off == r.rbp_off)
			return;
		/* Same address (a zero-length range): the later rule wins. */
		if (last->pc == r.pc) {
			*last = r;
			return;
		}
	}
	if ((r.kind & 0xf) == UNWIND_BAD)
		rs->bad++;
	grow_array((void **)&rs->v, &rs->cap, rs->n + 1, sizeof(*rs->v));
	rs->v[rs->n++] = r;
}

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *shdr)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, shdr))
			continue;
		n = elf_strptr(elf, shstrndx, shdr->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

static int compile_elf(Elf *elf, struct rows *rs, const char **why)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = find_section(elf, ".eh_frame", &shdr);
	Elf_Data *data;
	Dwarf_CFI *cfi;
	uint64_t *starts = NULL, cur = 0;
	ssize_t n;

	if (!scn || shdr.sh_type == SHT_NOBITS || !(data = elf_getdata(scn, NULL)) ||
	    !data->d_size) {
		*why = "no .eh_frame section";
		return -1;
	}
	cfi = dwarf_getcfi_elf(elf);
	if (!cfi) {
		*why = "unreadable .eh_frame";
		return -1;
	}
	n = fde_starts(elf, data, shdr.sh_addr, &starts);
	for (ssize_t i = 0; i < n; i++) {
		Dwarf_Frame *frame;
		Dwarf_Addr start, end;

		if (starts[i] < cur || starts[i] > UINT32_MAX)
			continue;
		/* Between two functions' CFI: nothing known, frame pointers may be. */
		if (cur && starts[i] > cur)
			push_row(rs,
				 (struct unwind_row){ .pc = (uint32_t)cur, .kind = UNWIND_GAP });
		cur = starts[i];
		while (cur <= UINT32_MAX && !dwarf_cfi_addrframe(cfi, cur, &frame)) {
			if (dwarf_frame_info(frame, &start, &end, NULL) < 0 || end <= cur) {
				free(frame);
				break;
			}
			push_row(rs, classify(frame, cur));
			free(frame);
			cur = end;
		}
	}
	if (cur && cur <= UINT32_MAX)
		push_row(rs, (struct unwind_row){ .pc = (uint32_t)cur, .kind = UNWIND_GAP });
	free(starts);
	dwarf_cfi_end(cfi);
	if (!rs->n) {
		*why = n < 0 ? "unreadable .eh_frame" : "no CFI in .eh_frame";
		return -1;
	}
	return 0;
}

int unwind__compile_file(int fd, struct unwind_row **rows, size_t *nrows, size_t *nbad,
			 const char **why)
{
	struct rows rs = {};
	Elf *elf;
	int ret;

	*rows = NULL;
	*nrows = *nbad = 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		*why = "not an ELF file";
		elf_end(elf);
		return -1;
	}
	ret = compile_elf(elf, &rs, why);
	elf_end(elf);
	if (ret) {
		free(rs.v);
		return -1;
	}
	*rows = rs.v;
	*nrows = rs.n;
	*nbad = rs.bad;
	return 0;
}

/* ---- The cache -------------------------------------------------------- */

struct table {
	char key[96];	   /* "b:BUILDID" or "f:DEV:INO:SIZE:MTIME" */
	uint32_t id;	   /* RAMPA_UNWIND_NO_TABLE: no CFI, or not loaded */
	uint32_t first, n; /* rows in the kernel's array */
	unsigned int refs; /* processes using it */
	uint64_t used;	   /* u->clock at last use */
	bool loaded;
};

struct uproc {
	pid_t pid;
	struct table **tables; /* referenced, one each */
	size_t n, cap;
};

/* What a mapped file gives every process that maps it: its table's key and
 * its loadable segments (for the load bias). Found again by a stat() of the
 * mapping (device, inode, size, mtime): a new process of a known program
 * costs no open and no ELF parsing.
 */
#define FILE_LOADS_MAX 16
struct file_facts {
	uint64_t dev, ino, size;
	int64_t mtime_sec, mtime_nsec;
	char key[96];
	struct table *table; /* once found or made */
	uint32_t nloads;
	struct {
		uint64_t offset, vaddr, filesz;
	} loads[FILE_LOADS_MAX];
	struct file_facts *next; /* same hash */
};

struct unwind {
	struct capture *cap;
	struct table **tables;
	size_t ntables, tables_cap;
	uint32_t *free_ids;
	size_t nfree_ids, free_ids_cap;
	uint32_t next_id;
	struct u64map procs; /* pid -> struct uproc * */
	struct u64map facts; /* hash of device and inode -> struct file_facts * chain */
	size_t nfacts;
	uint64_t clock;
	struct unwind_proc scratch;
	struct unwind_stats stats;
};

struct unwind *unwind__new(struct capture *c)
{
	struct unwind *u;

	if (!capture__can_unwind(c))
		return NULL;
	u = xcalloc(1, sizeof(*u));
	u->cap = c;
	return u;
}

static void uproc_free(struct uproc *p)
{
	if (!p)
		return;
	free(p->tables);
	free(p);
}

static void facts_clear(struct unwind *u)
{
	for (size_t i = 0; i < u->facts.cap; i++) {
		if (!u64map_used(&u->facts, i))
			continue;
		for (struct file_facts *f = (void *)(uintptr_t)u->facts.slots[i].val, *n; f;
		     f = n) {
			n = f->next;
			free(f);
		}
	}
	u64map_free(&u->facts);
	u->nfacts = 0;
}

void unwind__free(struct unwind *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->procs.cap; i++)
		if (u64map_used(&u->procs, i))
			uproc_free((struct uproc *)(uintptr_t)u->procs.slots[i].val);
	u64map_free(&u->procs);
	facts_clear(u);
	for (size_t i = 0; i < u->ntables; i++)
		free(u->tables[i]);
	free(u->tables);
	free(u->free_ids);
	free(u);
}

const struct unwind_stats *unwind__stats(const struct unwind *u)
{
	static const struct unwind_stats none;

	return u ? &u->stats : &none;
}

static int cmp_first(const void *a, const void *b)
{
	const struct table *x = *(struct table *const *)a, *y = *(struct table *const *)b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* First fit of n rows among the loaded tables; -1 when none. */
static int64_t find_room(struct unwind *u, uint32_t n)
{
	struct table **loaded = xcalloc(u->ntables + 1, sizeof(*loaded));
	size_t k = 0;
	uint64_t at = 0;
	int64_t found = -1;

	for (size_t i = 0; i < u->ntables; i++)
		if (u->tables[i]->loaded)
			loaded[k++] = u->tables[i];
	qsort(loaded, k, sizeof(*loaded), cmp_first);
	/* Gaps before each loaded table, then the tail after the last. */
	for (size_t i = 0; i <= k; i++) {
		uint64_t next =
		    i < k ? loaded[i]->first : capture__map_entries(u->cap, CMAP_UNWIND_ROWS);

		if (next >= at + n) {
			found = (int64_t)at;
			break;
		}
		if (i == k)
			break;
		at = loaded[i]->first + loaded[i]->n;
	}
	free(loaded);
	return found;
}

/* The table no process uses that was used longest ago goes. */
static bool evict_one(struct unwind *u)
{
	struct table *victim = NULL;

	for (size_t i = 0; i < u->ntables; i++) {
		struct table *t = u->tables[i];

		if (t->loaded && !t->refs && (!victim || t->used < victim->used))
			victim = t;
	}
	if (!victim)
		return false;
	capture__unwind_table(u->cap, victim->id, &(struct unwind_table){ 0, 0 });
	victim->loaded = false;
	grow_array((void **)&u->free_ids, &u->free_ids_cap, u->nfree_ids + 1, sizeof(*u->free_ids));
	u->free_ids[u->nfree_ids++] = victim->id;
	victim->id = RAMPA_UNWIND_NO_TABLE;
	u->stats.evicted++;
	return true;
}

static struct table *table_find(struct unwind *u, const char *key)
{
	for (size_t i = 0; i < u->ntables; i++)
		if (!strcmp(u->tables[i]->key, key))
			return u->tables[i];
	return NULL;
}

/* Compiled tables are kept on disk by build id: a file is compiled once per
 * machine, not once per run. RAMPA_UNWIND_CACHE names the directory ("":
 * none); the default is /var/cache/rampa-bpf/unwind. A file holds the rows
 * as the kernel takes them, after a header naming the format and count.
 */
#define CACHE_MAGIC  0x33776e7572706d72ull /* "rmpruwn3": rows may be UNWIND_CFA_PLT */
#define CACHE_FORMAT 3

struct cache_hdr {
	uint64_t magic;
	uint64_t nrows, nbad;
};

static const char *cache_dir(void)
{
	const char *d = getenv("RAMPA_UNWIND_CACHE");

	return d ? d : "/var/cache/rampa-bpf/unwind";
}

static bool cache_path(const char *key, char *buf, size_t len)
{
	const char *d = cache_dir();

	if (!d[0] || strncmp(key, "b:", 2))
		return false;
	/* The format in the name: builds of another format sharing the directory
	 * keep their own files instead of overwriting each other's.
	 */
	return snprintf(buf, len, "%s/%s.v%d.rows", d, key + 2, CACHE_FORMAT) < (int)len;
}

static bool cache_has(const char *key)
{
	char path[PATH_MAX];

	return cache_path(key, path, sizeof(path)) && !access(path, R_OK);
}

/* A cached table of at most max rows. */
static bool cache_read(const char *key, struct unwind_row **rows, size_t *n, size_t *nbad,
		       uint32_t max)
{
	char path[PATH_MAX];
	struct cache_hdr h;
	FILE *f;
	bool ok = false;

	if (!cache_path(key, path, sizeof(path)) || !(f = fopen(path, "re")))
		return false;
	if (fread(&h, sizeof(h), 1, f) == 1 && h.magic == CACHE_MAGIC && h.nrows &&
	    h.nrows <= max) {
		*rows = xmalloc(h.nrows * sizeof(**rows));
		ok = fread(*rows, sizeof(**rows), h.nrows, f) == h.nrows;
		if (!ok)
			free(*rows);
		*n = h.nrows;
		*nbad = h.nbad;
	}
	fclose(f);
	return ok;
}

/* Written whole or not at all: to a temporary name, then renamed. */
static void cache_write(const char *key, const struct unwind_row *rows, size_t n, size_t nbad)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	struct cache_hdr h = { CACHE_MAGIC, n, nbad };
	FILE *f;
	bool ok;

	if (!cache_path(key, path, sizeof(path)))
		return;
	if (mkdir_p(cache_dir(), 0755))
		return;
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	f = fopen(tmp, "wxe");
	if (!f)
		return;
	ok = fwrite(&h, sizeof(h), 1, f) == 1 && fwrite(rows, sizeof(*rows), n, f) == n;
	ok = !fclose(f) && ok;
	if (!ok || rename(tmp, path))
		unlink(tmp);
}

/* Load t's rows (from the disk cache, or compiled from fd) into the kernel. */
static void table_load(struct unwind *u, struct table *t, int fd, const char *path)
{
	struct unwind_row *rows;
	size_t n, bad;
	const char *why = NULL;
	uint64_t t0 = mono_ns();
	int64_t at;

	if (cache_read(t->key, &rows, &n, &bad, capture__map_entries(u->cap, CMAP_UNWIND_ROWS))) {
		u->stats.cached++;

	} else if (unwind__compile_file(fd, &rows, &n, &bad, &why)) {
		p_debug("unwind: %s: %s; frame pointers only", path, why);
		u->stats.no_cfi++;
		u->stats.build_ns += mono_ns() - t0;
		return;
	} else {
		cache_write(t->key, rows, n, bad);
	}
	u->stats.files++;
	u->stats.rows_bad += bad;
	while ((at = find_room(u, (uint32_t)n)) < 0 && evict_one(u))
		;
	if (at < 0 || n > capture__map_entries(u->cap, CMAP_UNWIND_ROWS) ||
	    (!u->nfree_ids && u->next_id >= capture__map_entries(u->cap, CMAP_UNWIND_TABLES))) {
		u->stats.not_loaded++;
		free(rows);
		u->stats.build_ns += mono_ns() - t0;
		return;
	}
	t->id = u->nfree_ids ? u->free_ids[--u->nfree_ids] : u->next_id++;
	t->first = (uint32_t)at;
	t->n = (uint32_t)n;
	if (capture__unwind_rows(u->cap, t->first, rows, t->n) ||
	    capture__unwind_table(u->cap, t->id, &(struct unwind_table){ t->first, t->n })) {
		u->stats.not_loaded++;
		t->id = RAMPA_UNWIND_NO_TABLE;
	} else {
		t->loaded = true;
		u->stats.rows += n;
	}
	free(rows);
	u->stats.build_ns += mono_ns() - t0;
	p_debug("unwind: %s: %zu rows (%zu unusable) in %.1f ms", path, n, bad,
		(mono_ns() - t0) / 1e6);
}

/* key: the file's GNU build id, else its identity (st). */
static void file_key(int fd, const struct stat *st, char *key, size_t len)
{
	Elf *elf;
	const void *bid = NULL;
	ssize_t n = -1;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf)
		n = dwelf_elf_gnu_build_id(elf, &bid);
	if (n > 0 && n <= 40) {
		int k = snprintf(key, len, "b:");

		for (ssize_t i = 0; i < n; i++)
			k += snprintf(key + k, len - k, "%02x", ((const uint8_t *)bid)[i]);
	} else {
		snprintf(key, len, "f:%ju:%ju:%jd:%jd.%ld", (uintmax_t)st->st_dev,
			 (uintmax_t)st->st_ino, (intmax_t)st->st_size, (intmax_t)st->st_mtim.tv_sec,
			 st->st_mtim.tv_nsec);
	}
	elf_end(elf);
}

/* f's loadable segments, from the file open on fd. */
static void file_loads(int fd, struct file_facts *f)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t nph;

	if (!elf || elf_getphdrnum(elf, &nph))
		goto out;
	for (size_t i = 0; i < nph && f->nloads < FILE_LOADS_MAX; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		f->loads[f->nloads].offset = ph.p_offset;
		f->loads[f->nloads].vaddr = ph.p_vaddr;
		f->loads[f->nloads].filesz = ph.p_filesz;
		f->nloads++;
	}
out:
	elf_end(elf);
}

/* Link address of the mapping's file offset: runtime = link + bias. */
static bool mapping_bias(const struct file_facts *f, const struct map_entry *m, uint64_t *bias)
{
	for (uint32_t i = 0; i < f->nloads; i++) {
		/* The segment the mapping's file offset falls in. */
		if (m->pgoff >= (f->loads[i].offset & ~0xfffull) &&
		    m->pgoff < f->loads[i].offset + f->loads[i].filesz) {
			*bias = m->start - m->pgoff - (f->loads[i].vaddr - f->loads[i].offset);
			return true;
		}
	}
	return false;
}

/* The mapped file: map_files sees through deletion and replacement; the
 * path under /proc/PID/root resolves inside containers and chroots. With
 * fd NULL, only stat() it into st; else open it too. 0 or -1.
 */
static int find_mapping(pid_t pid, const struct map_entry *m, struct stat *st, int *fd)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start,
		 m->end);
	for (int i = 0; i < 2; i++) {
		if (i == 1) {
			if (m->deleted)
				return -1;
			snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, m->path);
		}
		if (fd) {
			*fd = open(path, O_RDONLY | O_CLOEXEC);
			if (*fd < 0)
				continue;
			if (!fstat(*fd, st) && st->st_ino == m->inode)
				return 0;
			close(*fd);
			*fd = -1;
		} else if (!stat(path, st) && st->st_ino == m->inode) {
			return 0;
		}
	}
	return -1;
}

static uint64_t facts_hash(uint64_t dev, uint64_t ino)
{
	return (ino * 0x9e3779b97f4a7c15ull ^ dev) & ~(1ull << 63);
}

/* What is known of the file m maps, read at first sight; NULL when it
 * cannot be reached (the process is gone, the file too).
 */
static struct file_facts *facts_for(struct unwind *u, pid_t pid, const struct map_entry *m)
{
	struct file_facts *f;
	struct stat st;
	uint64_t *head;
	int fd;

	if (find_mapping(pid, m, &st, NULL))
		return NULL;
	head = u64map_slot(&u->facts, facts_hash(st.st_dev, st.st_ino), NULL);
	for (f = (void *)(uintptr_t)*head; f; f = f->next)
		if (f->dev == st.st_dev && f->ino == st.st_ino && f->size == (uint64_t)st.st_size &&
		    f->mtime_sec == st.st_mtim.tv_sec && f->mtime_nsec == st.st_mtim.tv_nsec)
			return f;
	if (find_mapping(pid, m, &st, &fd))
		return NULL;
	/* Bounded: past the limit all are let go (each is read again at its
	 * next sight), counted.
	 */
	if (u->nfacts >= UNWIND_FILES_MAX) {
		u->stats.files_forgotten += u->nfacts;
		facts_clear(u);
	}
	f = xcalloc(1, sizeof(*f));
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime_sec = st.st_mtim.tv_sec;
	f->mtime_nsec = st.st_mtim.tv_nsec;
	file_key(fd, &st, f->key, sizeof(f->key));
	file_loads(fd, f);
	close(fd);
	head = u64map_slot(&u->facts, facts_hash(st.st_dev, st.st_ino), NULL);
	f->next = (void *)(uintptr_t)*head;
	*head = (uint64_t)(uintptr_t)f;
	u->nfacts++;
	return f;
}

/* The table of the file f describes, compiled and loaded at first sight
 * (opened again only then).
 */
static struct table *table_for(struct unwind *u, struct file_facts *f, pid_t pid,
			       const struct map_entry *m, bool compile)
{
	struct table *t = f->table ? f->table : table_find(u, f->key);
	struct stat st;
	int fd = -1;

	/* Not compiled now: only what the disk cache holds is taken. */
	if (!t && !compile && !cache_has(f->key))
		return NULL;
	if (!t || (!t->loaded && t->n)) {
		if (find_mapping(pid, m, &st, &fd))
			return NULL;
		if (!t) {
			t = xcalloc(1, sizeof(*t));
			snprintf(t->key, sizeof(t->key), "%s", f->key);
			t->id = RAMPA_UNWIND_NO_TABLE;
			grow_array((void **)&u->tables, &u->tables_cap, u->ntables + 1,
				   sizeof(*u->tables));
			u->tables[u->ntables++] = t;
		}
		/* New, or evicted: compiled (or read from the disk cache) again. */
		table_load(u, t, fd, m->path);
		close(fd);
	}
	f->table = t;
	t->used = ++u->clock;
	return t;
}

static void uproc_release(struct unwind *u, struct uproc *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->tables[i]->refs)
			p->tables[i]->refs--;
	p->n = 0;
}

int unwind__update(struct unwind *u, pid_t pid, const struct proc_maps *given, bool compile)
{
	struct proc_maps *maps = NULL;
	struct unwind_proc *up;
	struct uproc *p;
	uint64_t *slot;
	bool added;
	int ret = 0;

	if (!u)
		return 0;
	if (!given)
		given = maps = proc_maps__read(pid);
	if (!given)
		return -1;
	slot = u64map_slot(&u->procs, (uint32_t)pid, &added);
	if (added) {
		p = xcalloc(1, sizeof(*p));
		p->pid = pid;
		*slot = (uint64_t)(uintptr_t)p;
		u->stats.procs++;
	}
	p = (struct uproc *)(uintptr_t)*slot;
	/* Old references go after the new ones are taken: tables still mapped
	 * are not evicted in between.
	 */
	struct table **old = p->tables;
	size_t nold = p->n;

	p->tables = NULL;
	p->n = 0;
	p->cap = 0;
	up = &u->scratch;
	memset(up, 0, sizeof(*up));
	for (size_t i = 0; i < given->n; i++) {
		const struct map_entry *m = &given->entries[i];
		struct unwind_map *um;
		struct file_facts *f = NULL;
		struct table *t = NULL;
		uint64_t bias = 0;

		if (!m->exec)
			continue;
		if (up->nmaps >= RAMPA_UNWIND_MAPS) {
			u->stats.maps_dropped++;
			continue;
		}
		/* Anonymous code (JIT) and [vdso] have no file: frame pointers. */
		if (m->path[0] && m->path[0] != '[')
			f = facts_for(u, pid, m);
		if (f && mapping_bias(f, m, &bias))
			t = table_for(u, f, pid, m, compile);
		um = &up->maps[up->nmaps++];
		um->start = m->start;
		um->end = m->end;
		um->bias = bias;
		um->table = t && t->loaded ? t->id : RAMPA_UNWIND_NO_TABLE;
		if (t) {
			t->refs++;
			grow_array((void **)&p->tables, &p->cap, p->n + 1, sizeof(*p->tables));
			p->tables[p->n++] = t;
		}
	}
	proc_maps__free(maps);
	for (size_t i = 0; i < nold; i++)
		if (old[i]->refs)
			old[i]->refs--;
	free(old);
	if (capture__unwind_proc(u->cap, pid, up)) {
		u->stats.procs_dropped++;
		ret = -1;
	}
	return ret;
}

void unwind__forget(struct unwind *u, pid_t pid)
{
	uint64_t *slot;
	struct uproc *p;

	if (!u || !(slot = u64map_find(&u->procs, (uint32_t)pid)))
		return;
	p = (struct uproc *)(uintptr_t)*slot;
	uproc_release(u, p);
	uproc_free(p);
	u64map_del(&u->procs, (uint32_t)pid);
	capture__unwind_proc(u->cap, pid, NULL);
}
