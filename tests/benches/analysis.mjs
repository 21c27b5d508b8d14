// Analysis benchmark in headless Chromium (issue 15), run by `cargo xtask bench`:
//   node tests/benches/analysis.mjs LOT.stdf FLEX.stdf.xz [RUNS]
// - The lot gallery: LOT (`waferscope demo --lot 25`: 25 wafers of about 40,000 dies) opened
//   from disk, time until all 25 thumbnails are drawn;
// - Flex_3: the statistics of all its tests, per wafer and over the file, in the parsing worker
//   (`#status`'s `data-stats-ms`), and the time until the test list shows;
// - for both, the page's thread: every task over 50 ms (the browser's Long Tasks API) from
//   choosing the file until everything has arrived (map, statistics, thumbnails, labels).
//   Goal: none.
// Medians of RUNS (default 3), each in a fresh page.
import { join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { serve } from '../lib/serve.mjs';
import { root } from '../lib/corpus.mjs';

const [lot, flex, runsArg] = process.argv.slice(2);
if (!lot || !flex) throw new Error('usage: analysis.mjs LOT.stdf FLEX.stdf.xz [RUNS]');
const runs = Number(runsArg ?? 3);
const dist = process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist');
const server = await serve(dist);
const url = `http://127.0.0.1:${server.address().port}/`;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/** Open `file` in a fresh page; `done` (run in the page) says when everything has arrived. */
async function measure(browser, file, done) {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  await page.addInitScript(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push({ at: e.startTime, ms: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
  });
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#backend') && !document.querySelector('#backend').textContent.includes('starting'));
  await page.waitForTimeout(500);
  const t0 = await page.evaluate(() => performance.now());
  await page.setInputFiles('#file-input', file);
  await page.waitForFunction(done, null, { timeout: 300000, polling: 50 });
  const r = await page.evaluate((t0) => ({
    ms: performance.now() - t0,
    long: window.__long.filter((e) => e.at >= t0).map((e) => e.ms),
    stats: Number(document.querySelector('#status')?.dataset.statsMs),
  }), t0);
  await page.close();
  return r;
}

const browser = await launch('webgl2');
try {
  const gallery = [];
  const stats = [];
  for (let i = 0; i < runs; i++) {
    gallery.push(await measure(browser, lot,
      () => document.querySelectorAll('#gallery .gallery-card img[src^="blob:"]').length === 25
        && document.querySelector('#status')?.dataset.classifyBackend));
    stats.push(await measure(browser, flex,
      () => document.querySelector('#tests tbody tr') && document.querySelector('#status')?.dataset.statsMs));
  }
  const report = (name, rs) => {
    const worst = rs.map((r) => Math.max(0, ...r.long));
    console.log(`${name}: ${median(rs.map((r) => r.ms)).toFixed(0)} ms to everything (median of ${rs.length});`
      + ` page-thread tasks over 50 ms per run: ${rs.map((r) => r.long.length).join(', ')};`
      + ` longest per run: ${worst.map((w) => w.toFixed(0)).join(', ')} ms`);
    return rs;
  };
  report('gallery of 25 wafers x ~40k dies (file to all thumbnails and labels)', gallery);
  report('Teradyne_Flex_3 (file to the test list)', stats);
  console.log(`Teradyne_Flex_3: statistics of every test, per wafer and over the file, in the parsing worker: median ${median(stats.map((r) => r.stats)).toFixed(0)} ms`);
} finally {
  await browser.close();
  server.close();
}
