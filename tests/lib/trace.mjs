// What the by-hand benches share: a page of the app, started, and a Chromium trace of it.

/** Load the app at `url` in `page` and wait until it has chosen how to draw, then let it settle. */
export async function appStarted(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#backend') && !document.querySelector('#backend').textContent.includes('starting'));
  await page.waitForTimeout(500);
}

/** A CDP session on `page` that collects trace events: `start(categories)`, then `stop()`
 * resolves to every event. `cdp` is there for other domains (the CPU profiler). */
export async function tracer(page) {
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (d) => events.push(...d.value));
  const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  return {
    cdp,
    start: (categories) => cdp.send('Tracing.start', { categories, transferMode: 'ReportEvents' }),
    stop: async () => {
      await cdp.send('Tracing.end');
      await complete;
      return events;
    },
  };
}
