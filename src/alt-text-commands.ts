import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { altTextEdit, candidatePaths, findImageReferences, referenceAt, replaceAltEdit, type ImageReference } from './alt-text';
import type { DescribeResult } from './protocol/describe-result';

const IMAGE_FILE = /\.(png|jpe?g|webp|gif|bmp|tiff?|avif)$/i;
const DOCUMENTS: vscode.DocumentSelector = [{ language: 'markdown' }, { language: 'html' }];

/** What a result contributes as alt text: its text, or (a checkpoint without tokenizer) its token ids, as the panel shows them. */
export function altTextOf(result: DescribeResult): string {
  return (result.text ?? result.tokenIds.join(' ')).trim();
}

const documentPath = (doc: vscode.TextDocument) => (doc.uri.scheme === 'file' ? doc.uri.fsPath : undefined);
const workspaceRoots = () => (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);

/** The local image file a reference names, or undefined when none of its candidate paths exists. */
function referencedImage(ref: ImageReference, doc: vscode.TextDocument): string | undefined {
  return candidatePaths(ref.src, documentPath(doc), workspaceRoots()).find((p) => IMAGE_FILE.test(p) && fs.existsSync(p) && fs.statSync(p).isFile());
}

function toRange(doc: vscode.TextDocument, start: number, end: number): vscode.Range {
  return new vscode.Range(doc.positionAt(start), doc.positionAt(end));
}

/**
 * Alt text for images: the panel's "Insert as Alt Text", the Quick Fix "Generate alt text with
 * Pix2Struct" on Markdown and HTML image references, and the commands behind them.
 */
export class AltText implements vscode.CodeActionProvider {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix];
  private lastEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private last: { imagePath: string; text: string } | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  register(): vscode.Disposable {
    return vscode.Disposable.from(
      // The panel takes focus when its button is clicked, so remember the editor the user was in.
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e) this.lastEditor = e;
      }),
      vscode.languages.registerCodeActionsProvider(DOCUMENTS, this, { providedCodeActionKinds: AltText.providedCodeActionKinds }),
      vscode.commands.registerCommand('pix2struct.generateAltText', (uri?: unknown, offset?: unknown) => this.generate(uri, offset)),
      vscode.commands.registerCommand('pix2struct.insertAltText', (text?: unknown, imagePath?: unknown) => {
        const t = typeof text === 'string' ? text : this.last?.text;
        const image = typeof imagePath === 'string' ? imagePath : this.last?.imagePath;
        if (!t || !image) {
          void vscode.window.showInformationMessage('Pix2Struct: describe an image first; its result becomes the alt text.');
          return undefined;
        }
        return this.insert(image, t).catch((err: Error) => void vscode.window.showErrorMessage(`Pix2Struct: ${err.message}`));
      }),
    );
  }

  /** Remembers the latest result so that "Insert as Alt Text" from the palette can use it. */
  remember(imagePath: string, result: DescribeResult): void {
    const text = altTextOf(result);
    if (text) this.last = { imagePath, text };
  }

  private editor(): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active) return active;
    return this.lastEditor && vscode.window.visibleTextEditors.includes(this.lastEditor) ? this.lastEditor : vscode.window.visibleTextEditors[0];
  }

  /**
   * Puts `text` as the alt text of `imagePath` in the editor: replaces it when the cursor is on a
   * reference to that image, otherwise inserts a new reference in the document's language.
   */
  async insert(imagePath: string, text: string): Promise<'replaced' | 'inserted'> {
    const editor = this.editor();
    if (!editor) throw new Error('open the Markdown or HTML document the alt text is for, and put the cursor where it goes');
    const doc = editor.document;
    const { edit, replaced } = altTextEdit(doc.getText(), doc.offsetAt(editor.selection.active), text, {
      path: imagePath,
      documentPath: documentPath(doc),
      workspaceRoots: workspaceRoots(),
      languageId: doc.languageId,
    });
    const ok = await editor.edit((b) => b.replace(toRange(doc, edit.start, edit.end), edit.newText));
    if (!ok) throw new Error(`${path.basename(doc.fileName)} could not be edited (is it read-only?)`);
    this.log.info(`alt text ${replaced ? 'replaced' : 'inserted'} in ${doc.uri.toString()}`);
    return replaced ? 'replaced' : 'inserted';
  }

  /** The panel's Insert at Cursor: into the editor the user was in before clicking the panel. */
  async insertAtCursor(text: string): Promise<void> {
    const editor = this.editor();
    if (!editor) {
      void vscode.window.showInformationMessage('Pix2Struct: open an editor and put the cursor where the result goes.');
      return;
    }
    await editor.insertSnippet(new vscode.SnippetString().appendText(text));
  }

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    const offset = doc.offsetAt(range.start);
    const ref = referenceAt(doc.getText(), offset);
    if (!ref) return [];
    const image = referencedImage(ref, doc);
    if (!image) return [];
    const actions: vscode.CodeAction[] = [];
    const generate = new vscode.CodeAction(`Generate alt text for ${path.basename(image)} with Pix2Struct`, vscode.CodeActionKind.QuickFix);
    generate.command = { command: 'pix2struct.generateAltText', title: 'Pix2Struct: Generate Alt Text', arguments: [doc.uri, ref.start] };
    generate.isPreferred = ref.alt.trim() === '';
    actions.push(generate);
    if (this.last && this.last.imagePath === image && this.last.text !== ref.alt) {
      const use = new vscode.CodeAction('Use the last Pix2Struct result as alt text', vscode.CodeActionKind.QuickFix);
      use.edit = new vscode.WorkspaceEdit();
      const e = replaceAltEdit(ref, this.last.text);
      use.edit.replace(doc.uri, toRange(doc, e.start, e.end), e.newText);
      actions.push(use);
    }
    return actions;
  }

  /**
   * Pix2Struct: Generate Alt Text — describes the image the reference at `offset` (default: the
   * cursor) names and writes the result into its alt text. Returns the alt text, or undefined.
   */
  private async generate(uriArg: unknown, offsetArg: unknown): Promise<string | undefined> {
    const editor = this.editor();
    const doc = uriArg instanceof vscode.Uri ? await vscode.workspace.openTextDocument(uriArg) : editor?.document;
    if (!doc) {
      void vscode.window.showErrorMessage('Pix2Struct: open a Markdown or HTML document and put the cursor on an image reference.');
      return undefined;
    }
    const offset = typeof offsetArg === 'number' ? offsetArg : editor && editor.document === doc ? doc.offsetAt(editor.selection.active) : 0;
    const ref = referenceAt(doc.getText(), offset);
    if (!ref) {
      void vscode.window.showErrorMessage('Pix2Struct: put the cursor on a Markdown ![alt](image.png) or HTML <img src="…"> reference.');
      return undefined;
    }
    const image = referencedImage(ref, doc);
    if (!image) {
      const looked = candidatePaths(ref.src, documentPath(doc), workspaceRoots());
      void vscode.window.showErrorMessage(`Pix2Struct: "${ref.src}" is not a local image file${looked.length ? ` (looked for ${looked.join(', ')})` : ''}.`);
      return undefined;
    }
    const result = await vscode.commands.executeCommand<DescribeResult | undefined>('pix2struct.describeImage', vscode.Uri.file(image));
    if (!result) return undefined;
    const text = altTextOf(result);
    if (!text) {
      void vscode.window.showWarningMessage(`Pix2Struct: the model produced no text for ${path.basename(image)}; the alt text is unchanged.`);
      return undefined;
    }
    // The document may have changed while the model ran: find the same reference again.
    const now = findImageReferences(doc.getText()).filter((r) => r.kind === ref.kind && r.src === ref.src);
    const target = now.sort((a, b) => Math.abs(a.start - ref.start) - Math.abs(b.start - ref.start))[0];
    if (!target) {
      void vscode.window.showWarningMessage(`Pix2Struct: the reference to ${ref.src} is gone; the alt text was: ${text}`);
      return undefined;
    }
    const e = replaceAltEdit(target, text);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, toRange(doc, e.start, e.end), e.newText);
    if (!(await vscode.workspace.applyEdit(edit))) {
      void vscode.window.showErrorMessage(`Pix2Struct: ${path.basename(doc.fileName)} could not be edited.`);
      return undefined;
    }
    this.log.info(`alt text generated for ${image} in ${doc.uri.toString()}`);
    return text;
  }
}
