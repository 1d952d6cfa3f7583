/**
 * The Kong emulator: four Hono apps (Admin API, portal pages, portal API, proxy) over one shared
 * in-memory state. `createKongEmulator` builds them without listening (for in-process use);
 * `startKongEmulator` serves them on 127.0.0.1.
 */
import type { Hono } from 'hono';
import { listen, type RunningService } from '../running-service.ts';
import { createAdminApp, type KonnectControlPlane } from './admin-api.ts';
import { deliverDeveloperEvents } from './event-hooks.ts';
import { createGatewayEntities, type GatewayEntities } from './gateway-entities.ts';
import { KongEmulatorState } from './kong-state.ts';
import { KONG_DB_UPDATE_FREQUENCY_MS } from './propagation.ts';
import { createPortalApiApp } from './portal-api.ts';
import { createPortalPagesApp } from './portal-pages.ts';
import { createProxyApp } from './proxy.ts';

interface KongEmulatorPorts {
  admin?: number;
  pages?: number;
  portalApi?: number;
  proxy?: number;
}

interface KongEmulatorOptions {
  /** 0 (the default) picks a free port. */
  ports?: KongEmulatorPorts;
  /** RBAC: when set, the Admin API requires `Kong-Admin-Token: <adminToken>`. */
  adminToken?: string | undefined;
  /** Moesif Collector base URL (e.g. http://127.0.0.1:9500); the proxy reports calls there. */
  moesifUrl?: string | undefined;
  moesifApplicationId?: string | undefined;
  /** Workspaces to create besides `default`. */
  workspaces?: string[];
  /** Origins allowed to call the portal API with credentials, besides the pages origin. */
  portalCorsOrigins?: string[];
  /** Also answer as a Konnect control plane (`/v2/control-planes/{id}/core-entities`, bearer token). */
  konnect?: KonnectControlPlane;
  /**
   * How long a plugin or key-auth change takes to reach the proxy, in ms. Default 5000, Kong's
   * `db_update_frequency`; tests that test other things pass 0, tests of propagation a real delay.
   */
  propagationMs?: number;
}

export interface KongEmulatorApps {
  state: KongEmulatorState;
  gateway: GatewayEntities;
  admin: Hono;
  pages: Hono;
  portalApi: Hono;
  proxy: Hono;
}

export interface RunningKongEmulator {
  adminUrl: string;
  /** Portal pages (Kong's 8003), e.g. http://127.0.0.1:8003 — the portal is at `${portalUrl}/default`. */
  portalUrl: string;
  /** Portal API (Kong's 8004), without the workspace. */
  portalApiUrl: string;
  proxyUrl: string;
  state: KongEmulatorState;
  /** Waits for in-flight webhooks and Moesif posts. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export function createKongEmulator(options: KongEmulatorOptions = {}): KongEmulatorApps {
  const state = new KongEmulatorState(options.workspaces ?? [], 0);
  const gateway = createGatewayEntities({ moesifUrl: options.moesifUrl, moesifApplicationId: options.moesifApplicationId });
  deliverDeveloperEvents(state);
  // The gateway's plugins live in the default workspace, next to the consumer-scoped ones; they
  // were configured before the gateway started, so the proxy has them from the start.
  for (const plugin of gateway.plugins) state.putPlugin('default', plugin);
  state.proxyView.setDelay(options.propagationMs ?? KONG_DB_UPDATE_FREQUENCY_MS);
  return {
    state,
    gateway,
    admin: createAdminApp(state, { adminToken: options.adminToken, gateway, konnect: options.konnect }),
    pages: createPortalPagesApp(state),
    portalApi: createPortalApiApp(state, { corsOrigins: options.portalCorsOrigins ?? [] }),
    proxy: createProxyApp(state, { gateway, moesifUrl: options.moesifUrl, moesifApplicationId: options.moesifApplicationId }),
  };
}

export async function startKongEmulator(options: KongEmulatorOptions = {}): Promise<RunningKongEmulator> {
  const apps = createKongEmulator(options);
  const ports = options.ports ?? {};
  const started: RunningService[] = [];
  try {
    const admin = await listen('kong admin', apps.admin.fetch, ports.admin ?? 0);
    started.push(admin);
    const pages = await listen('kong portal pages', apps.pages.fetch, ports.pages ?? 0);
    started.push(pages);
    const portalApi = await listen('kong portal api', apps.portalApi.fetch, ports.portalApi ?? 0);
    started.push(portalApi);
    const proxy = await listen('kong proxy', apps.proxy.fetch, ports.proxy ?? 0);
    started.push(proxy);
    Object.assign(apps.state.urls, { admin: admin.url, pages: pages.url, portalApi: portalApi.url, proxy: proxy.url });
    return {
      adminUrl: admin.url,
      portalUrl: pages.url,
      portalApiUrl: portalApi.url,
      proxyUrl: proxy.url,
      state: apps.state,
      settle: () => apps.state.settle(),
      close: async () => {
        await apps.state.settle();
        apps.state.proxyView.close();
        await Promise.all(started.map((s) => s.close()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.close()));
    throw error;
  }
}
