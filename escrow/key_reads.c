/* Key reads from an audit log (key_reads.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "escrow/drs.h"
#include "escrow/key_reads.h"
#include "hal/mem.h"
#include "hal/struct_version.h"
#include "ssrp/sys/error.h"

static void skip(ssrp_key_reads *out, unsigned long line, const char *why)
{
	if (!out->bad++) {
		out->first_bad = line;
		snprintf(out->first_bad_why, sizeof out->first_bad_why, "%s", why);
	}
}

static const char *text_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void one_line(ssrp_key_reads *out, unsigned long n, const char *s, size_t len,
		     int64_t since, int64_t until)
{
	size_t i = 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
		i++;
	if (i == len)
		return; /* an empty line */
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(s, len, &end, 0);
	while (o && end && end < s + len && (*end == ' ' || *end == '\t' || *end == '\r'))
		end++;
	if (!cJSON_IsObject(o) || !end || end != s + len) {
		skip(out, n, "not a JSON object");
		cJSON_Delete(o);
		return;
	}
	const char *act = text_of(o, "activityDisplayName");
	const char *when = text_of(o, "activityDateTime");
	if (!act) {
		act = text_of(o, "action");
		when = text_of(o, "time");
	}
	int64_t t = 0;
	if (!act) {
		skip(out, n, "neither \"activityDisplayName\" nor \"action\"");
	} else if (strcmp(act, SSRP_KEY_READ_ACTIVITY) != 0) {
		out->other++;
	} else if (!when || ssrp_iso8601_parse(when, &t) != 0) {
		skip(out, n, "a key read without a time (ISO 8601 with a zone)");
	} else if (t >= since && t <= until) {
		out->reads++;
	} else {
		out->reads_other++;
	}
	cJSON_Delete(o);
}

int ssrp_key_reads_count(const char *path, int64_t since, int64_t until, ssrp_key_reads *out)
{
	if (!path || !out)
		return ssrp_error_set(SSRP_E_INVALID, "key reads: no audit log or counts");
	int rc = ssrp_struct_version_check("ssrp_key_reads", out->version, SSRP_KEY_READS_VERSION,
					   "SSRP_KEY_READS_INIT");
	if (rc)
		return rc;
	FILE *f = fopen(path, "rb");
	if (!f)
		return ssrp_error_set(SSRP_E_IO, "cannot open the audit log '%s': %s", path,
				      strerror(errno));
	rc = ssrp_key_reads_count_stream(f, since, until, out);
	int failed = ferror(f);
	fclose(f);
	if (!rc && failed)
		rc = ssrp_error_set(SSRP_E_IO, "cannot read the audit log '%s'", path);
	return rc;
}

int ssrp_key_reads_count_stream(FILE *f, int64_t since, int64_t until, ssrp_key_reads *out)
{
	unsigned int version = out->version;
	memset(out, 0, sizeof *out);
	out->version = version;
	char *line = ssrp_malloc(SSRP_KEY_READS_MAX_LINE + 1);
	if (!line)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	unsigned long n = 0;
	size_t len = 0;
	int too_long = 0, c;
	while ((c = fgetc(f)) != EOF) {
		if (c != '\n') {
			if (len < SSRP_KEY_READS_MAX_LINE)
				line[len++] = (char)c;
			else
				too_long = 1;
			continue;
		}
		if (too_long)
			skip(out, ++n, "longer than 64 KiB");
		else
			one_line(out, ++n, line, len, since, until);
		len = 0;
		too_long = 0;
	}
	if (too_long)
		skip(out, ++n, "longer than 64 KiB");
	else if (len)
		one_line(out, ++n, line, len, since, until);
	ssrp_free(line);
	return SSRP_OK;
}
