import type { SandboxPorts } from '../../src/sandbox/start-sandbox.ts';

/** Every sandbox service on a free port: benches never collide with `npm start` or each other. */
export const FREE_PORTS: SandboxPorts = { kongAdmin: 0, kongPages: 0, kongPortalApi: 0, kongProxy: 0, stripe: 0, moesif: 0, provisioner: 0 };
