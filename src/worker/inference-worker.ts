/**
 * Runs model-runtime in a worker thread so the extension host never blocks: one queue, one
 * model kept loaded per (folder, options), cancellation within one decoding step.
 */
import { parentPort } from 'node:worker_threads';
import { Pix2StructError } from '../../model-runtime/src/errors';
import { openModel, type InferenceModel } from '../../model-runtime/src/open-model';
import { preprocessImage } from '../../model-runtime/src/preprocess/index';
import { Pix2StructTokenizer } from '../../model-runtime/src/tokenizer';
import type { DescribeRequest, FromWorker, ToWorker } from '../protocol';

const port = parentPort;
if (!port) throw new Error('inference-worker must run in a worker thread');

let loaded: { key: string; model: InferenceModel; tokenizer: Pix2StructTokenizer | null; loadMs: number } | null = null;
const cancels = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

const send = (message: FromWorker) => port.postMessage(message);

async function modelFor(req: DescribeRequest) {
  const key = JSON.stringify([req.modelPath, req.threads, req.executionProvider, req.graphCacheDir]);
  if (loaded?.key === key) return { ...loaded, loadMs: 0 };
  await loaded?.model.release();
  loaded = null;
  const start = performance.now();
  const model = await openModel(req.modelPath, { threads: req.threads, executionProvider: req.executionProvider, cacheDir: req.graphCacheDir });
  const tokenizer = model.tokenizerFile ? Pix2StructTokenizer.load(model.tokenizerFile) : null;
  loaded = { key, model, tokenizer, loadMs: performance.now() - start };
  return loaded;
}

async function describe(req: DescribeRequest): Promise<void> {
  const controller = cancels.get(req.id)!;
  try {
    if (controller.signal.aborted) throw new Pix2StructError('ABORTED', 'cancelled before it started');
    const { model, tokenizer, loadMs } = await modelFor(req);
    if (model.config.isVqa && !req.question) throw new Pix2StructError('USAGE', 'this model answers questions: use "Ask About Image" and type a question');
    const preStart = performance.now();
    const image = await preprocessImage(req.imagePath, model.preprocessor, { maxPatches: req.maxPatches, headerText: req.question });
    const preprocessMs = performance.now() - preStart;
    const ids = [model.generation.decoderStartTokenId];
    const result = await model.run(image, {
      maxNewTokens: req.maxNewTokens,
      signal: controller.signal,
      onToken: ({ step, tokenId }) => {
        ids.push(tokenId);
        send({ kind: 'token', id: req.id, step, tokenId, text: tokenizer ? tokenizer.decode(ids) : null });
      },
    });
    send({
      kind: 'reply',
      id: req.id,
      ok: true,
      result: {
        tokenIds: result.tokenIds,
        text: tokenizer ? tokenizer.decode(result.tokenIds) : null,
        timingsMs: { load: loadMs, preprocess: preprocessMs, encoder: result.encodeMs, decoder: result.decodeMs },
        provider: model.provider.used,
      },
    });
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
    case 'cancel':
      cancels.get(message.id)?.abort(new Pix2StructError('ABORTED', 'stopped'));
      break;
    case 'unload':
      queue = queue.then(async () => {
        await loaded?.model.release();
        loaded = null;
      });
      break;
  }
});
send({ kind: 'ready' });
