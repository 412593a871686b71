// pyxa portal — small DOM helpers shared by the views.

import { t, applyI18n, formatNumber } from './i18n.js';

/**
 * el('div.card#id', {attrs}, ...children). Attributes starting with "on" are
 * event listeners; `dataset`, `i18n` and `text` are handled specially. Never
 * uses innerHTML, so server text is always inserted as text.
 */
export function el(spec, attrs, ...children) {
  const m = /^([a-z0-9-]+)?(#[\w-]+)?((?:\.[\w-]+)*)$/i.exec(spec);
  const node = document.createElement((m && m[1]) || 'div');
  if (m && m[2]) node.id = m[2].slice(1);
  if (m && m[3]) node.className = m[3].split('.').filter(Boolean).join(' ');
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2).toLowerCase(), v);
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k === 'text') node.textContent = v;
      else if (k === 'i18n') {
        const [key, vars] = Array.isArray(v) ? v : [v];
        node.setAttribute('data-i18n', key);
        if (vars) node.setAttribute('data-i18n-vars', JSON.stringify(vars));
        node.textContent = t(key, vars || {});
      } else if (k === 'testid') node.setAttribute('data-testid', v);
      else if (k in node && typeof v !== 'string' && k !== 'list') node[k] = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const ICONS = {
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  x: ['M6 6l12 12M18 6L6 18'],
  trash: ['M5 7h14M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3'],
  thumbUp: ['M7 11v9H4v-9zM7 11l4-7c1.5 0 2.5 1 2.2 2.6L12.6 10H19a2 2 0 0 1 2 2.3l-1.2 6A2 2 0 0 1 17.8 20H7'],
  thumbDown: ['M7 13V4H4v9zM7 13l4 7c1.5 0 2.5-1 2.2-2.6L12.6 14H19a2 2 0 0 0 2-2.3l-1.2-6A2 2 0 0 0 17.8 4H7'],
  refresh: ['M19 7a8 8 0 1 0 1.5 6', 'M20 3v5h-5'],
  spark: ['M12 3l2 5.5L19.5 10 14 12l-2 5.5L10 12 4.5 10 10 8.5z'],
  alert: ['M12 4l9 16H3z', 'M12 10v4M12 17v.5'],
  chat: ['M4 5h16v11H8l-4 4z'],
  image: ['M3 4h18v16H3z', 'M3 15l5-5 4 4 3-3 6 6'],
  doc: ['M6 3h8l4 4v14H6z', 'M14 3v4h4', 'M9 12h6M9 16h6'],
  upload: ['M12 16V5M7 10l5-5 5 5M5 19h14'],
  clock: ['M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18', 'M12 7v5l3 2'],
};

/** An inline SVG icon drawn with strokes (decorative, hidden from assistive tech). */
export function icon(name, cls = '') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  if (cls) svg.setAttribute('class', cls);
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    p.setAttribute('class', 'icon-stroke');
    svg.append(p);
  }
  return svg;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${formatNumber(n / 1024, { maximumFractionDigits: 0 })} KB`;
  return `${formatNumber(n / 1024 / 1024, { maximumFractionDigits: 1 })} MB`;
}

export function formatScore(s) {
  const n = Number(s);
  return Number.isFinite(n) ? formatNumber(n, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : '–';
}

export function formatPercent(p) {
  const n = Number(p);
  if (!Number.isFinite(n)) return '–';
  return formatNumber(n, { style: 'percent', maximumFractionDigits: n < 0.1 ? 1 : 0 });
}

export function formatMs(ms) {
  const n = Number(ms);
  if (!Number.isFinite(n)) return '–';
  if (n >= 1000) return `${formatNumber(n / 1000, { maximumFractionDigits: 2 })} s`;
  return `${formatNumber(n, { maximumFractionDigits: n < 10 ? 1 : 0 })} ms`;
}

/** Is this File an image (by MIME type or, failing that, by file name)? */
export function looksLikeImage(file) {
  if (!file) return false;
  if (file.type) return file.type.startsWith('image/');
  return /\.(png|jpe?g|gif|webp|bmp|avif|heic|heif|tiff?)$/i.test(file.name || '');
}

/** The document types the server reads, by file name (the server decides by the name too). */
export const DOCUMENT_EXTENSIONS = ['txt', 'md', 'markdown', 'html', 'htm', 'pdf'];
const DOCUMENT_TYPES = ['text/plain', 'text/markdown', 'text/x-markdown', 'text/html', 'application/pdf'];

/** Is this File a document pyxa can read (.txt .md .markdown .html .htm .pdf)? */
export function looksLikeDocument(file) {
  if (!file) return false;
  const ext = documentExtension(file);
  if (ext) return DOCUMENT_EXTENSIONS.includes(ext);
  return DOCUMENT_TYPES.includes(String(file.type || '').split(';')[0]);
}

/** The lower-case extension of a file name ('' when it has none). */
export function documentExtension(file) {
  const m = /\.([a-z0-9]{1,10})$/i.exec((file && file.name) || '');
  return m ? m[1].toLowerCase() : '';
}

/** Pick the files out of a DataTransfer (drop or paste). */
export function filesFromTransfer(dt) {
  if (!dt) return [];
  const out = [];
  if (dt.files && dt.files.length) {
    for (const f of dt.files) out.push(f);
  } else if (dt.items) {
    for (const item of dt.items) {
      if (item.kind === 'file') {
        const f = item.getAsFile();
        if (f) out.push(f);
      }
    }
  }
  return out;
}

export function hasFiles(dt) {
  if (!dt) return false;
  if (dt.types) return Array.from(dt.types).includes('Files');
  return false;
}

// ---------------------------------------------------------------- toasts

export function toast(message, kind = 'info', { timeout = 4500 } = {}) {
  const host = document.getElementById('toasts');
  if (!host) return;
  const node = el(`div.toast.toast-${kind}`, { testid: 'toast' },
    icon(kind === 'error' ? 'alert' : 'check', 'toast-icon'),
    el('span', { text: message }));
  host.append(node);
  const remove = () => { node.classList.add('toast-out'); setTimeout(() => node.remove(), 250); };
  setTimeout(remove, timeout);
  node.addEventListener('click', remove);
}

// --------------------------------------------------------------- dialogs

/** Ask for confirmation in an accessible modal <dialog>. Resolves true/false. */
export function confirmDialog(message, { ok } = {}) {
  const dialog = document.getElementById('confirm-dialog');
  const okBtn = dialog.querySelector('[value="ok"]');
  document.getElementById('confirm-message').textContent = message;
  applyI18n(dialog);
  if (ok) okBtn.textContent = ok;
  return new Promise((resolve) => {
    const onClose = () => {
      dialog.removeEventListener('close', onClose);
      resolve(dialog.returnValue === 'ok');
    };
    dialog.returnValue = '';
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    dialog.querySelector('[value="cancel"]').focus();
  });
}

export function showLightbox({ src, fallback, title, sub }) {
  const dialog = document.getElementById('lightbox');
  const img = document.getElementById('lightbox-img');
  img.onerror = fallback && fallback !== src ? () => { img.onerror = null; img.src = fallback; } : null;
  img.src = src;
  img.alt = title || '';
  document.getElementById('lightbox-title').textContent = title || '';
  document.getElementById('lightbox-sub').textContent = sub || '';
  dialog.showModal();
}

/**
 * A passage or note as one run of text for a small card: Markdown heading marks dropped (a
 * heading ends with " · "), line breaks and runs of spaces made single spaces.
 */
export function flatText(text, max = 600) {
  return String(text || '').slice(0, max)
    .replace(/^\s{0,3}#{1,6}\s+(.*?)[\s#]*$/gm, '$1 · ')
    .replace(/\s+/g, ' ')
    .replace(/(\s·\s*)+$/, '')
    .replace(/(\s·)(\s·)+/g, '$1')
    .trim();
}

/** Show a passage or note in a readable dialog: title, a line about where it comes from, the text. */
export function showText({ title, sub, text }) {
  const dialog = document.getElementById('text-dialog');
  document.getElementById('text-dialog-title').textContent = title || '';
  const subEl = document.getElementById('text-dialog-sub');
  subEl.textContent = sub || '';
  subEl.hidden = !sub;
  document.getElementById('text-dialog-body').textContent = text || '';
  applyI18n(dialog);
  dialog.showModal();
  dialog.querySelector('[value="close"]').focus();
}

/** The full-size URL for a thumbnail URL of the form /v1/blobs/<hash>/thumbnail. */
export function fullImageUrl(thumbnailUrl) {
  if (!thumbnailUrl) return '';
  return String(thumbnailUrl).replace(/\/thumbnail(\?.*)?$/, '');
}

/** Set up a drop target: highlights while dragging files over it. */
export function dropTarget(node, onFiles, { overlay } = {}) {
  let depth = 0;
  const show = (on) => {
    node.classList.toggle('is-dragover', on);
    if (overlay) overlay.hidden = !on;
  };
  node.addEventListener('dragenter', (e) => {
    if (!hasFiles(e.dataTransfer)) return;
    e.preventDefault();
    depth += 1;
    show(true);
  });
  node.addEventListener('dragover', (e) => {
    if (!hasFiles(e.dataTransfer)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  node.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) show(false);
  });
  node.addEventListener('drop', (e) => {
    depth = 0;
    show(false);
    // A drop target inside this one took the files already; this one only stops highlighting.
    if (e.defaultPrevented) return;
    const files = filesFromTransfer(e.dataTransfer);
    if (!files.length) return;
    e.preventDefault();
    onFiles(files);
  });
}
