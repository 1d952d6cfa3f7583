// PLACEHOLDER: replaced by the issue that owns the "start" command. Fails loudly until then.
export async function run(_argv: string[]): Promise<number> {
  console.error('portal-monetization start: not implemented yet');
  return 1;
}
