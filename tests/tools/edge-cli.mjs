// `cargo xtask run` and `cargo xtask release-model` drive the edge through this script.
//   node tests/tools/edge-cli.mjs serve PORT STATE DEMO_DIR   start the Worker, seed model + demo wafers
//   node tests/tools/edge-cli.mjs release-model URL WEIGHTS VERSION   upload and release a model version
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { startEdge, uploadModel, release, uploadWafer, root } from '../lib/edge.mjs';

const [cmd, ...args] = process.argv.slice(2);

async function releaseModel(base, dir, version, weights) {
  const up = await uploadModel(base, dir, version, { weights });
  const upBody = await up.json();
  if (!up.ok) throw new Error(`model upload: ${up.status} ${JSON.stringify(upBody)}`);
  // 202: the new version is current and the old predictions' purge continues; releasing the
  // same version again resumes it from its stored cursor, until 200.
  for (let i = 0; ; i++) {
    const r = await release(base, version);
    const body = await r.json();
    if (!r.ok) throw new Error(`release: ${r.status} ${JSON.stringify(body)}`);
    if (r.status === 200 || i >= 1000) return body;
  }
}

if (cmd === 'serve') {
  const [port, state, demo] = args;
  const edge = await startEdge({ port: Number(port), state, dev: false, quiet: false });
  const model = await (await fetch(`${edge.base}/api/v1/model`)).json();
  if (!model.version) {
    const manifest = JSON.parse(readFileSync(join(root, 'public/model/manifest.json'), 'utf8'));
    await releaseModel(edge.base, join(root, 'public/model'), manifest.model_version);
  }
  for (const f of readdirSync(demo)) {
    const r = await uploadWafer(edge.base, readFileSync(join(demo, f)));
    const body = await r.json();
    if (!r.ok) throw new Error(`${f}: ${r.status} ${JSON.stringify(body)}`);
    console.log(`uploaded ${f}: ${body.wafers.length} wafers`);
  }
  console.log(`\nWaferscope: ${edge.base}  (app and API on the edge Worker, workerd; Ctrl-C to stop)`);
  const bye = async () => { await edge.stop(); process.exit(0); };
  process.on('SIGINT', bye);
  process.on('SIGTERM', bye);
} else if (cmd === 'release-model') {
  const [url, weights, version] = args;
  const body = await releaseModel(url, dirname(weights), Number(version), weights);
  console.log(JSON.stringify(body, null, 2));
} else {
  console.error('usage: edge-cli.mjs serve PORT STATE DEMO_DIR | release-model URL WEIGHTS VERSION');
  process.exit(2);
}
