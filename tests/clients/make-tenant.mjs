// Writes the tenant the client suite runs against: DIR/state.json (the
// simulator's state format), DIR/ids.json (what the scripts need to know:
// ids, user names, secret file names) and the secrets as 0600 files.
// Usage: node make-tenant.mjs DIR APP_CERT_PEM
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, certFile] = process.argv.slice(2);
if (!dir || !certFile) {
	console.error('usage: node make-tenant.mjs DIR APP_CERT_PEM');
	process.exit(2);
}
const domain = 'contoso.example';
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const secret = (name) => {
	const value = randomBytes(18).toString('base64url');
	writeFileSync(join(dir, name), value, { mode: 0o600 });
	return value;
};

const tenantId = randomUUID();
const alice = { id: randomUUID(), userPrincipalName: `alice@${domain}`, displayName: 'Alice Anders' };
const users = [
	{ ...alice, onPremisesSamAccountName: 'alice', onPremisesDomainName: 'corp.contoso.example',
	  usageLocation: 'US', passwordSha256: sha256(secret('alice-password')) },
];
// Enough users for several pages at $top=10.
for (let i = 1; i <= 24; i++) {
	const n = String(i).padStart(2, '0');
	// The last one's account is disabled, for accountEnabled filters.
	users.push({ id: randomUUID(), userPrincipalName: `user${n}@${domain}`, displayName: `User ${n}`,
		     ...(i === 24 ? { accountEnabled: false } : {}) });
}
const confidential = { appId: randomUUID(), servicePrincipalId: randomUUID() };
const publicClient = { appId: randomUUID() };
const device = { id: randomUUID(), deviceId: randomUUID() };
const state = {
	tenant: { id: tenantId, domain, createdDateTime: '2019-03-04T05:06:07Z' },
	users,
	devices: [{ id: device.id, deviceId: device.deviceId, displayName: 'COMPAT-PC01', operatingSystem: 'Windows',
		    accountEnabled: true, registeredOwners: [alice.id] }],
	apps: [
		{ appId: confidential.appId, servicePrincipalId: confidential.servicePrincipalId,
		  displayName: 'client compatibility (confidential)', secretSha256: sha256(secret('app-secret')),
		  certificatePem: readFileSync(certFile, 'utf8'), publicClient: false,
		  roles: ['User.Read.All', 'Device.Read.All'] },
		{ appId: publicClient.appId, displayName: 'client compatibility (public)', publicClient: true },
	],
};
writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
writeFileSync(join(dir, 'ids.json'), JSON.stringify({
	tenantId, domain, users: users.length,
	alice: { id: alice.id, upn: alice.userPrincipalName, name: alice.displayName, passwordFile: 'alice-password' },
	confidential: { ...confidential, secretFile: 'app-secret' },
	publicClient, device,
}));
