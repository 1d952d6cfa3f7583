/** "1 developer", "2 developers": a count with its noun in the right number (English, regular or given plural). */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
