/* Webhook jobs: the simulator's stand-in for an Automation runbook. A job
 * runs the configured command (ctx->job_command, executed directly, no
 * shell) with the WebhookData JSON on its standard input, as Azure
 * Automation hands a runbook its $WebhookData; what the command prints on
 * stdout and stderr (at most CLOUD_JOB_OUTPUT_MAX bytes) becomes the job's
 * output, and its exit status decides completed (0) or failed. A command
 * still running after CLOUD_JOB_TIMEOUT_MS is killed and the job fails. */
#ifndef SSRP_SIM_CLOUD_JOBS_H
#define SSRP_SIM_CLOUD_JOBS_H

#include <stddef.h>

#include "sim/cloud/cloud.h"

#define CLOUD_JOB_OUTPUT_MAX (64u * 1024u)
#define CLOUD_JOB_TIMEOUT_MS 120000u

typedef struct cloud_jobs cloud_jobs;

/* Start worker threads that run queued jobs against ctx's state. */
int cloud_jobs_start(cloud_jobs **out, cloud_ctx *ctx, unsigned workers);
/* Queue job_id with input for its command's stdin (takes ownership of the
 * malloc'd input). */
int cloud_jobs_submit(cloud_jobs *jobs, const char *job_id, char *input, size_t len);
/* Stop: running commands are killed, jobs still queued are marked failed;
 * then the workers are joined and everything freed. */
void cloud_jobs_stop(cloud_jobs *jobs);

/* Run command with input on stdin and wait (at most timeout_ms). *output
 * gets what it printed (malloc'd, NUL-terminated), *ok 1 for exit status 0.
 * SSRP_E_IO when it could not be started (*output then says why). Also
 * what cloud_webhook_handle uses when ctx->jobs is NULL. */
int cloud_job_run(const char *command, const char *input, size_t len, unsigned timeout_ms,
		  char **output, int *ok);

#endif
