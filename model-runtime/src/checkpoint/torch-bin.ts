import { CheckpointError } from '../errors';
import {
  PickleCall,
  PickleDict,
  PickleError,
  PickleTuple,
  StorageRef,
  describe,
  restrictedUnpickle,
  type PickleValue,
} from './restricted-unpickler';
import { dtypeBytes, type TensorEntry, type WeightDtype } from './safetensors';
import { readStoredEntry, readZipDirectory, requireStored, type ZipEntry } from './zip-directory';

// A state dict pickle holds ~100 bytes per tensor; one this large is not a state dict.
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

const STORAGE_DTYPES: Record<string, WeightDtype> = {
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
};
// Only for error messages: what torch calls the dtypes we cannot run.
const UNSUPPORTED_STORAGES: Record<string, string> = {
  'torch.DoubleStorage': 'float64',
  'torch.LongStorage': 'int64',
  'torch.IntStorage': 'int32',
  'torch.ShortStorage': 'int16',
  'torch.CharStorage': 'int8',
  'torch.ByteStorage': 'uint8',
  'torch.BoolStorage': 'bool',
  'torch.UntypedStorage': 'untyped bytes',
  'torch.storage.UntypedStorage': 'untyped bytes',
};

/**
 * Locates every tensor of a torch.save zip checkpoint (pytorch_model.bin) without executing
 * its pickle: `<archive>/data.pkl` is read by a restricted unpickler and each tensor becomes
 * the absolute byte range of its slice of `<archive>/data/<key>`, a raw little-endian storage
 * stored uncompressed. Tensors that share a storage (tied weights) get overlapping ranges.
 */
export function readTorchBin(file: string): Map<string, TensorEntry> {
  const members = new Map(readZipDirectory(file).map((e) => [e.name, e]));
  const pickles = [...members.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw new CheckpointError(file, pickles.length ? `holds ${pickles.length} data.pkl members; expected one` : 'zip has no <archive>/data.pkl member: not a torch.save checkpoint');
  }
  const pickleName = pickles[0]!;
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  checkByteOrder(file, members.get(`${prefix}byteorder`));

  const pickleEntry = members.get(pickleName)!;
  if (pickleEntry.uncompressedSize > MAX_PICKLE_BYTES) throw new CheckpointError(file, `${pickleName} is ${pickleEntry.uncompressedSize} bytes, too large for a state dict`);
  let root: PickleValue;
  try {
    root = restrictedUnpickle(readStoredEntry(file, pickleEntry));
  } catch (err) {
    if (err instanceof PickleError) throw new CheckpointError(file, `${pickleName}: ${err.message}`, undefined, { cause: err });
    throw err;
  }
  if (!(root instanceof PickleDict)) throw new CheckpointError(file, `${pickleName} holds ${describe(root)}, not a state dict`);

  const tensors = new Map<string, TensorEntry>();
  for (const [name, value] of root.entries) {
    if (typeof name !== 'string') throw new CheckpointError(file, `state dict key ${name} is not a string`);
    const storageMember = (key: string) => members.get(`${prefix}data/${key}`);
    tensors.set(name, locateTensor(file, name, value, storageMember));
  }
  return tensors;
}

/** torch >= 2.1 records the writer's byte order; older files are little-endian by construction. */
function checkByteOrder(file: string, member: ZipEntry | undefined): void {
  if (!member) return;
  const order = readStoredEntry(file, member).toString('utf8').trim();
  if (order !== 'little') throw new CheckpointError(file, `storages are ${order}-endian; only little-endian checkpoints are supported`);
}

interface TensorArgs {
  storage: StorageRef;
  storageOffset: number;
  shape: number[];
  stride: number[];
}

function locateTensor(file: string, name: string, value: PickleValue, storageMember: (key: string) => ZipEntry | undefined): TensorEntry {
  const { storage, storageOffset, shape, stride } = tensorArgs(file, name, value);
  const typeName = storage.storageType.qualifiedName;
  const dtype = STORAGE_DTYPES[typeName];
  if (!dtype) {
    const torchName = UNSUPPORTED_STORAGES[typeName] ?? typeName;
    throw new CheckpointError(file, `dtype ${torchName} (${typeName}) is not supported (expected float32, float16 or bfloat16)`, name);
  }
  if (!isContiguous(shape, stride)) {
    throw new CheckpointError(file, `is not contiguous (shape [${shape.join(', ')}], stride [${stride.join(', ')}]); re-save it after .contiguous()`, name);
  }
  const member = storageMember(storage.key);
  if (!member) throw new CheckpointError(file, `storage data/${storage.key} is missing from the archive`, name);
  requireStored(file, member);
  if (member.compressedSize !== member.uncompressedSize) throw new CheckpointError(file, `zip member ${member.name} is stored but its sizes disagree (corrupt archive)`);

  const elementBytes = dtypeBytes(dtype);
  const storageBytes = storage.numel * elementBytes;
  if (member.uncompressedSize < storageBytes) {
    throw new CheckpointError(file, `storage data/${storage.key} holds ${member.uncompressedSize} bytes but the pickle declares ${storage.numel} ${dtype} elements (${storageBytes} bytes)`, name);
  }
  const numel = shape.reduce((a, b) => a * b, 1);
  const begin = storageOffset * elementBytes;
  const byteLength = numel * elementBytes;
  if (!Number.isSafeInteger(begin + byteLength) || begin + byteLength > storageBytes) {
    throw new CheckpointError(file, `elements [${storageOffset}, ${storageOffset + numel}) lie outside its ${storage.numel}-element storage data/${storage.key}`, name);
  }
  // Range within the file: zip-directory already checked the member's data lies inside it.
  return { name, file, dtype, shape, byteOffset: member.dataOffset + begin, byteLength };
}

/** Unwraps _rebuild_parameter and validates _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]). */
function tensorArgs(file: string, name: string, value: PickleValue): TensorArgs {
  let call = value;
  if (call instanceof PickleCall && call.fn.qualifiedName === 'torch._utils._rebuild_parameter') call = call.args[0] ?? null;
  if (!(call instanceof PickleCall) || call.fn.qualifiedName !== 'torch._utils._rebuild_tensor_v2') {
    throw new CheckpointError(file, `state dict value is ${describe(value)}, not a tensor`, name);
  }
  const [storage, storageOffset, size, stride] = call.args;
  if (call.args.length < 6 || call.args.length > 7 || !(storage instanceof StorageRef) || !isCount(storageOffset)) {
    throw new CheckpointError(file, `malformed _rebuild_tensor_v2 arguments`, name);
  }
  const shape = counts(size);
  const strides = counts(stride);
  if (!shape || !strides || shape.length !== strides.length) {
    throw new CheckpointError(file, `size ${describe(size ?? null)} and stride ${describe(stride ?? null)} are not matching tuples of non-negative integers`, name);
  }
  return { storage, storageOffset, shape, stride: strides };
}

function isCount(v: PickleValue | undefined): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function counts(v: PickleValue | undefined): number[] | null {
  if (!(v instanceof PickleTuple) || !v.items.every(isCount)) return null;
  return [...(v.items as readonly number[])];
}

/** torch's definition: row-major strides, ignoring dimensions of size 1; empty tensors always qualify. */
function isContiguous(shape: number[], stride: number[]): boolean {
  if (shape.includes(0)) return true;
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}
