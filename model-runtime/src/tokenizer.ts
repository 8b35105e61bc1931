import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ConfigError } from './errors';
import { incompleteUtf8Tail } from './utf8-tail';

type Json = Record<string, unknown>;

/** SentencePiece's byte-fallback pieces: <0x00> … <0xFF>, one UTF-8 byte each. */
const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

const hasByteFallback = (decoder: Json): boolean =>
  decoder.type === 'ByteFallback' || (decoder.type === 'Sequence' && Array.isArray(decoder.decoders) && (decoder.decoders as Json[]).some(hasByteFallback));

/**
 * The tokenizer.json with a ByteFallback step ahead of its decoder. Google's conversions decode
 * with Metaspace alone, so byte pieces came out as literal "<0xC2><0xB0>" instead of "°"; this
 * turns each run of them into its UTF-8 text (an invalid byte becomes U+FFFD) before the
 * Metaspace step, as the decoders of newer SentencePiece conversions do.
 */
function withByteFallback(tokenizer: Json): Json {
  const decoder = tokenizer.decoder as Json | null | undefined;
  if (!decoder || hasByteFallback(decoder)) return tokenizer;
  return { ...tokenizer, decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, decoder] } };
}

/**
 * A checkpoint's tokenizer.json (T5 SentencePiece Unigram: pad 0, eos 1, unk 2) through
 * @huggingface/tokenizers.
 */
export class Pix2StructTokenizer {
  /** The byte each byte-fallback piece stands for, by token id. */
  private readonly byteOf = new Map<number, number>();

  private constructor(private readonly tokenizer: Tokenizer) {
    for (const [piece, id] of tokenizer.get_vocab(true)) {
      const byte = BYTE_PIECE.exec(piece);
      if (byte) this.byteOf.set(id, parseInt(byte[1]!, 16));
    }
  }

  static load(tokenizerFile: string): Pix2StructTokenizer {
    const read = (file: string) => {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
      } catch (err) {
        throw new ConfigError(file, `cannot read tokenizer: ${(err as Error).message}`);
      }
    };
    const configFile = path.join(path.dirname(tokenizerFile), 'tokenizer_config.json');
    const config = fs.existsSync(configFile) ? read(configFile) : {};
    try {
      return new Pix2StructTokenizer(new Tokenizer(withByteFallback(read(tokenizerFile)), config));
    } catch (err) {
      throw new ConfigError(tokenizerFile, `unsupported tokenizer: ${(err as Error).message}`);
    }
  }

  /** Token ids of `text`, with the eos the post-processor appends. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text).ids;
  }

  /**
   * The text of a finished sequence. Special tokens are skipped; runs of byte-fallback pieces
   * become their UTF-8 text (DePlot's <0x0A> a newline, <0xC2><0xB0> "°"); bytes that never
   * complete a character become U+FFFD.
   */
  decode(ids: readonly number[]): string {
    return ids.length === 0 ? '' : this.tokenizer.decode([...ids], { skip_special_tokens: true });
  }

  /**
   * The text of a sequence still being generated: like decode, but trailing byte pieces that
   * start a character without finishing it are held back until the next tokens complete it,
   * so a stream never shows half a character (or a U+FFFD that later turns into one).
   */
  decodePartial(ids: readonly number[]): string {
    let start = ids.length;
    while (start > 0 && this.byteOf.has(ids[start - 1]!)) start--;
    const tail = ids.slice(start).map((id) => this.byteOf.get(id)!);
    return this.decode(ids.slice(0, ids.length - incompleteUtf8Tail(tail)));
  }
}
