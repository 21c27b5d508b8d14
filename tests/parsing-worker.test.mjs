// The parsing worker is the page's own wasm (app/src/parsing.rs, app/parsing.js), in headless
// Chromium: the first map fetches one wasm, the page's, and its worker reads the file; a worker
// that cannot start is said on the page, not waited on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './lib/chromium.mjs';
import { serve } from './lib/serve.mjs';
import { root } from './lib/corpus.mjs';

const dist = process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist');
const state = (page) => page.evaluate(() => document.querySelector('#status')?.dataset.state);

test('the demo map needs one wasm, the page\'s, which is its parsing worker too (webgl2)', async () => {
  const server = await serve(dist);
  const url = `http://127.0.0.1:${server.address().port}/`;
  const browser = await launch('webgl2');
  try {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, serviceWorkers: 'block' });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && errors.push(`worker: ${m.text()}`)));
    const wasm = [];
    // Workers' requests too; the classifier's (fetched when the page is idle) is not the map's.
    context.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.endsWith('.wasm') && !path.startsWith('/classify_')) wasm.push(path);
    });
    await page.goto(url);
    await page.click('#demo');
    await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('#status')?.dataset.state), null, { timeout: 60000 });
    assert.equal(await state(page), 'ready', await page.evaluate(() => document.querySelector('#error')?.textContent ?? ''));
    const page_wasm = await page.evaluate(() => document.querySelector('link[rel=preload][as=fetch][type="application/wasm"]')?.getAttribute('href'));
    assert.deepEqual(wasm, [new URL(page_wasm, url).pathname], 'the page\'s wasm, fetched once');
    // The worker read the file and counted its statistics.
    assert.ok(Number(await page.evaluate(() => document.querySelector('#status')?.dataset.dies)) > 0);
    await page.waitForFunction(() => document.querySelector('#status')?.dataset.statsMs, null, { timeout: 30000 });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

// Two ways a start fails: parsing.js does not load, or the glue it imports does not (the
// shipped parsing.js, with the glue's URL made wrong).
const faults = {
  'its script does not load': () => ({ status: 404, body: 'gone' }),
  'the page\'s glue does not load': () => {
    const js = readFileSync(join(dist, 'parsing.js'), 'utf8');
    const broken = js.replace('import(glue)', "import(glue + '.missing')");
    assert.notEqual(broken, js, 'parsing.js imports the glue');
    return { status: 200, contentType: 'text/javascript', body: broken };
  },
};
for (const [fault, response] of Object.entries(faults)) {
  test(`a parsing worker that cannot start is said on the page, and files are refused: ${fault} (webgl2)`, async () => {
    const server = await serve(dist);
    const url = `http://127.0.0.1:${server.address().port}/`;
    const browser = await launch('webgl2');
    try {
      const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, serviceWorkers: 'block' });
      await context.route(/\/parsing\.js$/, (route) => route.fulfill(response()));
      const page = await context.newPage();
      await page.goto(url);
      const said = () => page.waitForFunction(() => document.querySelector('#error')?.textContent.includes('parsing worker'), null, { timeout: 30000 });
      await said();
      assert.match(await page.evaluate(() => document.querySelector('#error').textContent), /the parsing worker stopped: .+/);
      // A file opened now is refused at once, not left opening.
      await page.click('#demo');
      await said();
      assert.equal(await state(page), 'error');
      assert.match(await page.evaluate(() => document.querySelector('#error').textContent), /reload the page/);
    } finally {
      await browser.close();
      server.close();
    }
  });
}
