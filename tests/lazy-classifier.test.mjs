// The map never waits for the classifier (issue 14), in headless Chromium, both modes: with every
// classifier file held back by the network, a file still opens and its map is drawn; released,
// the label follows, from the build that matches the browser (the WebGPU one only where WebGPU
// exists; the other is never fetched). The service worker keeps that one build only. With no
// file open, the page starts it when first idle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch } from './lib/chromium.mjs';
import { serve } from './lib/serve.mjs';
import { corpus, root } from './lib/corpus.mjs';

const dist = process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist');
const lot2 = join(corpus, 'stdf/lot2.stdf.gz');
const status = (page) => page.evaluate(() => ({ ...document.querySelector('#status').dataset }));
const until = (page, fn, arg, timeout = 60000) => page.waitForFunction(fn, arg, { timeout });

for (const mode of ['webgl2', 'webgpu']) {
  test(`the map opens before the classifier arrives, which is the ${mode === 'webgpu' ? 'WebGPU' : 'CPU'} build (${mode})`, async () => {
    const server = await serve(dist);
    const url = `http://127.0.0.1:${server.address().port}/`;
    const browser = await launch(mode);
    try {
      const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const fetched = [];
      context.on('request', (r) => fetched.push(new URL(r.url()).pathname));
      // Hold every classifier file until the map is on screen.
      const held = [];
      let release;
      const released = new Promise((r) => { release = r; });
      await context.route(/\/classify_(cpu|gpu)/, async (route) => {
        // The page's own requests (the service worker's install asks for its build too).
        if (!route.request().serviceWorker()) held.push(new URL(route.request().url()).pathname);
        await released;
        await route.continue();
      });

      // No idle start (the last test's): this one takes the path of a file opened at once,
      // whose map starts the classifier.
      await page.addInitScript(() => { window.requestIdleCallback = () => 0; });
      await page.goto(url);
      await page.setInputFiles('#file-input', lot2);
      await until(page, () => document.querySelector('#status')?.dataset.state === 'ready');
      const s = await status(page);
      assert.ok(s.wafer && Number(s.dies) > 0, 'the map is drawn while the classifier is held back');
      assert.ok(!s.classifyBackend, 'no label yet: the classifier has not arrived');
      const want = mode === 'webgpu' ? 'gpu' : 'cpu';
      const other = mode === 'webgpu' ? 'cpu' : 'gpu';

      release();
      await until(page, () => document.querySelector('#status')?.dataset.classifyBackend);
      assert.ok(held.some((p) => p.includes(`classify_${want}`)), `the page asked for classify_${want}: ${held}`);
      assert.ok(!fetched.some((p) => p.includes(`classify_${other}`)), `classify_${other} is never fetched: ${fetched}`);

      // The service worker keeps the same build, and only it.
      await until(page, () => document.querySelector('#status')?.dataset.sw === 'ready');
      const kept = await page.evaluate(async () => {
        const out = [];
        for (const key of await caches.keys()) {
          for (const req of await (await caches.open(key)).keys()) out.push(new URL(req.url).pathname);
        }
        return out;
      });
      assert.ok(kept.some((p) => p === `/classify_${want}_bg.wasm`), `cached: ${kept}`);
      assert.ok(!kept.some((p) => p.includes(`classify_${other}`)), `cached: ${kept}`);
      assert.ok(kept.includes('/parsing.js'), `cached: ${kept}`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      server.close();
    }
  });
}

// With no file open, the page starts the classifier at its first idle moment: its compilation
// and warm-up happen while the user picks a file, and a file's label follows its map sooner.
test('with no file open, the classifier starts when the page is idle (webgl2)', async () => {
  const server = await serve(dist);
  const url = `http://127.0.0.1:${server.address().port}/`;
  const browser = await launch('webgl2');
  try {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const asked = new Promise((resolve) => context.on('request', (r) => {
      if (!r.serviceWorker() && r.url().endsWith('/classify_cpu_bg.wasm')) resolve();
    }));
    await page.goto(url);
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('the classifier was not asked for within 30 s of an idle page')), 30000);
    });
    await Promise.race([asked, late]).finally(() => clearTimeout(timer));
    assert.equal(await page.evaluate(() => document.querySelector('#status')?.dataset.state), 'idle', 'no file was opened');
    await page.setInputFiles('#file-input', lot2);
    await until(page, () => document.querySelector('#status')?.dataset.classifyBackend === 'cpu');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
