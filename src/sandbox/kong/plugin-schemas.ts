/**
 * Plugin config schemas as Kong 3.4.2 declares them (kong/plugins/<name>/schema.lua) and checks
 * them (kong/db/schema/init.lua): defaults filled in on write, unknown fields refused ("unknown
 * field"), Kong's own messages for types and ranges, then the plugin's custom validator (a string
 * error on `config`) and its entity checks (`@entity`). Only the fields and checks the emulator
 * needs are modelled; every field the real schema has is listed, so nothing Kong accepts is refused.
 */
type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'array';

interface FieldRule {
  type: FieldType;
  default?: unknown;
  /** `required = true` in Kong: null is refused (a missing value takes the default). */
  required?: boolean;
  oneOf?: readonly string[];
  between?: readonly [number, number];
  gt?: number;
  /** Kong refuses '' for strings unless the schema sets len_min = 0. */
  allowEmpty?: boolean;
}

interface PluginSchema {
  fields: Readonly<Record<string, FieldRule>>;
  /** The config record's custom_validator: an error message, or undefined when valid. */
  custom?: (config: Record<string, unknown>) => string | undefined;
  /** Entity checks (at_least_one_of, conditional…): messages for `@entity`. */
  entityChecks?: (config: Record<string, unknown>) => string[];
  /** `typedefs.no_consumer`: the plugin cannot be scoped to a consumer. */
  noConsumer?: boolean;
}

const present = (value: unknown) => typeof value === 'string' && value.length > 0;

const REQUEST_TERMINATION: PluginSchema = {
  fields: {
    status_code: { type: 'integer', required: true, default: 503, between: [100, 599] },
    message: { type: 'string' },
    content_type: { type: 'string' },
    body: { type: 'string' },
    echo: { type: 'boolean', required: true, default: false },
    trigger: { type: 'string' },
  },
  custom: (config) => {
    if (present(config.message) && (present(config.content_type) || present(config.body))) return 'message cannot be used with content_type or body';
    if (present(config.content_type) && !present(config.body)) return 'content_type requires a body';
    if (config.echo === true && (present(config.content_type) || present(config.body))) return 'echo cannot be used with content_type and body';
    return undefined;
  },
};

export const RATE_LIMIT_WINDOWS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const;
export type RateLimitWindow = (typeof RATE_LIMIT_WINDOWS)[number];

const RATE_LIMITING: PluginSchema = {
  fields: {
    ...Object.fromEntries(RATE_LIMIT_WINDOWS.map((window) => [window, { type: 'number', gt: 0 } satisfies FieldRule])),
    limit_by: { type: 'string', default: 'consumer', oneOf: ['consumer', 'credential', 'ip', 'service', 'header', 'path'] },
    header_name: { type: 'string' },
    path: { type: 'string' },
    // 'cluster' is refused by DB-less nodes and control planes; the emulator is a DB-backed node.
    policy: { type: 'string', default: 'local', allowEmpty: true, oneOf: ['local', 'cluster', 'redis'] },
    fault_tolerant: { type: 'boolean', required: true, default: true },
    redis_host: { type: 'string' },
    redis_port: { type: 'integer', default: 6379, between: [0, 65535] },
    redis_password: { type: 'string', allowEmpty: true },
    redis_username: { type: 'string' },
    redis_ssl: { type: 'boolean', required: true, default: false },
    redis_ssl_verify: { type: 'boolean', required: true, default: false },
    redis_server_name: { type: 'string' },
    redis_timeout: { type: 'number', default: 2000 },
    redis_database: { type: 'integer', default: 0 },
    hide_client_headers: { type: 'boolean', required: true, default: false },
    error_code: { type: 'number', default: 429, gt: 0 },
    error_message: { type: 'string', default: 'API rate limit exceeded' },
    sync_rate: { type: 'number', required: true, default: -1 },
  },
  custom: (config) => {
    for (const [i, lower] of RATE_LIMIT_WINDOWS.entries()) {
      const low = config[lower];
      if (typeof low !== 'number') continue;
      for (const upper of RATE_LIMIT_WINDOWS.slice(i + 1)) {
        const high = config[upper];
        if (typeof high === 'number' && high < low) return `The limit for ${upper}(${high.toFixed(1)}) cannot be lower than the limit for ${lower}(${low.toFixed(1)})`;
      }
    }
    if (config.policy !== 'redis' && config.sync_rate !== -1) return 'sync_rate can only be used with the redis policy';
    if (config.policy === 'redis' && config.sync_rate !== -1 && (config.sync_rate as number) < 0.02) return 'sync_rate must be greater than 0.02, or -1 to disable';
    return undefined;
  },
  entityChecks: (config) => {
    const errors: string[] = [];
    if (!RATE_LIMIT_WINDOWS.some((window) => config[window] !== undefined && config[window] !== null))
      errors.push(`at least one of these fields must be non-empty: ${RATE_LIMIT_WINDOWS.map((w) => `'config.${w}'`).join(', ')}`);
    // Kong's `conditional` checks put their message on the field; modelled at @entity (unverified wording).
    if (config.policy === 'redis' && !present(config.redis_host)) errors.push("failed conditional validation given value of field 'config.policy'");
    if (config.limit_by === 'header' && !present(config.header_name)) errors.push("failed conditional validation given value of field 'config.limit_by'");
    if (config.limit_by === 'path' && !present(config.path)) errors.push("failed conditional validation given value of field 'config.limit_by'");
    return errors;
  },
};

const KEY_AUTH: PluginSchema = {
  noConsumer: true,
  fields: {
    key_names: { type: 'array', required: true, default: ['apikey'] },
    hide_credentials: { type: 'boolean', required: true, default: false },
    anonymous: { type: 'string' },
    key_in_header: { type: 'boolean', required: true, default: true },
    key_in_query: { type: 'boolean', required: true, default: true },
    key_in_body: { type: 'boolean', required: true, default: false },
    run_on_preflight: { type: 'boolean', required: true, default: true },
  },
};

const ACL: PluginSchema = {
  noConsumer: true,
  fields: { allow: { type: 'array' }, deny: { type: 'array' }, hide_groups_header: { type: 'boolean', required: true, default: false } },
  entityChecks: (config) => {
    const given = ['allow', 'deny'].filter((f) => Array.isArray(config[f]) && (config[f] as unknown[]).length > 0);
    if (given.length === 0) return ["at least one of these fields must be non-empty: 'config.allow', 'config.deny'"];
    if (given.length > 1) return ["exactly one of these fields must be non-empty: 'config.allow', 'config.deny'"];
    return [];
  },
};

/**
 * Schemas by plugin name. `moesif` is a third-party plugin whose schema is not in Kong's source:
 * its config is taken as given (the product never writes it; `doctor` only reads it).
 */
export const PLUGIN_SCHEMAS: Readonly<Record<string, PluginSchema | 'unchecked'>> = {
  'request-termination': REQUEST_TERMINATION,
  'rate-limiting': RATE_LIMITING,
  'key-auth': KEY_AUTH,
  acl: ACL,
  moesif: 'unchecked',
};

/** Top-level fields of a plugin entity (kong/db/schema/entities/plugins.lua); any other is unknown. */
export const PLUGIN_ENTITY_FIELDS = new Set(['id', 'name', 'instance_name', 'created_at', 'updated_at', 'route', 'service', 'consumer', 'config', 'protocols', 'enabled', 'tags']);

function typeError(rule: FieldRule, value: unknown): string | undefined {
  switch (rule.type) {
    case 'string':
      if (typeof value !== 'string') return 'expected a string';
      return value === '' && !rule.allowEmpty ? 'length must be at least 1' : undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'expected a number';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : 'expected an integer';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'expected a boolean';
    case 'array':
      return Array.isArray(value) ? undefined : 'expected an array';
  }
}

/** Kong's validators in its order: one_of, gt, between. */
function ruleError(rule: FieldRule, value: unknown): string | undefined {
  if (value === null) return rule.required ? 'required field missing' : undefined;
  const type = typeError(rule, value);
  if (type) return type;
  if (rule.oneOf && !rule.oneOf.includes(value as string)) return `expected one of: ${rule.oneOf.join(', ')}`;
  if (rule.gt !== undefined && (value as number) <= rule.gt) return `value must be greater than ${rule.gt}`;
  if (rule.between && ((value as number) < rule.between[0] || (value as number) > rule.between[1])) return `value should be between ${rule.between[0]} and ${rule.between[1]}`;
  return undefined;
}

/** Form-encoded writes carry strings; Kong infers numbers and booleans from the schema there. */
function inferred(rule: FieldRule, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if ((rule.type === 'number' || rule.type === 'integer') && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  if (rule.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  if (rule.type === 'array') return [value];
  return value;
}

interface ConfigCheck {
  /** The config with Kong's defaults filled in (what Kong stores and answers). */
  config: Record<string, unknown>;
  /** Field errors for `config` (a record of field errors, or the custom validator's string). */
  configError?: Record<string, string> | string;
  /** Entity-check messages (`@entity`). */
  entityErrors: string[];
}

/** Fills defaults and checks a whole config against its plugin's schema. */
export function checkConfig(schema: PluginSchema, input: Record<string, unknown>, form: boolean): ConfigCheck {
  const config: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [name, value] of Object.entries(input)) {
    const rule = schema.fields[name];
    if (!rule) errors[name] = 'unknown field';
    else config[name] = form ? inferred(rule, value) : value;
  }
  for (const [name, rule] of Object.entries(schema.fields)) {
    if (config[name] === undefined) config[name] = rule.default === undefined ? null : structuredClone(rule.default);
    const error = name in errors ? undefined : ruleError(rule, config[name]);
    if (error) errors[name] = error;
  }
  if (Object.keys(errors).length > 0) return { config, configError: errors, entityErrors: [] };
  const custom = schema.custom?.(config);
  return { config, ...(custom ? { configError: custom } : {}), entityErrors: schema.entityChecks?.(config) ?? [] };
}
