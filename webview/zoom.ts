/**
 * Zoom for the panel's image: fit to the view, 100 %, steps in and out from the toolbar, with
 * Ctrl+wheel (keeping the pixel under the pointer in place) and the keys + - 0 (fit) 1 (100 %).
 * The image gets an explicit CSS size and the viewport scrolls; overlays are placed in percent
 * of the image (overlay.ts), so nothing else has to follow the zoom.
 */
const STEPS = [0.1, 0.25, 0.33, 0.5, 0.67, 0.75, 1, 1.25, 1.5, 2, 3, 4, 6, 8];
const MAX_FIT = 4;

export interface Zoom {
  /** CSS pixels per image pixel now. */
  scale(): number;
  fit(): void;
  set(scale: number, anchor?: { clientX: number; clientY: number }): void;
  zoomIn(anchor?: { clientX: number; clientY: number }): void;
  zoomOut(anchor?: { clientX: number; clientY: number }): void;
}

export function createZoom(viewport: HTMLElement, image: HTMLImageElement, label: HTMLElement): Zoom {
  let mode: 'fit' | 'fixed' = 'fit';
  let fixedScale = 1;

  const fitScale = () => {
    const nw = image.naturalWidth;
    const nh = image.naturalHeight;
    if (!nw || !nh) return 1;
    const maxHeight = Math.max(120, window.innerHeight * 0.6);
    return Math.min(MAX_FIT, viewport.clientWidth / nw, maxHeight / nh);
  };
  const scale = () => (mode === 'fit' ? fitScale() : fixedScale);

  const apply = () => {
    if (!image.naturalWidth) return;
    const s = scale();
    image.style.width = `${image.naturalWidth * s}px`;
    image.style.height = `${image.naturalHeight * s}px`;
    const percent = `${Math.round(s * 100)}%`;
    label.textContent = mode === 'fit' ? `Fit (${percent})` : percent;
    viewport.dataset.zoom = String(s);
    viewport.dataset.zoomMode = mode;
  };

  /** Keeps the image point under `anchor` (default: the viewport's centre) where it is. */
  const set = (next: number, anchor?: { clientX: number; clientY: number }) => {
    const old = scale();
    const vp = viewport.getBoundingClientRect();
    const ax = (anchor?.clientX ?? vp.left + viewport.clientWidth / 2) - vp.left;
    const ay = (anchor?.clientY ?? vp.top + viewport.clientHeight / 2) - vp.top;
    const ix = (viewport.scrollLeft + ax) / old;
    const iy = (viewport.scrollTop + ay) / old;
    mode = 'fixed';
    fixedScale = Math.min(STEPS[STEPS.length - 1]!, Math.max(STEPS[0]!, next));
    apply();
    viewport.scrollLeft = ix * fixedScale - ax;
    viewport.scrollTop = iy * fixedScale - ay;
  };
  const step = (direction: 1 | -1, anchor?: { clientX: number; clientY: number }) => {
    const s = scale();
    const next = direction > 0 ? STEPS.find((v) => v > s * 1.001) : [...STEPS].reverse().find((v) => v < s / 1.001);
    if (next !== undefined) set(next, anchor);
  };
  const fit = () => {
    mode = 'fit';
    apply();
    viewport.scrollLeft = viewport.scrollTop = 0;
  };

  image.addEventListener('load', fit);
  new ResizeObserver(() => mode === 'fit' && apply()).observe(viewport);
  viewport.addEventListener(
    'wheel',
    (e) => {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      step(e.deltaY < 0 ? 1 : -1, e);
    },
    { passive: false },
  );
  document.addEventListener('keydown', (e) => {
    const target = e.target as HTMLElement | null;
    if (e.ctrlKey || e.metaKey || e.altKey || (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) || !image.naturalWidth) return;
    if (e.key === '+' || e.key === '=') step(1);
    else if (e.key === '-' || e.key === '_') step(-1);
    else if (e.key === '0') fit();
    else if (e.key === '1') set(1);
    else return;
    e.preventDefault();
  });
  return { scale, fit, set, zoomIn: (a) => step(1, a), zoomOut: (a) => step(-1, a) };
}
