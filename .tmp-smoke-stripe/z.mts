import { z } from 'zod';
console.log(JSON.stringify(z.strictObject({ a: z.unknown(), b: z.string().optional() }).safeParse({ b: 'x' })));
