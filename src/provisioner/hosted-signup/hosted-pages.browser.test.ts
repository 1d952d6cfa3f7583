/**
 * The hosted pages' layout in a real Chromium at phone width: the key page's curl example keeps
 * the URL on one line (no "ht/tp://" wrap), and the sandbox mailbox is styled and never scrolls
 * sideways, even with a long link in a mail.
 */
import nodemailer from 'nodemailer';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, findChromium } from '../../../e2e/chromium.ts';
import { startMailCatcher, type RunningMailCatcher } from '../../sandbox/mail/mail-catcher.ts';
import { accountPage, keyPage, type Branding } from './signup-pages.ts';

const executablePath = findChromium();
const brand: Branding = { productName: 'Sandbox API', logoUrl: undefined, accentColor: '#1f6feb', termsUrl: undefined };
const API_URL = 'http://127.0.0.1:18000/a-rather-long-service-path/with/several/segments/v1/credit-score';

describe.skipIf(!executablePath)('hosted pages in Chromium (375 px wide)', () => {
  let browser: Browser;
  let mail: RunningMailCatcher;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    mail = await startMailCatcher();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await mail?.close();
  });

  async function phone(): Promise<Page> {
    return (await browser.newContext({ viewport: { width: 375, height: 700 } })).newPage();
  }

  /** How many rendered lines the first occurrence of `text` inside `selector` spans. */
  const linesOf = (page: Page, selector: string, text: string) =>
    page.evaluate(
      ([sel, wanted]) => {
        const node = document.querySelector(sel as string)?.firstChild?.firstChild ?? document.querySelector(sel as string)?.firstChild;
        const content = node?.textContent ?? '';
        const start = content.indexOf(wanted as string);
        if (!node || start < 0) return -1;
        const range = document.createRange();
        range.setStart(node, start);
        range.setEnd(node, start + (wanted as string).length);
        return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
      },
      [selector, text],
    );

  it('key page: the curl example never breaks the URL, and the page does not scroll sideways', async () => {
    const page = await phone();
    await page.setContent(keyPage(brand, 'n', '0123456789abcdef0123456789abcdef', API_URL, 'http://127.0.0.1:8787/signup/account'));
    expect(await linesOf(page, 'pre', API_URL)).toBe(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  });

  it('account page: the billing banner and the plan name are shown', async () => {
    const page = await phone();
    await page.setContent(
      accountPage(brand, 'n', 't', { email: 'dev@example.com', planName: 'Growth', billing: { access: 'refused', message: 'Add a payment method to start using the API.' } }),
    );
    expect(await page.textContent('main > p')).toContain('on the Growth plan');
    const banner = page.locator('[role=alert]');
    expect(await banner.textContent()).toBe('Add a payment method to start using the API.');
    expect(await banner.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(253, 236, 234)');
  });

  it('mailbox: styled, long links wrap, no sideways scroll', async () => {
    const transport = nodemailer.createTransport(mail.smtpUrl);
    const link = `http://127.0.0.1:8787/signup/verify?token=${'x'.repeat(300)}`;
    await transport.sendMail({ from: 'signup@example.com', to: 'reader@example.com', subject: 'Confirm your Sandbox API signup', text: `Open this link:\n\n${link}\n` });
    transport.close();
    const page = await phone();
    await page.goto(mail.mailboxUrl);
    expect(await page.locator('article a').first().getAttribute('href')).toBe(link);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(await page.locator('article').first().evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(255, 255, 255)');
  });
});
