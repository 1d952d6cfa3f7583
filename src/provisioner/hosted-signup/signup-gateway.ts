/**
 * The hosted signup's gateway seam: what the signup and "My account" need from the gateway that
 * holds developers' keys. Kong: the KongConsumers client itself (a consumer and its key-auth
 * credential). AWS API Gateway: gateways/aws/aws-gateway.ts (API keys grouped by developer id: a
 * key is both the credential and the caller's identity at Moesif). Billing reaches either through a
 * ConsumerDirectory.
 */
import type { KongConsumer, KongConsumers } from '../../kong/kong-consumers.ts';
import { createConsumerDirectory, type ConsumerDirectory } from './consumer-directory.ts';

export interface SignupConsumers extends Pick<KongConsumers, 'get' | 'create' | 'listKeys' | 'createKey' | 'deleteKey'> {
  /**
   * After each provisioning of a signup: the gateway makes the account whole (AWS: the key in its
   * usage plan, which repairs a crash between CreateApiKey and CreateUsagePlanKey, and the Stripe
   * customer id as the key's customerId). Kong: nothing to do.
   */
  completeAccount?(consumerId: string, customerId: string): Promise<void>;
  /**
   * A key replacement's first step, for gateways whose key is the caller's identity at Moesif (AWS:
   * the user is the API key id): the new key is made (not shown) and the consumer returned as it
   * will be with it (custom_id = the new key's id), so provisioning writes its Moesif user before
   * anyone can call with it; createKey then shows that key and deleteKey removes the old one.
   * Absent (Kong): createKey adds a credential to the consumer, whose identity does not change.
   */
  stageKey?(consumerId: string): Promise<KongConsumer>;
}

export interface SignupGateway extends SignupConsumers {
  readonly kind: 'kong' | 'aws';
  /** The request header the gateway reads the key from (the key page's example). */
  readonly keyHeader: string;
  directory(): ConsumerDirectory;
}

/** Kong (3.5+, OSS, Konnect): a consumer and its key-auth credential, as the hosted signup always did. */
export function kongSignupGateway(consumers: KongConsumers): SignupGateway {
  const directory = createConsumerDirectory(consumers);
  return {
    kind: 'kong',
    keyHeader: 'apikey',
    get: (idOrUsername) => consumers.get(idOrUsername),
    create: (input) => consumers.create(input),
    listKeys: (consumerId) => consumers.listKeys(consumerId),
    createKey: (consumerId, tags) => consumers.createKey(consumerId, tags),
    deleteKey: (consumerId, credentialId) => consumers.deleteKey(consumerId, credentialId),
    directory: () => directory,
  };
}
