/* users-file-conformance PATH: register "usersfile:", run the installed
 * platform conformance suite on "usersfile:PATH", and check that the suite
 * reached the file. Exit 0 only when all of it holds. */
#include <stdio.h>

#include <ssrp/conformance.h>
#include <ssrp/error.h>

#include "users_file.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s USERS-FILE\n", argv[0]);
		return 2;
	}
	if (users_file_register()) {
		fprintf(stderr, "registering usersfile: %s\n", ssrp_error_last());
		return 1;
	}
	char spec[1100];
	snprintf(spec, sizeof spec, "usersfile:%s", argv[1]);
	int failed = ssrp_conformance_platform_run("usersfile platform backend", spec);
	printf("usersfile: the file was read %lu times\n", users_file_reads());
	if (users_file_reads() == 0) {
		fprintf(stderr, "users-file-conformance: the suite never asked for the users\n");
		failed++;
	}
	return failed ? 1 : 0;
}
