import { createHash } from 'node:crypto';

/** sha256 hex of the UTF-8 bytes: Kong's file checksum, the build manifest, idempotency-key digests. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
