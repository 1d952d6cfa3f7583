// PLACEHOLDER: replaced by the issue that owns the "sync" command. Fails loudly until then.
export async function run(_argv: string[]): Promise<number> {
  console.error('portal-monetization sync: not implemented yet');
  return 1;
}
