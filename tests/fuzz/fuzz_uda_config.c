/* libFuzzer target: the settings of SCCM's user-device affinity
 * (hal/uda_config.c, the "windows" platform backend's config text) accept
 * only sccm_namespace, sccm_class and sccm_affinity, each at most once,
 * with values a WQL query and a namespace path can take (letters, digits,
 * _, inner single backslashes in the namespace, a class not starting with
 * a digit) and a known rule; whatever is accepted renders back to text
 * that parses the same; anything else is refused with SSRP_E_SPEC and a
 * message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/uda_config.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ok_chars(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || strchr(extra, *s)))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ssrp_uda_config c, again;
	int rc = ssrp_uda_config_parse(&c, text);
	free(text);
	if (rc != SSRP_OK) {
		if (rc != SSRP_E_SPEC || !ssrp_error_last()[0])
			abort();
		return 0;
	}
	size_t nl = strlen(c.ns);
	if (!nl || nl >= sizeof c.ns || !ok_chars(c.ns, "\\") || c.ns[0] == '\\' ||
	    c.ns[nl - 1] == '\\' || strstr(c.ns, "\\\\") || !c.cls[0] ||
	    strlen(c.cls) >= sizeof c.cls || !ok_chars(c.cls, "") ||
	    (c.cls[0] >= '0' && c.cls[0] <= '9') || (unsigned)c.rule > SSRP_UDA_OFF)
		abort();
	static const char *const rules[] = {"set", "any", "off"};
	char back[320];
	snprintf(back, sizeof back, "sccm_namespace=%s,sccm_class=%s,sccm_affinity=%s", c.ns,
		 c.cls, rules[c.rule]);
	if (ssrp_uda_config_parse(&again, back) != SSRP_OK || memcmp(&c, &again, sizeof c))
		abort();
	return 0;
}
