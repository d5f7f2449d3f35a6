// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_syms.h"
#include "util.h"

struct elf_sym {
	uint64_t addr, size;
	const char *name; /* points into names */
	int rank;	  /* lower wins among symbols at one address */
};

struct elf_seg {
	uint64_t offset, vaddr, filesz;
};

struct elf_syms {
	struct elf_sym *syms;
	size_t nsyms, cap;
	struct elf_sym *objs; /* data objects, function aliases: lookups by name only */
	size_t nobjs, objs_cap;
	struct elf_seg *segs;
	size_t nsegs;
	/* Function starts from .eh_frame_hdr: name stripped code by function. */
	uint64_t *starts;
	size_t nstarts;
	/* Every symbol and object by name (then by the order a linear search
	 * would meet them): lookups by name are a binary search, not a scan of
	 * every symbol of every file of every new process.
	 */
	struct elf_name {
		const char *name;
		uint64_t addr, size;
		size_t order;
	} * by_name;
	size_t nby_name;
	char **names; /* owned strings, freed with the table */
	size_t nnames, names_cap;
	bool has_symtab;
	char build_id[2 * 64 + 1];
};

static int init_libelf(void)
{
	static int done;

	if (!done) {
		if (elf_version(EV_CURRENT) == EV_NONE)
			return -1;
		done = 1;
	}
	return 0;
}

static const char *keep_name(struct elf_syms *es, const char *name)
{
	char *copy = xstrdup(name);

	grow_array((void **)&es->names, &es->names_cap, es->nnames + 1, sizeof(char *));
	es->names[es->nnames++] = copy;
	return copy;
}

static int sym_rank(unsigned char bind)
{
	/* Prefer the public name when aliases share an address. */
	switch (bind) {
	case STB_GLOBAL:
		return 0;
	case STB_WEAK:
		return 1;
	default:
		return 2;
	}
}

static void read_symbols(struct elf_syms *es, Elf *elf, Elf_Scn *scn, GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n;

	if (!data || !sh->sh_entsize)
		return;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		unsigned char type;
		const char *name;

		if (!gelf_getsym(data, i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (type == STT_OBJECT) {
			/* Only the few an inspector asks for by name: skip locals. */
			if (GELF_ST_BIND(sym.st_info) == STB_LOCAL)
				continue;
			grow_array((void **)&es->objs, &es->objs_cap, es->nobjs + 1,
				   sizeof(*es->objs));
			es->objs[es->nobjs++] = (struct elf_sym){
				.addr = sym.st_value,
				.size = sym.st_size,
				.name = keep_name(es, name),
			};
			continue;
		}
		grow_array((void **)&es->syms, &es->cap, es->nsyms + 1, sizeof(*es->syms));
		es->syms[es->nsyms++] = (struct elf_sym){
			.addr = sym.st_value,
			.size = sym.st_size,
			.name = keep_name(es, name),
			.rank = sym_rank(GELF_ST_BIND(sym.st_info)),
		};
	}
}

static void read_build_id(struct elf_syms *es, Elf *elf, Elf_Scn *scn)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (!data)
		return;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;

		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4) || nh.n_descsz > 64)
			continue;
		for (size_t i = 0; i < nh.n_descsz; i++)
			sprintf(es->build_id + 2 * i, "%02x", desc[i]);
		return;
	}
}

/* The binary search table of .eh_frame_hdr lists every function with unwind
 * information, sorted: in a stripped file it still tells where functions
 * begin. Only the encoding every toolchain emits (datarel sdata4) is read.
 */
static void read_eh_frame_hdr(struct elf_syms *es, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	const unsigned char *d;
	uint32_t count;

	if (!data || data->d_size < 12)
		return;
	d = data->d_buf;
	/* version 1, eh_frame_ptr pcrel|sdata4, fde_count udata4, table datarel|sdata4 */
	if (d[0] != 1 || d[1] != 0x1b || d[2] != 0x03 || d[3] != 0x3b)
		return;
	memcpy(&count, d + 8, 4);
	if (count == 0 || 12 + (uint64_t)count * 8 > data->d_size)
		return;
	es->starts = xcalloc(count, sizeof(*es->starts));
	for (uint32_t i = 0; i < count; i++) {
		int32_t rel;

		memcpy(&rel, d + 12 + (size_t)i * 8, 4);
		es->starts[i] = sh->sh_addr + (int64_t)rel;
	}
	es->nstarts = count;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct elf_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	return strcmp(x->name, y->name);
}

/* Sort, drop duplicate addresses, and give zero-sized symbols (hand-written
 * assembly) the room up to the next symbol.
 */
static void finish_symbols(struct elf_syms *es)
{
	size_t out = 0;

	qsort(es->syms, es->nsyms, sizeof(*es->syms), cmp_sym);
	for (size_t i = 0; i < es->nsyms; i++) {
		if (out && es->syms[out - 1].addr == es->syms[i].addr) {
			if (es->syms[i].size > es->syms[out - 1].size && !es->syms[out - 1].size)
				es->syms[out - 1].size = es->syms[i].size;
			/* An alias (malloc of __libc_malloc): found by name still. */
			grow_array((void **)&es->objs, &es->objs_cap, es->nobjs + 1,
				   sizeof(*es->objs));
			es->objs[es->nobjs++] = es->syms[i];
			continue;
		}
		es->syms[out++] = es->syms[i];
	}
	es->nsyms = out;
	for (size_t i = 0; i < es->nsyms; i++) {
		if (es->syms[i].size)
			continue;
		if (i + 1 < es->nsyms)
			es->syms[i].size = es->syms[i + 1].addr - es->syms[i].addr;
		else
			es->syms[i].size = 1;
	}
}

static int cmp_name(const void *a, const void *b)
{
	const struct elf_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void index_names(struct elf_syms *es)
{
	size_t n = 0;

	free(es->by_name);
	es->by_name = xmalloc((es->nsyms + es->nobjs + 1) * sizeof(*es->by_name));
	for (size_t i = 0; i < es->nsyms; i++, n++)
		es->by_name[n] =
		    (struct elf_name){ es->syms[i].name, es->syms[i].addr, es->syms[i].size, n };
	for (size_t i = 0; i < es->nobjs; i++, n++)
		es->by_name[n] =
		    (struct elf_name){ es->objs[i].name, es->objs[i].addr, es->objs[i].size, n };
	qsort(es->by_name, n, sizeof(*es->by_name), cmp_name);
	es->nby_name = n;
}

static int load(struct elf_syms *es, int fd, bool segments, const char **err)
{
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t nph, shstrndx;
	Elf *elf;
	int ret = -1;

	if (init_libelf()) {
		*err = "libelf initialisation failed";
		return -1;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		*err = "not an ELF file";
		goto cleanup;
	}
	if (segments) {
		if (elf_getphdrnum(elf, &nph)) {
			*err = "no program headers";
			goto cleanup;
		}
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
				continue;
			es->segs = xrealloc(es->segs, (es->nsegs + 1) * sizeof(*es->segs));
			es->segs[es->nsegs++] =
			    (struct elf_seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
		}
	}
	if (elf_getshdrstrndx(elf, &shstrndx))
		shstrndx = 0;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			es->has_symtab = true;
			read_symbols(es, elf, scn, &sh);
		} else if (sh.sh_type == SHT_DYNSYM) {
			read_symbols(es, elf, scn, &sh);
		} else if (sh.sh_type == SHT_NOTE && segments && !es->build_id[0]) {
			read_build_id(es, elf, scn);
		} else if (segments && !es->starts && sh.sh_type == SHT_PROGBITS) {
			const char *name = elf_strptr(elf, shstrndx, sh.sh_name);

			if (name && !strcmp(name, ".eh_frame_hdr"))
				read_eh_frame_hdr(es, scn, &sh);
		}
	}
	finish_symbols(es);
	index_names(es);
	ret = 0;
cleanup:
	if (elf)
		elf_end(elf);
	return ret;
}

struct elf_syms *elf_syms__open_fd(int fd, const char **err)
{
	struct elf_syms *es = xcalloc(1, sizeof(*es));
	const char *dummy;

	if (!err)
		err = &dummy;
	if (load(es, fd, true, err)) {
		elf_syms__free(es);
		return NULL;
	}
	return es;
}

struct elf_syms *elf_syms__open(const char *path, const char **err)
{
	struct elf_syms *es;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (err)
			*err = "cannot open file";
		return NULL;
	}
	es = elf_syms__open_fd(fd, err);
	close(fd);
	return es;
}

int elf_syms__add_symbols_fd(struct elf_syms *es, int fd)
{
	const char *err;
	bool had = es->has_symtab;
	int ret = load(es, fd, false, &err);

	es->has_symtab |= had;
	return ret;
}

void elf_syms__free(struct elf_syms *es)
{
	if (!es)
		return;
	for (size_t i = 0; i < es->nnames; i++)
		free(es->names[i]);
	free(es->names);
	free(es->syms);
	free(es->objs);
	free(es->by_name);
	free(es->starts);
	free(es->segs);
	free(es);
}

int elf_syms__offset_to_vaddr(const struct elf_syms *es, uint64_t off, uint64_t *vaddr)
{
	for (size_t i = 0; i < es->nsegs; i++) {
		const struct elf_seg *s = &es->segs[i];

		if (off >= s->offset && off < s->offset + s->filesz) {
			*vaddr = off - s->offset + s->vaddr;
			return 0;
		}
	}
	return -1;
}

int elf_syms__vaddr_to_offset(const struct elf_syms *es, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < es->nsegs; i++) {
		const struct elf_seg *s = &es->segs[i];

		if (vaddr >= s->vaddr && vaddr < s->vaddr + s->filesz) {
			*off = vaddr - s->vaddr + s->offset;
			return 0;
		}
	}
	return -1;
}

const char *elf_syms__lookup(const struct elf_syms *es, uint64_t vaddr, uint64_t *sym_off)
{
	size_t lo = 0, hi = es->nsyms;
	const struct elf_sym *s;

	/* Last symbol starting at or below vaddr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (es->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	s = &es->syms[lo - 1];
	if (vaddr - s->addr >= s->size)
		return NULL;
	if (sym_off)
		*sym_off = vaddr - s->addr;
	return s->name;
}

int elf_syms__function_start(const struct elf_syms *es, uint64_t vaddr, uint64_t *start)
{
	size_t lo = 0, hi = es->nstarts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (es->starts[mid] <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Past the last start, the end of the function is unknown. */
	if (lo == 0 || lo == es->nstarts)
		return -1;
	*start = es->starts[lo - 1];
	return 0;
}

uint64_t elf_syms__find(const struct elf_syms *es, const char *name)
{
	return elf_syms__find_size(es, name, NULL);
}

uint64_t elf_syms__find_size(const struct elf_syms *es, const char *name, uint64_t *size)
{
	size_t lo = 0, hi = es->nby_name;

	/* The first entry not below name: the one a scan would meet first. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(es->by_name[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == es->nby_name || strcmp(es->by_name[lo].name, name))
		return 0;
	if (size)
		*size = es->by_name[lo].size;
	return es->by_name[lo].addr;
}

size_t elf_syms__count(const struct elf_syms *es)
{
	return es->nsyms;
}

bool elf_syms__has_symtab(const struct elf_syms *es)
{
	return es->has_symtab;
}

const char *elf_syms__build_id(const struct elf_syms *es)
{
	return es->build_id;
}
