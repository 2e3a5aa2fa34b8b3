/* Backend selection by spec string, tpm2-tss TCTI loader style. The list is
 * a const table: there is no mutable registry; a vendor backend is opened
 * with ssrp_tpm_open_backend() instead. */
#include <string.h>

#include "tpm/tpm_backends.h"

static const ssrp_tpm_backend *const builtin[] = {
#ifdef SSRP_HAVE_TSS2
	&ssrp_tpm_backend_tss2,
#endif
	&ssrp_tpm_backend_tbs,
	NULL,
};

const ssrp_tpm_backend *const *ssrp_tpm_builtin_backends(void)
{
	return builtin;
}

static const ssrp_tpm_backend *find(const char *name, size_t len)
{
	for (size_t i = 0; builtin[i]; i++)
		if (strlen(builtin[i]->info.name) == len && !memcmp(builtin[i]->info.name, name, len))
			return builtin[i];
	return NULL;
}

int ssrp_tpm_spec_resolve(const ssrp_tpm_backend **out_backend, const char **out_config,
			  const char *spec)
{
	if (!spec || !*spec) {
#ifdef _WIN32
		spec = "tbs";
#else
		spec = "tss2:";
#endif
	}
	size_t name_len = strcspn(spec, ":");
	const ssrp_tpm_backend *b = find(spec, name_len);
	if (b) {
		*out_backend = b;
		*out_config = spec[name_len] ? spec + name_len + 1 : "";
		return SSRP_OK;
	}
	b = find("tss2", 4);
	if (!b)
		return ssrp_error_set(SSRP_E_SPEC,
				      "TPM spec '%s' names no backend of this build (built in: "
				      "tbs)",
				      spec);
	*out_backend = b; /* a bare TCTI string */
	*out_config = spec;
	return SSRP_OK;
}
