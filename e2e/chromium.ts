import { existsSync } from 'node:fs';

// Browser downloads are blocked on our machines, so we drive a system Chromium (Debian's package).
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export const CHROMIUM_HINT =
  'No Chromium found for the browser tests. Install Debian\'s package with `apt-get update && apt-get install -y chromium` ' +
  '(or set CHROMIUM_PATH to a Chromium/Chrome binary). Do not run `npx playwright install`: browser downloads are blocked here.';

export function findChromium(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

// The background-networking flags stop Chromium from flooding a closed network with refused connections.
export const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];
