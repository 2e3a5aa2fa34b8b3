/* escrow/assoc.h: users as SCCM gives them (DOMAIN\user or a UPN) → UPNs
 * through the configured domain map, and the rules that decide which
 * domains may name a directory user at all. */
#include <stdio.h>
#include <string.h>

#include "escrow/assoc.h"
#include "hal/text.h"
#include "ssrp/sys/error.h"

/* a[0..n) equals the string b */
static int ieq(const char *a, const char *b, size_t n)
{
	return ssrp_ascii_ieq_n(a, b, n) && b[n] == '\0';
}

static const ssrp_assoc_domain *find_domain(const ssrp_assoc_domain *v, size_t n,
					    const char *domain, size_t dl)
{
	for (size_t i = 0; i < n; i++)
		if (ieq(domain, v[i].netbios, dl))
			return &v[i];
	return NULL;
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
		const ssrp_assoc_domain *d = ac ? find_domain(ac->domains, ac->n_domains, user, dl)
						: NULL;
		if (d) {
			int n = snprintf(out, cap, "%s@%s", sam, d->name);
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

/* Domains of accounts that live on one machine only. */
static const char *const local_domains[] = {"WORKGROUP", ".", "BUILTIN", "NT AUTHORITY",
					    "NT SERVICE", NULL};

int ssrp_assoc_local_account(const char *user, const char *device_name, char *why, size_t cap)
{
	const char *bs = user ? strchr(user, '\\') : NULL;
	if (!bs)
		return 0;
	size_t dl = (size_t)(bs - user);
	/* a computer's NetBIOS name is its name cut to 15 characters */
	int own = device_name && *device_name &&
		  (ieq(user, device_name, dl) || (dl == 15 && ssrp_ascii_ieq_n(user, device_name, dl)));
	int local = 0;
	for (const char *const *p = local_domains; *p && !local; p++)
		local = ieq(user, *p, dl);
	if (!own && !local)
		return 0;
	if (why && cap)
		snprintf(why, cap,
			 own ? "%.300s: %.*s is this device's own name: a local account of the "
			       "device is never an owner"
			     : "%.300s: %.*s is not a directory domain: a local or built-in account "
			       "is never an owner",
			 user, (int)(dl > 64 ? 64 : dl), user);
	return 1;
}

const char *ssrp_assoc_dns_name(const ssrp_assoc_config *ac, const char *domain, size_t dl)
{
	const ssrp_assoc_domain *d =
		ac ? find_domain(ac->netbios_dns, ac->n_netbios_dns, domain, dl) : NULL;
	return d ? d->name : NULL;
}

int ssrp_assoc_domain_proven(const ssrp_assoc_config *ac, const char *domain, size_t dl,
			     const char *on_prem_domain)
{
	if (!on_prem_domain || !*on_prem_domain || !domain || !dl)
		return 0;
	if (ieq(domain, on_prem_domain, dl))
		return 1;
	const char *dns = ssrp_assoc_dns_name(ac, domain, dl);
	return dns && ieq(on_prem_domain, dns, strlen(on_prem_domain));
}
