// Test statistics in the page (issue 15): the numbers the page's test list shows are the ones
// `waferscope stats --json` prints, per wafer and over the whole file, on a multi-wafer file
// (a595, three wafers) and a multi-site one (Teradyne Flex, 8 sites, 1,352 tests), computed in the
// parsing worker; sorting by fails and by Cpk; a click colours the map by that test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { launch } from './lib/chromium.mjs';
import { serve } from './lib/serve.mjs';
import { corpus, root } from './lib/corpus.mjs';

const dist = process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist');
const bin = process.env.WAFERSCOPE_BIN ?? join(root, 'target/debug/waferscope');
const until = (page, fn, arg, timeout = 120000) => page.waitForFunction(fn, arg, { timeout });
const cli = (file, wafer) => JSON.parse(execFileSync(bin, ['stats', '--json', file, ...(wafer ? ['--wafer', wafer] : [])], { maxBuffer: 1 << 28 }).toString()).tests;

/** The test list as the page shows it, once the parsing worker's answer to its last ask is in:
 * its scope, its count, and each row's statistics. */
const shown = async (page) => {
  await until(page, () => document.querySelector('#tests') && !document.querySelector('#tests').dataset.pending);
  return page.evaluate(() => {
  const t = document.querySelector('#tests');
  return t && {
    scope: t.dataset.scope,
    count: Number(t.dataset.count),
    rows: [...t.querySelectorAll('tbody tr')].map((r) => JSON.parse(r.dataset.stats)),
  };
  });
};

function same(page, want, label) {
  assert.equal(page.count, want.length, `${label}: how many tests`);
  const byNumber = new Map(want.map((t) => [t.number, t]));
  assert.ok(page.rows.length > 0, label);
  for (const row of page.rows) assert.deepEqual(row, byNumber.get(row.number), `${label}: test ${row.number}`);
}

test('the page shows the statistics the CLI computes, per wafer and over the file', async () => {
  const server = await serve(dist);
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);

    const a595 = join(corpus, 'stdf/a595.stdf');
    const ids = JSON.parse(execFileSync(bin, ['info', '--json', a595]).toString()).wafers.map((w) => w.id);
    await page.setInputFiles('#file-input', a595);
    for (const [i, id] of ids.entries()) {
      await page.selectOption('#wafer-select', String(i));
      await until(page, (id) => document.querySelector('#tests')?.dataset.scope === id, id);
      same(await shown(page), cli(a595, id), `a595 wafer ${id}`);
    }
    await page.selectOption('#wafer-select', 'stack');
    await until(page, () => document.querySelector('#tests')?.dataset.scope === '*');
    same(await shown(page), cli(a595), 'a595, every wafer');

    // Sorted by fails (the default), then by Cpk, lowest first and the undefined last.
    const rows = (await shown(page)).rows;
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].fails >= rows[i].fails, 'most fails first');
    await page.click('#tests-by-cpk');
    const cpk = (await shown(page)).rows.map((r) => r.cpk ?? Infinity);
    for (let i = 1; i < cpk.length; i++) assert.ok(cpk[i - 1] <= cpk[i], `lowest Cpk first: ${cpk}`);

    // A row colours the map by its test.
    await page.selectOption('#wafer-select', '0');
    await until(page, (id) => document.querySelector('#tests')?.dataset.scope === id, ids[0]);
    const first = (await shown(page)).rows[0].number;
    await page.click(`#tests tr[data-number="${first}"]`);
    await until(page, (n) => document.querySelector('#layer-select')?.value === `test:${n}`, first);

    // Multi-site and big: 142 MB inflated, 1,352 tests; the page shows the first 100.
    const flex = join(corpus, 'stdf/Teradyne_Flex_3.stdf.xz');
    const flexId = JSON.parse(execFileSync(bin, ['info', '--json', flex]).toString()).wafers[0].id;
    await page.setInputFiles('#file-input', flex);
    await until(page, (id) => document.querySelector('#tests')?.dataset.scope === id, flexId);
    const got = await shown(page);
    assert.equal(got.rows.length, 100);
    same(got, cli(flex, flexId), 'Flex_3');
    // Rows 31 to 100 are a group of their own, laid out apart from the first 30 (from the
    // list's first scroll or the page's first idle moment): then all 100 show, unscrolled.
    assert.equal(await page.evaluate(() => document.querySelectorAll('#tests tbody.later tr').length), 70);
    await until(page, () => [...document.querySelectorAll('#tests tbody tr')].every((r) => r.getClientRects().length > 0));
    assert.equal(await page.evaluate(() => document.querySelector('#tests .tests-scroll').scrollTop), 0);
    const ms = await page.evaluate(() => document.querySelector('#status').dataset.statsMs);
    console.log(`Flex_3: statistics of ${got.count} tests, per wafer and over the file, in ${ms} ms in the parsing worker`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
