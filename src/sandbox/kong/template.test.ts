import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError } from './template.ts';

const none = () => undefined;

describe('renderTemplate', () => {
  it('drops comments, escapes {{ }} and leaves {* *} raw', () => {
    const out = renderTemplate('{# hidden #}<p>{{ user.name }}</p><div>{* user.name *}</div>', { user: { name: `<b>"Ada" & 'Bo'/</b>` } }, none);
    expect(out).toBe('<p>&lt;b&gt;&quot;Ada&quot; &amp; &#39;Bo&#39;&#47;&lt;&#47;b&gt;</p><div><b>"Ada" & \'Bo\'/</b></div>');
  });

  it('renders missing values as empty strings and objects as JSON', () => {
    expect(renderTemplate('[{*a.b.c*}][{*list*}]', { a: {}, list: [1, 2] }, none)).toBe('[][[1,2]]');
  });

  it('includes partials through the resolver, recursively, with the same context', () => {
    const partials: Record<string, string> = { 'partials/a.html': 'A({(partials/b.html)})', 'partials/b.html': 'B={{x}}' };
    expect(renderTemplate('<{(partials/a.html)}>', { x: 1 }, (p) => partials[p])).toBe('<A(B=1)>');
    // Kong's optional context argument is accepted.
    expect(renderTemplate('{(partials/b.html, { x = 2 })}', { x: 3 }, (p) => partials[p])).toBe('B=3');
  });

  it('fails with the partial name when a partial is missing or includes loop', () => {
    expect(() => renderTemplate('{(partials/none.html)}', {}, none)).toThrow(/partials\/none.html/);
    expect(() => renderTemplate('{(partials/self.html)}', {}, () => '{(partials/self.html)}')).toThrow(TemplateError);
  });

  it('loops with each() and ipairs()', () => {
    const context = { fields: [{ title: 'full_name' }, { title: 'plan' }] };
    expect(renderTemplate('{% for _, f in each(fields) do %}<i>{{f.title}}</i>{% end %}', context, none)).toBe('<i>full_name</i><i>plan</i>');
    expect(renderTemplate('{% for _, f in ipairs(fields) do %}{{f.title}};{% end %}', context, none)).toBe('full_name;plan;');
    expect(renderTemplate('{% for _, f in each(missing) do %}x{% end %}', context, none)).toBe('');
  });

  it('branches with if / elseif / else using Lua truthiness and comparisons', () => {
    const template = "{% if auth == 'key-auth' then %}K{% elseif auth ~= 'openid-connect' and not off then %}B{% else %}O{% end %}";
    expect(renderTemplate(template, { auth: 'key-auth' }, none)).toBe('K');
    expect(renderTemplate(template, { auth: 'basic-auth' }, none)).toBe('B');
    expect(renderTemplate(template, { auth: 'basic-auth', off: true }, none)).toBe('O');
    expect(renderTemplate(template, { auth: 'openid-connect' }, none)).toBe('O');
    // 0 and '' are true in Lua.
    expect(renderTemplate('{% if n then %}yes{% end %}', { n: 0 }, none)).toBe('yes');
    expect(renderTemplate('{% if a or b then %}{{ a or b }}{% end %}', { b: 'bee' }, none)).toBe('bee');
  });

  it('nests loops and conditions', () => {
    const template = '{% for _, f in each(fields) do %}{{f.title}}{% if f.validator.required then %}*{% end %} {% end %}';
    expect(renderTemplate(template, { fields: [{ title: 'a', validator: { required: true } }, { title: 'b' }] }, none)).toBe('a* b ');
  });

  it('rejects Lua it does not support, and unbalanced blocks, naming file and line', () => {
    expect(() => renderTemplate('line1\n{% local x = 1 %}', {}, none, 'layouts/x.html')).toThrow(/layouts\/x.html:2: unsupported statement/);
    expect(() => renderTemplate('{% if a then %}open', {}, none)).toThrow(/never closed/);
    expect(() => renderTemplate('{% end %}', {}, none)).toThrow(/without an open block/);
    expect(() => renderTemplate('{{ a + b }}', {}, none)).toThrow(/unsupported expression/);
  });

  it('leaves ordinary braces in scripts alone', () => {
    const js = '<script>$.ajax({ type: "GET" }); if (a) { b() }</script>';
    expect(renderTemplate(js, {}, none)).toBe(js);
  });
});
