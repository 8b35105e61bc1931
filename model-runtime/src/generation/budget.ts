import type { GenerationDefaults } from '../checkpoint/config';

/**
 * transformers' GenerationConfig default max_length. save_pretrained leaves defaults out of
 * generation_config.json, so a config holding exactly this value is read as "no budget given".
 */
const TRANSFORMERS_DEFAULT_MAX_LENGTH = 20;

/**
 * The budget a checkpoint's generation_config.json sets (max_new_tokens, else max_length minus
 * the start token), or undefined where it only has transformers' default of 20: most Google
 * repositories have no generation_config.json, and 19 tokens cut a DePlot table or a UI parse short.
 */
export function checkpointMaxNewTokens(defaults: GenerationDefaults): number | undefined {
  if (defaults.maxNewTokens !== null) return defaults.maxNewTokens;
  return defaults.maxLength !== TRANSFORMERS_DEFAULT_MAX_LENGTH ? Math.max(1, defaults.maxLength - 1) : undefined;
}

/** The run's budget: what the caller asked for, else the checkpoint's own, else the task's. */
export function resolveMaxNewTokens(defaults: GenerationDefaults, requested: number | undefined, taskBudget: number): number {
  return requested ?? checkpointMaxNewTokens(defaults) ?? taskBudget;
}
