/** The hosted signup's refusals, apart from the service so the AWS gateway can raise them without loading the mailer. */
type SignupErrorCode = 'link_used' | 'email_taken' | 'subscription_ended' | 'checkout_incomplete' | 'not_started';

export class SignupError extends Error {
  constructor(
    readonly code: SignupErrorCode,
    readonly status: 400 | 402 | 409 | 410,
    message: string,
  ) {
    super(message);
    this.name = 'SignupError';
  }
}
