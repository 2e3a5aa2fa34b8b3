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
// Microsoft Entra ID P1, as Microsoft's licensing reference names it.
const sku = { skuId: '078d2b04-f1bd-4111-bbd4-b4b1b354cef4', skuPartNumber: 'AAD_PREMIUM',
	      servicePlans: [{ servicePlanId: '41781fb2-bc02-4b7c-bd55-b576c07bb09d', servicePlanName: 'AAD_PREMIUM' }] };
const alice = { id: randomUUID(), userPrincipalName: `alice@${domain}`, displayName: 'Alice Anders' };
const users = [
	{ ...alice, onPremisesSamAccountName: 'alice', onPremisesDomainName: 'corp.contoso.example',
	  usageLocation: 'US', passwordSha256: sha256(secret('alice-password')), assignedLicenses: [sku.skuId] },
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
// Reads devices only: their owners come as "limited information".
const deviceReader = { appId: randomUUID() };
const device = { id: randomUUID(), deviceId: randomUUID() };
const state = {
	tenant: { id: tenantId, domain, createdDateTime: '2019-03-04T05:06:07Z' },
	skus: [sku],
	users,
	devices: [{ id: device.id, deviceId: device.deviceId, displayName: 'COMPAT-PC01', operatingSystem: 'Windows',
		    accountEnabled: true, registeredOwners: [alice.id] }],
	apps: [
		{ appId: confidential.appId, servicePrincipalId: confidential.servicePrincipalId,
		  displayName: 'client compatibility (confidential)', secretSha256: sha256(secret('app-secret')),
		  certificatePem: readFileSync(certFile, 'utf8'), publicClient: false,
		  roles: ['User.Read.All', 'Device.Read.All', 'LicenseAssignment.Read.All'] },
		{ appId: deviceReader.appId, displayName: 'client compatibility (devices only)',
		  secretSha256: sha256(secret('device-reader-secret')), publicClient: false, roles: ['Device.Read.All'] },
		{ appId: publicClient.appId, displayName: 'client compatibility (public)', publicClient: true },
	],
};
writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
writeFileSync(join(dir, 'ids.json'), JSON.stringify({
	tenantId, domain, users: users.length,
	alice: { id: alice.id, upn: alice.userPrincipalName, name: alice.displayName, passwordFile: 'alice-password' },
	confidential: { ...confidential, secretFile: 'app-secret' },
	publicClient, device,
	deviceReader: { ...deviceReader, secretFile: 'device-reader-secret' },
	sku: { skuId: sku.skuId, skuPartNumber: sku.skuPartNumber, plan: sku.servicePlans[0].servicePlanName },
}));
