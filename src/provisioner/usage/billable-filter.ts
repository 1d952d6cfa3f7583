/**
 * Which calls are billed: `BILLABLE_STATUS` (default `100-399`), a comma list of statuses and
 * ranges. Whatever it says, a 402 or 429 (our own refusals: access and rate/quota plugins), a 401
 * (bad or missing key) and an upstream 5xx are never billed: they are cut out of every range.
 */
import { SettingError } from '../../shared/errors.ts';

export interface StatusRange {
  gte: number;
  lte: number;
}

const DEFAULT_BILLABLE_STATUS = '100-399';
/** Never billed, whatever BILLABLE_STATUS says. */
const NEVER_BILLED: readonly StatusRange[] = [
  { gte: 401, lte: 402 },
  { gte: 429, lte: 429 },
  { gte: 500, lte: 599 },
];

function parsePart(part: string, setting: string): StatusRange {
  const match = /^(\d{3})(?:-(\d{3}))?$/.exec(part.trim());
  if (!match) throw new SettingError(setting, `"${part}" is not a status or a range`, 'use statuses and ranges such as 100-399 or 200-299,304');
  const gte = Number(match[1]);
  const lte = Number(match[2] ?? match[1]);
  if (gte < 100 || lte > 599 || lte < gte) throw new SettingError(setting, `"${part}" is not a range of HTTP statuses (100-599, low to high)`, 'use statuses and ranges such as 100-399');
  return { gte, lte };
}

/** Cuts the never-billed statuses out of a range. */
function withoutNeverBilled(range: StatusRange): StatusRange[] {
  let pieces = [range];
  for (const cut of NEVER_BILLED)
    pieces = pieces.flatMap((piece) => {
      if (cut.lte < piece.gte || cut.gte > piece.lte) return [piece];
      const left = cut.gte > piece.gte ? [{ gte: piece.gte, lte: cut.gte - 1 }] : [];
      const right = cut.lte < piece.lte ? [{ gte: cut.lte + 1, lte: piece.lte }] : [];
      return [...left, ...right];
    });
  return pieces;
}

/** The billable statuses as ranges, never-billed ones removed; at least one status must remain. */
export function parseBillableStatus(value: string | undefined, setting = 'BILLABLE_STATUS'): StatusRange[] {
  const text = value === undefined || value.trim() === '' ? DEFAULT_BILLABLE_STATUS : value;
  const ranges = text.split(',').map((part) => parsePart(part, setting)).flatMap(withoutNeverBilled);
  if (ranges.length === 0) throw new SettingError(setting, 'leaves no billable status (401, 402, 429 and 5xx are never billed)', 'use e.g. 100-399');
  return ranges;
}

export function isBillable(status: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some((range) => status >= range.gte && status <= range.lte);
}

/** The Elasticsearch filter clause Moesif's search takes for these statuses. */
export function billableStatusClause(ranges: readonly StatusRange[]): object {
  return { bool: { should: ranges.map((range) => ({ range: { 'response.status': { gte: range.gte, lte: range.lte } } })) } };
}
