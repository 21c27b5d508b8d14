// End-to-end tests of the edge Worker on workerd (wrangler dev, local mode: real Cache API, KV and
// R2, persisted in a temporary folder). Run by `cargo xtask test` after it builds the Worker.
//
// Facts about files come from the native CLI (an independent parse and the same model natively).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { launch } from './chromium.mjs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { startEdge, freePort, uploadModel, release, uploadWafer, root, UPLOAD_TOKEN, ADMIN_TOKEN } from './edge.mjs';

const bin = process.env.WAFERSCOPE_BIN ?? join(root, 'target/release/waferscope');
const corpus = process.env.WAFERSCOPE_CORPUS ?? join(root, '../shared/corpus');
const stdf = (name) => join(corpus, 'stdf', name);
const modelDir = join(root, 'public/model');
const SIZE = 64;
mkdirSync(join(root, 'target/e2e'), { recursive: true });

let edge;
let state;
let port;
const seen = []; // every response's headers and body, checked for leaked secrets at the end

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
    assert.match(hash, /^[0-9a-f]{64}$/);
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
    const b = await call(`/api/v1/wafers/${hash}/prediction`);
    assert.equal(b.r.headers.get('x-cache'), 'HIT');
    assert.deepEqual(b.json(), v1);

    const post = (body) => call('/api/v1/predict', { method: 'POST', body });
    const p1 = await post(ringGrid(1));
    assert.equal(p1.r.status, 200);
    assert.equal(p1.r.headers.get('x-cache'), 'MISS');
    assert.equal(p1.json().label, 'Edge-Ring');
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
    const answers = await Promise.all(Array.from({ length: 50 }, () =>
      call('/api/v1/predict', { method: 'POST', body: grid })));
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
    assert.ok(out.invalidated.kv_deleted >= 3, JSON.stringify(out)); // lot2 + two posted grids
    assert.ok(out.invalidated.cache_deleted >= 3, JSON.stringify(out));
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

  await t.test('no secret in any response', () => {
    for (const s of seen) {
      assert.ok(!s.includes(UPLOAD_TOKEN) && !s.includes(ADMIN_TOKEN));
    }
  });
});
