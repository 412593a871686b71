// pyxa portal — client for the public /v1 API.
//
// Every error the server sends has the shape {"error": {"code", "message"}};
// `ApiError` carries that code and the human-readable message so the UI can
// show the server's own words.

import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

function errorFromBody(status, statusText, body) {
  let data = null;
  if (typeof body === 'string') {
    try { data = body ? JSON.parse(body) : null; } catch { data = null; }
  } else {
    data = body;
  }
  const e = data && data.error;
  if (e && typeof e === 'object' && e.message) return new ApiError(status, e.code || 'error', String(e.message));
  if (e && typeof e === 'string') return new ApiError(status, 'error', e);
  if (data && typeof data.message === 'string') return new ApiError(status, data.code || 'error', data.message);
  const text = typeof body === 'string' ? body.trim() : '';
  const brief = text && text.length < 200 && !text.startsWith('<') ? ` ${text}` : '';
  return new ApiError(status, 'http_' + status, t('error.http', { status: `${status} ${statusText || ''}`.trim() }) + brief);
}

function networkError(err) {
  if (err && err.name === 'AbortError') return err;
  return new ApiError(0, 'network', t('error.network'));
}

// The API key, when the server needs one (401): asked for once, kept in this browser.
const KEY_STORAGE = 'pyxa.apiKey';

function apiKey() {
  try { return localStorage.getItem(KEY_STORAGE) || ''; } catch { return ''; }
}

/** Headers that carry the API key, when one is set. */
export function authHeaders(headers = {}) {
  const key = apiKey();
  return key ? { ...headers, Authorization: `Bearer ${key}` } : headers;
}

/** Ask the user for a key after a 401; true when one was given (then the request is retried). */
function askForKey(code) {
  const message = code === 'invalid_api_key' ? t('auth.invalid') : t('auth.needed');
  const key = (window.prompt(message) || '').trim();
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch { /* private mode: the key lasts this request only */ }
  return Boolean(key);
}

async function request(method, path, { json, form, signal } = {}, retried = false) {
  const sentKey = apiKey();
  const init = { method, headers: authHeaders({ Accept: 'application/json' }), signal };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw networkError(err);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  if (res.status === 401 && !retried) {
    const error = errorFromBody(res.status, res.statusText, text);
    // Requests sent together all fail at once: only the first asks, the others retry with its key.
    if (apiKey() !== sentKey || askForKey(error.code)) return request(method, path, { json, form, signal }, true);
    throw error;
  }
  if (!res.ok) throw errorFromBody(res.status, res.statusText, text);
  if (!text) return null;
  try { return JSON.parse(text); } catch { return text; }
}

const enc = encodeURIComponent;

export const api = {
  health: () => request('GET', '/health'),

  listCollections: () => request('GET', '/v1/collections'),
  createCollection: (name, description) => request('POST', '/v1/collections', { json: { name, description } }),
  deleteCollection: (name) => request('DELETE', `/v1/collections/${enc(name)}`),
  /** PATCH /v1/collections/{c}: `{description?, settings?}`; settings are merged (null restores a default). */
  updateCollection: (name, body) => request('PATCH', `/v1/collections/${enc(name)}`, { json: body }),

  listItems: (collection, { limit = 50, offset = 0 } = {}) =>
    request('GET', `/v1/collections/${enc(collection)}/items?limit=${limit}&offset=${offset}`),
  getItem: (collection, id) => request('GET', `/v1/collections/${enc(collection)}/items/${enc(id)}`),
  deleteItem: (collection, id) => request('DELETE', `/v1/collections/${enc(collection)}/items/${enc(id)}`),
  addItem(collection, { file, label, text, metadata, signal }) {
    const form = new FormData();
    if (file) form.append('image', file, file.name || 'photo');
    if (label) form.append('label', label);
    if (text) form.append('text', text);
    if (metadata) form.append('metadata', typeof metadata === 'string' ? metadata : JSON.stringify(metadata));
    return request('POST', `/v1/collections/${enc(collection)}/items`, { form, signal });
  },

  listDocuments: (collection) => request('GET', `/v1/collections/${enc(collection)}/documents`),
  getDocument: (collection, id) => request('GET', `/v1/collections/${enc(collection)}/documents/${enc(id)}`),
  deleteDocument: (collection, id) => request('DELETE', `/v1/collections/${enc(collection)}/documents/${enc(id)}`),

  search({ collection, text, file, topK = 24, filter }) {
    if (file) {
      const form = new FormData();
      form.append('image', file, file.name || 'photo');
      form.append('collection', collection);
      form.append('top_k', String(topK));
      if (text) form.append('text', text);
      if (filter && (filter.label || filter.kind)) form.append('filter', JSON.stringify(filter));
      return request('POST', '/v1/search', { form });
    }
    const body = { collection, text, top_k: topK };
    if (filter && (filter.label || filter.kind)) body.filter = filter;
    return request('POST', '/v1/search', { json: body });
  },

  feedback: (answerId, body) => request('POST', `/v1/answers/${enc(answerId)}/feedback`, { json: body }),

  listConversations: () => request('GET', '/v1/conversations'),
  getConversation: (id) => request('GET', `/v1/conversations/${enc(id)}`),
};

/**
 * POST /v1/collections/{c}/documents with one `file` part, through XMLHttpRequest so that the
 * upload's progress can be shown (fetch cannot report it). Callbacks: onProgress(loaded, total)
 * while the bytes go out, onSent() once they are all sent (the server then splits and indexes the
 * document). Resolves with the DocumentView; rejects with ApiError (the server's own message), or
 * an AbortError when `signal` aborts.
 */
export function uploadDocument(collection, file, { onProgress, onSent, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let settled = false;
    const fail = (err) => { if (!settled) { settled = true; reject(err); } };
    xhr.open('POST', `/v1/collections/${enc(collection)}/documents`);
    xhr.setRequestHeader('Accept', 'application/json');
    if (apiKey()) xhr.setRequestHeader('Authorization', `Bearer ${apiKey()}`);
    xhr.upload.addEventListener('progress', (e) => {
      if (onProgress) onProgress(e.loaded, e.lengthComputable && e.total ? e.total : file.size);
    });
    xhr.upload.addEventListener('load', () => { if (onSent) onSent(); });
    xhr.addEventListener('load', () => {
      if (settled) return;
      const text = xhr.responseText || '';
      if (xhr.status >= 200 && xhr.status < 300) {
        settled = true;
        try { resolve(text ? JSON.parse(text) : null); } catch { resolve(null); }
      } else {
        fail(errorFromBody(xhr.status, xhr.statusText, text));
      }
    });
    xhr.addEventListener('error', () => fail(networkError()));
    xhr.addEventListener('abort', () => fail(new DOMException(t('kb.doc.status.cancelled'), 'AbortError')));
    if (signal) {
      if (signal.aborted) { fail(new DOMException(t('kb.doc.status.cancelled'), 'AbortError')); return; }
      signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    const form = new FormData();
    form.append('file', file, file.name || 'document.txt');
    xhr.send(form);
  });
}

/**
 * Parse a text/event-stream body. Calls `onEvent(name, data)` for each event,
 * where `data` is the joined data lines as a string.
 */
export async function readEventStream(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const flushBlock = (block) => {
    let name = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i === -1 ? line : line.slice(0, i);
      let value = i === -1 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length || name !== 'message') onEvent(name, data.join('\n'));
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    // Normalise CRLF / CR line endings, keeping a trailing CR until we know what follows.
    const keepCR = buf.endsWith('\r');
    if (keepCR) buf = buf.slice(0, -1);
    buf = buf.replace(/\r\n?/g, '\n');
    let idx;
    while ((idx = buf.indexOf('\n\n')) !== -1) {
      const block = buf.slice(0, idx);
      buf = buf.slice(idx + 2);
      flushBlock(block);
    }
    if (keepCR) buf += '\r';
  }
  buf = buf.replace(/\r\n?/g, '\n').trim();
  if (buf) flushBlock(buf);
}

function parseJSON(s) {
  try { return JSON.parse(s); } catch { return null; }
}

/**
 * POST /v1/ask with stream=true and dispatch the SSE events.
 * handlers: onEvidence(obj), onToken(text), onDone(obj). Throws ApiError on
 * HTTP errors and on `event: error`. Resolves with the final response object.
 */
export async function askStream(fields, { onEvidence, onToken, onDone, signal } = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null || v === '') continue;
    if (v instanceof Blob) form.append(k, v, v.name || 'photo');
    else form.append(k, String(v));
  }
  form.set('stream', 'true');
  let res;
  try {
    res = await fetch('/v1/ask', { method: 'POST', body: form, headers: authHeaders({ Accept: 'text/event-stream' }), signal });
  } catch (err) {
    throw networkError(err);
  }
  if (!res.ok) throw errorFromBody(res.status, res.statusText, await res.text());
  const type = res.headers.get('content-type') || '';
  if (!type.includes('text/event-stream')) {
    // A server may answer without streaming; treat the JSON as a finished answer.
    const data = parseJSON(await res.text()) || {};
    onEvidence && onEvidence(data);
    onToken && data.answer && onToken(data.answer);
    onDone && onDone(data);
    return data;
  }
  let final = null;
  let failure = null;
  await readEventStream(res.body, (name, raw) => {
    if (failure) return;
    if (name === 'evidence') {
      const data = parseJSON(raw);
      if (data && onEvidence) onEvidence(data);
    } else if (name === 'token' || name === 'message') {
      const data = parseJSON(raw);
      const text = data && typeof data === 'object' ? (data.text ?? data.token ?? '') : raw;
      if (text && onToken) onToken(String(text));
    } else if (name === 'done') {
      final = parseJSON(raw) || {};
      if (onDone) onDone(final);
    } else if (name === 'error') {
      const data = parseJSON(raw) || {};
      const e = data.error && typeof data.error === 'object' ? data.error : data;
      failure = new ApiError(res.status, e.code || 'stream_error', e.message || raw || t('error.streamEnded'));
    }
  });
  if (failure) throw failure;
  if (!final) throw new ApiError(res.status, 'stream_ended', t('error.streamEnded'));
  return final;
}
