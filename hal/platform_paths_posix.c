#include "hal/platform_paths.h"

#include <stddef.h>

const char *const ssrp_default_config_path = "/etc/ssrp/config.json";
const char *const ssrp_default_agent_journal = "/var/lib/ssrp/agent.journal";
const char *const ssrp_default_os_volume = NULL; /* Linux: the configuration names it */
