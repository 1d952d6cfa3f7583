// PLACEHOLDER: replaced by the issue that owns the "build" command. Fails loudly until then.
export async function run(_argv: string[]): Promise<number> {
  console.error('portal-monetization build: not implemented yet');
  return 1;
}
