/* escrow/audit.h: one JSON line per decision or refusal, to a file opened
 * O_APPEND (one write(2) per line), to syslog, or to stderr. */
#include "escrow/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "escrow/assoc_util.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

typedef enum { SINK_FILE, SINK_SYSLOG, SINK_STDERR } sink_kind;

struct ssrp_audit {
	sink_kind kind;
	int fd;
	char *path;
	pthread_mutex_t lock;
};

int ssrp_audit_open(ssrp_audit **out, const char *spec)
{
	if (!out || !spec || !spec[0])
		return ssrp_error_set(SSRP_E_INVALID, "audit: no destination given");
	*out = NULL;
	ssrp_audit *a = ssrp_calloc(1, sizeof *a);
	if (!a)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	a->fd = -1;
	if (!strcmp(spec, "-")) {
		a->kind = SINK_STDERR;
	} else if (!strcmp(spec, "syslog")) {
		a->kind = SINK_SYSLOG;
		openlog("ssrp-assoc", LOG_PID, LOG_AUTH);
	} else {
		a->kind = SINK_FILE;
		a->fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (a->fd < 0) {
			int e = errno;
			ssrp_free(a);
			return ssrp_error_set(SSRP_E_IO, "cannot open the audit file %s: %s", spec,
					      strerror(e));
		}
		if (!(a->path = ssrp_strdup(spec))) {
			close(a->fd);
			ssrp_free(a);
			return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		}
	}
	pthread_mutex_init(&a->lock, NULL);
	*out = a;
	return SSRP_OK;
}

void ssrp_audit_close(ssrp_audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	pthread_mutex_destroy(&a->lock);
	ssrp_free(a->path);
	ssrp_free(a);
}

static void utc_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *s(const char *v)
{
	return v ? v : "";
}

/* cJSON's printed text, copied to our heap with room for a newline. */
static char *print_line(cJSON *o)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!text)
		return NULL;
	size_t n = strlen(text);
	char *copy = ssrp_malloc(n + 2);
	if (copy)
		memcpy(copy, text, n + 1);
	cJSON_free(text);
	return copy;
}

char *ssrp_audit_decision_json(const ssrp_assoc_decision *d, const char *time)
{
	if (!d)
		return NULL;
	char now[32];
	if (!time) {
		utc_now(now);
		time = now;
	}
	cJSON *o = cJSON_CreateObject();
	int ok = o && cJSON_AddStringToObject(o, "time", time) &&
		 cJSON_AddStringToObject(o, "requester", s(d->requester)) &&
		 cJSON_AddStringToObject(o, "event", "decision") &&
		 cJSON_AddStringToObject(o, "device", s(d->device_id)) &&
		 cJSON_AddStringToObject(o, "device_name", s(d->device_name)) &&
		 cJSON_AddStringToObject(o, "user", s(d->user)) &&
		 cJSON_AddStringToObject(o, "upn", s(d->upn)) &&
		 cJSON_AddStringToObject(o, "relation", s(d->relation)) &&
		 cJSON_AddStringToObject(o, "outcome", ssrp_assoc_outcome_name(d->outcome)) &&
		 cJSON_AddStringToObject(o, "licence", ssrp_assoc_licence_name(d->licence)) &&
		 cJSON_AddStringToObject(o, "licence_plan", s(d->licence_plan)) &&
		 cJSON_AddBoolToObject(o, "dry_run", d->dry_run) &&
		 cJSON_AddStringToObject(o, "detail", s(d->detail));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return print_line(o);
}

static int emit(ssrp_audit *a, char *line)
{
	if (!line)
		return ssrp_error_set(SSRP_E_NOMEM, "audit: out of memory");
	size_t n = strlen(line);
	int rc = SSRP_OK;
	pthread_mutex_lock(&a->lock);
	if (a->kind == SINK_SYSLOG) {
		syslog(LOG_INFO, "%s", line);
	} else {
		line[n++] = '\n';
		int fd = a->kind == SINK_FILE ? a->fd : STDERR_FILENO;
		/* one write(2): O_APPEND keeps lines whole between processes */
		ssize_t w;
		do
			w = write(fd, line, n);
		while (w < 0 && errno == EINTR);
		if (w != (ssize_t)n)
			rc = ssrp_error_set(SSRP_E_IO, "cannot write the audit line to %s: %s",
					    a->kind == SINK_FILE ? a->path : "stderr",
					    w < 0 ? strerror(errno) : "short write");
	}
	pthread_mutex_unlock(&a->lock);
	ssrp_free(line);
	return rc;
}

int ssrp_audit_decision(ssrp_audit *a, const ssrp_assoc_decision *d)
{
	if (!a || !d)
		return ssrp_error_set(SSRP_E_INVALID, "audit: no sink or decision");
	return emit(a, ssrp_audit_decision_json(d, NULL));
}

int ssrp_audit_event(ssrp_audit *a, const char *requester, const char *event, const char *device_id,
		     const char *detail)
{
	if (!a || !event)
		return ssrp_error_set(SSRP_E_INVALID, "audit: no sink or event");
	char now[32];
	utc_now(now);
	cJSON *o = cJSON_CreateObject();
	int ok = o && cJSON_AddStringToObject(o, "time", now) &&
		 cJSON_AddStringToObject(o, "requester", s(requester)) &&
		 cJSON_AddStringToObject(o, "event", event) &&
		 (!device_id || cJSON_AddStringToObject(o, "device", device_id)) &&
		 cJSON_AddStringToObject(o, "detail", s(detail));
	if (!ok) {
		cJSON_Delete(o);
		return ssrp_error_set(SSRP_E_NOMEM, "audit: out of memory");
	}
	return emit(a, print_line(o));
}
