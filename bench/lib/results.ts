/** Reading back what scenarios wrote. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsDir, type Mode, type Row } from './report.ts';

export const SCENARIO_ORDER = ['ingest', 'message-to-agent', 'fanout', 'density', 'history', 'reports', 'soak', 'handover'] as const;

export function readResults(mode: Mode, scenario: string): Row[] {
  const file = join(resultsDir(mode), `${scenario}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Row[]) : [];
}
