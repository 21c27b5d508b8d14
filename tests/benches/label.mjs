// Time to a file's map and to its label, by hand, not in `cargo xtask bench`:
//   node tests/benches/label.mjs FILE [PICK_MS] [RUNS] [DIST...]
// Each run starts the app in a fresh page (WebGL2, so the CPU classifier), waits PICK_MS
// (default 1000: a person choosing a file; 0 chooses it as soon as the app has settled, half a
// second after it chose how to draw: `lib/trace.mjs`'s `appStarted`), then
// opens FILE and times, from the choice, its first map (`#status` turns `ready`) and its label
// (`data-classify-backend`). Medians of RUNS (default 5) per build. Several builds (dist folders;
// default target/dist) are measured in turns, twice each (A B A B), so a comparison shares
// the machine's state.
import { join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { serve } from '../lib/serve.mjs';
import { root } from '../lib/corpus.mjs';
import { appStarted } from '../lib/trace.mjs';

const [file, pickArg, runsArg, ...dists] = process.argv.slice(2);
if (!file) throw new Error('usage: label.mjs FILE [PICK_MS] [RUNS] [DIST...]');
const pick = Number(pickArg ?? 1000);
const runs = Number(runsArg ?? 5);
if (!dists.length) dists.push(process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist'));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function measure(dist) {
  const server = await serve(dist);
  const url = `http://127.0.0.1:${server.address().port}/`;
  const browser = await launch('webgl2');
  try {
    const out = [];
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
      await appStarted(page, url);
      await page.waitForTimeout(pick);
      const t0 = Date.now();
      await page.setInputFiles('#file-input', file);
      await page.waitForFunction(() => document.querySelector('#status')?.dataset.state === 'ready', null, { polling: 10, timeout: 120000 });
      const map = Date.now() - t0;
      await page.waitForFunction(() => document.querySelector('#status')?.dataset.classifyBackend, null, { polling: 10, timeout: 120000 });
      out.push({ map, label: Date.now() - t0 });
      await page.close();
    }
    return out;
  } finally {
    await browser.close();
    server.close();
  }
}

console.log(`${file}, chosen ${pick} ms after the app started; medians of ${runs} (ms from the choice)`);
for (let round = 0; round < 2; round++) {
  for (const dist of dists) {
    const r = await measure(dist);
    console.log(`  ${dist}: first map ${median(r.map((x) => x.map))}, label ${median(r.map((x) => x.label))}`
      + ` (each run map/label: ${r.map((x) => `${x.map}/${x.label}`).join(' ')})`);
  }
}
