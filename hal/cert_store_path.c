#include "hal/cert_store_path.h"

#include <string.h>

#include "ssrp/sys/error.h"

/* libcurl 7.88's list, with wincrypt.h's CERT_SYSTEM_STORE_*_ID values. */
static const struct {
	const char *name;
	int id;
} locations[] = {
	{"CurrentUser", 1},	       {"LocalMachine", 2},
	{"CurrentService", 4},	       {"Services", 5},
	{"Users", 6},		       {"CurrentUserGroupPolicy", 7},
	{"LocalMachineGroupPolicy", 8}, {"LocalMachineEnterprise", 9},
};

static int location_of(const char *text, size_t len)
{
	for (size_t i = 0; i < sizeof locations / sizeof locations[0]; i++)
		if (strlen(locations[i].name) == len && !memcmp(text, locations[i].name, len))
			return (int)i;
	return -1;
}

int ssrp_cert_store_path_is(const char *text)
{
	const char *sep = text ? strchr(text, '\\') : NULL;
	return sep && location_of(text, (size_t)(sep - text)) >= 0;
}

int ssrp_cert_store_path_parse(const char *text, const char *what, ssrp_cert_store_path *out)
{
	memset(out, 0, sizeof *out);
	const char *sep = text ? strchr(text, '\\') : NULL;
	int loc = sep ? location_of(text, (size_t)(sep - text)) : -1;
	const char *store = loc >= 0 ? sep + 1 : NULL;
	const char *sep2 = store ? strchr(store, '\\') : NULL;
	if (loc < 0 || !sep2 || sep2 == store)
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s \"%.80s\" is no certificate store path: the form is "
				      "LOCATION\\STORE\\THUMBPRINT, e.g. LocalMachine\\MY\\ and the "
				      "certificate's SHA-1 thumbprint in 40 hex digits",
				      what, text ? text : "");
	const char *thumb = sep2 + 1;
	size_t store_len = (size_t)(sep2 - store);
	if (store_len >= sizeof out->store)
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s names a certificate store longer than %zu characters", what,
				      sizeof out->store - 1);
	if (strlen(thumb) != 40 || strspn(thumb, "0123456789abcdefABCDEF") != 40)
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s \"%.80s\": the thumbprint after %s\\%.*s\\ must be the "
				      "certificate's SHA-1 hash in 40 hex digits",
				      what, text, locations[loc].name, (int)store_len, store);
	out->location = locations[loc].name;
	out->location_id = locations[loc].id;
	memcpy(out->store, store, store_len);
	for (int i = 0; i < 40; i++)
		out->thumbprint[i] = (char)(thumb[i] >= 'a' ? thumb[i] - 'a' + 'A' : thumb[i]);
	return SSRP_OK;
}
