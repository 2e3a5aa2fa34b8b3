/* escrow/assoc.h: users as SCCM gives them (DOMAIN\user or a UPN) → UPNs
 * through the configured domain map. */
#include <stdio.h>
#include <string.h>

#include "escrow/assoc.h"
#include "ssrp/sys/error.h"

static int ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] + 32) : a[i];
		char y = b[i] >= 'A' && b[i] <= 'Z' ? (char)(b[i] + 32) : b[i];
		if (x != y || !x)
			return 0;
	}
	return b[n] == '\0';
}

int ssrp_assoc_map_user(const ssrp_assoc_config *ac, const char *user, char *out, size_t cap)
{
	if (!user || !out || !cap)
		return ssrp_error_set(SSRP_E_INVALID, "assoc: no user or output");
	out[0] = '\0';
	for (const char *p = user; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ssrp_error_set(SSRP_E_FORMAT, "the user name holds a control character");
	const char *bs = strchr(user, '\\'), *at = strchr(user, '@');
	if (bs) {
		const char *sam = bs + 1;
		size_t dl = (size_t)(bs - user);
		if (dl == 0 || !*sam || strchr(sam, '\\') || strchr(sam, '@') || (at && at < bs))
			return ssrp_error_set(SSRP_E_FORMAT,
					      "'%.80s' is neither DOMAIN\\user nor a user principal name",
					      user);
		for (size_t i = 0; ac && i < ac->n_domains; i++) {
			if (!ieq(user, ac->domains[i].netbios, dl))
				continue;
			int n = snprintf(out, cap, "%s@%s", sam, ac->domains[i].upn_suffix);
			if (n < 0 || (size_t)n >= cap) {
				out[0] = '\0';
				return ssrp_error_set(SSRP_E_FORMAT, "the user name '%.80s' is too long",
						      user);
			}
			return SSRP_OK;
		}
		return ssrp_error_set(SSRP_E_NOTFOUND, "no UPN suffix is configured for domain %.*s",
				      (int)(dl > 40 ? 40 : dl), user);
	}
	if (!at || at == user || !at[1] || strchr(at + 1, '@'))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "'%.80s' is neither DOMAIN\\user nor a user principal name", user);
	size_t n = strlen(user);
	if (n >= cap)
		return ssrp_error_set(SSRP_E_FORMAT, "the user name '%.80s' is too long", user);
	memcpy(out, user, n + 1);
	return SSRP_OK;
}
