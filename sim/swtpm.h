/* ssrp simulator: a software TPM (swtpm) per state directory.
 *
 * ssrp_sim_swtpm_start() runs
 *   swtpm socket --tpm2 --server type=tcp,port=P,bindaddr=127.0.0.1
 *         --ctrl type=tcp,port=P+1,bindaddr=127.0.0.1 --tpmstate dir=DIR
 *         --flags not-need-init,startup-clear --daemon ...
 * on a free pair of loopback ports, waits until it answers a TPM command and
 * records the instance in DIR/swtpm.env, a file a shell can source:
 *   SSRP_TPM='tss2:swtpm:host=127.0.0.1,port=P'
 *   SSRP_TPM_TBS='tbs-socket:127.0.0.1:P' (registered by ssrp_sim_register_backends)
 *   SSRP_SWTPM_PID=N
 *   SSRP_SWTPM_PORT=P
 *   SSRP_SWTPM_CTRL_PORT=P+1
 *   SSRP_SWTPM_DIR='DIR'
 * The daemon outlives the process that started it; any process can find it
 * again with ssrp_sim_swtpm_load() and end it with ssrp_sim_swtpm_stop().
 *
 * Things to know:
 * - swtpm serves ONE client connection at a time. A second client's connect
 *   succeeds but its commands wait until the first client disconnects, so
 *   close one ssrp_tpm (or ESYS context, or tpm2-tools process) before the
 *   next one talks to the same instance. Parallel test jobs each start their
 *   own instance with their own state directory.
 * - There is no resource manager: flush every object and session.
 * - PCRs start at zero after every start or restart; the seeds (and so the
 *   SRK and every blob sealed under it) live in DIR and survive restarts.
 * - DIR also holds swtpm.log (swtpm's own messages and errors), swtpm.pid
 *   while it runs, and the TPM state (tpm2-00.permall).
 *
 * POSIX only (fork/exec, sockets, /proc). Functions return SSRP_OK or a
 * negative ssrp_error with ssrp_error_last() saying what went wrong. */
#ifndef SSRP_SIM_SWTPM_H
#define SSRP_SIM_SWTPM_H

#include "ssrp/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How long start waits for swtpm to answer, and stop for it to exit. */
#define SSRP_SIM_SWTPM_START_TIMEOUT_MS 10000
#define SSRP_SIM_SWTPM_STOP_TIMEOUT_MS 5000

/* Name of the instance file inside the state directory. */
#define SSRP_SIM_SWTPM_ENV_FILE "swtpm.env"

typedef struct ssrp_sim_swtpm {
	char dir[1024];     /* state dir (absolute) */
	int port;           /* data port (raw TPM commands) */
	int ctrl_port;      /* control port = port+1 */
	long pid;
	char spec[256];     /* "tss2:swtpm:host=127.0.0.1,port=P" for ssrp_tpm_open */
	char tbs_spec[256]; /* "tbs-socket:127.0.0.1:P" */
	char tcti[256];     /* "swtpm:host=127.0.0.1,port=P" for tpm2-tss/tpm2-tools */
} ssrp_sim_swtpm;

/** Create dir (and its parents) if needed, start swtpm on free loopback
 * ports, wait until it answers a TPM command and write DIR/swtpm.env.
 * SSRP_E_INVALID when an instance already runs on dir (stop it first);
 * SSRP_E_NOTFOUND when swtpm is not installed; SSRP_E_IO when it does not
 * start or answer (the message points at DIR/swtpm.log). A stale env file
 * from an instance that is gone is replaced. */
int ssrp_sim_swtpm_start(ssrp_sim_swtpm *out, const char *dir);

/** Read DIR/swtpm.env of a running instance. SSRP_E_NOTFOUND when there is
 * none, or the process it names is no longer a swtpm serving dir. */
int ssrp_sim_swtpm_load(ssrp_sim_swtpm *out, const char *dir);

/** Stop the instance of dir: SIGTERM, wait for it to exit (SIGKILL after
 * SSRP_SIM_SWTPM_STOP_TIMEOUT_MS), remove the env file. SSRP_OK as well
 * when nothing was running. The TPM state stays in dir. */
int ssrp_sim_swtpm_stop(const char *dir);

/** Stop and start again on the same state dir: PCRs reset, seeds kept, like
 * a reboot. The same ports are reused when they are still free; otherwise
 * io->port and the specs change, so re-read them. */
int ssrp_sim_swtpm_restart(ssrp_sim_swtpm *io);

#ifdef __cplusplus
}
#endif

#endif
