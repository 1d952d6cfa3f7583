/**
 * Entry of the portal bundle (built to themes/base/assets/js/third-party/monetization.js).
 * Loaded by required-scripts.html after jQuery and before Kong's scripts; the register-hook block
 * at the end of kong.auth.js then calls `PortalMonetization.wrapRegister(Kong.Auth)`.
 */
import { findDashboard, showBillingPanel } from './billing-panel.ts';
import { createCheckoutAfterLogin } from './checkout-after-login.ts';
import { parseConfig, type BrowserConfig } from './config.ts';
import { showCarriedNotice, findRegisterForm } from './page-ui.ts';
import { fetchPlans, renderPlanPicker } from './plan-picker.ts';
import { provision } from './provision-client.ts';
import { createWrapRegister } from './register-wrapper.ts';

declare const __BUNDLE_VERSION__: string;

interface PortalMonetizationApi {
  version: string;
  wrapRegister(auth: unknown): boolean;
}

declare global {
  interface Window {
    PortalMonetization?: PortalMonetizationApi;
    PortalMonetizationConfig?: unknown;
  }
}

function warn(message: string): void {
  if (window.console) console.warn(message);
}

let configRead = false;
let config: BrowserConfig | undefined;

/** Read once, on first use, so the page warns at most once about a bad config. */
function pageConfig(): BrowserConfig | undefined {
  if (!configRead) {
    configRead = true;
    const parsed = parseConfig(window.PortalMonetizationConfig, window.location.href);
    if (parsed.ok) config = parsed.config;
    else warn(`kong-portal-monetization: ${parsed.problem}. Signup works as without the bundle.`);
  }
  return config;
}

async function enhanceRegisterForm(): Promise<void> {
  const current = pageConfig();
  const form = findRegisterForm(document);
  if (!current?.planField || !form) return;
  try {
    renderPlanPicker(form, await fetchPlans(current, (input, init) => window.fetch(input, init)));
  } catch (error) {
    warn(`kong-portal-monetization: no plan picker: ${String(error)}`);
  }
}

/** The dashboard's billing panel, for a logged-in developer (Kong.getApiUrl() says where Kong's portal API is). */
async function enhanceDashboard(): Promise<void> {
  const current = pageConfig();
  const kong = (window as { Kong?: { getApiUrl?: () => unknown } }).Kong;
  const apiUrl = typeof kong?.getApiUrl === 'function' ? kong.getApiUrl() : undefined;
  if (!current || typeof apiUrl !== 'string' || !findDashboard(document)) return;
  try {
    await showBillingPanel({ document, config: current, apiUrl, fetch: (input, init) => window.fetch(input, init), provision });
  } catch (error) {
    warn(`kong-portal-monetization: no billing panel: ${String(error)}`);
  }
}

function whenReady(task: () => void): void {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', task);
  else task();
}

// Loaded twice (two script tags)? Keep the first instance: it owns the in-flight bookkeeping.
if (!window.PortalMonetization) {
  window.PortalMonetization = {
    version: __BUNDLE_VERSION__,
    wrapRegister: createWrapRegister({
      document,
      config: pageConfig,
      provision: (c, email, developerId) => provision(c, email, developerId),
      warn,
      checkout: createCheckoutAfterLogin((url) => window.location.assign(url)),
    }),
  };
  whenReady(() => {
    showCarriedNotice(document);
    void enhanceRegisterForm();
    void enhanceDashboard();
  });
}
