/* identity_probe.exe [CONFIG-DEVICE-ID CERT KEY]: read this Windows device's
 * Entra ID identity (NetGetAadJoinInformation and the machine store, or the
 * device named on the command line as a configuration would) and its
 * primary users (SCCM's user-device affinity, else none), and print them.
 * The mingw test builds it to prove hal/identity_windows.c and
 * hal/uda_wmi.c compile and link for Windows; run it (as the agent's
 * account, e.g. SYSTEM) on a joined Windows machine to try the real thing.
 * Exit 0 registered, 2 not registered, 1 error. */
#include <stdio.h>

#include "ssrp/error.h"
#include "ssrp/platform.h"

int main(int argc, char **argv)
{
	ssrp_identity_config cfg = SSRP_IDENTITY_CONFIG_INIT;
	if (argc == 4) {
		cfg.device_id = argv[1];
		cfg.cert_file = argv[2];
		cfg.key_file = argv[3];
	} else if (argc != 1) {
		fprintf(stderr, "usage: identity_probe [DEVICE-ID CERT-FILE KEY-FILE]\n");
		return 1;
	}
	ssrp_platform *plat = NULL;
	if (ssrp_platform_open(&plat, NULL)) { /* the built-in: "windows" */
		fprintf(stderr, "identity_probe: %s\n", ssrp_error_last());
		return 1;
	}
	printf("platform backend %s\n", ssrp_platform_backend_name(plat));
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	int rc = ssrp_platform_read_identity(plat, &cfg, &id);
	if (rc == SSRP_E_NOTFOUND) {
		printf("not registered: %s\n", ssrp_error_last());
		ssrp_platform_close(plat);
		return 2;
	}
	if (rc) {
		fprintf(stderr, "identity_probe: %s\n", ssrp_error_last());
		ssrp_platform_close(plat);
		return 1;
	}
	printf("join %s, device %s, tenant %s, name \"%s\", from %s\n",
	       ssrp_join_type_name(id.join), id.device_id, id.tenant_id, id.display_name,
	       id.source);
	printf("client certificate %s%s%s\n", id.cert, id.key[0] ? ", key " : "", id.key);
	char **users = NULL;
	size_t n = 0;
	const char *source = NULL;
	if (ssrp_platform_read_primary_users(plat, &cfg, &users, &n, &source)) {
		fprintf(stderr, "identity_probe: primary users: %s\n", ssrp_error_last());
		return 1;
	}
	printf("%zu primary user(s) from %s\n", n, source);
	for (size_t i = 0; i < n; i++)
		printf("  %s\n", users[i]);
	ssrp_primary_users_free(users);
	ssrp_platform_close(plat);
	return 0;
}
