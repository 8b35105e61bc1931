import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCheckpoint } from '../src/checkpoint/checkpoint';
import { UsageError } from '../src/errors';
import { Pix2StructModel } from '../src/model';
import { folderFormat } from '../src/open-model';
import { preprocessImage, type PreprocessedImage } from '../src/preprocess/index';
import type { PrecisionChoice } from '../src/runtime/precision';
import { resolveMaxNewTokens } from '../src/generation/budget';
import { DEFAULT_MAX_NEW_TOKENS } from '../src/registry';
import { missingHeaderMessage, registryEntryForFolder } from '../src/tasks/vqa-input';
import { Pix2StructTokenizer } from '../src/tokenizer';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.tif', '.tiff', '.avif']);

export interface BatchItem {
  image: string;
  text?: string;
}

/** A folder of images (sorted by name) or a JSONL file of {"image": path, "text"?: question}. */
export function readBatchInput(input: string): BatchItem[] {
  if (!fs.existsSync(input)) throw new UsageError(`${input}: not found (expected a folder of images or a .jsonl file)`);
  if (fs.statSync(input).isDirectory()) {
    return fs
      .readdirSync(input)
      .filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase()))
      .sort()
      .map((f) => ({ image: path.join(input, f) }));
  }
  const base = path.dirname(input);
  return fs
    .readFileSync(input, 'utf8')
    .split('\n')
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, lineNo]) => {
      let item: unknown;
      try {
        item = JSON.parse(line);
      } catch {
        throw new UsageError(`${input}:${lineNo}: not a JSON object`);
      }
      const rec = item as Record<string, unknown>;
      if (typeof rec?.image !== 'string' || (rec.text !== undefined && typeof rec.text !== 'string')) {
        throw new UsageError(`${input}:${lineNo}: expected {"image": "path", "text"?: "question"}`);
      }
      return { image: path.resolve(base, rec.image), ...(rec.text !== undefined ? { text: rec.text as string } : {}) };
    });
}

/**
 * Describes every item, `batchSize` images per encoder/decoder call, writing one JSON line per
 * item as soon as its batch is done. An unreadable image gets an error line; the rest go on.
 */
export async function runBatch(
  modelDir: string,
  items: BatchItem[],
  write: (line: string) => void,
  options: { batchSize: number; maxPatches?: number; maxNewTokens?: number; threads?: number; cacheDir?: string; precision?: PrecisionChoice },
): Promise<{ ok: number; failed: number }> {
  if (folderFormat(modelDir) === 'optimum-onnx') {
    // Batching runs several images per call through graphs built from the weights; an export's graphs are fixed.
    throw new UsageError(`${modelDir} holds an ONNX export, and batch needs a checkpoint with weights (model.safetensors or pytorch_model.bin); describe each image with \`pix2struct generate --model ${modelDir}\` instead`);
  }
  const checkpoint = loadCheckpoint(modelDir);
  const model = await Pix2StructModel.load(checkpoint, { threads: options.threads, cacheDir: options.cacheDir, precision: options.precision });
  const tokenizer = checkpoint.tokenizerFile ? Pix2StructTokenizer.load(checkpoint.tokenizerFile) : null;
  // The same budget generate uses: asked for, else the checkpoint's, else its task's (not transformers' 19).
  const maxNewTokens = resolveMaxNewTokens(checkpoint.generation, options.maxNewTokens, registryEntryForFolder(modelDir)?.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS);
  let ok = 0;
  let failed = 0;
  try {
    for (let start = 0; start < items.length; start += options.batchSize) {
      const chunk = items.slice(start, start + options.batchSize);
      const ready: { item: BatchItem; image: PreprocessedImage }[] = [];
      for (const item of chunk) {
        try {
          if (checkpoint.preprocessor.isVqa && item.text === undefined) throw new UsageError(missingHeaderMessage(registryEntryForFolder(modelDir), 'the item\'s "text"'));
          ready.push({ item, image: await preprocessImage(item.image, checkpoint.preprocessor, { maxPatches: options.maxPatches, headerText: item.text }) });
        } catch (err) {
          failed++;
          write(errorLine(item, err));
        }
      }
      if (ready.length === 0) continue;
      let sequences: number[][];
      try {
        const encoding = await model.encodeBatch(ready.map((r) => r.image));
        sequences = await model.generateBatch(encoding, { maxNewTokens }).finally(() => model.releaseEncoding(encoding));
      } catch (err) {
        // A failed encoder or decoder call costs this chunk's images only; the rest of the input goes on.
        failed += ready.length;
        for (const { item } of ready) write(errorLine(item, err));
        continue;
      }
      ready.forEach(({ item }, i) => {
        ok++;
        write(JSON.stringify({ image: item.image, ...(item.text !== undefined ? { question: item.text } : {}), token_ids: sequences[i], text: tokenizer ? tokenizer.decode(sequences[i]!) : null }));
      });
    }
  } finally {
    await model.release();
  }
  return { ok, failed };
}

/** The output line of an item that could not be described: its one-line reason. */
function errorLine(item: BatchItem, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return JSON.stringify({ image: item.image, error: message.replace(/\s*\n\s*/g, ' ') });
}

/** The line batch ends with on stderr, whatever happened to each item. */
export function batchSummary(ok: number, failed: number, outFile?: string): string {
  return `pix2struct: ${ok} described, ${failed} failed${failed > 0 ? ' (see the error lines)' : ''}${outFile ? ` -> ${outFile}` : ''}`;
}
