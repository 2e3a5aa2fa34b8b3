/* ssrp_fs_check_trusted for Windows: not yet. Who may write a file there
 * is its ACL (and its directories'), which this build does not read; rather
 * than trust a file it cannot judge, it refuses with SSRP_E_NOTSUPPORTED. */
#include "hal/fs.h"
#include "ssrp/sys/error.h"

int ssrp_fs_check_trusted(const char *path, const char *what, unsigned flags)
{
	(void)flags;
	return ssrp_error_set(SSRP_E_NOTSUPPORTED,
			      "%s %s: this Windows build cannot yet check who may write a file "
			      "(its ACL), so it does not use one that decides what ssrp does",
			      what, path ? path : "");
}
