/**
 * How many bytes at the end of `bytes` begin a UTF-8 character that more bytes could still
 * complete (0 when the bytes end on a character boundary, or when the tail can never become
 * valid: that is shown as U+FFFD at once rather than held back).
 */
export function incompleteUtf8Tail(bytes: readonly number[]): number {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const lead = bytes[bytes.length - k]!;
    if (lead >= 0x80 && lead <= 0xbf) continue; // a continuation byte: look further back
    const length = sequenceLength(lead);
    if (length <= k) return 0;
    // The first continuation byte's range depends on the lead (no overlongs, surrogates, or > U+10FFFF).
    const second = bytes[bytes.length - k + 1];
    return second === undefined || secondByteFits(lead, second) ? k : 0;
  }
  return 0;
}

/** Bytes in the character a lead byte starts; 1 for ASCII and for bytes no character starts with. */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

function secondByteFits(lead: number, second: number): boolean {
  if (lead === 0xe0) return second >= 0xa0 && second <= 0xbf;
  if (lead === 0xed) return second >= 0x80 && second <= 0x9f;
  if (lead === 0xf0) return second >= 0x90 && second <= 0xbf;
  if (lead === 0xf4) return second >= 0x80 && second <= 0x8f;
  return second >= 0x80 && second <= 0xbf;
}
