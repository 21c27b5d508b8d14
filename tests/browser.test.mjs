// End-to-end tests of the browser app, in headless Chromium with WebGPU (--enable-unsafe-webgpu),
// without it (the WebGL2 fallback), and without WebGL either (the CPU rasterizer draws the map).
// Run by `cargo xtask test` after it builds the app.
//
// Facts about the files come from the native CLI (an independent parse), never from the page.
// Screenshots of every case are saved under target/e2e/ as test artifacts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { launch } from './lib/chromium.mjs';
import { serve } from './lib/serve.mjs';
import { decodePng } from './lib/png.mjs';
import { corpus, root } from './lib/corpus.mjs';
import { classes as order } from './lib/model.mjs';

const dist = process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist');
const bin = process.env.WAFERSCOPE_BIN ?? join(root, 'target/debug/waferscope');
const artifacts = join(root, 'target/e2e');
mkdirSync(artifacts, { recursive: true });
const stdf = (name) => join(corpus, 'stdf', name);

/** The CLI's view of a file: info JSON and the final dies of one wafer. */
function cli(file, wafer) {
  const big = { maxBuffer: 1 << 29 }; // Flex_3's CSV has ~1,300 test columns
  const info = JSON.parse(execFileSync(bin, ['info', '--json', file], big).toString());
  const csv = execFileSync(bin, ['export', file, '--format', 'csv', '--wafer', wafer], big).toString().trim().split('\n');
  const head = csv[0].split(',');
  const dies = csv.slice(1).map((l) => Object.fromEntries(l.split(',').slice(0, 10).map((v, i) => [head[i], v])));
  return { info, dies };
}

const green = ([r, g, b]) => g > r && g > b;
const same = (a, b) => a.slice(0, 3).every((v, i) => Math.abs(v - b[i]) <= 1);

let server;
before(async () => { server = await serve(dist); });
after(() => server?.close());

for (const mode of ['webgl2', 'webgpu', 'cpu']) {
  test(`viewer in ${mode} mode`, async (t) => {
    const browser = await launch(mode);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The parsing worker's own errors (a panic there would otherwise pass silently).
    page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && errors.push(`worker: ${m.text()}`)));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const status = () => page.evaluate(() => ({ ...document.querySelector('#status').dataset }));
    const shot = (name) => page.screenshot({ path: join(artifacts, `${mode}-${name}.png`) });
    const ready = async (state = 'ready') =>
      page.waitForFunction((s) => document.querySelector('#status')?.dataset.state === s, state, { timeout: 60000 });
    const open = async (file) => {
      await page.setInputFiles('#file-input', file);
      await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('#status')?.dataset.state)
        && !document.querySelector('#progress'), null, { timeout: 60000 });
      // Let a lost WebGPU device (headless SwiftShader) fall back to WebGL2 and redraw.
      await page.waitForTimeout(800);
    };
    /** The pixel at a die, as the screen shows it and as the app's GPU device renders it. */
    const pixels = async (x, y) => {
      const [sx, sy] = await page.evaluate(([x, y]) => window.waferscope_die_screen(x, y), [x, y]);
      const box = await page.locator('#map').boundingBox();
      const png = decodePng(await page.screenshot());
      const screen = png.pixel(Math.round(box.x + sx), Math.round(box.y + sy));
      const gpu = await page.evaluate(([x, y]) => window.waferscope_read_pixel(x, y), [sx, sy]);
      return { screen, gpu, at: [box.x + sx, box.y + sy] };
    };

    await page.waitForFunction(() => {
      // The element first: the page mounts only once its wasm has compiled.
      const t = document.querySelector('#backend')?.textContent;
      return t !== undefined && !t.includes('starting');
    });
    const backend = await page.textContent('#backend');
    await t.test('the UI says which GPU API draws the map', () => {
      if (mode === 'webgpu') assert.match(backend, /^WebGPU/);
      else if (mode === 'webgl2') assert.match(backend, /^WebGL2/);
      else assert.match(backend, /^CPU \(paint rasterizer; no WebGPU or WebGL2/);
    });

    await t.test('lot2.stdf.gz: wafer id, die count and yield as the CLI reads them', async () => {
      const file = stdf('lot2.stdf.gz');
      const { info, dies } = cli(file, 'GAL-LOT-02');
      await open(file);
      const s = await status();
      assert.equal(s.state, 'ready', await page.evaluate(() => document.querySelector('#error')?.textContent ?? ''));
      assert.equal(s.wafer, 'GAL-LOT-02');
      assert.equal(Number(s.dies), info.wafers[0].dies);
      assert.equal(Number(s.yield).toFixed(4), info.wafers[0].yield.toFixed(4));
      assert.match(await page.textContent('#yield'), new RegExp(`Yield ${(info.wafers[0].yield * 100).toFixed(2)}%`));
      await shot('lot2');

      // Known dies have their bin's palette colour, on screen and in the GPU's own picture.
      const picks = [...dies.filter((d) => d.hard_bin !== '1').slice(0, 6), ...dies.filter((d) => d.hard_bin === '1').slice(0, 6)];
      for (const d of picks) {
        const want = await page.evaluate((b) => window.waferscope_bin_color(b, true), Number(d.hard_bin));
        assert.equal(green(want), d.hard_bin === '1', `bin ${d.hard_bin} colour ${want} has the right family`);
        const got = await pixels(Number(d.x), Number(d.y));
        assert.ok(same(got.screen, want), `screen pixel of die ${d.x},${d.y} (bin ${d.hard_bin}) is ${got.screen}, want ${want}`);
        assert.ok(same(got.gpu, want), `GPU pixel of die ${d.x},${d.y} (bin ${d.hard_bin}) is ${got.gpu}, want ${want}`);
      }

      // The canvas follows its box, whether the page around the map or the window changes it,
      // and the dies keep their colours there.
      const fitted = () => page.$eval('#map', (c) => [c.width, c.height, Math.round(c.clientWidth * devicePixelRatio), Math.round(c.clientHeight * devicePixelRatio)]);
      const viewport = page.viewportSize();
      try {
        // The frame that shows the new box already shows the map at its size: the canvas is
        // resized and drawn in that frame, not a frame later (the old picture stretched).
        const [w0, h0, cw0, ch0] = await page.evaluate(() => new Promise((resolve) => {
          document.querySelector('.map-frame').style.flex = '0 0 320px';
          // Runs after that frame's rendering (animation frames, layout, resize observers).
          requestAnimationFrame(() => setTimeout(() => {
            const c = document.querySelector('#map');
            resolve([c.width, c.height, Math.round(c.clientWidth * devicePixelRatio), Math.round(c.clientHeight * devicePixelRatio)]);
          }));
        }));
        assert.ok(Math.abs(w0 - cw0) <= 1 && Math.abs(h0 - ch0) <= 1, `in the frame of the change: canvas ${w0}x${h0}, its box ${cw0}x${ch0}`);
        await page.$eval('.map-frame', (f) => { f.style.flex = ''; });
        await page.waitForTimeout(400);
        for (const change of ['the frame', 'the window']) {
          if (change === 'the frame') await page.$eval('.map-frame', (f) => { f.style.flex = '0 0 320px'; });
          else await page.setViewportSize({ width: 900, height: 700 });
          await page.waitForTimeout(400);
          const [w, h, cw, ch] = await fitted();
          assert.ok(Math.abs(w - cw) <= 1 && Math.abs(h - ch) <= 1, `after ${change} changed: canvas ${w}x${h}, its box ${cw}x${ch}`);
          for (const d of [picks[0], picks.at(-1)]) {
            const got = await pixels(Number(d.x), Number(d.y));
            const want = await page.evaluate((b) => window.waferscope_bin_color(b, true), Number(d.hard_bin));
            assert.ok(same(got.screen, want), `after ${change} changed, die ${d.x},${d.y} is ${got.screen}, want ${want}`);
          }
        }
      } finally {
        await page.$eval('.map-frame', (f) => { f.style.flex = ''; });
        await page.setViewportSize(viewport);
        await page.waitForTimeout(400);
      }

      // Hovering a die shows its coordinates and bins.
      const d = picks[0];
      const { at } = await pixels(Number(d.x), Number(d.y));
      await page.mouse.move(at[0], at[1]);
      await page.waitForSelector('#tooltip');
      const tip = await page.textContent('#tooltip');
      assert.match(tip, new RegExp(`x, y${d.x}, ${d.y}`));
      assert.match(tip, new RegExp(`hard bin${d.hard_bin}\\b`));
      assert.match(tip, new RegExp(`soft bin${d.soft_bin}\\b`));
      await shot('lot2-hover');

      // Clicking pins a die and lists all its test results.
      const pass = picks.find((p) => p.hard_bin === '1');
      const passAt = (await pixels(Number(pass.x), Number(pass.y))).at;
      await page.mouse.click(passAt[0], passAt[1]);
      await page.waitForSelector('#pinned');
      const pinned = await page.textContent('#pinned');
      assert.match(pinned, new RegExp(`x, y${pass.x}, ${pass.y}`));
      assert.match(pinned, /1000 glxy_SS_IH/);

      // Hiding bin 1 in the legend greys its dies.
      await page.click('#legend tr[data-bin="1"]');
      await page.waitForTimeout(300);
      const hidden = await pixels(Number(pass.x), Number(pass.y));
      assert.ok(!green(hidden.screen), `a hidden pass die is greyed: ${hidden.screen}`);
      await page.click('#legend tr[data-bin="1"]');

      // A parametric layer recolours the map. Its option is the layer's name, `test:` and the
      // STDF test number, as the CLI's --layer and the edge's tiles take it.
      await page.selectOption('#layer-select', 'test:1000');
      await page.waitForTimeout(500);
      const before = await pixels(Number(pass.x), Number(pass.y));
      assert.ok(!green(before.screen) || !same(before.screen, [44, 160, 44]), `test layer colour differs from the bin colour: ${before.screen}`);
      assert.match(await page.textContent('#legend'), /1000 glxy_SS_IH/);
      await shot('lot2-parametric');
    });

    await t.test('the defect pattern: label and probabilities as the native CLI computes them', async (tt) => {
      // The page has lot2 open from the test above; the CLI classifies the same file natively.
      const native = JSON.parse(execFileSync(bin, ['classify', '--json', stdf('lot2.stdf.gz')]).toString());
      const want = native.wafers[0];
      // WebGPU mode: the answer must come from burn's WebGPU backend (the CPU one shows first);
      // WebGL2 mode: there is no WebGPU, so the CPU backend answers.
      await page.waitForFunction((mode) => {
        const d = document.querySelector('#status')?.dataset;
        if (!d?.probs) return false;
        return mode === 'webgpu'
          ? d.classifyBackend === 'webgpu' || d.gpuModel?.startsWith('failed')
          : d.gpuModel === 'unavailable' || d.gpuModel?.startsWith('failed');
      }, mode, { timeout: 90000 })
        .catch(async (e) => { throw new Error(`no classification: ${JSON.stringify(await status())}; errors ${errors}: ${e.message}`); });
      const s = await status();
      if (mode === 'webgpu') {
        assert.equal(s.classifyBackend, 'webgpu', `the WebGPU classifier: ${s.gpuModel}`);
        assert.match(await page.textContent('#pattern-backend'), /WebGPU: burn wgpu/);
        assert.match(await page.textContent('#pattern-backend'), /WebGPU warm-up \d+ ms/);
      } else {
        assert.equal(s.gpuModel, 'unavailable');
        assert.equal(s.classifyBackend, 'cpu');
        assert.match(await page.textContent('#pattern-backend'), /CPU: burn Flex/);
      }
      assert.equal(s.model, `v${native.model_version}`);
      const classes = Object.keys(want.probabilities);
      assert.deepEqual([...classes].sort(), [...order].sort());
      const got = s.probs.split(',').map(Number);
      order.forEach((c, i) => assert.ok(Math.abs(got[i] - want.probabilities[c]) <= 1e-3,
        `${c}: browser ${got[i]}, native ${want.probabilities[c]}`));
      // The call (label, "uncertain: A or B", or why none) and its calibrated probability, as the
      // CLI gives them.
      const conf = JSON.parse(s.confidence);
      assert.equal(conf.call, want.confidence.call);
      assert.equal(conf.label, want.confidence.label);
      assert.ok(Math.abs(conf.probability - want.confidence.probability) <= 1e-3,
        `confidence: browser ${conf.probability}, native ${want.confidence.probability}`);
      const label = (await page.textContent('#pattern-label')).trim();
      if (conf.call === 'label') assert.equal(label.split(' ')[0], want.label);
      else assert.match(label, /^uncertain: /);
      // Every label names the model that gave it.
      assert.ok(label.endsWith(` · model v${native.model_version}`), label);
      assert.equal(s.classifyModel, String(native.model_version));
      const warmup = (await page.textContent('#pattern-backend')).match(/WebGPU warm-up \d+ ms/)?.[0] ?? 'no WebGPU';
      tt.diagnostic(`lot2: ${want.label}; in-browser inference (${s.classifyBackend}) ${s.classifyMs} ms for one wafer; ${warmup}`);
      await shot('lot2-pattern');
    });

    await t.test('a595.stdf: three wafers, a wafer picker and the stacked map', async () => {
      const file = stdf('a595.stdf');
      const { info } = cli(file, '09');
      await open(file);
      assert.equal((await status()).wafer, '02');
      const options = await page.$$eval('#wafer-select option', (o) => o.map((x) => x.value));
      assert.deepEqual(options, ['0', '1', '2', 'stack']);
      await page.selectOption('#wafer-select', '2');
      await page.waitForTimeout(300);
      const s = await status();
      assert.equal(s.wafer, '09');
      assert.equal(Number(s.dies), info.wafers[2].dies);
      // Every wafer of the file is classified, and listed with its label.
      await page.waitForSelector('.wafer-labels');
      assert.equal(await page.$$eval('.wafer-labels tr', (r) => r.length), 3);
      // 112 dies: too few for a pattern. The page says so instead of a label, as the CLI does.
      const native = JSON.parse(execFileSync(bin, ['classify', '--json', file]).toString()).wafers[2];
      assert.equal(native.confidence.call, 'too_few_dies');
      await page.waitForFunction(() => document.querySelector('#status')?.dataset.confidence);
      assert.deepEqual(JSON.parse((await status()).confidence).call, 'too_few_dies');
      assert.equal((await page.textContent('#pattern-label b')).trim(), native.confidence.text);
      assert.equal(await page.$$eval('#pattern .bar-row', (r) => r.length), 0, 'no probabilities shown');
      await page.selectOption('#wafer-select', 'stack');
      await page.waitForTimeout(300);
      assert.equal((await status()).wafer, '*');
      await shot('a595-stacked');
    });

    await t.test('the 142 MB Teradyne file opens while the page stays responsive', async (tt) => {
      const file = stdf('Teradyne_Flex_3.stdf.xz');
      const { info } = cli(file, 'S28044-05');
      await page.setInputFiles('#file-input', file);
      // While the worker parses, the main thread answers at once.
      let longest = 0;
      while (await page.evaluate(() => document.querySelector('#status').dataset.state) !== 'ready') {
        const t0 = Date.now();
        await page.evaluate(() => 1 + 1);
        longest = Math.max(longest, Date.now() - t0);
        await page.waitForTimeout(50);
      }
      assert.ok(longest < 1000, `the page stalled for ${longest} ms while parsing`);
      const s = await status();
      assert.equal(s.wafer, 'S28044-05');
      assert.equal(Number(s.dies), info.wafers[0].dies);
      tt.diagnostic(`file chosen to first frame: ${s.firstFrameMs} ms; longest main-thread wait while parsing: ${longest} ms`);
      await shot('teradyne');
    });

    await t.test('a corrupt file shows the error and keeps what was read', async () => {
      await open(stdf('STS_001SRAM_8435_-30c_Nov_10_23h05m08s.stdf'));
      const w = await page.textContent('#warnings');
      assert.match(w, /offset 2217/);
      assert.match(w, /reading stopped here/);
      assert.match(w, /no wafer map/);
      await shot('corrupt');

      // lot2 cut at 60%: a partial map of the dies before the cut, with the warning.
      const raw = gunzipSync(readFileSync(stdf('lot2.stdf.gz')));
      await page.setInputFiles('#file-input', { name: 'lot2-cut.stdf', mimeType: 'application/octet-stream', buffer: raw.subarray(0, Math.floor(raw.length * 0.6)) });
      await page.waitForFunction(() => document.querySelector('#status')?.dataset.partial === 'true', null, { timeout: 60000 });
      await page.waitForTimeout(800);
      const s = await status();
      assert.equal(s.state, 'ready');
      assert.ok(Number(s.dies) > 500 && Number(s.dies) < 1456, `${s.dies} dies before the cut`);
      assert.match(await page.textContent('#warnings'), /Partial file/);
      await shot('truncated');

      // Not an STDF file at all: a clear error naming the file, and the app stays usable.
      await page.setInputFiles('#file-input', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('these are not wafers') });
      await page.waitForSelector('#error');
      assert.match(await page.textContent('#error'), /notes\.txt: offset 0: not an STDF file/);
      await page.click('#demo');
      await ready();
      assert.equal((await status()).wafer, 'WSDEMO1-01');
      await shot('recovered');
    });

    // The parsing worker on every crafted file of tests/hostile/ (one mode: the reader path is
    // the same in all three): a map, a partial map with its warning, or an error naming the file
    // and the offset, in bounded time; the page stays usable.
    if (mode === 'cpu') await t.test('hostile files: a clear answer each, and the page stays usable', async () => {
      const dir = join(root, 'tests/hostile');
      for (const name of readdirSync(dir).filter((n) => !n.endsWith('.md') && statSync(join(dir, n)).isFile()).sort()) {
        const t0 = performance.now();
        await open(join(dir, name));
        const s = await status();
        if (s.state === 'error') {
          assert.match(await page.textContent('#error'), new RegExp(`${name.replace(/\./g, '\\.')}: offset \\d+`), name);
        } else if (s.partial === 'true') {
          assert.match(await page.textContent('#warnings'), /reading stopped here/, name);
        }
        console.log(`${name}: ${s.state}${s.partial === 'true' ? ' (partial)' : ''}, ${s.dies || 0} dies, ${Math.round(performance.now() - t0)} ms`);
      }
      await page.click('#demo');
      await ready();
      assert.equal((await status()).wafer, 'WSDEMO1-01');
    });

    assert.deepEqual(errors, [], 'no uncaught page errors');
    await browser.close();
  });
}

// A file opened before the model has arrived (a shared link opens at once; a slow network delays
// the weights) is classified as soon as the weights come. The weights are held back until the
// map is on screen, so the order is forced rather than left to timing.
test('a file opened before the model arrives is classified when it does', async () => {
  const native = JSON.parse(execFileSync(bin, ['classify', '--json', stdf('lot2.stdf.gz')]).toString());
  const browser = await launch();
  try {
    // No service worker: it would fetch (and then serve) the weights past the held route.
    const context = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    let release;
    const held = new Promise((r) => { release = r; });
    let asked = false;
    await page.route('**/model/weights.bpk*', async (route) => {
      asked = true;
      await held;
      await route.continue();
    });
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.setInputFiles('#file-input', stdf('lot2.stdf.gz'));
    await page.waitForFunction(() => document.querySelector('#status')?.dataset.state === 'ready', null, { timeout: 60000 });
    assert.ok(asked, 'the page asked for the weights');
    assert.ok(!(await page.evaluate(() => document.querySelector('#status').dataset.probs)),
      'no classification before the model is there');
    release();
    await page.waitForFunction(() => document.querySelector('#status')?.dataset.probs, null, { timeout: 60000 });
    const got = (await page.evaluate(() => document.querySelector('#status').dataset.probs)).split(',').map(Number);
    const want = native.wafers[0].probabilities;
    order.forEach((c, i) => assert.ok(Math.abs(got[i] - want[c]) <= 1e-3, `${c}: browser ${got[i]}, native ${want[c]}`));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
