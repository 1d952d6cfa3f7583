/**
 * What the hosted-signup journeys (Kong and AWS) share: a sandbox on free ports with a mailbox,
 * step screenshots attached to the report, and the way from the signup form through the emailed
 * link and Stripe Checkout with 4242 to the page that shows the key.
 */
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { startMailCatcher, type RunningMailCatcher } from '../src/sandbox/mail/mail-catcher.ts';
import { FREE_PORTS, startSandbox, type Sandbox, type SandboxOptions } from '../src/dev/start-sandbox.ts';

interface HostedJourney {
  sandbox: Sandbox;
  mail: RunningMailCatcher;
}

/** Starts the sandbox in hosted mode before the file's tests and stops it after; read the fields inside a test. */
export function useHostedSandbox(hosted: Omit<NonNullable<SandboxOptions['hosted']>, 'smtpUrl'>, options: Omit<SandboxOptions, 'ports' | 'hosted'> = {}): HostedJourney {
  const journey = {} as HostedJourney;
  test.beforeAll(async () => {
    journey.mail = await startMailCatcher();
    journey.sandbox = await startSandbox({ ports: FREE_PORTS, eventHook: false, ...options, hosted: { smtpUrl: journey.mail.smtpUrl, ...hosted } });
  });
  test.afterAll(async () => {
    await journey.sandbox?.close();
    await journey.mail?.close();
  });
  return journey;
}

export async function step(page: Page, info: TestInfo, name: string): Promise<void> {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
}

/** Screenshot names of the steps; a step without a name is not photographed. */
interface JourneySteps {
  form: string;
  mailbox?: string;
  checkout: string;
}

/** Signs up as Grace Hopper on Growth, opens the emailed link and saves the 4242 card, up to the key page. */
export async function signUpThroughCheckout(page: Page, info: TestInfo, journey: HostedJourney, email: string, steps: JourneySteps): Promise<void> {
  await page.goto(`${journey.sandbox.provisioner!.url}/signup`);
  await page.getByLabel('Your name').fill('Grace Hopper');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/Growth/).check();
  await step(page, info, steps.form);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();

  await journey.mail.waitFor(email);
  await page.goto(journey.mail.mailboxUrl);
  if (steps.mailbox) await step(page, info, steps.mailbox);
  await page.getByRole('link', { name: /signup\/verify/ }).first().click();
  await expect(page.getByText(email)).toBeVisible();
  await page.getByRole('button', { name: 'Continue' }).click();

  await expect(page.getByRole('button', { name: 'Save card' })).toBeVisible();
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry (MM / YY)').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await step(page, info, steps.checkout);
  await page.getByRole('button', { name: 'Save card' }).click();

  await expect(page.getByRole('heading', { name: 'Your API key' })).toBeVisible();
}
