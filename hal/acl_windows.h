/* Security identifiers and descriptors for hal/'s Windows files
 * (acl_windows.c): who runs this process, who may be trusted with the files
 * that decide what ssrp does, and the DACL of a private directory. */
#ifndef SSRP_HAL_ACL_WINDOWS_H
#define SSRP_HAL_ACL_WINDOWS_H

#include <stddef.h>
#include <windows.h>

/* The process token's user as a SID string ("S-1-5-18" when SYSTEM) into
 * buf; SSRP_OK or SSRP_E_IO. */
int ssrp_win32_process_user_sid(char *buf, size_t cap);

/* 1 when the SID string sid names a principal that may write what decides
 * what ssrp does: SYSTEM, Administrators, TrustedInstaller, OWNER RIGHTS
 * (the owner, judged by itself) or the process's own user (user_sid). */
int ssrp_win32_sid_trusted(const char *sid, const char *user_sid);

/* A security descriptor for a directory only SYSTEM, Administrators and
 * the process's user (when it is neither) may use: protected (nothing
 * inherited from above), full control, inherited by what is made in it;
 * freed with LocalFree. The Windows form of mode 0700. SSRP_OK or
 * SSRP_E_IO. */
int ssrp_win32_private_dir_sd(PSECURITY_DESCRIPTOR *out);

/* A secret file's owner and DACL (fs_trust_windows.c): owned by a trusted
 * principal, and no ACE lets anyone else read, write or delete it.
 * SSRP_E_PERMISSION naming what, the file, the trustee and the fix. */
int ssrp_win32_check_secret_file(const char *path, const char *what);

/* "DOMAIN\name (SID)" or the SID alone when it has no name here, into buf. */
const char *ssrp_win32_sid_describe(PSID sid, char *buf, size_t cap);

#endif
