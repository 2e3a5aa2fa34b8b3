// What every script of the suite shares: the tenant's ids and secrets (from
// the files run.sh leaves in SSRP_COMPAT_DIR), checks that count failures,
// and the simulator's admin endpoint (device-code approval).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.SSRP_COMPAT_DIR;
if (!dir)
	throw new Error('SSRP_COMPAT_DIR is not set: run the suite through tests/clients/run.sh');
export const ids = JSON.parse(readFileSync(join(dir, 'ids.json'), 'utf8'));
export const secretOf = (name) => readFileSync(join(dir, name), 'utf8').trim();
export const fileIn = (name) => join(dir, name);
export const authority = `https://login.microsoftonline.com/${ids.tenantId}`;
export const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';

let failures = 0;
export function check(name, ok, detail) {
	if (ok) {
		console.log(`ok   ${name}`);
	} else {
		failures++;
		console.log(`FAIL ${name}${detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
	}
}
export function equal(name, got, want) {
	check(name, got === want, `got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}
// Runs one named step; a throw is a failure with its message, not a crash.
export async function step(name, fn) {
	try {
		await fn();
	} catch (e) {
		failures++;
		console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
	}
}
export function done() {
	if (failures)
		console.log(`${failures} failure(s)`);
	process.exitCode = failures ? 1 : 0;
}

export function claimsOf(jwt) {
	return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}
export function headerOf(jwt) {
	return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8'));
}

// What a person does at microsoft.com/devicelogin, through the simulator's
// admin endpoint (admin endpoints answer on any of its hosts).
export async function approveDeviceCode(userCode, upn, password) {
	const token = readFileSync(process.env.SSRP_SIM_ADMIN_TOKEN_FILE, 'utf8').trim();
	const r = await fetch('https://login.microsoftonline.com/admin/devicelogin', {
		method: 'POST',
		headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
		body: JSON.stringify({ user_code: userCode, upn, password }),
	});
	if (r.status !== 200 && r.status !== 204)
		throw new Error(`device login approval: ${r.status} ${await r.text()}`);
}
