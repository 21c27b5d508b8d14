// Dev-only fault injection for the edge benchmark (tests/benches/edge-load.mjs): the built Worker
// (../build/index.js) behind an env whose KV and R2 bindings fail a share of their calls.
//
// Production never runs this file: wrangler.toml's `main` is build/index.js, and this entry is
// only used when a caller names it (`wrangler dev dev/faults.js`, as tests/edge.mjs does for
// `startEdge({ faults })`). Even then it injects nothing unless `WAFERSCOPE_DEV` is "1", the
// flag the dev-only metrics endpoint already requires. Switches (wrangler `--var`):
//   FAULT_KV_SHARE=0.1   one KV call in ten (get, getWithMetadata, put, list, delete) rejects
//   FAULT_R2_SHARE=0.1   the same for R2 (get, head, put, list, delete)
// A failed call rejects like a real outage would (an Error, after no delay). An answer whose
// request saw at least one injected fault carries `X-Fault-Injected: N`, so the bench can tell
// a graceful fallback (200 despite a fault) from an error the fault caused.
import Worker from '../build/index.js';
import { WorkerEntrypoint } from 'cloudflare:workers';

const KV_METHODS = new Set(['get', 'getWithMetadata', 'put', 'list', 'delete']);
const R2_METHODS = new Set(['get', 'head', 'put', 'list', 'delete']);

function share(env, name) {
  const v = Number(env[name] ?? 0);
  return Number.isFinite(v) && v > 0 ? Math.min(v, 1) : 0;
}

/** `binding` with each of `methods` rejecting for a `p` share of calls; `hits.n` counts them. */
function faulty(binding, what, methods, p, hits) {
  return new Proxy(binding, {
    get(target, prop) {
      const v = target[prop];
      if (typeof v !== 'function' || !methods.has(prop)) return v;
      return (...args) => {
        if (Math.random() < p) {
          hits.n += 1;
          return Promise.reject(new Error(`injected fault: ${what} ${prop}`));
        }
        return v.apply(target, args);
      };
    },
  });
}

export default class extends WorkerEntrypoint {
  async fetch(request) {
    const env = this.env;
    const kv = share(env, 'FAULT_KV_SHARE');
    const r2 = share(env, 'FAULT_R2_SHARE');
    if (env.WAFERSCOPE_DEV !== '1' || (kv === 0 && r2 === 0)) {
      return new Worker(this.ctx, env).fetch(request);
    }
    const hits = { n: 0 };
    const wrapped = Object.create(env);
    Object.assign(wrapped, env);
    if (kv) wrapped.INDEX = faulty(env.INDEX, 'KV', KV_METHODS, kv, hits);
    if (r2) wrapped.WAFERS = faulty(env.WAFERS, 'R2', R2_METHODS, r2, hits);
    const res = await new Worker(this.ctx, wrapped).fetch(request);
    if (hits.n === 0) return res;
    const marked = new Response(res.body, res);
    marked.headers.set('X-Fault-Injected', String(hits.n));
    return marked;
  }
}
