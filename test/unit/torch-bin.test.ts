import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadCheckpoint } from '../../model-runtime/src/checkpoint/checkpoint';
import { PickleRefusedError, restrictedUnpickle } from '../../model-runtime/src/checkpoint/restricted-unpickler';
import { readSafetensorsHeader, readTensorAsFloat32, readTensorBytes, type TensorEntry } from '../../model-runtime/src/checkpoint/safetensors';
import { readTorchBin } from '../../model-runtime/src/checkpoint/torch-bin';
import { readZipDirectory } from '../../model-runtime/src/checkpoint/zip-directory';
import { CheckpointError } from '../../model-runtime/src/errors';
import { Pix2StructModel } from '../../model-runtime/src/model';
import { MODEL_DIR, maxAbsDiff, modelRef, readReference, referenceInputs, tempDir } from '../helpers/fixture';
import { pyrefPython } from '../helpers/python';

const CONFIG_FILES = ['config.json', 'generation_config.json', 'preprocessor_config.json'];

/**
 * Writes every .bin the tests read, with the reference torch/transformers, in one process
 * (importing torch dominates the cost). argv: out dir, fixture model dir, marker path.
 */
const MAKE_BINS = String.raw`
import collections, json, os, pickle, sys, zipfile
import torch
from transformers import Pix2StructForConditionalGeneration

out, fixture, marker = sys.argv[1:4]
model = Pix2StructForConditionalGeneration.from_pretrained(fixture)
model.save_pretrained(os.path.join(out, 'f32'), safe_serialization=False)
model.save_pretrained(os.path.join(out, 'sharded'), safe_serialization=False, max_shard_size='200KB')
model.half()
model.save_pretrained(os.path.join(out, 'f16'), safe_serialization=False)
model.save_pretrained(os.path.join(out, 'f16-safetensors'), safe_serialization=True)

def repack(dst, deflate=None, halve=None):
    """Rewrites the float32 .bin member by member: optionally deflating or halving one member."""
    with zipfile.ZipFile(os.path.join(out, 'f32', 'pytorch_model.bin')) as zin, zipfile.ZipFile(dst, 'w') as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if halve and info.filename.endswith(halve):
                data = data[: len(data) // 2]
            method = zipfile.ZIP_DEFLATED if deflate and info.filename.endswith(deflate) else zipfile.ZIP_STORED
            zout.writestr(info.filename, data, compress_type=method)

repack(os.path.join(out, 'compressed.bin'), deflate='/data/0')
repack(os.path.join(out, 'short-storage.bin'), halve='/data/0')

class RunsACommand:
    def __reduce__(self):
        return (os.system, ('touch ' + marker,))

with zipfile.ZipFile(os.path.join(out, 'evil.bin'), 'w') as z:
    z.writestr('archive/data.pkl', pickle.dumps({'decoder.lm_head.weight': RunsACommand()}, protocol=2))
    z.writestr('archive/version', '3\n')

base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
shared = collections.OrderedDict(base=base, tail=base[1:], row=base[2])
shared._metadata = collections.OrderedDict({'': {'version': 1}})  # as Module.state_dict() sets it
torch.save(shared, os.path.join(out, 'shared.bin'))
torch.save({'t': base.t()}, os.path.join(out, 'noncontig.bin'))
torch.save({'ids': torch.arange(4)}, os.path.join(out, 'int64.bin'))
values = torch.tensor([1.5, -2.25, 3e-3, 65504.0, -1e-6])
mixed = {'h': values.half(), 'b': values.bfloat16(), 'p': torch.nn.Parameter(values.clone())}
torch.save(mixed, os.path.join(out, 'mixed.bin'))
with open(os.path.join(out, 'mixed.json'), 'w') as f:
    json.dump({k: v.detach().float().tolist() for k, v in mixed.items()}, f)
`;

/** Unpickles a zip member with Python's own (unrestricted) pickle, to prove a payload is live. */
const PYTHON_UNPICKLE = String.raw`
import pickle, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    pickle.loads(z.read('archive/data.pkl'))
`;

/** Checks a zip with Python's zipfile (CRCs included) and prints its members and contents' lengths. */
const PYTHON_ZIP_CHECK = String.raw`
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None
    print(json.dumps({i.filename: len(z.read(i.filename)) for i in z.infolist()}))
`;

const python = pyrefPython();
const scratchDirs: string[] = [];
after(() => scratchDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A temp folder removed when the file's tests end (graph caches hold hard links to the .bin files). */
function scratch(prefix: string): string {
  const dir = tempDir(prefix);
  scratchDirs.push(dir);
  return dir;
}
const NEEDS_PYTHON = python ? false : 'Python reference (.cache/pyref with torch and transformers) missing: run scripts/python-env.sh';

function runPython(script: string, args: string[]): string {
  const run = spawnSync(python!, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

/** Copies the fixture's configs so a folder differs from the fixture only in its weights. */
function withFixtureConfigs(dir: string): string {
  for (const f of CONFIG_FILES) fs.copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
  return dir;
}

function folderWithBin(bytes: Uint8Array): string {
  const dir = withFixtureConfigs(scratch('bin'));
  fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), bytes);
  return dir;
}

function assertSameBytes(got: Map<string, TensorEntry>, want: Map<string, TensorEntry>): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [name, w] of want) {
    const g = got.get(name)!;
    assert.equal(g.dtype, w.dtype, name);
    assert.deepEqual(g.shape, w.shape, name);
    assert.ok(Buffer.from(readTensorBytes(g)).equals(Buffer.from(readTensorBytes(w))), `${name} differs`);
  }
}

/** Asserts a CheckpointError whose message names `file` and matches `pattern`. */
function assertRefused(fn: () => unknown, file: string, pattern: RegExp, tensor?: string): CheckpointError {
  let caught: unknown;
  assert.throws(fn, (err: unknown) => {
    caught = err;
    assert.ok(err instanceof CheckpointError, `expected CheckpointError, got ${err}`);
    assert.ok(err.message.includes(file), `message names ${file}: ${err.message}`);
    assert.match(err.message, pattern);
    if (tensor) assert.equal(err.tensor, tensor);
    return true;
  });
  return caught as CheckpointError;
}

async function greedyIds(dir: string): Promise<number[]> {
  const model = await Pix2StructModel.load(dir, { precision: 'fp32', cacheDir: scratch('graphs') });
  try {
    const ref = modelRef('ui');
    const encoding = await model.encode(referenceInputs('ui'));
    return (await model.generate(encoding, { maxNewTokens: ref.greedy_ids.length - 1 })).tokenIds;
  } finally {
    await model.release();
  }
}

describe('pytorch_model.bin checkpoints made by torch and transformers', () => {
  const fixture = readSafetensorsHeader(path.join(MODEL_DIR, 'model.safetensors'));
  let out = '';
  let marker = '';
  before(() => {
    if (!python) return;
    out = scratch('torchbin');
    marker = path.join(out, 'os-system-ran');
    runPython(MAKE_BINS, [out, MODEL_DIR, marker]);
    for (const d of ['f32', 'sharded', 'f16']) withFixtureConfigs(path.join(out, d));
  });

  test('every float32 tensor equals the safetensors tensor bit for bit', { skip: NEEDS_PYTHON }, () => {
    const bin = path.join(out, 'f32', 'pytorch_model.bin');
    const tensors = readTorchBin(bin);
    assertSameBytes(tensors, fixture.tensors);
    // torch aligns storages to 64 bytes, which the hard-linked ONNX external data relies on only for speed.
    for (const e of tensors.values()) assert.equal(e.byteOffset % 64, 0, e.name);
    const ckpt = loadCheckpoint(path.join(out, 'f32'));
    assert.deepEqual(ckpt.files.map((f) => f.file), [bin]);
    assert.equal(ckpt.files[0]!.fileSize, fs.statSync(bin).size);
    assertSameBytes(ckpt.weights, fixture.tensors);
  });

  test('a float32 .bin folder gives the reference greedy ids', { skip: NEEDS_PYTHON }, async () => {
    assert.deepEqual(await greedyIds(path.join(out, 'f32')), modelRef('ui').greedy_ids);
  });

  test('a float32 .bin folder runs in int8 with the same graphs a safetensors folder gets', { skip: NEEDS_PYTHON }, async () => {
    const fromBin = await Pix2StructModel.load(path.join(out, 'f32'), { precision: 'int8', cacheDir: scratch('graphs') });
    const fromSafetensors = await Pix2StructModel.load(MODEL_DIR, { precision: 'int8', cacheDir: scratch('graphs') });
    try {
      assert.equal(fromBin.precision.used, 'int8');
      const logits = async (m: Pix2StructModel) => m.decoderFor(await m.encode(referenceInputs('ui'))).forward([[0]]);
      // Same float32 weights in, same quantised weights out: identical logits.
      assert.equal(maxAbsDiff(await logits(fromBin), await logits(fromSafetensors)), 0);
    } finally {
      await fromBin.release();
      await fromSafetensors.release();
    }
  });

  test('a sharded .bin folder (pytorch_model.bin.index.json) loads bit for bit and gives the reference ids', { skip: NEEDS_PYTHON }, async () => {
    const dir = path.join(out, 'sharded');
    assert.ok(fs.existsSync(path.join(dir, 'pytorch_model.bin.index.json')));
    const ckpt = loadCheckpoint(dir);
    assert.ok(ckpt.files.length > 2, `expected several shards, got ${ckpt.files.length}`);
    assertSameBytes(ckpt.weights, fixture.tensors);
    assert.deepEqual(await greedyIds(dir), modelRef('ui').greedy_ids);
  });

  test('a float16 .bin equals the float16 safetensors from the same model and runs', { skip: NEEDS_PYTHON }, async () => {
    const ckpt = loadCheckpoint(path.join(out, 'f16'));
    assert.ok([...ckpt.weights.values()].every((e) => e.dtype === 'F16'));
    assertSameBytes(ckpt.weights, readSafetensorsHeader(path.join(out, 'f16-safetensors', 'model.safetensors')).tensors);
    const model = await Pix2StructModel.load(path.join(out, 'f16'), { precision: 'fp32', cacheDir: scratch('graphs') });
    try {
      const logits = await model.decoderFor(await model.encode(referenceInputs('chart'))).forward([[0]]);
      const diff = maxAbsDiff(logits, readReference(modelRef('chart').logits_step0));
      assert.ok(diff > 0 && diff < 0.05, `f16 step-0 logits differ from float32 by ${diff}`);
    } finally {
      await model.release();
    }
  });

  test('shared storages, storage offsets, OrderedDict metadata, parameters and bfloat16', { skip: NEEDS_PYTHON }, () => {
    const shared = readTorchBin(path.join(out, 'shared.bin'));
    const base = shared.get('base')!;
    assert.deepEqual(base.shape, [4, 6]);
    assert.deepEqual(shared.get('tail'), { ...base, name: 'tail', shape: [3, 6], byteOffset: base.byteOffset + 6 * 4, byteLength: 18 * 4 });
    assert.deepEqual([...readTensorAsFloat32(shared.get('row')!)], [12, 13, 14, 15, 16, 17]);
    assert.deepEqual([...readTensorAsFloat32(base)], Array.from({ length: 24 }, (_, i) => i));

    const mixed = readTorchBin(path.join(out, 'mixed.bin'));
    const want = JSON.parse(fs.readFileSync(path.join(out, 'mixed.json'), 'utf8')) as Record<string, number[]>;
    assert.deepEqual(Object.fromEntries([...mixed].map(([k, e]) => [k, e.dtype])), { h: 'F16', b: 'BF16', p: 'F32' });
    for (const [name, entry] of mixed) assert.deepEqual([...readTensorAsFloat32(entry)], want[name], name);
  });

  test('a zip64 archive (as torch writes past 4 GB) is read, including padded local headers', { skip: NEEDS_PYTHON }, () => {
    const source = path.join(out, 'f32', 'pytorch_model.bin');
    const zip64 = path.join(out, 'zip64.bin');
    const sourceBytes = fs.readFileSync(source);
    const members = readZipDirectory(source).map((e) => ({ name: e.name, data: sourceBytes.subarray(e.dataOffset, e.dataOffset + e.uncompressedSize) }));
    fs.writeFileSync(zip64, writeZip64(members));
    // Python's zipfile agrees the archive is valid and holds the same members.
    const listed = JSON.parse(runPython(PYTHON_ZIP_CHECK, [zip64])) as Record<string, number>;
    assert.deepEqual(listed, Object.fromEntries(members.map((m) => [m.name, m.data.length])));
    assertSameBytes(readTorchBin(zip64), fixture.tensors);
  });

  test('a pickle that calls os.system is refused without running it', { skip: NEEDS_PYTHON }, () => {
    const evil = path.join(out, 'evil.bin');
    const err = assertRefused(() => readTorchBin(evil), evil, /refusing to unpickle (posix|nt|os)\.system: not a tensor state dict/);
    assert.ok(err.cause instanceof PickleRefusedError);
    assert.ok(!fs.existsSync(marker), 'the command must not have run');
    assertRefused(() => loadCheckpoint(folderWithBin(fs.readFileSync(evil))), 'pytorch_model.bin', /refusing to unpickle/);
    assert.ok(!fs.existsSync(marker), 'the command must not have run');
    // The payload is live: Python's own unpickler runs it.
    runPython(PYTHON_UNPICKLE, [evil]);
    assert.ok(fs.existsSync(marker), 'Python ran the payload, so the refusal above was meaningful');
  });

  test('a truncated .bin is refused naming the file', { skip: NEEDS_PYTHON }, () => {
    const bytes = fs.readFileSync(path.join(out, 'f32', 'pytorch_model.bin'));
    const dir = folderWithBin(bytes.subarray(0, Math.floor(bytes.length / 2)));
    assertRefused(() => loadCheckpoint(dir), path.join(dir, 'pytorch_model.bin'), /no end-of-central-directory record \(truncated/);
  });

  test('a compressed storage is refused naming the file and member', { skip: NEEDS_PYTHON }, () => {
    const file = path.join(out, 'compressed.bin');
    assertRefused(() => readTorchBin(file), file, /zip member pytorch_model\/data\/0 is compressed \(method 8\)/);
  });

  test('a storage shorter than the pickle declares is refused', { skip: NEEDS_PYTHON }, () => {
    const file = path.join(out, 'short-storage.bin');
    assertRefused(() => readTorchBin(file), file, /storage data\/0 holds 98304 bytes but the pickle declares 49152 F32 elements/, 'encoder.embeddings.patch_projection.weight');
  });

  test('non-contiguous and integer tensors are refused naming the tensor', { skip: NEEDS_PYTHON }, () => {
    const noncontig = path.join(out, 'noncontig.bin');
    assertRefused(() => readTorchBin(noncontig), noncontig, /is not contiguous \(shape \[6, 4\], stride \[1, 6\]\)/, 't');
    const int64 = path.join(out, 'int64.bin');
    assertRefused(() => readTorchBin(int64), int64, /dtype int64 \(torch\.LongStorage\) is not supported/, 'ids');
  });
});

describe('the restricted unpickler and zip reader without Python', () => {
  const proto2 = (...ops: (number | string)[]) =>
    Buffer.concat([Buffer.from([0x80, 0x02]), ...ops.map((o) => (typeof o === 'number' ? Buffer.from([o]) : Buffer.from(o, 'latin1'))), Buffer.from('.')]);

  test('globals outside the allow-list are refused by name, before anything is built', () => {
    assert.throws(() => restrictedUnpickle(proto2('cbuiltins\neval\n')), /refusing to unpickle builtins\.eval: not a tensor state dict/);
    // STACK_GLOBAL (protocol 4) names the global with two strings.
    const shortString = (s: string) => [0x8c, s.length, s] as const;
    assert.throws(() => restrictedUnpickle(proto2(...shortString('os'), ...shortString('system'), 0x93)), /refusing to unpickle os\.system/);
  });

  test('object-building opcodes and calls of non-functions are refused', () => {
    assert.throws(() => restrictedUnpickle(proto2('(', 'iposix\nsystem\n')), /refusing to unpickle opcode INST at byte 3/);
    assert.throws(() => restrictedUnpickle(proto2('ctorch\nFloatStorage\n', ')', 0x81)), /opcode NEWOBJ/);
    assert.throws(() => restrictedUnpickle(proto2('ctorch\nFloatStorage\n', ')', 'R')), /refusing to unpickle a call of torch\.FloatStorage/);
    assert.throws(() => restrictedUnpickle(proto2(')', 'Q')), /persistent id tuple of 0/);
  });

  test('allowed values come back inert; broken streams are errors, not crashes', () => {
    const dict = restrictedUnpickle(proto2('}', '(', 0x8c, 1, 'a', 'K', 7, 0x8c, 1, 'b', 0x88, 'u'));
    assert.deepEqual(dict, restrictedUnpickle(proto2('}', 0x8c, 1, 'a', 'K', 7, 's', 0x8c, 1, 'b', 0x88, 's')));
    assert.throws(() => restrictedUnpickle(Buffer.from([0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f])), /pickle is truncated/);
    assert.throws(() => restrictedUnpickle(proto2('h', 3)), /memo slot 3 read before it was written/);
  });

  test('a file that is not a zip is refused naming the file', () => {
    const file = path.join(scratch('notzip'), 'pytorch_model.bin');
    fs.writeFileSync(file, Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.alloc(100)]));
    assertRefused(() => readTorchBin(file), file, /not a zip archive.*legacy pre-1\.6 format/);
  });
});

/**
 * A zip whose every size and offset lives in zip64 records (32-bit fields saturated), with
 * local headers padded by an extra field the central directory lacks, as torch pads them.
 */
function writeZip64(members: { name: string; data: Uint8Array }[]): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const u64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return b;
  };
  for (const m of members) {
    const name = Buffer.from(m.name);
    const crc = crc32(m.data);
    const padding = Buffer.concat([Buffer.from([0x46, 0x42, 13, 0]), Buffer.alloc(13)]); // 'FB' field, 13 bytes
    const localExtra = Buffer.concat([Buffer.from([1, 0, 16, 0]), u64(m.data.length), u64(m.data.length), padding]);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(45, 4);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(0xffffffff, 18);
    local.writeUInt32LE(0xffffffff, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(localExtra.length, 28);
    chunks.push(local, name, localExtra, Buffer.from(m.data));

    const centralExtra = Buffer.concat([Buffer.from([1, 0, 24, 0]), u64(m.data.length), u64(m.data.length), u64(offset)]);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(45, 4);
    entry.writeUInt16LE(45, 6);
    entry.writeUInt16LE(0x21, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(0xffffffff, 20);
    entry.writeUInt32LE(0xffffffff, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt16LE(centralExtra.length, 30);
    entry.writeUInt32LE(0xffffffff, 42);
    central.push(entry, name, centralExtra);
    offset += local.length + name.length + localExtra.length + m.data.length;
  }
  const directory = Buffer.concat(central);
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(members.length), 24);
  record.writeBigUInt64LE(BigInt(members.length), 32);
  record.writeBigUInt64LE(BigInt(directory.length), 40);
  record.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + directory.length), 8);
  locator.writeUInt32LE(1, 16);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([...chunks, directory, record, locator, end]);
}

/** CRC-32 (IEEE), table-driven; written here so the test does not need Node's newer zlib.crc32. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
