// Model updates in the page served by the edge (issue 14), on workerd with headless Chromium:
// a model released while the page is open is taken for the next file and named on its label;
// weights that do not match their sha256 are refused and the model in use stays; offline, the
// last verified model is used.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from './lib/chromium.mjs';
import { startEdge, freePort, uploadModel, release, root } from './lib/edge.mjs';
import { corpus } from './lib/corpus.mjs';
import { manifest as shipped } from './lib/model.mjs';

const stdf = (name) => join(corpus, 'stdf', name);
const modelDir = join(root, 'public/model');
const v = shipped.model_version;

let edge;
let state;
before(async () => {
  state = mkdtempSync(join(tmpdir(), 'waferscope-edge-model-'));
  edge = await startEdge({ port: await freePort(), state });
  // The edge starts on the page's own model.
  assert.equal((await uploadModel(edge.base, modelDir, v)).status, 201);
  assert.equal((await release(edge.base, v)).status, 200);
});
after(async () => {
  await edge?.stop();
  if (state) rmSync(state, { recursive: true, force: true });
});

/** A page on the edge, with helpers: open a file and wait for its classification. */
async function edgePage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${edge.base}/`);
  await page.waitForSelector('#edge', { timeout: 60000 }); // the edge's API answered
  const status = () => page.evaluate(() => ({ ...document.querySelector('#status').dataset }));
  const open = async (file, wafer) => {
    await page.setInputFiles('#file-input', file);
    await page.waitForFunction((w) => {
      const d = document.querySelector('#status')?.dataset;
      return d?.state === 'ready' && d.wafer === w && d.classifyModel;
    }, wafer, { timeout: 60000 });
    return status();
  };
  return { context, page, errors, status, open };
}

const releaseModel = async (version) => {
  assert.equal((await uploadModel(edge.base, modelDir, version)).status, 201);
  assert.equal((await release(edge.base, version)).status, 200);
};

test('the page takes a released model for the next file, and refuses weights that do not match', async () => {
  const browser = await launch();
  try {
    // No service worker here: the tampered weights below come from a page route.
    const { page, errors, open } = await edgePage(browser, { serviceWorkers: 'block' });
    assert.equal((await open(stdf('lot2.stdf.gz'), 'GAL-LOT-02')).classifyModel, String(v));

    // Released while the page is open: the next file is classified by it, and says so.
    await releaseModel(v + 1);
    let s = await open(stdf('a595.stdf'), '02');
    assert.equal(s.classifyModel, String(v + 1));
    assert.equal(s.model, `v${v + 1}`);
    assert.ok((await page.textContent('#pattern-label')).endsWith(`· model v${v + 1}`));
    assert.match(await page.textContent('#model-note'), new RegExp(`model v${v + 1} from the edge replaces v${v}`));

    // The next release's weights arrive altered: refused, the model in use stays.
    await releaseModel(v + 2);
    const weights = readFileSync(join(modelDir, shipped.weights));
    weights[weights.length >> 1] ^= 1;
    await page.route(`**/api/v1/model/${v + 2}/weights`, (r) => r.fulfill({ status: 200, body: weights }));
    s = await open(stdf('lot2.stdf.gz'), 'GAL-LOT-02');
    assert.equal(s.classifyModel, String(v + 1));
    assert.equal(s.model, `v${v + 1}`);
    assert.match(await page.textContent('#model-note'),
      new RegExp(`the edge's model v${v + 2} was refused: its weights have sha256 [0-9a-f]{64}, its manifest says ${shipped.sha256}; model v${v + 1} stays`));

    // An edge that does not answer holds a file back 3 s at most; the model in use goes on.
    let answer;
    await page.route('**/api/v1/model', async (r) => { await new Promise((ok) => { answer = ok; }); await r.continue(); });
    const t0 = Date.now();
    s = await open(stdf('a595.stdf'), '02');
    assert.ok(Date.now() - t0 < 20000, `opened in ${Date.now() - t0} ms`);
    assert.equal(s.classifyModel, String(v + 1));
    assert.match(await page.textContent('#model-note'), /did not say which model is current within 3 s/);
    answer?.();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('offline, the last model verified from the edge stays in use', async () => {
  const browser = await launch();
  try {
    // A version newer than the page's own, released before the page opens.
    const current = (await (await fetch(`${edge.base}/api/v1/model`)).json()).version + 1;
    await releaseModel(current);
    const { context, page, errors, open } = await edgePage(browser);
    assert.equal((await open(stdf('lot2.stdf.gz'), 'GAL-LOT-02')).classifyModel, String(current));
    await page.waitForFunction(() => document.querySelector('#status')?.dataset.sw === 'ready', null, { timeout: 60000 });

    await context.setOffline(true);
    await page.reload();
    // The page starts on its own weights, then takes the kept model (its sha256 checked again).
    await page.waitForFunction((m) => document.querySelector('#status')?.dataset.model === m, `v${current}`, { timeout: 60000 });
    await page.setInputFiles('#file-input', stdf('lot2.stdf.gz'));
    await page.waitForFunction(() => document.querySelector('#status')?.dataset.classifyModel, null, { timeout: 60000 });
    assert.equal(await page.evaluate(() => document.querySelector('#status').dataset.classifyModel), String(current));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
