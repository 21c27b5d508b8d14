// From looking to finding out (issue 15), in the page: the lot gallery, retests (first pass and
// the dies a retest changed), zones, probe sites, a rectangle and a lasso chosen on the map, and pareto bars
// that mark their dies. Every number is checked against the CLI (`info`, `zones`, `sites`,
// `stats --rect`, `stats --lasso`), and every mark on the map by its pixels (WebGL2, so screenshots see the map).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from './lib/chromium.mjs';
import { serve } from './lib/serve.mjs';
import { decodePng } from './lib/png.mjs';
import { corpus, root } from './lib/corpus.mjs';

const dist = process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist');
const bin = process.env.WAFERSCOPE_BIN ?? join(root, 'target/debug/waferscope');
const run = (...args) => execFileSync(bin, args, { maxBuffer: 1 << 28 }).toString();
const json = (...args) => JSON.parse(run(...args, '--json'));
const until = (page, fn, arg, timeout = 120000) => page.waitForFunction(fn, arg, { timeout });
/** A panel's numbers, once the parsing worker's answer to its last ask is in (`data-pending` gone). */
const data = async (page, sel) => {
  await until(page, (s) => !document.querySelector(s)?.dataset.pending, sel);
  return page.evaluate((s) => {
    const e = document.querySelector(s);
    return e && JSON.parse(e.dataset.json);
  }, sel);
};

/** Colour `c` faded four fifths of the way to the background, as paint::palette::fade does. */
const fade = (c) => c.slice(0, 3).map((v) => Math.floor((v + 4 * 250) / 5));
const near = (a, b, label) => assert.ok(a.slice(0, 3).every((v, i) => Math.abs(v - b[i]) <= 3), `${label}: ${a} vs ${b}`);

/** The exported dies of one wafer: {x, y, hard_bin, attempts, site}. */
function dies(file, wafer) {
  const [head, ...rows] = run('export', file, '--format', 'csv', '--wafer', wafer).trim().split('\n').map((l) => l.split(','));
  const col = (n) => head.indexOf(n);
  return rows.map((r) => ({ x: +r[col('x')], y: +r[col('y')], bin: +r[col('hard_bin')], attempts: +r[col('attempts')] }));
}

test('gallery, retests, zones, sites, a selection and pareto marks agree with the CLI', async (t) => {
  const server = await serve(dist);
  const browser = await launch('webgl2');
  try {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const open = async (file, wafer) => {
      await page.setInputFiles('#file-input', file);
      await until(page, (w) => document.querySelector('#status')?.dataset.state === 'ready'
        && document.querySelector('#status')?.dataset.wafer === w && !document.querySelector('#progress'), wafer);
      await page.waitForTimeout(500);
    };
    /** Pixels at dies, from one screenshot: the map as the user sees it. */
    const pixels = async (list) => {
      const box = await page.locator('#map').boundingBox();
      const png = decodePng(await page.screenshot());
      const out = [];
      for (const d of list) {
        const [sx, sy] = await page.evaluate(([x, y]) => window.waferscope_die_screen(x, y), [d.x, d.y]);
        out.push(png.pixel(Math.round(box.x + sx), Math.round(box.y + sy)));
      }
      return out;
    };
    const binColor = (b) => page.evaluate((b) => window.waferscope_bin_color(b, true), b);

    await t.test('the lot gallery: every wafer, sorted by yield, filtered by pattern, a click opens it', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ws-demo-'));
      run('demo', '-o', dir);
      const file = join(dir, 'WSDEMO1_three_wafers.stdf');
      const info = json('info', file);
      await open(file, info.wafers[0].id);
      await until(page, () => document.querySelectorAll('#gallery .gallery-card img[src^="blob:"]').length === 3);
      assert.equal(await page.getAttribute('#gallery', 'data-count'), '3');
      await page.selectOption('#gallery-sort', 'yield-up');
      const cards = await page.$$eval('#gallery .gallery-card', (cs) => cs.map((c) => ({ id: c.dataset.wafer, y: +c.dataset.yield })));
      const want = info.wafers.map((w) => ({ id: w.id, y: w.yield })).sort((a, b) => a.y - b.y);
      assert.deepEqual(cards.map((c) => c.id), want.map((w) => w.id), 'lowest yield first');
      cards.forEach((c, i) => assert.ok(Math.abs(c.y - want[i].y) < 1e-12, c.id));
      // The classifier's labels arrive after the map: filter by one of them.
      await until(page, () => [...document.querySelectorAll('#gallery-pattern option')].length > 1);
      const labels = await page.$$eval('#gallery .gallery-card', (cs) => cs.map((c) => c.dataset.pattern));
      const one = labels.find((l) => l);
      await page.selectOption('#gallery-pattern', one);
      await until(page, (n) => document.querySelectorAll('#gallery .gallery-card').length === n, labels.filter((l) => l === one).length);
      await page.selectOption('#gallery-pattern', '');
      // The worker draws each thumbnail: the bytes `waferscope render` writes at that size.
      const blobBytes = (sel) => page.evaluate(async (s) => {
        const r = await fetch(document.querySelector(s).src);
        return [...new Uint8Array(await r.arrayBuffer())];
      }, sel);
      const render = (wafer, size) => {
        const out = join(dir, `${wafer}-${size}.png`);
        run('render', file, '--wafer', wafer, '--size', String(size), '-o', out);
        return [...readFileSync(out)];
      };
      for (const w of info.wafers) {
        assert.deepEqual(await blobBytes(`#gallery .gallery-card[data-wafer="${w.id}"] img`), render(w.id, 112), `thumbnail of ${w.id}`);
      }
      // A click opens the lowest-yield wafer.
      await page.click(`#gallery .gallery-card[data-wafer="${want[0].id}"]`);
      await until(page, (id) => document.querySelector('#status')?.dataset.wafer === id, want[0].id);
      // Compared with another wafer: both pictures as the CLI renders them at 360 pixels.
      const second = want[1].id;
      const index = info.wafers.findIndex((w) => w.id === second);
      await page.selectOption('#compare-select', String(index));
      await until(page, () => document.querySelectorAll('#compare img[src^="blob:"]').length === 2);
      assert.deepEqual(await blobBytes('#compare figure:nth-child(1) img'), render(want[0].id, 360), 'compare, left');
      assert.deepEqual(await blobBytes('#compare figure:nth-child(2) img'), render(second, 360), 'compare, right');
      await page.selectOption('#compare-select', '');
      await until(page, () => !document.querySelector('#compare'));

      // Two files chosen together are one lot: four wafers, each with its file.
      const other = join(dir, 'WSDEMO2_big_endian.stdf');
      const otherId = json('info', other).wafers[0].id;
      await page.setInputFiles('#file-input', [file, other]);
      await until(page, () => document.querySelector('#gallery')?.dataset.count === '4'
        && document.querySelectorAll('#gallery .gallery-card img[src^="blob:"]').length === 4);
      await page.selectOption('#gallery-sort', 'file');
      const lot = await page.$$eval('#gallery .gallery-card', (cs) => cs.map((c) => [c.dataset.wafer, c.dataset.origin]));
      assert.deepEqual(lot, [...info.wafers.map((w) => [w.id, 'WSDEMO1_three_wafers.stdf']), [otherId, 'WSDEMO2_big_endian.stdf']]);
      await page.click(`#gallery .gallery-card[data-wafer="${otherId}"]`);
      await until(page, (id) => document.querySelector('#status')?.dataset.wafer === id, otherId);

      // A damaged file in a lot: its warning says which file it was met in.
      const cut = join(dir, 'WSDEMO2_cut.stdf');
      const whole = readFileSync(other);
      writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
      await page.setInputFiles('#file-input', [file, cut]);
      await until(page, () => /reading stopped here/.test(document.querySelector('#warnings')?.textContent ?? ''));
      assert.match(await page.textContent('#warnings'), /WSDEMO2_cut\.stdf: offset \d+/);
    });

    const lot2 = join(corpus, 'stdf/lot2.stdf.gz');
    const lotDies = dies(lot2, 'GAL-LOT-02');
    await t.test('box plots per wafer (the worker\'s quartiles): each wafer\'s median and extremes as stats gives them', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ws-demo-'));
      run('demo', '-o', dir);
      const file = join(dir, 'WSDEMO1_three_wafers.stdf');
      const info = json('info', file);
      await open(file, info.wafers[0].id);
      const number = await page.getAttribute('#tests tbody tr', 'data-number');
      await page.click(`#tests tr[data-number="${number}"]`);
      await until(page, () => document.querySelector('#boxplot-wafers svg'));
      const boxes = await data(page, '#boxplot-wafers');
      assert.deepEqual(boxes.map((b) => b[0]), info.wafers.map((w) => w.id), 'one box per wafer, in file order');
      for (const [id, min, q1, median, q3, max] of boxes) {
        const [s] = json('stats', file, '--wafer', id, '--test', number).tests;
        assert.deepEqual([min, median, max], [s.min, s.p50, s.max], `wafer ${id}`);
        assert.ok(min <= q1 && q1 <= median && median <= q3 && q3 <= max, `wafer ${id}: ordered quartiles`);
      }
    });

    await t.test('retests on lot2: 1,569 PRRs over 1,456 dies, the first pass and the changed dies', async () => {
      const info = json('info', lot2).wafers[0];
      assert.equal(info.parts, 1569);
      assert.equal(info.dies, 1456);
      await open(lot2, 'GAL-LOT-02');
      const r = await data(page, '#retests');
      assert.deepEqual(r, info.retests, 'the page counts what the CLI counts');
      assert.equal(r.retested, 113);
      // First pass: the zones of the map shown are those of the CLI's --first-pass.
      await page.click('#pass-first');
      await until(page, () => document.querySelector('#retests')?.dataset.pass === 'first');
      const first = json('zones', lot2, '--first-pass');
      assert.deepEqual(await data(page, '#zones'), first.wafers[0].zones);
      // The retested dies whose pixel differs between the first pass and the final map are the
      // dies whose bin changed, and exactly those stay bright when they are marked.
      const retested = lotDies.filter((d) => d.attempts > 1);
      assert.equal(retested.length, 113);
      const firstPx = await pixels(retested);
      await page.click('#pass-final');
      await until(page, () => document.querySelector('#retests')?.dataset.pass === 'final');
      await page.waitForTimeout(300);
      const finalPx = await pixels(retested);
      const differ = retested.filter((_, i) => firstPx[i].slice(0, 3).join() !== finalPx[i].slice(0, 3).join());
      assert.equal(differ.length, r.changed, 'pixels that changed');
      await page.check('#retest-highlight');
      await page.waitForTimeout(300);
      const marked = await pixels(retested);
      for (const [i, d] of retested.entries()) {
        const changed = differ.includes(d);
        const want = changed ? finalPx[i] : fade(finalPx[i]);
        near(marked[i], want, `die ${d.x},${d.y} ${changed ? 'kept' : 'faded'}`);
      }
      await page.uncheck('#retest-highlight');

      // Coloured by a test, the first pass shows each retested die's first results: the site
      // table's test statistics are the CLI's --first-pass ones (which differ from the final
      // ones), and retested dies change colour with the toggle (before, both showed the final
      // values).
      await page.selectOption('#layer-select', 'test:1000');
      await until(page, () => document.querySelector('#sites thead')?.textContent.includes('mean'));
      const finalSites = json('sites', lot2, '--test', '1000');
      assert.deepEqual(await data(page, '#sites'), finalSites, 'final');
      await page.waitForTimeout(300);
      const testFinalPx = await pixels(retested);
      await page.click('#pass-first');
      await until(page, () => document.querySelector('#retests')?.dataset.pass === 'first');
      const firstSites = json('sites', lot2, '--test', '1000', '--first-pass');
      assert.notDeepEqual(firstSites.sites[0].test, finalSites.sites[0].test);
      await until(page, (n) => { const e = document.querySelector('#sites');
        return e && !e.dataset.pending && JSON.parse(e.dataset.json).sites[0]?.test?.count === n; }, firstSites.sites[0].test.count);
      assert.deepEqual(await data(page, '#sites'), firstSites, 'first pass');
      await page.waitForTimeout(300);
      const testFirstPx = await pixels(retested);
      const recoloured = retested.filter((_, i) => testFirstPx[i].slice(0, 3).join() !== testFinalPx[i].slice(0, 3).join());
      assert.ok(recoloured.length > 0, 'retested dies change colour');
      console.log(`first pass by test 1000: ${recoloured.length} of ${retested.length} retested dies change colour`);
      // Back to the final map: every panel's question was answered before, so none is asked.
      const asked = await page.evaluate(() => window.waferscope_asks());
      await page.click('#pass-final');
      await until(page, (n) => { const e = document.querySelector('#sites');
        return e && !e.dataset.pending && JSON.parse(e.dataset.json).sites[0]?.test?.count === n; }, finalSites.sites[0].test.count);
      assert.equal(await page.evaluate(() => window.waferscope_asks()), asked, 'no ask for answers kept');
      await page.selectOption('#layer-select', 'hbin');
    });

    await t.test('zones: rings and quadrants as waferscope zones cuts them, drawn on the map', async () => {
      await page.fill('#zones-rings', '4');
      await page.dispatchEvent('#zones-rings', 'change');
      await page.fill('#zones-edge', '1');
      await page.dispatchEvent('#zones-edge', 'change');
      await until(page, () => { const z = document.querySelector('#zones'); const j = z?.dataset.json && JSON.parse(z.dataset.json);
        return j && j.spec.rings === 4 && j.spec.edge === 1; });
      const cli = json('zones', lot2, '--rings', '4', '--edge', '1');
      assert.deepEqual(await data(page, '#zones'), cli.wafers[0].zones);
      await page.check('#zones-overlay');
      await until(page, () => document.querySelectorAll('#zones-drawn circle').length === 5);
      // The overlay and the panel ask the same question: it goes to the worker once, and asked
      // again (back to 4 rings) it is answered from the page's kept answers.
      const asks = () => page.evaluate(() => window.waferscope_asks());
      const rings = async (n, circles) => {
        await page.fill('#zones-rings', String(n));
        await page.dispatchEvent('#zones-rings', 'change');
        await until(page, ([n, c]) => JSON.parse(document.querySelector('#zones')?.dataset.json ?? '{}').spec?.rings === n
          && document.querySelectorAll('#zones-drawn circle').length === c, [n, circles]);
      };
      let before = await asks();
      await rings(3, 4);
      assert.equal(await asks() - before, 1, 'one ask for the panel and the overlay');
      before = await asks();
      await rings(4, 5);
      assert.equal(await asks() - before, 0, 'an ask answered before is not asked again');
      // Off again: its lines would cross the dies the next checks sample.
      await page.uncheck('#zones-overlay');
    });

    await t.test('a rectangle chosen on the map: its dies and yield as stats --rect counts them', async () => {
      // Drag from one die's centre to another's with shift held.
      const box = await page.locator('#map').boundingBox();
      const at = (x, y) => page.evaluate(([x, y]) => window.waferscope_die_screen(x, y), [x, y]);
      const [ax, ay] = await at(12, -30);
      const [bx, by] = await at(24, -18);
      await page.keyboard.down('Shift');
      await page.mouse.move(box.x + ax, box.y + ay);
      await page.mouse.down();
      await page.mouse.move(box.x + bx, box.y + by, { steps: 6 });
      await page.mouse.up();
      await page.keyboard.up('Shift');
      // Away from the map, so no die is hovered.
      await page.mouse.move(5, 5);
      await until(page, () => document.querySelector('#selection'));
      const sel = await data(page, '#selection');
      assert.deepEqual(sel.rect, { x: [12, 24], y: [-30, -18] });
      const cli = json('stats', lot2, '--wafer', 'GAL-LOT-02', '--rect', '12:24,-30:-18');
      assert.deepEqual(sel.selection, cli.selection);
      assert.equal(sel.selection.dies + sel.rest.dies, 1456);
      // Inside stays bright, outside fades.
      await page.waitForTimeout(300);
      const inside = lotDies.find((d) => d.x === 18 && d.y === -24);
      const outside = lotDies.find((d) => d.x === 30 && d.y === -10);
      const [pi, po] = await pixels([inside, outside]);
      near(pi, await binColor(inside.bin), 'selected die');
      near(po, fade(await binColor(outside.bin)), 'unselected die');
      assert.ok(await page.$('#selection-rect'));
      await page.click('#selection-clear');
      await until(page, () => !document.querySelector('#selection'));
    });

    await t.test('a lasso drawn on the map: its dies and yield as stats --lasso counts them', async () => {
      await page.check('#selection-lasso-mode');
      const box = await page.locator('#map').boundingBox();
      const at = (x, y) => page.evaluate(([x, y]) => window.waferscope_die_screen(x, y), [x, y]);
      // A triangle through three die centres, drawn in small steps as a hand would.
      const corners = [await at(12, -30), await at(24, -30), await at(18, -18)];
      await page.keyboard.down('Shift');
      await page.mouse.move(box.x + corners[0][0], box.y + corners[0][1]);
      await page.mouse.down();
      for (const [x, y] of [...corners.slice(1), corners[0]]) {
        await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
      }
      await page.mouse.up();
      await page.keyboard.up('Shift');
      await page.mouse.move(5, 5);
      await until(page, () => { const j = document.querySelector('#selection')?.dataset.json; return j && JSON.parse(j).lasso; });
      const sel = await data(page, '#selection');
      assert.ok(sel.lasso.length >= 20, `a lasso of ${sel.lasso.length} points`);
      // The CLI counts the dies inside the same path, from the file.
      const path = sel.lasso.map(([x, y]) => `${x},${y}`).join(';');
      const cli = json('stats', lot2, '--wafer', 'GAL-LOT-02', `--lasso=${path}`);
      assert.deepEqual(sel.selection, cli.selection);
      assert.equal(sel.selection.dies + sel.rest.dies, 1456);
      // About half the triangle's 13 x 13 box of dies (exactly which dies on its edges fall
      // inside depends on where the pointer's steps landed).
      assert.ok(sel.selection.dies > 60 && sel.selection.dies < 110, `${sel.selection.dies} dies`);
      await page.waitForTimeout(300);
      const inside = lotDies.find((d) => d.x === 18 && d.y === -26);
      const outside = lotDies.find((d) => d.x === 30 && d.y === -10);
      const [pi, po] = await pixels([inside, outside]);
      near(pi, await binColor(inside.bin), 'die inside the lasso');
      near(po, fade(await binColor(outside.bin)), 'die outside the lasso');
      assert.ok(await page.$('#selection-lasso'));
      await page.click('#selection-clear');
      await until(page, () => !document.querySelector('#selection'));
      await page.uncheck('#selection-lasso-mode');
    });

    await t.test('a pareto bar marks its bin\'s dies on the map', async () => {
      const bin8 = lotDies.find((d) => d.bin === 8);
      const pass = lotDies.find((d) => d.bin === 1);
      await page.click('.bar-row[data-bin="8"]');
      await page.waitForTimeout(300);
      const [p8, p1] = await pixels([bin8, pass]);
      near(p8, await binColor(8), 'bin 8 kept');
      near(p1, fade(await binColor(1)), 'bin 1 faded');
      await page.click('.bar-row[data-bin="8"]');
    });

    await t.test('Export PNG is the map as shown: zoomed in, a pareto bar\'s dies marked', async () => {
      await page.click('.bar-row[data-bin="8"]');
      try {
        await page.focus('.map-frame');
        await page.keyboard.press('+');
        await page.keyboard.press('+');
        await page.mouse.move(5, 5);
        await page.waitForTimeout(300);
        const [width, height, cssWidth] = await page.$eval('#map', (c) => [c.width, c.height, c.clientWidth]);
        const k = width / cssWidth;
        // The dies the zoomed view shows (3 px in from its edges): bin 8's kept, the rest faded.
        const at = await page.evaluate((ds) => ds.map((d) => window.waferscope_die_screen(d.x, d.y)), lotDies);
        const inside = lotDies.map((d, i) => ({ ...d, px: Math.round(at[i][0] * k), py: Math.round(at[i][1] * k) }))
          .filter((d) => d.px >= 3 && d.py >= 3 && d.px < width - 3 && d.py < height - 3);
        assert.ok(inside.length < lotDies.length * 0.8, `zoomed in: ${inside.length} of ${lotDies.length} dies on screen`);
        const marked = inside.filter((d) => d.bin === 8).slice(0, 8);
        const faded = inside.filter((d) => d.bin !== 8).slice(0, 20);
        assert.ok(marked.length >= 4 && faded.length >= 10, `${marked.length} bin-8 and ${faded.length} other dies on screen`);
        const shown = [...marked, ...faded];
        const screen = await pixels(shown);
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
        const png = decodePng(readFileSync(await download.path()));
        assert.deepEqual([png.width, png.height], [width, height], 'the canvas\'s pixels');
        for (const [i, d] of shown.entries()) near(png.pixel(d.px, d.py), screen[i], `die ${d.x},${d.y} (bin ${d.bin})`);
        // And the screen is what the marks say, so the PNG is not merely the fitted map's.
        near(screen[0], await binColor(8), 'bin 8 kept');
        near(screen.at(-1), fade(await binColor(faded.at(-1).bin)), `bin ${faded.at(-1).bin} faded`);
      } finally {
        await page.click('.bar-row[data-bin="8"]');
        await page.focus('.map-frame');
        await page.keyboard.press('f');
      }
    });

    await t.test('a histogram bar marks the dies whose values fall in it', async () => {
      // Colour the map by the test that fails most (the test list's first row).
      const number = await page.getAttribute('#tests tbody tr', 'data-number');
      await page.click(`#tests tr[data-number="${number}"]`);
      await until(page, () => document.querySelector('#histogram-chart svg'));
      const h = await data(page, '#histogram');
      assert.equal(String(h.test), number);
      const csv = run('export', lot2, '--format', 'csv', '--wafer', 'GAL-LOT-02').trim().split('\n').map((l) => l.split(','));
      const col = csv[0].findIndex((c) => c.startsWith(`${number}:`));
      const vals = csv.slice(1).map((r) => ({ x: +r[1], y: +r[2], v: r[col] === '' ? NaN : Number(r[col]) }));
      const finite = vals.filter((d) => Number.isFinite(d.v));
      assert.equal(h.bars.reduce((a, b) => a + b[2], 0), finite.length, 'every finite result in a bar');
      // The tallest bar, clicked in its middle.
      const k = h.bars.reduce((best, b, i) => (b[2] > h.bars[best][2] ? i : best), 0);
      const [lo, hi] = h.bars[k];
      // The right column scrolls: bring the chart into view first.
      await page.locator('#histogram-chart svg').scrollIntoViewIfNeeded();
      const box = await page.locator('#histogram-chart svg').boundingBox();
      assert.equal(Math.round(box.width), 256, 'drawn at its own size');
      const [a, b] = h.plot_x;
      const x = a + (k + 0.5) * (b - a) / h.bars.length;
      const before = await pixels(finite);
      await page.mouse.click(box.x + x, box.y + box.height * 0.6);
      await until(page, () => document.querySelector('#histogram p')?.textContent.startsWith('Marked'));
      await page.mouse.move(5, 5);
      await page.waitForTimeout(300);
      const after = await pixels(finite);
      // Away from the bar's edges, where f32 text and f64 bounds could disagree.
      const margin = (hi - lo) * 1e-4;
      let inside = 0;
      for (const [i, d] of finite.entries()) {
        if (d.v > lo + margin && d.v < hi - margin) {
          near(after[i], before[i], `die ${d.x},${d.y} value ${d.v} in the bar`);
          inside++;
        } else if (d.v < lo - margin || d.v > hi + margin) {
          near(after[i], fade(before[i]), `die ${d.x},${d.y} value ${d.v} outside the bar`);
        }
      }
      assert.ok(inside > 0);
    });

    await t.test('the reticle: yield per position of the field as waferscope reticle, and its grid drawn', async () => {
      for (const [id, v] of [['#reticle-width', '3'], ['#reticle-height', '2'], ['#reticle-dx', '1'], ['#reticle-dy', '-1']]) {
        await page.fill(id, v);
        await page.dispatchEvent(id, 'change');
      }
      await until(page, () => {
        const j = document.querySelector('#reticle')?.dataset.json;
        const r = j && JSON.parse(j).spec;
        return r && r.width === 3 && r.height === 2 && r.offset[0] === 1 && r.offset[1] === -1;
      });
      const cli = json('reticle', lot2, '--field', '3x2+1-1');
      assert.deepEqual(await data(page, '#reticle'), cli.wafers[0].reticle);
      await page.check('#reticle-overlay');
      // lot2 spans x 4..45 and y -45..-3: a line every 3 columns and every 2 rows inside it.
      await until(page, () => document.querySelectorAll('#reticle-drawn line').length === 13 + 21);
      await page.uncheck('#reticle-overlay');
    });

    await t.test('the report, from the CLI and from the page, opens with no network', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ws-report-'));
      const a595 = join(corpus, 'stdf/a595.stdf');
      const out = join(dir, 'lot.html');
      run('report', a595, lot2, '-o', out);
      const offline = async (path, wafers) => {
        const ctx = await browser.newContext();
        const requests = [];
        await ctx.route('**/*', (r) => {
          if (r.request().url().startsWith('file:')) return r.continue();
          requests.push(r.request().url());
          return r.abort();
        });
        const p = await ctx.newPage();
        await p.goto(`file://${path}`);
        const facts = await p.evaluate(() => ({
          cards: document.querySelectorAll('.card.wafer').length,
          images: [...document.images].filter((i) => i.complete && i.naturalWidth > 0).length,
          charts: document.querySelectorAll('svg').length,
          sections: document.querySelectorAll('section.file').length,
        }));
        await ctx.close();
        assert.deepEqual(requests, [], 'nothing fetched');
        assert.equal(facts.cards, wafers);
        assert.equal(facts.images, wafers, 'every map drawn');
        assert.ok(facts.charts > 3, 'pareto, histograms, box plots');
        return facts;
      };
      assert.equal((await offline(out, 4)).sections, 2, 'a595 and lot2');
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-report')]);
      const saved = join(dir, 'page.html');
      await download.saveAs(saved);
      await offline(saved, 1);
      // The page's report is the CLI's, byte for byte, but for who wrote it and the patterns'
      // probabilities (browser and native agree within 1e-3, not to the printed digit): the
      // parsing worker writes it with the same code, and charts never measure text on a page.
      const alone = join(dir, 'lot2.html');
      run('report', lot2, '-o', alone);
      const same = (path) => readFileSync(path, 'utf8')
        .replace(/Written by [^<]*\./, 'Written by …')
        .replace(/<span class="muted">([^<]*)<\/span><\/div>/g, (_, p) => `<span class="muted">${p.replace(/\d+\.\d%/g, '%')}</span></div>`);
      assert.equal(same(saved), same(alone));
    });

    await t.test('probe sites on Teradyne Flex (8 sites): yield per site and a test per site', async () => {
      const flex = join(corpus, 'stdf/Teradyne_Flex_3.stdf.xz');
      const id = json('info', flex).wafers[0].id;
      await open(flex, id);
      await until(page, () => document.querySelector('#sites')?.dataset.count === '8');
      assert.deepEqual(await data(page, '#sites'), json('sites', flex, '--wafer', id));
      // Colour the map by the test that fails most: the table adds it per site.
      await until(page, () => document.querySelector('#tests tbody tr'));
      const number = await page.getAttribute('#tests tbody tr', 'data-number');
      await page.click(`#tests tr[data-number="${number}"]`);
      await until(page, () => document.querySelector('#sites thead')?.textContent.includes('mean'));
      assert.deepEqual(await data(page, '#sites'), json('sites', flex, '--wafer', id, '--test', number));
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
