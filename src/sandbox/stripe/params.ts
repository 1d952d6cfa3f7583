/**
 * Parameter schemas for form-encoded Stripe requests (every value arrives as a string) and the
 * mapping of zod issues to Stripe's errors: unknown keys -> parameter_unknown, absent required
 * keys -> parameter_missing, bad values -> invalid_request_error naming the param (`items[0][price]`).
 * Messages may hold {param} and {value}, filled in from the request.
 */
import { z } from 'zod';
import { paramName, type FormObject, type FormValue } from './form-encoding.ts';
import { StripeApiError, stripeErrors, StripeValidationError } from './stripe-errors.ts';

const isIndexKey = (key: string) => /^(0|[1-9]\d*)$/.test(key);

/** Form arrays arrive as {"0": a, "1": b}; Stripe wants them dense and in order. */
function indexedToArray(value: unknown): unknown {
  if (value === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (!keys.every(isIndexKey)) return value;
  return keys
    .map(Number)
    .sort((a, b) => a - b)
    .map((index) => (value as Record<string, unknown>)[String(index)]);
}

export const p = {
  string: (max = 5000) => z.string({ error: 'Invalid string: {value}' }).max(max, `Invalid {param}: must be at most ${max} characters`),
  /** A non-empty id-like string. */
  id: () => z.string({ error: 'Invalid string: {value}' }).min(1, 'Invalid {param}: must not be empty').max(5000),
  /** "" clears the field (Stripe's way to unset); any other string sets it. */
  emptyable: <T extends z.ZodType>(schema: T) => z.union([z.literal('').transform(() => null), schema]),
  int: (bounds: { min?: number; max?: number } = {}) =>
    z
      .string({ error: 'Invalid integer: {value}' })
      .regex(/^-?\d{1,15}$/, 'Invalid integer: {value}')
      .transform(Number)
      .pipe(
        z
          .number()
          .min(bounds.min ?? Number.MIN_SAFE_INTEGER, `This value must be greater than or equal to ${bounds.min}.`)
          .max(bounds.max ?? Number.MAX_SAFE_INTEGER, `This value must be less than or equal to ${bounds.max}.`),
      ),
  decimal: () => z.string({ error: 'Invalid decimal: {value}' }).regex(/^\d{1,15}(\.\d{1,12})?$/, 'Invalid decimal: {value}'),
  bool: () => z.enum(['true', 'false'], { error: 'Invalid boolean: {value}' }).transform((v) => v === 'true'),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { error: `Invalid {param}: must be one of ${values.slice(0, -1).join(', ')}${values.length > 1 ? ' or ' : ''}${values.at(-1)}` }),
  hash: <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape, { error: 'Invalid hash' }),
  list: <T extends z.ZodType>(item: T, max = 250) =>
    z.preprocess(indexedToArray, z.array(item, { error: 'Invalid array' }).max(max, `Invalid {param}: must have at most ${max} elements`)),
  /** Up to 50 keys of at most 40 characters, values up to 500; "" removes a key, metadata="" removes all. */
  metadata: () =>
    z.union([
      z.literal('').transform(() => null),
      z
        .record(z.string().max(40, 'Metadata keys must be at most 40 characters'), z.string({ error: 'Invalid metadata value' }).max(500, 'Metadata values must be at most 500 characters'), {
          error: 'Invalid hash',
        })
        .refine((m) => Object.keys(m).length <= 50, 'Metadata can have at most 50 keys'),
    ]),
  expand: () => p.list(z.string(), 100).optional(),
  /** A unix-time filter: `created=123` or `created[gte]=123`. */
  range: () => z.union([p.int(), p.hash({ gt: p.int().optional(), gte: p.int().optional(), lt: p.int().optional(), lte: p.int().optional() })]),
  /** Accepted and ignored: real Stripe parameters the emulator does not model. */
  accepted: () => z.unknown().optional(),
};

export const paginationShape = {
  limit: p.int({ min: 1, max: 100 }).optional(),
  starting_after: p.id().optional(),
  ending_before: p.id().optional(),
  expand: p.expand(),
};

function valueAt(raw: FormObject, path: readonly PropertyKey[]): FormValue | undefined {
  let node: FormValue | undefined = raw;
  for (const segment of path) {
    if (node === undefined || typeof node === 'string') return undefined;
    node = node[String(segment)];
  }
  return node;
}

/**
 * Parses request parameters or throws the error Stripe would answer with, as a
 * StripeValidationError: the request pipeline saves no idempotent result for it.
 */
export function parseParams<T extends z.ZodType>(schema: T, raw: FormObject): z.output<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const error = toStripeError(result.error.issues, raw);
  throw new StripeValidationError(error.message, error.code, error.param);
}

function toStripeError(issues: readonly z.core.$ZodIssue[], raw: FormObject): StripeApiError {
  const unknown = issues.find((issue) => issue.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') return stripeErrors.parameterUnknown(paramName([...unknown.path, unknown.keys[0] ?? '']));
  const first = issues.find((issue) => issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined);
  if (first) return stripeErrors.parameterMissing(paramName(first.path));
  const issue = issues[0];
  if (!issue) return stripeErrors.invalid('Invalid request.');
  const param = paramName(issue.path);
  const value = valueAt(raw, issue.path);
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  const message = issue.message.includes('{') ? issue.message.replaceAll('{param}', param).replaceAll('{value}', shown ?? '') : `Invalid ${param}: ${issue.message}`;
  return stripeErrors.invalid(message, param, /^Invalid integer/.test(message) ? 'parameter_invalid_integer' : undefined);
}

/** Applies a metadata update the way Stripe does: "" on a key removes it, metadata="" clears all. */
export function mergeMetadata(current: Record<string, string>, update: Record<string, string> | null | undefined): Record<string, string> {
  if (update === undefined) return current;
  if (update === null) return {};
  const next = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}
