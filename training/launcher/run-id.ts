// The one definition of a run id on the TypeScript side (training/PROTOCOL.md: ids are made by the
// launcher). Run ids go on remote command lines, so everything that accepts one checks it here.
// The Python side has its own copy (pix2struct_remote/run_files.py, RUN_ID_PATTERN);
// test/training/run-id.test.ts and test/remote/test_run_id_agreement.py hold both to one list.
import * as crypto from 'node:crypto';

export const RUN_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

export const isRunId = (value: unknown): value is string => typeof value === 'string' && RUN_ID_PATTERN.test(value);

/** UTC time of creation plus 6 random hex digits, e.g. 20261124-211500-3fa9c2: sorts by age. */
export function newRunId(now = new Date()): string {
  const iso = now.toISOString(); // 2026-11-24T21:15:00.000Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${crypto.randomBytes(3).toString('hex')}`;
}

/** The creation time newRunId wrote into an id, or null for an id made some other way. */
export function createdAtFromId(id: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : null;
}
