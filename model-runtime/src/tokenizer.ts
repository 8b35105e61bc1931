import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ConfigError } from './errors';

/** Decodes generated ids with the checkpoint's tokenizer.json (T5 SentencePiece conventions). */
export class TextDecoder {
  private constructor(private readonly tokenizer: Tokenizer) {}

  static load(tokenizerFile: string): TextDecoder {
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
      return new TextDecoder(new Tokenizer(read(tokenizerFile), config));
    } catch (err) {
      throw new ConfigError(tokenizerFile, `unsupported tokenizer: ${(err as Error).message}`);
    }
  }

  /** Special tokens are skipped; byte-fallback newlines (DePlot's <0x0A>) become real ones. */
  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: true }).replace(/<0x0A>/g, '\n');
  }
}
