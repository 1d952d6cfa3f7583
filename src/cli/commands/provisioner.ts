// PLACEHOLDER: replaced by the issue that owns the "provisioner" command. Fails loudly until then.
export async function run(_argv: string[]): Promise<number> {
  console.error('portal-monetization provisioner: not implemented yet');
  return 1;
}
