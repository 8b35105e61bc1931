import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ConfigError } from './errors';

/**
 * A checkpoint's tokenizer.json (T5 SentencePiece Unigram: pad 0, eos 1, unk 2) through
 * @huggingface/tokenizers.
 */
export class Pix2StructTokenizer {
  private constructor(private readonly tokenizer: Tokenizer) {}

  static load(tokenizerFile: string): Pix2StructTokenizer {
    const read = (file: string) => {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')) as object;
      } catch (err) {
        throw new ConfigError(file, `cannot read tokenizer: ${(err as Error).message}`);
      }
    };
    const configFile = path.join(path.dirname(tokenizerFile), 'tokenizer_config.json');
    const config = fs.existsSync(configFile) ? read(configFile) : {};
    try {
      return new Pix2StructTokenizer(new Tokenizer(read(tokenizerFile), config));
    } catch (err) {
      throw new ConfigError(tokenizerFile, `unsupported tokenizer: ${(err as Error).message}`);
    }
  }

  /** Token ids of `text`, with the eos the post-processor appends. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text).ids;
  }

  /** Special tokens are skipped; DePlot's byte-fallback newline token <0x0A> becomes a real one. */
  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: true }).replace(/<0x0A>/g, '\n');
  }
}
