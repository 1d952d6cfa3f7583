// PLACEHOLDER: replaced by the issue that owns the "bench" command. Fails loudly until then.
export async function run(_argv: string[]): Promise<number> {
  console.error('portal-monetization bench: not implemented yet');
  return 1;
}
