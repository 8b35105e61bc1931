/**
 * int8 against fp32 on one checkpoint and image, printed as one JSON object: relative error of
 * the encoder states and of the logits along fp32's own greedy path (teacher-forced, so both
 * see the same prefix), and how often int8's top-1 token is fp32's — overall and where fp32 is
 * confident (top-2 margin above 1.0; random weights have nearly flat logits, so that subset is
 * small or empty on them, and the report says how large it was).
 *
 * usage: int8_accuracy.ts --model DIR --image PNG --cache-dir DIR [--patches 1024] [--tokens 32] [--threads N]
 */
import { parseArgs } from 'node:util';
import { argmax, decodeImage, Pix2StructModel, preprocessImage, relativeError, topK } from '../model-runtime/src/index';

const CONFIDENT_MARGIN = 1.0;

function topTwoMargin(logits: Float32Array): number {
  const [first, second] = topK(logits, 2).values;
  return first! - second!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, image: { type: 'string' }, 'cache-dir': { type: 'string' }, patches: { type: 'string' }, tokens: { type: 'string' }, threads: { type: 'string' } },
  });
  const load = (precision: 'fp32' | 'int8') =>
    Pix2StructModel.load(values.model!, { precision, executionProvider: 'cpu', cacheDir: values['cache-dir'], threads: Number(values.threads ?? 0) || undefined });
  const fp32 = await load('fp32');
  const int8 = await load('int8');
  const pixels = await decodeImage(values.image!);
  const image = await preprocessImage(pixels, fp32.checkpoint.preprocessor, { maxPatches: Number(values.patches ?? 1024) });
  const [a, b] = [await fp32.encode(image), await int8.encode(image)];
  const encoderError = relativeError(b.lastHiddenState.data as Float32Array, a.lastHiddenState.data as Float32Array);

  const path = (await fp32.generate(a, { maxNewTokens: Number(values.tokens ?? 32), eosTokenId: [] })).tokenIds.slice(0, -1);
  const [la, lb] = [await fp32.decoderFor(a).forward([path]), await int8.decoderFor(b).forward([path])]; // [1, T, V] each
  const vocab = fp32.config.text.vocabSize;
  let agree = 0;
  let confident = 0;
  let confidentAgree = 0;
  for (let t = 0; t < path.length; t++) {
    const [ra, rb] = [la.subarray(t * vocab, (t + 1) * vocab), lb.subarray(t * vocab, (t + 1) * vocab)];
    const same = argmax(ra) === argmax(rb);
    agree += same ? 1 : 0;
    if (topTwoMargin(ra) > CONFIDENT_MARGIN) {
      confident++;
      confidentAgree += same ? 1 : 0;
    }
  }
  await Promise.all([fp32.release(), int8.release()]);
  const result = {
    encoder_rel_error: encoderError,
    logits_rel_error: relativeError(lb, la),
    positions: path.length,
    top1_agree: agree,
    confident_margin: CONFIDENT_MARGIN,
    confident_positions: confident,
    confident_top1_agree: confidentAgree,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`int8 accuracy failed: ${err instanceof Error ? err.stack : err}\n`);
  process.exitCode = 1;
});
