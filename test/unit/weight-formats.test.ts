import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadCheckpoint } from '../../model-runtime/src/checkpoint/checkpoint';
import { readSafetensorsHeader, readTensorAsFloat32, readTensorBytes } from '../../model-runtime/src/checkpoint/safetensors';
import { Pix2StructModel } from '../../model-runtime/src/model';
import { relativeError } from '../../model-runtime/src/runtime/precision';
import { MODEL_DIR, maxAbsDiff, modelRef, readReference, referenceInputs, tempDir } from '../helpers/fixture';
import { writeSafetensors, type RawTensor } from '../helpers/safetensors-writer';

const CONFIG_FILES = ['config.json', 'generation_config.json', 'preprocessor_config.json'];
const source = readSafetensorsHeader(path.join(MODEL_DIR, 'model.safetensors'));
const f32 = new Map([...source.tensors].map(([name, e]) => [name, readTensorAsFloat32(e)]));

function folderWith(write: (dir: string) => void): string {
  const dir = tempDir('weights');
  for (const f of CONFIG_FILES) fs.copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
  write(dir);
  return dir;
}

/** bfloat16 by truncation: the upper half of each float32, exactly representable. */
function toBf16(values: Float32Array): { bytes: Uint8Array; widened: Float32Array } {
  const bits = new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const halves = new Uint16Array(bits.length);
  const widened = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    halves[i] = bits[i]! >>> 16;
    widened[i] = bits[i]! & 0xffff0000;
  }
  return { bytes: new Uint8Array(halves.buffer), widened: new Float32Array(widened.buffer) };
}

/** IEEE half by round-to-nearest on the mantissa (values here are normal and in range). */
function toF16(values: Float32Array): Uint8Array {
  const out = new Uint16Array(values.length);
  const view = new DataView(new ArrayBuffer(4));
  values.forEach((v, i) => {
    view.setFloat32(0, v);
    const x = view.getUint32(0);
    const sign = (x >>> 16) & 0x8000;
    const exp = ((x >>> 23) & 0xff) - 127 + 15;
    if (exp <= 0) out[i] = sign; // flush tiny values to zero
    else out[i] = sign | ((exp << 10) + (((x & 0x7fffff) + 0x1000) >>> 13)); // + carries a rounded-up mantissa into the exponent
  });
  return new Uint8Array(out.buffer);
}

async function step0Logits(dir: string, precision: 'fp32' | 'int8' = 'fp32'): Promise<Float32Array> {
  const model = await Pix2StructModel.load(dir, { precision, cacheDir: tempDir('graphs') });
  try {
    const encoding = await model.encode(referenceInputs('chart'));
    return await model.decoderFor(encoding).forward([[0]]);
  } finally {
    await model.release();
  }
}

describe('weight formats', () => {
  const created: string[] = [];
  after(() => created.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  test('a sharded float32 checkpoint gives the reference greedy ids', async () => {
    const names = [...source.tensors.keys()];
    const dir = folderWith((d) => {
      const weightMap: Record<string, string> = {};
      const shards = [names.slice(0, 20), names.slice(20)];
      shards.forEach((shardNames, i) => {
        const file = `model-0000${i + 1}-of-00002.safetensors`;
        const tensors = new Map<string, RawTensor>();
        for (const n of shardNames) {
          const e = source.tensors.get(n)!;
          tensors.set(n, { dtype: 'F32', shape: e.shape, data: readTensorBytes(e) });
          weightMap[n] = file;
        }
        writeSafetensors(path.join(d, file), tensors);
      });
      fs.writeFileSync(path.join(d, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    });
    created.push(dir);
    assert.equal(loadCheckpoint(dir).files.length, 2);
    const model = await Pix2StructModel.load(dir, { precision: 'fp32', cacheDir: tempDir('graphs') });
    try {
      const ref = modelRef('ui');
      const encoding = await model.encode(referenceInputs('ui'));
      const result = await model.generate(encoding, { maxNewTokens: ref.greedy_ids.length - 1 });
      assert.deepEqual(result.tokenIds, ref.greedy_ids);
    } finally {
      await model.release();
    }
  });

  test('a shard the index names but that lacks the tensor is reported', () => {
    const dir = folderWith((d) => {
      const tensors = new Map<string, RawTensor>();
      const [first] = source.tensors.values();
      tensors.set(first!.name, { dtype: 'F32', shape: first!.shape, data: readTensorBytes(first!) });
      writeSafetensors(path.join(d, 'a.safetensors'), tensors);
      fs.writeFileSync(path.join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { [first!.name]: 'a.safetensors', 'decoder.lm_head.weight': 'a.safetensors' } }));
    });
    created.push(dir);
    assert.throws(() => loadCheckpoint(dir), /a\.safetensors \(tensor "decoder\.lm_head\.weight"\): listed in the index but missing from the shard/);
  });

  test('bfloat16 weights widen exactly and run', async () => {
    const expected = new Map<string, Float32Array>();
    const dir = folderWith((d) => {
      const tensors = new Map<string, RawTensor>();
      for (const [name, values] of f32) {
        const { bytes, widened } = toBf16(values);
        expected.set(name, widened);
        tensors.set(name, { dtype: 'BF16', shape: source.tensors.get(name)!.shape, data: bytes });
      }
      writeSafetensors(path.join(d, 'model.safetensors'), tensors);
    });
    created.push(dir);
    const ckpt = loadCheckpoint(dir);
    for (const [name, entry] of ckpt.weights) assert.equal(maxAbsDiff(readTensorAsFloat32(entry), expected.get(name)!), 0, name);
    const logits = await step0Logits(dir);
    // Same network with weights rounded to 8 mantissa bits: close to, not equal to, float32.
    const diff = maxAbsDiff(logits, readReference(modelRef('chart').logits_step0));
    assert.ok(diff > 0 && diff < 0.5, `bf16 step-0 logits differ from float32 by ${diff}`);
    // int8 quantises the widened weights like any others (6 %: the fixture's int8 bound).
    const int8 = await step0Logits(dir, 'int8');
    assert.ok(relativeError(int8, logits) < 0.06, `int8 from bf16 weights: ${relativeError(int8, logits)}`);
  });

  test('float16 weights widen within half precision and run', async () => {
    const dir = folderWith((d) => {
      const tensors = new Map<string, RawTensor>();
      for (const [name, values] of f32) tensors.set(name, { dtype: 'F16', shape: source.tensors.get(name)!.shape, data: toF16(values) });
      writeSafetensors(path.join(d, 'model.safetensors'), tensors);
    });
    created.push(dir);
    const ckpt = loadCheckpoint(dir);
    for (const [name, entry] of ckpt.weights) {
      const got = readTensorAsFloat32(entry);
      const want = f32.get(name)!;
      want.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) <= Math.abs(v) * 2 ** -11 + 2 ** -14, `${name}[${i}]: ${got[i]} vs ${v}`));
    }
    const diff = maxAbsDiff(await step0Logits(dir), readReference(modelRef('chart').logits_step0));
    assert.ok(diff > 0 && diff < 0.05, `f16 step-0 logits differ from float32 by ${diff}`);
  });
});
