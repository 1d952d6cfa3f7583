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

  constructor(setting: string, message: string, hint?: string) {
    super('invalid_setting', `${setting}: ${message}`, hint === undefined ? {} : { hint });
    this.setting = setting;
  }
}
