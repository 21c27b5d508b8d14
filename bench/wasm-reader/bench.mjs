// Times the wasm32 build of the STDF reader under Node on the native benchmark's bytes.
// Usage: node bench.mjs READER.wasm FILE [runs]
// Prints the median decode time and MB/s (decompression happens once, before timing).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [wasmPath, file, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 15);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const x = instance.exports;
const input = readFileSync(file);
const at = x.input_buffer(input.length); // may grow memory: take the buffer after
new Uint8Array(x.memory.buffer, at, input.length).set(input);
const size = x.load();
if (!size) throw new Error(`${file}: could not decompress in wasm`);
const times = [];
let records = 0;
for (let i = 0; i < runs + 2; i++) {
  const t0 = performance.now();
  records = x.parse();
  const t = performance.now() - t0;
  if (i >= 2) times.push(t); // two warm-up runs (tier-up of the wasm code)
}
if (!records) throw new Error('parse failed');
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const mb = size / 1e6;
console.log(`wasm32 reader under Node ${process.version}: ${mb.toFixed(1)} MB, ${records} records, ` +
  `median ${median.toFixed(1)} ms over ${runs} runs = ${(mb / (median / 1e3)).toFixed(0)} MB/s`);
