import * as crypto from 'node:crypto';
import * as vscode from 'vscode';

export interface WebviewPage {
  /** Folder of the page's bundle and stylesheets, e.g. dist/webview. */
  assets: vscode.Uri;
  title: string;
  /** id of the element the bundle renders into. */
  rootId: string;
  styles: string[];
  script: string;
}

/**
 * The HTML every panel of the extension loads: a fresh nonce per load and a CSP under which no
 * inline script or style runs without it, and images come only from the extension and the
 * folders the panel was given (plus data: URLs for thumbnails).
 */
export function webviewHtml(webview: vscode.Webview, page: WebviewPage): string {
  const nonce = crypto.randomBytes(18).toString('base64');
  const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(page.assets, file)).toString();
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const links = page.styles.map((file) => `<link rel="stylesheet" href="${asset(file)}" nonce="${nonce}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${links}
<title>${page.title}</title>
</head>
<body>
<main id="${page.rootId}"></main>
<script nonce="${nonce}" src="${asset(page.script)}"></script>
</body>
</html>`;
}
