// SPDX-License-Identifier: GPL-2.0
/* gil-wait's bookkeeping in the session: who held the GIL behind each wait,
 * every thread of a GIL's process named in the table.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "capture_api.h"
#include "folded.h"
#include "gilwait.h"
#include "memtrack.h"
#include "procfs.h"
#include "profile.h"
#include "progress.h"
#include "python.h"
#include "pythreads.h"
#include "session_int.h"
#include "stacks.h"
#include "symbolize.h"
#include "unwind.h"
#include "util.h"

const char *session_thread_name_of(pid_t pid, pid_t tid, void *ctx)
{
	return pythreads__name(((struct session *)ctx)->pt, pid, tid);
}

pid_t session_holder_tid(struct session *se, pid_t pid, uint64_t tstate)
{
	pid_t tid;

	for (size_t i = 0; i < se->ntstates; i++)
		if (se->tstates[i].pid == pid && se->tstates[i].tstate == tstate)
			return se->tstates[i].tid;
	tid = python__tstate_tid(se->py, pid, tstate);
	if (!tid)
		return 0;
	grow_array((void **)&se->tstates, &se->tstates_cap, se->ntstates + 1, sizeof(*se->tstates));
	se->tstates[se->ntstates++] = (struct tstate_tid){ pid, tid, tstate };
	return tid;
}

/* Who held the GIL while this thread waited, and what Python code it ran. */
void session_gil_behind(struct session *se, const struct capture_sample *s)
{
	char where[FOLDED_MAX_FRAME + 1];
	const char *w = NULL;

	pid_t holder = s->holder ? session_holder_tid(se, s->pid, s->holder) : 0;

	/* Still the last holder itself: the GIL is being handed over, nobody has it. */
	if (holder == (pid_t)s->tid) {
		gilwait__behind(se->gil, s->pid, s->tid, 0, GILWAIT_HANDOFF, s->count);
		return;
	}
	if (s->holder_py && s->holder_py->depth) {
		python__frame_name(se->py, s->pid, &s->holder_py->frames[0], where, sizeof(where));
		w = where;
	}
	gilwait__behind(se->gil, s->pid, s->tid, holder, w, s->count);
}

void session_gil_thread_seen(__u32 tid, const struct gil_thread *t, void *ctx)
{
	gilwait__thread(((struct session *)ctx)->gil, t->pid, tid);
}

void session_gil_thread_stats(__u32 tid, const struct gil_thread *t, void *ctx)
{
	gilwait__stats(((struct session *)ctx)->gil, tid, t);
}

/* Threads of pid alive now. */
void session_gil_threads_alive(struct session *se, pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	while (dir && (de = readdir(dir)))
		if (atoi(de->d_name) > 0)
			gilwait__thread(se->gil, pid, atoi(de->d_name));
	if (dir)
		closedir(dir);
}
