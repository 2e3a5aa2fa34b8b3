/* wmi_probe.exe [DRIVE]: open a volume through the wmi backend (default
 * "C:") by way of the volume core, and print its status and key protectors
 * (never a recovery password). The mingw test builds it to prove the backend
 * compiles and links for Windows; run it as Administrator on a Windows
 * machine to try a real BitLocker volume. */
#include <stdio.h>
#include <stdlib.h>

#include "bitlocker/volume_backends.h"

static int fail(const char *step)
{
	fprintf(stderr, "wmi_probe: %s: %s\n", step, ssrp_error_last());
	return 1;
}

static const char *protection_name(ssrp_protection p)
{
	switch (p) {
	case SSRP_PROTECTION_ON: return "on";
	case SSRP_PROTECTION_OFF: return "off";
	default: return "unknown";
	}
}

int main(int argc, char **argv)
{
	const char *drive = argc > 1 ? argv[1] : "C:";
	ssrp_volume *vol = NULL;
	if (ssrp_volume_open_backend(&vol, &ssrp_volume_backend_wmi, drive))
		return fail("open");

	int rc = 0;
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	if (ssrp_volume_get_status(vol, &st)) {
		rc = fail("status");
	} else {
		printf("drive %s: protection %s, %s, ", drive, protection_name(st.protection),
		       ssrp_volume_method_name(st.encryption_method));
		if (st.percent_encrypted < 0)
			printf("encrypted share unknown, ");
		else
			printf("%d%% encrypted, ", st.percent_encrypted);
		printf("%s\n", st.locked ? "locked" : "unlocked");
	}

	size_t n = 0;
	ssrp_protector *p = NULL;
	if (!rc && ssrp_volume_list_protectors(vol, NULL, 0, &n))
		rc = fail("protectors");
	if (!rc && n && !(p = calloc(n, sizeof *p))) {
		fprintf(stderr, "wmi_probe: out of memory\n");
		rc = 1;
	}
	if (!rc && n && ssrp_volume_list_protectors(vol, p, n, &n))
		rc = fail("protectors");
	for (size_t i = 0; !rc && i < n; i++)
		printf("%s  %-18s 0x%04x  %s\n", p[i].id, ssrp_protector_type_name(p[i].type),
		       (unsigned)p[i].protection_code, p[i].friendly_name);
	free(p);
	ssrp_volume_close(vol);
	return rc;
}
