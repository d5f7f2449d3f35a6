/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_DEMANGLE_H
#define RAMPA_DEMANGLE_H

#include <stddef.h>

/* name as people read it: C++ (_Z...) and Rust (legacy _ZN...17h<hash>E and
 * v0 _R...) symbols demangled by libiberty's cplus_demangle, the demangler
 * of binutils and GCC, with parameter types; anything else as it is. Into
 * buf (cut to len); returns buf, or name when there is nothing to demangle.
 */
const char *demangle(const char *name, char *buf, size_t len);

#endif
