import type { TextConfig } from '../checkpoint/config';
import { FLOAT32_MIN } from '../onnx/layers';

const f32 = Math.fround;

/**
 * T5's unidirectional relative position bucket for key - query distance `relative`,
 * evaluated in float32 like transformers so bucket edges land in the same place.
 */
export function relativePositionBucket(relative: number, numBuckets: number, maxDistance: number): number {
  const distance = Math.max(-relative, 0);
  const maxExact = Math.floor(numBuckets / 2);
  if (distance < maxExact) return distance;
  const logRatio = f32(Math.log(f32(distance / maxExact)));
  const scaled = f32(f32(logRatio / f32(Math.log(maxDistance / maxExact))) * (numBuckets - maxExact));
  return Math.min(maxExact + Math.trunc(scaled), numBuckets - 1);
}

/**
 * Bucket ids [T, S] and additive causal mask [T, S] for `tokens` new positions after
 * `past` cached ones: queries sit at past..past+T-1, keys at 0..past+T-1.
 */
export function selfAttentionPositions(cfg: TextConfig, past: number, tokens: number): { buckets: BigInt64Array; causal: Float32Array } {
  const total = past + tokens;
  const buckets = new BigInt64Array(tokens * total);
  const causal = new Float32Array(tokens * total);
  for (let t = 0; t < tokens; t++) {
    const query = past + t;
    for (let key = 0; key < total; key++) {
      buckets[t * total + key] = BigInt(relativePositionBucket(key - query, cfg.relativeAttentionNumBuckets, cfg.relativeAttentionMaxDistance));
      if (key > query) causal[t * total + key] = FLOAT32_MIN;
    }
  }
  return { buckets, causal };
}
