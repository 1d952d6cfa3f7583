/**
 * The gateway side of the sandbox as the Admin API lists it: one service `test-service`, its route
 * `/test-service` guarded by key-auth, and a global Moesif plugin. Enough for `doctor` to check the
 * setup and for the proxy to know its key names.
 */
import { randomUUID } from 'node:crypto';
import type { PluginInput } from './kong-state.ts';
import { nowSeconds } from './kong-state.ts';

export interface GatewayEntities {
  services: Record<string, unknown>[];
  routes: Record<string, unknown>[];
  plugins: PluginInput[];
  /** key-auth's key_names on the test route. */
  keyNames: string[];
}

export const TEST_SERVICE_PATH = '/test-service';

export function createGatewayEntities(options: { moesifUrl?: string | undefined; moesifApplicationId?: string | undefined }): GatewayEntities {
  const now = nowSeconds();
  const serviceId = randomUUID();
  const routeId = randomUUID();
  const keyNames = ['apikey'];
  const service = {
    id: serviceId,
    name: 'test-service',
    protocol: 'http',
    host: 'echo.sandbox.internal',
    port: 80,
    path: '/',
    retries: 5,
    connect_timeout: 60000,
    read_timeout: 60000,
    write_timeout: 60000,
    enabled: true,
    tags: null,
    created_at: now,
    updated_at: now,
  };
  const route = {
    id: routeId,
    name: 'test-service',
    paths: [TEST_SERVICE_PATH],
    methods: null,
    protocols: ['http', 'https'],
    strip_path: true,
    preserve_host: false,
    service: { id: serviceId },
    tags: null,
    created_at: now,
    updated_at: now,
  };
  const plugins: PluginInput[] = [
    {
      id: randomUUID(),
      name: 'key-auth',
      enabled: true,
      route: { id: routeId },
      service: null,
      consumer: null,
      tags: null,
      config: { key_names: keyNames, key_in_header: true, key_in_query: true, key_in_body: false, hide_credentials: false, anonymous: null, run_on_preflight: true },
    },
    {
      id: randomUUID(),
      name: 'moesif',
      enabled: true,
      route: null,
      service: null,
      consumer: null,
      tags: null,
      config: {
        application_id: options.moesifApplicationId ?? null,
        api_endpoint: options.moesifUrl ?? 'https://api.moesif.net',
        user_id_header: null,
        company_id_header: null,
        batch_size: 200,
        disable_capture_request_body: false,
        disable_capture_response_body: false,
      },
    },
  ];
  return { services: [service], routes: [route], plugins, keyNames };
}
