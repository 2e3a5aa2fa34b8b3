/* The built-in platform backend of a POSIX build, "config": there is no
 * system to ask, so it has no capability and the core answers from the
 * configuration's "device" member alone. */
#include "hal/platform_backends.h"

static int config_open(void *ctx, const char *config)
{
	(void)ctx;
	if (*config)
		return ssrp_error_set(SSRP_E_SPEC,
				      "the config platform backend takes no configuration ('%s'): "
				      "the device is described in the configuration file's \"device\" "
				      "member",
				      config);
	return SSRP_OK;
}

static void config_close(void *ctx)
{
	(void)ctx;
}

const ssrp_platform_backend ssrp_platform_backend_config = {
	.version = SSRP_PLATFORM_BACKEND_VERSION,
	.info = {
		.name = "config",
		.description = "the configuration file's \"device\" member is the device",
		.config_help = "nothing: \"config\"",
	},
	.caps = 0,
	.open = config_open,
	.close = config_close,
};

const ssrp_platform_backend *const ssrp_platform_builtin[] = {&ssrp_platform_backend_config,
							      NULL};
