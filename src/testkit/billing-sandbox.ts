/**
 * The whole sandbox for billing tests, with the moves those tests make: sign a developer up with
 * the proof, let webhooks and Kong events settle, call the API through the proxy, add a card, let
 * days pass on the Stripe emulator's clock, report usage.
 */
import Stripe from 'stripe';
import { FREE_PORTS, SANDBOX_STRIPE_KEY, startSandbox, type Sandbox, type SandboxOptions } from '../dev/start-sandbox.ts';
import { stripeClientOptions } from '../sandbox/stripe/stripe-emulator.ts';

const DAY = 86_400;

export interface BillingSandbox {
  sandbox: Sandbox;
  stripe: Stripe;
  /** A developer approved in Kong, with a key, provisioned by the page's proven call. */
  signUp(plan: string, prefix?: string): Promise<SignedUp>;
  settle(): Promise<void>;
  callStatus(key: string): Promise<number>;
  addCard(customerId: string, token: string): Promise<void>;
  advanceDays(days: number): Promise<void>;
  reportUsage(): Promise<void>;
  close(): Promise<void>;
}

export interface SignedUp {
  email: string;
  key: string;
  developer: { id: string; email: string };
  answer: { checkout_url?: string; billing?: { access: string; reason: string; message: string } };
  customer: Stripe.Customer;
}

let sequence = 0;

export async function startBillingSandbox(options: Omit<SandboxOptions, 'ports'> = {}): Promise<BillingSandbox> {
  // Kong changes reach the proxy at once here (propagation is tested in the Kong emulator's tests).
  const sandbox = await startSandbox({ kongPropagationMs: 0, ...options, ports: FREE_PORTS });
  const stripe = new Stripe(SANDBOX_STRIPE_KEY, { ...stripeClientOptions(sandbox.stripe!), maxNetworkRetries: 0 });

  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await sandbox.kong!.settle();
      await sandbox.stripe!.webhooks.idle();
    }
  };

  return {
    sandbox,
    stripe,
    settle,
    async signUp(plan, prefix = 'payer') {
      const n = ++sequence;
      const email = `${prefix}${n}@example.com`;
      const key = `key-${prefix}-${n}-${Date.now()}`;
      const developer = sandbox.kong!.state.addDeveloper('default', { email, status: 0, meta: { full_name: `${prefix} ${n}`, plan }, key });
      const response = await fetch(`${sandbox.provisioner!.url}/provision`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, developer_id: developer.id }),
      });
      if (response.status !== 200) throw new Error(`signup answered ${response.status}`);
      const answer = (await response.json()) as SignedUp['answer'];
      await settle();
      const customer = (await stripe.customers.list({ email })).data[0] as Stripe.Customer;
      return { email, key, developer, answer, customer };
    },
    async callStatus(key) {
      const response = await fetch(`${sandbox.kong!.proxyUrl}/test-service/x`, { headers: { apikey: key } });
      await response.arrayBuffer();
      return response.status;
    },
    async addCard(customerId, token) {
      const method = await stripe.paymentMethods.attach(token, { customer: customerId });
      await stripe.customers.update(customerId, { invoice_settings: { default_payment_method: method.id } });
      await settle();
    },
    async advanceDays(days) {
      const response = await fetch(`${sandbox.stripe!.url}/_emulator/time/advance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seconds: Math.round(days * DAY) }),
      });
      if (response.status !== 200) throw new Error(`advancing the Stripe clock answered ${response.status}`);
      await settle();
    },
    async reportUsage() {
      await sandbox.reportUsage();
    },
    close: () => sandbox.close(),
  };
}
