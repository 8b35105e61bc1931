/** One generated token, reported as soon as it is chosen. */
export interface TokenEvent {
  /** 0-based decoding step. */
  step: number;
  tokenId: number;
}

export type TokenCallback = (event: TokenEvent) => void;
