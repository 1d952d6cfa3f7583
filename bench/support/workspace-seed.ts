/**
 * A portal workspace of a realistic size in the Kong emulator: the stand-in base theme plus
 * content pages and specs up to `totalFiles`, so sync and kong-portal-cli read the same 350 files.
 */
import { seedStandInTheme } from '../../src/sandbox/kong/index.ts';
import type { RunningKongEmulator } from '../../src/sandbox/kong/index.ts';

export function seedPortalWorkspace(kong: RunningKongEmulator, totalFiles: number): Map<string, string> {
  seedStandInTheme(kong, { planField: true });
  const record = kong.state.requireWs('default');
  for (let i = 0; record.files.size < totalFiles; i++) {
    const path = i % 5 === 4 ? `specs/api-${i}.yaml` : `content/guides/page-${i}.txt`;
    const body = path.endsWith('.yaml')
      ? `openapi: 3.0.0\ninfo:\n  title: API ${i}\n  version: 1.0.${i}\npaths:\n  /resource-${i}:\n    get:\n      summary: Read resource ${i}\n`
      : `---\nlayout: index.html\ntitle: Guide ${i}\n---\n${`Guide ${i}: how to call the API. `.repeat(40)}\n`;
    kong.state.putFile('default', path, body);
  }
  return new Map([...record.files.values()].map((file) => [file.path, file.contents]));
}
