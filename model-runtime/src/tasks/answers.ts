import { UsageError } from '../errors';

/* ---------------------------------------------------------------- AI2D ---------------- */

/**
 * Which option an AI2D answer names, or null when it names none.
 *
 * convert_ai2d.py trains the model to answer with the option's text (not its letter), so
 * text is tried first and letters only after: options are often letters themselves
 * ("Which label shows the sun?" with options E, B, D, A), and there "A" means the option whose
 * text is A, not option (a). Steps, first hit wins:
 *  1. the answer equals an option exactly (after trimming);
 *  2. equal ignoring case, punctuation and spacing;
 *  3. an explicit letter: "b", "(b)", "b)", "b.", "(b) cat", "Answer: (b)" (the text after
 *     the letter decides if it names an option, since the text is what the model learnt);
 *  4. one option's words appear in the answer ("the sun." for "sun") or the answer's words
 *     in exactly one option; options shorter than 2 characters are skipped here because a
 *     lone "a" or "1" would match almost anything. Several hits: the longest, if unique.
 * Duplicate options resolve to the first.
 */
export function parseAi2dAnswer(generated: string, options: readonly string[]): number | null {
  const trimmed = generated.trim();
  const exact = options.findIndex((o) => o.trim() === trimmed);
  if (exact >= 0) return exact;

  const answerWords = words(trimmed);
  const optionWords = options.map(words);
  const byText = (w: string) => (w === '' ? -1 : optionWords.indexOf(w));
  const sameWords = byText(answerWords);
  if (sameWords >= 0) return sameWords;

  const lettered = parseLetter(trimmed);
  if (lettered && lettered.index < options.length) {
    const named = byText(words(lettered.rest));
    return named >= 0 ? named : lettered.index;
  }

  return containedOption(answerWords, optionWords);
}

/** Lower case, letters and digits only, single spaces: "  The Sun! " -> "the sun". */
function words(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Prefixes a chatty answer might carry before the letter. */
const ANSWER_PREFIX = /^(?:the\s+)?(?:correct\s+)?(?:answer|option)(?:\s+is)?\s*[:\-]?\s*/i;

/** A marked letter: bare ("b"), or followed by ")" "." ":" or wrapped in parentheses. */
function parseLetter(text: string): { index: number; rest: string } | null {
  const body = text.replace(ANSWER_PREFIX, '').trim();
  const match = /^(?:\(([a-z])\)|([a-z])[).:]|([a-z])$)\s*(.*)$/is.exec(body);
  if (!match) return null;
  const letter = (match[1] ?? match[2] ?? match[3])!.toLowerCase();
  return { index: letter.charCodeAt(0) - 97, rest: match[4] ?? '' };
}

function containedOption(answer: string, options: readonly string[]): number | null {
  // Below 2 characters an answer is a letter or a stray symbol, not a fragment of an option.
  if (answer.length < 2) return null;
  const padded = ` ${answer} `;
  const usable = (o: string) => o.length >= 2;
  // An option quoted inside a longer answer: the longest wins, so "water cycle" beats "water".
  const inAnswer = options.flatMap((o, i) => (usable(o) && padded.includes(` ${o} `) ? [i] : []));
  if (inAnswer.length > 0) {
    const longest = Math.max(...inAnswer.map((i) => options[i]!.length));
    return unique(inAnswer.filter((i) => options[i]!.length === longest), options);
  }
  // A shortened answer: only if it fits a single option.
  return unique(options.flatMap((o, i) => (usable(o) && ` ${o} `.includes(padded) ? [i] : [])), options);
}

/** The first of `hits` if they all have the same text (duplicates resolve to the first), else null. */
function unique(hits: number[], options: readonly string[]): number | null {
  if (hits.length === 0) return null;
  return new Set(hits.map((i) => options[i])).size === 1 ? hits[0]! : null;
}

/* ---------------------------------------------------------------- RefExp -------------- */

/**
 * Log-probabilities of the "true" and "false" tokens at one decoder step (RefExp asks each
 * candidate "does this box match?" and the checkpoint answers with the word true or false),
 * from that step's logits over the vocabulary, and P(true) normalised over the two.
 * Pass the ids of the first piece of each word as the tokenizer encodes it.
 */
export function trueFalseTokenProbability(
  logits: Float32Array,
  trueId: number,
  falseId: number,
): { trueLogprob: number; falseLogprob: number; pTrue: number } {
  for (const [name, id] of [['trueId', trueId], ['falseId', falseId]] as const) {
    if (!Number.isInteger(id) || id < 0 || id >= logits.length) {
      throw new UsageError(`${name} ${id} is outside the vocabulary of ${logits.length} logits`);
    }
  }
  if (trueId === falseId) throw new UsageError(`"true" and "false" have the same token id ${trueId}`);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (Number.isNaN(v) || v === Infinity) throw new UsageError(`logit ${i} is ${v}`);
    if (v > max) max = v;
  }
  if (max === -Infinity) throw new UsageError('every logit is -Infinity');
  // Sum in float64 after subtracting the maximum, so large logits cannot overflow.
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  const trueLogprob = logits[trueId]! - logZ;
  const falseLogprob = logits[falseId]! - logZ;
  return { trueLogprob, falseLogprob, pTrue: pTrueOfTwo(trueLogprob, falseLogprob) };
}

export interface RefExpScore {
  candidate: number;
  /** log P("true") for this candidate's input. */
  trueLogprob: number;
  /** log P("false"); give it for every candidate or for none. */
  falseLogprob?: number;
}

export interface RankedRefExpCandidate extends RefExpScore {
  /** P(true) normalised over {true, false} when falseLogprob is given, else exp(trueLogprob). */
  pTrue: number;
}

/**
 * - 'normalized' (default): by P(true) / (P(true) + P(false)) when falseLogprob is given, so
 *   mass the model puts on other tokens does not matter; by raw P(true) without it.
 * - 'pix2struct': the order of pix2struct's own evaluation (tasks.py ranking_fn): candidates
 *   the model answers "true" first, by log P(true) descending, then those it answers "false",
 *   by log P(false) ascending. It ranks on the predicted token's score only, so it needs both
 *   log-probabilities. It agrees with 'normalized' whenever P(true) + P(false) is the same for
 *   every candidate, nearly so for a fine-tuned checkpoint.
 */
export type RefExpRankingMethod = 'normalized' | 'pix2struct';

/**
 * Candidates best first. Ties keep the input order, as pix2struct's max() picks the first.
 */
export function rankRefExpCandidates(
  scores: readonly RefExpScore[],
  options: { method?: RefExpRankingMethod } = {},
): RankedRefExpCandidate[] {
  const method = options.method ?? 'normalized';
  const withFalse = scores.filter((s) => s.falseLogprob !== undefined).length;
  if (withFalse !== 0 && withFalse !== scores.length) {
    throw new UsageError('give falseLogprob for every RefExp candidate or for none: the two scales do not compare');
  }
  if (method === 'pix2struct' && withFalse === 0 && scores.length > 0) {
    throw new UsageError("the 'pix2struct' ranking needs falseLogprob for every candidate");
  }
  const seen = new Set<number>();
  for (const s of scores) {
    if (seen.has(s.candidate)) throw new UsageError(`RefExp candidate ${s.candidate} is scored twice`);
    seen.add(s.candidate);
    checkLogprob(s.trueLogprob, s.candidate);
    if (s.falseLogprob !== undefined) checkLogprob(s.falseLogprob, s.candidate);
  }

  const ranked = scores.map((s) => ({
    ...s,
    pTrue: s.falseLogprob === undefined ? Math.exp(s.trueLogprob) : pTrueOfTwo(s.trueLogprob, s.falseLogprob),
  }));
  const compare =
    method === 'pix2struct'
      ? (a: RankedRefExpCandidate, b: RankedRefExpCandidate) => {
          const [aTrue, aKey] = pix2structKey(a);
          const [bTrue, bKey] = pix2structKey(b);
          return aTrue !== bTrue ? (aTrue ? -1 : 1) : bKey - aKey;
        }
      : (a: RankedRefExpCandidate, b: RankedRefExpCandidate) => b.pTrue - a.pTrue;
  // Array.prototype.sort is stable, which keeps ties in input order.
  return ranked.sort(compare);
}

/** tasks.py: key (prediction == "true", score if "true" else -score) with greedy prediction. */
function pix2structKey(s: RankedRefExpCandidate): [boolean, number] {
  const f = s.falseLogprob!;
  const saysTrue = s.trueLogprob >= f;
  return [saysTrue, saysTrue ? s.trueLogprob : -f];
}

/** P(true) / (P(true) + P(false)) from log-probabilities; 0.5 when both are impossible. */
function pTrueOfTwo(trueLogprob: number, falseLogprob: number): number {
  if (trueLogprob === falseLogprob) return 0.5;
  return 1 / (1 + Math.exp(falseLogprob - trueLogprob));
}

function checkLogprob(v: number, candidate: number): void {
  // A small positive slack for rounding; a clearly positive value is a logit, not a log-probability.
  if (Number.isNaN(v) || v > 1e-6) {
    throw new UsageError(`RefExp candidate ${candidate}: log-probability must be <= 0, got ${v} (pass log-softmax values, not logits)`);
  }
}
