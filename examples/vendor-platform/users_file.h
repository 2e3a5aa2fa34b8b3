/* "usersfile:": a platform backend whose primary users come from a file an
 * MDM agent keeps up to date, one "DOMAIN\user" or UPN a line ('#' starts a
 * comment; blank lines, surrounding blanks and repeats are ignored). The
 * device's identity stays the configuration's. Spec: "usersfile:PATH". */
#ifndef USERS_FILE_H
#define USERS_FILE_H

/* Make "usersfile:" reachable by platform spec (the agent's platform_spec). */
int users_file_register(void);

/* How many times any "usersfile:" platform read its file in this process. */
unsigned long users_file_reads(void);

#endif
