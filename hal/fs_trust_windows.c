/* ssrp_fs_check_trusted for Windows: fs_trust.c's contract read from
 * security descriptors (GetNamedSecurityInfoW: owner and DACL). "This user
 * or root" is the process's user, SYSTEM, Administrators or
 * TrustedInstaller (which owns much of Windows); anyone else is someone
 * else. An ACE counts when it allows someone else a right that changes what
 * the file says:
 *   the file:        write or append data, delete, WRITE_DAC, WRITE_OWNER
 *                    (or GENERIC_WRITE / GENERIC_ALL);
 *   a directory:     delete it or an entry in it (DELETE, FILE_DELETE_CHILD),
 *                    WRITE_DAC, WRITE_OWNER, GENERIC_ALL: whoever may
 *                    remove an entry may put their own in its place. Adding
 *                    entries (FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY) alone
 *                    is the sticky bit's case, as Users have on C:\ and
 *                    %ProgramData%;
 *   the own directory (SSRP_FS_TRUST_OWN_DIR): adding entries too, and
 *                    inheritable ACEs, since the files made there get them.
 * Inherit-only ACEs do not apply to the object itself; CREATOR OWNER is a
 * placeholder replaced by whoever creates a child (and in the own
 * directory nobody else may create one). Deny ACEs are not subtracted: an
 * allow that a deny may shadow is still refused. A NULL DACL lets everyone
 * in and is refused. Symbolic links and junctions on the file are refused;
 * its directory is judged where it really is (GetFinalPathNameByHandleW). */
/* windows.h first: sddl.h and aclapi.h need its macros. */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <string.h>

#include "hal/acl_windows.h"
#include "hal/fs.h"
#include "hal/mem.h"
#include "hal/win32_text.h"
#include "ssrp/sys/error.h"

#define WRITES_FILE                                                                         \
	(FILE_WRITE_DATA | FILE_APPEND_DATA | DELETE | WRITE_DAC | WRITE_OWNER | GENERIC_WRITE | \
	 GENERIC_ALL)
#define REPLACES_ENTRY (DELETE | FILE_DELETE_CHILD | WRITE_DAC | WRITE_OWNER | GENERIC_ALL)
#define WRITES_OWN_DIR \
	(REPLACES_ENTRY | FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | GENERIC_WRITE)

#define READS_SECRET (WRITES_FILE | FILE_READ_DATA | GENERIC_READ)

/* SECRET_FILE: a secret file (ssrp_secret_file_read), which nobody else may
 * read either: the Windows form of mode 0600. */
enum kind { FILE_ITSELF, DIRECTORY, OWN_DIRECTORY, SECRET_FILE };

static const char *kind_name(enum kind k)
{
	return k == FILE_ITSELF || k == SECRET_FILE ? "file" : "directory";
}

static int sid_string(PSID sid, char *buf, size_t cap)
{
	char *s = NULL;
	if (!ConvertSidToStringSidA(sid, &s))
		return 0;
	int fits = (size_t)snprintf(buf, cap, "%s", s) < cap;
	LocalFree(s);
	return fits;
}

/* Which of the rights in mask a human reads first. */
static const char *right_name(DWORD mask)
{
	if (mask & GENERIC_ALL)
		return "full control (GENERIC_ALL)";
	if (mask & (FILE_WRITE_DATA | FILE_APPEND_DATA | GENERIC_WRITE) && !(mask & FILE_DELETE_CHILD))
		return "writing";
	if (mask & WRITE_DAC)
		return "changing its permissions (WRITE_DAC)";
	if (mask & WRITE_OWNER)
		return "taking ownership (WRITE_OWNER)";
	if (mask & FILE_DELETE_CHILD)
		return "deleting what is in it (FILE_DELETE_CHILD)";
	if (mask & DELETE)
		return "deleting or renaming it (DELETE)";
	if (mask & (FILE_READ_DATA | GENERIC_READ))
		return "reading";
	return "adding files to it";
}

static int check_acl(const char *what, enum kind k, const char *path, const char *user)
{
	wchar_t *w = ssrp_win32_widen(path);
	if (!w)
		return ssrp_error_set(SSRP_E_INVALID, "%s: path %s is not UTF-8", what, path);
	PSID owner = NULL;
	PACL dacl = NULL;
	PSECURITY_DESCRIPTOR sd = NULL;
	DWORD err = GetNamedSecurityInfoW(w, SE_FILE_OBJECT,
					  OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
					  &owner, NULL, &dacl, NULL, &sd);
	ssrp_free(w);
	char msg[256], sid[SECURITY_MAX_SID_SIZE * 4], who[600];
	if (err != ERROR_SUCCESS)
		return ssrp_error_set(SSRP_E_IO, "%s: cannot read the permissions of %s %s: %s", what,
				      kind_name(k), path, ssrp_win32_strerror(err, msg, sizeof msg));
	int rc = SSRP_OK;
	if (!owner || !sid_string(owner, sid, sizeof sid) || !ssrp_win32_sid_trusted(sid, user)) {
		rc = ssrp_error_set(SSRP_E_PERMISSION,
				    "%s %s %s belongs to %s, not to SYSTEM, Administrators or this "
				    "user (%s); only they may decide what ssrp does: take it over "
				    "(icacls \"%s\" /setowner *S-1-5-32-544) or move it",
				    what, kind_name(k), path,
				    owner ? ssrp_win32_sid_describe(owner, who, sizeof who) : "nobody",
				    user, path);
		goto out;
	}
	if (!dacl) {
		rc = ssrp_error_set(SSRP_E_PERMISSION,
				    "%s %s %s has no DACL, so everyone may change it: give it one "
				    "(icacls \"%s\" /inheritance:e)",
				    what, kind_name(k), path, path);
		goto out;
	}
	DWORD mask = k == FILE_ITSELF	 ? WRITES_FILE
		     : k == SECRET_FILE	 ? READS_SECRET
		     : k == DIRECTORY	 ? REPLACES_ENTRY
					 : WRITES_OWN_DIR;
	for (DWORD i = 0; i < dacl->AceCount; i++) {
		ACE_HEADER *ace = NULL;
		if (!GetAce(dacl, i, (void **)&ace))
			continue;
		if (ace->AceType != ACCESS_ALLOWED_ACE_TYPE &&
		    ace->AceType != ACCESS_ALLOWED_CALLBACK_ACE_TYPE)
			continue; /* deny, audit, label: they give no one a right */
		if ((ace->AceFlags & INHERIT_ONLY_ACE) && k != OWN_DIRECTORY)
			continue;
		ACCESS_ALLOWED_ACE *allow = (ACCESS_ALLOWED_ACE *)ace;
		PSID trustee = &allow->SidStart;
		if (!(allow->Mask & mask) || !sid_string(trustee, sid, sizeof sid) ||
		    !strcmp(sid, "S-1-3-0") /* CREATOR OWNER */ || ssrp_win32_sid_trusted(sid, user))
			continue;
		rc = ssrp_error_set(SSRP_E_PERMISSION,
				    "%s %s %s can be %s by %s: its ACL allows %s (access mask "
				    "0x%08lx%s), so anyone in it could have %s it: remove that "
				    "entry (%sicacls \"%s\" /remove:g *%s)",
				    what, kind_name(k), path, k == SECRET_FILE ? "read" : "changed",
				    ssrp_win32_sid_describe(trustee, who, sizeof who),
				    right_name(allow->Mask & mask), (unsigned long)allow->Mask,
				    ace->AceFlags & INHERITED_ACE ? ", inherited" : "",
				    k == SECRET_FILE ? "read or changed" : "changed",
				    ace->AceFlags & INHERITED_ACE
					    ? "it is inherited: first icacls \"PATH\" /inheritance:d, then "
					    : "",
				    path, sid);
		break;
	}
out:
	LocalFree(sd);
	return rc;
}

static int is_sep(char c)
{
	return c == '\\' || c == '/';
}

/* The directory that holds path, as the system finally resolves it
 * (junctions and symbolic links followed), into dir without a \\?\ prefix. */
static int real_parent(const char *what, const char *path, char *dir, size_t cap)
{
	char parent[4096];
	if (!ssrp_fs_dirname(path, parent, sizeof parent)) {
		/* "name" or "C:name": the current directory (of that drive);
		 * "\name" or "C:\name": the root. */
		size_t drive = strlen(path) >= 2 && path[1] == ':' ? 2 : 0;
		snprintf(parent, sizeof parent, "%.*s%s", (int)drive, path,
			 is_sep(path[drive]) ? "\\" : ".");
	}
	wchar_t *w = ssrp_win32_widen(parent);
	HANDLE h = w ? CreateFileW(w, FILE_READ_ATTRIBUTES,
				   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
				   OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL)
		     : INVALID_HANDLE_VALUE;
	ssrp_free(w);
	char msg[256];
	if (h == INVALID_HANDLE_VALUE)
		return ssrp_error_set(SSRP_E_IO, "%s: cannot open directory %s: %s", what, parent,
				      ssrp_win32_strerror(GetLastError(), msg, sizeof msg));
	wchar_t real[4096];
	DWORD n = GetFinalPathNameByHandleW(h, real, 4096, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
	DWORD err = GetLastError();
	CloseHandle(h);
	if (!n || n >= 4096)
		return ssrp_error_set(SSRP_E_IO, "%s: cannot resolve directory %s: %s", what, parent,
				      ssrp_win32_strerror(n ? ERROR_BUFFER_OVERFLOW : err, msg,
							  sizeof msg));
	const wchar_t *r = real;
	const char *prefix = "";
	if (!wcsncmp(r, L"\\\\?\\UNC\\", 8)) {
		r += 8;
		prefix = "\\\\";
	} else if (!wcsncmp(r, L"\\\\?\\", 4)) {
		r += 4;
	}
	char narrow[4096];
	if (!WideCharToMultiByte(CP_UTF8, 0, r, -1, narrow, sizeof narrow, NULL, NULL))
		return ssrp_error_set(SSRP_E_IO, "%s: cannot resolve directory %s", what, parent);
	if ((size_t)snprintf(dir, cap, "%s%s", prefix, narrow) >= cap)
		return ssrp_error_set(SSRP_E_INVALID, "%s: path %s is too long", what, parent);
	return SSRP_OK;
}

int ssrp_fs_check_trusted(const char *path, const char *what, unsigned flags)
{
	if (!path || !*path)
		return ssrp_error_set(SSRP_E_INVALID, "%s: no path given", what);
	char user[SECURITY_MAX_SID_SIZE * 4];
	int rc = ssrp_win32_process_user_sid(user, sizeof user);
	if (rc)
		return rc;
	wchar_t *w = ssrp_win32_widen(path);
	if (!w)
		return ssrp_error_set(SSRP_E_INVALID, "%s: path %s is not UTF-8", what, path);
	DWORD attr = GetFileAttributesW(w);
	DWORD err = GetLastError();
	ssrp_free(w);
	char msg[256];
	if (attr == INVALID_FILE_ATTRIBUTES && err != ERROR_FILE_NOT_FOUND)
		return ssrp_error_set(SSRP_E_IO, "%s: cannot inspect %s: %s", what, path,
				      ssrp_win32_strerror(err, msg, sizeof msg));
	if (attr != INVALID_FILE_ATTRIBUTES) {
		if (attr & FILE_ATTRIBUTE_REPARSE_POINT)
			return ssrp_error_set(SSRP_E_PERMISSION,
					      "%s %s is a symbolic link or junction; give the real path",
					      what, path);
		if (attr & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_DEVICE))
			return ssrp_error_set(SSRP_E_INVALID, "%s %s is not a regular file", what,
					      path);
		if ((rc = check_acl(what, FILE_ITSELF, path, user)))
			return rc;
	}
	char dir[4096];
	if ((rc = real_parent(what, path, dir, sizeof dir)))
		return rc;
	/* From the file's directory up to the root (C:\ or \\server\share). */
	for (int first = 1;; first = 0) {
		enum kind k = first && (flags & SSRP_FS_TRUST_OWN_DIR) ? OWN_DIRECTORY : DIRECTORY;
		if ((rc = check_acl(what, k, dir, user)))
			return rc;
		char *sep = strrchr(dir, '\\');
		int unc = !strncmp(dir, "\\\\", 2);
		if (!sep || !sep[1] || (unc && !strchr(dir + 2, '\\')) ||
		    (unc && sep == strchr(dir + 2, '\\')))
			return SSRP_OK; /* the root */
		sep[sep == dir + 2 && dir[1] == ':'] = '\0'; /* C:\work goes up to C:\ itself */
	}
}

int ssrp_win32_check_secret_file(const char *path, const char *what)
{
	char user[SECURITY_MAX_SID_SIZE * 4];
	int rc = ssrp_win32_process_user_sid(user, sizeof user);
	return rc ? rc : check_acl(what, SECRET_FILE, path, user);
}
