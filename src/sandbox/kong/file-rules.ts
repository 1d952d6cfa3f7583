/** The Files API's path rules, as Kong's files schema enforces them. */

/** The error for a file path, or undefined when the path is acceptable. */
export function filePathError(path: unknown): string | undefined {
  if (path === undefined || path === null || path === '') return 'required field missing';
  if (typeof path !== 'string') return 'expected a string';
  if (path.startsWith('/')) return "must not begin with a slash '/'";
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return 'must have a file extension';
  // Layouts and partials are rendered as HTML templates, so Kong insists on .html for them.
  if (/^themes\/[^/]+\/(layouts|partials)\//.test(path) && !path.endsWith('.html')) return 'layouts and partials must have a .html extension';
  return undefined;
}

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'application/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  ico: 'image/x-icon',
  woff: 'font/woff',
  woff2: 'font/woff2',
  txt: 'text/plain; charset=utf-8',
  yaml: 'text/yaml; charset=utf-8',
};

export function contentTypeFor(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

/**
 * Asset bytes from stored contents: kong-portal-cli stores binary assets as data URIs
 * (`data:image/png;base64,...`), text assets as they are.
 */
export function assetBytes(contents: string): Uint8Array | string {
  const match = /^data:[^;,]*;base64,(.*)$/s.exec(contents);
  return match ? new Uint8Array(Buffer.from(match[1] ?? '', 'base64')) : contents;
}
