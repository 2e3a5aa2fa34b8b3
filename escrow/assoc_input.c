/* escrow/assoc_util.h: the batch input file, JSON lines or CSV. */
#include <stdio.h>
#include <string.h>

#include "escrow/assoc_util.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

#define MAX_USER_BYTES 256

typedef struct input_priv {
	ssrp_assoc_input pub;
	size_t cap;
	char **strings; /* everything the jobs point at */
	size_t n_strings, cap_strings;
} input_priv;

void ssrp_assoc_input_free(ssrp_assoc_input *in)
{
	input_priv *p = (input_priv *)in;
	if (!p)
		return;
	for (size_t i = 0; i < p->n_strings; i++)
		ssrp_free(p->strings[i]);
	ssrp_free(p->strings);
	for (size_t i = 0; i < p->pub.n; i++)
		ssrp_free((void *)p->pub.jobs[i].users);
	ssrp_free(p->pub.jobs);
	ssrp_free(p);
}

static char *keep(input_priv *p, const char *s, size_t n)
{
	if (p->n_strings == p->cap_strings) {
		size_t c = p->cap_strings ? 2 * p->cap_strings : 64;
		char **s2 = ssrp_realloc(p->strings, c * sizeof *s2);
		if (!s2)
			return NULL;
		p->strings = s2;
		p->cap_strings = c;
	}
	char *copy = ssrp_malloc(n + 1);
	if (!copy)
		return NULL;
	memcpy(copy, s, n);
	copy[n] = '\0';
	p->strings[p->n_strings++] = copy;
	return copy;
}

static int add_job(input_priv *p, const char *dev, size_t dl, const char *const *users,
		   const size_t *lens, size_t n)
{
	if (p->pub.n == SSRP_ASSOC_INPUT_MAX_JOBS)
		return ssrp_error_set(SSRP_E_FORMAT, "more than %u devices", SSRP_ASSOC_INPUT_MAX_JOBS);
	if (p->pub.n == p->cap) {
		size_t c = p->cap ? 2 * p->cap : 64;
		ssrp_assoc_job *j = ssrp_realloc(p->pub.jobs, c * sizeof *j);
		if (!j)
			return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		p->pub.jobs = j;
		p->cap = c;
	}
	const char **list = ssrp_calloc(n, sizeof *list);
	const char *d = list ? keep(p, dev, dl) : NULL;
	if (!d) {
		ssrp_free(list);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	/* the job owns its list from here, so a failure below frees it */
	p->pub.jobs[p->pub.n++] = (ssrp_assoc_job){.device_id = d, .users = list, .n_users = n};
	for (size_t i = 0; i < n; i++)
		if (!(list[i] = keep(p, users[i], lens[i])))
			return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	p->pub.n_users += n;
	return SSRP_OK;
}

static int json_line(input_priv *p, const char *s, size_t n)
{
	ssrp_assoc_request *r = NULL;
	int rc = ssrp_assoc_request_parse(&r, s, n);
	if (rc)
		return rc;
	size_t lens[SSRP_ASSOC_MAX_USERS];
	for (size_t i = 0; i < r->n_users; i++)
		lens[i] = strlen(r->users[i]);
	rc = add_job(p, r->device_id, strlen(r->device_id), (const char *const *)r->users, lens,
		     r->n_users);
	ssrp_assoc_request_free(r);
	return rc;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t'))
		(*s)++, (*n)--;
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static int csv_line(input_priv *p, const char *s, size_t n)
{
	const char *field[1 + SSRP_ASSOC_MAX_USERS];
	size_t len[1 + SSRP_ASSOC_MAX_USERS], k = 0;
	for (size_t start = 0;;) {
		size_t end = start;
		while (end < n && s[end] != ',')
			end++;
		if (k == 1 + SSRP_ASSOC_MAX_USERS)
			return ssrp_error_set(SSRP_E_FORMAT, "more than %d users", SSRP_ASSOC_MAX_USERS);
		field[k] = s + start;
		len[k] = end - start;
		trim(&field[k], &len[k]);
		k++;
		if (end >= n)
			break;
		start = end + 1;
	}
	char dev[40];
	if (len[0] != 36)
		return ssrp_error_set(SSRP_E_FORMAT, "the deviceId must be a GUID");
	memcpy(dev, field[0], 36);
	dev[36] = '\0';
	if (!ssrp_guid_is_bare(dev))
		return ssrp_error_set(SSRP_E_FORMAT, "the deviceId must be a GUID");
	if (k < 2)
		return ssrp_error_set(SSRP_E_FORMAT, "no user after the deviceId");
	for (size_t i = 1; i < k; i++) {
		if (!len[i] || len[i] > MAX_USER_BYTES)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "user %zu must be a non-empty name of at most %d bytes",
					      i, MAX_USER_BYTES);
		for (size_t c = 0; c < len[i]; c++)
			if ((unsigned char)field[i][c] < 0x20 || field[i][c] == 0x7f ||
			    field[i][c] == '"')
				return ssrp_error_set(SSRP_E_FORMAT,
						      "user %zu holds a control character or a quote", i);
	}
	return add_job(p, field[0], 36, field + 1, len + 1, k - 1);
}

int ssrp_assoc_input_parse(ssrp_assoc_input **out, const char *text, size_t len)
{
	if (!out || (!text && len))
		return ssrp_error_set(SSRP_E_INVALID, "assoc: no input or output");
	*out = NULL;
	if (len > SSRP_ASSOC_INPUT_MAX_BYTES)
		return ssrp_error_set(SSRP_E_FORMAT, "the input is larger than %u MiB",
				      SSRP_ASSOC_INPUT_MAX_BYTES >> 20);
	input_priv *p = ssrp_calloc(1, sizeof *p);
	if (!p)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	size_t line = 0;
	int rc = SSRP_OK;
	for (size_t pos = 0; pos < len && !rc;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *s = text + pos;
		size_t n = end - pos;
		pos = end + 1;
		line++;
		if (n && s[n - 1] == '\r')
			n--;
		trim(&s, &n);
		if (!n || s[0] == '#')
			continue;
		if (memchr(s, '\0', n)) {
			rc = ssrp_error_set(SSRP_E_FORMAT, "holds a NUL byte");
		} else if (s[0] == '{') {
			rc = json_line(p, s, n);
		} else if (n >= 8 && !memcmp(s, "deviceId", 8)) {
			continue; /* a CSV header */
		} else {
			rc = csv_line(p, s, n);
		}
		if (rc)
			rc = ssrp_error_prefix(rc, "line %zu", line);
	}
	if (rc) {
		ssrp_assoc_input_free(&p->pub);
		return rc;
	}
	*out = &p->pub;
	return SSRP_OK;
}
