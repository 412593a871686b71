// pyxa portal — the documents of a collection (knowledge-base view): uploads with real
// progress (one request per file), the list of documents, deletion.

import { api, uploadDocument, ApiError } from './api.js';
import { t, tr, formatDate, toDate } from './i18n.js';
import {
  el, icon, clear, formatBytes, formatPercent, toast, confirmDialog, dropTarget, documentExtension,
} from './ui.js';

const $ = (id) => document.getElementById(id);
/** The largest document the server takes (MAX_DOCUMENT_BYTES). */
export const MAX_DOCUMENT_BYTES = 20 * 1024 * 1024;
const CONCURRENCY = 2;
const ACTIVE = new Set(['queued', 'uploading', 'processing']);
const TYPE_BY_MIME = { 'text/markdown': 'md', 'text/html': 'html', 'application/pdf': 'pdf', 'text/plain': 'txt' };

const state = {
  collection: null,
  docs: [],
  loaded: false,
  loadToken: 0,
  uploads: [],
  running: 0,
  nextId: 1,
  touched: new Set(), // collections that gained documents in the current batch
};

let els;
let hooks = { onChanged: () => {}, onFiles: () => {} };

/** A short badge for a file type: MD, HTML, PDF, TXT. */
function typeBadge(type) {
  const key = ['md', 'markdown'].includes(type) ? 'md' : ['html', 'htm'].includes(type) ? 'html' : type || 'txt';
  return el('span.doc-type', { dataset: { type: key }, 'aria-hidden': 'true', text: key.toUpperCase() });
}

// ------------------------------------------------------------------ list

function docRow(d) {
  const type = TYPE_BY_MIME[d.mime] || documentExtension({ name: d.file_name }) || 'txt';
  const passages = Number(d.passages) || 0;
  const title = d.title || d.file_name || '';
  const vars = { title };
  const row = el('li.doc-row', { testid: 'doc-row', dataset: { id: d.id, title } },
    typeBadge(type),
    el('div.doc-main', {},
      el('span.doc-title', { text: title, title, testid: 'doc-title' }),
      el('span.doc-meta', {},
        el('span.doc-file', { text: d.file_name || '', title: d.file_name || '', testid: 'doc-file' }),
        el('span', { text: formatBytes(Number(d.bytes)) }),
        el('span', { i18n: ['kb.doc.passages', { n: passages }], testid: 'doc-passages', dataset: { n: String(passages) } }),
        d.created_at ? el('time', { datetime: toDate(d.created_at).toISOString(), text: formatDate(d.created_at) }) : null)),
    el('button.btn.btn-icon.btn-ghost.btn-small.doc-delete', {
      type: 'button', testid: 'doc-delete',
      'aria-label': t('kb.doc.delete', vars), 'data-i18n-aria-label': 'kb.doc.delete', 'data-i18n-vars': JSON.stringify(vars),
      title: t('kb.doc.delete', vars), 'data-i18n-title': 'kb.doc.delete',
      onclick: () => deleteDocument(d, row),
    }, icon('trash')));
  return row;
}

function renderDocs() {
  clear(els.list);
  for (const d of state.docs) els.list.append(docRow(d));
  els.empty.hidden = !state.loaded || state.docs.length > 0;
  els.count.hidden = !state.loaded;
  tr(els.count, 'kb.doc.count', { n: state.docs.length });
}

async function loadDocuments() {
  const name = state.collection;
  if (!name) return;
  const token = ++state.loadToken;
  els.error.hidden = true;
  if (!state.loaded) {
    clear(els.list);
    els.list.append(el('li.doc-row.is-skeleton', { 'aria-hidden': 'true' }, el('div.skeleton')));
  }
  try {
    const data = await api.listDocuments(name);
    if (token !== state.loadToken || state.collection !== name) return;
    state.docs = (data && data.documents) || [];
    state.loaded = true;
    renderDocs();
  } catch (err) {
    if (token !== state.loadToken) return;
    clear(els.list);
    els.error.textContent = err.message;
    els.error.hidden = false;
  }
}

async function deleteDocument(d, row) {
  const title = d.title || d.file_name || '';
  const ok = await confirmDialog(t('kb.doc.deleteConfirm', { title, n: Number(d.passages) || 0 }));
  if (!ok) return;
  const collection = state.collection;
  try {
    await api.deleteDocument(collection, d.id);
    row.classList.add('is-removing');
    state.docs = state.docs.filter((x) => x.id !== d.id);
    setTimeout(() => { row.remove(); renderDocs(); }, 180);
    toast(t('kb.doc.deleted'), 'success');
    hooks.onChanged(collection);
  } catch (err) {
    toast(err.message, 'error');
  }
}

// --------------------------------------------------------------- uploads

/** Queue documents for upload to the current collection; they start at once. */
export function addDocumentFiles(files) {
  if (!state.collection || !files.length) return;
  for (const file of files) addUpload(file);
  renderUploads();
  pump();
  els.uploads.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

function addUpload(file) {
  const u = { id: state.nextId++, file, collection: state.collection, status: 'queued', doc: null, controller: null };
  const vars = { name: file.name };
  u.bar = el('div.progress-bar');
  u.progress = el('div.progress.du-progress', {
    role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0',
    'aria-label': t('kb.doc.progressLabel', vars), 'data-i18n-aria-label': 'kb.doc.progressLabel', 'data-i18n-vars': JSON.stringify(vars),
    testid: 'doc-upload-progress',
  }, u.bar);
  u.pct = el('span.du-pct', { 'aria-hidden': 'true' });
  u.statusEl = el('p.du-status', { testid: 'doc-upload-status' });
  u.button = el('button.btn.btn-icon.btn-ghost.btn-small.du-remove', { type: 'button', testid: 'doc-upload-remove', onclick: () => removeUpload(u) }, icon('x'));
  u.row = el('li.doc-upload-row', { testid: 'doc-upload-row', dataset: { name: file.name, status: 'queued' } },
    typeBadge(documentExtension(file)),
    el('div.du-main', {},
      el('div.du-line', {},
        el('span.du-name', { text: file.name, title: file.name }),
        el('span.du-where', { i18n: ['kb.doc.otherCollection', { name: u.collection }], hidden: true }),
        el('span.du-size.muted', { text: formatBytes(file.size) }),
        u.pct),
      u.progress,
      u.statusEl),
    u.button);
  state.uploads.push(u);
  els.uploadList.append(u.row);
  if (file.size > MAX_DOCUMENT_BYTES) setStatus(u, 'error', { message: t('kb.doc.tooLarge', vars) });
  else setStatus(u, 'queued');
}

function setPercent(u, fraction) {
  const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
  u.bar.style.width = `${pct}%`;
  u.progress.setAttribute('aria-valuenow', String(pct));
  u.pct.textContent = u.status === 'uploading' ? formatPercent(pct / 100) : '';
}

/** status: queued | uploading | processing | done | duplicate | error | cancelled. */
function setStatus(u, status, { message = '', passages } = {}) {
  u.status = status;
  u.row.dataset.status = status;
  u.statusEl.dataset.status = status;
  u.progress.classList.toggle('is-processing', status === 'processing');
  u.progress.classList.toggle('is-done', status === 'done' || status === 'duplicate');
  u.progress.classList.toggle('has-errors', status === 'error' || status === 'cancelled');
  clear(u.statusEl);
  const iconName = { done: 'check', duplicate: 'check', error: 'alert', cancelled: 'x', queued: 'clock' }[status];
  if (iconName) u.statusEl.append(icon(iconName));
  else u.statusEl.append(el('span.spinner', { 'aria-hidden': 'true' }));
  if (status === 'done') {
    u.row.dataset.passages = String(passages);
    u.statusEl.append(el('span', { i18n: ['kb.doc.status.done', { n: passages }] }));
  } else if (status === 'error' && message) {
    // The server's own words: they say what is wrong with the file.
    u.statusEl.append(el('span.du-message', { text: message, testid: 'doc-upload-error' }));
  } else {
    u.statusEl.append(el('span', { i18n: `kb.doc.status.${status}` }));
  }
  if (status === 'processing') {
    setPercent(u, 1);
    u.progress.setAttribute('aria-valuetext', t('kb.doc.status.processing'));
  } else {
    u.progress.removeAttribute('aria-valuetext');
  }
  if (status === 'done' || status === 'duplicate') setPercent(u, 1);
  if (status === 'uploading' || status === 'queued') u.pct.textContent = status === 'uploading' ? formatPercent(0) : '';
  else u.pct.textContent = '';
  const active = ACTIVE.has(status);
  const key = active ? 'kb.doc.cancel' : 'kb.doc.dismiss';
  const vars = { name: u.file.name };
  u.button.setAttribute('aria-label', t(key, vars));
  u.button.setAttribute('title', t(key, vars));
  u.button.setAttribute('data-i18n-aria-label', key);
  u.button.setAttribute('data-i18n-title', key);
  u.button.setAttribute('data-i18n-vars', JSON.stringify(vars));
  // Once the bytes are sent the server finishes the document anyway: nothing left to cancel.
  u.button.disabled = status === 'processing';
  renderSummary();
}

function removeUpload(u) {
  if (u.status === 'queued') {
    setStatus(u, 'cancelled');
    return;
  }
  if (u.status === 'uploading') {
    if (u.controller) u.controller.abort();
    return;
  }
  if (u.status === 'processing') return;
  // Keep the focus in the list for keyboard users.
  const next = u.row.nextElementSibling || u.row.previousElementSibling;
  u.row.remove();
  state.uploads = state.uploads.filter((x) => x !== u);
  renderUploads();
  const target = next && next.querySelector('button');
  if (target) target.focus();
  else els.input.focus();
}

function clearFinished() {
  for (const u of state.uploads.filter((x) => !ACTIVE.has(x.status))) u.row.remove();
  state.uploads = state.uploads.filter((x) => ACTIVE.has(x.status));
  renderUploads();
  els.input.focus();
}

function renderUploads() {
  els.uploads.hidden = state.uploads.length === 0;
  for (const u of state.uploads) u.row.querySelector('.du-where').hidden = u.collection === state.collection;
  els.clearFinished.hidden = !state.uploads.some((u) => !ACTIVE.has(u.status));
  renderSummary();
}

function renderSummary() {
  if (!els) return;
  const total = state.uploads.length;
  const busy = state.uploads.some((u) => ACTIVE.has(u.status));
  els.clearFinished.hidden = !state.uploads.some((u) => !ACTIVE.has(u.status));
  if (!total) { els.summary.textContent = ''; delete els.summary.dataset.done; return; }
  if (busy) {
    const done = state.uploads.filter((u) => !ACTIVE.has(u.status)).length;
    tr(els.summary, 'kb.doc.summary', { done, total });
    delete els.summary.dataset.done;
  } else {
    const count = (s) => state.uploads.filter((u) => u.status === s).length;
    tr(els.summary, 'kb.doc.summaryDone', { ok: count('done'), dup: count('duplicate'), failed: count('error') + count('cancelled') });
    els.summary.dataset.done = 'true';
  }
}

function pump() {
  while (state.running < CONCURRENCY) {
    const u = state.uploads.find((x) => x.status === 'queued');
    if (!u) break;
    state.running += 1;
    runUpload(u).finally(() => {
      state.running -= 1;
      pump();
      if (state.running === 0 && !state.uploads.some((x) => x.status === 'queued')) batchFinished();
    });
  }
}

async function runUpload(u) {
  u.controller = new AbortController();
  setStatus(u, 'uploading');
  setPercent(u, 0);
  try {
    const doc = await uploadDocument(u.collection, u.file, {
      signal: u.controller.signal,
      onProgress: (loaded, total) => { if (u.status === 'uploading') setPercent(u, total ? loaded / total : 0); },
      onSent: () => { if (u.status === 'uploading') setStatus(u, 'processing'); },
    });
    u.doc = doc;
    setStatus(u, 'done', { passages: Number(doc && doc.passages) || 0 });
    state.touched.add(u.collection);
    announceChanges();
    if (doc && u.collection === state.collection && state.loaded) {
      state.docs = [doc, ...state.docs.filter((x) => x.id !== doc.id)];
      renderDocs();
    }
  } catch (err) {
    if (err && err.name === 'AbortError') setStatus(u, 'cancelled');
    else if (err instanceof ApiError && (err.code === 'duplicate_document' || err.status === 409)) setStatus(u, 'duplicate');
    else setStatus(u, 'error', { message: (err && err.message) || String(err) });
  } finally {
    u.controller = null;
  }
}

let changeTimer = 0;
/** Tell the page which collections gained documents (their passages and counts), at most every 400 ms. */
function announceChanges() {
  if (changeTimer) return;
  changeTimer = setTimeout(() => {
    changeTimer = 0;
    const touched = [...state.touched];
    state.touched.clear();
    for (const name of touched) hooks.onChanged(name);
  }, 400);
}

function batchFinished() {
  renderUploads();
  // The list as the server has it (titles, order), once everything is in.
  if (state.uploads.some((u) => u.status === 'done' && u.collection === state.collection)) loadDocuments();
}

// ------------------------------------------------------------------ view

/** Show the documents of `name` (reloads them; `changed` when the collection is another one). */
export function showDocuments(name, changed) {
  if (changed || name !== state.collection) {
    state.collection = name;
    state.loaded = false;
    state.docs = [];
    // Finished rows belong to the collection that was shown; running ones carry on.
    for (const u of state.uploads.filter((x) => !ACTIVE.has(x.status))) u.row.remove();
    state.uploads = state.uploads.filter((x) => ACTIVE.has(x.status));
    renderUploads();
  }
  loadDocuments();
}

/** Rebuild what carries formatted dates and counts (after a language change). */
export function relocalizeDocuments() {
  if (state.loaded) renderDocs();
  for (const u of state.uploads) {
    const pctShown = u.pct.textContent;
    if (pctShown) setPercent(u, Number(u.progress.getAttribute('aria-valuenow')) / 100);
  }
  renderSummary();
}

export function initDocuments({ onChanged, onFiles }) {
  hooks = { onChanged, onFiles };
  els = {
    input: $('doc-file-input'), drop: $('doc-drop'), uploads: $('doc-uploads'), uploadList: $('doc-upload-list'),
    summary: $('doc-upload-summary'), clearFinished: $('doc-upload-clear'), error: $('docs-error'), list: $('doc-list'),
    empty: $('docs-empty'), count: $('docs-count'),
  };
  els.input.addEventListener('change', () => {
    const files = Array.from(els.input.files || []);
    els.input.value = '';
    if (files.length) hooks.onFiles(files);
  });
  dropTarget(els.drop, (files) => hooks.onFiles(files));
  els.clearFinished.addEventListener('click', clearFinished);
  renderUploads();
}
