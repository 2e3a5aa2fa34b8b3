/* libFuzzer target: the client configuration parser
 * (ssrp_cloud_config_parse, escrow/config.c and config_agent.c) on arbitrary
 * text. Whatever it accepts must have its documented invariants: hosts and
 * connect_to never NULL, tenant_id set, PCR mask within 0-23, certificate
 * and key named together, every assoc.domains and assoc.netbios_dns entry
 * named, a DNS name with a dot. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/config.h"
#include "hal/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ssrp_cloud_config *c = NULL;
	if (ssrp_cloud_config_parse(&c, text, "fuzz.json") == 0) {
		if (!c || !c->tenant_id || !c->login_host || !c->graph_host || !c->drs_host ||
		    !c->connect_to || !c->assoc.licence_plans)
			abort();
		if (c->agent.pcr_mask == 0 || (c->agent.pcr_mask >> 24) != 0)
			abort();
		if ((c->device_cert_file == NULL) != (c->device_key_file == NULL))
			abort();
		for (char **p = c->device_primary_users; p && *p; p++)
			if (!**p || strlen(*p) > 256)
				abort();
		for (char **p = c->connect_to; *p; p++)
			(void)strlen(*p);
		for (size_t i = 0; i < c->assoc.n_domains; i++)
			if (!c->assoc.domains[i].netbios[0] || !c->assoc.domains[i].name[0])
				abort();
		for (size_t i = 0; i < c->assoc.n_netbios_dns; i++)
			if (!c->assoc.netbios_dns[i].netbios[0] ||
			    !strchr(c->assoc.netbios_dns[i].name, '.'))
				abort();
		ssrp_cloud_config_free(c);
	} else if (c) {
		abort();
	}
	free(text);
	return 0;
}
