#include "ssrp/common.h"

const char *ssrp_version(void)
{
	return SSRP_VERSION_STRING;
}
