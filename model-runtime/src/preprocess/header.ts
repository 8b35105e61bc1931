import { renderHeaderText } from './header-text';
import { resizePilBicubic } from './pil-resize';
import type { RgbImage } from './rgb-image';

export { headerFontPath, renderHeaderText } from './header-text';
export { wrapHeaderText } from './text-wrap';

/** render_header: header on top, image below, both resized to the wider of the two widths. */
export async function renderVqaHeader(image: RgbImage, text: string): Promise<RgbImage> {
  const header = await renderHeaderText(text);
  return stackHeader(header, image);
}

/** The stacking half of render_header, separate so that it can be checked against PIL's own header. */
export function stackHeader(header: RgbImage, image: RgbImage): RgbImage {
  const width = Math.max(header.width, image.width);
  // Same float expressions as transformers (ratio first, then int() truncation) so sizes agree.
  const imageHeight = Math.trunc(image.height * (width / image.width));
  const headerHeight = Math.trunc(header.height * (width / header.width));
  const top = resizePilBicubic(header, width, headerHeight);
  const bottom = resizePilBicubic(image, width, imageHeight);
  const data = new Uint8Array(width * (headerHeight + imageHeight) * 3);
  data.set(top.data, 0);
  data.set(bottom.data, top.data.length);
  return { width, height: headerHeight + imageHeight, data };
}
