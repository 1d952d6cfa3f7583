// PLACEHOLDER: replaced by the issue that owns the "reconcile" command. Fails loudly until then.
export async function run(_argv: string[]): Promise<number> {
  console.error('portal-monetization reconcile: not implemented yet');
  return 1;
}
