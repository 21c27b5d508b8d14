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

/** The page's tasks over `over` ms (50: the browser's long tasks) in a trace: whole, without
 * the wait for the canvas readback, and the page thread's CPU time in them. */
export function longTasks(events, over = 50) {
  const threads = new Map(events.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args.name]));
  const main = events.filter((e) => e.ph === 'X' && e.dur && threads.get(`${e.pid}:${e.tid}`) === 'CrRendererMain');
  const within = (e, t) => e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur;
  const runs = main.filter((e) => e.name === 'ThreadControllerImpl::RunTask' && e.dur > over * 1000);
  // Who else ran meanwhile: every other thread's tasks, by their thread time.
  const processes = new Map(events.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args.name]));
  const group = (e) => {
    const thread = threads.get(`${e.pid}:${e.tid}`);
    if (processes.get(e.pid) === 'GPU Process') return 'gpu';
    if (thread === 'DedicatedWorker thread') return 'workers';
    // The renderer's pool: V8's wasm compilation and tier-up, garbage collection, raster.
    if (processes.get(e.pid) === 'Renderer' && thread?.startsWith('ThreadPool')) return 'pool';
    return 'other';
  };
  const others = events.filter((e) => e.ph === 'X' && e.dur && e.tdur !== undefined
    && (e.name === 'ThreadControllerImpl::RunTask' || e.name === 'ThreadPool_RunTask')
    && threads.get(`${e.pid}:${e.tid}`) !== 'CrRendererMain');
  const beside = (t) => {
    const cpu = { workers: 0, pool: 0, gpu: 0, other: 0 };
    for (const e of others) {
      const overlap = Math.min(e.ts + e.dur, t.ts + t.dur) - Math.max(e.ts, t.ts);
      if (overlap > 0) cpu[group(e)] += (e.tdur * overlap) / e.dur / 1000;
    }
    return cpu;
  };
  // Tasks run inside tasks (nested run loops): count the outermost.
  return runs.filter((t) => !runs.some((o) => o !== t && within(t, o))).map((t) => {
    const gpu = main.filter((e) => e.name === 'GLES2::ReadPixels' && within(e, t)).reduce((a, e) => a + e.dur, 0);
    // Thread time: what the page's thread itself ran. On a machine whose cores are busy (the
    // workers, the software GPU) the rest of a task's wall time is waiting for one.
    // Who else ran only for the long ones: with a low `over`, every task is one.
    const cpu = t.tdur === undefined ? NaN : t.tdur / 1000;
    return { ms: t.dur / 1000, own: (t.dur - gpu) / 1000, cpu, beside: t.dur > 50000 ? beside(t) : null };
  });
}

/** Trace `action` on `page` and 2 s after it: its tasks over `over` ms, and how long the
 * action took until it resolved. */
export async function traced(page, action, over = 50) {
  const trace = await tracer(page);
  await trace.start('toplevel,gpu');
  const t0 = Date.now();
  await action();
  const ms = Date.now() - t0;
  await page.waitForTimeout(2000);
  const events = await trace.stop();
  await trace.cdp.detach();
  return { tasks: longTasks(events, over), ms };
}
