/** Public surface of the Kong emulator. */
export { createKongEmulator, startKongEmulator, type KongEmulatorApps, type KongEmulatorOptions, type KongEmulatorPorts, type RunningKongEmulator } from './kong-emulator.ts';
export { KongEmulatorState, DEFAULT_META_FIELDS, type AddDeveloperInput, type HookDelivery, type MoesifDelivery, type MetaFieldDefinition } from './kong-state.ts';
export { seedStandInTheme, standInThemeFiles, STAND_IN_THEME_DIR, FULL_NAME_FIELD, PLAN_FIELD, type SeedThemeOptions } from './seed-theme.ts';
export { kongSignature } from './event-hooks.ts';
export { renderTemplate, TemplateError } from './template.ts';
export { SESSION_COOKIE } from './portal-api.ts';
export { TEST_SERVICE_PATH } from './gateway-entities.ts';
export { KONG_DB_UPDATE_FREQUENCY_MS, ProxyView } from './propagation.ts';
