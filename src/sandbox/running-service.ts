/**
 * The sandbox's services (emulators, stand-in servers) start with `listen`, which the provisioner
 * shares: it lives in src/shared/http-listen.ts and is re-exported here for the sandbox's importers.
 */
export { listen, type FetchHandler, type RunningService } from '../shared/http-listen.ts';
