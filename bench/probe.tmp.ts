import { decodeSafetensors, parseCheckpoint } from '../src/index.js';
const enc = (header: string, data = new Uint8Array(0)) => {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8); out.set(data, 8 + h.length);
  return out;
};
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const cases: Record<string, Uint8Array> = {
  deepShape: enc(`{"w":{"dtype":"F32","shape":${deep(100000)},"data_offsets":[0,0]}}`),
  deepHeader: enc(`{"a":${deep(200000)}}`),
  deepDtype: enc(`{"w":{"dtype":${deep(100000)},"shape":[1],"data_offsets":[0,4]}}`),
  deepConfig: enc(`{"__metadata__":{"config":${JSON.stringify(deep(200000))}}}`),
  deepPosition: enc(`{"__metadata__":{"position":${JSON.stringify('{"step":1,"sampler":' + deep(200000) + '}')}}}`),
  dupKey: enc(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, new Uint8Array(4)),
};
for (const [k, b] of Object.entries(cases)) {
  try { const r = parseCheckpoint(b); console.log(k, 'accepted', r.tensors.size); } catch (e) { console.log(k, (e as Error).constructor.name, (e as Error).message.slice(0, 100)); }
}
