import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { DEFAULT_RETRY_DELAYS_MS } from './retry.ts';

const PAGE = 'https://portal.example.com/default/register';

describe('parseConfig', () => {
  it('accepts the public config sync writes and trims trailing slashes', () => {
    expect(parseConfig({ provisionerUrl: 'https://billing.example.com/api/', planField: true }, PAGE)).toEqual({
      ok: true,
      config: { provisionerUrl: 'https://billing.example.com/api', planField: true, retryDelaysMs: DEFAULT_RETRY_DELAYS_MS },
    });
  });

  it('resolves a relative provisionerUrl against the page and defaults planField to false', () => {
    const result = parseConfig({ provisionerUrl: '/provisioner' }, PAGE);
    expect(result).toMatchObject({ ok: true, config: { provisionerUrl: 'https://portal.example.com/provisioner', planField: false } });
  });

  it.each([
    [undefined, 'is not set'],
    [null, 'is not set'],
    ['https://billing.example.com', 'is not an object'],
    [[], 'is not an object'],
    [{}, 'provisionerUrl is missing'],
    [{ provisionerUrl: '   ' }, 'provisionerUrl is missing'],
    [{ provisionerUrl: 'javascript:alert(1)' }, 'must be an http(s) URL'],
    [{ provisionerUrl: 'https://billing.example.com?x=1' }, 'must not have a query'],
    [{ provisionerUrl: 'http://[bad' }, 'is not a URL'],
    [{ provisionerUrl: 'https://billing.example.com', planField: 'yes' }, 'planField'],
  ])('turns monetization off for %j (%s)', (raw, problem) => {
    const result = parseConfig(raw, PAGE);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain(problem);
  });

  it('takes a test retry schedule only when it is a short list of sane numbers', () => {
    const parse = (retryDelaysMs: unknown) => {
      const result = parseConfig({ provisionerUrl: 'https://b.example.com', retryDelaysMs }, PAGE);
      return result.ok ? result.config.retryDelaysMs : undefined;
    };
    expect(parse([10, 20])).toEqual([10, 20]);
    expect(parse([])).toEqual([]);
    expect(parse([10, -1])).toBe(DEFAULT_RETRY_DELAYS_MS);
    expect(parse(['10'])).toBe(DEFAULT_RETRY_DELAYS_MS);
    expect(parse(new Array(11).fill(1))).toBe(DEFAULT_RETRY_DELAYS_MS);
    expect(parse([Infinity])).toBe(DEFAULT_RETRY_DELAYS_MS);
  });
});
