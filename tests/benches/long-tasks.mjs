// What is inside the page's long tasks while a file opens (issue 15), by hand, not in
// `cargo xtask bench`:
//   node tests/benches/long-tasks.mjs FILE [RUNS] [--gpu-compositing]
// Each run opens FILE in a fresh page with V8's CPU profiler (100 us samples) and a Chromium
// trace. For every task over 45 ms on the page's thread it prints its wall time, its CPU time
// on that thread (the trace's thread time: the rest is waiting for a core or on the GPU
// process), what the trace put inside it (garbage collection, layout, paint, an animation
// frame), the functions with the most self time, and the page's own frames by inclusive time.
// The page's wasm names its functions only if built with them: copy the dist and replace its
// `app-*_bg.wasm` and `app-*.js` with `wasm-bindgen --target web --no-typescript --keep-debug`
// of `target/wasm32-unknown-unknown/page/app.wasm`, without the `integrity` attributes in its
// `index.html`; point WAFERSCOPE_DIST at the copy.
import { join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { serve } from '../lib/serve.mjs';
import { root } from '../lib/corpus.mjs';
import { appStarted, tracer } from '../lib/trace.mjs';

const argv = process.argv.slice(2);
const gpuCompositing = argv.includes('--gpu-compositing');
const [file, runsArg] = argv.filter((a) => a !== '--gpu-compositing');
if (!file) throw new Error('usage: long-tasks.mjs FILE [RUNS] [--gpu-compositing]');
const server = await serve(process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist'));
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await launch('webgl2', { gpuCompositing });
// Everything has come: the test list (a file with tests) or every thumbnail, the statistics
// and the classifier's labels.
const arrived = () => (document.querySelector('#tests tbody tr')
  || document.querySelectorAll('#gallery img[src^="blob:"]').length >= document.querySelectorAll('#gallery .gallery-card').length)
  && document.querySelector('#status')?.dataset.statsMs && document.querySelector('#status')?.dataset.classifyBackend;
try {
  for (let run = 0; run < Number(runsArg ?? 1); run++) {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    await appStarted(page, url);
    const trace = await tracer(page);
    const { cdp } = trace;
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    await trace.start('toplevel,gpu,devtools.timeline');
    await page.setInputFiles('#file-input', file);
    await page.waitForFunction(arrived, null, { timeout: 300000, polling: 50 });
    await page.waitForTimeout(1500);
    const events = await trace.stop();
    const { profile } = await cdp.send('Profiler.stop');
    report(run, events, profile);
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}

function report(run, events, profile) {
  const threads = new Map(events.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args.name]));
  const main = events.filter((e) => e.ph === 'X' && e.dur && threads.get(`${e.pid}:${e.tid}`) === 'CrRendererMain');
  const within = (e, t) => e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur;
  const tasks = main.filter((e) => e.name === 'ThreadControllerImpl::RunTask' && e.dur > 45000);
  const outer = tasks.filter((t) => !tasks.some((o) => o !== t && within(t, o)));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const times = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push(t += d);
  console.log(`run ${run}: ${outer.length} tasks over 45 ms`);
  for (const task of outer) {
    const kinds = new Map();
    for (const e of main.filter((e) => within(e, task) && e !== task && e.dur > 3000)) kinds.set(e.name, (kinds.get(e.name) ?? 0) + e.dur);
    const self = new Map();
    const incl = new Map();
    let n = 0;
    profile.samples.forEach((id, i) => {
      if (times[i] < task.ts || times[i] > task.ts + task.dur) return;
      n++;
      const f = nodes.get(id).callFrame;
      const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}`;
      self.set(key, (self.get(key) ?? 0) + 1);
      const seen = new Set();
      for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
        const k = nodes.get(cur).callFrame.functionName || '(anon)';
        if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + 1); }
      }
    });
    const ms = (c) => (c * (task.dur / 1000) / Math.max(n, 1)).toFixed(1);
    const cpu = task.tdur === undefined ? '?' : (task.tdur / 1000).toFixed(0);
    const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
    console.log(`  task ${(task.dur / 1000).toFixed(0)} ms, CPU ${cpu} ms; trace: ${top(kinds, 8).map(([k, d]) => `${k} ${(d / 1000).toFixed(0)}`).join(', ')}`);
    console.log(`    self: ${top(self, 12).map(([k, c]) => `${k} ${ms(c)}`).join(' | ')}`);
    const own = [...incl].filter(([k]) => /app::|wafer::|stats::|leptos|paint::|render::|charts::|report::|panels::|doc::/.test(k));
    console.log(`    inclusive: ${top(own, 12).map(([k, c]) => `${k.slice(0, 90)} ${ms(c)}`).join(' | ')}`);
  }
}
