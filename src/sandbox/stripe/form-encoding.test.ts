/** Decoding Stripe's bracketed form encoding, and the parameter errors built on it. */
import { describe, expect, it } from 'vitest';
import { decodeForm, encodeForm, FormEncodingError } from './form-encoding.ts';
import { p, parseParams } from './params.ts';
import { StripeApiError } from './stripe-errors.ts';

describe('decodeForm', () => {
  it('decodes nested hashes, indexed and appended arrays as stripe-node writes them', () => {
    const body = 'items[0][price]=price_1&items[1][price]=price_2&items[1][metadata][k]=v&expand[]=a&expand[]=b&metadata[0]=zero&email=a%2Bb%40x.com';
    expect(decodeForm(body)).toEqual({
      items: { '0': { price: 'price_1' }, '1': { price: 'price_2', metadata: { k: 'v' } } },
      expand: { '0': 'a', '1': 'b' },
      metadata: { '0': 'zero' },
      email: 'a+b@x.com',
    });
  });

  it('round-trips encodeForm', () => {
    const data = { tiers: [{ up_to: 10, unit_amount: 1 }, { up_to: 'inf' }], recurring: { interval: 'month' }, n: 'x y' };
    expect(decodeForm(encodeForm(data))).toEqual({ tiers: { '0': { up_to: '10', unit_amount: '1' }, '1': { up_to: 'inf' } }, recurring: { interval: 'month' }, n: 'x y' });
  });

  it('refuses malformed keys, conflicts and prototype keys', () => {
    expect(() => decodeForm('a[b=1')).toThrow(FormEncodingError);
    expect(() => decodeForm('a=1&a[b]=2')).toThrow(/Invalid hash/);
    expect(() => decodeForm('__proto__[x]=1')).toThrow(FormEncodingError);
  });
});

describe('parseParams', () => {
  const schema = p.hash({ name: p.string(), count: p.int({ min: 1 }).optional(), items: p.list(p.hash({ price: p.id() })).optional(), on: p.bool().optional() });
  const errorOf = (raw: string): StripeApiError => {
    try {
      parseParams(schema, decodeForm(raw));
    } catch (error) {
      if (error instanceof StripeApiError) return error;
    }
    throw new Error('expected a StripeApiError');
  };

  it('turns indexed hashes into arrays and coerces values', () => {
    expect(parseParams(schema, decodeForm('name=n&count=3&items[1][price]=b&items[0][price]=a&on=true'))).toEqual({ name: 'n', count: 3, items: [{ price: 'a' }, { price: 'b' }], on: true });
  });

  it('maps issues to Stripe errors naming the parameter', () => {
    expect(errorOf('count=1')).toMatchObject({ code: 'parameter_missing', param: 'name', message: 'Missing required param: name.' });
    expect(errorOf('name=n&colour=red')).toMatchObject({ code: 'parameter_unknown', param: 'colour' });
    expect(errorOf('name=n&items[0][cost]=1&items[0][price]=p')).toMatchObject({ code: 'parameter_unknown', param: 'items[0][cost]' });
    expect(errorOf('name=n&count=abc')).toMatchObject({ code: 'parameter_invalid_integer', param: 'count', message: 'Invalid integer: abc' });
    expect(errorOf('name=n&on=yes')).toMatchObject({ param: 'on', message: 'Invalid boolean: yes' });
    expect(errorOf('name=n&items[0][x]=1').status).toBe(400);
  });
});
