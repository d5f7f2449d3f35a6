// SPDX-License-Identifier: GPL-2.0
/* Push windows to a Pyroscope ingest endpoint through an on-disk queue
 * (push.h). HTTP is libcurl's; the queue is a directory of files named
 * by a sequence number, each holding the query string on its first line
 * and the body after it.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "push.h"
#include "util.h"

#define QUEUE_SUFFIX ".ingest"

struct push {
	struct push_opts o;
	char *server, *queue_dir, *userpwd, *bearer;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* a window queued, a flush, or stop */
	pthread_cond_t idle; /* the queue emptied or an attempt failed */
	bool stop, retry_now, started;
	uint64_t next_seq;
	struct push_stats st;
	int attempts; /* finished attempts, for flush */
};

/* A credential file's first line, trailing blanks cut: malloc'd, or NULL
 * after one error line. Its content is never printed.
 */
static char *read_secret(const char *path, const char *what)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		p_err("cannot read %s file '%s': %s", what, path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	n = strlen(buf);
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = 0;
	if (!n) {
		p_err("%s file '%s' is empty", what, path);
		return NULL;
	}
	return xstrdup(buf);
}

struct qfile {
	uint64_t seq;
	uint64_t size;
};

static int cmp_seq(const void *a, const void *b)
{
	const struct qfile *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The queue's files in order; their number. Called with the lock held. */
static size_t scan_queue(struct push *ps, struct qfile **out)
{
	DIR *d = opendir(ps->queue_dir);
	struct qfile *q = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[PATH_MAX];
		unsigned long long seq;
		struct stat st;
		int len = 0;

		if (sscanf(e->d_name, "%16llu" QUEUE_SUFFIX "%n", &seq, &len) != 1 ||
		    e->d_name[len])
			continue;
		snprintf(path, sizeof(path), "%s/%s", ps->queue_dir, e->d_name);
		if (stat(path, &st))
			continue;
		grow_array((void **)&q, &cap, n + 1, sizeof(*q));
		q[n++] = (struct qfile){ seq, (uint64_t)st.st_size };
	}
	if (d)
		closedir(d);
	qsort(q, n, sizeof(*q), cmp_seq);
	ps->st.queued = n;
	ps->st.queued_bytes = 0;
	for (size_t i = 0; i < n; i++)
		ps->st.queued_bytes += q[i].size;
	*out = q;
	return n;
}

static void queue_path(struct push *ps, uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%016" PRIu64 QUEUE_SUFFIX, ps->queue_dir, seq);
}

static void set_error(struct push *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct push *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->st.last_error, sizeof(ps->st.last_error), fmt, ap);
	va_end(ap);
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	char *reply = ud;
	size_t have = strlen(reply), n = size * nmemb;

	/* The start of the answer, for the log line of a rejection. */
	if (have < 160)
		snprintf(reply + have, 161 - have, "%.*s", (int)(n < 160 - have ? n : 160 - have),
			 ptr);
	return n;
}

enum sent { SENT_OK, SENT_RETRY, SENT_REJECTED };

/* POST one queued window; *status gets the HTTP status (0: none). */
static enum sent send_one(struct push *ps, CURL *c, const char *query, const char *body, size_t len,
			  long *status, char *err, size_t errlen)
{
	char url[8192], errbuf[CURL_ERROR_SIZE] = "", reply[161] = "", hdr[512];
	struct curl_slist *h = NULL;
	CURLcode rc;

	snprintf(url, sizeof(url), "%s/ingest?%s", ps->server, query);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(ps->o.timeout * 1000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(ps->o.timeout * 1000));
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)reply);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "rampa-bpf-agent");
	/* TLS is verified (libcurl's default, said again so no one turns it off). */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ps->o.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, ps->o.ca_file);
	h = curl_slist_append(h, "Content-Type: application/octet-stream");
	if (ps->o.tenant) {
		snprintf(hdr, sizeof(hdr), "X-Scope-OrgID: %s", ps->o.tenant);
		h = curl_slist_append(h, hdr);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (ps->userpwd) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, ps->userpwd);
	} else if (ps->bearer) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, ps->bearer);
	}
	rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	*status = 0;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return SENT_RETRY;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 200 && *status < 300)
		return SENT_OK;
	reply[strcspn(reply, "\r\n")] = 0;
	text_safe(reply);
	snprintf(err, errlen, "HTTP %ld%s%s", *status, reply[0] ? ": " : "", reply);
	/* 408 and 429 ask to come back later; other 4xx will never be taken. */
	if (*status >= 400 && *status < 500 && *status != 408 && *status != 429)
		return SENT_REJECTED;
	return SENT_RETRY;
}

/* The file's query line and body, malloc'd in *buf; -1 if unreadable. */
static int read_queued(const char *path, char **buf, size_t *len, char **body)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *nl;

	if (!f)
		return -1;
	if (fstat(fileno(f), &st) || st.st_size <= 0 || st.st_size > (64 << 20)) {
		fclose(f);
		return -1;
	}
	*buf = xmalloc((size_t)st.st_size + 1);
	*len = fread(*buf, 1, (size_t)st.st_size, f);
	fclose(f);
	(*buf)[*len] = 0;
	nl = memchr(*buf, '\n', *len);
	if (!nl) {
		free(*buf);
		return -1;
	}
	*nl = 0;
	*body = nl + 1;
	*len -= (size_t)(nl + 1 - *buf);
	return 0;
}

static void wait_for(struct push *ps, double sec)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)sec;
	ts.tv_nsec += (long)((sec - (double)(time_t)sec) * 1e9);
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (!ps->stop && !ps->retry_now &&
	       pthread_cond_timedwait(&ps->wake, &ps->lock, &ts) != ETIMEDOUT)
		;
	ps->retry_now = false;
}

static void *sender(void *arg)
{
	struct push *ps = arg;
	CURL *c = curl_easy_init();
	double backoff = 1;

	pthread_mutex_lock(&ps->lock);
	while (!ps->stop) {
		struct qfile *q;
		size_t n = scan_queue(ps, &q), len;
		char path[PATH_MAX], err[512], *buf, *body;
		enum sent r;
		long status;

		if (!n) {
			free(q);
			pthread_cond_broadcast(&ps->idle);
			wait_for(ps, 1);
			continue;
		}
		queue_path(ps, q[0].seq, path, sizeof(path));
		free(q);
		if (read_queued(path, &buf, &len, &body)) {
			/* Half-written by a crash, or removed meanwhile. */
			if (!access(path, F_OK)) {
				p_warn("push: dropping unreadable queued window '%s'", path);
				unlink(path);
				ps->st.dropped++;
			}
			continue;
		}
		pthread_mutex_unlock(&ps->lock);
		r = send_one(ps, c, buf, body, len, &status, err, sizeof(err));
		pthread_mutex_lock(&ps->lock);
		free(buf);
		ps->attempts++;
		if (r == SENT_RETRY) {
			ps->st.failures++;
			set_error(ps, "%s", err);
			if (!ps->st.down)
				p_warn("push: cannot send to %s: %s; windows queue in %s and are "
				       "retried with back-off",
				       ps->server, err, ps->queue_dir);
			ps->st.down = true;
			pthread_cond_broadcast(&ps->idle);
			wait_for(ps, backoff);
			backoff = backoff * 2 > ps->o.retry_max ? ps->o.retry_max : backoff * 2;
			continue;
		}
		backoff = 1;
		if (ps->st.down)
			p_info("push: %s answers again; sending the queued windows", ps->server);
		ps->st.down = false;
		unlink(path);
		if (r == SENT_OK) {
			ps->st.sent++;
			ps->st.sent_bytes += len;
		} else {
			ps->st.rejected++;
			set_error(ps, "%s", err);
			p_warn("push: %s refused a window (%s): dropped, not retried (check the "
			       "server's limits and the agent's labels)",
			       ps->server, err);
		}
	}
	pthread_mutex_unlock(&ps->lock);
	curl_easy_cleanup(c);
	return NULL;
}

struct push *push__new(const struct push_opts *o)
{
	struct push *ps = xcalloc(1, sizeof(*ps));
	struct qfile *q;
	size_t n, l;
	static bool curl_ready;
	sigset_t block, old;
	int err;

	ps->o = *o;
	ps->server = xstrdup(o->server);
	l = strlen(ps->server);
	while (l && ps->server[l - 1] == '/')
		ps->server[--l] = 0;
	if (strncmp(ps->server, "http://", 7) && strncmp(ps->server, "https://", 8)) {
		p_err("invalid --server '%s' (give a URL like https://pyroscope:4040)", o->server);
		goto fail;
	}
	ps->queue_dir = xstrdup(o->queue_dir);
	if (o->basic_auth_file && o->bearer_token_file) {
		p_err("give one of --basic-auth-file and --bearer-token-file");
		goto fail;
	}
	if (o->basic_auth_file && !(ps->userpwd = read_secret(o->basic_auth_file, "basic auth")))
		goto fail;
	if (o->basic_auth_file && !strchr(ps->userpwd, ':')) {
		p_err("basic auth file '%s' must hold USER:PASSWORD on its first line",
		      o->basic_auth_file);
		goto fail;
	}
	if (o->bearer_token_file &&
	    !(ps->bearer = read_secret(o->bearer_token_file, "bearer token")))
		goto fail;
	if (mkdir_p(ps->queue_dir, 0750)) {
		p_err("cannot create queue directory '%s': %s (give --store a writable directory)",
		      ps->queue_dir, strerror(errno));
		goto fail;
	}
	if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT)) {
		p_err("cannot initialize libcurl");
		goto fail;
	}
	curl_ready = true;
	pthread_mutex_init(&ps->lock, NULL);
	pthread_cond_init(&ps->wake, NULL);
	pthread_cond_init(&ps->idle, NULL);
	n = scan_queue(ps, &q);
	ps->next_seq = n ? q[n - 1].seq + 1 : 1;
	free(q);
	if (n)
		p_info("push: %zu windows queued by a previous run, sending them first", n);
	/* Signals are the main thread's: its wait returns at SIGTERM or SIGHUP
	 * only if it is the one they interrupt (the thread and libcurl's
	 * resolver threads inherit this mask).
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	err = pthread_create(&ps->thread, NULL, sender, ps);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		p_err("cannot start the push thread");
		goto fail;
	}
	ps->started = true;
	return ps;
fail:
	push__free(ps);
	return NULL;
}

int push__enqueue(struct push *ps, const char *query, const void *body, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	struct qfile *q;
	size_t n, i = 0;
	FILE *f;
	int ok;

	pthread_mutex_lock(&ps->lock);
	queue_path(ps, ps->next_seq++, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	ok = f && fprintf(f, "%s\n", query) > 0 && fwrite(body, 1, len, f) == len;
	if (f && fclose(f))
		ok = 0;
	if (!ok || rename(tmp, path)) {
		p_err("push: cannot queue a window in '%s': %s (disk full?); window dropped",
		      ps->queue_dir, strerror(errno));
		unlink(tmp);
		ps->st.dropped++;
		pthread_mutex_unlock(&ps->lock);
		return -1;
	}
	/* The bound: the oldest go first, the newest is kept. */
	n = scan_queue(ps, &q);
	while (ps->o.queue_max_bytes && ps->st.queued_bytes > ps->o.queue_max_bytes && i + 1 < n) {
		char old[PATH_MAX];

		queue_path(ps, q[i].seq, old, sizeof(old));
		if (!unlink(old)) {
			ps->st.dropped++;
			ps->st.queued--;
			ps->st.queued_bytes -= q[i].size;
		}
		if (ps->st.dropped == 1 || !(ps->st.dropped % 100))
			p_warn("push: queue over %" PRIu64 " bytes: dropped its oldest window "
			       "(%" PRIu64 " so far)",
			       ps->o.queue_max_bytes, ps->st.dropped);
		i++;
	}
	free(q);
	pthread_cond_broadcast(&ps->wake);
	pthread_mutex_unlock(&ps->lock);
	return 0;
}

bool push__flush(struct push *ps, double timeout)
{
	double end = now_sec() + timeout;
	bool empty;

	pthread_mutex_lock(&ps->lock);
	ps->retry_now = true;
	pthread_cond_broadcast(&ps->wake);
	for (;;) {
		struct qfile *q;
		int seen = ps->attempts;
		struct timespec ts;

		empty = !scan_queue(ps, &q);
		free(q);
		if (empty || now_sec() >= end)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&ps->idle, &ps->lock, &ts);
		/* Failing again: no point waiting out the back-off. */
		if (ps->attempts > seen && ps->st.down)
			break;
	}
	pthread_mutex_unlock(&ps->lock);
	return empty;
}

void push__stats(struct push *ps, struct push_stats *out)
{
	pthread_mutex_lock(&ps->lock);
	*out = ps->st;
	pthread_mutex_unlock(&ps->lock);
}

void push__free(struct push *ps)
{
	if (!ps)
		return;
	if (ps->started) {
		pthread_mutex_lock(&ps->lock);
		ps->stop = true;
		pthread_cond_broadcast(&ps->wake);
		pthread_mutex_unlock(&ps->lock);
		pthread_join(ps->thread, NULL);
		pthread_mutex_destroy(&ps->lock);
		pthread_cond_destroy(&ps->wake);
		pthread_cond_destroy(&ps->idle);
	}
	if (ps->userpwd)
		memset(ps->userpwd, 0, strlen(ps->userpwd));
	if (ps->bearer)
		memset(ps->bearer, 0, strlen(ps->bearer));
	free(ps->userpwd);
	free(ps->bearer);
	free(ps->server);
	free(ps->queue_dir);
	free(ps);
}
