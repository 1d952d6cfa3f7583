// PLACEHOLDER: replaced by the issue that owns the "doctor" command. Fails loudly until then.
export async function run(_argv: string[]): Promise<number> {
  console.error('portal-monetization doctor: not implemented yet');
  return 1;
}
