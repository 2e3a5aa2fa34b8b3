/* The settings of SCCM's user-device affinity (read by hal/uda_wmi.c on
 * Windows): the "windows" platform backend's config text, e.g.
 *   windows:sccm_class=CCM_UserAffinity,sccm_affinity=any
 * with, comma-separated, each at most once:
 *   sccm_namespace=NS    the WMI namespace  [ROOT\ccm\Policy\Machine\ActualConfig]
 *   sccm_class=CLASS     the class with one instance per user  [CCM_UserAffinity]
 *   sccm_affinity=RULE   which instances name a primary user:
 *                        "set" those whose IsUserAffinitySet is true, "any"
 *                        all of them, "off" none: SCCM is not asked  [set]
 * Microsoft documents neither the class nor its properties (only the
 * site's side of user device affinity); the defaults are what ConfigMgr
 * clients expose (docs/windows.md, "SCCM's primary users"). Portable, so
 * the parser is fuzzed on Linux (fuzz_uda_config); not installed. */
#ifndef SSRP_HAL_UDA_CONFIG_H
#define SSRP_HAL_UDA_CONFIG_H

typedef enum ssrp_uda_rule {
	SSRP_UDA_SET = 0, /* IsUserAffinitySet true */
	SSRP_UDA_ANY,     /* every instance */
	SSRP_UDA_OFF,     /* SCCM not asked */
} ssrp_uda_rule;

typedef struct ssrp_uda_config {
	char ns[128]; /* letters, digits, _ and single inner backslashes */
	char cls[64]; /* letters, digits and _, not starting with a digit */
	ssrp_uda_rule rule;
} ssrp_uda_config;

/* The config text above ("" for the defaults) into *out; SSRP_E_SPEC
 * naming what is wrong. */
int ssrp_uda_config_parse(ssrp_uda_config *out, const char *config);

#endif
