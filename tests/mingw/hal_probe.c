/* hal_probe.exe: hal/'s Windows implementations driven from the command
 * line, for tests/mingw/run_windows_build.sh to compare with OpenSSL and
 * the file system under Wine.
 *   hal_probe sign KEY.pem CERT.pem DATA   thumbprint (hex) and the RS256
 *                                          signature of DATA (base64url)
 *   hal_probe atomic PATH TEXT             replace PATH with TEXT, read it back
 *   hal_probe lock PATH                    take the run lock, then again
 *   hal_probe trust PATH [own]             ssrp_fs_check_trusted (own:
 *                                          SSRP_FS_TRUST_OWN_DIR): "trusted"
 *                                          or the error
 *   hal_probe mkdir DIR                    ssrp_fs_mkdirs(DIR, 0700)
 *   hal_probe acl PATH                     owner and DACL as SDDL, as the
 *                                          system reports them
 *   hal_probe setacl PATH SDDL             SetNamedSecurityInfoW with the
 *                                          DACL of SDDL (unprotected)
 *   hal_probe secret PATH                  ssrp_secret_file_read: its length
 *   hal_probe sink SPEC IDENT LINE         write LINE (a newline added) to
 *                                          the line sink SPEC ("syslog": the
 *                                          Event Log, source IDENT) */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <string.h>

#include "hal/fs.h"
#include "hal/line_sink.h"
#include "hal/mem.h"
#include "hal/sign.h"
#include "ssrp/sys/error.h"

static int failed(int rc)
{
	printf("error %d: %s\n", rc, ssrp_error_last());
	return 1;
}

static int sign(const char *key_file, const char *cert_file, const char *data_file)
{
	unsigned char *key = NULL, *data = NULL;
	size_t key_len = 0, data_len = 0;
	int rc = ssrp_fs_read_input(key_file, 1 << 16, &key, &key_len);
	if (!rc)
		rc = ssrp_fs_read_input(data_file, 1 << 20, &data, &data_len);
	uint8_t tp[SSRP_SHA1_LEN];
	ssrp_sign_key *k = NULL;
	if (!rc)
		rc = ssrp_sign_key_load(&k, (const char *)key, key_len, key_file, cert_file, tp);
	uint8_t sig[1024];
	size_t sig_len = sizeof sig;
	if (!rc)
		rc = ssrp_sign_rs256(k, data, data_len, sig, &sig_len);
	ssrp_sign_key_free(k);
	if (key)
		ssrp_free_secret(key, key_len + 1);
	if (data)
		ssrp_free_secret(data, data_len + 1);
	if (rc)
		return failed(rc);
	printf("thumbprint=");
	for (size_t i = 0; i < sizeof tp; i++)
		printf("%02X", tp[i]);
	char b64[2048];
	if (ssrp_base64url(sig, sig_len, b64, sizeof b64) < 0)
		return failed(SSRP_E_BUFSIZE);
	printf("\nsignature=%s\n", b64);
	return 0;
}

static int atomic(const char *path, const char *text)
{
	int rc = ssrp_fs_write_atomic(path, text, strlen(text), 0600);
	unsigned char *back = NULL;
	size_t len = 0;
	if (!rc)
		rc = ssrp_fs_read_input(path, 1 << 16, &back, &len);
	if (rc)
		return failed(rc);
	printf("read back=%s\n", (const char *)back);
	ssrp_free_secret(back, len + 1);
	return 0;
}

static int lock(const char *path)
{
	ssrp_fs_lock *a = NULL, *b = NULL;
	int rc = ssrp_fs_lock_acquire(&a, path, 0);
	if (rc)
		return failed(rc);
	printf("first=held\n");
	rc = ssrp_fs_lock_acquire(&b, path, 100);
	printf("second=%s\n", rc == SSRP_E_BUSY ? "busy" : rc ? "error" : "held");
	ssrp_fs_lock_release(b);
	ssrp_fs_lock_release(a);
	rc = ssrp_fs_lock_acquire(&b, path, 0);
	printf("after release=%s\n", rc ? "error" : "held");
	ssrp_fs_lock_release(b);
	return 0;
}

static int trust(const char *path, int own)
{
	int rc = ssrp_fs_check_trusted(path, "probe", own ? SSRP_FS_TRUST_OWN_DIR : 0);
	if (rc)
		return failed(rc);
	printf("trusted\n");
	return 0;
}

static int make_dir(const char *dir)
{
	int rc = ssrp_fs_mkdirs(dir, 0700);
	if (rc)
		return failed(rc);
	printf("made\n");
	return 0;
}

static int acl(const char *path)
{
	wchar_t w[1024];
	if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 1024))
		return 1;
	PSECURITY_DESCRIPTOR sd = NULL;
	DWORD err = GetNamedSecurityInfoW(w, SE_FILE_OBJECT,
					  OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
					  NULL, NULL, NULL, NULL, &sd);
	char *sddl = NULL;
	if (err || !ConvertSecurityDescriptorToStringSecurityDescriptorA(
			   sd, SDDL_REVISION_1, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
			   &sddl, NULL)) {
		printf("error %lu\n", err ? err : GetLastError());
		return 1;
	}
	printf("%s\n", sddl);
	LocalFree(sddl);
	LocalFree(sd);
	return 0;
}

static int set_acl(const char *path, const char *sddl)
{
	wchar_t w[1024];
	PSECURITY_DESCRIPTOR sd = NULL;
	BOOL present = FALSE, defaulted = FALSE;
	PACL dacl = NULL;
	if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 1024) ||
	    !ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL) ||
	    !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)) {
		printf("error %lu\n", GetLastError());
		return 1;
	}
	DWORD err = SetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL,
					  dacl, NULL);
	LocalFree(sd);
	printf(err ? "error %lu\n" : "set\n", err);
	return err != 0;
}

static int sink(const char *spec, const char *ident, const char *text)
{
	ssrp_line_sink *s = NULL;
	char line[1024];
	snprintf(line, sizeof line, "%s\n", text);
	int rc = ssrp_line_sink_open(&s, spec, "probe log", ident);
	if (!rc)
		rc = ssrp_line_sink_write(s, line, strlen(line));
	if (rc) {
		ssrp_line_sink_close(s);
		return failed(rc);
	}
	printf("written to %s\n", ssrp_line_sink_name(s));
	ssrp_line_sink_close(s);
	return 0;
}

static int secret(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int rc = ssrp_secret_file_read(path, &text, &len);
	if (rc)
		return failed(rc);
	printf("read %zu bytes\n", len);
	ssrp_free_secret(text, len);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "secret"))
		return secret(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "sink"))
		return sink(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "setacl"))
		return set_acl(argv[2], argv[3]);
	if ((argc == 3 || (argc == 4 && !strcmp(argv[3], "own"))) && !strcmp(argv[1], "trust"))
		return trust(argv[2], argc == 4);
	if (argc == 3 && !strcmp(argv[1], "mkdir"))
		return make_dir(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "acl"))
		return acl(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "sign"))
		return sign(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "atomic"))
		return atomic(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "lock"))
		return lock(argv[2]);
	fprintf(stderr, "usage: hal_probe sign KEY CERT DATA | atomic PATH TEXT | lock PATH | "
			"trust PATH [own] | mkdir DIR | acl PATH | setacl PATH SDDL | secret PATH | sink SPEC IDENT LINE\n");
	return 2;
}
