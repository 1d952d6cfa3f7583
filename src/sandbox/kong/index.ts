/** Public surface of the Kong emulator. */
export { createKongEmulator, startKongEmulator, type KongEmulatorApps, type RunningKongEmulator } from './kong-emulator.ts';
export { seedStandInTheme, FULL_NAME_FIELD, PLAN_FIELD } from './seed-theme.ts';
export { kongSignature } from './event-hooks.ts';
export { SESSION_COOKIE } from './portal-api.ts';
export { KONG_DB_UPDATE_FREQUENCY_MS } from './propagation.ts';
