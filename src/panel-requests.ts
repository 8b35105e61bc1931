import * as vscode from 'vscode';
import type { AltText } from './alt-text-commands';
import { cropImageFile } from './crop';
import type { ImageKeys } from './image-keys';
import type { Pix2StructPanel } from './panel';
import type { FromWebview } from './protocol/panel';

export interface PanelRequestHost {
  keys: ImageKeys;
  altText: AltText;
  log: vscode.LogOutputChannel;
  /** Shows an image in the panel and makes it the one Run acts on. */
  showImage(image: vscode.Uri): void;
  /** Makes an image current without re-sending it to the panel. */
  selectImage(image: vscode.Uri): void;
}

/**
 * The panel's requests beyond running a task: crop, insert as alt text, re-open from history.
 * Every request with a requestId gets exactly one reply. Returns false for other messages.
 */
export function handlePanelRequest(m: FromWebview, panel: Pix2StructPanel, host: PanelRequestHost): boolean {
  if (m.type !== 'crop' && m.type !== 'insertAltText' && m.type !== 'selectImage') return false;
  const file = host.keys.pathFor(m.imageKey);
  if (m.type === 'selectImage') {
    if (file) host.selectImage(vscode.Uri.file(file));
    return true;
  }
  const fail = (message: string) => panel.post({ type: 'reply', requestId: m.requestId, ok: false, error: { message } });
  if (!file) {
    fail('that image is no longer known to the extension; open it again');
    return true;
  }
  if (m.type === 'crop') {
    cropImageFile(file, m.box).then(
      (crop) => {
        host.log.info(`cropped ${file} to ${crop.width}x${crop.height} at ${crop.box.x0},${crop.box.y0}: ${crop.file}`);
        host.showImage(vscode.Uri.file(crop.file));
        panel.post({ type: 'reply', requestId: m.requestId, ok: true, message: `Cropped to ${crop.width}×${crop.height}` });
      },
      (err: Error) => {
        host.log.error(`crop failed: ${err.message}`);
        fail(`could not crop: ${err.message}`);
      },
    );
  } else {
    host.altText.insert(file, m.text).then(
      (how) => panel.post({ type: 'reply', requestId: m.requestId, ok: true, message: how === 'replaced' ? 'Alt text replaced' : 'Image reference inserted' }),
      (err: Error) => fail(err.message),
    );
  }
  return true;
}
