/**
 * Structured JSON logs, one object per line on stdout (warnings and errors on stderr). Callers
 * pass fields, never emails in clear: use hashEmail() from idempotency.ts. As a second line of
 * defence every string field is redacted on the way out (shared/redact.ts): URL userinfo, Kong
 * developer paths (which name the email) and anything shaped like an email address.
 */
import { redactFields } from '../shared/redact.ts';

export type LogFields = Record<string, unknown>;

export interface ProvisionLogger {
  info(fields: LogFields): void;
  warn(fields: LogFields): void;
  error(fields: LogFields): void;
}

export function createJsonLogger(write: (line: string, level: 'info' | 'warn' | 'error') => void = defaultWrite): ProvisionLogger {
  const log = (level: 'info' | 'warn' | 'error') => (fields: LogFields) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, service: 'provisioner', ...redactFields(fields) }), level);
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

function defaultWrite(line: string, level: 'info' | 'warn' | 'error'): void {
  (level === 'info' ? process.stdout : process.stderr).write(`${line}\n`);
}

/** A logger that keeps entries in memory (tests, benchmarks), redacted as the JSON logger's. */
export function createMemoryLogger(): ProvisionLogger & { entries: Array<LogFields & { level: string }> } {
  const entries: Array<LogFields & { level: string }> = [];
  return {
    entries,
    info: (fields) => entries.push({ level: 'info', ...redactFields(fields) }),
    warn: (fields) => entries.push({ level: 'warn', ...redactFields(fields) }),
    error: (fields) => entries.push({ level: 'error', ...redactFields(fields) }),
  };
}

export const silentLogger: ProvisionLogger = { info() {}, warn() {}, error() {} };
