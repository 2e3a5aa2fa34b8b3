/* tbs.dll for the tests under Wine: TPM Base Services whose TPM is a
 * software TPM on the Linux side. Wine's own tbs.dll has no TPM behind it;
 * with this DLL next to the program and WINEDLLOVERRIDES=tbs=n, the
 * production tbs transport (tpm/tbs_transport_windows.c) and the tbs
 * command core reach swtpm's raw TPM 2.0 port (swtpm socket --server
 * type=tcp), named by the environment variable SSRP_TEST_TBS_SOCKET
 * ("127.0.0.1:PORT"). One command out, then the 10-byte response header and
 * the rest of the size it announces. Built by tests/mingw/run_agent_wine.sh
 * only; nothing installs it. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TBS results by number (winerror.h has some, as signed HRESULTs). */
#define R_SUCCESS 0u
#define R_BAD_PARAMETER 0x80284002u
#define R_INVALID_CONTEXT 0x80284004u
#define R_INSUFFICIENT_BUFFER 0x80284005u
#define R_IOERROR 0x80284006u
#define R_TPM_NOT_FOUND 0x8028400Fu

typedef struct {
	UINT32 structVersion, tpmVersion, tpmInterfaceType, tpmImpRevision;
} device_info;

typedef struct {
	SOCKET s;
} context;

static SOCKET connect_tpm(void)
{
	const char *where = getenv("SSRP_TEST_TBS_SOCKET");
	char host[64];
	const char *colon = where ? strrchr(where, ':') : NULL;
	if (!colon || (size_t)(colon - where) >= sizeof host)
		return INVALID_SOCKET;
	memcpy(host, where, (size_t)(colon - where));
	host[colon - where] = '\0';
	WSADATA wsa;
	if (WSAStartup(MAKEWORD(2, 2), &wsa))
		return INVALID_SOCKET;
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	if (getaddrinfo(host, colon + 1, &hints, &ai) || !ai)
		return INVALID_SOCKET;
	SOCKET s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (s != INVALID_SOCKET && connect(s, ai->ai_addr, (int)ai->ai_addrlen)) {
		closesocket(s);
		s = INVALID_SOCKET;
	}
	freeaddrinfo(ai);
	return s;
}

__declspec(dllexport) UINT32 WINAPI Tbsi_GetDeviceInfo(UINT32 size, void *info)
{
	if (size < sizeof(device_info) || !info)
		return R_BAD_PARAMETER;
	SOCKET s = connect_tpm();
	if (s == INVALID_SOCKET)
		return R_TPM_NOT_FOUND;
	closesocket(s);
	device_info d = {.structVersion = 1, .tpmVersion = 2, .tpmInterfaceType = 0};
	memcpy(info, &d, sizeof d);
	return R_SUCCESS;
}

__declspec(dllexport) UINT32 WINAPI Tbsi_Context_Create(const void *params, void **out)
{
	if (!params || !out)
		return R_BAD_PARAMETER;
	SOCKET s = connect_tpm();
	if (s == INVALID_SOCKET)
		return R_TPM_NOT_FOUND;
	context *c = calloc(1, sizeof *c);
	if (!c) {
		closesocket(s);
		return R_IOERROR;
	}
	c->s = s;
	*out = c;
	return R_SUCCESS;
}

__declspec(dllexport) UINT32 WINAPI Tbsip_Context_Close(void *h)
{
	context *c = h;
	if (!c)
		return R_INVALID_CONTEXT;
	closesocket(c->s);
	free(c);
	return R_SUCCESS;
}

static int recv_all(SOCKET s, uint8_t *p, size_t n)
{
	while (n) {
		int k = recv(s, (char *)p, n > 65536 ? 65536 : (int)n, 0);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

__declspec(dllexport) UINT32 WINAPI Tbsip_Submit_Command(void *h, UINT32 locality,
							 UINT32 priority, const uint8_t *cmd,
							 UINT32 cmd_len, uint8_t *rsp,
							 UINT32 *rsp_len)
{
	(void)locality;
	(void)priority;
	context *c = h;
	if (!c)
		return R_INVALID_CONTEXT;
	if (!cmd || !rsp || !rsp_len || cmd_len < 10 || *rsp_len < 10)
		return R_BAD_PARAMETER;
	for (UINT32 sent = 0; sent < cmd_len;) {
		int k = send(c->s, (const char *)cmd + sent, (int)(cmd_len - sent), 0);
		if (k <= 0)
			return R_IOERROR;
		sent += (UINT32)k;
	}
	if (recv_all(c->s, rsp, 10))
		return R_IOERROR;
	UINT32 size = (UINT32)rsp[2] << 24 | (UINT32)rsp[3] << 16 | (UINT32)rsp[4] << 8 | rsp[5];
	if (size < 10 || size > *rsp_len)
		return size < 10 ? R_IOERROR : R_INSUFFICIENT_BUFFER;
	if (recv_all(c->s, rsp + 10, size - 10))
		return R_IOERROR;
	*rsp_len = size;
	return R_SUCCESS;
}
