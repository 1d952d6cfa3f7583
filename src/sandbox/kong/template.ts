/**
 * A small renderer for the subset of Kong's portal template syntax the stand-in theme uses:
 *   {# comment #}            dropped
 *   {{ expr }}               HTML-escaped value
 *   {* expr *}               raw value
 *   {(partials/x.html)}      include (a second argument, Kong's context table, is ignored)
 *   {% for _, x in each(expr) do %} ... {% end %}     (also ipairs(expr))
 *   {% if expr then %} ... {% elseif expr then %} ... {% else %} ... {% end %}
 * Expressions: dotted paths (portal.api_url), 'strings', numbers, true/false/nil, not, ==, ~=,
 * and, or. Anything else is a TemplateError naming the file and line, so a theme that needs
 * more of Kong's Lua fails loudly instead of rendering wrong.
 */

export class TemplateError extends Error {
  readonly code = 'template_error';
}

type PartialResolver = (path: string) => string | undefined;

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'value'; expr: string; escape: boolean; line: number }
  | { kind: 'include'; path: string; line: number }
  | { kind: 'for'; name: string; list: string; body: Node[]; line: number }
  | { kind: 'if'; branches: { cond: string | undefined; body: Node[] }[]; line: number };

const TAG = /\{#[\s\S]*?#\}|\{\{[\s\S]*?\}\}|\{\*[\s\S]*?\*\}|\{\([\s\S]*?\)\}|\{%[\s\S]*?%\}/g;
const MAX_INCLUDE_DEPTH = 20;

/** Renders `source` with `context`; `resolve` loads partials by their theme-relative path. */
export function renderTemplate(source: string, context: Record<string, unknown>, resolve: PartialResolver, name = 'template', depth = 0): string {
  if (depth > MAX_INCLUDE_DEPTH) throw new TemplateError(`${name}: includes nested deeper than ${MAX_INCLUDE_DEPTH} (an include cycle?)`);
  return renderNodes(parse(source, name), context, resolve, name, depth);
}

function renderNodes(nodes: Node[], context: Record<string, unknown>, resolve: PartialResolver, name: string, depth: number): string {
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out += node.text;
        break;
      case 'value': {
        const text = stringify(evaluate(node.expr, context, name, node.line));
        out += node.escape ? escapeHtml(text) : text;
        break;
      }
      case 'include': {
        const partial = resolve(node.path);
        if (partial === undefined) throw new TemplateError(`${name}:${node.line}: partial "${node.path}" not found`);
        out += renderTemplate(partial, context, resolve, node.path, depth + 1);
        break;
      }
      case 'for': {
        const list = evaluate(node.list, context, name, node.line);
        if (list === undefined || list === null) break;
        if (!Array.isArray(list)) throw new TemplateError(`${name}:${node.line}: "${node.list}" is not a list`);
        for (const item of list) out += renderNodes(node.body, { ...context, [node.name]: item }, resolve, name, depth);
        break;
      }
      case 'if': {
        const branch = node.branches.find((b) => b.cond === undefined || truthy(evaluate(b.cond, context, name, node.line)));
        if (branch) out += renderNodes(branch.body, context, resolve, name, depth);
        break;
      }
    }
  }
  return out;
}

// ---- parsing -------------------------------------------------------------------------------

interface Frame {
  nodes: Node[];
  /** The open block this frame's nodes belong to (undefined at top level). */
  block?: Extract<Node, { kind: 'for' | 'if' }>;
}

function parse(source: string, name: string): Node[] {
  const root: Frame = { nodes: [] };
  const stack: Frame[] = [root];
  const current = () => stack[stack.length - 1] as Frame;
  let last = 0;
  for (const match of source.matchAll(TAG)) {
    const index = match.index ?? 0;
    const tag = match[0];
    const line = lineAt(source, index);
    if (index > last) current().nodes.push({ kind: 'text', text: source.slice(last, index) });
    last = index + tag.length;
    const inner = tag.slice(2, -2).trim();
    switch (tag[1]) {
      case '#':
        break;
      case '{':
        current().nodes.push({ kind: 'value', expr: inner, escape: true, line });
        break;
      case '*':
        current().nodes.push({ kind: 'value', expr: inner, escape: false, line });
        break;
      case '(': {
        const path = (inner.split(',')[0] ?? '').trim().replace(/^["']|["']$/g, '');
        current().nodes.push({ kind: 'include', path, line });
        break;
      }
      case '%':
        parseStatement(inner, line, name, stack);
        break;
    }
  }
  if (last < source.length) current().nodes.push({ kind: 'text', text: source.slice(last) });
  if (stack.length > 1) throw new TemplateError(`${name}:${current().block?.line}: block is never closed with {% end %}`);
  return root.nodes;
}

const FOR = /^for\s+(?:_\s*,\s*)?([A-Za-z_]\w*)\s+in\s+(?:each|ipairs)\s*\((.+)\)\s+do$/;
const IF = /^if\s+(.+)\s+then$/;
const ELSEIF = /^elseif\s+(.+)\s+then$/;

function parseStatement(statement: string, line: number, name: string, stack: Frame[]): void {
  const top = stack[stack.length - 1] as Frame;
  let match: RegExpExecArray | null;
  if ((match = FOR.exec(statement))) {
    const node: Node = { kind: 'for', name: match[1] as string, list: (match[2] as string).trim(), body: [], line };
    top.nodes.push(node);
    stack.push({ nodes: node.body, block: node });
  } else if ((match = IF.exec(statement))) {
    const node: Node = { kind: 'if', branches: [{ cond: match[1] as string, body: [] }], line };
    top.nodes.push(node);
    stack.push({ nodes: (node.branches[0] as { body: Node[] }).body, block: node });
  } else if ((match = ELSEIF.exec(statement)) || statement === 'else') {
    if (top.block?.kind !== 'if') throw new TemplateError(`${name}:${line}: "${statement}" outside an if block`);
    const branch = { cond: match ? (match[1] as string) : undefined, body: [] as Node[] };
    top.block.branches.push(branch);
    stack[stack.length - 1] = { nodes: branch.body, block: top.block };
  } else if (statement === 'end') {
    if (stack.length === 1) throw new TemplateError(`${name}:${line}: {% end %} without an open block`);
    stack.pop();
  } else {
    throw new TemplateError(`${name}:${line}: unsupported statement {% ${statement} %} (the emulator supports for/each, if/elseif/else and end)`);
  }
}

function lineAt(source: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

// ---- expressions ---------------------------------------------------------------------------

function evaluate(expr: string, context: Record<string, unknown>, name: string, line: number): unknown {
  const e = expr.trim();
  const or = splitTop(e, ' or ');
  if (or.length > 1) {
    for (const part of or) {
      const value = evaluate(part, context, name, line);
      if (truthy(value)) return value;
    }
    return or.length ? evaluate(or[or.length - 1] as string, context, name, line) : undefined;
  }
  const and = splitTop(e, ' and ');
  if (and.length > 1) {
    let value: unknown;
    for (const part of and) {
      value = evaluate(part, context, name, line);
      if (!truthy(value)) return value;
    }
    return value;
  }
  if (e.startsWith('not ')) return !truthy(evaluate(e.slice(4), context, name, line));
  for (const op of ['==', '~='] as const) {
    const sides = splitTop(e, op);
    if (sides.length === 2) {
      const equal = evaluate(sides[0] as string, context, name, line) === evaluate(sides[1] as string, context, name, line);
      return op === '==' ? equal : !equal;
    }
  }
  if (e.startsWith('(') && e.endsWith(')')) return evaluate(e.slice(1, -1), context, name, line);
  if (/^(["']).*\1$/s.test(e)) return e.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(e)) return Number(e);
  if (e === 'true') return true;
  if (e === 'false') return false;
  if (e === 'nil') return undefined;
  if (/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(e)) {
    let value: unknown = context;
    for (const key of e.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    return value;
  }
  throw new TemplateError(`${name}:${line}: unsupported expression "${e}"`);
}

/** Splits on `separator` outside quotes and parentheses. */
function splitTop(expr: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && expr.startsWith(separator, i)) {
      parts.push(expr.slice(start, i).trim());
      start = i + separator.length;
      i += separator.length - 1;
    }
  }
  parts.push(expr.slice(start).trim());
  return parts;
}

/** Lua truthiness: only nil and false are false. */
function truthy(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false;
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '/': '&#47;' };

/** The characters Kong's template engine (lua-resty-template) escapes in {{ }}. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"'/]/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}
