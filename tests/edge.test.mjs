// End-to-end tests of the edge Worker on workerd (wrangler dev, local mode: real Cache API, KV and
// R2, persisted in a temporary folder). Run by `cargo xtask test` after it builds the Worker.
//
// Facts about files come from the native CLI (an independent parse and the same model natively).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { launch } from './lib/chromium.mjs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startEdge, freePort, uploadModel, release, uploadWafer, root, UPLOAD_TOKEN, ADMIN_TOKEN } from './lib/edge.mjs';
import { stdfFile } from './lib/stdf-write.mjs';
import { corpus } from './lib/corpus.mjs';

const bin = process.env.WAFERSCOPE_BIN ?? join(root, 'target/debug/waferscope');
const stdf = (name) => join(corpus, 'stdf', name);
const modelDir = join(root, 'public/model');
const SIZE = 64;
mkdirSync(join(root, 'target/e2e'), { recursive: true });

let edge;
let state;
let port;
const seen = []; // every response's headers and body, checked for leaked secrets at the end
const shared = {}; // what the first test leaves for the hostile-input test (the lot2 wafer's hash)

before(async () => {
  state = mkdtempSync(join(tmpdir(), 'waferscope-edge-'));
  port = await freePort();
  edge = await startEdge({ port, state });
});
after(async () => {
  await edge?.stop();
  if (state) rmSync(state, { recursive: true, force: true });
});

/** fetch, checking what every API answer must carry; returns the response and its body bytes. */
async function call(path, init = {}) {
  const r = await fetch(`${edge.base}${path}`, init);
  const body = Buffer.from(await r.arrayBuffer());
  seen.push(JSON.stringify([...r.headers]) + body.toString('latin1'));
  assert.match(r.headers.get('x-cache') ?? '', /^(HIT|MISS)$/, `${path}: X-Cache`);
  assert.match(r.headers.get('server-timing') ?? '', /total;dur=\d+/, `${path}: Server-Timing`);
  if (r.status >= 400) {
    const e = JSON.parse(body.toString());
    assert.equal(typeof e.error, 'string', `${path}: error code`);
    assert.equal(typeof e.detail, 'string', `${path}: error detail`);
  }
  return { r, body, json: () => JSON.parse(body.toString()) };
}

const auth = (token) => ({ authorization: `Bearer ${token}` });
const metrics = async (q = '') => (await call(`/api/v1/dev/metrics${q}`)).json();

/** A canonical feature grid: a disc with a failing ring (WM-811K's Edge-Ring look), plus `seed` noise. */
function ringGrid(seed) {
  const g = Buffer.alloc(SIZE * SIZE);
  let s = seed >>> 0;
  for (let r = 0; r < SIZE; r++) {
    for (let c = 0; c < SIZE; c++) {
      const d = Math.hypot(r - 31.5, c - 31.5);
      if (d > 31) continue;
      s = (s * 1664525 + 1013904223) >>> 0;
      const fail = d > 27 || s % 97 === 0;
      g[r * SIZE + c] = fail ? 255 : 1;
    }
  }
  return g;
}

test('the edge stores wafers, serves cached tiles and predictions, and a model release leaves no old prediction reachable', async (t) => {
  const native = JSON.parse(execFileSync(bin, ['classify', '--json', stdf('lot2.stdf.gz')]).toString()).wafers[0];
  let hash;
  let v1;

  await t.test('no model yet: predictions say so (503)', async () => {
    const { r, json } = await call('/api/v1/model');
    assert.equal(r.status, 503);
    assert.equal(json().error, 'no_model');
  });

  await t.test('admin endpoints refuse a missing (401) or wrong (403) token', async () => {
    const none = await call('/api/v1/admin/models/1', { method: 'PUT', body: 'x' });
    assert.equal(none.r.status, 401);
    assert.equal((await call('/api/v1/admin/release', { method: 'POST', body: '{"version":1}' })).r.status, 401);
    for (const token of ['wrong', UPLOAD_TOKEN]) {
      assert.equal((await uploadModel(edge.base, modelDir, 1, { token })).status, 403, token);
      assert.equal((await release(edge.base, 1, token)).status, 403, token);
    }
  });

  await t.test('a model version is uploaded (sha256 checked) and released', async () => {
    const up = await uploadModel(edge.base, modelDir, 1);
    assert.equal(up.status, 201, await up.clone().text());
    const again = await uploadModel(edge.base, modelDir, 1);
    assert.equal(again.status, 200, 'the same upload again is idempotent');
    // Weights that do not match the manifest's sha256 are refused, and nothing is stored.
    const bad = join(state, 'bad.bpk');
    const w = readFileSync(join(modelDir, 'weights.bpk'));
    w[w.length >> 1] ^= 1;
    writeFileSync(bad, w);
    const tampered = await uploadModel(edge.base, modelDir, 3, { weights: bad });
    assert.equal(tampered.status, 422);
    assert.match((await tampered.json()).detail, /sha256/);
    assert.equal((await call('/api/v1/model/3/weights')).r.status, 404);
    assert.equal((await release(edge.base, 3)).status, 404, 'an unknown version cannot be released');

    const rel = await release(edge.base, 1);
    assert.equal(rel.status, 200);
    const { r, json } = await call('/api/v1/model');
    assert.equal(r.status, 200);
    assert.equal(json().version, 1);
    assert.equal(json().classes.length, 9);
    const weights = await call(json().weights_url);
    assert.equal(weights.r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.deepEqual(weights.body, readFileSync(join(modelDir, 'weights.bpk')));
  });

  await t.test('uploads need the upload token; lot2.stdf.gz is stored and indexed', async () => {
    const bytes = readFileSync(stdf('lot2.stdf.gz'));
    assert.equal((await call('/api/v1/wafers', { method: 'PUT', body: bytes })).r.status, 401);
    assert.equal((await uploadWafer(edge.base, bytes, 'nope')).status, 403);
    const r = await uploadWafer(edge.base, bytes);
    const body = await r.json();
    assert.equal(r.status, 201, JSON.stringify(body));
    assert.equal(body.wafers.length, 1);
    const w = body.wafers[0];
    hash = w.hash;
    shared.hash = hash;
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(w.stored, true, 'each wafer says whether it was stored');
    assert.equal(w.wafer, native.id);
    assert.equal(w.feature_hash, native.feature_hash, 'the edge and the CLI make the same feature grid');
    // The same wafer in another compression has the same address.
    const bz = await (await uploadWafer(edge.base, readFileSync(stdf('lot2.stdf.bz2')))).json();
    assert.equal(bz.wafers[0].hash, hash);

    const list = (await call(`/api/v1/wafers?lot=${encodeURIComponent(w.lot)}`)).json();
    assert.deepEqual(list.wafers.map((x) => x.hash), [hash]);
    const meta = await call(`/api/v1/wafers/${hash}`);
    assert.equal(meta.json().dies, w.dies);
    const dies = await call(`/api/v1/wafers/${hash}/dies`);
    assert.equal(dies.r.status, 200);
    assert.equal(dies.body.subarray(0, 4).toString(), 'WSPK', 'the packed wafer the app opens');
    assert.equal(dies.body.length, w.packed_bytes);
  });

  await t.test('bad uploads: corrupt (400 with the offset), cut, not STDF, oversized (413); nothing stored', async () => {
    const before = (await call('/api/v1/wafers')).json().wafers.length;
    const lot2 = readFileSync(stdf('lot2.stdf.gz'));
    const plain = gunzipSync(lot2);
    const cases = [
      ['STS_001SRAM_8435_-30c_Nov_10_23h05m08s.stdf', readFileSync(stdf('STS_001SRAM_8435_-30c_Nov_10_23h05m08s.stdf'))],
      ['cut lot2', plain.subarray(0, Math.floor(plain.length * 0.6) + 3)],
      ['not STDF', Buffer.from('lot,wafer,x,y\n1,2,3,4\n')],
    ];
    for (const [name, bytes] of cases) {
      const r = await uploadWafer(edge.base, bytes);
      const e = await r.json();
      assert.equal(r.status, 400, `${name}: ${JSON.stringify(e)}`);
      assert.equal(e.error, 'corrupt_file', name);
      assert.match(e.detail, /offset \d+/, name);
    }
    const big = Buffer.alloc((32 << 20) + 1);
    const r = await uploadWafer(edge.base, big);
    assert.equal(r.status, 413);
    assert.equal((await call('/api/v1/wafers')).json().wafers.length, before, 'nothing was stored');
  });

  await t.test('tiles: MISS then HIT, ETag and 304, bad coordinates and layers 400, unknown wafer 404', async () => {
    const url = `/api/v1/wafers/${hash}/tiles/1/0/1.png?layer=hbin`;
    const a = await call(url);
    assert.equal(a.r.status, 200);
    assert.equal(a.r.headers.get('x-cache'), 'MISS');
    assert.equal(a.r.headers.get('content-type'), 'image/png');
    assert.equal(a.body.subarray(1, 4).toString(), 'PNG');
    assert.match(a.r.headers.get('cache-control'), /immutable/);
    const b = await call(url);
    assert.equal(b.r.headers.get('x-cache'), 'HIT');
    assert.deepEqual(b.body, a.body);
    const etag = a.r.headers.get('etag');
    assert.equal(b.r.headers.get('etag'), etag);
    const c = await call(url, { headers: { 'if-none-match': etag } });
    assert.equal(c.r.status, 304);
    assert.equal(c.body.length, 0);
    // The native rasterizer draws the same tile (same palette, same geometry).
    const nativeTile = join(state, 'tile.png');
    execFileSync(bin, ['render', stdf('lot2.stdf.gz'), '--tile', '1/0/1', '--size', '256', '-o', nativeTile]);
    assert.deepEqual(a.body, readFileSync(nativeTile), 'edge tile == CLI tile');
    for (const bad of ['21/0/0.png', '1/2/0.png', '1/0/-1.png', 'a/0/0.png', '1/0/1.jpg']) {
      const { r, json } = await call(`/api/v1/wafers/${hash}/tiles/${bad}`);
      assert.equal(r.status, 400, bad);
      assert.equal(json().error, 'bad_tile', bad);
    }
    for (const layer of ['nope', 'test:abc', 'test:999999999']) {
      const { r, json } = await call(`/api/v1/wafers/${hash}/tiles/0/0/0.png?layer=${layer}`);
      assert.equal(r.status, 400, layer);
      assert.equal(json().error, 'bad_layer', layer);
    }
    assert.equal((await call(`/api/v1/wafers/${'0'.repeat(64)}/tiles/0/0/0.png`)).r.status, 404);
    assert.equal((await call(`/api/v1/wafers/${'0'.repeat(64)}`)).r.status, 404);
    assert.equal((await call('/api/v1/wafers/xyz')).r.status, 400);
    assert.equal((await call('/api/v1/nothing')).r.status, 404);
  });

  await t.test('predictions: MISS then HIT, equal to the native model, bad tensors 400', async () => {
    const a = await call(`/api/v1/wafers/${hash}/prediction`);
    assert.equal(a.r.status, 200, a.body.toString());
    assert.equal(a.r.headers.get('x-cache'), 'MISS');
    v1 = a.json();
    assert.equal(v1.model_version, 1);
    assert.equal(v1.feature_hash, native.feature_hash);
    assert.equal(v1.label, native.label);
    for (const [k, p] of Object.entries(native.probabilities)) {
      assert.ok(Math.abs(v1.probabilities[k] - p) < 1e-5, `${k}: edge ${v1.probabilities[k]} vs native ${p}`);
    }
    // The same call as the CLI's: label or "uncertain: A or B", with calibrated probabilities.
    assert.equal(v1.confidence.call, native.confidence.call);
    assert.equal(v1.confidence.text, native.confidence.text);
    assert.ok(Math.abs(v1.confidence.probability - native.confidence.probability) < 1e-5);
    const b = await call(`/api/v1/wafers/${hash}/prediction`);
    assert.equal(b.r.headers.get('x-cache'), 'HIT');
    assert.deepEqual(b.json(), v1);

    const post = (body) => call('/api/v1/predict', { method: 'POST', body });
    const p1 = await post(ringGrid(1));
    assert.equal(p1.r.status, 200);
    assert.equal(p1.r.headers.get('x-cache'), 'MISS');
    assert.equal(p1.json().label, 'Edge-Ring');
    assert.equal(p1.json().confidence.call, 'label', JSON.stringify(p1.json().confidence));
    // A stored wafer of 6 dies gets no label, and says why; the CLI says the same.
    const small = stdf('Wafer_WM1578312E5_20170128_160106.stdf');
    const smallNative = JSON.parse(execFileSync(bin, ['classify', '--json', small]).toString()).wafers[0];
    const up = await (await uploadWafer(edge.base, readFileSync(small))).json();
    const sp = await call(`/api/v1/wafers/${up.wafers[0].hash}/prediction`);
    assert.equal(sp.r.status, 200, sp.body.toString());
    assert.equal(sp.json().label, null);
    assert.equal(sp.json().confidence.call, 'too_few_dies');
    assert.deepEqual(sp.json().confidence, smallNative.confidence);
    assert.match(sp.json().confidence.text, /^too few dies to classify \(6;/);
    assert.equal((await post(ringGrid(1))).r.headers.get('x-cache'), 'HIT');
    for (const bad of [Buffer.alloc(10), Buffer.alloc(SIZE * SIZE), Buffer.alloc(SIZE * SIZE + 1, 1)]) {
      const { r, json } = await post(bad);
      assert.equal(r.status, bad.length > SIZE * SIZE ? 413 : 400);
      if (r.status === 400) assert.equal(json().error, 'bad_tensor');
    }
  });

  await t.test('50 concurrent requests for one cold key compute it once; concurrent cold tiles all answer', async () => {
    const before = (await metrics()).computes.predictions;
    const grid = ringGrid(Date.now() & 0xffff);
    // A client of their own: anonymous predictions are rate-limited per client (100 a minute),
    // and this burst must not eat the budget of the tests' other requests.
    const answers = await Promise.all(Array.from({ length: 50 }, () =>
      call('/api/v1/predict', { method: 'POST', body: grid, headers: { 'cf-connecting-ip': '198.51.100.50' } })));
    assert.ok(answers.every((a) => a.r.status === 200));
    assert.equal(new Set(answers.map((a) => a.body.toString())).size, 1, 'one answer for all');
    assert.equal((await metrics()).computes.predictions - before, 1, 'computed once');
    // Cold tiles, many at once and several per key: every one answers. (Responses built in the
    // wrong request's context failed here with "Cannot perform I/O on behalf of a different
    // request" before the Worker built them in JS.)
    const tilesBefore = (await metrics()).computes.tiles;
    const urls = [];
    for (let x = 0; x < 8; x++) for (let k = 0; k < 5; k++) urls.push(`/api/v1/wafers/${hash}/tiles/3/${x}/4.png`);
    const tiles = await Promise.all(urls.map((u) => call(u)));
    assert.deepEqual(tiles.map((a) => a.r.status), urls.map(() => 200));
    assert.equal((await metrics()).computes.tiles - tilesBefore, 8, 'each of the 8 cold tiles drawn once');
  });

  await t.test('releasing a new model version: MISS under the new version, the old entry unreachable and purged', async () => {
    const fh = v1.feature_hash;
    const probe = async (v) => (await metrics(`?version=${v}&feature=${fh}`)).probe;
    assert.deepEqual(await probe(1), { memory: true, cache: true, kv: true }, 'v1 entry in every tier');
    assert.equal((await uploadModel(edge.base, modelDir, 2)).status, 201);
    const rel = await release(edge.base, 2);
    const out = await rel.json();
    assert.equal(rel.status, 200, JSON.stringify(out));
    assert.equal(out.current, 2);
    assert.equal(out.previous, 1);
    assert.equal(out.invalidated.model_version, 1);
    // lot2's prediction; posted grids never reach KV (their cache keys name the old version).
    assert.ok(out.invalidated.kv_deleted >= 1, JSON.stringify(out));
    assert.ok(out.invalidated.cache_deleted >= 1, JSON.stringify(out));
    assert.equal(out.purge.complete, true, JSON.stringify(out));
    assert.match(out.invalidated.purge_api, /not configured/);
    assert.deepEqual(await probe(1), { memory: false, cache: false, kv: false }, 'v1 entry purged everywhere');

    const a = await call(`/api/v1/wafers/${hash}/prediction`);
    assert.equal(a.r.headers.get('x-cache'), 'MISS');
    assert.equal(a.json().model_version, 2);
    assert.equal((await call('/api/v1/model')).json().version, 2);
    const b = await call(`/api/v1/wafers/${hash}/prediction`);
    assert.equal(b.r.headers.get('x-cache'), 'HIT');
    assert.equal(b.json().model_version, 2);
    assert.deepEqual(await probe(2), { memory: true, cache: true, kv: true });
  });

  await t.test('after a restart (fresh isolate) tiles and predictions come from the Cache API', async () => {
    await edge.stop();
    edge = await startEdge({ port, state });
    const tile = await call(`/api/v1/wafers/${hash}/tiles/1/0/1.png?layer=hbin`);
    assert.equal(tile.r.headers.get('x-cache'), 'HIT');
    assert.match(tile.r.headers.get('server-timing'), /tier;desc="cache"/);
    const p = await call(`/api/v1/wafers/${hash}/prediction`);
    assert.equal(p.r.headers.get('x-cache'), 'HIT');
    assert.equal(p.json().model_version, 2);
    assert.deepEqual((await metrics()).computes, { predictions: 0, tiles: 0, wafer_loads: 0, model_loads: 0 });
  });

  await t.test('CORS for the app origin only', async () => {
    const own = await call('/api/v1/model', { headers: { origin: edge.base } });
    assert.equal(own.r.headers.get('access-control-allow-origin'), edge.base);
    const other = await call('/api/v1/model', { headers: { origin: 'https://evil.example' } });
    assert.equal(other.r.headers.get('access-control-allow-origin'), null);
  });

  await t.test('the app is served from the same origin', async () => {
    const r = await fetch(`${edge.base}/`);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /<html/i);
  });

  await t.test('the app opens a shared link from the edge and shows the edge prediction beside its own', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors = [];
      const log = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
      page.on('worker', (w) => w.on('console', (m) => log.push(`worker ${m.type()}: ${m.text()}`)));
      page.on('requestfailed', (r) => log.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
      page.on('response', (r) => r.status() >= 400 && log.push(`HTTP ${r.status()}: ${r.url()}`));
      await page.goto(`${edge.base}/?wafer=${hash}`);
      // Settled either way; a timeout reports what the page shows, so a failure says why.
      await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('#status')?.dataset.state),
        null, { timeout: 60000 }).catch(() => {});
      const status = await page.evaluate(() => ({
        ...document.querySelector('#status').dataset,
        text: document.querySelector('#status').textContent,
        backend: document.querySelector('#backend')?.textContent,
      }));
      assert.equal(status.state, 'ready', JSON.stringify({ status, log, errors }, null, 1));
      assert.equal(status.wafer, native.id);
      assert.equal((await page.locator('#edge tr.edge-wafer').count()) >= 1, true, 'the edge wafer list');
      await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('#edge-prediction')?.dataset.state),
        null, { timeout: 60000 }).catch(() => {});
      const edgeSays = await page.evaluate(() => {
        const e = document.querySelector('#edge-prediction');
        return e ? { ...e.dataset, text: e.textContent } : {};
      });
      assert.equal(edgeSays.state, 'ready', JSON.stringify({ edgeSays, log, errors }, null, 1));
      assert.equal(edgeSays.label, native.label);
      assert.equal(edgeSays.hash, native.feature_hash, 'the page sends the same grid the CLI makes');
      assert.equal(edgeSays.version, '2');
      assert.match(edgeSays.cache, /^(HIT|MISS)$/);
      // The in-browser classifier's label, beside it.
      await page.waitForFunction(() => document.querySelector('#pattern-label')?.textContent.length > 0, null, { timeout: 60000 });
      assert.match(await page.locator('#pattern-label').textContent(), new RegExp(native.label));
      await page.screenshot({ path: join(root, 'target/e2e/edge-shared-link.png') });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});

/**
 * Send up to `cap` bytes as a streamed (chunked, no Content-Length) body, 1 MiB at a time as the
 * connection takes them. A server that answers early may reset the connection while the body is
 * still going out (or wrangler's local proxy may answer for it): then `status` is null. `sent`
 * is how much the body stream had given by then.
 */
async function chunkedUntilAnswered(path, { cap, method = 'POST', headers = {} }) {
  let sent = 0;
  const stream = new ReadableStream({
    pull(c) {
      if (sent >= cap) { c.close(); return; }
      sent += 1 << 20;
      c.enqueue(new Uint8Array(1 << 20));
    },
  });
  try {
    const r = await fetch(`${edge.base}${path}`, { method, body: stream, duplex: 'half', headers });
    // Only the Worker sets X-Cache: an answer without it is wrangler's local proxy saying it
    // lost the connection ("Network connection lost", 500) after the Worker answered early.
    const body = Buffer.from(await r.arrayBuffer());
    if (!r.headers.get('x-cache')) return { status: null, error: `proxy ${r.status}: ${body}`, sent };
    return { status: r.status, body, sent };
  } catch (e) {
    return { status: null, error: String(e.cause ?? e), sent };
  }
}

test('hostile input and heavy load: bounded bodies, no anonymous KV writes, atomic uploads, resumable releases, capped tiles', async (t) => {
  const hash = shared.hash;
  assert.ok(hash, 'the first test stored lot2');
  const wafers = async () => (await call('/api/v1/wafers')).json().wafers.length;

  await t.test('health: the Worker, R2 and KV answer', async () => {
    const { r, json } = await call('/api/v1/health');
    assert.equal(r.status, 200, JSON.stringify(json()));
    assert.deepEqual({ ...json(), model_version: undefined },
      { status: 'ok', worker: 'ok', kv: 'ok', r2: 'ok', model_version: undefined });
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  await t.test('every crafted file of tests/hostile/ is stored or refused with a reason (nested compression 400, bomb and memory 413)', async () => {
    const dir = join(root, 'tests/hostile');
    const want = {
      'gzip-in-gzip-in-gzip.stdf.gz': [400, /more than two layers of compression/],
      'gzip-bomb.stdf.gz': [413, /decompressed/],
      // 10,000 wafer headers: refused by the wafer count or by the reader's memory limit.
      'catalogue-times-wafers.stdf': [413, /more memory to read than the Worker allows|one upload stores at most/],
      // 3,000 wafers: over what one request may store, refused before any write.
      'one-die-per-wafer-wide-catalogue.stdf': [413, /wafers/],
    };
    for (const name of readdirSync(dir).filter((n) => !n.endsWith('.md') && statSync(join(dir, n)).isFile())) {
      const { r, json } = await call('/api/v1/wafers', { method: 'PUT', body: readFileSync(join(dir, name)), headers: auth(UPLOAD_TOKEN) });
      const [status, detail] = want[name] ?? [201, null];
      assert.equal(r.status, status, `${name}: ${JSON.stringify(json())}`);
      if (detail) assert.match(json().detail, detail, name);
    }
  });

  await t.test('a chunked body over the limit is 413 before it is all read (predict and upload)', async () => {
    // The Worker stops reading at limit + 1 and answers 413; the client sees the 413, or, when
    // it was still writing, the connection closed early. Either way far less than `cap` went out,
    // and the Worker counts one body refused.
    const refused = async () => (await metrics()).refused_bodies;
    const cases = [
      ['/api/v1/predict', { cap: 64 << 20 }],
      ['/api/v1/wafers', { cap: 160 << 20, method: 'PUT', headers: auth(UPLOAD_TOKEN) }],
    ];
    const before = await wafers();
    for (const [path, opts] of cases) {
      const n = await refused();
      const r = await chunkedUntilAnswered(path, opts);
      if (r.status !== null) {
        assert.equal(r.status, 413, r.body.toString());
        assert.equal(JSON.parse(r.body).error, 'too_large');
      }
      assert.ok(r.sent < opts.cap, `${path}: the Worker read all ${r.sent} bytes`);
      assert.equal(await refused() - n, 1, `${path}: refused once (${JSON.stringify(r)})`);
    }
    assert.equal(await wafers(), before, 'nothing was stored');
    // Under the limit, chunked is fine.
    const ok = await fetch(`${edge.base}/api/v1/predict`, { method: 'POST', duplex: 'half',
      body: new Blob([ringGrid(77)]).stream() });
    assert.equal(ok.status, 200, await ok.text());
  });

  await t.test('posted grids stay out of KV (memory and Cache API only); stored wafers\' predictions are in KV', async () => {
    const grid = ringGrid(4242);
    const p = await call('/api/v1/predict', { method: 'POST', body: grid });
    assert.equal(p.r.status, 200);
    const { model_version: v, feature_hash: fh } = p.json();
    const probe = (await metrics(`?version=${v}&feature=${fh}`)).probe;
    assert.deepEqual(probe, { memory: true, cache: true, kv: false });
    const w = (await call(`/api/v1/wafers/${hash}/prediction`)).json();
    assert.equal((await metrics(`?version=${v}&feature=${w.feature_hash}`)).probe.kv, true);
  });

  await t.test('anonymous predictions are rate-limited per client: 429 with Retry-After', async () => {
    const client = { 'cf-connecting-ip': '203.0.113.7' };
    const grid = ringGrid(99);
    const statuses = [];
    let limited;
    for (let i = 0; i < 250 && !limited; i++) {
      const a = await call('/api/v1/predict', { method: 'POST', body: grid, headers: client });
      statuses.push(a.r.status);
      if (a.r.status === 429) limited = a;
    }
    assert.ok(limited, `no 429 in ${statuses.length} requests`);
    // 100 a minute; the limiter counts in fixed 60 s windows, so a run that straddles a window's
    // end gets up to 100 more before its 429.
    const ok = statuses.filter((s) => s === 200).length;
    assert.ok(ok >= 100 && ok <= 200, `${ok} answered before the 429`);
    assert.equal(limited.json().error, 'rate_limited');
    assert.equal(limited.r.headers.get('retry-after'), '60');
    // Another client is not affected.
    const other = await call('/api/v1/predict', { method: 'POST', body: grid, headers: { 'cf-connecting-ip': '203.0.113.8' } });
    assert.equal(other.r.status, 200);
  });

  await t.test('an upload of more wafers than one request can store is refused before any write', async () => {
    const before = await wafers();
    const r = await uploadWafer(edge.base, stdfFile({ wafers: 329, side: 2, lot: 'MANY' }));
    const e = await r.json();
    assert.equal(r.status, 413, JSON.stringify(e).slice(0, 300));
    assert.equal(e.error, 'too_many_wafers');
    assert.match(e.detail, /328/);
    assert.equal(await wafers(), before, 'nothing was stored');
  });

  await t.test('index metadata over KV\'s 1,024 bytes (control characters count 6x) is refused before any write', async () => {
    const before = await wafers();
    const r = await uploadWafer(edge.base, stdfFile({ lot: '\x01'.repeat(64), text: '\x02'.repeat(64) }));
    const e = await r.json();
    assert.equal(r.status, 422, JSON.stringify(e));
    assert.equal(e.error, 'metadata_too_large');
    assert.match(e.detail, /1024/);
    assert.equal(await wafers(), before, 'nothing was stored, not even unlisted');
  });

  await t.test('a many-wafer upload within the limits reports each wafer; every stored wafer is listed', async () => {
    const r = await uploadWafer(edge.base, stdfFile({ wafers: 4, side: 6, lot: 'FOUR' }));
    const body = await r.json();
    assert.equal(r.status, 201, JSON.stringify(body));
    assert.equal(body.wafers.length, 4);
    assert.ok(body.wafers.every((w) => w.stored === true));
    const listed = (await call('/api/v1/wafers?lot=FOUR')).json().wafers.map((w) => w.hash).sort();
    assert.deepEqual(listed, body.wafers.map((w) => w.hash).sort());
    shared.four = body.wafers.map((w) => w.hash);
  });

  await t.test('when one wafer\'s index write fails, the others are stored and listed, and that one is neither (207)', async () => {
    const r = await fetch(`${edge.base}/api/v1/wafers`, { method: 'PUT', body: stdfFile({ wafers: 3, side: 4, lot: 'FAIL1' }),
      headers: { ...auth(UPLOAD_TOKEN), 'x-waferscope-fail-index': '1' } });
    const body = await r.json();
    assert.equal(r.status, 207, JSON.stringify(body));
    assert.deepEqual(body.wafers.map((w) => w.stored), [true, false, true]);
    assert.doesNotMatch(body.wafers[1].error, /injected/, 'internal detail stays in the log');
    const listed = (await call('/api/v1/wafers?lot=FAIL1')).json().wafers.map((w) => w.hash).sort();
    assert.deepEqual(listed, [body.wafers[0].hash, body.wafers[2].hash].sort());
    assert.equal((await call(`/api/v1/wafers/${body.wafers[1].hash}`)).r.status, 404, 'not stored but unlisted');
    // The same upload again stores it.
    const again = await (await uploadWafer(edge.base, stdfFile({ wafers: 3, side: 4, lot: 'FAIL1' }))).json();
    assert.ok(again.wafers.every((w) => w.stored));
    assert.equal((await call('/api/v1/wafers?lot=FAIL1')).json().wafers.length, 3);
  });

  await t.test('a cursor the edge did not hand out is 400, with no internal detail', async () => {
    for (const c of ['x', 'AAAA', '%00']) {
      const { r, json } = await call(`/api/v1/wafers?cursor=${c}`);
      assert.equal(r.status, 400, c);
      assert.equal(json().error, 'bad_cursor', c);
      assert.doesNotMatch(json().detail, /KV|JsValue|Error:/, c);
    }
  });

  await t.test('tiles: zoom is capped to what the wafer needs (400 beyond), layer names have one form, Vary: Origin always', async () => {
    const deep = await call(`/api/v1/wafers/${hash}/tiles/20/0/0.png`);
    assert.equal(deep.r.status, 400);
    assert.equal(deep.json().error, 'zoom_too_deep');
    assert.match(deep.json().detail, /zoom \d+/);
    const a = await call(`/api/v1/wafers/${hash}/tiles/0/0/0.png?layer=test:1000`);
    assert.equal(a.r.status, 200, a.body.toString());
    const b = await call(`/api/v1/wafers/${hash}/tiles/0/0/0.png?layer=test:001000`);
    assert.equal(b.r.status, 200);
    assert.equal(b.r.headers.get('etag'), a.r.headers.get('etag'), 'one key for test:1000 and test:001000');
    assert.equal(b.r.headers.get('x-cache'), 'HIT');
    assert.match(a.r.headers.get('vary') ?? '', /Origin/, 'immutable tiles vary by Origin for CORS');
  });

  await t.test('only released model versions are downloadable; racing uploads of one version cannot mix weights', async () => {
    assert.equal((await uploadModel(edge.base, modelDir, 5)).status, 201);
    assert.equal((await call('/api/v1/model/5/weights')).r.status, 404, 'version 5 is not released');
    // Two valid models with different weights race for version 6.
    const w = readFileSync(join(modelDir, 'weights.bpk'));
    const alt = Buffer.from(w);
    alt[alt.length - 8] ^= 1;
    const altPath = join(state, 'alt.bpk');
    writeFileSync(altPath, alt);
    const altDir = join(state, 'altmodel');
    mkdirSync(altDir, { recursive: true });
    const m = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8'));
    m.sha256 = createHash('sha256').update(alt).digest('hex');
    writeFileSync(join(altDir, 'manifest.json'), JSON.stringify(m));
    const [x, y] = await Promise.all([uploadModel(edge.base, modelDir, 6), uploadModel(edge.base, altDir, 6, { weights: altPath })]);
    assert.deepEqual([x.status, y.status].sort(), [201, 409], `${await x.text()} ${await y.text()}`);
    assert.equal((await release(edge.base, 6)).status, 200);
    const info = (await call('/api/v1/model')).json();
    const got = (await call(info.weights_url)).body;
    assert.equal(createHash('sha256').update(got).digest('hex'), info.sha256, 'weights match the manifest');
  });

  await t.test('an interrupted release purge resumes from its stored cursor when the release is retried', async () => {
    // Version 6 is current; give it predictions in KV (stored wafers only), then release 7
    // with a dev-only budget of one key per request, as if each request died after one key.
    const v = (await call('/api/v1/model')).json().version;
    const fhs = [];
    for (const h of [hash, ...shared.four]) {
      const p = await call(`/api/v1/wafers/${h}/prediction`);
      assert.equal(p.r.status, 200, p.body.toString());
      fhs.push(p.json().feature_hash);
    }
    const inKv = async () => {
      let n = 0;
      for (const fh of new Set(fhs)) n += (await metrics(`?version=${v}&feature=${fh}`)).probe.kv ? 1 : 0;
      return n;
    };
    const total = await inKv();
    assert.ok(total >= 2, `${total} keys of version ${v} in KV`);
    assert.equal((await uploadModel(edge.base, modelDir, 7)).status, 201);
    const once = () => fetch(`${edge.base}/api/v1/admin/release`, { method: 'POST', headers: auth(ADMIN_TOKEN),
      body: JSON.stringify({ version: 7, purge_budget: 1 }) });
    const first = await once();
    const out = await first.json();
    assert.equal(first.status, 202, JSON.stringify(out));
    assert.equal(out.current, 7);
    assert.equal(out.purge.complete, false);
    assert.equal(await inKv(), total - 1, 'one key purged, the rest waits');
    let tries = 1;
    for (;;) {
      const r = await once();
      const o = await r.json();
      tries++;
      assert.equal(o.current, 7, JSON.stringify(o));
      assert.equal(o.previous, 7, 'a retry sees previous == current and still continues');
      if (r.status === 200) { assert.equal(o.purge.complete, true); break; }
      assert.equal(r.status, 202);
      assert.ok(tries < 20, 'the purge finishes');
    }
    assert.equal(await inKv(), 0, 'every key of the old version purged');
    assert.ok(tries >= total, `one key per request: ${tries} requests for ${total} keys`);
    // Complete: one more release of 7 has nothing to do.
    const again = await (await release(edge.base, 7)).json();
    assert.equal(again.purge.complete, true);
    assert.equal(again.invalidated.kv_deleted, 0, JSON.stringify(again));
  });

  await t.test('no secret in any response', () => {
    for (const s of seen) {
      assert.ok(!s.includes(UPLOAD_TOKEN) && !s.includes(ADMIN_TOKEN));
    }
  });
});
