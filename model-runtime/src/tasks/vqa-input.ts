import * as path from 'node:path';
import { findRegistryEntry, type RegistryEntry } from '../registry';
import { DEPLOT_PROMPT } from './prompts';

/**
 * The registry entry of a checkpoint folder inside a Hugging Face cache
 * (`…/models--org--name/snapshots/<commit>`), so a folder can be told what its Hub id expects.
 */
export function registryEntryForFolder(dir: string): RegistryEntry | undefined {
  const parts = path.resolve(dir).split(path.sep);
  const snapshots = parts.lastIndexOf('snapshots');
  const repo = snapshots > 0 ? /^models--([^/]+?)--(.+)$/.exec(parts[snapshots - 1]!) : null;
  return repo ? findRegistryEntry(`${repo[1]}/${repo[2]!.replace(/--/g, '/')}`) : undefined;
}

/**
 * Why a VQA checkpoint cannot run without header text, and what to pass, in the CLI's words
 * (`option` names the flag or field that carries the text). VQA-ness comes from
 * preprocessor_config.json first, as in transformers: Google's conversions never set it in
 * config.json, so DocVQA and DePlot say `"is_vqa": false` there.
 */
export function missingHeaderMessage(entry: RegistryEntry | undefined, option: string): string {
  const who = entry ? entry.id : 'this checkpoint';
  const base = `${who} is a VQA checkpoint (preprocessor_config.json: "is_vqa": true): it reads its input text rendered above the image`;
  switch (entry?.task) {
    case 'chart-to-table':
      return `${base}; pass DePlot's prompt with ${option} "${DEPLOT_PROMPT}"`;
    case 'refexp':
      return `${base}; pass the referring expression (e.g. "the search icon") with ${option}, or use Find Element in VS Code`;
    case 'ai2d':
      return `${base}; pass the question followed by its answer options with ${option}`;
    default:
      return `${base}; pass the question with ${option}`;
  }
}
