#include "hal/struct_version.h"
#include "ssrp/sys/error.h"

int ssrp_struct_version_check(const char *what, unsigned int version, unsigned int current,
			      const char *init)
{
	if (version >= 1 && version <= current)
		return SSRP_OK;
	return ssrp_error_set(SSRP_E_INVALID,
			      "%s version %u is not one this library knows (1 to %u): start from %s",
			      what, version, current, init);
}
