import { ConfigError } from '../errors';

type Json = Record<string, unknown>;

/**
 * The other names transformers accepts for a text_config key, from Pix2StructTextConfig's
 * `attribute_map` (configuration_pix2struct.py). 4.38 maps num_attention_heads → num_heads and
 * num_hidden_layers → num_layers; 5.x adds the encoder_/decoder_ spellings. A config written with
 * any of them must build the same decoder transformers builds. ("hidden_size" maps to itself;
 * d_model is T5's name and not an alias here.) Pix2StructVisionConfig and Pix2StructConfig
 * have no attribute_map.
 */
export const TEXT_ALIASES: Readonly<Record<string, readonly string[]>> = {
  num_layers: ['num_hidden_layers', 'decoder_layers', 'encoder_layers'],
  num_heads: ['num_attention_heads', 'decoder_attention_heads', 'encoder_attention_heads'],
};

/**
 * Keys that look like sizes but that transformers ignores for this sub-config (it stores them
 * as inert attributes), mapped to the key that really sets the size. A config carrying one
 * with a different value than the size in effect was written for some other model or by
 * mistake: refused, since transformers would silently build the other size.
 */
export const IGNORED_LOOKALIKES: Readonly<Record<'vision_config' | 'text_config', Readonly<Record<string, string>>>> = {
  vision_config: {
    num_layers: 'num_hidden_layers',
    encoder_layers: 'num_hidden_layers',
    num_heads: 'num_attention_heads',
    encoder_attention_heads: 'num_attention_heads',
    d_model: 'hidden_size',
  },
  text_config: { d_model: 'hidden_size' },
};

/**
 * The raw value of `key` in a sub-config, looking through its aliases. Several spellings with
 * different values are refused: transformers would let whichever it sets last win (in 4.38 and
 * 5.x the alias beats the canonical key), which no reader of the file would guess.
 */
export function aliasedValue(file: string, section: string, obj: Json, key: string, aliases: readonly string[] = []): { key: string; value: unknown } {
  const present = [key, ...aliases].filter((k) => obj[k] !== undefined && obj[k] !== null);
  const first = present[0] ?? key;
  for (const other of present.slice(1)) {
    if (JSON.stringify(obj[other]) !== JSON.stringify(obj[first])) {
      throw new ConfigError(
        file,
        `${section} sets the same size twice with different values: "${first}" is ${JSON.stringify(obj[first])} but "${other}" (an alias transformers reads as "${key}") is ${JSON.stringify(obj[other])}; keep one`,
        `${section}.${key}`,
      );
    }
  }
  return { key: first, value: obj[first] };
}

/** Refuses ignored look-alike keys whose value differs from the size actually in effect. */
export function checkLookalikes(file: string, section: 'vision_config' | 'text_config', obj: Json, inEffect: Readonly<Record<string, number>>): void {
  for (const [lookalike, real] of Object.entries(IGNORED_LOOKALIKES[section])) {
    const value = obj[lookalike];
    if (value === undefined || value === null || value === inEffect[real]) continue;
    throw new ConfigError(
      file,
      `${section} "${lookalike}" is ${JSON.stringify(value)}, but transformers ignores that key here and uses "${real}" = ${inEffect[real]}; rename it to "${real}" or remove it`,
      `${section}.${lookalike}`,
    );
  }
}
