// Load benchmark of the edge Worker on workerd (`cargo xtask bench edge`).
//
// A Zipf workload over tiles of every uploaded corpus wafer and over thousands of distinct feature
// grids (predictions), from 32 keep-alive connections: a warm-up, then a measured window. Each
// request's latency is filed under its path (tile / prediction) and the X-Cache the Worker
// answered, which wrk and oha cannot do (they do not read response headers per request), hence
// this Node client. Then cold keys one at a time: the MISS latency of a tile and a prediction.
//
// `direct` sends the load to the workerd process that runs the Worker, bypassing the proxy
// `wrangler dev` puts in front of it (itself a second workerd, absent in production); `proxy` goes
// through it, as the tests do.
//
// Usage: node tests/edge-bench.mjs [SECONDS] [CONNECTIONS] [direct|proxy]
//        (prints figures; exit 1 on errors)
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { statSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { startEdge, freePort, uploadModel, release, uploadWafer, root } from './edge.mjs';

const seconds = Number(process.argv[2] ?? 30);
const connections = Number(process.argv[3] ?? 32);
const route = process.argv[4] ?? 'direct';
const warmup = Math.min(10, seconds / 3);
const corpus = process.env.WAFERSCOPE_CORPUS ?? join(root, '../shared/corpus');
const SIZE = 64;

const state = mkdtempSync(join(tmpdir(), 'waferscope-edge-bench-'));
const port = await freePort();
const edge = await startEdge({ port, state });
const agent = new Agent({ keepAlive: true, maxSockets: connections });

/** The port of the workerd that runs the Worker itself: a loopback listener of a workerd
 * process, other than wrangler's, that answers the API (it sets X-Cache). */
async function directPort() {
  const lines = execSync('ss -ltnpH').toString().split('\n').filter((l) => l.includes('"workerd"'));
  for (const l of lines) {
    const p = Number(l.match(/127\.0\.0\.1:(\d+)/)?.[1]);
    if (!p || p === port) continue;
    try {
      const r = await fetch(`http://127.0.0.1:${p}/api/v1/model`);
      await r.arrayBuffer();
      if (r.headers.get('x-cache')) return p;
    } catch { /* not it */ }
  }
  throw new Error('could not find the Worker\'s own workerd port');
}
const target = route === 'direct' ? await directPort() : port;

/** One request; resolves { status, ms, cache } (body drained). */
function hit(method, path, body) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port: target, method, path, agent,
      headers: body ? { 'content-length': body.length } : {} }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0, cache: res.headers['x-cache'] }));
    });
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0, cache: 'ERR' }));
    req.end(body);
  });
}

try {
  const up = await uploadModel(edge.base, join(root, 'public/model'), 1);
  if (!up.ok) throw new Error(`model upload ${up.status}`);
  await release(edge.base, 1);
  const wafers = [];
  for (const f of readdirSync(join(corpus, 'stdf'))) {
    const r = await uploadWafer(edge.base, readFileSync(join(corpus, 'stdf', f)));
    if (r.ok) wafers.push(...(await r.json()).wafers.map((w) => w.hash));
    else await r.arrayBuffer();
  }

  // Keys: every tile of zoom 0..3 of every wafer, and distinct grids (discs with random fails).
  const keys = [];
  for (const h of wafers) {
    for (let z = 0; z <= 3; z++) {
      for (let x = 0; x < 1 << z; x++) {
        for (let y = 0; y < 1 << z; y++) keys.push({ kind: 'tile', method: 'GET', path: `/api/v1/wafers/${h}/tiles/${z}/${x}/${y}.png` });
      }
    }
  }
  let seed = 7;
  const rand = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32; };
  const grid = () => {
    const g = Buffer.alloc(SIZE * SIZE);
    const p = rand() * 0.3;
    for (let r = 0; r < SIZE; r++) for (let c = 0; c < SIZE; c++) {
      if (Math.hypot(r - 31.5, c - 31.5) <= 31) g[r * SIZE + c] = rand() < p ? 255 : 1;
    }
    return g;
  };
  const nPred = 3000;
  for (let i = 0; i < nPred; i++) keys.push({ kind: 'prediction', method: 'POST', path: '/api/v1/predict', body: grid() });
  // Shuffle, so Zipf ranks mix tiles and predictions.
  for (let i = keys.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [keys[i], keys[j]] = [keys[j], keys[i]]; }
  // Zipf(s = 1.1) over the ranks, by inverse CDF.
  const s = 1.1;
  const cdf = [];
  let acc = 0;
  for (let k = 1; k <= keys.length; k++) { acc += 1 / k ** s; cdf.push(acc); }
  const pick = () => {
    const u = rand() * acc;
    let lo = 0, hi = cdf.length - 1;
    while (lo < hi) { const m = (lo + hi) >> 1; if (cdf[m] < u) lo = m + 1; else hi = m; }
    return keys[lo];
  };

  const samples = [];
  let measuring = false;
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const k = pick();
      const r = await hit(k.method, k.path, k.body);
      if (measuring) samples.push({ kind: k.kind, ...r });
    }
  };
  const clients = Array.from({ length: connections }, loop);
  await new Promise((r) => setTimeout(r, warmup * 1000));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const wall = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(clients);

  const q = (xs, p) => { if (!xs.length) return NaN; const v = [...xs].sort((a, b) => a - b); return v[Math.min(v.length - 1, Math.floor(p * v.length))]; };
  const fmt = (xs) => `n=${xs.length} p50 ${q(xs, 0.5).toFixed(1)} ms, p95 ${q(xs, 0.95).toFixed(1)} ms, p99 ${q(xs, 0.99).toFixed(1)} ms`;
  const errors = samples.filter((x) => x.status !== 200).length;
  const hits = samples.filter((x) => x.cache === 'HIT').length;
  console.log(`edge load (${route === 'direct' ? 'straight to the Worker\'s workerd' : 'through wrangler dev\'s proxy'}): ${connections} connections, ${seconds} s measured after ${warmup} s warm-up; ${wafers.length} wafers, ${keys.length} keys (Zipf s=${s})`);
  console.log(`  requests/s ${(samples.length / wall).toFixed(0)}   errors ${errors}   hit rate ${(100 * hits / samples.length).toFixed(1)}%`);
  if (errors) {
    const by = {};
    for (const x of samples.filter((x) => x.status !== 200)) by[`${x.kind} ${x.status}`] = (by[`${x.kind} ${x.status}`] ?? 0) + 1;
    console.log(`  errors by kind and status: ${JSON.stringify(by)}`);
  }
  for (const kind of ['tile', 'prediction']) {
    for (const c of ['HIT', 'MISS']) {
      console.log(`  ${kind} ${c}: ${fmt(samples.filter((x) => x.kind === kind && x.cache === c).map((x) => x.ms))}`);
    }
  }
  console.log(`  all HIT: ${fmt(samples.filter((x) => x.cache === 'HIT').map((x) => x.ms))}`);

  // Cold keys one at a time (the machine otherwise idle): the MISS path alone.
  const coldTiles = [];
  for (const h of wafers) {
    for (let i = 0; i < 6; i++) {
      const r = await hit('GET', `/api/v1/wafers/${h}/tiles/6/${20 + i}/${30 + i}.png`);
      if (r.status === 200 && r.cache === 'MISS') coldTiles.push(r.ms);
    }
  }
  const coldPreds = [];
  for (let i = 0; i < 60; i++) {
    const r = await hit('POST', '/api/v1/predict', grid());
    if (r.status === 200 && r.cache === 'MISS') coldPreds.push(r.ms);
  }
  console.log(`  cold tile MISS (zoom 6, alone): ${fmt(coldTiles)}`);
  console.log(`  cold prediction MISS (alone): ${fmt(coldPreds)}`);
  const wasm = join(root, 'edge/build/index_bg.wasm');
  console.log(`  worker wasm: ${(statSync(wasm).size / 1e6).toFixed(2)} MB raw`);
  if (errors) {
    console.log(`  worker log (errors):\n${edge.log().split('\n').filter((l) => /rror|500/.test(l)).slice(-10).join('\n')}`);
    process.exitCode = 1;
  }
} finally {
  agent.destroy();
  await edge.stop();
  rmSync(state, { recursive: true, force: true });
}
