// Tokens checked the way a resource server checks them, with jose against
// the keys the simulator publishes: the id_token against the v2.0 metadata
// (issuer, audience = the client, signature by the JWKS key its kid names),
// the Graph access token against the v1.0 metadata, and the JWKS key's x5c
// certificate as the same key (x5t = kid).
import { createHash, X509Certificate } from 'node:crypto';
import { PublicClientApplication } from '@azure/msal-node';
import * as jose from 'jose';
import { authority, check, done, equal, ids, secretOf, step } from './lib/harness.mjs';

const getJson = async (url) => {
	const r = await fetch(url);
	if (r.status !== 200)
		throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
	return r.json();
};

await step('tokens against the published keys', async () => {
	const pca = new PublicClientApplication({ auth: { clientId: ids.publicClient.appId, authority } });
	const r = await pca.acquireTokenByUsernamePassword({ scopes: ['User.Read'], username: ids.alice.upn,
							     password: secretOf(ids.alice.passwordFile) });

	const v2 = await getJson(`${authority}/v2.0/.well-known/openid-configuration`);
	equal('v2 metadata: issuer', v2.issuer, `https://login.microsoftonline.com/${ids.tenantId}/v2.0`);
	const jwks = jose.createRemoteJWKSet(new URL(v2.jwks_uri));
	const { payload, protectedHeader } = await jose.jwtVerify(r.idToken, jwks, {
		issuer: v2.issuer, audience: ids.publicClient.appId, algorithms: ['RS256'],
	});
	equal('id_token: oid', payload.oid, ids.alice.id);
	equal('id_token: preferred_username', payload.preferred_username, ids.alice.upn);
	equal('id_token: tid', payload.tid, ids.tenantId);
	equal('id_token: ver', payload.ver, '2.0');
	check('id_token: kid', typeof protectedHeader.kid === 'string', protectedHeader);

	const v1 = await getJson(`${authority}/.well-known/openid-configuration`);
	equal('v1 metadata: issuer', v1.issuer, `https://sts.windows.net/${ids.tenantId}/`);
	const at = await jose.jwtVerify(r.accessToken, jose.createRemoteJWKSet(new URL(v1.jwks_uri)), {
		issuer: v1.issuer, audience: ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'],
	});
	equal('access token: oid', at.payload.oid, ids.alice.id);

	// The key's certificate: x5t names it and it verifies the token too.
	const keys = (await getJson(v2.jwks_uri)).keys;
	const k = keys.find((key) => key.kid === protectedHeader.kid);
	check('jwks: the kid is published', !!k, keys.map((key) => key.kid));
	check('jwks: x5c', Array.isArray(k.x5c) && k.x5c.length === 1, k.x5c);
	const der = Buffer.from(k.x5c[0], 'base64');
	equal('jwks: x5t is the certificate thumbprint', k.x5t, createHash('sha1').update(der).digest('base64url'));
	equal('jwks: kid = x5t', k.kid, k.x5t);
	const pem = new X509Certificate(der).toString();
	await jose.jwtVerify(r.idToken, await jose.importX509(pem, 'RS256'), { audience: ids.publicClient.appId });
	check('id_token verifies under the x5c certificate', true);

	// A token signed by another key is refused by the same check.
	const { privateKey } = await jose.generateKeyPair('RS256');
	const forged = await new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: protectedHeader.kid })
		.sign(privateKey);
	try {
		await jose.jwtVerify(forged, jwks, { issuer: v2.issuer, audience: ids.publicClient.appId });
		check('forged id_token refused', false, 'it verified');
	} catch (e) {
		equal('forged id_token refused', e.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
	}
});

await step('instance discovery', async () => {
	const d = await getJson('https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&' +
		`authorization_endpoint=${encodeURIComponent(`${authority}/oauth2/v2.0/authorize`)}`);
	equal('instance: tenant_discovery_endpoint', d.tenant_discovery_endpoint,
	      `${authority}/v2.0/.well-known/openid-configuration`);
	check('instance: login.microsoftonline.com is a known network',
	      d.metadata.some((m) => m.preferred_network === 'login.microsoftonline.com'), d.metadata);
});

done();
