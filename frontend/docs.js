// pyxa API reference — renders /openapi.json (OpenAPI 3.1, as written by utoipa 5, or
// 3.0) into a browsable page: a sidebar of operations grouped by tag, and for each
// operation its parameters, request bodies, responses (schemas as nested property
// tables) and a copyable curl example.
//
// Everything in the spec is untrusted text: it is only ever inserted with
// textContent / setAttribute (never innerHTML), and links in descriptions are
// limited to http(s) and same-site URLs. No inline styles, no eval: the page runs
// under the portal's strict Content-Security-Policy.

import { t, getLang, setLang, applyI18n, onLangChange, locale } from './i18n.js';
import { el, clear, toast } from './ui.js';

const $ = (id) => document.getElementById(id);

const SPEC_URL = '/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const MAX_DEPTH = 14; // nesting limit for schema tables (recursion is caught before that)

// ----------------------------------------------------------------- theme
// Same storage key and cycle as the portal (app.js), so both pages agree.

const THEME_KEY = 'pyxa.theme';
const THEMES = ['system', 'light', 'dark'];

function currentTheme() {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return THEMES.includes(v) ? v : 'system';
  } catch { return 'system'; }
}

function applyTheme(theme) {
  const root = document.documentElement;
  if (theme === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', theme);
  root.setAttribute('data-theme-choice', theme);
  const btn = $('theme-toggle');
  btn.setAttribute('data-i18n-aria-label', `theme.label.${theme}`);
  btn.setAttribute('aria-label', t(`theme.label.${theme}`));
  btn.setAttribute('title', t(`theme.label.${theme}`));
}

function initChrome() {
  document.documentElement.lang = locale();
  applyI18n(document.body);
  document.title = t('docs.pageTitle');
  applyTheme(currentTheme());
  $('theme-toggle').addEventListener('click', () => {
    const next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length];
    try { localStorage.setItem(THEME_KEY, next); } catch { /* ignore */ }
    applyTheme(next);
  });
  $('lang-toggle').addEventListener('click', () => setLang(getLang() === 'zh' ? 'en' : 'zh'));
  onLangChange(() => {
    document.title = t('docs.pageTitle');
    applyTheme(currentTheme());
    updateFilterCount();
  });
}

// ------------------------------------------------------------ spec access

let spec = null;

/** Follow a local JSON pointer ("#/components/schemas/Item"). */
function pointer(ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
  const parts = ref.slice(1).split('/').slice(1).map((p) => {
    let s = p;
    try { s = decodeURIComponent(p); } catch { /* keep raw */ }
    return s.replace(/~1/g, '/').replace(/~0/g, '~');
  });
  let cur = spec;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, p)) return undefined;
    cur = cur[p];
  }
  return cur;
}

const refName = (ref) => String(ref).split('/').pop().replace(/~1/g, '/').replace(/~0/g, '~');

/**
 * Resolve a non-schema object that may be a `$ref` (parameter, response, request
 * body, header). Sibling summary/description override the target's.
 */
function deref(obj) {
  let cur = obj;
  const seen = new Set();
  while (cur && typeof cur === 'object' && typeof cur.$ref === 'string') {
    if (seen.has(cur.$ref)) return {};
    seen.add(cur.$ref);
    const target = pointer(cur.$ref);
    const { $ref, ...rest } = cur;
    if (!target || typeof target !== 'object') return { ...rest, unresolvedRef: $ref };
    cur = { ...target, ...rest };
  }
  return cur && typeof cur === 'object' ? cur : {};
}

const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);

// --------------------------------------------------------------- schemas

/**
 * Normalise a schema into what the tables need: resolved `$ref`s (with cycle
 * detection), merged `allOf`, nullability from `type: [..., "null"]`,
 * `nullable: true` or a `{ "type": "null" }` member of oneOf/anyOf.
 *
 * Returns { s, name, names, nullable, types, props, required, items, values,
 * variants, variantKind, recursive, unresolved, refs }.
 */
function describe(schema, stack = new Set()) {
  const refs = new Set();
  let name = null;
  let recursive = false;
  let unresolved = null;
  let s = isObj(schema) ? schema : (schema === true || schema === undefined ? {} : { not: {} });

  // $ref chain, keeping sibling keywords (3.1 allows description next to $ref).
  const siblings = {};
  const hops = new Set();
  while (isObj(s) && typeof s.$ref === 'string') {
    const { $ref, ...rest } = s;
    for (const [k, v] of Object.entries(rest)) if (!(k in siblings)) siblings[k] = v;
    if (!name) name = refName($ref);
    if (stack.has($ref) || hops.has($ref)) { recursive = true; s = {}; break; }
    hops.add($ref);
    refs.add($ref);
    const target = pointer($ref);
    if (!isObj(target)) { unresolved = $ref; s = {}; break; }
    s = target;
  }
  s = { ...s, ...siblings };

  let nullable = s.nullable === true;
  let types = [];
  if (Array.isArray(s.type)) types = s.type.slice();
  else if (typeof s.type === 'string') types = [s.type];
  if (types.includes('null')) { nullable = true; types = types.filter((x) => x !== 'null'); }
  if (s.const === null && !types.length) nullable = true;

  const inner = new Set([...stack, ...refs]);
  let names = name ? [name] : [];

  // allOf: merge the members (resolved) into one object view.
  let props = isObj(s.properties) ? Object.entries(s.properties) : [];
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  let additional = s.additionalProperties;
  let items = s.items;
  let oneOf = Array.isArray(s.oneOf) ? s.oneOf : null;
  let anyOf = Array.isArray(s.anyOf) ? s.anyOf : null;
  let discriminator = isObj(s.discriminator) ? s.discriminator : null;
  let enumValues = Array.isArray(s.enum) ? s.enum.slice() : null;
  let description = typeof s.description === 'string' ? s.description : '';
  let format = s.format;
  if (Array.isArray(s.allOf) && s.allOf.length) {
    const memberNames = [];
    const seenProps = new Map(props);
    for (const m of s.allOf) {
      const d = describe(m, inner);
      if (d.recursive) recursive = true;
      if (d.name) memberNames.push(d.name);
      for (const r of d.refs) refs.add(r);
      if (d.nullable && s.allOf.length === 1) nullable = true;
      for (const tp of d.types) if (!types.includes(tp)) types.push(tp);
      for (const [k, v] of d.props) if (!seenProps.has(k)) seenProps.set(k, v);
      for (const r of d.required) required.add(r);
      if (d.additional !== undefined && additional === undefined) additional = d.additional;
      if (d.items !== undefined && items === undefined) items = d.items;
      if (d.variantKind === 'oneOf' && !oneOf) oneOf = d.variants;
      if (d.variantKind === 'anyOf' && !anyOf) anyOf = d.variants;
      if (!discriminator && d.discriminator) discriminator = d.discriminator;
      if (!enumValues && d.enumValues) enumValues = d.enumValues;
      if (!description && d.description) description = d.description;
      if (!format && d.format) format = d.format;
      if (d.s.const !== undefined && s.const === undefined) s = { ...s, const: d.s.const };
    }
    props = [...seenProps.entries()];
    if (!name && memberNames.length) names = memberNames;
    if (!name && memberNames.length === 1) name = memberNames[0];
  }

  // oneOf / anyOf: pull out null members.
  let variants = null;
  let variantKind = null;
  for (const [kind, list] of [['oneOf', oneOf], ['anyOf', anyOf]]) {
    if (!list || variants) continue;
    const rest = list.filter((m) => {
      if (!isObj(m)) return true;
      if (m.type === 'null' || (Array.isArray(m.type) && m.type.length === 1 && m.type[0] === 'null')) { nullable = true; return false; }
      return true;
    });
    if (!rest.length) continue;
    variants = rest;
    variantKind = kind;
  }

  // Option<T>: a single remaining member is simply "T, or null".
  if (variants && variants.length === 1 && !props.length && !types.length) {
    const d = describe(variants[0], inner);
    return {
      ...d,
      nullable: d.nullable || nullable,
      description: description || d.description,
      s: { ...d.s, ...pick(s, ['title', 'default', 'example', 'examples', 'deprecated', 'readOnly', 'writeOnly']), description: description || d.description },
      refs: new Set([...refs, ...d.refs]),
    };
  }

  // oneOf of single-value enums / consts (utoipa's unit enum variants with docs): an enum.
  if (variants && variants.every((v) => {
    const d = isObj(v) && !v.$ref ? v : null;
    return d && ((Array.isArray(d.enum) && d.enum.length >= 1) || d.const !== undefined) && !d.properties;
  })) {
    enumValues = [];
    const enumDocs = [];
    for (const v of variants) {
      const vals = Array.isArray(v.enum) ? v.enum : [v.const];
      for (const x of vals) { enumValues.push(x); enumDocs.push(typeof v.description === 'string' ? v.description : ''); }
      for (const tp of (Array.isArray(v.type) ? v.type : [v.type])) if (tp && tp !== 'null' && !types.includes(tp)) types.push(tp);
    }
    s = { ...s, 'x-enum-docs': enumDocs };
    variants = null;
    variantKind = null;
  }

  if (!types.length) {
    if (props.length || isObj(additional)) types = ['object'];
    else if (items !== undefined) types = ['array'];
  }

  return {
    s, name, names, nullable, types, props, required, additional, items,
    variants, variantKind, discriminator, enumValues, description, format,
    recursive, unresolved, refs, stack: new Set([...stack, ...refs]),
  };
}

function pick(obj, keys) {
  const out = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

const isBinary = (d) => d.format === 'binary' || (d.types.includes('string') && (d.s.contentMediaType || d.s.contentEncoding));

/** A short type label: "string (date-time)", "Item[]", "map<string, integer>", "A | B | null". */
function typeLabel(d, depth = 0) {
  let label;
  if (d.recursive && d.name) label = d.name;
  else if (d.unresolved) label = d.name || 'unresolved';
  else if (d.name && !d.variants) label = d.name;
  else if (d.names.length > 1 && !d.variants) label = d.names.join(' & ');
  else if (d.variants) {
    const parts = d.variants.map((v) => (depth > 3 ? '…' : typeLabel(describe(v, d.stack), depth + 1)));
    label = parts.length > 4 ? `${d.variantKind} (${parts.length})` : parts.join(' | ');
    if (d.name) label = d.name;
  } else if (d.types.includes('array') && d.types.length === 1) {
    const inner = d.items === undefined ? 'any' : typeLabel(describe(d.items, d.stack), depth + 1);
    label = /[|&]/.test(inner) ? `(${inner})[]` : `${inner}[]`;
  } else if (d.types.includes('object') && d.types.length === 1 && !d.props.length && isObj(d.additional)) {
    label = `map<string, ${typeLabel(describe(d.additional, d.stack), depth + 1)}>`;
  } else if (d.types.length) {
    label = d.types.map((tp) => {
      if (tp === 'string' && isBinary(d)) return 'file (binary)';
      if (d.format && (tp === 'string' || tp === 'integer' || tp === 'number')) return `${tp} (${d.format})`;
      return tp;
    }).join(' | ');
  } else if (d.enumValues) label = 'enum';
  else if (d.s.const !== undefined) label = 'const';
  else if (d.s.not && !Object.keys(d.s.not).length) label = 'never';
  else label = 'any';
  if (d.nullable) label = `${label} | null`;
  return label;
}

/** Does a oneOf/anyOf member need more than its type label (fields, docs, allowed values)? */
function richVariant(vd) {
  if (vd.recursive) return Boolean(vd.name);
  if (vd.props.length || vd.variants || vd.description || vd.enumValues) return true;
  const sub = expandable(vd);
  return Boolean(sub);
}

/** What a property's nested table is built from: the object itself, its array items or map values. */
function expandable(d) {
  let cur = d;
  let via = null;
  for (let i = 0; i < 4 && cur; i++) {
    if (cur.recursive) return cur.name ? { recursive: cur.name } : null;
    if (cur.props.length || (cur.variants && cur.variants.some((v) => richVariant(describe(v, cur.stack))))) return { d: cur, via };
    if (cur.types.length === 1 && cur.types[0] === 'array' && cur.items !== undefined) { cur = describe(cur.items, cur.stack); via = via || 'items'; continue; }
    if (cur.types.length === 1 && cur.types[0] === 'object' && isObj(cur.additional)) { cur = describe(cur.additional, cur.stack); via = via || 'values'; continue; }
    break;
  }
  return null;
}

const jsonText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
const shorten = (s, n = 240) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Facts about a schema shown under its description: enum, default, example, limits. */
function schemaFacts(d) {
  const s = d.s;
  const facts = el('div.docs-facts');
  const fact = (key, ...values) => facts.append(el('span.docs-fact', {}, el('span.docs-fact-key', { i18n: key }), ' ', ...values));
  const code = (v) => el('code', { text: shorten(jsonText(v)) });
  if (d.enumValues && d.enumValues.length) {
    const docs = Array.isArray(s['x-enum-docs']) ? s['x-enum-docs'] : [];
    const list = el('span.docs-enum');
    d.enumValues.forEach((v, i) => {
      const item = el('span.docs-enum-value', {}, code(v));
      if (docs[i]) item.append(el('span.muted', { text: ` — ${docs[i]}` }));
      list.append(item);
    });
    fact('docs.allowed', list);
  }
  if (s.const !== undefined && s.const !== null) fact('docs.const', code(s.const));
  if (s.default !== undefined) fact('docs.default', code(s.default));
  const example = s.example !== undefined ? s.example : (Array.isArray(s.examples) && s.examples.length ? s.examples[0] : undefined);
  if (example !== undefined) fact('docs.exampleValue', code(example));
  const limits = [];
  if (typeof s.minimum === 'number') limits.push(`≥ ${s.minimum}`);
  if (typeof s.exclusiveMinimum === 'number') limits.push(`> ${s.exclusiveMinimum}`);
  if (typeof s.maximum === 'number') limits.push(`≤ ${s.maximum}`);
  if (typeof s.exclusiveMaximum === 'number') limits.push(`< ${s.exclusiveMaximum}`);
  if (typeof s.multipleOf === 'number') limits.push(`× ${s.multipleOf}`);
  if (typeof s.minLength === 'number' || typeof s.maxLength === 'number') limits.push(`length ${s.minLength ?? 0}–${s.maxLength ?? '∞'}`);
  if (typeof s.minItems === 'number' || typeof s.maxItems === 'number') limits.push(`items ${s.minItems ?? 0}–${s.maxItems ?? '∞'}`);
  if (s.uniqueItems === true) limits.push('unique');
  if (limits.length) fact('docs.limits', el('code', { text: limits.join(', ') }));
  if (typeof s.pattern === 'string') fact('docs.pattern', code(s.pattern));
  if (s.contentMediaType) fact('docs.mediaType', code(s.contentMediaType));
  if (d.discriminator && typeof d.discriminator.propertyName === 'string') fact('docs.discriminator', code(d.discriminator.propertyName));
  return facts.childNodes.length ? facts : null;
}

function flags(d, { required = false } = {}) {
  const out = [];
  if (required) out.push(el('span.docs-flag.docs-required', { i18n: 'docs.required', testid: 'docs-required' }));
  if (d.s.deprecated === true) out.push(el('span.docs-flag.docs-deprecated', { i18n: 'docs.deprecated' }));
  if (d.s.readOnly === true) out.push(el('span.docs-flag', { i18n: 'docs.readOnly' }));
  if (d.s.writeOnly === true) out.push(el('span.docs-flag', { i18n: 'docs.writeOnly' }));
  return out;
}

/** The nested view of an object (property table) and/or its variants. */
function fieldsView(d, depth) {
  const wrap = el('div.docs-fields');
  if (d.props.length) wrap.append(propertyTable(d, depth));
  if (isObj(d.additional) && d.props.length) {
    const vd = describe(d.additional, d.stack);
    wrap.append(el('p.docs-additional.muted', {}, el('span', { i18n: 'docs.additional' }), ' ', el('code.docs-type', { text: typeLabel(vd) })));
  }
  if (d.variants) wrap.append(variantsView(d, depth));
  return wrap;
}

function propertyTable(d, depth) {
  const table = el('table.docs-table.docs-props', { testid: 'docs-props' });
  table.append(el('thead', {}, el('tr', {},
    el('th', { scope: 'col', i18n: 'docs.col.name' }),
    el('th', { scope: 'col', i18n: 'docs.col.type' }),
    el('th', { scope: 'col', i18n: 'docs.col.description' }))));
  const body = el('tbody');
  for (const [pname, pschema] of d.props) {
    const pd = describe(pschema, d.stack);
    const req = d.required.has(pname);
    const row = el('tr.docs-prop-row', { dataset: { prop: pname } },
      el('td.docs-name-cell', {}, el('code.docs-prop', { text: pname, testid: 'docs-prop' }), ...flags(pd, { required: req })),
      el('td.docs-type-cell', {}, el('code.docs-type', { text: typeLabel(pd) })),
      el('td.docs-desc-cell', {}, pd.description ? prose(pd.description) : null, pd.s.title && !pd.description ? el('p', { text: pd.s.title }) : null, schemaFacts(pd)));
    if (pd.s.deprecated === true) row.classList.add('is-deprecated');
    body.append(row);
    const sub = expandable(pd);
    if (sub && sub.recursive) {
      row.querySelector('.docs-desc-cell').append(el('p.docs-recursive.muted', { i18n: ['docs.recursive', { name: sub.recursive }], testid: 'docs-recursive' }));
    } else if (sub && depth < MAX_DEPTH) {
      const details = el('details.docs-nested', { open: depth < 1 },
        el('summary', {}, el('code', { text: sub.via === 'items' ? `${pname}[]` : (sub.via === 'values' ? `${pname}{}` : pname) }), ' ',
          el('span.muted', { text: typeLabel(sub.d) }),
          sub.d.props.length ? el('span.muted', { i18n: ['docs.propCount', { n: sub.d.props.length }] }) : null),
        fieldsView(sub.d, depth + 1));
      body.append(el('tr.docs-nested-row', {}, el('td', { colSpan: 3 }, details)));
    }
  }
  table.append(body);
  return el('div.docs-table-wrap', {}, table);
}

function variantTitle(v, vd, i, d) {
  if (vd.name) return vd.name;
  if (typeof vd.s.title === 'string' && vd.s.title) return vd.s.title;
  // A tag property with a single allowed value names the variant (serde's tagged enums).
  const tagProp = d.discriminator && d.discriminator.propertyName;
  for (const [k, ps] of vd.props) {
    if (tagProp && k !== tagProp) continue;
    const pd = describe(ps, vd.stack);
    const vals = pd.enumValues && pd.enumValues.length === 1 ? pd.enumValues : (pd.s.const !== undefined ? [pd.s.const] : null);
    if (vals && vd.required.has(k)) return `${k} = ${jsonText(vals[0])}`;
  }
  if (vd.props.length === 1 && vd.required.has(vd.props[0][0])) return vd.props[0][0];
  return t('docs.variant', { n: i + 1 });
}

function variantsView(d, depth) {
  const box = el('div.docs-variants', { testid: 'docs-variants' });
  box.append(el('p.docs-variants-title', {}, el('span', { i18n: d.variantKind === 'anyOf' ? 'docs.anyOf' : 'docs.oneOf' })));
  const list = el('ol.docs-variant-list');
  d.variants.forEach((v, i) => {
    const vd = describe(v, d.stack);
    const head = el('div.docs-variant-head', {},
      el('span.docs-variant-name', { text: variantTitle(v, vd, i, d) }), ' ',
      el('code.docs-type', { text: typeLabel(vd) }));
    const item = el('li.docs-variant', {}, head);
    if (vd.description) item.append(prose(vd.description));
    const facts = schemaFacts(vd);
    if (facts) item.append(facts);
    const sub = expandable(vd);
    if (sub && sub.recursive) item.append(el('p.docs-recursive.muted', { i18n: ['docs.recursive', { name: sub.recursive }] }));
    else if (sub && depth < MAX_DEPTH) item.append(fieldsView(sub.d, depth + 1));
    list.append(item);
  });
  box.append(list);
  return box;
}

/** A whole schema (request or response body): type line, description, facts, fields. */
function schemaBlock(schema) {
  const d = describe(schema);
  const block = el('div.docs-schema', { testid: 'docs-schema' });
  block.append(el('div.docs-schema-head', {}, el('code.docs-type', { text: typeLabel(d), testid: 'docs-schema-type' }), ...flags(d)));
  if (d.description) block.append(prose(d.description));
  const facts = schemaFacts(d);
  if (facts) block.append(facts);
  const sub = expandable(d);
  if (sub && sub.d) {
    if (sub.via === 'items') block.append(el('p.docs-sub.muted', { i18n: 'docs.itemsOf' }));
    if (sub.via === 'values') block.append(el('p.docs-sub.muted', { i18n: 'docs.valuesOf' }));
    if (sub.d !== d && sub.d.description) block.append(prose(sub.d.description));
    block.append(fieldsView(sub.d, 0));
  }
  return block;
}

// ------------------------------------------------------------ descriptions

/** Minimal, safe Markdown: paragraphs, "- " lists, fenced code, `code`, **bold**, [links](url). */
function prose(text) {
  const box = el('div.docs-prose');
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  let para = [];
  let list = null;
  let fence = null;
  const flushPara = () => {
    if (para.length) box.append(inline(el('p'), para.join(' ')));
    para = [];
  };
  for (const raw of lines) {
    const line = raw.replace(/\s+$/, '');
    if (fence) {
      if (/^\s*```/.test(line)) { box.append(el('pre.docs-pre', {}, el('code', { text: fence.join('\n') }))); fence = null; } else fence.push(raw);
      continue;
    }
    if (/^\s*```/.test(line)) { flushPara(); list = null; fence = []; continue; }
    const li = /^\s*(?:[-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (li) {
      flushPara();
      if (!list) { list = el('ul'); box.append(list); }
      list.append(inline(el('li'), li[1]));
      continue;
    }
    if (!line.trim()) { flushPara(); list = null; continue; }
    const h = /^\s*#{1,6}\s+(.*)$/.exec(line);
    if (h) { flushPara(); list = null; box.append(inline(el('p.docs-prose-heading'), h[1])); continue; }
    if (list && /^\s{2,}\S/.test(raw)) { list.lastChild.append(' ', ...inline(el('span'), line.trim()).childNodes); continue; }
    list = null;
    para.push(line.trim());
  }
  if (fence) box.append(el('pre.docs-pre', {}, el('code', { text: fence.join('\n') })));
  flushPara();
  return box;
}

function safeHref(url) {
  const u = String(url).trim();
  if (/^(https?:)?\/\//i.test(u) || /^[/#?]/.test(u)) {
    try {
      const parsed = new URL(u, location.href);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return parsed.href;
    } catch { /* not a URL */ }
  }
  return null;
}

function inline(node, text) {
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) node.append(text.slice(last, m.index));
    if (m[1] !== undefined) node.append(el('code', { text: m[1] }));
    else if (m[2] !== undefined) node.append(el('strong', { text: m[2] }));
    else {
      const href = safeHref(m[4]);
      node.append(href ? el('a', { href, text: m[3], rel: 'noopener noreferrer' }) : m[0]);
    }
    last = re.lastIndex;
  }
  if (last < text.length) node.append(text.slice(last));
  return node;
}

// ------------------------------------------------------------ operations

/** All operations in spec order, with path-level parameters merged in. */
function collectOperations() {
  const ops = [];
  const used = new Set();
  const paths = isObj(spec.paths) ? spec.paths : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = deref(rawItem);
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of Object.keys(item)) {
      if (!METHODS.includes(method) || !isObj(item[method])) continue;
      const op = item[method];
      const params = new Map();
      for (const p of [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        const pr = deref(p);
        if (pr && pr.name) params.set(`${pr.in}:${pr.name}`, pr);
      }
      let id = `op-${method}-${path}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/-+$/, '');
      while (used.has(id)) id += '-x';
      used.add(id);
      const tags = Array.isArray(op.tags) && op.tags.length ? op.tags.map(String) : [];
      ops.push({
        id, method, path, op, tags,
        tag: tags[0] || '',
        summary: typeof op.summary === 'string' ? op.summary : (typeof item.summary === 'string' ? item.summary : ''),
        description: typeof op.description === 'string' ? op.description : (typeof item.description === 'string' ? item.description : ''),
        params: [...params.values()],
        servers: Array.isArray(op.servers) && op.servers.length ? op.servers : (Array.isArray(item.servers) && item.servers.length ? item.servers : null),
      });
    }
  }
  return ops;
}

function baseUrl(servers) {
  const list = servers || (Array.isArray(spec.servers) ? spec.servers : []);
  const first = list.find((s) => isObj(s) && typeof s.url === 'string');
  if (!first) return location.origin;
  let url = first.url;
  if (isObj(first.variables)) {
    url = url.replace(/\{([^}]+)\}/g, (m, k) => (isObj(first.variables[k]) && first.variables[k].default !== undefined ? String(first.variables[k].default) : m));
  }
  try { return new URL(url, location.origin).href.replace(/\/+$/, ''); } catch { return location.origin; }
}

/** A path as text with line-break opportunities after each "/". */
function pathText(cls, path) {
  const node = el(cls);
  path.split('/').forEach((part, i) => {
    if (i) node.append('/', document.createElement('wbr'));
    node.append(part);
  });
  return node;
}

function methodBadge(method) {
  return el(`span.method.method-${method}`, { text: method.toUpperCase() });
}

function section(titleKey, ...children) {
  return el('section.docs-section', { dataset: { section: titleKey.split('.').pop() } },
    el('h4.docs-section-title', { i18n: titleKey }), ...children);
}

function parametersView(params) {
  const order = { path: 0, query: 1, header: 2, cookie: 3 };
  const sorted = params.slice().sort((a, b) => (order[a.in] ?? 9) - (order[b.in] ?? 9));
  const table = el('table.docs-table.docs-params', { testid: 'docs-params' });
  table.append(el('thead', {}, el('tr', {},
    el('th', { scope: 'col', i18n: 'docs.col.name' }),
    el('th', { scope: 'col', i18n: 'docs.col.in' }),
    el('th', { scope: 'col', i18n: 'docs.col.type' }),
    el('th', { scope: 'col', i18n: 'docs.col.description' }))));
  const body = el('tbody');
  for (const p of sorted) {
    let schema = p.schema;
    if (!schema && isObj(p.content)) {
      const first = Object.values(p.content).find(isObj);
      schema = first && first.schema;
    }
    const d = describe(schema || {});
    const required = p.required === true || p.in === 'path';
    const desc = el('td.docs-desc-cell', {}, p.description ? prose(p.description) : (d.description ? prose(d.description) : null));
    const facts = schemaFacts({ ...d, s: { ...d.s, ...pick(p, ['example']) } });
    if (facts) desc.append(facts);
    const row = el('tr.docs-param-row', { dataset: { param: p.name, in: p.in || '' }, testid: 'docs-param' },
      el('td.docs-name-cell', {}, el('code.docs-prop', { text: p.name }), ...flags({ ...d, s: { ...d.s, deprecated: p.deprecated } }, { required })),
      el('td', {}, el('span.docs-in', { text: p.in || '' })),
      el('td.docs-type-cell', {}, el('code.docs-type', { text: typeLabel(d) })),
      desc);
    body.append(row);
    const sub = expandable(d);
    if (sub && sub.d) body.append(el('tr.docs-nested-row', {}, el('td', { colSpan: 4 }, fieldsView(sub.d, 1))));
  }
  table.append(body);
  return el('div.docs-table-wrap', {}, table);
}

function contentView(content) {
  const wrap = el('div.docs-media-list');
  for (const [type, media] of Object.entries(content)) {
    const m = isObj(media) ? media : {};
    const box = el('div.docs-media', { dataset: { contentType: type }, testid: 'docs-media' },
      el('div.docs-media-type', {}, el('span.muted', { i18n: 'docs.contentType' }), ' ', el('code', { text: type })));
    if (m.schema !== undefined) box.append(schemaBlock(m.schema));
    else box.append(el('p.muted', { i18n: 'docs.noSchema' }));
    const example = m.example !== undefined ? m.example
      : (isObj(m.examples) ? (Object.values(m.examples).map(deref).find((x) => x.value !== undefined) || {}).value : undefined);
    if (example !== undefined) {
      box.append(el('details.docs-example', {}, el('summary', { i18n: 'docs.exampleValue' }),
        el('pre.docs-pre', {}, el('code', { text: typeof example === 'string' ? example : JSON.stringify(example, null, 2) }))));
    }
    wrap.append(box);
  }
  return wrap;
}

function statusClass(code) {
  const c = String(code)[0];
  return ['1', '2', '3', '4', '5'].includes(c) ? `status-${c}xx` : 'status-default';
}

function statusOrder(code) {
  if (code === 'default') return 1000;
  const n = Number(String(code).replace(/x/gi, '0'));
  return Number.isFinite(n) ? n : 999;
}

function responsesView(responses) {
  const wrap = el('div.docs-responses');
  const entries = Object.entries(responses).sort((a, b) => statusOrder(a[0]) - statusOrder(b[0]));
  for (const [code, raw] of entries) {
    const r = deref(raw);
    const ok = /^2/.test(code);
    const details = el('details.docs-response', { open: ok, dataset: { status: code }, testid: 'docs-response' },
      el('summary', {}, el(`span.status.${statusClass(code)}`, { text: code }), ' ',
        el('span.docs-response-desc', { text: typeof r.description === 'string' ? r.description.split('\n')[0] : '' })));
    if (typeof r.description === 'string' && r.description.includes('\n')) details.append(prose(r.description));
    if (isObj(r.headers) && Object.keys(r.headers).length) {
      const table = el('table.docs-table');
      table.append(el('thead', {}, el('tr', {},
        el('th', { scope: 'col', i18n: 'docs.header' }),
        el('th', { scope: 'col', i18n: 'docs.col.type' }),
        el('th', { scope: 'col', i18n: 'docs.col.description' }))));
      const body = el('tbody');
      for (const [hname, hraw] of Object.entries(r.headers)) {
        const h = deref(hraw);
        const hd = describe(h.schema || {});
        body.append(el('tr', {}, el('td', {}, el('code.docs-prop', { text: hname })),
          el('td', {}, el('code.docs-type', { text: typeLabel(hd) })),
          el('td', {}, h.description ? prose(h.description) : null)));
      }
      table.append(body);
      details.append(el('div.docs-table-wrap', {}, table));
    }
    if (isObj(r.content) && Object.keys(r.content).length) details.append(contentView(r.content));
    else details.append(el('p.muted.docs-nobody', { i18n: 'docs.noBody' }));
    wrap.append(details);
  }
  return wrap;
}

// ------------------------------------------------------------------ curl

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** A plausible example value for a schema. */
function sample(schema, stack = new Set(), depth = 0) {
  const d = describe(schema, stack);
  const s = d.s;
  if (s.example !== undefined) return s.example;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (d.enumValues && d.enumValues.length) return d.enumValues[0];
  if (d.recursive || depth > 5) return d.types.includes('array') ? [] : (d.types.includes('object') ? {} : null);
  if (d.variants) return sample(d.variants[0], d.stack, depth + 1);
  const type = d.types[0];
  if (d.props.length || type === 'object') {
    const out = {};
    const chosen = chooseProps(d, 8);
    for (const [k, ps] of chosen) out[k] = sample(ps, d.stack, depth + 1);
    if (!d.props.length && isObj(d.additional)) out.key = sample(d.additional, d.stack, depth + 1);
    return out;
  }
  if (type === 'array') return d.items === undefined ? [] : [sample(d.items, d.stack, depth + 1)];
  if (type === 'integer') return typeof s.minimum === 'number' ? s.minimum : 0;
  if (type === 'number') return typeof s.minimum === 'number' ? s.minimum : 0.5;
  if (type === 'boolean') return true;
  if (type === 'null') return null;
  if (type === 'string') {
    const f = d.format;
    if (f === 'date-time') return '2025-01-01T12:00:00Z';
    if (f === 'date') return '2025-01-01';
    if (f === 'uuid') return '00000000-0000-0000-0000-000000000000';
    if (f === 'email') return 'user@example.com';
    if (f === 'uri' || f === 'url') return 'https://example.com/';
    if (f === 'byte') return 'aGVsbG8=';
    return 'string';
  }
  return d.nullable ? null : 'value';
}

/** Properties for an example: the required ones (and file fields), else the first few. */
function chooseProps(d, fallback) {
  const usable = d.props.filter(([, ps]) => describe(ps, d.stack).s.readOnly !== true);
  const req = usable.filter(([k]) => d.required.has(k));
  const files = usable.filter(([k, ps]) => !d.required.has(k) && isBinary(describe(ps, d.stack)));
  if (req.length) return [...files, ...req];
  return usable.slice(0, fallback);
}

function paramValue(p) {
  const d = describe(p.schema || {});
  const v = p.example !== undefined ? p.example : (d.s.example !== undefined ? d.s.example
    : (d.s.default !== undefined ? d.s.default : (d.enumValues && d.enumValues.length ? d.enumValues[0] : undefined)));
  return v === undefined ? null : jsonText(v);
}

function securityHeaders(op) {
  const reqs = Array.isArray(op.security) ? op.security : (Array.isArray(spec.security) ? spec.security : []);
  const schemes = isObj(spec.components) && isObj(spec.components.securitySchemes) ? spec.components.securitySchemes : {};
  const out = [];
  const first = reqs.find((r) => isObj(r) && Object.keys(r).length);
  if (!first) return out;
  for (const key of Object.keys(first)) {
    const sc = deref(schemes[key]);
    if (sc.type === 'http' && String(sc.scheme).toLowerCase() === 'bearer') out.push('Authorization: Bearer <token>');
    else if (sc.type === 'http' && String(sc.scheme).toLowerCase() === 'basic') out.push('Authorization: Basic <credentials>');
    else if (sc.type === 'apiKey' && sc.in === 'header' && sc.name) out.push(`${sc.name}: <api-key>`);
    else if (sc.type === 'oauth2' || sc.type === 'openIdConnect') out.push('Authorization: Bearer <token>');
  }
  return out;
}

/** One curl command per request content type (or one without a body). */
function curlExamples(entry) {
  const { method, path, params, op } = entry;
  let url = baseUrl(entry.servers) + path.replace(/\{([^}]+)\}/g, (m, name) => {
    const p = params.find((x) => x.in === 'path' && x.name === name);
    const v = p ? paramValue(p) : null;
    return v === null ? `<${name}>` : encodeURIComponent(v);
  });
  const query = params.filter((p) => p.in === 'query' && p.required === true)
    .map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(paramValue(p) ?? `<${p.name}>`)}`);
  if (query.length) url += `?${query.join('&')}`;
  const headerArgs = [
    ...securityHeaders(op),
    ...params.filter((p) => p.in === 'header' && p.required === true).map((p) => `${p.name}: ${paramValue(p) ?? `<${p.name}>`}`),
  ];
  const head = method === 'get' ? [`curl ${shq(url)}`] : [`curl -X ${method.toUpperCase()} ${shq(url)}`];
  for (const h of headerArgs) head.push(`-H ${shq(h)}`);

  const body = deref(op.requestBody);
  const content = isObj(body.content) ? body.content : {};
  const types = Object.keys(content);
  if (!types.length) return [{ type: '', text: join(head) }];
  return types.map((type) => {
    const lines = head.slice();
    const schema = isObj(content[type]) ? content[type].schema : undefined;
    const base = type.split(';')[0].trim().toLowerCase();
    if (base === 'multipart/form-data' || base === 'application/x-www-form-urlencoded') {
      const d = describe(schema || {});
      for (const [k, ps] of chooseProps(d, 3)) {
        const pd = describe(ps, d.stack);
        if (base === 'multipart/form-data' && (isBinary(pd) || (pd.types[0] === 'array' && pd.items && isBinary(describe(pd.items, pd.stack))))) {
          lines.push(`-F ${shq(`${k}=@${/image|photo|picture|img/i.test(k) ? 'photo.jpg' : 'file.bin'}`)}`);
        } else {
          const v = sample(ps, d.stack);
          const text = typeof v === 'string' ? v : JSON.stringify(v);
          lines.push(base === 'multipart/form-data' ? `-F ${shq(`${k}=${text}`)}` : `--data-urlencode ${shq(`${k}=${text}`)}`);
        }
      }
    } else if (/json/.test(base)) {
      lines.push(`-H ${shq(`Content-Type: ${type}`)}`);
      lines.push(`-d ${shq(JSON.stringify(sample(schema || {}), null, 2))}`);
    } else if (base.startsWith('text/')) {
      lines.push(`-H ${shq(`Content-Type: ${type}`)}`);
      lines.push(`--data-binary ${shq('@body.txt')}`);
    } else {
      lines.push(`-H ${shq(`Content-Type: ${type.includes('*') ? 'application/octet-stream' : type}`)}`);
      lines.push(`--data-binary ${shq(/image/.test(base) ? '@photo.jpg' : '@file.bin')}`);
    }
    return { type, text: join(lines) };
  });
}

const join = (lines) => lines.join(' \\\n  ');

async function copyText(text, pre) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch { /* permission denied or no clipboard: select it instead */ }
  const range = document.createRange();
  range.selectNodeContents(pre);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  try { return document.execCommand('copy'); } catch { return false; }
}

function curlView(entry) {
  const wrap = el('div.docs-curl-list');
  for (const ex of curlExamples(entry)) {
    const pre = el('pre.docs-pre.docs-code', { testid: 'docs-curl' }, el('code', { text: ex.text }));
    const btn = el('button.btn.btn-small.btn-secondary.docs-copy', { type: 'button', i18n: 'docs.copy', testid: 'docs-copy' });
    btn.addEventListener('click', async () => {
      const ok = await copyText(ex.text, pre).catch(() => false);
      btn.setAttribute('data-i18n', ok ? 'docs.copied' : 'docs.selected');
      btn.textContent = t(ok ? 'docs.copied' : 'docs.selected');
      btn.dataset.state = ok ? 'copied' : 'selected';
      if (!ok) toast(t('docs.copyFailed'), 'info');
      setTimeout(() => {
        btn.setAttribute('data-i18n', 'docs.copy');
        btn.textContent = t('docs.copy');
        delete btn.dataset.state;
      }, 1800);
    });
    wrap.append(el('div.docs-code-box', { dataset: { contentType: ex.type } },
      el('div.docs-code-head', {}, el('span.muted', { text: ex.type ? `curl · ${ex.type}` : 'curl' }), btn),
      pre));
  }
  return wrap;
}

// ------------------------------------------------------------- rendering

let entries = [];

function operationBody(entry) {
  const { op } = entry;
  const body = el('div.docs-op-content');
  if (op.deprecated === true) body.append(el('p.alert.docs-deprecated-note', { i18n: 'docs.deprecatedOp' }));
  if (entry.description) body.append(prose(entry.description));
  const meta = el('p.docs-op-meta.muted');
  if (typeof op.operationId === 'string') meta.append(el('span', { i18n: 'docs.operationId' }), ' ', el('code', { text: op.operationId }));
  if (meta.childNodes.length) body.append(meta);

  if (entry.params.length) body.append(section('docs.parameters', parametersView(entry.params)));

  const rb = deref(op.requestBody);
  if (isObj(rb.content) && Object.keys(rb.content).length) {
    const head = [];
    if (rb.required === true) head.push(el('span.docs-flag.docs-required', { i18n: 'docs.required' }));
    body.append(section('docs.requestBody', ...head, rb.description ? prose(rb.description) : null, contentView(rb.content)));
  }

  if (isObj(op.responses) && Object.keys(op.responses).length) body.append(section('docs.responses', responsesView(op.responses)));

  body.append(section('docs.curl', curlView(entry)));
  return body;
}

function setOpen(entry, open) {
  if (open && !entry.built) {
    try {
      entry.bodyEl.append(operationBody(entry));
    } catch (err) {
      entry.bodyEl.append(el('p.alert.alert-error', { text: `${t('docs.renderError')} ${err.message}` }));
    }
    entry.built = true;
  }
  entry.bodyEl.hidden = !open;
  entry.toggle.setAttribute('aria-expanded', String(open));
  entry.section.classList.toggle('is-open', open);
}

function openFromHash({ focus = false } = {}) {
  const id = decodeURIComponent(location.hash.replace(/^#/, ''));
  const entry = entries.find((e) => e.id === id);
  for (const e of entries) {
    if (e === entry) e.link.setAttribute('aria-current', 'location');
    else e.link.removeAttribute('aria-current');
  }
  if (!entry) return;
  if (entry.section.hidden) { $('docs-filter').value = ''; applyFilter(); }
  setOpen(entry, true);
  entry.section.scrollIntoView({ block: 'start' });
  if (focus) entry.toggle.focus({ preventScroll: true });
}

function groupOrder(ops) {
  const order = [];
  const declared = Array.isArray(spec.tags) ? spec.tags.filter((x) => isObj(x) && typeof x.name === 'string') : [];
  for (const tg of declared) if (ops.some((o) => o.tag === tg.name)) order.push(tg.name);
  for (const o of ops) if (!order.includes(o.tag)) order.push(o.tag);
  return order.map((name) => ({
    name,
    info: declared.find((x) => x.name === name) || null,
    ops: ops.filter((o) => o.tag === name),
  }));
}

function renderInfo() {
  const info = isObj(spec.info) ? spec.info : {};
  if (typeof info.title === 'string' && info.title) {
    const title = $('docs-title');
    title.removeAttribute('data-i18n');
    title.textContent = info.title;
  }
  if (info.version !== undefined) {
    $('docs-version').textContent = `v${String(info.version).replace(/^v/, '')}`;
    $('docs-version').hidden = false;
  }
  const oas = spec.openapi || spec.swagger;
  if (oas) { $('docs-oas').textContent = `OpenAPI ${oas}`; $('docs-oas').hidden = false; }
  const desc = $('docs-description');
  clear(desc);
  if (typeof info.description === 'string' && info.description) desc.append(prose(info.description));
  $('docs-base-url').textContent = baseUrl(null);
  $('docs-base').hidden = false;
}

function render() {
  renderInfo();
  const ops = collectOperations();
  const nav = clear($('docs-nav'));
  const main = clear($('docs-ops'));
  entries = [];
  for (const group of groupOrder(ops)) {
    const label = group.name || t('docs.untagged');
    const navList = el('ul.docs-nav-list');
    const navGroup = el('div.docs-nav-group', { dataset: { tag: group.name } },
      group.name ? el('h2.docs-nav-title', { text: label }) : el('h2.docs-nav-title', { i18n: 'docs.untagged' }), navList);
    const tagSection = el('section.docs-tag', { dataset: { tag: group.name }, testid: 'docs-tag' },
      group.name ? el('h2.docs-tag-title', { text: label }) : el('h2.docs-tag-title', { i18n: 'docs.untagged' }));
    if (group.info && typeof group.info.description === 'string' && group.info.description) tagSection.append(prose(group.info.description));
    for (const o of group.ops) {
      const link = el('a.docs-nav-link', { href: `#${o.id}`, dataset: { method: o.method, path: o.path }, testid: 'docs-op-link', title: o.summary || undefined },
        methodBadge(o.method), ' ', pathText('span.docs-nav-path', o.path));
      if (o.op.deprecated === true) link.classList.add('is-deprecated');
      const li = el('li', {}, link);
      navList.append(li);
      const bodyEl = el('div.docs-op-body', { id: `${o.id}-body`, hidden: true });
      const toggle = el('button.docs-op-toggle', { type: 'button', 'aria-expanded': 'false', 'aria-controls': `${o.id}-body`, testid: 'docs-op-toggle' },
        methodBadge(o.method), ' ', pathText('code.docs-path', o.path),
        o.summary ? el('span.docs-op-summary', { text: o.summary }) : null,
        el('span.docs-chevron', { 'aria-hidden': 'true' }));
      const sectionEl = el('section.docs-op', { id: o.id, dataset: { method: o.method, path: o.path }, testid: 'docs-op' },
        el('h3.docs-op-heading', {}, toggle), bodyEl);
      if (o.op.deprecated === true) sectionEl.classList.add('is-deprecated');
      tagSection.append(sectionEl);
      const entry = {
        ...o, link, li, navGroup, tagSection, section: sectionEl, toggle, bodyEl, built: false,
        haystack: [o.method, o.path, `${o.method} ${o.path}`, o.summary, o.description, o.op.operationId, ...o.tags]
          .filter((x) => typeof x === 'string').join('\n').toLowerCase(),
      };
      entries.push(entry);
      toggle.addEventListener('click', () => {
        const open = toggle.getAttribute('aria-expanded') !== 'true';
        setOpen(entry, open);
        if (open) history.replaceState(null, '', `#${o.id}`);
      });
      link.addEventListener('click', (e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        if (location.hash !== `#${o.id}`) history.pushState(null, '', `#${o.id}`);
        openFromHash({ focus: true });
      });
    }
    nav.append(navGroup);
    main.append(tagSection);
  }
  $('docs-toolbar').hidden = entries.length === 0;
  applyFilter();
  if (location.hash) openFromHash();
}

// ---------------------------------------------------------------- filter

function applyFilter() {
  const terms = $('docs-filter').value.toLowerCase().split(/\s+/).filter(Boolean);
  for (const e of entries) {
    const show = terms.every((term) => e.haystack.includes(term));
    e.li.hidden = !show;
    e.section.hidden = !show;
  }
  for (const e of entries) {
    const groupEntries = entries.filter((x) => x.navGroup === e.navGroup);
    const any = groupEntries.some((x) => !x.section.hidden);
    e.navGroup.hidden = !any;
    e.tagSection.hidden = !any;
  }
  $('docs-empty').hidden = !(entries.length && entries.every((e) => e.section.hidden));
  updateFilterCount();
}

function updateFilterCount() {
  const out = $('docs-filter-count');
  if (!entries.length) { out.textContent = ''; return; }
  const shown = entries.filter((e) => !e.section.hidden).length;
  if (shown === entries.length) {
    out.setAttribute('data-i18n', 'docs.countAll');
    out.setAttribute('data-i18n-vars', JSON.stringify({ n: entries.length }));
    out.textContent = t('docs.countAll', { n: entries.length });
  } else {
    out.setAttribute('data-i18n', 'docs.countShown');
    out.setAttribute('data-i18n-vars', JSON.stringify({ n: shown, total: entries.length }));
    out.textContent = t('docs.countShown', { n: shown, total: entries.length });
  }
}

function initFilter() {
  const input = $('docs-filter');
  input.addEventListener('input', applyFilter);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && input.value) { input.value = ''; applyFilter(); e.preventDefault(); }
    if (e.key === 'Enter') {
      const first = entries.find((x) => !x.section.hidden);
      if (first) { e.preventDefault(); first.link.click(); }
    }
  });
  document.addEventListener('keydown', (e) => {
    const tag = (document.activeElement && document.activeElement.tagName) || '';
    if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !['INPUT', 'TEXTAREA', 'SELECT'].includes(tag)) {
      e.preventDefault();
      input.focus();
      input.select();
    }
  });
  $('docs-expand-all').addEventListener('click', () => { for (const e of entries) if (!e.section.hidden) setOpen(e, true); });
  $('docs-collapse-all').addEventListener('click', () => { for (const e of entries) setOpen(e, false); });
}

// ------------------------------------------------------------------ load

async function load() {
  $('docs-loading').hidden = false;
  $('docs-error').hidden = true;
  try {
    const res = await fetch(SPEC_URL, { headers: { Accept: 'application/json' }, cache: 'no-cache' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = await res.json();
    if (!isObj(data) || (!isObj(data.paths) && !data.openapi)) throw new Error(t('docs.notOpenApi'));
    spec = data;
    render();
    document.body.dataset.state = 'ready';
  } catch (err) {
    $('docs-error-text').textContent = t('docs.loadError', { message: err.message || String(err) });
    $('docs-error').hidden = false;
    document.body.dataset.state = 'error';
  } finally {
    $('docs-loading').hidden = true;
  }
}

initChrome();
initFilter();
$('docs-retry').addEventListener('click', load);
window.addEventListener('hashchange', () => openFromHash({ focus: true }));
window.addEventListener('popstate', () => openFromHash());
load();
