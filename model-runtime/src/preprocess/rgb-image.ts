/** 8-bit RGB pixels, row-major, 3 bytes per pixel, no padding. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array; // [height, width, 3]
}
