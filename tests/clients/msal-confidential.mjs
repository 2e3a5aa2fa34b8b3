// MSAL Node's confidential client against the simulator: client
// credentials with a secret and with a certificate named by its SHA-1 and by
// its SHA-256 thumbprint (the assertion signed by MSAL itself), the claims
// Graph tokens carry, and AADSTS1002012 as MSAL reports it.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { GRAPH_DEFAULT, authority, check, claimsOf, done, equal, fileIn, ids, secretOf, step } from './lib/harness.mjs';

const app = ids.confidential;
const certPem = readFileSync(fileIn('app-cert.pem'), 'utf8');
const keyPem = readFileSync(fileIn('app-cert.key'), 'utf8');
const cert = new X509Certificate(certPem);
const hex = (fingerprint) => fingerprint.replace(/:/g, '');

function appOnlyClaims(name, token) {
	const c = claimsOf(token);
	equal(`${name}: oid is the service principal`, c.oid, app.servicePrincipalId);
	equal(`${name}: sub is the service principal`, c.sub, app.servicePrincipalId);
	equal(`${name}: appid`, c.appid, app.appId);
	equal(`${name}: idtyp`, c.idtyp, 'app');
	equal(`${name}: ver`, c.ver, '1.0');
	equal(`${name}: iss`, c.iss, `https://sts.windows.net/${ids.tenantId}/`);
	equal(`${name}: aud`, c.aud, 'https://graph.microsoft.com');
	equal(`${name}: tid`, c.tid, ids.tenantId);
	equal(`${name}: xms_tcdt is the tenant's creation`, c.xms_tcdt, Date.parse('2019-03-04T05:06:07Z') / 1000);
	check(`${name}: roles`, Array.isArray(c.roles) && c.roles.includes('User.Read.All'), c.roles);
	check(`${name}: uti`, typeof c.uti === 'string' && c.uti.length > 0, c.uti);
	return c;
}

await step('client secret', async () => {
	const cca = new ConfidentialClientApplication({
		auth: { clientId: app.appId, authority, clientSecret: secretOf(app.secretFile) },
	});
	const r = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
	check('client secret: token', !!r && !!r.accessToken);
	equal('client secret: appidacr', appOnlyClaims('client secret', r.accessToken).appidacr, '1');
	equal('client secret: no account for app-only', r.account, null);
});

await step('certificate, SHA-1 thumbprint', async () => {
	const cca = new ConfidentialClientApplication({
		auth: { clientId: app.appId, authority,
			clientCertificate: { thumbprint: hex(cert.fingerprint), privateKey: keyPem } },
	});
	const r = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
	equal('certificate sha1: appidacr', appOnlyClaims('certificate sha1', r.accessToken).appidacr, '2');
});

await step('certificate, SHA-256 thumbprint', async () => {
	const cca = new ConfidentialClientApplication({
		auth: { clientId: app.appId, authority,
			clientCertificate: { thumbprintSha256: hex(cert.fingerprint256), privateKey: keyPem } },
	});
	const r = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
	equal('certificate sha256: appidacr', appOnlyClaims('certificate sha256', r.accessToken).appidacr, '2');
});

await step('a named permission in client credentials', async () => {
	const cca = new ConfidentialClientApplication({
		auth: { clientId: app.appId, authority, clientSecret: secretOf(app.secretFile) },
	});
	try {
		await cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/User.Read.All'] });
		check('named permission refused', false, 'a token was issued');
	} catch (e) {
		equal('named permission: errorCode', e.errorCode, 'invalid_scope');
		check('named permission: AADSTS1002012', String(e.errorMessage).includes('AADSTS1002012:'),
		      e.errorMessage);
	}
});

await step('a wrong secret', async () => {
	const cca = new ConfidentialClientApplication({
		auth: { clientId: app.appId, authority, clientSecret: 'not-the-secret' },
	});
	try {
		await cca.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
		check('wrong secret refused', false, 'a token was issued');
	} catch (e) {
		equal('wrong secret: errorCode', e.errorCode, 'invalid_client');
		check('wrong secret: AADSTS7000215', String(e.errorMessage).includes('AADSTS7000215:'), e.errorMessage);
	}
});

done();
