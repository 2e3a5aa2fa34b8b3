/* The client configuration shared by `ssrp assoc`, `ssrp recover` and
 * `ssrp agent`: the JSON file the simulated cloud writes (sim/cloud/server.h,
 * SSRP_SIM_CONFIG) or one written for a real tenant, same members:
 *
 *   {"tenant_id":"<guid>","tenant_domain":"contoso.example",
 *    "hosts":{"login":"...","graph":"...","drs":"..."},   (default: Microsoft's)
 *    "ca_file":"/dir/ca.pem", "connect_to":["host:443:127.0.0.1:PORT",...],
 *    "app_id":"<guid>", "app_secret_file":"...",
 *    "app_cert_file":"...", "app_key_file":"...",   (certificate assertion)
 *    "public_client_id":"<guid>", "refresh_token_file":"...",
 *    "device":{"device_id":"<guid>","cert_file":"...","key_file":"...",
 *              "join_type":"azuread"|"hybrid"|"registered",  [azuread]
 *              "display_name":"DESKTOP-1",
 *              "primary_users":["CONTOSO\\alice"]},  (where SCCM's user-device
 *              affinity cannot be read: everywhere but Windows with SCCM)
 *    "webhook_url_file":"...",
 *    "assoc":{ ... },                       (the association service, below)
 *    "agent":{ ... }}                       (the device agent, below)
 *
 * "assoc" (all optional; defaults in brackets):
 *    "domains":{"CONTOSO":"contoso.example"}  DOMAIN\user -> user@suffix  [none]
 *    "sam_lookup":true        a DOMAIN\user whose domain is not in "domains" is
 *                             looked up by onPremisesSamAccountName and taken
 *                             only when the account's onPremisesDomainName is
 *                             DOMAIN itself or its DNS name below  [true]
 *    "netbios_dns":{"CONTOSO":"corp.contoso.example"}  a NetBIOS domain's
 *                             DNS name, as Graph gives onPremisesDomainName  [none]
 *                             (any other domain, and WORKGROUP, ".", BUILTIN,
 *                             NT AUTHORITY, NT SERVICE or the device's own
 *                             name, is refused: never an owner)
 *    "register":["owner"]     "owner" and/or "user": registeredOwners /
 *                             registeredUsers  [["owner"]]
 *    "licence":"check"        "off" | "check" (report) | "assign"  ["check"]
 *    "licence_plans":["AAD_PREMIUM","INTUNE_A"]  service plans that show
 *                             devices in the portal  [these two]
 *    "licence_sku":"<skuId>"  what "assign" assigns  [none; required for assign]
 *    "max_owners":10          never register more than this many  [10]
 *    "audit":"/var/log/ssrp/assoc.jsonl" | "syslog" | "-" (stderr)  ["-"]
 *    "listen":"0.0.0.0:8443"  `ssrp assoc serve`  [127.0.0.1:8443]
 *    "tls_cert_file":"...", "tls_key_file":"..."   its server certificate
 *    "device_ca_file":"..."   CA(s) that issue device certificates
 *                             (MS-Organization-Access)
 *    "serve":{"per_address":64, ...}   `ssrp assoc serve`'s limits (below)
 *    "url":"https://host:port/"   where devices reach the service (agents)
 *
 * "assoc.serve" (all optional whole numbers; defaults in brackets):
 *    "handshake_timeout_s"  a connection has this long for its TLS handshake
 *                           and request headers, however slowly it trickles  [5]
 *    "idle_timeout_s"       a kept-alive connection doing nothing  [30]
 *    "max_connections"      connections at once  [4096]
 *    "per_address"          connections from one client address (raise it
 *                           for many devices behind one NAT)  [64]
 *    "reserve"              of max_connections, kept for devices that showed
 *                           their certificate: beyond max_connections -
 *                           reserve, the oldest connection that has not is shed  [512]
 *    "queue_max"            devices waiting for a decision; beyond, 503  [20000]
 *    "batch_max"            devices decided together in one run of $batch
 *                           calls  [100]
 *    "batch_wait_ms"        how long a decision waits for others to share its
 *                           $batch calls  [200]
 *    "refusal_log_interval_s"  refusals before a certificate is shown: one
 *                           audit line per address per interval, with a count  [60]
 *
 * "agent" (all optional):
 *    "volume":"sim:/var/lib/ssrp/os.img" | "wmi:C:"   [wmi:C: on Windows, else none]
 *    "tpm":"<spec>"           [$SSRP_TPM, then the platform's TPM]
 *    "platform":"<spec>"      the platform backend: identity, primary users
 *                             ("windows:sccm_affinity=any": docs/windows.md)
 *                             [the build's: windows on Windows, else config]
 *    "journal":"/var/lib/ssrp/agent.journal"   [that; %ProgramData%\ssrp\agent.journal]
 *    "pcrs":[7,11]            PCRs the TPM protector is sealed to  [[7,11]]
 *    "association":"service"|"webhook"|"off"   [service when assoc.url is set,
 *                             else webhook when webhook_url_file is, else off]
 *    "association_interval_s":604800   send the users again after this even
 *                             when they did not change  [7 days]
 *    "escrow_before_protect":true   protection on only after an escrow is
 *                             confirmed  [true]
 *    "rotate_after_recovery":true   [true]
 *    "volume_type":"OSV"      what DRS is told the volume is  [OSV]
 *    "verify_interval_s":86400   how often the service's key list is read to
 *                             prove every recovery password is escrowed
 *                             (less up to a tenth, by device id)  [1 day]
 *    "key_retention_days":90  keys of recovery passwords gone from the volume
 *                             are deleted from Entra ID after this; 0 at
 *                             once, -1 never  [90]
 *    "rotate_after_days":0    rotate the recovery password on this schedule;
 *                             0 off  [0]
 *
 * Only tenant_id is required. Unknown members are refused by name, so a
 * misspelt key is an error rather than a silently ignored setting. Secrets
 * are never in the file itself, only the names of files holding them. */
#ifndef SSRP_ESCROW_CONFIG_H
#define SSRP_ESCROW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ssrp/config.h"

#define SSRP_HOST_LOGIN "login.microsoftonline.com"
#define SSRP_HOST_GRAPH "graph.microsoft.com"
#define SSRP_HOST_DRS "enterpriseregistration.windows.net"

/* The struct behind the public ssrp_cloud_config and its members:
 * escrow/cloud_config.h. */
#include "escrow/cloud_config.h"

/* Loading, freeing, reading members and secrets: the public calls of
 * ssrp/config.h. */

#endif
