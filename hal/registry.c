/* The backend registry (see registry.h). A spin lock: registration happens
 * a handful of times per process and a lookup once per open. */
#include <string.h>

#include "hal/registry.h"
#include "ssrp/sys/error.h"

static void lock(ssrp_registry *r)
{
	while (atomic_flag_test_and_set_explicit(&r->lock, memory_order_acquire))
		;
}

static void unlock(ssrp_registry *r)
{
	atomic_flag_clear_explicit(&r->lock, memory_order_release);
}

static size_t find_locked(const ssrp_registry *r, const char *name, size_t len)
{
	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->entry[i].name) == len && !memcmp(r->entry[i].name, name, len))
			return i;
	return r->n;
}

int ssrp_registry_add(ssrp_registry *r, const char *kind, const char *name, const void *table)
{
	if (!table || !name || !*name || strpbrk(name, ":?"))
		return ssrp_error_set(SSRP_E_INVALID,
				      "a %s backend needs a table and a name without ':' or '?' "
				      "(got '%s')",
				      kind, name ? name : "(null)");
	int rc = SSRP_OK;
	lock(r);
	size_t i = find_locked(r, name, strlen(name));
	if (i < r->n && r->entry[i].table != table)
		rc = ssrp_error_set(SSRP_E_INVALID,
				    "another %s backend is already registered as '%s'", kind, name);
	else if (i == r->n && r->n == SSRP_REGISTRY_MAX)
		rc = ssrp_error_set(SSRP_E_BUFSIZE,
				    "cannot register %s backend '%s': %d are registered already",
				    kind, name, SSRP_REGISTRY_MAX);
	else if (i == r->n) {
		r->entry[r->n].name = name;
		r->entry[r->n].table = table;
		r->n++;
	}
	unlock(r);
	return rc;
}

const void *ssrp_registry_find(ssrp_registry *r, const char *name, size_t len)
{
	lock(r);
	size_t i = find_locked(r, name, len);
	const void *t = i < r->n ? r->entry[i].table : NULL;
	unlock(r);
	return t;
}

const void *ssrp_registry_at(ssrp_registry *r, size_t i)
{
	lock(r);
	const void *t = i < r->n ? r->entry[i].table : NULL;
	unlock(r);
	return t;
}
