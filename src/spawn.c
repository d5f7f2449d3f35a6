// SPDX-License-Identifier: GPL-2.0
/* -- CMD: the command a session runs, forked held on a pipe until sampling
 * starts, run as the sudo user unless --as-root, and ended with the profile
 * when it outlives it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "session_int.h"
#include "util.h"

/* Under sudo, CMD runs as the user who ran sudo (their uid, gid and
 * groups), not as root; --as-root keeps root. 0 and *uid == 0 for no change.
 */
static int sudo_user(struct session *se, uid_t *uid, gid_t *gid, gid_t **groups, int *ngroups)
{
	const char *uid_s = getenv("SUDO_UID"), *gid_s = getenv("SUDO_GID");
	unsigned long u, g;
	struct passwd *pw;
	int n = 64;

	*uid = 0;
	*ngroups = 0;
	*groups = NULL;
	if (se->o.as_root || geteuid() != 0 || !uid_s || !gid_s)
		return 0;
	if (parse_ulong(uid_s, 0, 0xfffffffe, &u) || parse_ulong(gid_s, 0, 0xfffffffe, &g))
		return session__check_sudo(&se->o);
	if (!u)
		return 0;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	pw = getpwuid(*uid);
	*groups = xcalloc(n, sizeof(gid_t));
	if (!pw || getgrouplist(pw->pw_name, *gid, *groups, &n) < 0) {
		/* No such user in the password database, or too many groups: the
		 * primary group alone, never root's groups.
		 */
		(*groups)[0] = *gid;
		n = 1;
	}
	*ngroups = n;
	return 0;
}

int session__check_sudo(const struct session_opts *o)
{
	const char *uid_s = getenv("SUDO_UID"), *gid_s = getenv("SUDO_GID");
	unsigned long u, g;

	if (!o->cmd || o->as_root || geteuid() != 0 || !uid_s || !gid_s)
		return 0;
	if (!parse_ulong(uid_s, 0, 0xfffffffe, &u) && !parse_ulong(gid_s, 0, 0xfffffffe, &g))
		return 0;
	p_err("SUDO_UID '%s' or SUDO_GID '%s' is not a user id (fix the environment, or "
	      "pass --as-root to run the command as root)",
	      uid_s, gid_s);
	return -EINVAL;
}

/* Fork CMD stopped on a pipe; it execs once start_child() releases it. */
int spawn__child(struct session *se)
{
	int go[2], errp[2], ngroups, ret;
	gid_t gid = 0, *groups;
	uid_t uid;
	pid_t pid;

	ret = sudo_user(se, &uid, &gid, &groups, &ngroups);
	if (ret)
		return ret;
	if (uid && !se->o.quiet)
		p_info("running '%s' as SUDO_UID %d, not root (--as-root keeps root)", se->o.cmd[0],
		       (int)uid);
	else if (se->o.as_root && getenv("SUDO_UID") && geteuid() == 0 && !se->o.quiet)
		p_info("running '%s' as root (--as-root)", se->o.cmd[0]);

	if (pipe2(go, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		ret = -errno;
		p_err("cannot create a pipe: %s", strerror(-ret));
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		p_err("cannot fork: %s", strerror(-ret));
		free(groups);
		return ret;
	}
	if (pid == 0) {
		char c;
		int e;

		close(go[1]);
		close(errp[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (read(go[0], &c, 1) != 1)
			_exit(EXIT_NOEXEC);
		if (uid && (setgroups(ngroups, groups) || setgid(gid) || setuid(uid))) {
			e = -errno; /* negative: the drop failed, not the exec */
			if (write(errp[1], &e, sizeof(e)) < 0)
				_exit(EXIT_NOEXEC);
			_exit(EXIT_NOEXEC);
		}
		execvp(se->o.cmd[0], se->o.cmd);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(EXIT_NOEXEC);
		_exit(EXIT_NOEXEC);
	}
	free(groups);
	close(go[0]);
	close(errp[1]);
	se->child = pid;
	se->go_fd = go[1];
	se->err_fd = errp[0];
	return 0;
}

int spawn__release(struct session *se)
{
	ssize_t n;
	int e = 0;

	struct sigaction ign = { .sa_handler = SIG_IGN }, old;

	/* CMD may be dead already (a Ctrl-C to the process group during
	 * attach): EPIPE then, not SIGPIPE; its exit is handled as any other.
	 */
	sigaction(SIGPIPE, &ign, &old);
	n = write(se->go_fd, "g", 1);
	sigaction(SIGPIPE, &old, NULL);
	if (n < 0)
		p_debug("'%s' was gone before its start: %s", se->o.cmd[0], strerror(errno));
	close(se->go_fd);
	se->go_fd = -1;
	/* EOF on the CLOEXEC pipe means exec succeeded. */
	do
		n = read(se->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(se->err_fd);
	se->err_fd = -1;
	if (n == sizeof(e) && e < 0) {
		p_err("cannot run '%s' as SUDO_UID %s: %s (pass --as-root to run it as root)",
		      se->o.cmd[0], getenv("SUDO_UID"), strerror(-e));
		waitpid(se->child, NULL, 0);
		se->child = 0;
		return -ENOEXEC;
	}
	if (n == sizeof(e)) {
		p_err("cannot run '%s': %s%s", se->o.cmd[0], strerror(e),
		      e == ENOENT ? " (check the command name and PATH)" : "");
		waitpid(se->child, NULL, 0);
		se->child = 0;
		return -ENOEXEC;
	}
	return 0;
}

/* The profile ended (deadline, signal, error) while CMD still runs: it was
 * started for the profile, so it ends with it. SIGTERM, and SIGKILL if it is
 * still there after CHILD_STOP_GRACE_SEC; never an unbounded wait.
 */
void spawn__stop(struct session *se)
{
	double until = now_sec() + CHILD_STOP_GRACE_SEC;
	const char *how = "SIGTERM";
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	size_t nd, cap = 0;
	pid_t got = 0, *d = NULL;

	/* Its descendants were profiled with it and end with it too: those
	 * below it now, and those of the tree that outlived their parents.
	 */
	nd = se->child_exited ? 0 : procfs__descendants(&se->child, 1, &d);
	for (size_t i = 0; i < se->tree.cap; i++) {
		pid_t pid = u64map_used(&se->tree, i) ? (pid_t)se->tree.slots[i].key : 0;
		bool known = false;

		for (size_t j = 0; j < nd && pid; j++)
			known |= d[j] == pid;
		if (!pid || pid == se->child || known || !procfs__alive(pid, 0))
			continue;
		grow_array((void **)&d, &cap, nd + 1, sizeof(*d));
		d[nd++] = pid;
	}
	if (se->child_exited)
		goto descendants;
	/* Ctrl-C on the terminal reached CMD too (same process group, in the
	 * foreground): it ends its own way (Python's KeyboardInterrupt), with
	 * its own status, unless it takes longer than the grace.
	 */
	if (se->interrupted && getpgid(se->child) == getpgrp() &&
	    tcgetpgrp(STDIN_FILENO) == getpgrp())
		while ((got = waitpid(se->child, &se->child_status, WNOHANG)) == 0 &&
		       now_sec() < until - CHILD_STOP_GRACE_SEC / 2)
			nanosleep(&tick, NULL);
	if (got == se->child) {
		se->child_exited = true;
		goto descendants;
	}
	kill(se->child, SIGTERM);
	for (size_t i = 0; i < nd; i++)
		kill(d[i], SIGTERM);
	while ((got = waitpid(se->child, &se->child_status, WNOHANG)) == 0 && now_sec() < until)
		nanosleep(&tick, NULL);
descendants:
	for (size_t i = 0; i < nd && se->child_exited; i++)
		kill(d[i], SIGTERM);
	for (size_t i = 0; i < nd; i++)
		while (procfs__alive(d[i], 0) && now_sec() < until)
			nanosleep(&tick, NULL);
	for (size_t i = 0; i < nd; i++)
		if (procfs__alive(d[i], 0) && !kill(d[i], SIGKILL))
			how = "SIGKILL";
	if (se->child_exited) {
		free(d);
		if (nd && !se->o.quiet)
			p_info("the profile ended before the descendants of the command: stopped "
			       "%zu with %s",
			       nd, how);
		return;
	}
	if (got != se->child) {
		kill(se->child, SIGKILL);
		how = "SIGKILL";
		while (waitpid(se->child, &se->child_status, 0) < 0 && errno == EINTR)
			;
	}
	free(d);
	if (!se->o.quiet &&
	    !(WIFSIGNALED(se->child_status) && WTERMSIG(se->child_status) == SIGINT))
		p_info("the profile ended before the command: stopped it (PID %d) and its %zu "
		       "descendant%s with %s",
		       (int)se->child, nd, nd == 1 ? "" : "s", how);
}
