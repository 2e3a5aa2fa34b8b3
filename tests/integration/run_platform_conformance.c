/* platform_conformance [SPEC]: the platform backend conformance suite, on
 * SPEC or on this build's built-in platform backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ssrp/conformance.h"

int main(int argc, char **argv)
{
	const char *spec = argc > 1 ? argv[1] : "";
	return ssrp_conformance_platform_run(*spec ? spec : "built-in platform", spec) ? 1 : 0;
}
