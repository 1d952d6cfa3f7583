/**
 * Every error code the product shows a person, with where it appears and what it means.
 * docs/error-codes.md is generated from this list (npm run docs), and a test fails when a code
 * thrown or answered anywhere in src/ is missing here, or when a code here is no longer used.
 * The codes themselves are defined where they are raised (ProvisionError, KongError, ...).
 */
export type ErrorSurface = 'http' | 'signup-page' | 'command' | 'kong' | 'sync' | 'build';

interface ErrorCodeEntry {
  code: string;
  surface: ErrorSurface;
  /** The HTTP status an HTTP or page error answers with. */
  status?: number;
  meaning: string;
}

export const ERROR_SURFACES: Record<ErrorSurface, string> = {
  http: 'Provisioner HTTP answers: `{"error": {"code", "message"}}`',
  'signup-page': 'Hosted signup pages (SIGNUP_MODE=hosted): shown as a page, logged with the code',
  command: 'Commands: printed as `error [code]: message` with a `fix:` line',
  kong: 'Kong Admin API failures (KongError), in every command and in the provisioner log',
  sync: '`sync` refusals and failures (each maps to an exit code)',
  build: '`build` and `build --check`',
};

export const ERROR_CODES: readonly ErrorCodeEntry[] = [
  { code: 'invalid_json', surface: 'http', status: 400, meaning: 'the body is not valid JSON (POST /provision, POST /kong/events)' },
  { code: 'invalid_email', surface: 'http', status: 400, meaning: 'POST /provision without a valid `email`' },
  { code: 'invalid_proof', surface: 'http', status: 400, meaning: 'POST /provision with a `developer_id` that is not a UUID' },
  { code: 'invalid_spend_cap', surface: 'http', status: 400, meaning: 'POST /billing/spend-cap with a `spend_cap` that is not a whole number of cents (1 or more) or null; nothing was changed' },
  { code: 'billing_not_set_up', surface: 'http', status: 409, meaning: 'POST /billing/spend-cap for a developer without a Stripe customer yet; retry after provisioning' },
  { code: 'invalid_event', surface: 'http', status: 400, meaning: 'POST /kong/events with a body that is not a Kong event hook payload' },
  { code: 'invalid_signature', surface: 'http', status: 400, meaning: 'a bad or missing `Stripe-Signature` (400, /stripe/webhooks) or `x-kong-signature` (401, /kong/events); nothing done' },
  { code: 'bad_request', surface: 'http', status: 400, meaning: 'a request the web framework refused before a route saw it' },
  { code: 'origin_not_allowed', surface: 'http', status: 403, meaning: 'browser origin not in `PORTAL_ORIGINS`' },
  { code: 'not_found', surface: 'http', status: 404, meaning: 'no such route' },
  { code: 'event_hook_not_configured', surface: 'http', status: 404, meaning: 'POST /kong/events while `KONG_EVENT_HOOK_SECRET` is not set' },
  { code: 'webhook_not_configured', surface: 'http', status: 404, meaning: 'POST /stripe/webhooks while `STRIPE_WEBHOOK_SECRET` is not set' },
  { code: 'developer_not_found', surface: 'http', status: 404, meaning: 'no developer with this email in the workspace (internal: the browser gets 202 `accepted`)' },
  { code: 'developer_not_provisionable', surface: 'http', status: 409, meaning: 'the developer\'s status is not in `PROVISION_STATUSES` (the browser gets `awaiting_approval`)' },
  { code: 'payload_too_large', surface: 'http', status: 413, meaning: 'body over the route\'s limit (8 KB for /provision)' },
  { code: 'unsupported_media_type', surface: 'http', status: 415, meaning: 'body not JSON' },
  { code: 'plan_not_found', surface: 'http', status: 422, meaning: 'the developer\'s plan is unknown and the plans file has no default plan (reconcile reports it per developer)' },
  { code: 'rate_limited', surface: 'http', status: 429, meaning: 'over the per-address limit (`PROVISION_RATE_LIMIT_PER_MINUTE`)' },
  { code: 'internal_error', surface: 'http', status: 500, meaning: 'an unexpected failure; the provisioner log has the details' },
  { code: 'plan_price_not_found', surface: 'http', status: 500, meaning: 'Stripe has no active price for a plan: run `npm run stripe:setup`' },
  { code: 'webhook_failed', surface: 'http', status: 500, meaning: 'a Stripe event could not be applied yet (Stripe delivers it again)' },
  { code: 'stripe_unavailable', surface: 'http', status: 502, meaning: 'Stripe could not be reached or failed after retries (network, 5xx, 429, lock_timeout); a command that cannot reach Stripe at all stops with it too (`STRIPE_API_BASE`, network)' },
  { code: 'stripe_unauthorized', surface: 'http', status: 502, meaning: 'Stripe refused `STRIPE_SECRET_KEY` (also printed by the commands)' },
  { code: 'stripe_error', surface: 'http', status: 502, meaning: 'Stripe refused a request for another reason (the message names it)' },
  { code: 'kong_unavailable', surface: 'http', status: 502, meaning: 'Kong failed while the developer was read' },
  { code: 'not_ready', surface: 'http', status: 503, meaning: '`/readyz` with `READYZ_TOKEN`: a dependency check failed (the message names it)' },
  { code: 'shutting_down', surface: 'http', status: 503, meaning: 'SIGTERM received: in-flight requests finish, new ones go elsewhere' },

  { code: 'not_started', surface: 'signup-page', status: 400, meaning: 'the link names a signup that was not started, or an account that no longer exists' },
  { code: 'subscription_ended', surface: 'signup-page', status: 402, meaning: 'the email\'s subscription has ended; only the API provider can start a new one' },
  { code: 'checkout_incomplete', surface: 'signup-page', status: 402, meaning: 'back from Checkout but Stripe has no payment method yet' },
  { code: 'email_taken', surface: 'signup-page', status: 409, meaning: 'the email is a Kong consumer this signup did not create' },
  { code: 'link_used', surface: 'signup-page', status: 410, meaning: 'the link was already used (the key was shown, or already replaced)' },
  { code: 'token_malformed', surface: 'signup-page', meaning: 'the link or form token is not one the provisioner signs' },
  { code: 'token_forged', surface: 'signup-page', meaning: 'the link or form token\'s signature does not match `SIGNUP_SECRET`' },
  { code: 'token_expired', surface: 'signup-page', meaning: 'the link is older than `SIGNUP_LINK_TTL_MINUTES`' },

  { code: 'invalid_setting', surface: 'command', meaning: 'a flag or environment variable is missing or malformed; the message names it (exit 2)' },
  { code: 'invalid_plans_file', surface: 'command', meaning: 'the plans file is unreadable or invalid; the message names the JSON path (exit 2)' },
  { code: 'event_hook_secret_too_short', surface: 'command', meaning: '`KONG_EVENT_HOOK_SECRET` is under 16 characters: the provisioner does not start' },
  { code: 'optional_package_missing', surface: 'command', meaning: 'the command (`start`) needs a sandbox-only package the install left out (`--omit=optional`): install with `npm ci --omit=dev`' },
  { code: 'package_root_missing', surface: 'command', meaning: 'no `package.json` named `kong-portal-monetization` above the running code: run the CLI from the installed package, do not copy `dist/` out of it' },
  { code: 'moesif_unavailable', surface: 'command', meaning: 'Moesif did not accept a user or company (reconcile: run it again once Moesif answers)' },
  { code: 'moesif_unauthorized', surface: 'command', meaning: 'Moesif rejected `MOESIF_APPLICATION_ID`' },
  { code: 'moesif_management_unauthorized', surface: 'command', meaning: 'Moesif\'s Management API refused `MOESIF_MANAGEMENT_TOKEN` (401/403): create a token with scope `read:events`' },
  { code: 'moesif_management_unavailable', surface: 'command', meaning: 'Moesif\'s Management API did not answer the usage query (network, 429, 5xx): the reporter tries again on its next run; nothing is sent to Stripe for that window meanwhile' },
  { code: 'moesif_redirect', surface: 'command', meaning: 'the Moesif API answered with a redirect; it is refused (never retried) so the application id is not sent elsewhere: check `MOESIF_API_BASE`' },
  { code: 'aws_access_denied', surface: 'command', meaning: 'GATEWAY=aws: AWS refused an API Gateway call to these credentials (IAM: apigateway actions on API keys, usage plans, tags)' },
  { code: 'aws_limit_too_large', surface: 'command', meaning: "aws-setup: a plan's rate limit is larger than an AWS usage plan's throttle can hold; nothing was written" },
  { code: 'aws_error', surface: 'command', meaning: 'GATEWAY=aws: an API Gateway call failed after the AWS SDK\'s retries; the message names the call and AWS\'s exception' },

  { code: 'kong_unreachable', surface: 'kong', meaning: 'cannot reach the Admin API at `KONG_ADMIN_URL`' },
  { code: 'kong_redirect', surface: 'kong', meaning: 'the Admin API answered with a redirect; it is refused so `Kong-Admin-Token` never reaches another origin: point `KONG_ADMIN_URL` at the final address' },
  { code: 'kong_tls', surface: 'kong', meaning: 'TLS failed (a self-signed certificate: `sync --insecure`)' },
  { code: 'kong_unauthorized', surface: 'kong', meaning: 'Kong answered 401/403: `KONG_ADMIN_TOKEN` or its RBAC role' },
  { code: 'kong_workspace_not_found', surface: 'kong', meaning: 'the workspace does not exist' },
  { code: 'kong_portal_disabled', surface: 'kong', meaning: 'the Dev Portal is not enabled on the workspace' },
  { code: 'kong_not_found', surface: 'kong', meaning: 'Kong answered 404' },
  { code: 'kong_conflict', surface: 'kong', meaning: 'Kong answered 409' },
  { code: 'kong_bad_request', surface: 'kong', meaning: 'Kong answered 400 (the message quotes Kong\'s)' },
  { code: 'kong_http', surface: 'kong', meaning: 'Kong answered another error status' },

  { code: 'sync_no_register', surface: 'sync', meaning: '`kong.auth.js` has no `Kong.Auth.register`: nothing to wrap (exit 8)' },
  { code: 'sync_markers_invalid', surface: 'sync', meaning: 'the marked block is unbalanced or duplicated (exit 8)' },
  { code: 'sync_no_kong_auth_script', surface: 'sync', meaning: '`required-scripts.html` does not load `kong.auth.js` (exit 8)' },
  { code: 'sync_theme_missing', surface: 'sync', meaning: 'a theme file to patch does not exist in the workspace (exit 8)' },
  { code: 'sync_portal_conf_invalid', surface: 'sync', meaning: '`portal.conf.yaml` is not valid YAML or names an invalid theme (exit 8)' },
  { code: 'sync_meta_fields_invalid', surface: 'sync', meaning: 'the workspace\'s developer meta fields are not JSON (`--configure-workspace`)' },
  { code: 'sync_verify_failed', surface: 'sync', meaning: 'a written file did not read back as written (exit 9)' },
  { code: 'secret_in_output', surface: 'sync', meaning: 'a file bound for the portal holds a secret-like string; nothing pushed (exit 10; `build` refuses too)' },
  { code: 'sync_bundle_missing', surface: 'sync', meaning: '`theme/` has no built bundle: run `npm run build` (exit 11)' },
  { code: 'sync_bundle_invalid', surface: 'sync', meaning: 'the built bundle does not match its manifest: run `npm run build` (exit 11)' },

  { code: 'build_failed', surface: 'build', meaning: 'esbuild produced no output' },
  { code: 'bundle_too_large', surface: 'build', meaning: '`monetization.js` is over its gzip budget (7 KB)' },
  { code: 'node_build_dev_import', surface: 'build', meaning: 'the shipped Node code imports `bench/`, `e2e/`, a test, a fixture or a package outside `dependencies` and `optionalDependencies`' },
  { code: 'node_build_sandbox_import', surface: 'build', meaning: 'a production command (provisioner, sync, reconcile, doctor, stripe-setup) loads a sandbox-only package or a build tool (esbuild, tsx)' },
];
