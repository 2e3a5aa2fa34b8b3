/* certstore_import.exe PFX machine|user: put the certificate of a PFX file
 * (no password) and its private key into the LocalMachine\MY store, as a
 * device's enrolment does, and print its SHA-1 thumbprint.
 *   machine: the key in a machine key set (CRYPT_MACHINE_KEYSET), as on an
 *            Entra-joined device (there in the TPM's provider);
 *   user:    the key in this user's key set, the certificate still in
 *            LocalMachine\MY.
 * The key is persisted (no PKCS12_NO_PERSIST_KEY) and not exportable. The
 * store is then opened again and the certificate found by its hash with
 * its key acquired (CryptAcquireCertificatePrivateKey), as Schannel will.
 * Prints "container <name>", "keyset machine|user", "key-acquired yes" or
 * "key-acquired no (error ...)" and "thumbprint <40 hex>"; exit 0, or 1
 * with one line on standard error naming the step that failed. */
#include <windows.h>
#include <wincrypt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what)
{
	fprintf(stderr, "certstore_import: %s failed (error 0x%08lx)\n", what,
		(unsigned long)GetLastError());
	return 1;
}

static BYTE *read_file(const char *path, DWORD *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	BYTE *buf = malloc(65536);
	size_t n = buf ? fread(buf, 1, 65536, f) : 0;
	fclose(f);
	*len = (DWORD)n;
	return buf;
}

static CRYPT_KEY_PROV_INFO *prov_info(PCCERT_CONTEXT c)
{
	DWORD n = 0;
	if (!CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL, &n))
		return NULL;
	CRYPT_KEY_PROV_INFO *p = malloc(n);
	if (p && !CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, p, &n)) {
		free(p);
		return NULL;
	}
	return p;
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[2], "machine") && strcmp(argv[2], "user"))) {
		fprintf(stderr, "usage: certstore_import PFX machine|user\n");
		return 2;
	}
	int machine = !strcmp(argv[2], "machine");
	DWORD len = 0;
	BYTE *data = read_file(argv[1], &len);
	if (!data || !len)
		return fail("reading the PFX file");
	CRYPT_DATA_BLOB blob = {len, data};
	HCERTSTORE pfx = PFXImportCertStore(&blob, L"",
					    machine ? CRYPT_MACHINE_KEYSET : CRYPT_USER_KEYSET);
	if (!pfx)
		return fail("PFXImportCertStore");
	PCCERT_CONTEXT c = NULL, cert = NULL;
	while (!cert && (c = CertEnumCertificatesInStore(pfx, c))) {
		CRYPT_KEY_PROV_INFO *p = prov_info(c);
		if (p) {
			cert = CertDuplicateCertificateContext(c);
			free(p);
		}
	}
	if (!cert)
		return fail("finding the PFX's certificate with a key");
	CRYPT_KEY_PROV_INFO *p = prov_info(cert);
	if (machine && !(p->dwFlags & CRYPT_MACHINE_KEYSET)) {
		/* Windows records the key set in the key's provider information;
		 * Wine's crypt32 (pfx.c set_key_prov_info) writes dwFlags 0 even
		 * though rsaenh made the container in the machine key set. */
		printf("wine-gap PFXImportCertStore left CRYPT_MACHINE_KEYSET out of the key's "
		       "provider information; set here as Windows records it\n");
		p->dwFlags |= CRYPT_MACHINE_KEYSET;
		if (!CertSetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, 0, p))
			return fail("setting the key's provider information");
	}
	printf("container %ls\nkeyset %s\n", p->pwszContainerName,
	       (p->dwFlags & CRYPT_MACHINE_KEYSET) ? "machine" : "user");
	free(p);

	HCERTSTORE my = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
				      CERT_SYSTEM_STORE_LOCAL_MACHINE, L"MY");
	if (!my)
		return fail("opening LocalMachine\\MY");
	if (!CertAddCertificateContextToStore(my, cert, CERT_STORE_ADD_REPLACE_EXISTING, NULL))
		return fail("adding the certificate to LocalMachine\\MY");
	CertCloseStore(my, 0);
	BYTE hash[20];
	DWORD hl = sizeof hash;
	if (!CertGetCertificateContextProperty(cert, CERT_HASH_PROP_ID, hash, &hl))
		return fail("reading the thumbprint");
	CertFreeCertificateContext(cert);
	CertCloseStore(pfx, 0);
	free(data);

	/* Read back as Schannel's caller will: by hash, with its key. */
	my = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
			   CERT_SYSTEM_STORE_LOCAL_MACHINE | CERT_STORE_OPEN_EXISTING_FLAG |
				   CERT_STORE_READONLY_FLAG,
			   L"MY");
	if (!my)
		return fail("opening LocalMachine\\MY again");
	CRYPT_HASH_BLOB hb = {sizeof hash, hash};
	PCCERT_CONTEXT found = CertFindCertificateInStore(
		my, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH, &hb, NULL);
	if (!found)
		return fail("finding the certificate in LocalMachine\\MY by its hash");
	HCRYPTPROV_OR_NCRYPT_KEY_HANDLE key = 0;
	DWORD spec = 0;
	BOOL free_key = FALSE;
	if (CryptAcquireCertificatePrivateKey(found, 0, NULL, &key, &spec, &free_key)) {
		printf("key-acquired yes\n");
		if (free_key)
			CryptReleaseContext(key, 0);
	} else {
		printf("key-acquired no (error 0x%08lx)\n", (unsigned long)GetLastError());
	}
	CertFreeCertificateContext(found);
	CertCloseStore(my, 0);
	printf("thumbprint ");
	for (int i = 0; i < 20; i++)
		printf("%02X", hash[i]);
	printf("\n");
	return 0;
}
