// A tiny stand-in for `pyxa serve`, for fast UI development and tests.
//
// Serves ../../frontend at / (with the same CSP the real server sends), the API
// reference page at /docs with the committed services/pyxa/openapi.json at
// /openapi.json, and an in-memory imitation of the public /v1 API, including
// the SSE stream of POST /v1/ask. It does not look at pixels: a photo is "recognised" when the
// same bytes are in the knowledge base, which is enough to exercise the UI.
//
//   node mock-server.mjs [port]        # then open http://127.0.0.1:PORT/
//
// Special prompts: "#error" ends the stream with `event: error`; "#500" fails
// with a JSON 500; "#slow" streams slowly. Documents (.txt .md .html .pdf) are split at blank
// lines into passages; a question without a photo is answered from the passages that share its
// words (answer_source `passage`), or with `no_evidence` when none do.

import http from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FRONTEND_DIR = path.resolve(here, '../../frontend');

export const CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
/** The committed OpenAPI description, served at /openapi.json like the real server does. */
export const OPENAPI_FILE = path.resolve(here, '../../services/pyxa/openapi.json');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

const ZH = {
  cat: '猫', dog: '狗', coffee: '咖啡', rocket: '火箭', astronaut: '宇航员', tabby: '虎斑猫', 'tabby cat': '虎斑猫', cup: '杯子',
};

const NAME_RE = /^[a-z0-9_-]{1,64}$/;

function sniffImage(buf) {
  if (buf.length > 8 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47) return 'image/png';
  if (buf.length > 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'image/jpeg';
  if (buf.length > 6 && buf.subarray(0, 3).toString('latin1') === 'GIF') return 'image/gif';
  if (buf.length > 12 && buf.subarray(0, 4).toString('latin1') === 'RIFF' && buf.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (buf.length > 2 && buf[0] === 0x42 && buf[1] === 0x4d) return 'image/bmp';
  return null;
}

/** Deterministic pseudo-similarity in [lo, hi) for two hashes. */
function pseudo(a, b, lo = 0.12, hi = 0.5) {
  const h = createHash('sha256').update([a, b].sort().join(':')).digest();
  return lo + (h.readUInt32BE(0) / 0xffffffff) * (hi - lo);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class ApiErr extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

export function createMockState() {
  const now = new Date().toISOString();
  return {
    collections: new Map([['default', { name: 'default', description: 'Default collection', created_at: now }]]),
    items: [], // {id, collection, label, text, kind, metadata, content_hash, created_at, learned, document}
    documents: [], // {id, collection, title, file_name, mime, bytes, content_hash, passages, state, created_at}
    blobs: new Map(), // hash -> {buf, type}
    conversations: new Map(),
    answers: new Map(),
    requests: [], // log of {method, path} for assertions
  };
}

export async function startMockServer({ port = 0, host = '127.0.0.1', frontendDir = FRONTEND_DIR, tokenDelayMs = 12, quiet = true } = {}) {
  const state = createMockState();

  const itemJson = (it) => ({
    id: it.id,
    collection: it.collection,
    label: it.label,
    text: it.text,
    kind: it.kind,
    metadata: it.metadata,
    content_hash: it.content_hash,
    thumbnail_url: it.kind !== 'passage' && it.content_hash ? `/v1/blobs/${it.content_hash}/thumbnail` : null,
    image_url: it.kind !== 'passage' && it.content_hash ? `/v1/blobs/${it.content_hash}` : null,
    ...(it.document ? { document: it.document } : {}),
    created_at: it.created_at,
  });
  const docJson = (d) => ({ ...d });
  const DOC_TYPES = { txt: 'text/plain', md: 'text/markdown', markdown: 'text/markdown', html: 'text/html', htm: 'text/html', pdf: 'application/pdf' };
  const MAX_DOCUMENT_BYTES = 20 * 1024 * 1024;
  const snippet = (text) => (text.length > 280 ? `${text.slice(0, 280)}…` : text);

  /** POST /v1/collections/{c}/documents: one `file` part; the name decides the type. */
  async function addDocument(req, collection, body) {
    const r = new Request('http://mock/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] || '' }, body });
    let form;
    try { form = await r.formData(); } catch { throw new ApiErr(400, 'invalid_multipart', 'The body is not multipart/form-data.'); }
    const parts = [...form.entries()];
    if (parts.length !== 1 || parts[0][0] !== 'file' || typeof parts[0][1] !== 'object') {
      throw new ApiErr(400, 'invalid_multipart', 'Send exactly one part named "file".');
    }
    const file = parts[0][1];
    const name = file.name || 'document';
    const buf = Buffer.from(await file.arrayBuffer());
    const ext = (/\.([a-z0-9]+)$/i.exec(name) || [])[1];
    const mime = DOC_TYPES[String(ext || '').toLowerCase()];
    if (!mime) throw new ApiErr(415, 'unsupported_document', `${name}: pyxa reads .txt, .md, .markdown, .html, .htm, .pdf files`);
    if (buf.length > MAX_DOCUMENT_BYTES) throw new ApiErr(413, 'document_too_large', `${name} is larger than 20 MiB`);
    const hash = createHash('sha256').update(buf).digest('hex');
    const dup = state.documents.find((d) => d.collection === collection && d.content_hash === hash);
    if (dup) throw new ApiErr(409, 'duplicate_document', `this document is already in the collection as ${dup.id}`);
    let text = buf.toString('utf8');
    let title = name.replace(/\.[^.]+$/, '');
    if (mime === 'text/html') {
      const m = /<title>([^<]*)<\/title>/i.exec(text);
      if (m && m[1].trim()) title = m[1].trim();
      text = text.replace(/<(script|style|title)[^>]*>[\s\S]*?<\/\1>/gi, '').replace(/<\/(p|h\d|li|div)>/gi, '\n\n').replace(/<[^>]+>/g, '');
    } else if (mime === 'text/markdown') {
      const m = /^#\s+(.+)$/m.exec(text);
      if (m) title = m[1].trim();
    } else if (mime === 'application/pdf' && !text.startsWith('%PDF')) {
      throw new ApiErr(400, 'invalid_document', `${name} is not a PDF file`);
    }
    const paragraphs = text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
    if (!paragraphs.length) throw new ApiErr(400, 'empty_document', `${name} holds no text`);
    // Passages of a few paragraphs, like the real splitter's "about a paragraph".
    const passages = [];
    let cur = '';
    for (const p of paragraphs) {
      if (cur && cur.length + p.length > 400) { passages.push(cur); cur = ''; }
      cur = cur ? `${cur}\n\n${p}` : p;
    }
    if (cur) passages.push(cur);
    await sleep(/slow/i.test(name) ? 800 : 120); // splitting and indexing take a moment
    const now = new Date().toISOString();
    const doc = {
      id: `doc_${randomUUID().slice(0, 12)}`, collection, title, file_name: name, mime, bytes: buf.length,
      content_hash: hash, passages: passages.length, state: 'indexed', created_at: now,
    };
    state.documents.push(doc);
    passages.forEach((p, position) => state.items.push({
      id: `item_${randomUUID().slice(0, 12)}`, collection, label: '', text: p, kind: 'passage', metadata: {},
      content_hash: `${doc.id}#${position}`, created_at: now, document: { id: doc.id, title, position },
    }));
    return doc;
  }

  /** The passages of `collection` that share words with `prompt`, best first. */
  function matchPassages(collection, prompt) {
    const words = new Set(String(prompt || '').toLowerCase().match(/[a-z0-9]{3,}|[\u3400-\u9fff]/g) || []);
    for (const w of ['what', 'the', 'who', 'how', 'are', 'is', 'called', 'does', 'this']) words.delete(w);
    return state.items.filter((i) => i.collection === collection && i.kind === 'passage').map((it) => {
      const text = it.text.toLowerCase();
      const hits = [...words].filter((w) => text.includes(w)).length;
      return { it, score: words.size ? hits / words.size : 0 };
    }).filter((x) => x.score > 0).sort((a, b) => b.score - a.score);
  }
  const collJson = (c) => ({
    name: c.name, description: c.description, created_at: c.created_at,
    item_count: state.items.filter((i) => i.collection === c.name).length,
    settings: { ...(c.settings || {}) },
  });
  /** Workspace settings merged with `patch` (a field given replaces, null restores the default), checked like pyxa does. */
  const SETTING_KEYS = ['mode', 'system_prompt', 'temperature', 'top_k', 'min_similarity'];
  const mergeSettings = (current, patch) => {
    if (patch === undefined || patch === null) return current;
    if (typeof patch !== 'object' || Array.isArray(patch)) throw new ApiErr(400, 'invalid_settings', 'settings must be a JSON object.');
    const out = { ...current };
    for (const [k, v] of Object.entries(patch)) {
      if (!SETTING_KEYS.includes(k)) throw new ApiErr(400, 'invalid_settings', `unknown setting "${k}"; known: ${SETTING_KEYS.join(', ')}`);
      if (v === null) { delete out[k]; continue; }
      const bad = (msg) => { throw new ApiErr(400, 'invalid_settings', msg); };
      if (k === 'mode' && !['chat', 'query'].includes(v)) bad('mode must be "chat" or "query".');
      if (k === 'system_prompt' && (typeof v !== 'string' || !v.trim() || v.length > 4000)) bad('system_prompt must have 1-4000 characters.');
      if (k === 'temperature' && !(typeof v === 'number' && v >= 0 && v <= 2)) bad('temperature must be between 0 and 2.');
      if (k === 'top_k' && !(Number.isInteger(v) && v >= 1 && v <= 100)) bad('top_k must be between 1 and 100.');
      if (k === 'min_similarity' && !(typeof v === 'number' && v >= 0 && v <= 1)) bad('min_similarity must be between 0 and 1.');
      out[k] = v;
    }
    return out;
  };
  const needCollection = (name) => {
    const c = state.collections.get(name || 'default');
    if (!c) throw new ApiErr(404, 'collection_not_found', `Collection "${name}" does not exist.`);
    return c;
  };

  async function readBody(req) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async function parseForm(req, body) {
    const r = new Request('http://mock/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] }, body });
    const form = await r.formData();
    const fields = {};
    let image = null;
    for (const [k, v] of form.entries()) {
      if (k === 'image' && typeof v === 'object') {
        const buf = Buffer.from(await v.arrayBuffer());
        image = { buf, name: v.name, type: v.type };
      } else {
        fields[k] = String(v);
      }
    }
    return { fields, image };
  }

  function storeImage(image) {
    if (!image) return null;
    if (!image.buf.length) throw new ApiErr(400, 'invalid_image', 'The uploaded image is empty.');
    const type = sniffImage(image.buf);
    if (!type) {
      throw new ApiErr(415, 'invalid_image', `Could not decode "${image.name || 'upload'}" as an image: the file is not a PNG, JPEG, GIF, WebP or BMP picture.`);
    }
    const hash = createHash('sha256').update(image.buf).digest('hex');
    state.blobs.set(hash, { buf: image.buf, type });
    return hash;
  }

  function scoreItems(collection, hash, prompt) {
    const items = state.items.filter((i) => i.collection === collection);
    const words = String(prompt || '').toLowerCase();
    return items.map((it) => {
      let score;
      if (hash && it.content_hash === hash) score = it.learned ? 0.99 : 0.96;
      else if (hash) score = pseudo(hash, it.content_hash || it.id);
      else score = it.label && words.includes(it.label.toLowerCase()) ? 0.8 : pseudo(words, it.id, 0.05, 0.3);
      return { it, score };
    }).sort((a, b) => b.score - a.score || String(b.it.created_at).localeCompare(String(a.it.created_at)));
  }

  function candidatesFrom(scored) {
    const best = new Map();
    for (const { it, score } of scored) {
      if (!it.label) continue;
      if (!best.has(it.label) || best.get(it.label) < score) best.set(it.label, score);
    }
    const entries = [...best.entries()];
    const exps = entries.map(([, s]) => Math.exp(s * 12));
    const sum = exps.reduce((a, b) => a + b, 0) || 1;
    return entries.map(([label, s], i) => {
      const c = { label, probability: Number((exps[i] / sum).toFixed(4)) };
      if (ZH[label]) c.label_zh = ZH[label];
      // As the real server: a Chinese label is its own Chinese name, with its English reading.
      const en = Object.keys(ZH).find((k) => ZH[k] === label);
      if (en) Object.assign(c, { label_zh: label, label_en: en });
      return c;
    }).sort((a, b) => b.probability - a.probability).slice(0, 5);
  }

  function composeAnswer(lang, candidates, citations, followup) {
    if (!candidates.length) {
      return lang === 'zh'
        ? '知识库里还没有相似的照片。请先在“知识库”页面添加带标签的照片，然后再问一次。'
        : "I couldn't find anything similar in the knowledge base yet. Add some labelled photos on the Knowledge base page and ask again.";
    }
    const top = candidates[0];
    const refs = citations.filter((c) => c.label === top.label).map((c) => `[${c.n}]`).join('') || '[1]';
    const others = candidates.slice(1, 3).map((c) => (lang === 'zh' ? (c.label_zh || c.label) : c.label));
    const confident = top.probability >= 0.6;
    if (lang === 'zh') {
      const name = top.label_zh || top.label;
      let s = confident ? `这是一只${name}，也就是“${top.label}” ${refs}。` : `我不太确定，可能是${name} ${refs}。`;
      s += `\n\n它与知识库中标注为“${top.label}”的照片最相似${refs}。`;
      if (others.length) s += `其他可能：${others.join('、')}。`;
      if (followup) s += '\n\n（这是对同一张照片的追问。）';
      return s;
    }
    let s = confident ? `This is a **${top.label}** ${refs}.` : `I'm not sure, but this might be a **${top.label}** ${refs}.`;
    s += `\n\nIt closely matches the photos labelled “${top.label}” in your knowledge base ${refs}.`;
    if (others.length) s += `\n\nOther possibilities:\n- ${others.join('\n- ')}`;
    if (followup) s += '\n\n(Answering a follow-up about the same photo.)';
    return s;
  }

  async function ask(req, res, body) {
    const { fields, image } = await parseForm(req, body);
    const prompt = fields.prompt || '';
    if (prompt.includes('#500')) throw new ApiErr(500, 'internal', 'The generator crashed (mock).');
    const collection = fields.collection || 'default';
    needCollection(collection);
    let conv = fields.conversation_id ? state.conversations.get(fields.conversation_id) : null;
    if (fields.conversation_id && !conv) throw new ApiErr(404, 'conversation_not_found', 'No such conversation.');
    let hash = storeImage(image);
    const followup = Boolean(conv && !hash);
    if (!hash && conv) hash = conv.lastHash;
    const lang = fields.lang === 'zh' || fields.lang === 'en' ? fields.lang : (/[\u3400-\u9fff]/.test(prompt) ? 'zh' : 'en');
    const topK = Math.max(1, Math.min(20, Number(fields.top_k) || 5));
    // A question without a photo, in a collection with documents, is answered from its passages.
    const fromText = !hash && state.items.some((i) => i.collection === collection && i.kind === 'passage');
    const scored = fromText ? matchPassages(collection, prompt) : scoreItems(collection, hash, prompt).filter(({ it }) => it.kind !== 'passage');
    const candidates = fromText ? [] : candidatesFrom(scored);
    const citations = scored.slice(0, Math.min(topK, 4)).map(({ it, score }, i) => (it.kind === 'passage'
      ? {
        n: i + 1, item_id: it.id, label: null, score: Number(score.toFixed(3)), thumbnail_url: null,
        snippet: snippet(it.text), document: it.document,
      }
      : {
        n: i + 1, item_id: it.id, label: it.label, score: Number(score.toFixed(3)),
        thumbnail_url: it.content_hash ? `/v1/blobs/${it.content_hash}/thumbnail` : null,
      }));
    let answerSource = 'llm';
    let answerText;
    if (fromText && !citations.length) {
      answerSource = 'no_evidence';
      answerText = lang === 'zh' ? '知识库里没有关于这个问题的内容。' : 'The knowledge base holds nothing about this.';
    } else if (fromText) {
      answerSource = 'passage';
      const top = scored[0].it;
      const words = String(prompt).toLowerCase().match(/[a-z0-9]{4,}|[\u3400-\u9fff]/g) || [];
      const sentences = top.text.split(/\n+|(?<=[.!?。！？])\s*/).filter((x) => x.trim() && !/^\s*#/.test(x));
      const hits = (x) => words.filter((w) => x.toLowerCase().includes(w)).length;
      const sentence = sentences.reduce((best, x) => (hits(x) > hits(best) ? x : best), sentences[0] || top.text);
      answerText = `${sentence.trim()} [1]`;
    } else {
      answerText = composeAnswer(lang, candidates, citations, followup);
    }
    const now = new Date().toISOString();
    if (!conv) {
      conv = { id: `conv_${randomUUID().slice(0, 8)}`, title: prompt.slice(0, 60) || 'Photo question', created_at: now, updated_at: now, turns: [], lastHash: null };
      state.conversations.set(conv.id, conv);
    }
    if (hash) conv.lastHash = hash;
    if (conv.turns.length === 0 && candidates.length) {
      conv.title = `${prompt.slice(0, 40)} — ${lang === 'zh' ? (candidates[0].label_zh || candidates[0].label) : candidates[0].label}`;
    }
    const answerId = `ans_${randomUUID().slice(0, 12)}`;
    const confident = Boolean(candidates[0] && candidates[0].probability >= 0.6);
    const full = {
      answer_id: answerId,
      conversation_id: conv.id,
      answer: answerText,
      language: lang,
      confident,
      candidates,
      citations,
      mode: fields.mode || 'chat',
      timings_ms: { decode: 3.2, translate: 12.0, encode: 41.7, retrieve: 2.4, candidates: 0.6, generate: 180.5, total: 241.5 },
      answer_source: answerSource,
      models: { image_encoder: 'mock-clip-vit-b32', generator: 'mock-llm-0.5b' },
    };
    state.answers.set(answerId, { collection, hash, conversation_id: conv.id });
    conv.turns.push({
      answer_id: answerId, prompt, answer: answerText,
      image_url: image && hash ? `/v1/blobs/${hash}` : null,
      candidates, citations, created_at: now,
    });
    conv.updated_at = now;

    if (fields.stream !== 'true') return json(res, 200, full);

    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
    let closed = false;
    res.on('close', () => { closed = true; });
    const send = (event, data) => { if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`); };
    const delay = prompt.includes('#slow') ? 120 : tokenDelayMs;
    await sleep(delay * 2);
    send('evidence', { answer_id: answerId, conversation_id: conv.id, candidates, citations, language: lang, confident });
    res.write(': keep-alive comment\n\n');
    // Chunk so that citations like "[1]" are sometimes split across tokens.
    for (let i = 0; i < answerText.length && !closed; i += 3) {
      await sleep(delay);
      send('token', { text: answerText.slice(i, i + 3) });
      if (prompt.includes('#error') && i > 12) {
        send('error', { code: 'generator_failed', message: 'The language model stopped unexpectedly (mock).' });
        res.end();
        return;
      }
    }
    send('done', full);
    res.end();
  }

  async function handleApi(req, res, url) {
    const p = url.pathname;
    const m = (re) => re.exec(p);
    let mm;
    const body = ['POST', 'PUT', 'PATCH'].includes(req.method) ? await readBody(req) : null;
    const jsonBody = () => {
      try { return JSON.parse(body.toString('utf8') || '{}'); } catch { throw new ApiErr(400, 'invalid_json', 'The request body is not valid JSON.'); }
    };

    if (p === '/health' && req.method === 'GET') {
      return json(res, 200, {
        status: 'ok', version: '0.0.0-mock',
        models: { image_encoder: 'mock-clip-vit-b32', text_encoder: 'mock-clip-text' },
        generator: { name: 'mock-llm-0.5b', device: 'cpu' },
        stores: { vectors: 'memory', meta: 'memory', items: state.items.length },
      });
    }
    if (p === '/v1/collections' && req.method === 'GET') {
      return json(res, 200, { collections: [...state.collections.values()].map(collJson) });
    }
    if (p === '/v1/collections' && req.method === 'POST') {
      const { name, description, settings } = jsonBody();
      if (!NAME_RE.test(name || '')) throw new ApiErr(400, 'invalid_name', 'Collection names use 1-64 characters from a-z, 0-9, "_" and "-".');
      if (state.collections.has(name)) throw new ApiErr(409, 'collection_exists', `A collection named "${name}" already exists.`);
      const c = { name, description: description || '', created_at: new Date().toISOString(), settings: mergeSettings({}, settings) };
      state.collections.set(name, c);
      return json(res, 201, collJson(c));
    }
    if ((mm = m(/^\/v1\/collections\/([^/]+)$/)) && req.method === 'GET') {
      return json(res, 200, collJson(needCollection(decodeURIComponent(mm[1]))));
    }
    if ((mm = m(/^\/v1\/collections\/([^/]+)$/)) && req.method === 'PATCH') {
      const c = needCollection(decodeURIComponent(mm[1]));
      const patch = jsonBody();
      if (patch.description !== undefined && typeof patch.description !== 'string') throw new ApiErr(400, 'invalid_request', 'description must be a string.');
      const settings = mergeSettings(c.settings || {}, patch.settings);
      if (patch.description !== undefined) c.description = patch.description;
      c.settings = settings;
      state.patches = (state.patches || []).concat([patch]);
      return json(res, 200, collJson(c));
    }
    if ((mm = m(/^\/v1\/collections\/([^/]+)$/)) && req.method === 'DELETE') {
      const name = decodeURIComponent(mm[1]);
      needCollection(name);
      if (name === 'default') throw new ApiErr(400, 'collection_protected', 'The default collection cannot be deleted.');
      state.collections.delete(name);
      state.items = state.items.filter((i) => i.collection !== name);
      state.documents = state.documents.filter((d) => d.collection !== name);
      res.writeHead(204); return res.end();
    }
    if ((mm = m(/^\/v1\/collections\/([^/]+)\/items$/))) {
      const name = decodeURIComponent(mm[1]);
      needCollection(name);
      if (req.method === 'GET') {
        const limit = Math.max(1, Math.min(200, Number(url.searchParams.get('limit')) || 50));
        const offset = Math.max(0, Number(url.searchParams.get('offset')) || 0);
        const all = state.items.filter((i) => i.collection === name).sort((a, b) => b.created_at.localeCompare(a.created_at));
        return json(res, 200, { items: all.slice(offset, offset + limit).map(itemJson), total: all.length });
      }
      if (req.method === 'POST') {
        const { fields, image } = await parseForm(req, body);
        if (!image && !fields.text) throw new ApiErr(400, 'missing_content', 'Send an image or a text.');
        const hash = storeImage(image);
        if (hash && state.items.some((i) => i.collection === name && i.content_hash === hash)) {
          throw new ApiErr(409, 'duplicate_item', 'This photo is already in the collection.');
        }
        let metadata = {};
        if (fields.metadata) {
          try { metadata = JSON.parse(fields.metadata); } catch { throw new ApiErr(400, 'invalid_metadata', 'metadata must be a JSON object.'); }
        }
        const it = {
          id: `item_${randomUUID().slice(0, 12)}`, collection: name, label: fields.label || '', text: fields.text || '',
          kind: hash ? 'image' : 'text', metadata, content_hash: hash, created_at: new Date().toISOString(),
        };
        state.items.push(it);
        await sleep(30);
        return json(res, 201, itemJson(it));
      }
    }
    if ((mm = m(/^\/v1\/collections\/([^/]+)\/documents$/))) {
      const name = decodeURIComponent(mm[1]);
      needCollection(name);
      if (req.method === 'GET') {
        // Newest first; two uploads in the same millisecond keep their upload order (newest first too).
        const docs = state.documents
          .map((d, i) => [d, i])
          .filter(([d]) => d.collection === name)
          .sort(([a, i], [b, j]) => b.created_at.localeCompare(a.created_at) || j - i)
          .map(([d]) => d);
        return json(res, 200, { documents: docs.map(docJson) });
      }
      if (req.method === 'POST') return json(res, 201, docJson(await addDocument(req, name, body)));
    }
    if ((mm = m(/^\/v1\/collections\/([^/]+)\/documents\/([^/]+)$/))) {
      const name = decodeURIComponent(mm[1]);
      const id = decodeURIComponent(mm[2]);
      needCollection(name);
      const doc = state.documents.find((d) => d.collection === name && d.id === id);
      if (!doc) throw new ApiErr(404, 'document_not_found', `no document ${id} in ${name}`);
      if (req.method === 'GET') return json(res, 200, docJson(doc));
      if (req.method === 'DELETE') {
        state.documents = state.documents.filter((d) => d !== doc);
        state.items = state.items.filter((i) => !(i.document && i.document.id === id));
        res.writeHead(204); return res.end();
      }
    }
    if ((mm = m(/^\/v1\/collections\/([^/]+)\/items\/([^/]+)$/))) {
      const name = decodeURIComponent(mm[1]);
      const id = decodeURIComponent(mm[2]);
      needCollection(name);
      const it = state.items.find((i) => i.collection === name && i.id === id);
      if (!it) throw new ApiErr(404, 'item_not_found', 'No such item.');
      if (req.method === 'GET') return json(res, 200, itemJson(it));
      if (req.method === 'DELETE') {
        state.items = state.items.filter((i) => i !== it);
        res.writeHead(204); return res.end();
      }
    }
    if ((mm = m(/^\/v1\/blobs\/([0-9a-f]{64})(\/thumbnail)?$/)) && req.method === 'GET') {
      const blob = state.blobs.get(mm[1]);
      if (!blob) throw new ApiErr(404, 'blob_not_found', 'No such blob.');
      res.writeHead(200, { 'Content-Type': blob.type, 'Cache-Control': 'public, max-age=31536000, immutable' });
      return res.end(blob.buf);
    }
    if (p === '/v1/search' && req.method === 'POST') {
      let fields; let hash = null;
      if (String(req.headers['content-type'] || '').startsWith('multipart/')) {
        const f = await parseForm(req, body);
        fields = f.fields;
        hash = storeImage(f.image);
        try { fields.filter = fields.filter ? JSON.parse(fields.filter) : {}; } catch { throw new ApiErr(400, 'invalid_filter', 'filter must be a JSON object.'); }
      } else {
        fields = jsonBody();
      }
      const collection = fields.collection || 'default';
      needCollection(collection);
      const topK = Math.max(1, Math.min(100, Number(fields.top_k) || 10));
      const filter = fields.filter || {};
      let items = state.items.filter((i) => i.collection === collection);
      if (filter.label) items = items.filter((i) => i.label === filter.label);
      if (filter.kind) items = items.filter((i) => i.kind === filter.kind);
      const q = String(fields.text || '').toLowerCase();
      const hits = items.map((it) => {
        let score;
        if (hash) score = it.content_hash === hash ? 1 : pseudo(hash, it.content_hash || it.id);
        else score = (`${it.label} ${it.text}`.toLowerCase().includes(q) || (ZH[it.label] && q.includes(ZH[it.label]))) ? 0.9 : 0;
        return { it, score };
      }).filter((h) => hash || h.score > 0).sort((a, b) => b.score - a.score).slice(0, topK);
      return json(res, 200, {
        hits: hits.map(({ it, score }) => ({
          item_id: it.id, label: it.label, kind: it.kind, score: Number(score.toFixed(3)), text: it.text,
          thumbnail_url: it.kind !== 'passage' && it.content_hash ? `/v1/blobs/${it.content_hash}/thumbnail` : null,
          ...(it.document ? { document: it.document } : {}),
        })),
      });
    }
    if (p === '/v1/ask' && req.method === 'POST') return ask(req, res, body);
    if ((mm = m(/^\/v1\/answers\/([^/]+)\/feedback$/)) && req.method === 'POST') {
      const ans = state.answers.get(decodeURIComponent(mm[1]));
      if (!ans) throw new ApiErr(404, 'answer_not_found', 'No such answer.');
      const fb = jsonBody();
      if (fb.correct === true) return json(res, 200, { status: 'recorded' });
      const label = String(fb.label || '').trim();
      if (!label) throw new ApiErr(400, 'missing_label', 'Send {"label": "..."} or {"correct": true}.');
      if (!ans.hash) return json(res, 200, { status: 'recorded', label });
      const it = {
        id: `item_${randomUUID().slice(0, 12)}`, collection: ans.collection, label, text: '', kind: 'image',
        metadata: { source: 'feedback' }, content_hash: ans.hash, created_at: new Date().toISOString(), learned: true,
      };
      state.items.push(it);
      return json(res, 200, { status: 'learned', item_id: it.id, label });
    }
    if (p === '/v1/conversations' && req.method === 'GET') {
      const list = [...state.conversations.values()].sort((a, b) => b.updated_at.localeCompare(a.updated_at));
      return json(res, 200, {
        conversations: list.map((c) => ({ id: c.id, title: c.title, created_at: c.created_at, updated_at: c.updated_at, turns: c.turns.length })),
      });
    }
    if ((mm = m(/^\/v1\/conversations\/([^/]+)$/)) && req.method === 'GET') {
      const c = state.conversations.get(decodeURIComponent(mm[1]));
      if (!c) throw new ApiErr(404, 'conversation_not_found', 'No such conversation.');
      return json(res, 200, { id: c.id, title: c.title, created_at: c.created_at, turns: c.turns });
    }
    throw new ApiErr(404, 'not_found', `No route for ${req.method} ${p}`);
  }

  async function handleStatic(req, res, url) {
    let rel = decodeURIComponent(url.pathname);
    if (rel === '/') rel = '/index.html';
    if (rel === '/docs') rel = '/docs.html';
    if (rel === '/openapi.json' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
      res.end(await readFile(OPENAPI_FILE));
      return;
    }
    const file = path.resolve(frontendDir, `.${rel}`);
    if (!file.startsWith(frontendDir + path.sep)) throw new ApiErr(404, 'not_found', 'Not found');
    let data;
    try { data = await readFile(file); } catch { throw new ApiErr(404, 'not_found', `No file ${rel}`); }
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    res.end(data);
  }

  function json(res, status, obj) {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(obj));
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://mock');
    state.requests.push({ method: req.method, path: url.pathname });
    if (!quiet) console.log(req.method, url.pathname);
    try {
      if (url.pathname === '/health' || url.pathname.startsWith('/v1/')) await handleApi(req, res, url);
      else await handleStatic(req, res, url);
    } catch (err) {
      const status = err instanceof ApiErr ? err.status : 500;
      if (!(err instanceof ApiErr)) console.error(err);
      if (res.headersSent) { res.end(); return; }
      json(res, status, { error: { code: err.code || 'internal', message: err.message } });
    }
  });

  await new Promise((resolve) => server.listen(port, host, resolve));
  const { port: actual } = server.address();
  return {
    url: `http://${host}:${actual}`,
    state,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] || process.env.PORT || 8787);
  startMockServer({ port, quiet: false }).then(({ url }) => console.log(`pyxa mock server at ${url}/`));
}
