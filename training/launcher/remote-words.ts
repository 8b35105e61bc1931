// The strict quoter for remote command lines. The launcher only ever sends fixed words, code
// hashes, run ids and paths it built from them; anything else is refused, never escaped, so a
// user-typed value can not reach a remote shell even by mistake (user data goes on stdin).
import { UnsafeWordError } from './errors';

const SAFE_WORD = /^[A-Za-z0-9_./:=@%+,-]+$/;

export function safeWord(word: string): string {
  if (!SAFE_WORD.test(word)) throw new UnsafeWordError(word);
  return word;
}

/** Joins launcher-made words into the one command string ssh hands to the remote login shell. */
export function remoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new UnsafeWordError('');
  return argv.map(safeWord).join(' ');
}
