/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_KSYMS_H
#define RAMPA_KSYMS_H

#include <stdint.h>

/* Kernel symbols from /proc/kallsyms (or a file in the same format). */
struct ksyms;

struct ksyms *ksyms__load(const char *path);
/* Name of the text symbol covering addr, or NULL. */
const char *ksyms__lookup(const struct ksyms *ks, uint64_t addr);
/* True when every address reads as zero (kptr_restrict hides them). */
int ksyms__hidden(const struct ksyms *ks);
void ksyms__free(struct ksyms *ks);

#endif
