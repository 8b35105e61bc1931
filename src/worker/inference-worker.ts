/**
 * Runs model-runtime in a worker thread so the extension host never blocks: one queue, one
 * model kept loaded per (folder, options), cancellation within one decoding step.
 */
import { parentPort } from 'node:worker_threads';
import {
  decodeImage,
  DEFAULT_MAX_NEW_TOKENS,
  DEPLOT_PROMPT,
  openModel,
  parseDeplotTable,
  parseUiStructure,
  Pix2StructError,
  Pix2StructTokenizer,
  preprocessImage,
  resolveMaxNewTokens,
  toCsv,
  toMarkdown,
  widgetCaptioningInput,
  type InferenceModel,
} from '../../model-runtime/src/index';
import { releaseRefExpModel, runFindElement } from './find-element';
import type { FindElementRequest } from '../protocol/find-element';
import type { DescribeResult } from '../protocol/describe-result';
import type { DescribeRequest, FromWorker, ToWorker } from '../protocol/worker';

const port = parentPort;
if (!port) throw new Error('inference-worker must run in a worker thread');

let loaded: { key: string; model: InferenceModel; tokenizer: Pix2StructTokenizer | null; loadMs: number } | null = null;
const cancels = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

const send = (message: FromWorker) => port.postMessage(message);

async function modelFor(req: DescribeRequest) {
  const key = JSON.stringify([req.modelPath, req.threads, req.executionProvider, req.providerLibraryDir, req.precision, req.graphCacheDir, req.onnxVariant]);
  if (loaded?.key === key) return { ...loaded, loadMs: 0 };
  await loaded?.model.release();
  loaded = null;
  const start = performance.now();
  const model = await openModel(req.modelPath, { threads: req.threads, executionProvider: req.executionProvider, providerLibraryDir: req.providerLibraryDir, precision: req.precision, cacheDir: req.graphCacheDir, variant: req.onnxVariant });
  const tokenizer = model.tokenizerFile ? Pix2StructTokenizer.load(model.tokenizerFile) : null;
  loaded = { key, model, tokenizer, loadMs: performance.now() - start };
  return loaded;
}

/** DePlot tables and UI-structure trees, parsed here so the panel only renders. */
function structuredOutput(task: DescribeRequest['task'], text: string | null): Pick<DescribeResult, 'table' | 'tree'> {
  if (text === null) return {};
  if (task === 'table') {
    const table = parseDeplotTable(text);
    return { table: { title: table.title, header: table.header, rows: table.rows, csv: toCsv(table), markdown: toMarkdown(table) } };
  }
  if (task === 'ui') return { tree: parseUiStructure(text).root };
  return {};
}

async function describe(req: DescribeRequest): Promise<void> {
  const controller = cancels.get(req.id)!;
  try {
    if (controller.signal.aborted) throw new Pix2StructError('ABORTED', 'cancelled before it started');
    // The image first: a file that is not one is reported without paying for a model load.
    const decodeStart = performance.now();
    let pixels = await decodeImage(req.imagePath);
    const decodeMs = performance.now() - decodeStart;
    const { model, tokenizer, loadMs } = await modelFor(req);
    // VQA-ness as transformers decides it: preprocessor_config.json first (Google's config.json never says).
    if (model.preprocessor.isVqa && !req.question && req.task !== 'table') throw new Pix2StructError('USAGE', 'this model answers questions: use "Ask About Image" and type a question');
    const preStart = performance.now();
    if (req.box) pixels = widgetCaptioningInput(pixels, req.box);
    const header = req.task === 'table' ? DEPLOT_PROMPT : req.question;
    const image = await preprocessImage(pixels, model.preprocessor, { maxPatches: req.maxPatches, headerText: header });
    const preprocessMs = decodeMs + (performance.now() - preStart); // the panel's "preprocess" includes the decode
    const maxNewTokens = resolveMaxNewTokens(model.generation, req.maxNewTokens, req.taskMaxNewTokens ?? DEFAULT_MAX_NEW_TOKENS);
    // A continuation re-encodes the image and feeds its earlier ids through the decoder (see
    // GenerateOptions.prefixIds): run() frees the encoding and the KV cache when it returns.
    const ids = [...(req.prefixIds ?? [model.generation.decoderStartTokenId])];
    const result = await model.run(image, {
      maxNewTokens,
      prefixIds: req.prefixIds,
      signal: controller.signal,
      onToken: ({ step, tokenId }) => {
        ids.push(tokenId);
        // Half a character (an unfinished run of byte pieces) waits for the bytes that finish it.
        send({ kind: 'token', id: req.id, step, tokenId, text: tokenizer ? tokenizer.decodePartial(ids) : null });
      },
    });
    // A Stop throws before this (no returnPartialOnAbort here); the check keeps the protocol's eos | budget honest.
    if (result.stoppedBy === 'cancelled') throw new Pix2StructError('ABORTED', 'stopped');
    const text = tokenizer ? tokenizer.decode(result.tokenIds) : null;
    send({
      kind: 'reply',
      id: req.id,
      ok: true,
      result: {
        tokenIds: result.tokenIds,
        text,
        ...structuredOutput(req.task, text),
        timingsMs: { load: loadMs, preprocess: preprocessMs, encoder: result.encodeMs, decoder: result.decodeMs },
        provider: model.provider.used,
        precision: { used: model.precision.used, reason: model.precision.reason },
        stoppedBy: result.stoppedBy,
        maxNewTokens,
      },
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    send({ kind: 'reply', id: req.id, ok: false, error: { message, code: err instanceof Pix2StructError ? err.code : undefined } });
  } finally {
    cancels.delete(req.id);
  }
}

async function find(req: FindElementRequest): Promise<void> {
  try {
    const result = await runFindElement(req, cancels.get(req.id)!.signal, send);
    send({ kind: 'reply', id: req.id, ok: true, result });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    send({ kind: 'reply', id: req.id, ok: false, error: { message, code: err instanceof Pix2StructError ? err.code : undefined } });
  } finally {
    cancels.delete(req.id);
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'describe':
      cancels.set(message.id, new AbortController());
      queue = queue.then(() => describe(message));
      break;
    case 'findElement':
      cancels.set(message.id, new AbortController());
      queue = queue.then(() => find(message));
      break;
    case 'cancel':
      cancels.get(message.id)?.abort(new Pix2StructError('ABORTED', 'stopped'));
      break;
    case 'unload':
      queue = queue.then(async () => {
        await loaded?.model.release();
        loaded = null;
        await releaseRefExpModel();
      });
      break;
    case 'shutdown':
      // Terminating a thread while onnxruntime is mid-run aborts the whole process, so stop
      // between decoding steps, release the sessions, then let the thread end by itself.
      for (const c of cancels.values()) c.abort(new Pix2StructError('ABORTED', 'the extension is shutting down'));
      queue = queue.then(async () => {
        await loaded?.model.release();
        loaded = null;
        await releaseRefExpModel();
        port.close();
      });
      break;
  }
});
send({ kind: 'ready' });
