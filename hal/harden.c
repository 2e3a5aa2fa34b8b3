/* ssrp_harden_process (ssrp/common.h). */
#include "ssrp/common.h"
#include "ssrp/error.h"
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/resource.h>
#endif

int ssrp_harden_process(void)
{
#ifdef __linux__
	struct rlimit none = {0, 0};
	if (setrlimit(RLIMIT_CORE, &none) || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return SSRP_E_GENERIC;
	return SSRP_OK;
#else
	return SSRP_E_NOTSUPPORTED;
#endif
}
