/* SPDX-License-Identifier: GPL-2.0 */
/* Windows pushed to a Pyroscope ingest endpoint (src/push.c), through an
 * on-disk queue: push__enqueue() writes a window as one file, a thread sends
 * the files in order with libcurl and removes each once the server took it.
 * A server down or slow leaves them queued (bounded by size: the oldest is
 * dropped first, and counted), retried with back-off; a restarted agent
 * sends what the previous one queued.
 */
#ifndef RAMPA_PUSH_H
#define RAMPA_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct push;

struct push_opts {
	const char *server;	       /* base URL: "https://pyroscope:4040" */
	const char *queue_dir;	       /* created when missing */
	const char *tenant;	       /* X-Scope-OrgID, NULL: none */
	const char *basic_auth_file;   /* "user:password", NULL: none */
	const char *bearer_token_file; /* a token, NULL: none */
	const char *ca_file;	       /* CA bundle for TLS, NULL: the system's */
	double timeout;		       /* seconds per request */
	double retry_max;	       /* seconds: the longest back-off */
	uint64_t queue_max_bytes;      /* 0: no bound */
};

struct push_stats {
	uint64_t sent, sent_bytes;
	uint64_t queued, queued_bytes; /* on disk now */
	uint64_t dropped;	       /* the queue was full: oldest dropped */
	uint64_t rejected;	       /* a 4xx answer: the window cannot be taken */
	uint64_t failures;	       /* attempts that failed and will be retried */
	bool down;		       /* the last attempt failed */
	char last_error[256];
};

/* Read the credential files, create the queue directory, start the sender.
 * NULL after one error line (a configuration error).
 */
struct push *push__new(const struct push_opts *o);

/* Queue one window: the ingest query string (without '?') and its body.
 * 0, or -1 after one error line (the window is counted as dropped).
 */
int push__enqueue(struct push *ps, const char *query, const void *body, size_t len);

/* Retry now and wait up to timeout seconds for the queue to empty: true
 * when it did.
 */
bool push__flush(struct push *ps, double timeout);

void push__stats(struct push *ps, struct push_stats *out);

/* Stop the sender (what is queued stays on disk). Accepts NULL. */
void push__free(struct push *ps);

#endif
