/**
 * Find Element in the inference worker: candidate boxes (given, or proposed from the pixels)
 * ranked for a phrase by a RefExp checkpoint with the runtime's findElement. Scoring goes a
 * batch at a time so progress streams and Stop takes effect after the batch in flight.
 */
import * as fs from 'node:fs';
import {
  AbortError,
  decodeImage,
  findElement,
  folderFormat,
  Pix2StructError,
  Pix2StructModel,
  Pix2StructTokenizer,
  proposeElements,
  rankRefExpCandidates,
  type RefExpScore,
} from '../../model-runtime/src/index';
import type { FindElementRequest, FindElementResult, FindProgress } from '../protocol/find-element';

/** Candidates per encoder call: a base model encodes 4 inputs in a few seconds on a laptop CPU. */
export const REFEXP_BATCH = 4;

let loaded: { key: string; model: Pix2StructModel; trueTokenId: number; falseTokenId: number } | null = null;
/** Proposals for the last image, since grounding a UI tree asks about one image many times. */
let lastProposals: { key: string; boxes: { x0: number; y0: number; x1: number; y1: number }[] } | null = null;

/** The first token of "true" and "false" as the checkpoint's tokenizer spells them. */
function answerTokens(modelPath: string, tokenizerFile: string | null): { trueTokenId: number; falseTokenId: number } {
  if (!tokenizerFile) {
    throw new Pix2StructError('USAGE', `the RefExp model ${modelPath} has no tokenizer.json, so there is no telling which tokens mean "true" and "false"; use a complete checkpoint folder`);
  }
  const tokenizer = Pix2StructTokenizer.load(tokenizerFile);
  const first = (word: string) => tokenizer.encode(word).filter((id) => id > 2)[0];
  const trueTokenId = first('true');
  const falseTokenId = first('false');
  if (trueTokenId === undefined || falseTokenId === undefined || trueTokenId === falseTokenId) {
    throw new Pix2StructError('USAGE', `the tokenizer of ${modelPath} has no distinct tokens for "true" and "false": is it a RefExp checkpoint?`);
  }
  return { trueTokenId, falseTokenId };
}

async function refExpModel(req: FindElementRequest) {
  const key = JSON.stringify([req.modelPath, req.threads, req.executionProvider, req.providerLibraryDir, req.precision, req.graphCacheDir]);
  if (loaded?.key === key) return { ...loaded, loadMs: 0 };
  await releaseRefExpModel();
  if (folderFormat(req.modelPath) === 'optimum-onnx') {
    throw new Pix2StructError('USAGE', `Find Element scores many boxes per encoder call, which needs a weights checkpoint; ${req.modelPath} holds only an ONNX export`);
  }
  const start = performance.now();
  const model = await Pix2StructModel.load(req.modelPath, { threads: req.threads, executionProvider: req.executionProvider, providerLibraryDir: req.providerLibraryDir, precision: req.precision, cacheDir: req.graphCacheDir });
  try {
    loaded = { key, model, ...answerTokens(req.modelPath, model.checkpoint.tokenizerFile) };
  } catch (err) {
    await model.release();
    throw err;
  }
  return { ...loaded, loadMs: performance.now() - start };
}

/** Frees the RefExp model (idle unload and shutdown). */
export async function releaseRefExpModel(): Promise<void> {
  const m = loaded;
  loaded = null;
  await m?.model.release();
}

export async function runFindElement(req: FindElementRequest, signal: AbortSignal, send: (m: FindProgress) => void): Promise<FindElementResult> {
  if (signal.aborted) throw new AbortError('cancelled before it started');
  const { model, trueTokenId, falseTokenId, loadMs } = await refExpModel(req);
  const screenshot = await decodeImage(req.imagePath);
  const proposalStart = performance.now();
  const proposalKey = JSON.stringify([req.imagePath, fs.statSync(req.imagePath).mtimeMs, screenshot.width, screenshot.height, req.maxCandidates]);
  let candidates = req.candidates;
  if (!candidates?.length) {
    if (lastProposals?.key !== proposalKey) lastProposals = { key: proposalKey, boxes: await proposeElements(screenshot, { maxProposals: req.maxCandidates }) };
    candidates = lastProposals.boxes;
  }
  const proposalsMs = performance.now() - proposalStart;
  const scoringStart = performance.now();
  const scores: Required<RefExpScore>[] = [];
  send({ kind: 'progress', id: req.id, scored: 0, total: candidates.length });
  for (let start = 0; start < candidates.length; start += REFEXP_BATCH) {
    if (signal.aborted) throw new AbortError('stopped');
    const chunk = candidates.slice(start, start + REFEXP_BATCH);
    const ranked = await findElement(model, screenshot, req.phrase, chunk, { trueTokenId, falseTokenId, maxPatches: req.maxPatches, batchSize: REFEXP_BATCH, signal });
    for (const r of ranked) scores.push({ candidate: start + r.candidate, trueLogprob: r.trueLogprob, falseLogprob: r.falseLogprob! });
    send({ kind: 'progress', id: req.id, scored: Math.min(candidates.length, start + REFEXP_BATCH), total: candidates.length });
  }
  const falseOf = new Map(scores.map((s) => [s.candidate, s.falseLogprob]));
  const ranked = rankRefExpCandidates(scores).map((r) => ({
    box: candidates[r.candidate]!,
    candidate: r.candidate,
    pTrue: r.pTrue,
    trueLogprob: r.trueLogprob,
    falseLogprob: falseOf.get(r.candidate)!,
  }));
  return {
    phrase: req.phrase,
    candidates,
    proposed: !req.candidates?.length,
    ranked,
    trueTokenId,
    falseTokenId,
    imageSize: { width: screenshot.width, height: screenshot.height },
    timingsMs: { load: loadMs, proposals: proposalsMs, scoring: performance.now() - scoringStart },
    provider: model.provider.used,
    precision: { used: model.precision.used, reason: model.precision.reason },
  };
}
