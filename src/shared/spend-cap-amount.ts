/**
 * A spend cap typed by a developer in the currency's main unit ("50", "49.90", "49,9") as cents;
 * empty removes the cap (null); undefined: not an amount. Shared by the portal panel (before it
 * sends) and the hosted account page, so both read a typed amount alike.
 */
export function capTextToCents(text: string): number | null | undefined {
  const value = text.trim();
  if (value === '') return null;
  const match = /^(\d{1,6})(?:[.,](\d{1,2}))?$/.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** Cents as the main unit with two decimals, for the input's value. */
export function centsToCapText(cents: number): string {
  return (cents / 100).toFixed(2);
}
