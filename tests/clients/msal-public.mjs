// MSAL Node's public client: ROPC and device code sign-ins (the code
// approved as a person would, through the simulator's admin endpoint), the
// account MSAL records from id_token and client_info, and silent sign-in
// from its cache and by refresh token.
import { PublicClientApplication } from '@azure/msal-node';
import { approveDeviceCode, authority, check, claimsOf, done, equal, ids, secretOf, step } from './lib/harness.mjs';

const alice = ids.alice;
const scopes = ['User.Read'];

function accountOk(name, account) {
	check(`${name}: an account`, !!account, account);
	if (!account)
		return;
	equal(`${name}: homeAccountId is uid.utid`, account.homeAccountId, `${alice.id}.${ids.tenantId}`);
	equal(`${name}: username`, account.username, alice.upn);
	equal(`${name}: name`, account.name, alice.name);
	equal(`${name}: tenantId`, account.tenantId, ids.tenantId);
	equal(`${name}: localAccountId`, account.localAccountId, alice.id);
}

async function silent(name, pca, account) {
	const cached = await pca.acquireTokenSilent({ account, scopes });
	equal(`${name}: silent from the cache`, cached.fromCache, true);
	const refreshed = await pca.acquireTokenSilent({ account, scopes, forceRefresh: true });
	equal(`${name}: silent by refresh token`, refreshed.fromCache, false);
	check(`${name}: refreshed token is new`, refreshed.accessToken !== cached.accessToken);
	equal(`${name}: refreshed token's user`, claimsOf(refreshed.accessToken).oid, alice.id);
	check(`${name}: refreshed id_token`, !!refreshed.idToken && claimsOf(refreshed.idToken).oid === alice.id);
	accountOk(`${name} (after refresh)`, refreshed.account);
}

await step('username and password', async () => {
	const pca = new PublicClientApplication({ auth: { clientId: ids.publicClient.appId, authority } });
	const r = await pca.acquireTokenByUsernamePassword({ scopes, username: alice.upn,
							     password: secretOf(alice.passwordFile) });
	const c = claimsOf(r.accessToken);
	equal('ropc: token for alice', c.oid, alice.id);
	equal('ropc: idtyp', c.idtyp, 'user');
	equal('ropc: appidacr (public client)', c.appidacr, '0');
	equal('ropc: aud (Graph by app id)', c.aud, '00000003-0000-0000-c000-000000000000');
	check('ropc: scp', String(c.scp).split(' ').includes('User.Read'), c.scp);
	check('ropc: id_token', !!r.idToken);
	equal('ropc: id_token aud', claimsOf(r.idToken).aud, ids.publicClient.appId);
	accountOk('ropc', r.account);
	const accounts = await pca.getTokenCache().getAllAccounts();
	equal('ropc: one account cached', accounts.length, 1);
	await silent('ropc', pca, accounts[0]);
});

await step('device code', async () => {
	const pca = new PublicClientApplication({ auth: { clientId: ids.publicClient.appId, authority } });
	let shown = null;
	const r = await pca.acquireTokenByDeviceCode({
		scopes,
		deviceCodeCallback: (response) => {
			shown = response;
			approveDeviceCode(response.userCode, alice.upn, secretOf(alice.passwordFile))
				.catch((e) => console.log(`FAIL device code approval: ${e.message}`));
		},
	});
	check('device code: the message names the code', !!shown && shown.message.includes(shown.userCode), shown);
	equal('device code: verification uri', shown && shown.verificationUri, 'https://microsoft.com/devicelogin');
	equal('device code: token for alice', claimsOf(r.accessToken).oid, alice.id);
	accountOk('device code', r.account);
	await silent('device code', pca, r.account);
});

await step('a wrong password', async () => {
	const pca = new PublicClientApplication({ auth: { clientId: ids.publicClient.appId, authority } });
	try {
		await pca.acquireTokenByUsernamePassword({ scopes, username: alice.upn, password: 'wrong' });
		check('wrong password refused', false, 'a token was issued');
	} catch (e) {
		equal('wrong password: errorCode', e.errorCode, 'invalid_grant');
		check('wrong password: AADSTS50126', String(e.errorMessage).includes('AADSTS50126:'), e.errorMessage);
	}
});

done();
