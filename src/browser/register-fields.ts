/** The fields of Kong's register form, read by the register wrapper and by the checkout that follows the login. */

/** Kong's serializeArray() entries. */
export interface RegisterField {
  name: string;
  value: string;
}

export function emailFromFields(fields: unknown): string | undefined {
  if (!Array.isArray(fields)) return undefined;
  const field = fields.find((f): f is RegisterField => typeof f === 'object' && f !== null && (f as RegisterField).name === 'email');
  const email = typeof field?.value === 'string' ? field.value.trim() : '';
  return email || undefined;
}
