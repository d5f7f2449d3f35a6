/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_ELF_SYMS_H
#define RAMPA_ELF_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Function symbols of one ELF file (.symtab and .dynsym), sorted by address,
 * plus its loadable segments to turn file offsets into link-time addresses.
 */
struct elf_syms;

/* Read the ELF file open on fd (the fd stays the caller's). NULL and *err set
 * to a short reason when it is not a readable ELF file.
 */
struct elf_syms *elf_syms__open_fd(int fd, const char **err);
struct elf_syms *elf_syms__open(const char *path, const char **err);
/* Take the function symbols of a separate debug file (same link addresses). */
int elf_syms__add_symbols_fd(struct elf_syms *es, int fd);
void elf_syms__free(struct elf_syms *es);

/* File offset of a mapped byte -> link-time virtual address. */
int elf_syms__offset_to_vaddr(const struct elf_syms *es, uint64_t off, uint64_t *vaddr);
/* Link-time virtual address -> file offset (what a uprobe is placed by). */
int elf_syms__vaddr_to_offset(const struct elf_syms *es, uint64_t vaddr, uint64_t *off);
/* Symbol covering vaddr, or NULL; *sym_off (optional) gets vaddr - symbol start. */
const char *elf_syms__lookup(const struct elf_syms *es, uint64_t vaddr, uint64_t *sym_off);
/* Start of the function holding vaddr, from .eh_frame_hdr; for code no
 * symbol covers. 0 when found.
 */
int elf_syms__function_start(const struct elf_syms *es, uint64_t vaddr, uint64_t *start);
/* Link address of a function or global data symbol by exact name, 0 if absent. */
uint64_t elf_syms__find(const struct elf_syms *es, const char *name);
/* The same, for functions and data objects, with the symbol's size. */
uint64_t elf_syms__find_size(const struct elf_syms *es, const char *name, uint64_t *size);

size_t elf_syms__count(const struct elf_syms *es);
bool elf_syms__has_symtab(const struct elf_syms *es);
/* GNU build id as lowercase hex ("" if none). */
const char *elf_syms__build_id(const struct elf_syms *es);

#endif
