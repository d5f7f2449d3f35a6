/* SPDX-License-Identifier: GPL-2.0 */
/* One status line on stderr, rewritten in place while a long command runs
 * (record, gil-wait, mem): only when stderr is a terminal. Every message of
 * util.h (p_err, p_warn, p_info, p_debug) erases it first, so no message
 * ever shares a line with it; so does progress__clear() before other output.
 */
#ifndef RAMPA_PROGRESS_H
#define RAMPA_PROGRESS_H

#include <stdbool.h>

/* Show the line from now on when want is set and stderr is a terminal
 * (the terminal's erase-line sequence is looked up in terminfo); off
 * otherwise. Returns whether it is on.
 */
bool progress__enable(bool want);

/* Whether a new line is due: on, and the last one is at least a second
 * old (the line changes at most once a second).
 */
bool progress__due(void);

/* Replace the line with fmt (printf's, no newline; cut to the terminal's
 * width). Nothing when off.
 */
void progress__show(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Erase the line if shown; it comes back at the next progress__show(). */
void progress__clear(void);

#endif
