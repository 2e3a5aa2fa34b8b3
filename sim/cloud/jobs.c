/* Webhook jobs: a queue and a few worker threads that run the job command
 * (see jobs.h). */
#define _GNU_SOURCE /* pipe2: descriptors close-on-exec from birth, so a job
		     * started by another thread never inherits this one's pipes */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/cloud/jobs.h"
#include "ssrp/sys/error.h"

extern char **environ;

#define MAX_WORKERS 8

typedef struct job_item {
	struct job_item *next;
	char id[CLOUD_ID_LEN + 1];
	char *input;
	size_t len;
} job_item;

struct cloud_jobs {
	cloud_ctx *ctx;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	job_item *head, *tail;
	atomic_int stopping;
	unsigned n_workers;
	pthread_t workers[MAX_WORKERS];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct out_acc {
	char *data;
	size_t len;
	int truncated;
} out_acc;

static void acc_add(out_acc *o, const char *p, size_t n)
{
	if (o->len + n > CLOUD_JOB_OUTPUT_MAX) {
		n = CLOUD_JOB_OUTPUT_MAX - o->len;
		o->truncated = 1;
	}
	memcpy(o->data + o->len, p, n);
	o->len += n;
}

/* Run command; stop (may be NULL) asks it to end early. */
static int run_command(const char *command, const char *input, size_t len, unsigned timeout_ms,
		       char **output, int *ok, atomic_int *stop)
{
	*output = NULL;
	*ok = 0;
	out_acc out = {malloc(CLOUD_JOB_OUTPUT_MAX + 64), 0, 0};
	if (!out.data)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for a job's output");
	int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int have_fa = 0, have_attr = 0, rc = SSRP_OK;
	pid_t pid = -1;
	if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC)) {
		rc = ssrp_error_set(SSRP_E_IO, "pipe: %s", strerror(errno));
		goto done;
	}
	have_fa = posix_spawn_file_actions_init(&fa) == 0;
	have_attr = posix_spawnattr_init(&attr) == 0;
	sigset_t none, defaults;
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGHUP);
	sigaddset(&defaults, SIGUSR1);
	/* Its own process group, so that a timeout kills what it started too;
	 * the server's blocked signals are unblocked for it. */
	if (!have_fa || !have_attr || posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0) ||
	    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1) ||
	    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 2) ||
	    posix_spawnattr_setsigmask(&attr, &none) || posix_spawnattr_setsigdefault(&attr, &defaults) ||
	    posix_spawnattr_setpgroup(&attr, 0) ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						    POSIX_SPAWN_SETPGROUP)) {
		rc = ssrp_error_set(SSRP_E_IO, "cannot prepare to run the job command");
		goto done;
	}
	char *argv[] = {(char *)command, NULL};
	int e = posix_spawnp(&pid, command, &fa, &attr, argv, environ);
	if (e) {
		pid = -1;
		rc = ssrp_error_set(SSRP_E_IO, "cannot run the job command %s: %s", command,
				    strerror(e));
		char msg[512];
		int n = snprintf(msg, sizeof msg, "cannot run %s: %s\n", command, strerror(e));
		acc_add(&out, msg, n > 0 ? (size_t)n : 0);
		goto done;
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	in_pipe[0] = out_pipe[1] = -1;
	fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);

	size_t sent = 0;
	if (len == 0) {
		close(in_pipe[1]);
		in_pipe[1] = -1;
	}
	uint64_t deadline = mono_ms() + timeout_ms;
	int killed = 0;
	while (out_pipe[0] != -1) {
		struct pollfd p[2] = {{out_pipe[0], POLLIN, 0}, {in_pipe[1], POLLOUT, 0}};
		int np = in_pipe[1] != -1 ? 2 : 1;
		int r = poll(p, (nfds_t)np, 100);
		if (r < 0 && errno != EINTR)
			break;
		if (!killed && (mono_ms() > deadline || (stop && atomic_load(stop)))) {
			kill(-pid, SIGKILL);
			killed = 1;
			const char *why = mono_ms() > deadline
						  ? "\n[ssrp sim: job command killed after the timeout]\n"
						  : "\n[ssrp sim: job command killed: the simulator stopped]\n";
			acc_add(&out, why, strlen(why));
		}
		if (r <= 0)
			continue;
		if (np == 2 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = (p[1].revents & POLLOUT) ? write(in_pipe[1], input + sent, len - sent)
							     : -1;
			if (w > 0)
				sent += (size_t)w;
			/* A command that exits without reading all of its input is
			 * not an error: its stdin just closes. */
			if (sent == len || (w < 0 && errno != EAGAIN && errno != EINTR)) {
				close(in_pipe[1]);
				in_pipe[1] = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[4096];
			ssize_t n = read(out_pipe[0], buf, sizeof buf);
			if (n > 0)
				acc_add(&out, buf, (size_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(out_pipe[0]);
				out_pipe[0] = -1;
			}
		}
	}
	/* Its output closed; it may still run (it closed stdout itself). */
	int status = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w == -1 && errno != EINTR))
			break;
		if (!killed && (mono_ms() > deadline || (stop && atomic_load(stop)))) {
			kill(-pid, SIGKILL);
			killed = 1;
		}
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	*ok = !killed && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (out.truncated) {
		static const char note[] = "\n[ssrp sim: output truncated]\n";
		memcpy(out.data + out.len, note, sizeof note - 1);
		out.len += sizeof note - 1;
	}
done:
	for (int i = 0; i < 2; i++) {
		if (in_pipe[i] != -1)
			close(in_pipe[i]);
		if (out_pipe[i] != -1)
			close(out_pipe[i]);
	}
	if (have_fa)
		posix_spawn_file_actions_destroy(&fa);
	if (have_attr)
		posix_spawnattr_destroy(&attr);
	out.data[out.len] = '\0';
	*output = out.data;
	return rc;
}

int cloud_job_run(const char *command, const char *input, size_t len, unsigned timeout_ms,
		  char **output, int *ok)
{
	return run_command(command, input, len, timeout_ms, output, ok, NULL);
}

static void set_status(cloud_ctx *ctx, const char *id, cloud_job_status st, char *output)
{
	cloud_state_lock(ctx->state);
	cloud_job *j = cloud_job_find(ctx->state, id);
	if (j && output)
		cloud_job_finish(j, st, output);
	else if (j)
		j->status = st;
	else
		free(output);
	cloud_state_unlock(ctx->state);
}

static void *worker(void *arg)
{
	cloud_jobs *jobs = arg;
	for (;;) {
		pthread_mutex_lock(&jobs->lock);
		while (!jobs->head && !atomic_load(&jobs->stopping))
			pthread_cond_wait(&jobs->cond, &jobs->lock);
		job_item *it = jobs->head;
		if (it && !atomic_load(&jobs->stopping)) {
			jobs->head = it->next;
			if (!jobs->head)
				jobs->tail = NULL;
		} else {
			it = NULL;
		}
		pthread_mutex_unlock(&jobs->lock);
		if (!it)
			return NULL;
		set_status(jobs->ctx, it->id, CLOUD_JOB_RUNNING, NULL);
		char *output = NULL;
		int ok = 0;
		run_command(jobs->ctx->job_command, it->input, it->len, CLOUD_JOB_TIMEOUT_MS, &output,
			    &ok, &jobs->stopping);
		set_status(jobs->ctx, it->id, ok ? CLOUD_JOB_COMPLETED : CLOUD_JOB_FAILED, output);
		free(it->input);
		free(it);
	}
}

int cloud_jobs_start(cloud_jobs **out, cloud_ctx *ctx, unsigned workers)
{
	cloud_jobs *jobs = calloc(1, sizeof *jobs);
	if (!jobs)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for the job runner");
	jobs->ctx = ctx;
	pthread_mutex_init(&jobs->lock, NULL);
	pthread_cond_init(&jobs->cond, NULL);
	atomic_init(&jobs->stopping, 0);
	if (workers == 0)
		workers = 1;
	if (workers > MAX_WORKERS)
		workers = MAX_WORKERS;
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&jobs->workers[i], NULL, worker, jobs) != 0) {
			cloud_jobs_stop(jobs);
			return ssrp_error_set(SSRP_E_GENERIC, "cannot start a job thread");
		}
		jobs->n_workers++;
	}
	*out = jobs;
	return SSRP_OK;
}

int cloud_jobs_submit(cloud_jobs *jobs, const char *job_id, char *input, size_t len)
{
	job_item *it = calloc(1, sizeof *it);
	if (!it) {
		free(input);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory queueing a job");
	}
	snprintf(it->id, sizeof it->id, "%s", job_id);
	it->input = input;
	it->len = len;
	pthread_mutex_lock(&jobs->lock);
	if (jobs->tail)
		jobs->tail->next = it;
	else
		jobs->head = it;
	jobs->tail = it;
	pthread_cond_signal(&jobs->cond);
	pthread_mutex_unlock(&jobs->lock);
	return SSRP_OK;
}

void cloud_jobs_stop(cloud_jobs *jobs)
{
	if (!jobs)
		return;
	pthread_mutex_lock(&jobs->lock);
	atomic_store(&jobs->stopping, 1);
	pthread_cond_broadcast(&jobs->cond);
	pthread_mutex_unlock(&jobs->lock);
	for (unsigned i = 0; i < jobs->n_workers; i++)
		pthread_join(jobs->workers[i], NULL);
	while (jobs->head) {
		job_item *it = jobs->head;
		jobs->head = it->next;
		char *msg = strdup("[ssrp sim: the simulator stopped before the job ran]\n");
		set_status(jobs->ctx, it->id, CLOUD_JOB_FAILED, msg);
		free(it->input);
		free(it);
	}
	pthread_cond_destroy(&jobs->cond);
	pthread_mutex_destroy(&jobs->lock);
	free(jobs);
}
