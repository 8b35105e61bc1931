import * as vscode from 'vscode';
import { webviewHtml } from './webview-html';
import { parseFromWebview, rejectedRequestId, type FromWebview, type ToWebview } from './protocol/panel';

/**
 * The Pix2Struct panel: one webview, strict CSP with a per-load nonce, messages validated on
 * arrival. Messages sent before the webview says `ready` are queued, not lost.
 */
export class Pix2StructPanel {
  private static current: Pix2StructPanel | undefined;
  private readonly queue: ToWebview[] = [];
  private isReady = false;
  private readonly listeners = new Set<(m: FromWebview) => void>();

  private constructor(private readonly panel: vscode.WebviewPanel, private readonly extensionUri: vscode.Uri) {
    panel.webview.html = this.html();
    panel.webview.onDidReceiveMessage((raw: unknown) => {
      const message = parseFromWebview(raw);
      if (!message) {
        // A malformed request still gets its one reply, so the panel never waits forever.
        const requestId = rejectedRequestId(raw);
        if (requestId !== undefined) this.post({ type: 'reply', requestId, ok: false, error: { message: 'the panel sent an invalid request' } });
        return;
      }
      if (message.type === 'ready') {
        this.isReady = true;
        for (const m of this.queue.splice(0)) void panel.webview.postMessage(m);
      }
      for (const l of this.listeners) l(message);
    });
    panel.onDidDispose(() => {
      if (Pix2StructPanel.current === this) Pix2StructPanel.current = undefined;
      this.listeners.clear();
    });
  }

  /** Reveals the panel, creating it (and calling `onCreated` once) if needed. */
  static show(extensionUri: vscode.Uri, imageFolder: vscode.Uri | undefined, onCreated: (panel: Pix2StructPanel) => void): Pix2StructPanel {
    if (Pix2StructPanel.current) {
      Pix2StructPanel.current.panel.reveal(vscode.ViewColumn.Beside, true);
      Pix2StructPanel.current.allow(imageFolder);
      return Pix2StructPanel.current;
    }
    const panel = vscode.window.createWebviewPanel('pix2struct.panel', 'Pix2Struct', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), ...(imageFolder ? [imageFolder] : [])],
    });
    const created = new Pix2StructPanel(panel, extensionUri);
    Pix2StructPanel.current = created;
    onCreated(created);
    return created;
  }

  /** Lets the webview load images from `folder` (a new image may come from anywhere). */
  private allow(folder: vscode.Uri | undefined): void {
    if (!folder) return;
    const roots = this.panel.webview.options.localResourceRoots ?? [];
    if (roots.some((r) => r.toString() === folder.toString())) return;
    this.panel.webview.options = { ...this.panel.webview.options, localResourceRoots: [...roots, folder] };
  }

  asWebviewUri(file: vscode.Uri): string {
    return this.panel.webview.asWebviewUri(file).toString();
  }

  onDidDispose(listener: () => void): vscode.Disposable {
    return this.panel.onDidDispose(listener);
  }

  onMessage(listener: (m: FromWebview) => void): vscode.Disposable {
    this.listeners.add(listener);
    return new vscode.Disposable(() => this.listeners.delete(listener));
  }

  post(message: ToWebview): void {
    if (this.isReady) void this.panel.webview.postMessage(message);
    else this.queue.push(message);
  }

  private html(): string {
    return webviewHtml(this.panel.webview, {
      assets: vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'),
      title: 'Pix2Struct',
      rootId: 'app',
      styles: ['panel.css'],
      script: 'panel.js',
    });
  }
}
