// The Graph JS SDK's query builders ($filter, $search, $orderby, $count)
// against the simulated directory, as Graph treats them ("Advanced query
// capabilities on Microsoft Entra ID objects"): eq, in, startsWith and
// booleans work as they are; ne, not, endsWith and null comparisons need
// ConsistencyLevel: eventual with $count=true and are refused without
// (400 Request_UnsupportedQuery, parsed into GraphError); $search needs the
// header; $orderby with $filter is advanced; the header rides along in
// PageIterator's requests and inside $batch steps.
import { createRequire } from 'node:module';
import { ClientSecretCredential } from '@azure/identity';
import { GRAPH_DEFAULT, check, done, equal, ids, secretOf, step } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const { BatchRequestContent, BatchResponseContent, Client, GraphError, PageIterator } =
	require('@microsoft/microsoft-graph-client');
const { TokenCredentialAuthenticationProvider } =
	require('@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials');

const app = ids.confidential;
const client = Client.initWithMiddleware({
	authProvider: new TokenCredentialAuthenticationProvider(
		new ClientSecretCredential(ids.tenantId, app.appId, secretOf(app.secretFile)), { scopes: [GRAPH_DEFAULT] }),
});
const eventual = { ConsistencyLevel: 'eventual' };

// The request must fail as Graph fails it: a GraphError with status and code.
async function refused(name, request, status, code, words) {
	try {
		await request.get();
		check(`${name}: refused`, false, 'it was answered 200');
	} catch (e) {
		check(`${name}: GraphError`, e instanceof GraphError, e && e.message);
		equal(`${name}: status`, e.statusCode, status);
		equal(`${name}: code`, e.code, code);
		if (words)
			check(`${name}: message`, typeof e.message === 'string' && e.message.includes(words), e.message);
	}
}

await step('$filter by default: eq, in, startsWith, booleans', async () => {
	let r = await client.api('/users').filter("startsWith(displayName,'User 1')").get();
	equal('startsWith: User 10..19', r.value.length, 10);
	r = await client.api('/users').filter(`userPrincipalName in ('${ids.alice.upn}','user01@${ids.domain}')`).get();
	equal('in: two users', r.value.length, 2);
	r = await client.api('/users').filter('accountEnabled eq false').get();
	equal('accountEnabled eq false: one user', r.value.length, 1);
	r = await client.api('/users').filter("accountEnabled eq true and startsWith(userPrincipalName,'alice')").get();
	equal('boolean and startsWith', r.value.length, 1);
	r = await client.api('/devices').filter("startswith(operatingSystem,'Win') OR displayName eq 'none'").get();
	equal('devices: startswith OR eq', r.value.length, 1);
	// $count=true without the header is ignored, as Graph ignores it.
	r = await client.api('/users').count(true).get();
	equal('no header: no @odata.count', r['@odata.count'], undefined);
});

await step('advanced operators: refused without the parameters, answered with them', async () => {
	const cases = [
		["displayName ne 'Alice Anders'", ids.users - 1, "Operator 'ne'"],
		["not(accountEnabled eq true)", 1, "Operator 'not'"],
		["NOT startsWith(displayName,'User')", 1, "Operator 'not'"],
		[`endsWith(userPrincipalName,'@${ids.domain}')`, ids.users, "Operator 'endsWith'"],
		['usageLocation eq null', ids.users - 1, "'usageLocation' of resource 'User'"],
		["onPremisesSamAccountName eq 'alice'", 1, "'onPremisesSamAccountName' of resource 'User'"],
	];
	for (const [filter, want, words] of cases) {
		await refused(`${filter} (plain)`, client.api('/users').filter(filter), 400, 'Request_UnsupportedQuery', words);
		// The header alone is not enough: $count=true is part of it.
		await refused(`${filter} (header only)`, client.api('/users').headers(eventual).filter(filter), 400,
			      'Request_UnsupportedQuery');
		const r = await client.api('/users').headers(eventual).filter(filter).count(true).get();
		equal(`${filter}: value`, r.value.length, want);
		equal(`${filter}: @odata.count`, r['@odata.count'], want);
	}
	await refused('unsupported everywhere: endsWith(displayName)',
		      client.api('/users').headers(eventual).count(true).filter("endsWith(displayName,'01')"),
		      400, 'Request_UnsupportedQuery', "'displayName' of resource 'User'");
	await refused('contains is no Graph directory function', client.api('/users').filter("contains(displayName,'a')"),
		      400, 'Request_UnsupportedQuery');
	await refused('a string compared with a Boolean', client.api('/users').filter("accountEnabled eq 'true'"),
		      400, 'BadRequest', 'incompatible types');
});

await step('$search needs ConsistencyLevel: eventual', async () => {
	await refused('$search without the header', client.api('/users').search('"displayName:user"'), 400,
		      'Request_UnsupportedQuery', "only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'");
	let r = await client.api('/users').headers(eventual).search('"displayName:user"').get();
	equal('$search by token: the numbered users', r.value.length, ids.users - 1);
	r = await client.api('/users').headers(eventual).search('"displayName:anders" OR "displayName:07"').get();
	equal('$search OR', r.value.length, 2);
	await refused('$search with lower-case or', client.api('/users').headers(eventual)
		      .search('"displayName:anders" or "displayName:07"'), 400, 'BadRequest', 'upper case');
	await refused('$search without a property', client.api('/users').headers(eventual).search('"anders"'), 400,
		      'BadRequest', 'names its property');
});

await step('$orderby, and paging an advanced query with PageIterator', async () => {
	let r = await client.api('/users').orderby('displayName').select('displayName').top(3).get();
	equal('orderby displayName: first', r.value[0] && r.value[0].displayName, ids.alice.name);
	await refused('$orderby with $filter, plain', client.api('/users').orderby('displayName')
		      .filter("startsWith(displayName,'User')"), 400, 'Request_UnsupportedQuery');
	await refused('devices sort only in advanced queries', client.api('/devices').orderby('displayName'), 400,
		      'Request_UnsupportedQuery');
	// Sorted, searched and counted, 5 a page: the header must come along on
	// every page, and the pages keep the order.
	const first = await client.api('/users').headers(eventual).search('"displayName:user"')
		.orderby('displayName desc').count(true).top(5).get();
	equal('first page: @odata.count', first['@odata.count'], ids.users - 1);
	check('first page: a nextLink', typeof first['@odata.nextLink'] === 'string', first);
	const names = [];
	const it = new PageIterator(client, first, (u) => { names.push(u.displayName); return true; }, { headers: eventual });
	await it.iterate();
	equal('PageIterator: every match once', names.length, ids.users - 1);
	equal('PageIterator: in order, first', names[0], 'User 24');
	equal('PageIterator: in order, last', names[names.length - 1], 'User 01');
	check('PageIterator: sorted', names.every((n, i) => i === 0 || names[i - 1] > n), names.join(','));
	// Without the header the next page is not an advanced query any more.
	await refused('next page without the header', client.api(first['@odata.nextLink']),
		      400, 'Request_UnsupportedQuery');
});

await step('$batch: ConsistencyLevel inside a step', async () => {
	const graph = 'https://graph.microsoft.com';
	const q = `$filter=${encodeURIComponent("onPremisesSamAccountName eq 'alice'")}&$count=true`;
	const batch = new BatchRequestContent([
		{ id: 'advanced', request: new Request(`${graph}/users?${q}`, { headers: eventual }) },
		{ id: 'plain', request: new Request(`${graph}/users?${q}`) },
	]);
	const res = new BatchResponseContent(await client.api('/$batch').post(await batch.getContent()));
	const a = res.getResponseById('advanced');
	equal('batch: with the header 200', a && a.status, 200);
	const body = a && await a.json();
	equal('batch: alice found', body && body.value.length === 1 && body.value[0].id, ids.alice.id);
	const p = res.getResponseById('plain');
	equal('batch: without it 400', p && p.status, 400);
	equal('batch: Request_UnsupportedQuery', p && (await p.json()).error.code, 'Request_UnsupportedQuery');
});

done();
