/**
 * The faults the Moesif emulator can inject. A module of its own so the emulator and its
 * /_emulator routes both read it without importing each other at run time.
 */
export type MoesifFaultKind = '500' | '503' | '429' | 'drop' | 'timeout';
export const MOESIF_FAULT_KINDS: readonly MoesifFaultKind[] = ['500', '503', '429', 'drop', 'timeout'];
