/**
 * Crop mode: the user drags a rectangle over the image (in image pixels, at any zoom), Enter or
 * Apply sends it to the extension, Esc or Cancel leaves the image as it is.
 */
import type { Box } from '../src/protocol/common';
import { enableBoxDrawing } from './box-drawing';
import { hideOverlay } from './overlay';

export interface CropModeParts {
  image: HTMLImageElement;
  overlay: HTMLElement;
  bar: HTMLElement;
  hint: HTMLElement;
  apply: HTMLButtonElement;
  cancel: HTMLButtonElement;
  /** Sends the crop; resolves with an error message, or null when it worked. */
  send(box: Box): Promise<string | null>;
  /** Called when crop mode starts (so other drawing stops) and ends. */
  onActive(active: boolean): void;
}

export function createCropMode(p: CropModeParts): { start(): void; end(): void; active(): boolean } {
  let stop: (() => void) | undefined;
  let box: Box | undefined;
  let busy = false;

  const end = () => {
    if (!stop) return;
    stop();
    stop = undefined;
    box = undefined;
    p.bar.hidden = true;
    hideOverlay(p.overlay);
    p.onActive(false);
  };
  const apply = async () => {
    if (!box || busy) return;
    busy = true;
    p.apply.disabled = true;
    p.hint.textContent = 'Cropping…';
    const error = await p.send(box);
    busy = false;
    if (error) {
      p.hint.textContent = `Could not crop: ${error}`;
      p.apply.disabled = false;
    } else {
      end();
    }
  };
  const start = () => {
    if (stop) return;
    p.onActive(true);
    box = undefined;
    p.bar.hidden = false;
    p.apply.disabled = true;
    p.hint.textContent = 'Drag a rectangle over the image to crop it; Enter applies, Esc cancels.';
    stop = enableBoxDrawing(p.image, p.overlay, (b) => {
      box = b;
      p.apply.disabled = false;
      p.hint.textContent = `Crop to ${b.x1 - b.x0}×${b.y1 - b.y0} at ${b.x0},${b.y0}: Enter applies, Esc cancels.`;
    });
    p.image.focus();
  };
  p.apply.addEventListener('click', () => void apply());
  p.cancel.addEventListener('click', end);
  document.addEventListener('keydown', (e) => {
    if (!stop) return;
    if (e.key === 'Escape') end();
    else if (e.key === 'Enter' && box && !(e.target instanceof HTMLButtonElement)) void apply();
    else return;
    e.preventDefault();
  });
  return { start, end, active: () => stop !== undefined };
}
