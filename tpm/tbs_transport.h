/* How the tbs backend's command core reaches a TPM: a transport sends one
 * marshalled TPM 2.0 command and returns the whole response.
 *
 * Built in: the Windows TPM Base Services (tbs_transport_windows.c, Windows
 * only). The simulator library adds a raw TCP socket to a TPM simulator
 * such as swtpm's `--server type=tcp` port (sim/tbs_socket.c, the
 * "tbs-socket:" backend). A unit test fills the same struct with a scripted
 * fake and hands it to ssrp_tbs_open_on_transport().
 *
 * Ownership: an open function fills *out; whoever holds the struct calls
 * close(t) exactly once. The struct may be copied: the built-in transports
 * keep their state behind t, allocated with ssrp_malloc (the socket state;
 * the TBS calls' table and context handle). */
#ifndef SSRP_TBS_TRANSPORT_H
#define SSRP_TBS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ssrp/sys/tpm.h"

typedef struct ssrp_tbs_transport {
	void *t; /* first argument of submit and close */
	/* Send cmd[0..cmd_len) and put the complete response in
	 * rsp[0..rsp_cap), its size in *rsp_len. SSRP_OK when a whole response
	 * arrived, whatever TPM response code it carries; otherwise a negative
	 * ssrp_error with the last-error message set. */
	int (*submit)(void *t, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp, size_t rsp_cap,
		      size_t *rsp_len);
	/* Release the connection; never fails. */
	void (*close)(void *t);
} ssrp_tbs_transport;

/* The biggest response the tbs backend accepts (TPM 2.0 implementations
 * answer in at most 4 KiB: MAX_RESPONSE_SIZE). */
#define SSRP_TBS_RESPONSE_MAX 4096

/** Open a TBS context for TPM 2.0. SSRP_E_TPM_ABSENT when Windows has no
 * TPM 2.0; on other systems SSRP_E_NOTSUPPORTED. */
int ssrp_tbs_transport_open_windows(ssrp_tbs_transport *out);

/** Start the tbs backend's state ctx (ssrp_tpm_backend_tbs.ctx_size bytes,
 * zeroed) on an open transport, which it then owns: the backend's close()
 * closes it. This is what the backend's own open() does once it has picked
 * a transport from its config; a unit test calls it from the open() of a
 * copy of ssrp_tpm_backend_tbs to run the backend over a scripted fake. */
int ssrp_tbs_open_on_transport(void *ctx, const ssrp_tbs_transport *transport);

#endif
