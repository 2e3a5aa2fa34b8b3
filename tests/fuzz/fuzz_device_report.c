/* libFuzzer: what arrives from devices and files (escrow/device_report.c,
 * escrow/key_reads.c). The first byte chooses: the wire's "report" member
 * (a report that parses has GUID protectors, at most the bound, and
 * re-encodes to itself), the service's cache file (what loads is sorted,
 * one entry per device, and writes back to text that loads the same), or
 * an audit log (every line counted once at most). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/device_report.h"
#include "escrow/key_reads.h"
#include "hal/mem.h"

static void wire(const char *s, size_t n)
{
	cJSON *v = cJSON_ParseWithLength(s, n);
	ssrp_device_report r;
	if (ssrp_device_report_parse(v, &r) == 0) {
		if (r.n > SSRP_DEVICE_REPORT_MAX_PROTECTORS)
			abort();
		for (size_t i = 0; i < r.n; i++)
			if (strlen(r.protectors[i]) != 38 || r.protectors[i][0] != '{')
				abort();
		cJSON *j = ssrp_device_report_json(&r);
		ssrp_device_report again;
		if (!j || ssrp_device_report_parse(j, &again) != 0 || memcmp(&r, &again, sizeof r))
			abort();
		cJSON_Delete(j);
	}
	cJSON_Delete(v);
}

static void cache(const char *s, size_t n)
{
	ssrp_device_reports c = {0}, back = {0};
	size_t skipped, skipped2;
	char why[200];
	if (ssrp_device_reports_parse(&c, s, n, "f", &skipped, why, sizeof why) == 0) {
		for (size_t i = 1; i < c.n; i++)
			if (strcmp(c.v[i - 1]->device_id, c.v[i]->device_id) >= 0)
				abort();
		size_t len = 0;
		char *text = ssrp_device_reports_text(&c, &len);
		if (!text || ssrp_device_reports_parse(&back, text, len, "f", &skipped2, why,
						       sizeof why) != 0 ||
		    skipped2 || back.n != c.n)
			abort();
		for (size_t i = 0; i < c.n; i++)
			if (memcmp(c.v[i], back.v[i], sizeof *c.v[i]))
				abort();
		ssrp_free(text);
	} else if (c.n) {
		abort();
	}
	ssrp_device_reports_free(&c);
	ssrp_device_reports_free(&back);
}

static void audit(const char *s, size_t n)
{
	FILE *f = fmemopen((void *)s, n, "rb");
	if (!f)
		return;
	ssrp_key_reads kr;
	unsigned long lines = 1;
	for (size_t i = 0; i < n; i++)
		lines += s[i] == '\n';
	if (ssrp_key_reads_count_stream(f, 0, 2000000000, &kr) != 0 ||
	    kr.reads + kr.reads_other + kr.other + kr.bad > lines || (kr.bad && !kr.first_bad))
		abort();
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	switch (data[0] % 3) {
	case 0: wire(s, n); break;
	case 1: cache(s, n); break;
	default: audit(s, n); break;
	}
	return 0;
}
