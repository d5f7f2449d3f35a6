/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_LABELS_H
#define RAMPA_LABELS_H

#include <stddef.h>

#include "profile.h"

/* Frame labels for people: --short-paths and --no-lines of record, report
 * and diff.
 */
enum {
	LABEL_SHORT_PATHS = 1, /* strip the sys.path prefix of Python files */
	LABEL_NO_LINES = 2,    /* one frame per function, not per line */
};

#define LABEL_HELP                                                                         \
	"      --short-paths        Python files as imported: package/module.py for the\n" \
	"                           standard library and site-packages, relative to the\n" \
	"                           script's directory for the program's own files\n"      \
	"      --no-lines           one frame per Python function, its lines merged\n"

/* p's stacks under the new labels (stacks that become equal merge), with
 * p's meta; frames keep their kind (colours) whatever their new label.
 * p itself when flags is 0; otherwise a new profile to free.
 */
struct profile *labels__apply(struct profile *p, unsigned int flags);

/* file[0..len) of a Python frame as imported: the part after site-packages/
 * or dist-packages/, after lib/python3.X/, or after script_dir/ (NULL: none).
 * Its start and length, in file.
 */
const char *labels__short_path(const char *file, size_t len, const char *script_dir,
			       size_t *out_len);

/* "qualname (file.py:LINE)" as a flame graph box shows it: the function name
 * first, the file's base name after it; other names as they are. Into buf.
 */
const char *labels__box(const char *name, char *buf, size_t len);

#endif
