// SPDX-License-Identifier: GPL-2.0
/* The status line of long commands: see include/progress.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curses.h>
#include <term.h>

#include "progress.h"
#include "util.h"

#define PROGRESS_EVERY_SEC 1.0

static struct {
	bool on, shown;
	const char *erase; /* terminfo el: clear to the end of the line; NULL: spaces */
	size_t len;	   /* of the line shown, for erasing with spaces */
	double last;
} pg;

bool progress__enable(bool want)
{
	int err;

	pg.on = want && isatty(STDERR_FILENO);
	pg.erase = NULL;
	/* The terminal's own sequence; a terminal unknown to terminfo is
	 * erased with spaces.
	 */
	if (pg.on && setupterm(NULL, STDERR_FILENO, &err) == OK) {
		const char *el = tigetstr("el");

		if (el && el != (char *)-1)
			pg.erase = el;
	}
	pg.last = 0;
	util__set_msg_before(pg.on ? progress__clear : NULL);
	return pg.on;
}

bool progress__due(void)
{
	return pg.on && now_sec() - pg.last >= PROGRESS_EVERY_SEC;
}

static size_t term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) || !ws.ws_col)
		return 80;
	return ws.ws_col;
}

void progress__show(const char *fmt, ...)
{
	char line[512];
	size_t w = term_width();
	va_list ap;

	if (!pg.on)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One column short of the width: a full line would wrap on some terminals. */
	if (w > 1 && strlen(line) > w - 1)
		line[w - 1] = '\0';
	progress__clear();
	fputs(line, stderr);
	fflush(stderr);
	pg.len = strlen(line);
	pg.shown = true;
	pg.last = now_sec();
}

void progress__clear(void)
{
	if (!pg.shown)
		return;
	pg.shown = false;
	if (pg.erase)
		fprintf(stderr, "\r%s", pg.erase);
	else
		fprintf(stderr, "\r%*s\r", (int)pg.len, "");
	fflush(stderr);
}
