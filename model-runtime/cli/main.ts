import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { batchSummary, readBatchInput, runBatch } from './batch-command';
import { downloadCommand, modelsCommand } from './hub-commands';
import { loadCheckpoint } from '../src/checkpoint/checkpoint';
import { Pix2StructError, UsageError } from '../src/errors';
import type { PreprocessorConfig } from '../src/checkpoint/config';
import { CONFIG_LIMITS } from '../src/checkpoint/config-limits';
import { openModel } from '../src/open-model';
import { resolveMaxNewTokens } from '../src/generation/budget';
import { DEFAULT_MAX_NEW_TOKENS } from '../src/registry';
import { decodeImage } from '../src/preprocess/decode-image';
import { preprocessImage } from '../src/preprocess/index';
import type { RgbImage } from '../src/preprocess/rgb-image';
import { DECODER_CHOICES, OPTIMUM_VARIANTS, type DecoderChoice, type OptimumVariant } from '../src/onnx-export/layout';
import { EXECUTION_PROVIDER_CHOICES, type ExecutionProviderChoice } from '../src/runtime/execution-providers';
import { PRECISION_CHOICES, type PrecisionChoice } from '../src/runtime/precision';
import { missingHeaderMessage, registryEntryForFolder } from '../src/tasks/vqa-input';
import { Pix2StructTokenizer } from '../src/tokenizer';

const USAGE = `usage:
  pix2struct generate --model DIR --image PATH [--text Q] [--max-patches N] [--num-beams K]
                      [--max-new-tokens N] [--eos-token-id ID] [--threads N] [--cache-dir DIR]
                      [--execution-provider auto|cpu|cuda|dml|coreml|webgpu]
                      [--precision auto|fp32|int8] [--onnx-variant default|quantized|fp16]
                      [--onnx-decoder auto|merged|split] --json
  pix2struct preprocess --model DIR --image PATH [--text Q] [--max-patches N] --out FILE
  pix2struct batch --model DIR --input FOLDER|FILE.jsonl [--out FILE.jsonl] [--batch-size N]
                   [--max-patches N] [--max-new-tokens N] [--threads N] [--cache-dir DIR]
                   [--precision auto|fp32|int8]
  pix2struct models [--json] [--hub-cache DIR]
  pix2struct download ID [--revision REV] [--hub-cache DIR] [--onnx-variant V] [--onnx-decoder D]
--text: the question (or prompt) a VQA checkpoint reads above the image; they require it.
--max-new-tokens: default the checkpoint's generation_config.json, else its task's budget
  (512 for UI parses and tables, 64 for captions, 32 for answers, 128 when unknown).
--precision: int8 quantises the linear layers' weights; auto picks int8 on CPUs with VNNI or AMX.
  ONNX exports run in their own precision; preprocess accepts and ignores it.
--onnx-variant / --onnx-decoder: which graphs of an ONNX export to run, or to download from a repo
  that holds only an export; default: the float32 graphs, merged decoder where there is one.
batch needs a checkpoint with weights; it exits 1 when any input failed (after the rest).
Images over PIX2STRUCT_MAX_MEGAPIXELS (default: Pillow's limit, lower for formats that decode
  whole) are refused from their header. Hub: HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN and
  HF_HUB_OFFLINE are honoured.`;

type Flags = Record<string, string | boolean | undefined>;

// Flags that size allocations get the same bounds as the config values they override (config-limits.ts).
const FLAG_LIMITS: Readonly<Record<string, number>> = { 'max-patches': CONFIG_LIMITS.maxPatches, 'max-new-tokens': CONFIG_LIMITS.newTokens, 'num-beams': CONFIG_LIMITS.beams };

function positiveInt(flags: Flags, name: string): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${raw}"`);
  const max = FLAG_LIMITS[name];
  if (max !== undefined && n > max) throw new UsageError(`--${name} is ${n}, more than ${max}, the most this runtime accepts`);
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

/** --onnx-variant and --onnx-decoder: which graphs of an ONNX export (ignored for weights). */
function onnxChoice(flags: Flags): { variant?: OptimumVariant; decoder?: DecoderChoice } {
  const variant = flags['onnx-variant'];
  const decoder = flags['onnx-decoder'];
  if (variant !== undefined && !OPTIMUM_VARIANTS.includes(variant as OptimumVariant)) throw new UsageError(`--onnx-variant must be one of ${OPTIMUM_VARIANTS.join(', ')}, got "${variant}"`);
  if (decoder !== undefined && !DECODER_CHOICES.includes(decoder as DecoderChoice)) throw new UsageError(`--onnx-decoder must be one of ${DECODER_CHOICES.join(', ')}, got "${decoder}"`);
  return { variant: variant as OptimumVariant | undefined, decoder: decoder as DecoderChoice | undefined };
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
async function prepareImage(flags: Flags, preprocessor: PreprocessorConfig, source: string | RgbImage = required(flags, 'image')) {
  const text = flags.text as string | undefined;
  if (preprocessor.isVqa && text === undefined) throw new UsageError(missingHeaderMessage(registryEntryForFolder(required(flags, 'model')), '--text'));
  const started = performance.now();
  const image = await preprocessImage(source, preprocessor, { maxPatches: positiveInt(flags, 'max-patches'), headerText: text });
  return { image, preprocessMs: performance.now() - started };
}

async function generateCommand(argv: string[]): Promise<void> {
  const flags = parse(argv, {
    ...COMMON,
    'num-beams': { type: 'string' },
    'max-new-tokens': { type: 'string' },
    'eos-token-id': { type: 'string' },
    'execution-provider': { type: 'string' },
    'onnx-variant': { type: 'string' },
    'onnx-decoder': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!flags.json) throw new UsageError('generate prints JSON only: pass --json');
  const dir = required(flags, 'model');
  required(flags, 'image');
  for (const name of Object.keys(FLAG_LIMITS)) positiveInt(flags, name); // refused before the model loads, not seconds later
  const provider = executionProvider(flags);
  const onnx = onnxChoice(flags);
  // The image is decoded before the model loads, so that a bad file costs no model load.
  const decodeStarted = performance.now();
  const pixels = await decodeImage(required(flags, 'image'));
  const decodeMs = performance.now() - decodeStarted;
  const model = await openModel(dir, {
    ...onnx,
    threads: positiveInt(flags, 'threads'),
    cacheDir: flags['cache-dir'] as string | undefined,
    executionProvider: provider,
    precision: precision(flags),
  });
  try {
    const { image, preprocessMs } = await prepareImage(flags, model.preprocessor, pixels);
    const result = await model.run(image, {
      numBeams: positiveInt(flags, 'num-beams'),
      // Without --max-new-tokens or a budget in generation_config.json: the task's, known from the Hub id.
      maxNewTokens: resolveMaxNewTokens(model.generation, positiveInt(flags, 'max-new-tokens'), registryEntryForFolder(dir)?.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS),
      eosTokenId: nonNegativeInt(flags, 'eos-token-id'),
    });
    const text = model.tokenizerFile ? Pix2StructTokenizer.load(model.tokenizerFile).decode(result.tokenIds) : null;
    const output = {
      token_ids: result.tokenIds,
      text,
      steps: result.steps?.map((s) => ({ ids: s.ids, logits: s.values })) ?? null,
      sequence_score: result.sequenceScore,
      stopped_by: result.stoppedBy,
      timings_ms: { preprocess: decodeMs + preprocessMs, encoder: result.encodeMs, decoder: result.decodeMs },
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
  const { image } = await prepareImage(flags, checkpoint.preprocessor);
  const asBytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength); // little-endian hosts only
  fs.writeFileSync(out, asBytes(image.flattenedPatches));
  fs.writeFileSync(`${out}.mask`, asBytes(image.attentionMask));
  process.stdout.write(`${JSON.stringify({ rows: image.rows, cols: image.cols, num_patches: image.numPatches })}\n`);
}

async function batchCommand(argv: string[]): Promise<number> {
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
    process.stderr.write(`${batchSummary(ok, failed, outFile)}\n`);
    return failed > 0 ? 1 : 0; // the others were all described first
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'generate') await generateCommand(rest);
    else if (command === 'preprocess') await preprocessCommand(rest);
    else if (command === 'batch') return await batchCommand(rest);
    else if (command === 'models') {
      const flags = parse(rest, { json: { type: 'boolean' }, 'hub-cache': { type: 'string' } });
      modelsCommand(flags.json === true, flags['hub-cache'] as string | undefined);
    } else if (command === 'download') {
      const [id, ...more] = rest;
      if (!id || id.startsWith('-')) throw new UsageError('download needs a model id, e.g. pix2struct download google/pix2struct-screen2words-base');
      const flags = parse(more, { revision: { type: 'string' }, 'hub-cache': { type: 'string' }, 'onnx-variant': { type: 'string' }, 'onnx-decoder': { type: 'string' } });
      const { variant, decoder } = onnxChoice(flags);
      await downloadCommand(id, { revision: flags.revision as string | undefined, cacheDir: flags['hub-cache'] as string | undefined, onnxVariant: variant, onnxDecoder: decoder });
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
