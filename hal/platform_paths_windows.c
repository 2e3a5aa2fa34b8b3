#include "hal/platform_paths.h"

const char *const ssrp_default_config_path = "C:\\ProgramData\\ssrp\\config.json";
const char *const ssrp_default_agent_journal = "C:\\ProgramData\\ssrp\\agent.journal";
const char *const ssrp_default_os_volume = "wmi:C:";
