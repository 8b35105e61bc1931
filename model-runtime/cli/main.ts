import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { readBatchInput, runBatch } from './batch-command';
import { downloadCommand, modelsCommand } from './hub-commands';
import { loadCheckpoint } from '../src/checkpoint/checkpoint';
import { Pix2StructError, UsageError } from '../src/errors';
import type { PreprocessorConfig } from '../src/checkpoint/config';
import { openModel } from '../src/open-model';
import { preprocessImage } from '../src/preprocess/index';
import { EXECUTION_PROVIDER_CHOICES, type ExecutionProviderChoice } from '../src/runtime/execution-providers';
import { PRECISION_CHOICES, type PrecisionChoice } from '../src/runtime/precision';
import { Pix2StructTokenizer } from '../src/tokenizer';

const USAGE = `usage:
  pix2struct generate --model DIR --image PATH [--text Q] [--max-patches N] [--num-beams K]
                      [--max-new-tokens N] [--eos-token-id ID] [--threads N] [--cache-dir DIR]
                      [--execution-provider auto|cpu|cuda|dml|coreml|webgpu]
                      [--precision auto|fp32|int8] --json
  pix2struct preprocess --model DIR --image PATH [--text Q] [--max-patches N] --out FILE
  pix2struct batch --model DIR --input FOLDER|FILE.jsonl [--out FILE.jsonl] [--batch-size N]
                   [--max-patches N] [--max-new-tokens N] [--threads N] [--cache-dir DIR]
                   [--precision auto|fp32|int8]
(--precision: int8 quantises the linear layers' weights; auto picks int8 on CPUs with VNNI or
AMX. ONNX exports run in their own precision. preprocess accepts and ignores it.)
  pix2struct models [--json] [--hub-cache DIR]
  pix2struct download ID [--revision REV] [--hub-cache DIR]
(Hub: HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE are honoured.)`;

type Flags = Record<string, string | boolean | undefined>;

function positiveInt(flags: Flags, name: string): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${raw}"`);
  return n;
}

function nonNegativeInt(flags: Flags, name: string): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a token id (a non-negative integer), got "${raw}"`);
  return Number(raw);
}

function executionProvider(flags: Flags): ExecutionProviderChoice | undefined {
  const raw = flags['execution-provider'];
  if (raw === undefined) return undefined;
  if (!EXECUTION_PROVIDER_CHOICES.includes(raw as ExecutionProviderChoice)) {
    throw new UsageError(`--execution-provider must be one of ${EXECUTION_PROVIDER_CHOICES.join(', ')}, got "${raw}"`);
  }
  return raw as ExecutionProviderChoice;
}

function precision(flags: Flags): PrecisionChoice | undefined {
  const raw = flags.precision;
  if (raw === undefined) return undefined;
  if (!PRECISION_CHOICES.includes(raw as PrecisionChoice)) throw new UsageError(`--precision must be one of ${PRECISION_CHOICES.join(', ')}, got "${raw}"`);
  return raw as PrecisionChoice;
}

function required(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

const COMMON = {
  model: { type: 'string' },
  image: { type: 'string' },
  text: { type: 'string' },
  'max-patches': { type: 'string' },
  threads: { type: 'string' },
  'cache-dir': { type: 'string' },
  precision: { type: 'string' },
} as const;

function parse(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): Flags {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Flags;
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
}

/** Preprocesses --image for a model's preprocessor config, rendering --text as the VQA header. */
async function prepareImage(flags: Flags, preprocessor: PreprocessorConfig, isVqa: boolean) {
  const text = flags.text as string | undefined;
  if (isVqa && text === undefined) throw new UsageError('this is a VQA checkpoint: pass the question with --text');
  const started = performance.now();
  const image = await preprocessImage(required(flags, 'image'), preprocessor, { maxPatches: positiveInt(flags, 'max-patches'), headerText: text });
  return { image, preprocessMs: performance.now() - started };
}

async function generateCommand(argv: string[]): Promise<void> {
  const flags = parse(argv, {
    ...COMMON,
    'num-beams': { type: 'string' },
    'max-new-tokens': { type: 'string' },
    'eos-token-id': { type: 'string' },
    'execution-provider': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!flags.json) throw new UsageError('generate prints JSON only: pass --json');
  const dir = required(flags, 'model');
  required(flags, 'image');
  const provider = executionProvider(flags);
  const model = await openModel(dir, {
    threads: positiveInt(flags, 'threads'),
    cacheDir: flags['cache-dir'] as string | undefined,
    executionProvider: provider,
    precision: precision(flags),
  });
  try {
    const { image, preprocessMs } = await prepareImage(flags, model.preprocessor, model.config.isVqa);
    const result = await model.run(image, {
      numBeams: positiveInt(flags, 'num-beams'),
      maxNewTokens: positiveInt(flags, 'max-new-tokens'),
      eosTokenId: nonNegativeInt(flags, 'eos-token-id'),
    });
    const text = model.tokenizerFile ? Pix2StructTokenizer.load(model.tokenizerFile).decode(result.tokenIds) : null;
    const output = {
      token_ids: result.tokenIds,
      text,
      steps: result.steps?.map((s) => ({ ids: s.ids, logits: s.values })) ?? null,
      sequence_score: result.sequenceScore,
      timings_ms: { preprocess: preprocessMs, encoder: result.encodeMs, decoder: result.decodeMs },
      execution_provider: { used: model.provider.used, skipped: model.provider.skipped },
      precision: { used: model.precision.used, reason: model.precision.reason },
    };
    process.stdout.write(`${JSON.stringify(output)}\n`);
  } finally {
    await model.release();
  }
}

async function preprocessCommand(argv: string[]): Promise<void> {
  const flags = parse(argv, { ...COMMON, out: { type: 'string' } });
  precision(flags); // validated for uniform scripts; preprocessing does not depend on it
  const out = required(flags, 'out');
  const checkpoint = loadCheckpoint(required(flags, 'model'));
  const { image } = await prepareImage(flags, checkpoint.preprocessor, checkpoint.config.isVqa);
  const asBytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength); // little-endian hosts only
  fs.writeFileSync(out, asBytes(image.flattenedPatches));
  fs.writeFileSync(`${out}.mask`, asBytes(image.attentionMask));
  process.stdout.write(`${JSON.stringify({ rows: image.rows, cols: image.cols, num_patches: image.numPatches })}\n`);
}

async function batchCommand(argv: string[]): Promise<void> {
  const flags = parse(argv, {
    model: { type: 'string' },
    input: { type: 'string' },
    out: { type: 'string' },
    'batch-size': { type: 'string' },
    'max-patches': { type: 'string' },
    'max-new-tokens': { type: 'string' },
    threads: { type: 'string' },
    'cache-dir': { type: 'string' },
    precision: { type: 'string' },
  });
  const items = readBatchInput(required(flags, 'input'));
  const outFile = flags.out as string | undefined;
  const fd = outFile ? fs.openSync(outFile, 'w') : null;
  try {
    const { ok, failed } = await runBatch(required(flags, 'model'), items, (line) => (fd === null ? process.stdout.write(`${line}\n`) : fs.writeSync(fd, `${line}\n`)), {
      batchSize: positiveInt(flags, 'batch-size') ?? 4,
      maxPatches: positiveInt(flags, 'max-patches'),
      maxNewTokens: positiveInt(flags, 'max-new-tokens'),
      threads: positiveInt(flags, 'threads'),
      cacheDir: flags['cache-dir'] as string | undefined,
      precision: precision(flags),
    });
    if (outFile) process.stderr.write(`pix2struct: ${ok} described, ${failed} failed -> ${outFile}\n`);
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'generate') await generateCommand(rest);
    else if (command === 'preprocess') await preprocessCommand(rest);
    else if (command === 'batch') await batchCommand(rest);
    else if (command === 'models') {
      const flags = parse(rest, { json: { type: 'boolean' }, 'hub-cache': { type: 'string' } });
      modelsCommand(flags.json === true, flags['hub-cache'] as string | undefined);
    } else if (command === 'download') {
      const [id, ...more] = rest;
      if (!id || id.startsWith('-')) throw new UsageError('download needs a model id, e.g. pix2struct download google/pix2struct-screen2words-base');
      const flags = parse(more, { revision: { type: 'string' }, 'hub-cache': { type: 'string' } });
      await downloadCommand(id, { revision: flags.revision as string | undefined, cacheDir: flags['hub-cache'] as string | undefined });
    }
    else if (command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    } else throw new UsageError(command ? `unknown command "${command}"` : 'missing command');
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const hint = err instanceof UsageError ? ' (see pix2struct --help)' : '';
    process.stderr.write(`pix2struct: error: ${message.replace(/\s*\n\s*/g, ' ')}${hint}\n`);
    return err instanceof UsageError ? 2 : err instanceof Pix2StructError ? 1 : 70;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
