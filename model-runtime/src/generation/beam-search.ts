import { logSoftmax, topK } from './logits';
import type { DecoderStepper, GenerationLimits } from './stepper';
import { endedBy, reachedMaxLength, throwIfAborted, type StopReason } from './stopping';

export interface BeamOptions {
  numBeams: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
}

export interface BeamResult {
  tokenIds: number[];
  /** Sum of token log-probabilities divided by generated length ** length_penalty. */
  sequenceScore: number;
  stoppedBy: StopReason;
}

const f32 = Math.fround;

interface Hypothesis {
  score: number;
  tokens: number[];
}

/** The best finished hypotheses of one input, with transformers' BeamHypotheses rules. */
class FinishedHypotheses {
  readonly beams: Hypothesis[] = [];
  private worstScore = 1e9;

  constructor(private readonly options: BeamOptions, private readonly maxLength: number) {}

  add(tokens: number[], sumLogprobs: number, generatedLength: number): void {
    const score = sumLogprobs / generatedLength ** this.options.lengthPenalty;
    if (this.beams.length < this.options.numBeams || score > this.worstScore) {
      this.beams.push({ score, tokens });
      if (this.beams.length > this.options.numBeams) {
        const sorted = this.beams.map((b, i) => ({ s: b.score, i })).sort((a, b) => a.s - b.s || a.i - b.i);
        this.beams.splice(sorted[0]!.i, 1);
        this.worstScore = sorted[1]!.s;
      } else {
        this.worstScore = Math.min(score, this.worstScore);
      }
    }
  }

  isDone(bestSumLogprobs: number, generatedLength: number): boolean {
    if (this.beams.length < this.options.numBeams) return false;
    const { earlyStopping, lengthPenalty } = this.options;
    if (earlyStopping === true) return true;
    const denominator = earlyStopping === 'never' && lengthPenalty > 0 ? this.maxLength - 1 : generatedLength;
    return this.worstScore >= bestSumLogprobs / denominator ** lengthPenalty;
  }
}

/**
 * Beam search for one input, step for step what transformers' beam_search does: log-softmax
 * scores, the top 2*beams (more with several eos ids) candidates over all beams, eos
 * candidates outside the top `beams` ranks ignored, then the best finished hypothesis.
 */
export async function beamSearch(decoder: DecoderStepper, limits: GenerationLimits, options: BeamOptions): Promise<BeamResult> {
  const { numBeams } = options;
  const maxLength = limits.maxNewTokens + 1;
  const vocab = decoder.vocabSize;
  const finished = new FinishedHypotheses(options, maxLength);
  let sequences = Array.from({ length: numBeams }, () => [limits.decoderStartTokenId]);
  // Identical beams at the start: only the first may spread, as in transformers.
  let beamScores: number[] = Array.from({ length: numBeams }, (_, i) => (i === 0 ? 0 : -1e9));
  let tokens = sequences.map((s) => s[s.length - 1]!);
  let reorder: number[] | undefined;
  let done = false;
  const candidates = Math.max(2, 1 + limits.eosTokenIds.length) * numBeams;

  while (!done) {
    throwIfAborted(limits.signal);
    const logits = await decoder.step(tokens, reorder); // [beams, vocab]
    const scores = new Float32Array(numBeams * vocab); // [beams * vocab]
    for (let b = 0; b < numBeams; b++) {
      const lp = logSoftmax(logits.subarray(b * vocab, (b + 1) * vocab));
      for (let t = 0; t < vocab; t++) scores[b * vocab + t] = f32(lp[t]! + beamScores[b]!);
    }
    const top = topK(scores, candidates).ids;
    const curLen = sequences[0]!.length + 1;
    const next: { score: number; token: number; beam: number }[] = [];
    for (let rank = 0; rank < top.length && next.length < numBeams; rank++) {
      const flat = top[rank]!;
      const beam = Math.floor(flat / vocab);
      const token = flat % vocab;
      if (limits.eosTokenIds.includes(token)) {
        if (rank >= numBeams) continue;
        finished.add(sequences[beam]!.slice(), scores[flat]!, curLen - 1);
      } else {
        next.push({ score: scores[flat]!, token, beam });
      }
    }
    done = finished.isDone(scores[top[0]!]!, curLen - 1);
    sequences = next.map((n) => [...sequences[n.beam]!, n.token]);
    beamScores = next.map((n) => n.score);
    tokens = next.map((n) => n.token);
    reorder = next.map((n) => n.beam);
    if (reachedMaxLength(sequences[0]!.length, limits.maxNewTokens)) break;
  }
  if (!done) sequences.forEach((seq, b) => finished.add(seq, beamScores[b]!, seq.length - 1));

  // transformers sorts stably and pops the last: on equal scores the later hypothesis wins.
  const best = finished.beams.reduce((a, b) => (b.score >= a.score ? b : a));
  const tokenIds = [...best.tokens];
  if (tokenIds.length < maxLength) tokenIds.push(limits.eosTokenIds[0]!);
  // A finished hypothesis gets its eos back; one cut by max length has none.
  return { tokenIds, sequenceScore: best.score, stoppedBy: endedBy(tokenIds, limits.eosTokenIds) };
}
