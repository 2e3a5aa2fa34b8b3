/* Memory per directory object of the simulated tenant, measured by hand:
 *   cloud_state_mem [users] [devices]        (default 100000 each)
 * Loads a tenant shaped like a real one (every user licensed with an
 * on-premises name and a password, every device owned by one user), then
 * prints the heap the state holds (glibc's mallinfo2, allocator overhead
 * included) and the growth of the resident set, each per object. The last
 * line is one JSON summary. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/cloud/state.h"
#include "ssrp/error.h"

#define SKU "061f9ace-7d42-4136-88ac-31dc755f143f"
#define HASH "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static size_t resident_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (size_t)resident * 4096u;
}

int main(int argc, char **argv)
{
	long users = argc > 1 ? atol(argv[1]) : 100000;
	long devices = argc > 2 ? atol(argv[2]) : 100000;
	if (users < 1 || devices < 0 || users > 10000000 || devices > 10000000) {
		fprintf(stderr, "usage: %s [users] [devices]\n", argv[0]);
		return 2;
	}
	/* Read before the JSON text exists: it is freed before the second
	 * reading, so only the state counts. */
	size_t heap0 = heap_in_use(), rss0 = resident_bytes();
	size_t cap = 512u * (size_t)(users + devices) + 4096;
	char *json = malloc(cap);
	if (!json)
		return 1;
	size_t n = (size_t)snprintf(json, cap,
				    "{\"tenant\":{\"id\":\"11111111-2222-4333-8444-555555555555\","
				    "\"domain\":\"contoso.example\"},\"skus\":[{\"skuId\":\"" SKU "\","
				    "\"skuPartNumber\":\"INTUNE_A\",\"servicePlans\":[]}],\"users\":[");
	for (long i = 0; i < users; i++)
		n += (size_t)snprintf(json + n, cap - n,
				      "%s{\"id\":\"aaaaaaaa-0000-4000-8000-%012ld\","
				      "\"userPrincipalName\":\"user%06ld@contoso.example\","
				      "\"displayName\":\"User %06ld\",\"onPremisesSamAccountName\":\"user%06ld\","
				      "\"onPremisesDomainName\":\"corp.contoso.example\",\"usageLocation\":\"US\","
				      "\"passwordSha256\":\"" HASH "\",\"assignedLicenses\":[\"" SKU "\"]}",
				      i ? "," : "", i, i, i, i);
	n += (size_t)snprintf(json + n, cap - n, "],\"devices\":[");
	for (long i = 0; i < devices; i++)
		n += (size_t)snprintf(json + n, cap - n,
				      "%s{\"id\":\"dddddddd-0000-4000-8000-%012ld\","
				      "\"deviceId\":\"eeeeeeee-0000-4000-8000-%012ld\","
				      "\"displayName\":\"DESKTOP-%06ld\",\"operatingSystem\":\"Windows\","
				      "\"registeredOwners\":[\"aaaaaaaa-0000-4000-8000-%012ld\"]}",
				      i ? "," : "", i, i, i, i % users);
	n += (size_t)snprintf(json + n, cap - n, "]}");

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cloud_state *s;
	if (cloud_state_from_json(&s, json, n) != SSRP_OK) {
		fprintf(stderr, "load: %s\n", ssrp_error_last());
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(json);
	/* Hand back what the parse used, so only the state remains. */
	malloc_trim(0);
	size_t heap1 = heap_in_use(), rss1 = resident_bytes();
	double objects = (double)(users + devices);
	double heap_per = ((double)heap1 - (double)heap0) / objects;
	double rss_per = ((double)rss1 - (double)rss0) / objects;
	double load_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("users %ld, devices %ld, loaded in %.2f s\n", users, devices, load_s);
	if (heap1 <= heap0)
		printf("heap held by the state: unknown (mallinfo2 sees nothing: a sanitizer's allocator?)\n");
	else
		printf("heap held by the state: %zu bytes, %.0f bytes per object\n", heap1 - heap0, heap_per);
	printf("resident set growth:    %zu bytes, %.0f bytes per object\n", rss1 > rss0 ? rss1 - rss0 : 0,
	       rss_per);
	printf("{\"bench\":\"cloud_state_mem\",\"users\":%ld,\"devices\":%ld,\"heap_bytes_per_object\":%.0f,"
	       "\"rss_bytes_per_object\":%.0f,\"load_seconds\":%.2f,\"goal_bytes_per_object\":1024}\n",
	       users, devices, heap_per, rss_per, load_s);
	cloud_state_free(s);
	return 0;
}
