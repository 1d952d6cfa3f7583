/**
 * A KongAdminClient that dies like a killed process: after its Nth write (any non-GET request)
 * reaches Kong, the call throws and every later call throws too. The write itself landed; the
 * caller never learns of it, never reads it back, never makes the next one.
 */
import { KongAdminClient, type KongAdminClientOptions, type RequestOptions } from '../kong/kong-admin-client.ts';

export class SimulatedCrash extends Error {
  constructor(writes: number) {
    super(`simulated crash after write ${writes}`);
    this.name = 'SimulatedCrash';
  }
}

type Method = Parameters<KongAdminClient['request']>[0];

export class CrashingKongClient extends KongAdminClient {
  #writes = 0;
  #crashed = false;
  readonly #crashAfterWrites: number;

  constructor(options: KongAdminClientOptions, crashAfterWrites: number) {
    super(options);
    this.#crashAfterWrites = crashAfterWrites;
  }

  get writes(): number {
    return this.#writes;
  }

  override async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<{ status: number; body: T }> {
    if (this.#crashed) throw new SimulatedCrash(this.#writes);
    const result = await super.request<T>(method, path, options);
    if (method !== 'GET' && ++this.#writes >= this.#crashAfterWrites) {
      this.#crashed = true;
      throw new SimulatedCrash(this.#writes);
    }
    return result;
  }
}
