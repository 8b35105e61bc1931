/**
 * Short opaque handles for the images the panel has shown, so that panel messages name an image
 * without the webview ever choosing a file path the host would act on. No vscode imports.
 */
export class ImageKeys {
  private readonly byKey = new Map<string, string>();
  private readonly byPath = new Map<string, string>();
  private next = 1;

  keyFor(filePath: string): string {
    let key = this.byPath.get(filePath);
    if (!key) {
      key = `img-${this.next++}`;
      this.byPath.set(filePath, key);
      this.byKey.set(key, filePath);
    }
    return key;
  }

  /** The file behind a key the panel sent; undefined for a key the host never gave out. */
  pathFor(key: string): string | undefined {
    return this.byKey.get(key);
  }
}
