/**
 * Structured JSON logs, one object per line on stdout (warnings and errors on stderr). Callers
 * pass fields, never emails in clear: use hashEmail() from idempotency.ts. As a second line of
 * defence every string field is redacted on the way out (shared/redact.ts): URL userinfo, Kong
 * developer paths (which name the email) and anything shaped like an email address.
 */
import { redactFields } from './redact.ts';

type LogFields = Record<string, unknown>;

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

/** An error as a log field: what it is, where it was thrown, and what caused it. */
interface LoggedError {
  name: string;
  message: string;
  /** Our error code, or Stripe's / Node's. */
  code?: string;
  /** HTTP status of a failed call (Stripe, Kong) when the error carries one. */
  status?: number;
  /** The stack's frames (the message is in `message`), at most STACK_FRAMES. */
  stack?: string;
  cause?: LoggedError;
}

const STACK_FRAMES = 12;
const CAUSE_DEPTH = 3;

/**
 * `{error: …}` for a log line: name, code, message, stack frames and the cause chain (at most
 * three deep). Only these fields are read, never an error's other properties (a Stripe error's
 * `raw` or `headers` could carry request details); the logger redacts every string as usual.
 */
export function errorFields(error: unknown): { error: LoggedError } {
  return { error: describeError(error, 0) };
}

function describeError(error: unknown, depth: number): LoggedError {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error).slice(0, 500) };
  const fields = error as Error & { code?: unknown; statusCode?: unknown; status?: unknown };
  const status = typeof fields.statusCode === 'number' ? fields.statusCode : typeof fields.status === 'number' ? fields.status : undefined;
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, STACK_FRAMES)
    .map((line) => line.trim());
  return {
    name: error.name,
    message: error.message.slice(0, 500),
    ...(typeof fields.code === 'string' ? { code: fields.code } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(frames.length ? { stack: frames.join('\n') } : {}),
    ...(error.cause !== undefined && depth < CAUSE_DEPTH ? { cause: describeError(error.cause, depth + 1) } : {}),
  };
}
