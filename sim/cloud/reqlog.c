/* JSON-lines request log (see reqlog.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/cloud/reqlog.h"
#include "ssrp/sys/error.h"

struct cloud_reqlog {
	pthread_mutex_t lock;
	int fd;
};

int cloud_reqlog_open(cloud_reqlog **out, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1)
		return ssrp_error_set(SSRP_E_IO, "cannot open the request log %s: %s", path,
				      strerror(errno));
	cloud_reqlog *log = calloc(1, sizeof *log);
	if (!log) {
		close(fd);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for the request log");
	}
	pthread_mutex_init(&log->lock, NULL);
	log->fd = fd;
	*out = log;
	return SSRP_OK;
}

void cloud_reqlog_close(cloud_reqlog *log)
{
	if (!log)
		return;
	close(log->fd);
	pthread_mutex_destroy(&log->lock);
	free(log);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned min;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, min = 0x80;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	unsigned cp = p[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

typedef struct out_buf {
	char *p;
	size_t cap, len;
} out_buf;

static void put(out_buf *o, const char *s, size_t n)
{
	if (o->len + n >= o->cap)
		n = o->len + 1 < o->cap ? o->cap - o->len - 1 : 0;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void put_s(out_buf *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A JSON string (or null); invalid UTF-8 becomes U+FFFD so that every line
 * stays parseable whatever a client sent in its path. */
static void put_json(out_buf *o, const char *s)
{
	if (!s) {
		put_s(o, "null");
		return;
	}
	put_s(o, "\"");
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	while (n) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(o, esc, 2);
			p++, n--;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			put(o, esc, 6);
			p++, n--;
		} else if (*p < 0x80) {
			put(o, (const char *)p, 1);
			p++, n--;
		} else {
			size_t l = utf8_seq(p, n);
			if (l) {
				put(o, (const char *)p, l);
				p += l, n -= l;
			} else {
				put_s(o, "\\ufffd");
				p++, n--;
			}
		}
	}
	put_s(o, "\"");
}

size_t cloud_reqlog_format(char *buf, size_t cap, const cloud_reqlog_entry *e, const char *time_iso)
{
	out_buf o = {buf, cap, 0};
	char num[64];
	if (cap == 0)
		return 0;
	buf[0] = '\0';
	put_s(&o, "{\"time\":");
	put_json(&o, time_iso);
	put_s(&o, ",\"request_id\":");
	put_json(&o, e->request_id);
	put_s(&o, ",\"identity\":");
	put_json(&o, e->identity && *e->identity ? e->identity : NULL);
	put_s(&o, ",\"client_addr\":");
	put_json(&o, e->client_addr);
	put_s(&o, ",\"method\":");
	put_json(&o, e->method);
	put_s(&o, ",\"host\":");
	put_json(&o, e->host);
	put_s(&o, ",\"path\":");
	put_json(&o, e->path);
	snprintf(num, sizeof num, ",\"status\":%d,\"ms\":%.3f", e->status, e->ms);
	put_s(&o, num);
	put_s(&o, ",\"fault\":");
	put_json(&o, e->fault && *e->fault ? e->fault : NULL);
	put_s(&o, e->early_retry ? ",\"early_retry\":true}" : ",\"early_retry\":false}");
	return o.len;
}

void cloud_reqlog_write(cloud_reqlog *log, const cloud_reqlog_entry *e)
{
	if (!log)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[48], secs[32];
	strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, sizeof when, "%s.%03uZ", secs, (unsigned)(ts.tv_nsec / 1000000L) % 1000u);
	char line[16384];
	/* The server cuts paths to 1 KiB and identities are short, so even
	 * fully escaped (6 bytes a byte) a line fits; keep room for '\n'. */
	size_t n = cloud_reqlog_format(line, sizeof line - 1, e, when);
	line[n++] = '\n';
	pthread_mutex_lock(&log->lock);
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(log->fd, line + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	pthread_mutex_unlock(&log->lock);
}
