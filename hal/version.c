#include <curl/curl.h>

#include "hal/curl_global.h"
#include "ssrp/common.h"

const char *ssrp_version(void)
{
	return SSRP_VERSION_STRING;
}

const ssrp_version_info *ssrp_version_info_get(void)
{
	static ssrp_version_info info = {SSRP_VERSION_MAJOR, SSRP_VERSION_MINOR,
					 SSRP_VERSION_PATCH, SSRP_VERSION_STRING, NULL};
	if (!info.tls) {
		const curl_version_info_data *c = curl_version_info(CURLVERSION_NOW);
		info.tls = c && c->ssl_version ? c->ssl_version : "none";
	}
	return &info;
}

int ssrp_init(void)
{
	return ssrp_curl_global_init();
}
