// A tiny STDF V4 writer (little-endian) for crafted edge inputs: many wafers, odd lot names.
// Only the records the reader needs: FAR, MIR, then per wafer WIR, PIR/PRR per die, WRR; MRR.

function record(typ, sub, parts) {
  const body = Buffer.concat(parts);
  const h = Buffer.alloc(4);
  h.writeUInt16LE(body.length, 0);
  h[2] = typ;
  h[3] = sub;
  return Buffer.concat([h, body]);
}
const u1 = (v) => Buffer.from([v]);
const u2 = (v) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const i2 = (v) => { const b = Buffer.alloc(2); b.writeInt16LE(v); return b; };
const u4 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const cn = (s) => { const b = Buffer.from(s, 'latin1'); return Buffer.concat([u1(b.length), b]); };
const c1 = (s) => Buffer.from(s, 'latin1');

/**
 * An STDF file with `wafers` wafers of a `side` x `side` die grid each (a failing ring), lot
 * `lot`, sublot and part type `text` (defaults to the lot).
 */
export function stdfFile({ wafers = 1, side = 5, lot = 'LOT', text = lot }) {
  const out = [record(0, 10, [u1(2), u1(4)])];
  out.push(record(1, 10, [u4(1), u4(1), u1(1), c1('P'), c1(' '), c1(' '), u2(0), c1(' '),
    cn(lot), cn(text), cn('node'), cn('tester'), cn('job'), cn(''), cn(text)]));
  for (let w = 0; w < wafers; w++) {
    out.push(record(2, 10, [u1(1), u1(255), u4(1000 + w), cn(`W${w}`)]));
    let n = 0;
    for (let x = 0; x < side; x++) {
      for (let y = 0; y < side; y++) {
        const edge = x === 0 || y === 0 || x === side - 1 || y === side - 1;
        const fail = edge !== (w % 2 === 1);
        out.push(record(5, 10, [u1(1), u1(1)]));
        out.push(record(5, 20, [u1(1), u1(1), u1(fail ? 8 : 0), u2(0), u2(fail ? 2 : 1),
          u2(fail ? 2 : 1), i2(x), i2(y), u4(1)]));
        n++;
      }
    }
    out.push(record(2, 20, [u1(1), u1(255), u4(2000 + w), u4(n)]));
  }
  out.push(record(1, 20, [u4(3000)]));
  return Buffer.concat(out);
}
