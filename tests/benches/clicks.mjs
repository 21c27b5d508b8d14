// What a click costs the page's thread on a wafer of a million dies, in headless Chromium (issue
// 15), run by `cargo xtask bench`:
//   node tests/benches/clicks.mjs BIG.stdf [RUNS] [--gpu-compositing]
// BIG is `waferscope demo --big 1137` (1,001,010 dies). Opened from disk, then, each step traced
// (a Chromium trace of it and of the 2 s after): the first hover over the map, a rectangle
// dragged on it and let go, a lasso of 300 points drawn round half the wafer and closed, a
// pareto bar clicked, the map coloured by a test, a bar of its histogram clicked, the marks
// cleared. The page finds the dies each marks itself (a pass
// over the wafer's dies, then the map's colours again); the panels' counting is the parsing
// worker's. Printed per step: the page thread's longest task (wall, without the wait for the
// canvas readback as in `analysis.mjs`, and its CPU time), its tasks over 50 ms without that
// wait (goal: none), and how long the step took until the page answered (the panel shown).
// Medians of RUNS (default 3), each in a fresh page.
import { join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { serve } from '../lib/serve.mjs';
import { root } from '../lib/corpus.mjs';
import { appStarted, traced } from '../lib/trace.mjs';

const argv = process.argv.slice(2);
const gpuCompositing = argv.includes('--gpu-compositing');
const [big, runsArg] = argv.filter((a) => !a.startsWith('--'));
if (!big) throw new Error('usage: clicks.mjs BIG.stdf [RUNS] [--gpu-compositing]');
const runs = Number(runsArg ?? 3);
const dist = process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist');
const server = await serve(dist);
const url = `http://127.0.0.1:${server.address().port}/`;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const until = (page, f, arg) => page.waitForFunction(f, arg, { timeout: 120000, polling: 20 });

/** Points on the map: fractions of its box, in page pixels. */
async function onMap(page, points) {
  const box = await page.locator('#map').boundingBox();
  return points.map(([u, v]) => [box.x + u * box.width, box.y + v * box.height]);
}

/** Press on the map with shift held and drag through `points` (fractions of its box). */
async function drag(page, points) {
  const at = await onMap(page, points);
  await page.keyboard.down('Shift');
  await page.mouse.move(...at[0]);
  await page.mouse.down();
  for (const p of at.slice(1)) await page.mouse.move(...p);
}

/** Let go of a drag (the pointer leaves the map), until the selection panel shows a `kind`
 * (rect, lasso) counted by the worker. */
async function release(page, kind) {
  await page.mouse.up();
  await page.keyboard.up('Shift');
  await page.mouse.move(5, 5);
  await until(page, (kind) => {
    const j = document.querySelector('#selection')?.dataset.json;
    return j && JSON.parse(j)[kind] && !document.querySelector('#selection')?.dataset.pending;
  }, kind);
}

/** Clear the selection, until its panel has gone. */
async function clear(page) {
  await page.click('#selection-clear');
  await until(page, () => !document.querySelector('#selection'));
}

async function steps(page) {
  // A wobbly loop round the map's middle, as a hand draws, half the wafer's area.
  const loop = Array.from({ length: 300 }, (_, k) => {
    const a = (k * 2 * Math.PI) / 300;
    const r = 0.28 + 0.01 * Math.sin(a * 7);
    return [0.5 + r * Math.cos(a), 0.5 + r * Math.sin(a)];
  });
  loop.push(loop[0]);
  return [
    // The first pointer move over the wafer finds the die under it (the page indexes the
    // wafer's positions then).
    ['the first hover (with a 300 ms pause)', async () => {
      for (const p of await onMap(page, [[0.5, 0.5], [0.52, 0.5], [0.54, 0.52]])) await page.mouse.move(...p);
      await page.waitForTimeout(300);
      await page.mouse.move(5, 5);
    }],
    ['drawing a rectangle', () => drag(page, [[0.3, 0.3], [0.5, 0.45], [0.7, 0.6]])],
    ['the rectangle let go', () => release(page, 'rect')],
    ['clear the selection', () => clear(page)],
    ['drawing a lasso of 300 points', async () => {
      await page.check('#selection-lasso-mode');
      await drag(page, loop);
    }],
    ['the lasso closed', () => release(page, 'lasso')],
    ['clear the lasso', async () => {
      await clear(page);
      await page.uncheck('#selection-lasso-mode');
    }],
    ['a pareto bar (with a 300 ms pause)', async () => {
      await page.click('.bar-row[data-bin]');
      await page.waitForTimeout(300);
    }],
    ['the pareto bar again, clearing it (with a 300 ms pause)', async () => {
      await page.click('.bar-row[data-bin]');
      await page.waitForTimeout(300);
    }],
    ['coloured by a test', async () => {
      const number = await page.getAttribute('#tests tbody tr', 'data-number');
      await page.click(`#tests tr[data-number="${number}"]`);
      await until(page, () => document.querySelector('#histogram-chart svg'));
    }],
    ['a histogram bar', async () => {
      const h = JSON.parse(await page.getAttribute('#histogram', 'data-json'));
      const k = h.bars.reduce((best, b, i) => (b[2] > h.bars[best][2] ? i : best), 0);
      await page.locator('#histogram-chart svg').scrollIntoViewIfNeeded();
      const box = await page.locator('#histogram-chart svg').boundingBox();
      const [a, b] = h.plot_x;
      await page.mouse.click(box.x + a + ((k + 0.5) * (b - a)) / h.bars.length, box.y + box.height * 0.6);
      await until(page, () => document.querySelector('#histogram p')?.textContent.startsWith('Marked'));
      await page.mouse.move(5, 5);
    }],
  ];
}

const browser = await launch('webgl2', { gpuCompositing });
console.log(`compositing: ${gpuCompositing ? 'on the GPU (SwiftShader GL), no canvas readback' : 'in software (--disable-gpu), each frame read back'}`);
const results = [];
try {
  for (let i = 0; i < runs; i++) {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    await appStarted(page, url);
    await page.setInputFiles('#file-input', big);
    // Everything has come: the map, the pareto, the test list, the label.
    await until(page, () => document.querySelector('#status')?.dataset.state === 'ready'
      && document.querySelector('.bar-row[data-bin]') && document.querySelector('#tests tbody tr')
      && document.querySelector('#status')?.dataset.classifyBackend);
    await page.waitForTimeout(1000);
    const run = [];
    for (const [name, action] of await steps(page)) run.push({ name, ...await traced(page, action, 0) });
    results.push(run);
    await page.close();
  }
  console.log(`a wafer of 1,001,010 dies; per step, medians of ${runs} runs of the page thread's longest task:`
    + ' wall, without the wait for the canvas readback, and its CPU (ms)');
  for (const [k, { name }] of results[0].entries()) {
    const longest = results.map((r) => r[k].tasks.reduce((m, t) => (t.ms > m.ms ? t : m), { ms: 0, own: 0, cpu: 0 }));
    const over = results.map((r) => r[k].tasks.filter((t) => t.own > 50).length);
    const m = (f) => median(longest.map(f)).toFixed(0);
    console.log(`  ${name}: ${m((t) => t.ms)}/${m((t) => t.own)}/${m((t) => t.cpu)}`
      + ` (per run: ${longest.map((t) => `${t.ms.toFixed(0)}/${t.own.toFixed(0)}/${t.cpu.toFixed(0)}`).join(', ')});`
      + ` tasks over 50 ms without the readback, per run: ${over.join(', ')}; the step took ${median(results.map((r) => r[k].ms))} ms (median)`);
  }
} finally {
  await browser.close();
  server.close();
}
