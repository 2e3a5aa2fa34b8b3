/* Where things live on this platform when the configuration does not say:
 * the agent's journal and the OS volume's spec (platform_paths_posix.c,
 * platform_paths_windows.c: the build compiles one). */
#ifndef SSRP_HAL_PLATFORM_PATHS_H
#define SSRP_HAL_PLATFORM_PATHS_H

/* The configuration file when --config is not given: "/etc/ssrp/config.json";
 * Windows: under %ProgramData%\ssrp. */
extern const char *const ssrp_default_config_path;
/* "/var/lib/ssrp/agent.journal"; Windows: under %ProgramData%\ssrp. */
extern const char *const ssrp_default_agent_journal;
/* NULL where there is no OS volume to assume (POSIX); Windows: "wmi:C:". */
extern const char *const ssrp_default_os_volume;

#endif
