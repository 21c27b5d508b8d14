// Renders public/icon.svg to the web manifest's PNG icons (public/icon-192.png, icon-512.png) in
// headless Chromium: installed apps need raster icons of those sizes. Run again after changing
// the SVG: `node tests/tools/icons.mjs`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { root } from '../lib/corpus.mjs';

const svg = readFileSync(join(root, 'public/icon.svg'), 'utf8');
const browser = await launch();
for (const n of [192, 512]) {
  const page = await browser.newPage({ viewport: { width: n, height: n } });
  // Launchers draw icons on any colour: the wafer on a white rounded square.
  const side = Math.round(n * 0.86);
  await page.setContent(`<body style="margin:0;background:transparent"><div style="width:${n}px;height:${n}px;`
    + `background:#fff;border-radius:${n / 5}px;display:flex;align-items:center;justify-content:center">`
    + `${svg.replace('<svg ', `<svg width="${side}" height="${side}" `)}</div></body>`);
  await page.screenshot({ path: join(root, `public/icon-${n}.png`), omitBackground: true });
}
await browser.close();
