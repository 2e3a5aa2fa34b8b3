/* The configuration's "assoc.serve" member: the limits of `ssrp assoc
 * serve` (escrow/config.h). */
#include <stdio.h>
#include <string.h>

#include "escrow/config_private.h"
#include "ssrp/sys/error.h"

void ssrp_config_serve_defaults(ssrp_assoc_serve_limits *s)
{
	s->version = SSRP_ASSOC_SERVE_LIMITS_VERSION;
	s->handshake_timeout_s = 5;
	s->idle_timeout_s = 30;
	s->max_connections = 4096;
	s->per_address = 64;
	s->reserve = 512;
	s->queue_max = 20000;
	s->batch_max = 100;
	s->batch_wait_ms = 200;
	s->refusal_log_interval_s = 60;
}

typedef struct serve_field {
	const char *name;
	size_t offset;
	unsigned min, max;
} serve_field;

static const serve_field fields[] = {
	{"handshake_timeout_s", offsetof(ssrp_assoc_serve_limits, handshake_timeout_s), 1, 300},
	{"idle_timeout_s", offsetof(ssrp_assoc_serve_limits, idle_timeout_s), 1, 3600},
	{"max_connections", offsetof(ssrp_assoc_serve_limits, max_connections), 8, 1000000},
	{"per_address", offsetof(ssrp_assoc_serve_limits, per_address), 1, 1000000},
	{"reserve", offsetof(ssrp_assoc_serve_limits, reserve), 0, 1000000},
	{"queue_max", offsetof(ssrp_assoc_serve_limits, queue_max), 1, 10000000},
	{"batch_max", offsetof(ssrp_assoc_serve_limits, batch_max), 1, 100},
	{"batch_wait_ms", offsetof(ssrp_assoc_serve_limits, batch_wait_ms), 0, 10000},
	{"refusal_log_interval_s", offsetof(ssrp_assoc_serve_limits, refusal_log_interval_s), 1,
	 86400},
};

int ssrp_config_parse_serve(ssrp_assoc_serve_limits *s, const cJSON *obj, const char *origin)
{
	if (!cJSON_IsObject(obj))
		return ssrp_error_set(SSRP_E_INVALID, "%s: \"assoc.serve\" must be an object",
				      origin);
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		const serve_field *f = NULL;
		for (size_t i = 0; i < sizeof fields / sizeof *fields && !f; i++)
			if (!strcmp(fields[i].name, it->string))
				f = &fields[i];
		if (!f)
			return ssrp_error_set(SSRP_E_INVALID,
					      "%s: unknown member \"assoc.serve.%.40s\"", origin,
					      it->string);
		if (!cJSON_IsNumber(it) || it->valuedouble < f->min || it->valuedouble > f->max ||
		    it->valuedouble != (double)(unsigned)it->valuedouble)
			return ssrp_error_set(SSRP_E_INVALID,
					      "%s: \"assoc.serve.%s\" must be a whole number from %u "
					      "to %u",
					      origin, f->name, f->min, f->max);
		*(unsigned *)(void *)((char *)s + f->offset) = (unsigned)it->valuedouble;
	}
	if (s->reserve >= s->max_connections)
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s: \"assoc.serve.reserve\" (%u) must be below "
				      "\"assoc.serve.max_connections\" (%u)",
				      origin, s->reserve, s->max_connections);
	return SSRP_OK;
}
