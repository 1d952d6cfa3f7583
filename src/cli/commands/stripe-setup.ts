// PLACEHOLDER: replaced by the issue that owns the "stripe-setup" command. Fails loudly until then.
export async function run(_argv: string[]): Promise<number> {
  console.error('portal-monetization stripe-setup: not implemented yet');
  return 1;
}
