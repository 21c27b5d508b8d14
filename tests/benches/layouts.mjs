// How much the page lays out while a file opens (issue 15), by hand, not in `cargo xtask bench`:
//   node tests/benches/layouts.mjs FILE [RUNS]
// Each run opens FILE in a fresh page (compositor on SwiftShader's GL, as `--gpu-compositing`
// elsewhere) with a Chromium trace, until its test list (or gallery), statistics and label
// have come. It prints every layout, style recalculation and paint over 5 ms of wall time: wall
// and CPU time on the page's thread, and for a layout the objects it laid out. Then, per run,
// the largest layout's CPU time, and their median: what the page's DOM costs, apart from the
// wait for a core that makes most of a long task's wall time on a 2-core machine.
import { join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { serve } from '../lib/serve.mjs';
import { root } from '../lib/corpus.mjs';
import { appStarted, tracer } from '../lib/trace.mjs';

const [file, runsArg] = process.argv.slice(2);
if (!file) throw new Error('usage: layouts.mjs FILE [RUNS]');
const runs = Number(runsArg ?? 3);
const server = await serve(process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist'));
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await launch('webgl2', { gpuCompositing: true });
const arrived = () => (document.querySelector('#tests tbody tr')
  || document.querySelectorAll('#gallery img[src^="blob:"]').length >= document.querySelectorAll('#gallery .gallery-card').length)
  && document.querySelector('#status')?.dataset.statsMs && document.querySelector('#status')?.dataset.classifyBackend;
const ms = (us) => (us / 1000).toFixed(1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const largest = [];
try {
  for (let run = 0; run < runs; run++) {
    const page = await browser.newPage();
    await appStarted(page, url);
    const t = await tracer(page);
    await t.start('devtools.timeline,disabled-by-default-devtools.timeline');
    await page.setInputFiles('#file-input', file);
    await page.waitForFunction(arrived, null, { timeout: 180000, polling: 100 });
    await page.waitForTimeout(1000);
    const events = await t.stop();
    const big = events.filter((e) => ['Layout', 'UpdateLayoutTree', 'Paint'].includes(e.name) && e.ph === 'X' && e.dur > 5000
      // A paint is traced for the document and again for its root element: count it once.
      && !(e.name === 'Paint' && e.args?.data?.nodeName === 'HTML'));
    console.log(`run ${run}:`);
    for (const e of big) {
      const objects = e.name === 'Layout' ? `, ${e.args?.beginData?.dirtyObjects} of ${e.args?.beginData?.totalObjects} objects` : '';
      console.log(`  ${e.name}: ${ms(e.dur)} ms wall, ${ms(e.tdur ?? 0)} ms CPU${objects}`);
    }
    const layouts = events.filter((e) => e.name === 'Layout' && e.ph === 'X').map((e) => e.tdur ?? 0);
    largest.push(Math.max(0, ...layouts) / 1000);
    await page.close();
  }
  console.log(`largest layout per run, CPU: ${largest.map((x) => x.toFixed(1)).join(', ')} ms; median ${median(largest).toFixed(1)} ms`);
} finally {
  await browser.close();
  server.close();
}
