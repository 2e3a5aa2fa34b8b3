/* hal/acl_windows.h: the principals ssrp trusts with its files and the
 * DACL of its private directories. */
/* windows.h first: sddl.h and aclapi.h need its macros. */
#include <windows.h>

#include <sddl.h>
#include <stdio.h>
#include <string.h>

#include "hal/acl_windows.h"
#include "hal/mem.h"
#include "hal/win32_text.h"
#include "ssrp/sys/error.h"

#define SID_SYSTEM "S-1-5-18"
#define SID_ADMINISTRATORS "S-1-5-32-544"
#define SID_TRUSTED_INSTALLER "S-1-5-80-956008885-3425870976-2527434427-1710226436-2364009011"
#define SID_OWNER_RIGHTS "S-1-3-4"

int ssrp_win32_process_user_sid(char *buf, size_t cap)
{
	HANDLE token;
	char msg[256];
	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
		return ssrp_error_set(SSRP_E_IO, "cannot read this process's token: %s",
				      ssrp_win32_strerror(GetLastError(), msg, sizeof msg));
	union {
		TOKEN_USER user;
		unsigned char bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
	} info;
	DWORD len = 0;
	BOOL ok = GetTokenInformation(token, TokenUser, &info, sizeof info, &len);
	DWORD err = GetLastError();
	CloseHandle(token);
	char *s = NULL;
	if (!ok || !ConvertSidToStringSidA(info.user.User.Sid, &s))
		return ssrp_error_set(SSRP_E_IO, "cannot read this process's user: %s",
				      ssrp_win32_strerror(ok ? GetLastError() : err, msg, sizeof msg));
	int fits = (size_t)snprintf(buf, cap, "%s", s) < cap;
	LocalFree(s);
	return fits ? SSRP_OK : ssrp_error_set(SSRP_E_BUFSIZE, "a SID is too long");
}

int ssrp_win32_sid_trusted(const char *sid, const char *user_sid)
{
	static const char *const trusted[] = {SID_SYSTEM, SID_ADMINISTRATORS, SID_TRUSTED_INSTALLER,
					      SID_OWNER_RIGHTS};
	for (size_t i = 0; i < sizeof trusted / sizeof *trusted; i++)
		if (!strcmp(sid, trusted[i]))
			return 1;
	return user_sid && !strcmp(sid, user_sid);
}

int ssrp_win32_private_dir_sd(PSECURITY_DESCRIPTOR *out)
{
	*out = NULL;
	char user[SECURITY_MAX_SID_SIZE * 4];
	int rc = ssrp_win32_process_user_sid(user, sizeof user);
	if (rc)
		return rc;
	/* P: protected, nothing inherited; OICI: files and directories made
	 * inside get the same entries; FA: full access. */
	char sddl[512];
	int n = snprintf(sddl, sizeof sddl, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)");
	if (!ssrp_win32_sid_trusted(user, NULL))
		snprintf(sddl + n, sizeof sddl - (size_t)n, "(A;OICI;FA;;;%s)", user);
	if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, out, NULL)) {
		char msg[256];
		return ssrp_error_set(SSRP_E_IO, "cannot make the security descriptor %s: %s", sddl,
				      ssrp_win32_strerror(GetLastError(), msg, sizeof msg));
	}
	return SSRP_OK;
}

const char *ssrp_win32_sid_describe(PSID sid, char *buf, size_t cap)
{
	char *str = NULL;
	if (!ConvertSidToStringSidA(sid, &str)) {
		snprintf(buf, cap, "an unreadable SID");
		return buf;
	}
	wchar_t name[256], domain[256];
	DWORD name_len = 256, domain_len = 256;
	SID_NAME_USE use;
	char uname[512], udomain[512];
	if (LookupAccountSidW(NULL, sid, name, &name_len, domain, &domain_len, &use) &&
	    WideCharToMultiByte(CP_UTF8, 0, name, -1, uname, sizeof uname, NULL, NULL) &&
	    WideCharToMultiByte(CP_UTF8, 0, domain, -1, udomain, sizeof udomain, NULL, NULL))
		snprintf(buf, cap, "%s%s%s (%s)", udomain, *udomain ? "\\" : "", uname, str);
	else
		snprintf(buf, cap, "%s", str);
	LocalFree(str);
	return buf;
}
