/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the agent (src/builtin-agent.c, src/agent_config.c): its options
 * and their defaults.
 */
#ifndef RAMPA_AGENT_H
#define RAMPA_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "push.h"

#define AGENT_DEFAULT_HZ      19
#define AGENT_MAX_CONFIG_ARGS 256
#define AGENT_FLUSH_TIMEOUT   5.0 /* seconds SIGTERM waits for the server */
#define AGENT_DEFAULT_AGE     (7 * 86400.0)
#define AGENT_DEFAULT_SIZE    (1ull << 30)
#define AGENT_DEFAULT_QUEUE   (256ull << 20)
#define AGENT_MAX_PROCS	      65536 /* cached process descriptions */
#define AGENT_PRUNE_SEC	      60.0  /* seconds between retention passes */
#define AGENT_STATUS_SERVICES 64    /* services (and modes) the status lists */
/* The longest the idle agent sleeps; windows and drains wake it sooner. */
#define AGENT_SLEEP_MAX_SEC 60.0

#define AGENT_MAX_MODES 5 /* cpu, wall, offcpu, gil, gil-wait */

struct agent_opts {
	unsigned int hz;
	int modes[AGENT_MAX_MODES]; /* enum session_mode, each once, in --modes order */
	int nmodes;
	double interval;
	const char *match;
	bool all_processes, no_store, status, quiet;
	const char *store;
	double retention_age;
	uint64_t retention_size;
	struct push_opts push;
	const char *config;
};

/* o from argv, then from --config FILE when given (argv wins). *keep and
 * *cargs hold the config's text and arguments, which o points into: free
 * them with agent__config_free() when o is no longer used. 0, 1 for --help,
 * or an exit status after one error line.
 */
int agent__load_opts(struct agent_opts *o, int argc, char **argv, char **keep, char ***cargs);
void agent__config_free(char *keep, char **cargs);

#endif
