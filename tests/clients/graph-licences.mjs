// Licences and owners as an app-only caller reads them through the Graph
// JS SDK: GET /subscribedSkus (with and without $select) and a user's
// assignedLicenses, the licenseDetails that Graph serves to delegated
// callers only refused as a GraphError 403, and registered owners as
// "limited information" (@odata.type and id, the rest null) for an app
// that may read devices but not users.
import { createRequire } from 'node:module';
import { ClientSecretCredential } from '@azure/identity';
import { GRAPH_DEFAULT, check, done, equal, ids, secretOf, step } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const { Client, GraphError } = require('@microsoft/microsoft-graph-client');
const { TokenCredentialAuthenticationProvider } =
	require('@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials');

const graphAs = (app) => Client.initWithMiddleware({
	authProvider: new TokenCredentialAuthenticationProvider(
		new ClientSecretCredential(ids.tenantId, app.appId, secretOf(app.secretFile)), { scopes: [GRAPH_DEFAULT] }),
});
const reader = graphAs(ids.confidential);
const devicesOnly = graphAs(ids.deviceReader);

await step('subscribedSkus', async () => {
	const all = await reader.api('/subscribedSkus').get();
	const k = all.value.find((s) => s.skuId === ids.sku.skuId);
	check('subscribedSkus: the tenant\'s SKU', !!k, all.value);
	equal('subscribedSkus: skuPartNumber', k.skuPartNumber, ids.sku.skuPartNumber);
	equal('subscribedSkus: id', k.id, `${ids.tenantId}_${ids.sku.skuId}`);
	equal('subscribedSkus: capabilityStatus', k.capabilityStatus, 'Enabled');
	equal('subscribedSkus: consumedUnits', k.consumedUnits, 1);
	check('subscribedSkus: prepaidUnits', typeof k.prepaidUnits.enabled === 'number', k.prepaidUnits);
	equal('subscribedSkus: a service plan', k.servicePlans[0].servicePlanName, ids.sku.plan);
	const sel = await reader.api('/subscribedSkus').select(['skuId', 'skuPartNumber']).get();
	equal('subscribedSkus $select: no servicePlans', sel.value[0].servicePlans, undefined);
	try {
		await reader.api('/subscribedSkus').filter(`skuPartNumber eq '${ids.sku.skuPartNumber}'`).get();
		check('subscribedSkus $filter refused', false, 'it was answered');
	} catch (e) {
		check('subscribedSkus $filter: GraphError 400', e instanceof GraphError && e.statusCode === 400, e && e.message);
	}
	try {
		await devicesOnly.api('/subscribedSkus').get();
		check('subscribedSkus without a licence-read permission refused', false, 'it was answered');
	} catch (e) {
		equal('subscribedSkus without permission: 403', e.statusCode, 403);
		equal('subscribedSkus without permission: code', e.code, 'Authorization_RequestDenied');
	}
});

await step('assignedLicenses and licenseDetails', async () => {
	const u = await reader.api(`/users/${ids.alice.upn}`).select(['id', 'assignedLicenses']).get();
	equal('assignedLicenses: the SKU', u.assignedLicenses.length && u.assignedLicenses[0].skuId, ids.sku.skuId);
	check('assignedLicenses: disabledPlans', Array.isArray(u.assignedLicenses[0].disabledPlans));
	try {
		await reader.api(`/users/${ids.alice.id}/licenseDetails`).get();
		check('licenseDetails app-only refused', false, 'it was answered');
	} catch (e) {
		check('licenseDetails app-only: GraphError', e instanceof GraphError, e && e.message);
		equal('licenseDetails app-only: 403', e.statusCode, 403);
		equal('licenseDetails app-only: code', e.code, 'Authorization_RequestDenied');
	}
});

await step('owners as limited information', async () => {
	const url = `/devices/${ids.device.id}/registeredOwners`;
	const limited = await devicesOnly.api(url).select(['id', 'userPrincipalName']).get();
	const o = limited.value[0];
	equal('limited owner: @odata.type', o['@odata.type'], '#microsoft.graph.user');
	equal('limited owner: id', o.id, ids.alice.id);
	equal('limited owner: userPrincipalName null', o.userPrincipalName, null);
	const full = await reader.api(url).select(['id', 'userPrincipalName']).get();
	equal('owner with User.Read.All: userPrincipalName', full.value[0].userPrincipalName, ids.alice.upn);
});

done();
