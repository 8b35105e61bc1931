import * as fs from 'node:fs';
import * as path from 'node:path';

/** The transformers/torch reference interpreter made by scripts/python-env.sh, if present. */
export function pyrefPython(): string | null {
  const candidate = process.env.PIX2STRUCT_PYREF_PYTHON ?? path.resolve(__dirname, '../../.cache/pyref/bin/python');
  return fs.existsSync(candidate) ? candidate : null;
}
