// pyxa portal — the knowledge-base view: collections, bulk labelled uploads,
// documents (documents.js), browsing, text/photo search and deletion.

import { api, ApiError } from './api.js';
import { t, tr, onLangChange, formatDate, toDate } from './i18n.js';
import {
  el, icon, clear, formatBytes, formatScore, looksLikeImage, looksLikeDocument, dropTarget, toast, confirmDialog,
  showLightbox, showText, fullImageUrl, flatText,
} from './ui.js';
import { initDocuments, showDocuments, addDocumentFiles, relocalizeDocuments } from './documents.js';
import {
  getCollections, onCollections, refreshCollections, bumpCount, preferredCollection,
} from './store.js';

const $ = (id) => document.getElementById(id);
const NAME_RE = /^[a-z0-9_-]{1,64}$/;
const PAGE = 50;
const CONCURRENCY = 2;

const state = {
  current: null,
  items: [],
  total: 0,
  loadingItems: false,
  search: null, // { kind: 'text'|'photo', q, name }
  uploads: [],
  uploading: false,
  nextUploadId: 1,
};

let els;

// ----------------------------------------------------------- collections

function renderCollections(list) {
  clear(els.collectionList);
  for (const c of list) {
    const count = Number(c.item_count) || 0;
    const a = el('a.collection-item', {
      href: `#/kb/${encodeURIComponent(c.name)}`, testid: 'collection-item', dataset: { name: c.name },
      title: c.description || '',
    },
    el('span.ci-icon', { 'aria-hidden': 'true' }, icon('image')),
    el('span.ci-name', { text: c.name }),
    el('span.ci-count', { i18n: ['kb.items', { n: count }] }));
    if (c.name === state.current) a.setAttribute('aria-current', 'page');
    els.collectionList.append(el('li', {}, a));
  }
  renderHeader();
}

function currentCollection() {
  return getCollections().find((c) => c.name === state.current) || null;
}

function renderHeader() {
  const c = currentCollection();
  els.title.textContent = state.current || '';
  els.desc.textContent = c && c.description ? c.description : t('kb.noDescription');
  els.desc.classList.toggle('is-empty', !(c && c.description));
  const count = c ? Number(c.item_count) || 0 : state.total;
  tr(els.count, 'kb.items', { n: count });
  els.deleteCollection.hidden = state.current === 'default';
  fillSettings();
}

async function createCollection(e) {
  e.preventDefault();
  const name = els.newName.value.trim();
  const description = els.newDesc.value.trim();
  els.collectionError.hidden = true;
  if (!NAME_RE.test(name)) {
    els.collectionError.textContent = t('kb.nameHint');
    els.collectionError.hidden = false;
    els.newName.setAttribute('aria-invalid', 'true');
    els.newName.focus();
    return;
  }
  els.newName.removeAttribute('aria-invalid');
  const btn = els.collectionForm.querySelector('button[type="submit"]');
  btn.disabled = true;
  try {
    await api.createCollection(name, description);
    els.newName.value = '';
    els.newDesc.value = '';
    toast(t('kb.created', { name }), 'success');
    await refreshCollections();
    location.hash = `#/kb/${encodeURIComponent(name)}`;
  } catch (err) {
    els.collectionError.textContent = err.message;
    els.collectionError.hidden = false;
  } finally {
    btn.disabled = false;
  }
}

async function deleteCollection() {
  const name = state.current;
  if (!name) return;
  if (name === 'default') { toast(t('kb.defaultLocked'), 'error'); return; }
  const c = currentCollection();
  const ok = await confirmDialog(t('kb.deleteCollectionConfirm', { name, count: c ? c.item_count || 0 : state.total }));
  if (!ok) return;
  try {
    await api.deleteCollection(name);
    toast(t('kb.collectionDeleted', { name }), 'success');
    state.current = null;
    await refreshCollections();
    location.hash = '#/kb/default';
  } catch (err) {
    toast(err.message, 'error');
  }
}

// ---------------------------------------------------- workspace settings

/** The settings fields: input id, how to read an input value, how to show a stored one. */
const SETTING_FIELDS = [
  { key: 'system_prompt', el: 'setSystemPrompt', kind: 'text' },
  { key: 'temperature', el: 'setTemperature', kind: 'number' },
  { key: 'top_k', el: 'setTopK', kind: 'integer' },
  { key: 'min_similarity', el: 'setMinSimilarity', kind: 'number' },
];

let settingsFor = null; // the collection whose settings the form shows
let settingsDirty = false; // edited since it was filled

function storedSettings(c) {
  return (c && c.settings && typeof c.settings === 'object') ? c.settings : {};
}

/** Fill the settings form from the stored collection (unless the user is editing it). */
function fillSettings({ force = false } = {}) {
  const c = currentCollection();
  if (!c) return;
  if (!force && settingsDirty && settingsFor === c.name) return;
  if (settingsFor !== c.name) {
    els.settingsSaved.textContent = '';
    els.settingsSaved.removeAttribute('data-i18n');
    els.settingsError.hidden = true;
  }
  settingsFor = c.name;
  settingsDirty = false;
  const s = storedSettings(c);
  els.setDescription.value = c.description || '';
  for (const r of els.setModes) r.checked = r.value === (s.mode || 'chat');
  for (const f of SETTING_FIELDS) {
    const v = s[f.key];
    els[f.el].value = v === undefined || v === null ? '' : String(v);
    els[f.el].removeAttribute('aria-invalid');
  }
}

/** The changes between the form and the stored settings: {description?, settings?}, or an error key. */
function settingsPatch(c) {
  const s = storedSettings(c);
  const patch = {};
  const settings = {};
  const description = els.setDescription.value.trim();
  if (description !== (c.description || '')) patch.description = description;
  const checked = els.setModes.find((r) => r.checked);
  const mode = checked ? checked.value : 'chat';
  // A mode equal to the default is kept as it is stored (set or not): nothing to change.
  if (mode !== (s.mode || 'chat')) settings.mode = mode;
  for (const f of SETTING_FIELDS) {
    const input = els[f.el];
    input.removeAttribute('aria-invalid');
    if (input.validity && input.validity.badInput) { input.setAttribute('aria-invalid', 'true'); return { invalid: input }; }
    const raw = input.value.trim();
    let value = null; // emptied: back to pyxa's default
    if (raw !== '') value = f.kind === 'text' ? raw : Number(raw);
    const before = s[f.key] === undefined ? null : s[f.key];
    if (value !== before) settings[f.key] = value;
  }
  if (Object.keys(settings).length) patch.settings = settings;
  return { patch };
}

async function saveSettings(e) {
  e.preventDefault();
  const c = currentCollection();
  if (!c) return;
  const name = c.name;
  els.settingsError.hidden = true;
  els.settingsSaved.textContent = '';
  els.settingsSaved.removeAttribute('data-i18n');
  const { patch, invalid } = settingsPatch(c);
  if (invalid) {
    els.settingsError.textContent = t('kb.settings.badNumber');
    els.settingsError.hidden = false;
    invalid.focus();
    return;
  }
  if (!Object.keys(patch).length) { tr(els.settingsSaved, 'kb.settings.unchanged'); return; }
  els.settingsSave.disabled = true;
  els.settingsForm.setAttribute('aria-busy', 'true');
  try {
    const updated = await api.updateCollection(name, patch);
    // Keep the shared list in step right away, then reload it (item counts and all).
    if (updated && typeof updated === 'object') Object.assign(c, { description: updated.description, settings: updated.settings || {} });
    settingsDirty = false;
    await refreshCollections().catch(() => {});
    if (state.current === name) {
      fillSettings({ force: true });
      renderHeader();
      tr(els.settingsSaved, 'kb.settings.saved');
    }
  } catch (err) {
    if (state.current !== name) return;
    els.settingsError.textContent = err.message;
    els.settingsError.hidden = false;
  } finally {
    els.settingsSave.disabled = false;
    els.settingsForm.removeAttribute('aria-busy');
  }
}

// ----------------------------------------------------------------- items

/** What kind of item this is, in words ("photo", "passage"…). */
function kindTag(kind) {
  if (!kind) return null;
  const key = `kb.kind.${kind}`;
  const text = t(key);
  return el('span.tag', text === key ? { text: kind } : { i18n: key });
}

/**
 * A card for an item without a photo: a passage of a document (its title, its position and its
 * text) or a text note. Opens the whole text in a dialog.
 */
function textCard(item, { score } = {}) {
  const id = item.id || item.item_id;
  const label = item.label || '';
  const doc = item.document || null;
  const text = item.text || item.ocr_text || '';
  const position = doc ? Number(doc.position) + 1 : 0;
  const title = doc ? (doc.title || t('kb.kind.passage')) : (label || t('turn.note'));
  const kicker = doc
    ? el('span.item-kicker', {}, icon('doc'), el('span', { i18n: ['kb.doc.passageN', { n: position }] }))
    : el('span.item-kicker', {}, icon('chat'), el('span', { i18n: 'turn.note' }));
  const openVars = doc ? { n: position, title } : { title };
  const openKey = doc ? 'kb.doc.open' : 'kb.readText';
  const when = item.created_at ? formatDate(item.created_at) : '';
  const card = el('li.item-card.item-card-text', {
    testid: 'item-card', dataset: { id: id || '', label, kind: item.kind || (doc ? 'passage' : 'text'), document: doc ? doc.id : '' },
  },
  el('button.item-textthumb', {
    type: 'button',
    'aria-label': t(openKey, openVars), 'data-i18n-aria-label': openKey, 'data-i18n-vars': JSON.stringify(openVars),
    onclick: () => showText({
      title,
      sub: [doc ? t('kb.doc.passageN', { n: position }) : '', when].filter(Boolean).join(' · '),
      text,
    }),
  },
  kicker,
  el('span.item-snippet', { text: flatText(text), testid: 'item-snippet' }),
  score !== undefined ? el('span.item-score', { text: formatScore(score), testid: 'hit-score' }) : null),
  el('div.item-body', {},
    el('span.item-label', { text: title, title, testid: 'item-label' }),
    el('span.item-meta', {}, kindTag(item.kind), item.created_at ? el('time', { datetime: toDate(item.created_at).toISOString(), text: when }) : null)));
  if (!doc && id) {
    // A note can go on its own; a passage goes with its document (Documents, above).
    card.append(el('button.btn.btn-icon.btn-ghost.item-delete', {
      type: 'button', testid: 'item-delete',
      'aria-label': t('kb.deleteItem', { label: title }),
      'data-i18n-aria-label': 'kb.deleteItem', 'data-i18n-vars': JSON.stringify({ label: title }),
      onclick: () => deleteItem(id, title, card),
    }, icon('trash')));
  }
  return card;
}

function itemCard(item, { score } = {}) {
  if (!item.thumbnail_url && (item.document || item.kind === 'passage' || item.kind === 'text' || item.text)) {
    return textCard(item, { score });
  }
  const id = item.id || item.item_id;
  const label = item.label || '';
  const thumb = item.thumbnail_url || '';
  const img = el('img', { src: thumb, alt: label, loading: 'lazy', decoding: 'async' });
  img.addEventListener('error', () => img.classList.add('is-broken'), { once: true });
  const when = item.created_at ? t('kb.added', { date: formatDate(item.created_at) }) : '';
  const del = el('button.btn.btn-icon.btn-ghost.item-delete', {
    type: 'button', testid: 'item-delete',
    'aria-label': t('kb.deleteItem', { label: label || t('kb.unlabelled') }),
    'data-i18n-aria-label': 'kb.deleteItem', 'data-i18n-vars': JSON.stringify({ label: label || t('kb.unlabelled') }),
    onclick: () => deleteItem(id, label, card),
  }, icon('trash'));
  const card = el('li.item-card', { testid: 'item-card', dataset: { id: id || '', label } },
    el('button.item-thumb', {
      type: 'button',
      'aria-label': label || t('kb.unlabelled'),
      onclick: () => showLightbox({ src: item.image_url || fullImageUrl(thumb), fallback: thumb, title: label || t('kb.unlabelled'), sub: [item.text, when].filter(Boolean).join(' · ') }),
    }, img, score !== undefined ? el('span.item-score', { text: formatScore(score), testid: 'hit-score' }) : null),
    el('div.item-body', {},
      el('span.item-label', { text: label || t('kb.unlabelled'), testid: 'item-label' }),
      item.text ? el('span.item-text', { text: item.text }) : null,
      el('span.item-meta', {}, kindTag(item.kind), item.created_at ? el('time', { datetime: toDate(item.created_at).toISOString(), text: formatDate(item.created_at) }) : null)),
    del);
  return card;
}

async function deleteItem(id, label, card) {
  const ok = await confirmDialog(t('kb.deleteItemConfirm', { label: label || t('kb.unlabelled') }));
  if (!ok) return;
  try {
    await api.deleteItem(state.current, id);
    card.classList.add('is-removing');
    setTimeout(() => card.remove(), 200);
    state.items = state.items.filter((x) => x.id !== id);
    state.total = Math.max(0, state.total - 1);
    bumpCount(state.current, -1);
    updateItemsFoot();
    toast(t('kb.itemDeleted'), 'success');
  } catch (err) {
    toast(err.message, 'error');
  }
}

function updateItemsFoot() {
  const shown = state.search ? els.grid.children.length : state.items.length;
  els.more.hidden = Boolean(state.search) || state.items.length >= state.total;
  if (state.search) {
    els.showing.textContent = '';
  } else {
    els.showing.textContent = state.total ? t('kb.showing', { shown, total: state.total }) : '';
  }
  const empty = !els.grid.children.length && !state.loadingItems;
  els.empty.hidden = !empty;
  if (empty) tr(els.empty, state.search ? 'kb.searchNone' : 'kb.empty');
}

async function loadItems({ append = false } = {}) {
  const name = state.current;
  if (!name) return;
  state.loadingItems = true;
  els.itemsError.hidden = true;
  if (!append) {
    state.items = [];
    clear(els.grid);
    for (let i = 0; i < 6; i += 1) els.grid.append(el('li.item-card.is-skeleton', { 'aria-hidden': 'true' }, el('div.skeleton.tile')));
  }
  els.more.disabled = true;
  try {
    const data = await api.listItems(name, { limit: PAGE, offset: append ? state.items.length : 0 });
    if (state.current !== name || state.search) return;
    if (!append) clear(els.grid);
    const items = (data && data.items) || [];
    state.items = append ? state.items.concat(items) : items;
    state.total = Number(data && data.total) || state.items.length;
    for (const item of items) els.grid.append(itemCard(item));
    const c = currentCollection();
    if (c && Number(c.item_count) !== state.total) { c.item_count = state.total; renderCollections(getCollections()); }
  } catch (err) {
    if (!append) clear(els.grid);
    els.itemsError.textContent = err.message;
    els.itemsError.hidden = false;
  } finally {
    state.loadingItems = false;
    els.more.disabled = false;
    updateItemsFoot();
  }
}

// ---------------------------------------------------------------- search

async function runSearch({ text, file }) {
  const name = state.current;
  if (!name) return;
  if (!text && !file) { clearSearch(); return; }
  state.search = file ? { kind: 'photo', name: file.name || 'photo' } : { kind: 'text', q: text };
  els.searchBanner.hidden = false;
  tr(els.searchBannerText, file ? 'kb.searchingPhoto' : 'kb.searchingText', file ? { name: file.name || '' } : { q: text });
  els.itemsError.hidden = true;
  clear(els.grid);
  state.loadingItems = true;
  try {
    const data = await api.search({ collection: name, text, file, topK: 24 });
    if (state.current !== name || !state.search) return;
    const hits = (data && data.hits) || [];
    for (const h of hits) els.grid.append(itemCard({ ...h, id: h.item_id }, { score: h.score }));
    els.searchBannerText.append(' · ', el('span', { i18n: ['kb.searchResults', { n: hits.length }] }));
  } catch (err) {
    els.itemsError.textContent = err.message;
    els.itemsError.hidden = false;
  } finally {
    state.loadingItems = false;
    updateItemsFoot();
  }
}

function clearSearch() {
  state.search = null;
  els.searchBanner.hidden = true;
  els.searchText.value = '';
  loadItems();
}

// --------------------------------------------------------------- uploads

function guessLabel(filename) {
  let s = String(filename || '').replace(/\.[a-z0-9]{2,5}$/i, '');
  if (/^(img|dsc|dscn|dscf|pxl|photo|image|screenshot|screen shot|wp|mvimg|signal|whatsapp|p\d)[\s_-]?\d/i.test(s)) return '';
  s = s.replace(/[_-]+/g, ' ').replace(/[\s(]*\d+\)?$/, '').trim().toLowerCase();
  return /[a-z\u4e00-\u9fff]/i.test(s) ? s : '';
}

/**
 * Files chosen or dropped anywhere on the knowledge-base page: photos go to the labelled-photo
 * uploads, documents (.txt .md .html .pdf) straight to the document uploads.
 */
export function handleKbFiles(files) {
  const images = [];
  const docs = [];
  const other = [];
  for (const f of files) {
    if (looksLikeDocument(f)) docs.push(f);
    else if (looksLikeImage(f)) images.push(f);
    else other.push(f);
  }
  for (const f of other) toast(t('kb.unsupported', { name: f.name || '?' }), 'error');
  if (images.length) {
    for (const file of images) addUpload(file);
    renderUploadPanel();
  }
  if (docs.length) addDocumentFiles(docs);
}

function addUpload(file) {
  const u = {
    id: state.nextUploadId++, file, url: URL.createObjectURL(file), status: 'queued', message: '',
  };
  const img = el('img.up-thumb', { src: u.url, alt: '' });
  img.addEventListener('error', () => img.replaceWith(el('span.up-thumb.up-thumb-missing', { 'aria-hidden': 'true' }, icon('image'))), { once: true });
  const labelId = `up-label-${u.id}`;
  const capId = `up-cap-${u.id}`;
  u.labelInput = el('input.up-label', { id: labelId, type: 'text', value: guessLabel(file.name), autocomplete: 'off', testid: 'upload-label' });
  u.captionInput = el('input.up-caption', { id: capId, type: 'text', autocomplete: 'off', testid: 'upload-caption' });
  u.statusEl = el('span.up-status', { testid: 'upload-status', dataset: { status: 'queued' } });
  u.messageEl = el('p.up-message', { testid: 'upload-error', hidden: true });
  u.removeBtn = el('button.btn.btn-icon.btn-ghost', {
    type: 'button', 'aria-label': t('kb.removeFile', { name: file.name }), 'data-i18n-aria-label': 'kb.removeFile', 'data-i18n-vars': JSON.stringify({ name: file.name }),
    onclick: () => removeUpload(u),
  }, icon('x'));
  u.row = el('li.upload-row', { testid: 'upload-row', dataset: { name: file.name } },
    img,
    el('div.up-info', {}, el('span.up-name', { text: file.name, title: file.name }), el('span.up-size.muted', { text: formatBytes(file.size) })),
    el('div.up-fields', {},
      el('label.up-field', { for: labelId }, el('span.up-field-label', { i18n: 'kb.label' }), u.labelInput),
      el('label.up-field', { for: capId }, el('span.up-field-label', { i18n: 'kb.caption' }), u.captionInput)),
    u.statusEl,
    u.removeBtn,
    u.messageEl);
  setUploadStatus(u, 'queued');
  state.uploads.push(u);
  els.uploadList.append(u.row);
}

function removeUpload(u) {
  if (u.status === 'uploading') return;
  URL.revokeObjectURL(u.url);
  u.row.remove();
  state.uploads = state.uploads.filter((x) => x !== u);
  renderUploadPanel();
}

function setUploadStatus(u, status, message = '') {
  u.status = status;
  u.message = message;
  u.statusEl.dataset.status = status;
  u.row.dataset.status = status;
  clear(u.statusEl);
  const iconName = { done: 'check', duplicate: 'check', error: 'alert' }[status];
  if (iconName) u.statusEl.append(icon(iconName));
  else if (status === 'uploading') u.statusEl.append(el('span.spinner', { 'aria-hidden': 'true' }));
  u.statusEl.append(el('span', { i18n: `kb.status.${status}` }));
  u.messageEl.textContent = message;
  u.messageEl.hidden = !message;
  const locked = status === 'uploading' || status === 'done' || status === 'duplicate';
  u.labelInput.disabled = locked;
  u.captionInput.disabled = locked;
  u.removeBtn.disabled = status === 'uploading';
}

function pendingUploads() {
  return state.uploads.filter((u) => u.status === 'queued' || u.status === 'error');
}

function renderUploadPanel() {
  els.uploadPanel.hidden = state.uploads.length === 0;
  const n = pendingUploads().length;
  tr(els.uploadStart, 'kb.upload', { n: n || state.uploads.filter((u) => u.status === 'uploading').length });
  els.uploadStart.hidden = n === 0 && !state.uploading;
  els.uploadStart.disabled = state.uploading || n === 0;
  els.uploadClear.classList.toggle('btn-primary', n === 0 && !state.uploading);
  els.uploadClear.classList.toggle('btn-ghost', !(n === 0 && !state.uploading));
  els.uploadClear.disabled = state.uploading;
  if (!state.uploads.length) {
    els.progress.hidden = true;
    els.progressText.textContent = '';
  }
}

function setProgress(done, total) {
  const pct = total ? Math.round((done / total) * 100) : 0;
  els.progress.hidden = false;
  els.progress.setAttribute('aria-valuenow', String(pct));
  els.progressBar.style.width = `${pct}%`;
  tr(els.progressText, 'kb.progress', { done, total });
}

async function startUpload() {
  const name = state.current;
  const queue = pendingUploads();
  if (!name || !queue.length || state.uploading) return;
  state.uploading = true;
  renderUploadPanel();
  let done = 0;
  let ok = 0;
  let failed = 0;
  setProgress(0, queue.length);
  els.progress.classList.remove('is-done', 'has-errors');
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const u = queue[next++];
      setUploadStatus(u, 'uploading');
      try {
        await api.addItem(name, { file: u.file, label: u.labelInput.value.trim(), text: u.captionInput.value.trim() });
        setUploadStatus(u, 'done');
        ok += 1;
        bumpCount(name, 1);
      } catch (err) {
        if (err instanceof ApiError && (err.code === 'duplicate_item' || err.status === 409)) {
          setUploadStatus(u, 'duplicate');
          ok += 1;
        } else {
          setUploadStatus(u, 'error', err.message);
          failed += 1;
        }
      }
      done += 1;
      setProgress(done, queue.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  state.uploading = false;
  els.progress.classList.add('is-done');
  els.progress.classList.toggle('has-errors', failed > 0);
  tr(els.progressText, 'kb.progressDone', { ok, failed });
  els.progressText.dataset.done = 'true';
  renderUploadPanel();
  if (state.current === name && !state.search) loadItems();
  refreshCollections().catch(() => {});
}

function clearUploads() {
  if (state.uploading) return;
  for (const u of state.uploads) URL.revokeObjectURL(u.url);
  state.uploads = [];
  clear(els.uploadList);
  delete els.progressText.dataset.done;
  renderUploadPanel();
}

// ------------------------------------------------------------------ view

/** Show the knowledge-base view for collection `name` (or the preferred one). */
export function showKb(name) {
  const list = getCollections();
  let target = name || state.current || preferredCollection() || 'default';
  if (list.length && !list.some((c) => c.name === target)) target = list.some((c) => c.name === 'default') ? 'default' : list[0].name;
  const changed = target !== state.current;
  state.current = target;
  if (!name && location.hash !== `#/kb/${encodeURIComponent(target)}`) history.replaceState(null, '', `#/kb/${encodeURIComponent(target)}`);
  els.none.hidden = Boolean(target);
  els.collectionView.hidden = !target;
  renderCollections(list);
  if (target) showDocuments(target, changed);
  if (changed) {
    state.search = null;
    els.searchBanner.hidden = true;
    els.searchText.value = '';
    loadItems();
  } else if (!state.loadingItems && !state.search) {
    loadItems();
  }
}

export function initKb() {
  els = {
    collectionList: $('collection-list'), collectionForm: $('collection-form'), newName: $('collection-name'), newDesc: $('collection-description'),
    collectionError: $('collection-error'), none: $('kb-none'), collectionView: $('kb-collection'), title: $('kb-title'), desc: $('kb-desc'),
    count: $('kb-count'), deleteCollection: $('collection-delete'), drop: $('kb-drop'), fileInput: $('kb-file-input'),
    uploadPanel: $('upload-panel'), uploadList: $('upload-list'), uploadStart: $('upload-start'), uploadClear: $('upload-clear'),
    labelAll: $('label-all'), labelAllApply: $('label-all-apply'), progress: $('upload-progress'), progressBar: $('upload-progress-bar'),
    progressText: $('upload-progress-text'), grid: $('item-grid'), empty: $('items-empty'), more: $('items-more'), showing: $('items-showing'),
    itemsError: $('items-error'), searchForm: $('search-form'), searchText: $('search-text'), searchPhoto: $('search-photo'),
    searchBanner: $('search-banner'), searchBannerText: $('search-banner-text'), searchClear: $('search-clear'),
    settingsForm: $('kb-settings-form'), settingsSave: $('kb-settings-save'), settingsSaved: $('kb-settings-saved'),
    settingsError: $('kb-settings-error'), setDescription: $('set-description'), setSystemPrompt: $('set-system-prompt'),
    setTemperature: $('set-temperature'), setTopK: $('set-top-k'), setMinSimilarity: $('set-min-similarity'),
  };
  els.setModes = Array.from(els.settingsForm.querySelectorAll('input[name="mode"]'));

  initDocuments({
    onFiles: handleKbFiles,
    // Documents were added or deleted: their passages are items, so the grid and counts change.
    onChanged: (name) => {
      if (name === state.current && !state.search) loadItems();
      refreshCollections().catch(() => {});
    },
  });

  els.collectionForm.addEventListener('submit', createCollection);
  // The form is open on wide screens and one tap away on phones.
  $('collection-new').open = window.matchMedia('(min-width: 821px)').matches;
  $('collection-new').addEventListener('toggle', () => { if ($('collection-new').open) els.newName.focus(); });
  els.newName.addEventListener('input', () => {
    const v = els.newName.value;
    const lower = v.toLowerCase().replace(/\s+/g, '-');
    if (lower !== v) els.newName.value = lower;
    els.newName.removeAttribute('aria-invalid');
    els.collectionError.hidden = true;
  });
  els.deleteCollection.addEventListener('click', deleteCollection);
  els.settingsForm.addEventListener('submit', saveSettings);
  const edited = () => {
    settingsDirty = true;
    els.settingsSaved.textContent = '';
    els.settingsSaved.removeAttribute('data-i18n');
  };
  els.settingsForm.addEventListener('input', edited);
  els.settingsForm.addEventListener('change', edited);

  els.fileInput.addEventListener('change', () => {
    handleKbFiles(Array.from(els.fileInput.files || []));
    els.fileInput.value = '';
  });
  dropTarget(els.drop, handleKbFiles);
  dropTarget($('view-kb'), handleKbFiles);
  els.uploadStart.addEventListener('click', startUpload);
  els.uploadClear.addEventListener('click', clearUploads);
  const applyAll = () => {
    const v = els.labelAll.value.trim();
    for (const u of pendingUploads()) u.labelInput.value = v;
  };
  els.labelAllApply.addEventListener('click', applyAll);
  els.labelAll.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); applyAll(); } });

  els.more.addEventListener('click', () => loadItems({ append: true }));
  els.searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    runSearch({ text: els.searchText.value.trim() });
  });
  els.searchPhoto.addEventListener('change', () => {
    const f = els.searchPhoto.files && els.searchPhoto.files[0];
    els.searchPhoto.value = '';
    if (f) runSearch({ file: f });
  });
  els.searchClear.addEventListener('click', clearSearch);

  onCollections((list) => {
    if (document.getElementById('view-kb').hidden) { renderCollections(list); return; }
    if (state.current && !list.some((c) => c.name === state.current)) showKb(null);
    else renderCollections(list);
  });
  onLangChange(() => {
    renderUploadPanel();
    relocalizeDocuments();
    updateItemsFoot();
    // Item cards carry formatted dates; rebuild them in the new language.
    if (!document.getElementById('view-kb').hidden && !state.search) {
      clear(els.grid);
      for (const item of state.items) els.grid.append(itemCard(item));
      updateItemsFoot();
    }
  });
  renderUploadPanel();
}
