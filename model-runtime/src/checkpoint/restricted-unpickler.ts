/**
 * A pickle reader for torch state dicts that executes nothing. Python's unpickler imports
 * and calls whatever the stream names, so a downloaded pytorch_model.bin can run arbitrary
 * code; this one only builds inert values. Globals are looked up in a fixed allow-list
 * and returned as descriptions; REDUCE on an allowed function records the call for the
 * caller to interpret; anything else is refused with the opcode or global it met.
 */

/** Why a pickle was rejected: something outside a tensor state dict, or a broken stream. */
export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The stream asked for an opcode or global this reader will not honour. */
export class PickleRefusedError extends PickleError {
  constructor(readonly what: string, detail = 'not a tensor state dict') {
    super(`refusing to unpickle ${what}: ${detail}`);
  }
}

export type PickleValue =
  | null
  | boolean
  | number
  | string
  | PickleTuple
  | PickleList
  | PickleDict
  | PickleGlobal
  | PickleCall
  | StorageRef;

export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

export class PickleList {
  readonly items: PickleValue[] = [];
}

/** dict or collections.OrderedDict; state dict keys are strings, _metadata may hold ints. */
export class PickleDict {
  readonly entries = new Map<string | number, PickleValue>();
  constructor(readonly ordered: boolean) {}
}

/** An allow-listed global, never imported: just its qualified name and what kind of thing it is. */
export class PickleGlobal {
  constructor(readonly qualifiedName: string, readonly kind: GlobalKind) {}
}

/** REDUCE of an allow-listed function, recorded instead of called. */
export class PickleCall {
  constructor(readonly fn: PickleGlobal, readonly args: readonly PickleValue[]) {}
}

/** torch's persistent id for a storage: ('storage', storage_type, key, location, numel). */
export class StorageRef {
  constructor(
    readonly storageType: PickleGlobal,
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}

type GlobalKind = 'ordered-dict' | 'function' | 'storage-type' | 'dtype';

const ALLOWED_GLOBALS = new Map<string, GlobalKind>([
  ['collections.OrderedDict', 'ordered-dict'],
  ['torch._utils._rebuild_tensor_v2', 'function'],
  ['torch._utils._rebuild_parameter', 'function'],
  // Storage classes only tag a persistent id with a dtype; the caller rejects unsupported ones
  // by name, which reads better than refusing the global here.
  ...[
    'FloatStorage', 'HalfStorage', 'BFloat16Storage', 'DoubleStorage', 'LongStorage', 'IntStorage',
    'ShortStorage', 'CharStorage', 'ByteStorage', 'BoolStorage', 'UntypedStorage',
  ].map((s): [string, GlobalKind] => [`torch.${s}`, 'storage-type']),
  ['torch.storage.UntypedStorage', 'storage-type'],
  // Newer torch may name dtypes in tensor metadata; they are inert markers.
  ...['float32', 'float16', 'bfloat16'].map((d): [string, GlobalKind] => [`torch.${d}`, 'dtype']),
]);

const OP = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  BINFLOAT: 0x47, // G
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  BINPERSID: 0x51, // Q
  REDUCE: 0x52, // R
  BINUNICODE: 0x58, // X
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c
  APPENDS: 0x65, // e
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  SETITEMS: 0x75, // u
  EMPTY_DICT: 0x7d, // }
  EMPTY_LIST: 0x5d, // ]
  EMPTY_TUPLE: 0x29, // )
  PROTO: 0x80,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  SHORT_BINUNICODE: 0x8c,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
} as const;

// Names of opcodes we refuse, so the error says what the stream tried (INST/OBJ/NEWOBJ build objects).
const REFUSED_NAMES: Record<number, string> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x50: 'PERSID', 0x82: 'EXT1', 0x83: 'EXT2',
  0x84: 'EXT4', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8e: 'BINBYTES8', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER', 0x8d: 'BINUNICODE8',
  0x49: 'INT', 0x4c: 'LONG', 0x8b: 'LONG4', 0x46: 'FLOAT', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x64: 'DICT', 0x6c: 'LIST', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x67: 'GET', 0x70: 'PUT',
};

/** Parses a pickle stream (protocol 2, as torch.save writes; FRAME/MEMOIZE tolerated) into inert values. */
export function restrictedUnpickle(data: Uint8Array): PickleValue {
  return new Machine(data).run();
}

class Machine {
  private pos = 0;
  private stack: PickleValue[] = [];
  /** Stack heights at each open MARK. */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly view: DataView;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  run(): PickleValue {
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      switch (op) {
        case OP.PROTO: {
          const version = this.u8();
          if (version < 2 || version > 5) throw new PickleError(`unsupported pickle protocol ${version}`);
          break;
        }
        case OP.FRAME:
          this.take(8); // a framing hint only; the opcodes that follow are read as usual
          break;
        case OP.STOP: {
          if (this.stack.length !== 1 || this.marks.length) throw new PickleError('pickle ends with an unbalanced stack');
          return this.stack[0]!;
        }
        case OP.MARK:
          this.marks.push(this.stack.length);
          break;
        case OP.EMPTY_DICT:
          this.stack.push(new PickleDict(false));
          break;
        case OP.EMPTY_LIST:
          this.stack.push(new PickleList());
          break;
        case OP.EMPTY_TUPLE:
          this.stack.push(new PickleTuple([]));
          break;
        case OP.NONE:
          this.stack.push(null);
          break;
        case OP.NEWTRUE:
          this.stack.push(true);
          break;
        case OP.NEWFALSE:
          this.stack.push(false);
          break;
        case OP.BININT:
          this.stack.push(this.view.getInt32(this.take(4), true));
          break;
        case OP.BININT1:
          this.stack.push(this.u8());
          break;
        case OP.BININT2:
          this.stack.push(this.view.getUint16(this.take(2), true));
          break;
        case OP.LONG1:
          this.stack.push(this.long(this.u8()));
          break;
        case OP.BINFLOAT:
          this.stack.push(this.view.getFloat64(this.take(8), false)); // pickle floats are big-endian
          break;
        case OP.BINUNICODE:
          this.stack.push(this.text(this.view.getUint32(this.take(4), true)));
          break;
        case OP.SHORT_BINUNICODE:
          this.stack.push(this.text(this.u8()));
          break;
        case OP.TUPLE:
          this.stack.push(new PickleTuple(this.popMark()));
          break;
        case OP.TUPLE1:
        case OP.TUPLE2:
        case OP.TUPLE3:
          this.stack.push(new PickleTuple(this.popN(op - OP.TUPLE1 + 1)));
          break;
        case OP.BINPUT:
          this.memo.set(this.u8(), this.top());
          break;
        case OP.LONG_BINPUT:
          this.memo.set(this.view.getUint32(this.take(4), true), this.top());
          break;
        case OP.MEMOIZE:
          this.memo.set(this.memo.size, this.top());
          break;
        case OP.BINGET:
          this.stack.push(this.recall(this.u8()));
          break;
        case OP.LONG_BINGET:
          this.stack.push(this.recall(this.view.getUint32(this.take(4), true)));
          break;
        case OP.SETITEM: {
          const [key, value] = this.popN(2);
          this.setItems(this.top(), [key!, value!]);
          break;
        }
        case OP.SETITEMS: {
          const items = this.popMark();
          this.setItems(this.top(), items);
          break;
        }
        case OP.APPEND: {
          const [item] = this.popN(1);
          this.list(this.top()).items.push(item!);
          break;
        }
        case OP.APPENDS: {
          const items = this.popMark();
          const target = this.list(this.top()).items;
          for (const item of items) target.push(item); // no spread: a huge MARK run would overflow the call stack
          break;
        }
        case OP.GLOBAL:
          this.stack.push(lookupGlobal(this.line(), this.line()));
          break;
        case OP.STACK_GLOBAL: {
          const [module, name] = this.popN(2);
          if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError('STACK_GLOBAL needs two strings');
          this.stack.push(lookupGlobal(module, name));
          break;
        }
        case OP.REDUCE: {
          const [fn, args] = this.popN(2);
          this.stack.push(reduce(fn!, args!));
          break;
        }
        case OP.BUILD: {
          // OrderedDict state dicts carry `_metadata` (per-module versions) as instance state; we need none of it.
          this.popN(1);
          const target = this.top();
          if (!(target instanceof PickleDict && target.ordered)) throw new PickleRefusedError(`BUILD on ${describe(target)}`);
          break;
        }
        case OP.BINPERSID: {
          const [pid] = this.popN(1);
          this.stack.push(storageRef(pid!));
          break;
        }
        default: {
          const name = REFUSED_NAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`;
          throw new PickleRefusedError(`opcode ${name} at byte ${at}`);
        }
      }
    }
  }

  private u8(): number {
    return this.data[this.take(1)]!;
  }

  /** Advances past n bytes and returns where they start; never reads past the stream. */
  private take(n: number): number {
    const start = this.pos;
    if (start + n > this.data.length) throw new PickleError(`pickle is truncated at byte ${start} (needs ${n} more bytes)`);
    this.pos += n;
    return start;
  }

  private text(length: number): string {
    const start = this.take(length);
    return Buffer.from(this.data.buffer, this.data.byteOffset + start, length).toString('utf8');
  }

  /** GLOBAL's newline-terminated "module" and "name" arguments. */
  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) throw new PickleError(`unterminated GLOBAL name at byte ${this.pos}`);
    const s = this.text(end - this.pos);
    this.pos = end + 1;
    return s;
  }

  /** Little-endian two's-complement integer of `length` bytes; only values a double holds exactly. */
  private long(length: number): number {
    const start = this.take(length);
    let v = 0n;
    for (let i = length - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.data[start + i]!);
    if (length > 0 && this.data[start + length - 1]! & 0x80) v -= 1n << BigInt(8 * length);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new PickleError(`integer ${v} is too large`);
    return Number(v);
  }

  private top(): PickleValue {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) throw new PickleError(`stack underflow at byte ${this.pos}`);
    return this.stack[this.stack.length - 1]!;
  }

  private popN(n: number): PickleValue[] {
    if (this.stack.length - n < (this.marks.at(-1) ?? 0)) throw new PickleError(`stack underflow at byte ${this.pos}`);
    return this.stack.splice(this.stack.length - n, n);
  }

  private popMark(): PickleValue[] {
    const height = this.marks.pop();
    if (height === undefined) throw new PickleError(`no MARK to pop at byte ${this.pos}`);
    return this.stack.splice(height);
  }

  private recall(index: number): PickleValue {
    if (!this.memo.has(index)) throw new PickleError(`memo slot ${index} read before it was written`);
    return this.memo.get(index)!;
  }

  private list(target: PickleValue): PickleList {
    if (!(target instanceof PickleList)) throw new PickleRefusedError(`APPEND on ${describe(target)}`);
    return target;
  }

  private setItems(target: PickleValue, items: PickleValue[]): void {
    if (!(target instanceof PickleDict)) throw new PickleRefusedError(`SETITEM on ${describe(target)}`);
    if (items.length % 2) throw new PickleError('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i]!;
      if (typeof key !== 'string' && typeof key !== 'number') throw new PickleRefusedError(`a dict key of type ${describe(key)}`);
      target.entries.set(key, items[i + 1]!);
    }
  }
}

function lookupGlobal(module: string, name: string): PickleGlobal {
  const qualified = `${module}.${name}`;
  const kind = ALLOWED_GLOBALS.get(qualified);
  if (!kind) throw new PickleRefusedError(qualified);
  return new PickleGlobal(qualified, kind);
}

function reduce(fn: PickleValue, args: PickleValue): PickleValue {
  if (!(fn instanceof PickleGlobal)) throw new PickleRefusedError(`a call of ${describe(fn)}`);
  if (!(args instanceof PickleTuple)) throw new PickleError(`REDUCE arguments for ${fn.qualifiedName} are not a tuple`);
  if (fn.kind === 'ordered-dict') {
    // torch writes OrderedDict() empty and fills it with SETITEMS; an argument would be an iterable to copy.
    if (args.items.length) throw new PickleRefusedError(`${fn.qualifiedName} with arguments`);
    return new PickleDict(true);
  }
  if (fn.kind !== 'function') throw new PickleRefusedError(`a call of ${fn.qualifiedName}`);
  return new PickleCall(fn, args.items);
}

function storageRef(pid: PickleValue): StorageRef {
  const items = pid instanceof PickleTuple ? pid.items : [];
  const [tag, type, key, location, numel] = items;
  if (
    items.length !== 5 || tag !== 'storage' || !(type instanceof PickleGlobal) || type.kind !== 'storage-type' ||
    typeof key !== 'string' || typeof location !== 'string' || typeof numel !== 'number' || !Number.isInteger(numel) || numel < 0
  ) {
    throw new PickleRefusedError(`persistent id ${describe(pid)}`, "not a torch ('storage', type, key, location, numel) reference");
  }
  return new StorageRef(type, key, location, numel);
}

/** A short, safe description of a value for error messages. */
export function describe(v: PickleValue): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v !== 'object') return String(v);
  if (v instanceof PickleGlobal) return v.qualifiedName;
  if (v instanceof PickleCall) return `${v.fn.qualifiedName}(…)`;
  if (v instanceof StorageRef) return `storage ${v.key}`;
  if (v instanceof PickleTuple) return `tuple of ${v.items.length}`;
  if (v instanceof PickleList) return 'list';
  return v.ordered ? 'OrderedDict' : 'dict';
}
