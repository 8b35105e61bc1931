/** Lets the user drag a rectangle over the image; reports it in the image's own pixels. */
import type { Box } from '../src/protocol/common';
import { placeOverlay } from './overlay';

export function enableBoxDrawing(image: HTMLImageElement, overlay: HTMLElement, onBox: (box: Box) => void): () => void {
  let start: { x: number; y: number } | null = null;
  const toImage = (e: PointerEvent) => {
    const r = image.getBoundingClientRect();
    const sx = image.naturalWidth / r.width;
    const sy = image.naturalHeight / r.height;
    return {
      x: Math.max(0, Math.min(image.naturalWidth, Math.round((e.clientX - r.left) * sx))),
      y: Math.max(0, Math.min(image.naturalHeight, Math.round((e.clientY - r.top) * sy))),
    };
  };
  const show = (box: Box) => placeOverlay(overlay, box, image);
  const boxFrom = (a: { x: number; y: number }, b: { x: number; y: number }): Box => ({
    x0: Math.min(a.x, b.x),
    y0: Math.min(a.y, b.y),
    x1: Math.max(a.x, b.x),
    y1: Math.max(a.y, b.y),
  });
  const down = (e: PointerEvent) => {
    start = toImage(e);
    try {
      image.setPointerCapture(e.pointerId);
    } catch {
      // A pointer the browser does not track (synthetic events) cannot be captured; drawing still works.
    }
    e.preventDefault();
  };
  const move = (e: PointerEvent) => start && show(boxFrom(start, toImage(e)));
  const up = (e: PointerEvent) => {
    if (!start) return;
    const box = boxFrom(start, toImage(e));
    start = null;
    if (box.x1 - box.x0 >= 2 && box.y1 - box.y0 >= 2) onBox(box);
  };
  image.addEventListener('pointerdown', down);
  image.addEventListener('pointermove', move);
  image.addEventListener('pointerup', up);
  image.classList.add('drawing');
  return () => {
    image.removeEventListener('pointerdown', down);
    image.removeEventListener('pointermove', move);
    image.removeEventListener('pointerup', up);
    image.classList.remove('drawing');
  };
}
