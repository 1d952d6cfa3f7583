/**
 * Stripe's test cards, by payment-method token (pm_card_…) and by card number: what the card
 * looks like (brand, last4, funding) and what Stripe does with it. Declining cards are refused
 * when attached; 'charge_fails' cards attach and then every charge is declined.
 */
import { CardError } from './stripe-errors.ts';

/**
 * 'requires_authentication': 3-D Secure on every payment, however the card was set up (Stripe's
 * 4000 0027 6000 3184): saved on-session after the customer authenticates, and each off-session
 * charge then needs the customer's action (PaymentIntent requires_action).
 */
type CardOutcome = 'succeeds' | 'charge_fails' | 'declined' | 'requires_authentication';

export interface TestCard {
  brand: string;
  last4: string;
  funding: 'credit' | 'debit' | 'prepaid';
  outcome: CardOutcome;
  /** For declined cards: Stripe's error code and decline code. */
  declineCode?: string;
  code?: string;
}

const ok = (brand: string, last4: string, funding: TestCard['funding'] = 'credit'): TestCard => ({ brand, last4, funding, outcome: 'succeeds' });
const declined = (last4: string, declineCode: string, code = 'card_declined'): TestCard => ({ brand: 'visa', last4, funding: 'credit', outcome: 'declined', declineCode, code });
const chargeFails: TestCard = { brand: 'visa', last4: '0341', funding: 'credit', outcome: 'charge_fails' };
const authenticationRequired: TestCard = { brand: 'visa', last4: '3184', funding: 'credit', outcome: 'requires_authentication' };

/** Payment-method tokens Stripe accepts in test mode. */
export const TEST_PAYMENT_METHOD_TOKENS: Readonly<Record<string, TestCard>> = {
  pm_card_visa: ok('visa', '4242'),
  pm_card_visa_debit: ok('visa', '5556', 'debit'),
  pm_card_mastercard: ok('mastercard', '4444'),
  pm_card_mastercard_debit: ok('mastercard', '8210', 'debit'),
  pm_card_mastercard_prepaid: ok('mastercard', '5100', 'prepaid'),
  pm_card_amex: ok('amex', '8431'),
  pm_card_discover: ok('discover', '1117'),
  pm_card_diners: ok('diners', '0004'),
  pm_card_jcb: ok('jcb', '0505'),
  pm_card_unionpay: ok('unionpay', '0005'),
  pm_card_chargeCustomerFail: chargeFails,
  pm_card_authenticationRequired: authenticationRequired,
  pm_card_visa_chargeDeclined: declined('0002', 'generic_decline'),
  pm_card_visa_chargeDeclinedInsufficientFunds: declined('9995', 'insufficient_funds'),
  pm_card_visa_chargeDeclinedLostCard: declined('9987', 'lost_card'),
  pm_card_visa_chargeDeclinedStolenCard: declined('9979', 'stolen_card'),
  pm_card_visa_chargeDeclinedVelocityLimitExceeded: declined('6975', 'card_velocity_exceeded'),
  pm_card_chargeDeclinedFraudulent: declined('0019', 'fraudulent'),
  pm_card_chargeDeclinedExpiredCard: declined('0069', 'expired_card', 'expired_card'),
  pm_card_chargeDeclinedIncorrectCvc: declined('0127', 'incorrect_cvc', 'incorrect_cvc'),
  pm_card_chargeDeclinedProcessingError: declined('0119', 'processing_error', 'processing_error'),
};

/** Test card numbers (what a customer types in Checkout or the portal). */
export const TEST_CARD_NUMBERS: Readonly<Record<string, TestCard>> = {
  '4242424242424242': ok('visa', '4242'),
  '4000056655665556': ok('visa', '5556', 'debit'),
  '5555555555554444': ok('mastercard', '4444'),
  '2223003122003222': ok('mastercard', '3222'),
  '5200828282828210': ok('mastercard', '8210', 'debit'),
  '5105105105105100': ok('mastercard', '5100', 'prepaid'),
  '378282246310005': ok('amex', '0005'),
  '371449635398431': ok('amex', '8431'),
  '6011111111111117': ok('discover', '1117'),
  '3056930009020004': ok('diners', '0004'),
  '3566002020360505': ok('jcb', '0505'),
  '6200000000000005': ok('unionpay', '0005'),
  '4000000000000341': chargeFails,
  '4000002760003184': authenticationRequired,
  '4000000000000002': declined('0002', 'generic_decline'),
  '4000000000009995': declined('9995', 'insufficient_funds'),
  '4000000000009987': declined('9987', 'lost_card'),
  '4000000000009979': declined('9979', 'stolen_card'),
  '4000000000006975': declined('6975', 'card_velocity_exceeded'),
  '4100000000000019': declined('0019', 'fraudulent'),
  '4000000000000069': declined('0069', 'expired_card', 'expired_card'),
  '4000000000000127': declined('0127', 'incorrect_cvc', 'incorrect_cvc'),
  '4000000000000119': declined('0119', 'processing_error', 'processing_error'),
};

const DECLINE_MESSAGES: Readonly<Record<string, string>> = {
  insufficient_funds: 'Your card has insufficient funds.',
  expired_card: 'Your card has expired.',
  incorrect_cvc: "Your card's security code is incorrect.",
  processing_error: 'An error occurred while processing your card. Try again in a little bit.',
};

/** The card_error Stripe answers when a declining card is attached or charged. */
export function declineError(card: Pick<TestCard, 'code' | 'declineCode'>): CardError {
  const declineCode = card.declineCode ?? 'generic_decline';
  const code = card.code ?? 'card_declined';
  return new CardError(DECLINE_MESSAGES[declineCode] ?? 'Your card was declined.', code, code === 'card_declined' ? declineCode : undefined);
}

/**
 * Decline codes Stripe does not retry (a hard decline: the issuer says a retry cannot succeed).
 * From Stripe's revenue-recovery docs in substance; the emulator's cards only ever produce a few.
 */
export const HARD_DECLINE_CODES: ReadonlySet<string> = new Set([
  'authentication_required',
  'card_not_supported',
  'currency_not_supported',
  'fraudulent',
  'incorrect_number',
  'invalid_account',
  'lost_card',
  'merchant_blacklist',
  'pickup_card',
  'restricted_card',
  'revocation_of_all_authorizations',
  'revocation_of_authorization',
  'security_violation',
  'stolen_card',
  'stop_payment_order',
  'transaction_not_allowed',
]);

/** Luhn check: Stripe refuses mistyped numbers with `incorrect_number`. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return digits.length >= 12 && sum % 10 === 0;
}
