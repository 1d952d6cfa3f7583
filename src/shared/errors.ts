/**
 * The one error type every module throws for things a person can act on. `code` is stable
 * (tests, logs and JSON answers use it); `message` says what is wrong; `hint` says how to fix it.
 */
export class MonetizationError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }

  /** Message and hint on one or two lines, for a terminal. */
  describe(): string {
    return this.hint ? `${this.message}\n  fix: ${this.hint}` : this.message;
  }
}

/** A setting (environment variable, flag or file) is missing or malformed. */
export class SettingError extends MonetizationError {
  readonly setting: string;
  /** The single problems this error stands for (several when combineSettingErrors made it). */
  readonly parts: readonly SettingError[];

  constructor(setting: string, message: string, hint?: string, parts?: readonly SettingError[]) {
    super('invalid_setting', parts ? message : `${setting}: ${message}`, hint === undefined ? {} : { hint });
    this.setting = setting;
    this.parts = parts ?? [this];
  }
}

/**
 * Every bad variable at once, each with its fix: one run tells the admin all there is to set. One
 * problem is thrown as it is (a SettingError naming it); several as a SettingError listing them.
 */
export function combineSettingErrors(problems: readonly SettingError[]): SettingError {
  const flat = problems.flatMap((problem) => problem.parts);
  if (flat.length === 1) return flat[0] as SettingError;
  const names = flat.map((problem) => problem.setting);
  const lines = flat.map((problem) => `  ${problem.message}${problem.hint ? `\n    fix: ${problem.hint}` : ''}`);
  return new SettingError(names.join(', '), `${flat.length} settings are missing or invalid:\n${lines.join('\n')}`, undefined, flat);
}

/** Runs one reader; a SettingError it throws joins `problems` instead of stopping the others. */
export function collectSettingError<T>(problems: SettingError[], read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    problems.push(error);
    return undefined;
  }
}
