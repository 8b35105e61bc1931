/**
 * Boxes over the image are placed in percent of the image's own size, so they stay on the same
 * image pixels at any zoom without being moved again. `data-box` keeps the box in image pixels.
 */
import type { Box } from '../src/protocol/common';

export function placeOverlay(overlay: HTMLElement, box: Box, image: HTMLImageElement): void {
  const w = image.naturalWidth || 1;
  const h = image.naturalHeight || 1;
  Object.assign(overlay.style, {
    display: 'block',
    left: `${(100 * box.x0) / w}%`,
    top: `${(100 * box.y0) / h}%`,
    width: `${(100 * (box.x1 - box.x0)) / w}%`,
    height: `${(100 * (box.y1 - box.y0)) / h}%`,
  });
  overlay.dataset.box = `${box.x0},${box.y0},${box.x1},${box.y1}`;
}

export function hideOverlay(overlay: HTMLElement): void {
  overlay.style.display = 'none';
  delete overlay.dataset.box;
}
