// The installed, offline app (issue 14), in headless Chromium: after one visit the app starts and
// opens a file with the network off; a new build is offered, never swapped under an open file;
// the manifest and service worker pass Chromium's installability checks.
//
// Facts come from the native CLI, as in browser.test.mjs. Each test serves its own copy of the
// build, so that one can change it under a running page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, launchPersistent } from './lib/chromium.mjs';
import { serve } from './lib/serve.mjs';
import { corpus, root } from './lib/corpus.mjs';
import { classes as order } from './lib/model.mjs';
import { decodePng } from './lib/png.mjs';

const dist = process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist');
const bin = process.env.WAFERSCOPE_BIN ?? join(root, 'target/debug/waferscope');
const lot2 = join(corpus, 'stdf/lot2.stdf.gz');

/** A private copy of the build on its own port. */
async function served() {
  const dir = mkdtempSync(join(tmpdir(), 'waferscope-pwa-'));
  cpSync(dist, dir, { recursive: true });
  const server = await serve(dir);
  return { dir, server, url: `http://127.0.0.1:${server.address().port}/`, close: () => { server.close(); rmSync(dir, { recursive: true, force: true }); } };
}

const status = (page) => page.evaluate(() => ({ ...document.querySelector('#status').dataset }));
const until = (page, fn, arg, timeout = 60000) => page.waitForFunction(fn, arg, { timeout });
const swReady = (page) => until(page, () => document.querySelector('#status')?.dataset.sw === 'ready');

async function openFile(page, file) {
  await page.setInputFiles('#file-input', file);
  await until(page, () => ['ready', 'error'].includes(document.querySelector('#status')?.dataset.state)
    && !document.querySelector('#progress'));
}

for (const mode of ['webgpu', 'webgl2']) {
  test(`offline after one visit (${mode})`, async () => {
    const native = JSON.parse(execFileSync(bin, ['classify', '--json', lot2]).toString()).wafers[0];
    const info = JSON.parse(execFileSync(bin, ['info', '--json', lot2]).toString()).wafers[0];
    const site = await served();
    const browser = await launch(mode);
    try {
      const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(site.url);
      // The first visit: the service worker installs every built file, then serves the page.
      await swReady(page);
      assert.equal((await page.textContent('#offline')).trim(), 'works offline');

      await context.setOffline(true);
      // The server is gone too: nothing can come from the network, only from the browser.
      site.server.close();
      await page.reload();
      await until(page, () => { const t = document.querySelector('#backend')?.textContent; return t && !t.includes('starting'); });
      await openFile(page, lot2);
      const s = await status(page);
      assert.equal(s.state, 'ready', await page.evaluate(() => document.querySelector('#error')?.textContent ?? ''));
      assert.equal(s.wafer, info.id);
      assert.equal(Number(s.dies), info.dies);
      // The map is on screen: dies of the file have their bin's colour.
      await page.waitForTimeout(800); // a lost WebGPU device (SwiftShader) falls back and redraws
      const csv = execFileSync(bin, ['export', lot2, '--format', 'csv', '--wafer', info.id], { maxBuffer: 1 << 26 }).toString().trim().split('\n');
      const head = csv[0].split(',');
      const [xi, yi, bi] = ['x', 'y', 'hard_bin'].map((k) => head.indexOf(k));
      const box = await page.locator('#map').boundingBox();
      const shot = decodePng(await page.screenshot());
      for (const line of csv.slice(1, 7)) {
        const d = line.split(',');
        const [sx, sy] = await page.evaluate(([x, y]) => window.waferscope_die_screen(x, y), [Number(d[xi]), Number(d[yi])]);
        const want = await page.evaluate((b) => window.waferscope_bin_color(b, true), Number(d[bi]));
        const px = shot.pixel(Math.round(box.x + sx), Math.round(box.y + sy));
        assert.ok(want.slice(0, 3).every((v, i) => Math.abs(v - px[i]) <= 1), `die ${d[xi]},${d[yi]}: ${px}, want ${want}`);
      }
      // The label, from the weights the service worker kept, as the CLI computes it.
      await until(page, () => document.querySelector('#status')?.dataset.confidence)
        .catch(async (e) => { throw new Error(`no label offline: ${JSON.stringify(await status(page))}; errors ${errors}: ${e.message}`); });
      const got = (await status(page)).probs.split(',').map(Number);
      order.forEach((c, i) => assert.ok(Math.abs(got[i] - native.probabilities[c]) <= 1e-3,
        `${c}: offline browser ${got[i]}, native ${native.probabilities[c]}`));
      const conf = JSON.parse((await status(page)).confidence);
      assert.equal(conf.call, native.confidence.call);
      assert.equal(conf.label, native.confidence.label);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      site.close();
    }
  });
}

test('a new build is offered, and swapped only when the user asks', async () => {
  const site = await served();
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(site.url);
    await swReady(page);
    await openFile(page, lot2);
    await page.evaluate(() => { window.__firstLoad = true; });

    // A new build appears on the server: another page, and the service worker it comes with.
    const html = join(site.dir, 'index.html');
    writeFileSync(html, readFileSync(html, 'utf8').replace('<head>', '<head><meta name="waferscope-test-build" content="2">'));
    execFileSync('node', [join(root, 'app/pwa/build.mjs'), site.dir]);
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.update()));

    await page.waitForSelector('#update', { timeout: 60000 });
    assert.match(await page.textContent('#update'), /new version.*Reload to update/s);
    // Not swapped under the open file: same page, same file, old build.
    assert.ok(await page.evaluate(() => window.__firstLoad));
    assert.equal((await status(page)).wafer, 'GAL-LOT-02');
    assert.equal(await page.locator('meta[name="waferscope-test-build"]').count(), 0);

    await Promise.all([page.waitForEvent('load'), page.click('#update-reload')]);
    await swReady(page);
    assert.equal(await page.locator('meta[name="waferscope-test-build"]').count(), 1, 'the new build runs after the reload');
    assert.equal(await page.evaluate(() => window.__firstLoad), undefined);
  } finally {
    await browser.close();
    site.close();
  }
});

test('Chromium finds the app installable', async () => {
  const site = await served();
  const profile = mkdtempSync(join(tmpdir(), 'waferscope-profile-'));
  const context = await launchPersistent(profile);
  try {
    const page = await context.newPage();
    await page.goto(site.url);
    await swReady(page);
    const cdp = await context.newCDPSession(page);
    const manifest = await cdp.send('Page.getAppManifest');
    assert.deepEqual(manifest.errors, [], 'the web manifest parses cleanly');
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, []);
    // What the OS offers it for: the tester files the page opens.
    const exts = JSON.parse(manifest.data).file_handlers[0].accept['application/octet-stream'];
    assert.deepEqual(exts, ['.stdf', '.std', '.gz', '.xz', '.bz2', '.zip']);
  } finally {
    await context.close();
    site.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

// The local library: every file opened is kept (packed) with its facts, across reloads and
// offline; reopening one draws the same map without the original; delete and rename stick.
test('the library keeps opened files, offline too', async () => {
  const a595 = join(corpus, 'stdf/a595.stdf');
  const facts = (f) => JSON.parse(execFileSync(bin, ['info', '--json', f]).toString());
  const [lot2Info, a595Info] = [facts(lot2), facts(a595)];
  const site = await served();
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => d.accept(d.type() === 'prompt' ? 'lot two, probe card 7' : undefined));
    await page.goto(site.url);
    await swReady(page);
    const rows = () => page.$$eval('#library tr[data-id]', (trs) => trs.map((tr) => ({
      id: tr.dataset.id, name: tr.querySelector('.library-open').textContent, facts: tr.querySelector('.library-facts').textContent,
    })));
    const classified = (n) => until(page, (n) => {
      const f = [...document.querySelectorAll('#library .library-facts')].map((e) => e.textContent);
      return f.length === n && f.every((t) => !t.includes('not classified yet'));
    }, n);
    // The map canvas as pixels, with the pointer away from it (no tooltip).
    const mapPixels = async () => {
      await page.mouse.move(0, 0);
      await page.waitForTimeout(800);
      return decodePng(await page.locator('#map').screenshot());
    };

    await openFile(page, lot2);
    const first = await mapPixels();
    await openFile(page, a595);
    await classified(2);
    let kept = await rows();
    assert.deepEqual(kept.map((r) => r.name), ['a595.stdf', 'lot2.stdf.gz'], 'newest first');
    const dies = (info) => info.wafers.reduce((n, w) => n + w.dies, 0);
    for (const [row, info] of [[kept[0], a595Info], [kept[1], lot2Info]]) {
      assert.match(row.facts, new RegExp(`${info.wafers.length} wafers? · ${dies(info)} dies · yield `));
      assert.match(row.facts, /\(model v\d+\)/, 'the pattern and its model version');
    }
    const native = JSON.parse(execFileSync(bin, ['classify', '--json', lot2]).toString());
    assert.ok(kept[1].facts.includes(`${native.wafers[0].confidence.label ?? 'no label'} (model v${native.model_version})`), kept[1].facts);
    assert.match(await page.textContent('#library-usage'), /MB of .* used on this device/);

    // Offline, after a reload: both are still there, and lot2 reopens from the library alone.
    await context.setOffline(true);
    site.server.close();
    await page.reload();
    await until(page, () => document.querySelectorAll('#library tr[data-id]').length === 2);
    await page.click(`#library tr[data-id="${kept[1].id}"] .library-open`);
    await until(page, () => document.querySelector('#status')?.dataset.state === 'ready');
    const s = await status(page);
    assert.equal(s.wafer, lot2Info.wafers[0].id);
    assert.equal(Number(s.dies), lot2Info.wafers[0].dies);
    const again = await mapPixels();
    assert.equal(again.width, first.width);
    let differ = 0;
    for (let i = 0; i < first.data.length; i++) differ += first.data[i] !== again.data[i];
    assert.equal(differ, 0, 'the reopened map is the same picture, pixel for pixel');
    await until(page, () => document.querySelector('#status')?.dataset.confidence);
    assert.equal((await rows()).length, 2, 'reopening does not keep a second copy');
    // Its time opened moves it first, and its pattern stays (both changes land).
    await until(page, (id) => document.querySelector('#library tr[data-id]')?.dataset.id === id, kept[1].id);
    assert.match((await rows())[0].facts, /\(model v\d+\)/);

    // Rename one, delete the other: both stick after a reload.
    await page.click(`#library tr[data-id="${kept[1].id}"] .library-rename`);
    await page.click(`#library tr[data-id="${kept[0].id}"] .library-delete`);
    await until(page, () => document.querySelectorAll('#library tr[data-id]').length === 1);
    await page.reload();
    await until(page, () => document.querySelectorAll('#library tr[data-id]').length === 1);
    kept = await rows();
    assert.equal(kept[0].name, 'lot two, probe card 7');

    // Clear all (confirmed): empty after a reload.
    await page.click('#library-clear');
    await until(page, () => document.querySelectorAll('#library tr[data-id]').length === 0);
    await page.reload();
    await until(page, () => document.querySelector('#library')?.dataset.count === '0');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    site.close();
  }
});

// Storage full (simulated: IndexedDB's put refuses with the QuotaExceededError a full origin
// gives): the page says so, the file still shows, and what was kept stays readable.
test('a full quota is a clear message and loses nothing already kept', async () => {
  const site = await served();
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    await context.addInitScript(() => {
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (...args) {
        if (localStorage.getItem('waferscope-test-quota') === 'full') {
          throw new DOMException('simulated: the origin is out of space', 'QuotaExceededError');
        }
        return put.apply(this, args);
      };
    });
    const page = await context.newPage();
    await page.goto(site.url);
    await openFile(page, lot2);
    // Kept, and its pattern written too: no write of lot2's is pending when the disk fills.
    await until(page, () => /\(model v\d+\)/.test(document.querySelector('#library .library-facts')?.textContent ?? ''));
    await page.evaluate(() => localStorage.setItem('waferscope-test-quota', 'full'));
    await openFile(page, join(corpus, 'stdf/a595.stdf'));
    await page.waitForSelector('#library-note');
    const note = await page.textContent('#library-note');
    assert.match(note, /a595\.stdf was not kept in the library: this site's storage is full/);
    assert.match(note, /QuotaExceededError/);
    assert.match(note, /Everything kept before is still there/);
    assert.equal((await status(page)).wafer, '02', 'the file is open all the same');
    await page.evaluate(() => localStorage.removeItem('waferscope-test-quota'));
    await page.reload();
    await until(page, () => document.querySelectorAll('#library tr[data-id]').length === 1);
    assert.equal(await page.textContent('#library .library-open'), 'lot2.stdf.gz');
  } finally {
    await browser.close();
    site.close();
  }
});

test('the library keeps the original file when asked, and saves it back byte for byte, offline too', async () => {
  const a595 = join(corpus, 'stdf/a595.stdf');
  const site = await served();
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(site.url);
    await swReady(page);
    assert.equal(await page.isChecked('#library-keep-original'), false, 'off by default: packed only');
    await openFile(page, lot2);
    await until(page, () => document.querySelectorAll('#library tr[data-id]').length === 1);
    await page.check('#library-keep-original');
    await openFile(page, a595);
    await until(page, () => document.querySelectorAll('#library tr[data-id]').length === 2);
    const originals = () => page.$$eval('#library tr[data-id]', (trs) => trs.map((tr) => [
      tr.querySelector('.library-open').textContent, tr.querySelector('.library-original')?.textContent ?? null]));
    const size = (readFileSync(a595).length / 1e6).toFixed(1);
    assert.deepEqual(await originals(), [['a595.stdf', `original (${size} MB)`], ['lot2.stdf.gz', null]]);
    // A lot of two files chosen together keeps each of them, under its own name.
    const demo = mkdtempSync(join(tmpdir(), 'ws-demo-'));
    execFileSync(bin, ['demo', '-o', demo]);
    const lotFiles = ['WSDEMO1_three_wafers.stdf', 'WSDEMO2_big_endian.stdf'].map((f) => join(demo, f));
    await page.setInputFiles('#file-input', lotFiles);
    await until(page, () => document.querySelectorAll('#library tr[data-id]').length === 3);
    const lotRow = '#library tr[data-id]:first-child';
    const lotButtons = await page.$$eval(`${lotRow} .library-original`, (bs) => bs.map((b) => b.textContent));
    assert.deepEqual(lotButtons, lotFiles.map((f) => `original ${f.split('/').pop()} (${(readFileSync(f).length / 1e6).toFixed(1)} MB)`));
    // lot2 was replaced on screen at once, likely before its label came: it still gets it.
    await until(page, () => [...document.querySelectorAll('#library .library-facts')]
      .every((e) => /\(model v\d+\)/.test(e.textContent)));

    // Offline, after a reload: the setting stuck, and the original comes back as it was.
    await context.setOffline(true);
    site.server.close();
    await page.reload();
    await until(page, () => document.querySelectorAll('#library tr[data-id]').length === 3);
    await until(page, () => document.querySelector('#library-keep-original')?.checked);
    const a595Row = '#library tr[data-id]:nth-child(2)';
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`${a595Row} .library-original`)]);
    assert.equal(download.suggestedFilename(), 'a595.stdf');
    assert.ok(readFileSync(await download.path()).equals(readFileSync(a595)), 'the same bytes');
    for (const [i, f] of lotFiles.entries()) {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(`${lotRow} .library-original[data-index="${i}"]`)]);
      assert.equal(d.suggestedFilename(), f.split('/').pop());
      assert.ok(readFileSync(await d.path()).equals(readFileSync(f)), `the same bytes: ${f}`);
    }
    // Deleting the entries deletes their originals.
    await page.click(`${lotRow} .library-delete`);
    await until(page, () => document.querySelectorAll('#library tr[data-id]').length === 2);
    await page.click('#library tr[data-id] .library-delete');
    await until(page, () => document.querySelectorAll('#library tr[data-id]').length === 1);
    const left = await page.evaluate(() => new Promise((resolve) => {
      const r = indexedDB.open('waferscope');
      r.onsuccess = () => { const q = r.result.transaction('originals').objectStore('originals').count(); q.onsuccess = () => resolve(q.result); };
    }));
    assert.equal(left, 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    site.close();
  }
});
