/* The settings of SCCM's user-device affinity (hal/uda_config.h). */
#include <string.h>

#include "hal/uda_config.h"
#include "ssrp/sys/error.h"

#define UDA_NAMESPACE "ROOT\\ccm\\Policy\\Machine\\ActualConfig"
#define UDA_CLASS "CCM_UserAffinity"

static int spec_error(const char *config, const char *what)
{
	return ssrp_error_set(SSRP_E_SPEC, "windows platform backend: '%s': %s", config, what);
}

/* value[0..len) into out (cap bytes) when every byte is a letter, digit, _
 * or in ok (and, for a class, the first is no digit). */
static int take_name(char *out, size_t cap, const char *value, size_t len, const char *ok,
		     int is_class)
{
	if (len == 0 || len >= cap || (is_class && value[0] >= '0' && value[0] <= '9'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		char ch = value[i];
		int alnum = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			    (ch >= '0' && ch <= '9') || ch == '_';
		if (!alnum && !strchr(ok, ch))
			return -1;
		out[i] = ch;
	}
	out[len] = 0;
	return 0;
}

int ssrp_uda_config_parse(ssrp_uda_config *out, const char *config)
{
	memset(out, 0, sizeof *out);
	strcpy(out->ns, UDA_NAMESPACE);
	strcpy(out->cls, UDA_CLASS);
	out->rule = SSRP_UDA_SET;
	int seen_ns = 0, seen_cls = 0, seen_rule = 0;
	for (const char *p = config; *p;) {
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		if (!eq)
			return spec_error(config, "each setting is KEY=VALUE, separated by commas");
		size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
		const char *v = eq + 1;
		if (klen == 14 && !strncmp(p, "sccm_namespace", klen) && !seen_ns++) {
			/* No leading, trailing or doubled backslash. */
			if (take_name(out->ns, sizeof out->ns / sizeof out->ns[0], v, vlen, "\\", 0) ||
			    v[0] == '\\' || v[vlen - 1] == '\\' || strstr(out->ns, "\\\\"))
				return spec_error(config, "sccm_namespace must be a WMI namespace "
							  "such as ROOT\\ccm\\Policy\\Machine\\"
							  "ActualConfig");
		} else if (klen == 10 && !strncmp(p, "sccm_class", klen) && !seen_cls++) {
			if (take_name(out->cls, sizeof out->cls / sizeof out->cls[0], v, vlen, "", 1))
				return spec_error(config, "sccm_class must be a WMI class name "
							  "(letters, digits, _)");
		} else if (klen == 13 && !strncmp(p, "sccm_affinity", klen) && !seen_rule++) {
			if (vlen == 3 && !strncmp(v, "set", 3))
				out->rule = SSRP_UDA_SET;
			else if (vlen == 3 && !strncmp(v, "any", 3))
				out->rule = SSRP_UDA_ANY;
			else if (vlen == 3 && !strncmp(v, "off", 3))
				out->rule = SSRP_UDA_OFF;
			else
				return spec_error(config,
						  "sccm_affinity must be \"set\", \"any\" or \"off\"");
		} else {
			return spec_error(config, "the settings are sccm_namespace, sccm_class and "
						  "sccm_affinity, each at most once");
		}
		p += len;
		if (*p == ',' && !*++p)
			return spec_error(config, "a comma ends it");
	}
	return SSRP_OK;
}
