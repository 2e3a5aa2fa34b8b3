/* Backend selection by spec string, tpm2-tss TCTI loader style: the
 * built-in tables first, then those registered at run time. */
#include <string.h>

#include "hal/registry.h"
#include "tpm/tpm_backends.h"

static ssrp_registry registered = SSRP_REGISTRY_INIT;

const ssrp_tpm_backend *const *ssrp_tpm_builtin_backends(void)
{
	return ssrp_tpm_builtin;
}

static const ssrp_tpm_backend *find_builtin(const char *name, size_t len)
{
	for (size_t i = 0; ssrp_tpm_builtin[i]; i++)
		if (strlen(ssrp_tpm_builtin[i]->info.name) == len &&
		    !memcmp(ssrp_tpm_builtin[i]->info.name, name, len))
			return ssrp_tpm_builtin[i];
	return NULL;
}

int ssrp_tpm_backend_register(const ssrp_tpm_backend *b)
{
	int rc = ssrp_tpm_check_backend(b);
	if (rc)
		return rc;
	if (find_builtin(b->info.name, strlen(b->info.name)))
		return ssrp_error_set(SSRP_E_INVALID,
				      "'%s' is a built-in TPM backend; register yours under another "
				      "name",
				      b->info.name);
	return ssrp_registry_add(&registered, "TPM", b->info.name, b);
}

const ssrp_tpm_backend *ssrp_tpm_registered_backend(size_t i)
{
	return ssrp_registry_at(&registered, i);
}

int ssrp_tpm_spec_resolve(const ssrp_tpm_backend **out_backend, const char **out_config,
			  const char *spec)
{
	if (!spec || !*spec)
		spec = SSRP_TPM_DEFAULT_SPEC;
	size_t name_len = strcspn(spec, ":");
	const ssrp_tpm_backend *b = find_builtin(spec, name_len);
	if (!b)
		b = ssrp_registry_find(&registered, spec, name_len);
	if (b) {
		*out_backend = b;
		*out_config = spec[name_len] ? spec + name_len + 1 : "";
		return SSRP_OK;
	}
	b = find_builtin("tss2", 4);
	if (!b)
		return ssrp_error_set(SSRP_E_SPEC,
				      "TPM spec '%s' names no backend of this build or registered "
				      "one (built in: %s)",
				      spec, SSRP_TPM_DEFAULT_SPEC);
	*out_backend = b; /* a bare TCTI string */
	*out_config = spec;
	return SSRP_OK;
}
