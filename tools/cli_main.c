/* The ssrp command's words: parses the first and hands over to a
 * subcommand. The production command (tools/ssrp.c) and the simulator's
 * (sim/cli/ssrp_sim.c) share it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ssrp/sys/tpm.h>
#include <ssrp/sys/volume.h>
#include "tools/cli_main.h"
#include "tools/cli_util.h"
#include "tools/cmd_agent.h"
#include "tools/cmd_assoc.h"
#include "tools/cmd_recover.h"
#include "tools/cmd_tpm.h"
#include "tools/cmd_volume.h"

static const char usage[] =
	"usage: ssrp <command> [arguments]\n"
	"\n"
	"TPM (the TPM is chosen by --tpm SPEC, else the platform's):\n"
	"  ssrp tpm info [--json]                   what the TPM is and its lockout state\n"
	"  ssrp tpm random N [--raw]                N random bytes from the TPM (hex)\n"
	"  ssrp tpm pcr-read [--pcrs 7,11] [--json] sha256 PCR values\n"
	"  ssrp tpm pcr-extend PCR --data TEXT      measure TEXT into a PCR\n"
	"  ssrp tpm seal [--pcrs 7,11] --in FILE --out BLOB\n"
	"                                           seal FILE (<= 128 bytes) to the PCRs'\n"
	"                                           current values\n"
	"  ssrp tpm unseal --in BLOB --out FILE     unseal; FILE is created mode 0600,\n"
	"                                           '-' writes to standard output\n"
	"  ssrp tpm srk-provision                   persist the SRK at 0x81000001\n"
	"\n"
	"Volumes (--volume SPEC, see Volume specs below; locked volumes\n"
	"are unlocked with --tpm SPEC, --recovery-password-file FILE, --password-file FILE\n"
	"(a user password; for unlock, read and decrypt) or --startup-key FILE.BEK; '-' is\n"
	"standard input):\n"
	"  ssrp volume status [--json]              protection, protectors, reserved regions\n"
	"  ssrp volume add-tpm [--pcrs 7,11]        seal the volume key to the TPM\n"
	"  ssrp volume add-recovery [--password-file F] [--show]\n"
	"                                           add a recovery password (generated\n"
	"                                           unless given); prints its id\n"
	"  ssrp volume show-recovery --id ID        print one recovery password\n"
	"  ssrp volume remove --id ID               delete a protector (never the last;\n"
	"                                           unlocks first)\n"
	"  ssrp volume unlock                       try the TPM or the recovery password\n"
	"  ssrp volume protection on|off            require protectors / suspend\n"
	"  ssrp volume write --offset N --in FILE   write into the decrypted view\n"
	"  ssrp volume read --offset N --length L --out FILE\n"
	"                                           read from the decrypted view\n"
	"  ssrp volume decrypt --out FILE|- [--force]\n"
	"                                           the whole decrypted volume, as Windows\n"
	"                                           shows it (complete or not at all; an\n"
	"                                           existing FILE only with --force)\n"
	"\n"
	"Outputs (--out): '-' is standard output; a regular file is replaced atomically,\n"
	"a character device or FIFO written in place; a symbolic link is refused unless\n"
	"--follow-symlink is given. Inputs must be regular files or '-'.\n"
	"\n"
	"Association service (Microsoft Graph; --config FILE, default /etc/ssrp/config.json):\n"
	"  ssrp assoc handle [--dry-run]            decide one Automation WebhookData\n"
	"                                           read on standard input\n"
	"  ssrp assoc run --device ID --user U [--user U ...] [--dry-run]\n"
	"                                           decide one device's primary users\n"
	"  ssrp assoc batch --in FILE [--concurrency N] [--dry-run]\n"
	"                                           many devices (JSON lines or CSV)\n"
	"  ssrp assoc login [--username UPN --password-file F]\n"
	"                                           sign the service account in (device\n"
	"                                           code); stores its refresh token\n"
	"  ssrp assoc report [--json | --csv | --html FILE]\n"
	"                                           every device's join type, keys in\n"
	"                                           Entra ID and owners (app-only)\n"
	"\n"
	"Self-service recovery:\n"
	"  ssrp recover [--device NAME | --key-id 8DIGITS] [--list] [--json]\n"
	"               [--unlock bitlk:IMG] [--username UPN --password-file F]\n"
	"                                           sign in, see your devices, read the\n"
	"                                           recovery password of one you own\n"
	"\n"
	"Device agent (--config FILE, default /etc/ssrp/config.json: its \"device\" and \"agent\" members):\n"
	"  ssrp agent run [--volume SPEC] [--tpm SPEC] [--journal F] [--force-association]\n"
	"                 [--verify] [--json] [--quiet]\n"
	"                                           TPM protector, recovery password, escrow\n"
	"                                           to Entra ID verified from its key list,\n"
	"                                           protection, association, rotation, old\n"
	"                                           keys deleted (see docs/agent.md)\n"
	"  ssrp agent status [--json]               compliance from the journal and the\n"
	"                                           volume: no change, no network\n"
	"\n"
	"The association service's HTTPS endpoint is a separate command, ssrp-assocd;\n"
	"the simulator (software TPM, simulated volumes and cloud) is ssrp-sim.\n"
	"\n"
	"  ssrp help | ssrp version\n"
	"\n"
	"TPM specs:\n"
	"%s"
	"\n"
	"Volume specs:\n"
	"%s"
	"\n"
	"Exit codes:\n"
	"  0 success              4 unseal refused: PCRs differ from the sealed values\n"
	"  1 other failure        5 TPM in dictionary-attack lockout\n"
	"  2 wrong arguments      6 malformed, tampered or foreign input (blob, file)\n"
	"  3 no TPM, or TPM busy  7 the chosen backend cannot do this\n"
	"  8 wrong recovery password or key   9 volume locked\n"
	"  10 refused: would remove the last way in, touches a reserved region, a key\n"
	"     of a device that is not yours, an output that is a symbolic link\n"
	"  11 agent: not yet compliant, run again later   12 agent: device not registered\n"
	"  13 agent: another run is in progress, nothing done\n";

void ssrp_cli_print_help(void)
{
	char specs[2048];
	size_t n = 0;
	specs[0] = '\0';
	int have_tss2 = 0;
	for (const ssrp_tpm_backend *const *b = ssrp_tpm_builtin_backends(); *b; b++) {
		n += (size_t)snprintf(specs + n, sizeof specs - n, "  %s: %s\n      config: %s\n",
				      (*b)->info.name, (*b)->info.description,
				      (*b)->info.config_help);
		have_tss2 |= !strcmp((*b)->info.name, "tss2");
	}
	const ssrp_tpm_backend *r;
	for (size_t i = 0; (r = ssrp_tpm_registered_backend(i)) && n < sizeof specs; i++)
		n += (size_t)snprintf(specs + n, sizeof specs - n, "  %s: %s\n      config: %s\n",
				      r->info.name, r->info.description, r->info.config_help);
	/* ssrp_tpm_spec_resolve's fallback, which only a build with tss2 has. */
	if (have_tss2 && n < sizeof specs)
		n += (size_t)snprintf(specs + n, sizeof specs - n,
				      "  a bare TCTI string (swtpm:port=2321) means "
				      "tss2:<that string>\n");
	char vspecs[2048];
	size_t m = 0;
	vspecs[0] = '\0';
	for (const ssrp_volume_backend *const *b = ssrp_volume_builtin_backends(); *b; b++)
		m += (size_t)snprintf(vspecs + m, sizeof vspecs - m, "  %s: %s\n      config: %s\n",
				      (*b)->info.name, (*b)->info.description,
				      (*b)->info.config_help);
	const ssrp_volume_backend *rv;
	for (size_t i = 0; (rv = ssrp_volume_registered_backend(i)) && m < sizeof vspecs; i++)
		m += (size_t)snprintf(vspecs + m, sizeof vspecs - m, "  %s: %s\n      config: %s\n",
				      rv->info.name, rv->info.description, rv->info.config_help);
	printf(usage, specs, vspecs);
}

int ssrp_cli_dispatch(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("no command given");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "tpm"))
		return ssrp_cmd_tpm(argc - 1, argv + 1);
	if (!strcmp(cmd, "volume"))
		return ssrp_cmd_volume(argc - 1, argv + 1);
	if (!strcmp(cmd, "assoc"))
		return ssrp_cmd_assoc(argc - 1, argv + 1);
	if (!strcmp(cmd, "agent"))
		return ssrp_cmd_agent(argc - 1, argv + 1);
	if (!strcmp(cmd, "recover"))
		return ssrp_cmd_recover(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		ssrp_cli_print_help();
		return EXIT_OK;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("ssrp %s\n", ssrp_version());
		return EXIT_OK;
	}
	return cli_usage_error("unknown command '%s'", cmd);
}
