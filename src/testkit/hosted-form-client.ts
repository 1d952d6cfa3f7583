/** What a test does as the hosted signup's browser: posts a form, reads the key off the key page. */

/** POSTs `fields` as a form to `base + path`, with the CSRF cookie when given; redirects are not followed. */
export function postForm(base: string, path: string, fields: Record<string, string>, cookie?: string): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields),
  });
}

/** The API key the key page shows once, or undefined. */
export const keyOnPage = (html: string) => /id="api-key" readonly value="([^"]+)"/.exec(html)?.[1];
