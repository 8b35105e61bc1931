/**
 * "Pix2Struct: Enable CUDA": installs onnxruntime's CUDA execution provider (the libraries
 * onnxruntime-node's own install script would fetch from NuGet) into the extension's global
 * storage, with consent, progress, cancel and resume; the worker then passes that folder as
 * `providerLibraryDir` and the runtime links the libraries in when a session asks for CUDA.
 */
import * as vscode from 'vscode';
import {
  AbortError,
  cudaProviderTarget,
  findCudaProviderInstall,
  installCudaProvider,
  ProviderInstallError,
  resolveCudaProviderPackage,
  type CudaProviderTarget,
  type ResolvedCudaPackage,
} from '../model-runtime/src/index';
import { consentPrompt, installPercent, missingSystemLibraries, phaseText } from './enable-cuda-text';

export const ENABLE_CUDA_COMMAND = 'pix2struct.enableCuda';

interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Where "Enable CUDA" installs provider libraries: what the worker passes as `providerLibraryDir`. */
export function providerLibraryDir(context: vscode.ExtensionContext): string {
  return vscode.Uri.joinPath(context.globalStorageUri, 'onnxruntime-providers').fsPath;
}

async function offerCuda(message: string): Promise<void> {
  const use = 'Set executionProvider to "cuda"';
  const choice = await vscode.window.showInformationMessage(message, use, 'Keep current setting');
  if (choice === use) await vscode.workspace.getConfiguration('pix2struct').update('executionProvider', 'cuda', vscode.ConfigurationTarget.Global);
}

async function resolveWithProgress(target: CudaProviderTarget): Promise<ResolvedCudaPackage | undefined> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Pix2Struct: looking up the CUDA provider on NuGet', cancellable: true },
    async (_progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      try {
        return await resolveCudaProviderPackage({ target, signal: controller.signal });
      } catch (err) {
        if (err instanceof AbortError) return undefined;
        throw err;
      }
    },
  );
}

/**
 * Registers the command. `onInstalled` runs after a successful install (the caller unloads the
 * worker's model, so the next run opens its sessions again and tries CUDA).
 */
export function registerEnableCuda(context: vscode.ExtensionContext, log: Log, onInstalled?: () => void): vscode.Disposable {
  const root = providerLibraryDir(context);

  const enable = async (): Promise<void> => {
    let target: CudaProviderTarget;
    try {
      target = cudaProviderTarget();
    } catch (err) {
      void vscode.window.showErrorMessage((err as Error).message);
      return;
    }
    const existing = findCudaProviderInstall(root, target);
    if (existing) {
      log.info(`CUDA provider for onnxruntime ${target.onnxruntimeVersion} already installed in ${existing.dir}`);
      await offerCuda(`The CUDA provider for onnxruntime ${target.onnxruntimeVersion} is already installed. executionProvider "auto" uses it when CUDA 12 and cuDNN 9 are present.`);
      return;
    }

    let pkg: ResolvedCudaPackage | undefined;
    try {
      pkg = await resolveWithProgress(target);
    } catch (err) {
      log.error(`Enable CUDA: ${(err as Error).message}`);
      void vscode.window.showErrorMessage(`Could not look up the CUDA provider: ${(err as Error).message}`);
      return;
    }
    if (!pkg) return;

    const { message, detail } = consentPrompt(pkg, missingSystemLibraries());
    const install = 'Download and Install';
    const consent = await vscode.window.showWarningMessage(message, { modal: true, detail }, install);
    if (consent !== install) return;

    const resolved = pkg;
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Pix2Struct: installing the CUDA provider', cancellable: true },
        async (progress, token) => {
          const controller = new AbortController();
          token.onCancellationRequested(() => controller.abort());
          let reported = 0;
          let lastMessage = 0;
          return installCudaProvider({
            root,
            target,
            resolved,
            signal: controller.signal,
            onProgress: (p) => {
              const percent = installPercent(p);
              const now = Date.now();
              if (percent - reported < 0.5 && now - lastMessage < 500 && p.phase !== 'done') return;
              progress.report({ message: phaseText(p), increment: Math.max(0, percent - reported) });
              reported = Math.max(reported, percent);
              lastMessage = now;
            },
          });
        },
      );
      log.info(`CUDA provider installed in ${result.dir}`);
      onInstalled?.();
      await offerCuda(
        `CUDA provider installed. With executionProvider "auto" Pix2Struct uses it whenever CUDA 12 and cuDNN 9 are present and says in the log why not otherwise; "cuda" asks for it explicitly (still falling back to the CPU).`,
      );
    } catch (err) {
      if (err instanceof AbortError) {
        log.info(`Enable CUDA: ${err.message}`);
        void vscode.window.showInformationMessage('CUDA provider download cancelled. Run "Pix2Struct: Enable CUDA" again to resume it.');
        return;
      }
      const message = (err as Error).message;
      log.error(`Enable CUDA: ${message}`);
      const retryable = err instanceof ProviderInstallError && ['interrupted', 'unreachable', 'disk-full', 'integrity', 'http'].includes(err.reason);
      const retry = retryable ? await vscode.window.showErrorMessage(`Installing the CUDA provider failed: ${message}`, 'Retry') : (void vscode.window.showErrorMessage(`Installing the CUDA provider failed: ${message}`), undefined);
      if (retry === 'Retry') await enable();
    }
  };

  return vscode.commands.registerCommand(ENABLE_CUDA_COMMAND, enable);
}
