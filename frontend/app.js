// pyxa portal — entry point: theme, language, service status, routing.
// Plain ES modules, no build step; everything talks to the public /v1 API.

import { api } from './api.js';
import { t, tr, getLang, setLang, applyI18n, onLangChange, locale } from './i18n.js';
import { el, clear, filesFromTransfer, toast, looksLikeDocument } from './ui.js';
import { refreshCollections } from './store.js';
import { initAsk, openConversation, newConversation, handlePastedFiles, flatten } from './ask.js';
import { initKb, showKb, handleKbFiles } from './kb.js';

const $ = (id) => document.getElementById(id);

// ----------------------------------------------------------------- theme

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

function initTheme() {
  applyTheme(currentTheme());
  $('theme-toggle').addEventListener('click', () => {
    const next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length];
    try { localStorage.setItem(THEME_KEY, next); } catch { /* ignore */ }
    applyTheme(next);
  });
}

// ---------------------------------------------------------------- health

let healthTimer = 0;

async function checkHealth() {
  const btn = $('health-button');
  const details = $('health-details');
  try {
    const h = await api.health();
    // pyxa answers, but a Qdrant cluster with a peer down serves with less redundancy.
    const vectors = h && h.stores && h.stores.vectors && h.stores.vectors.status;
    const ok = h && (h.status === 'ok' || h.status === 'healthy') && (!vectors || vectors === 'ok');
    btn.dataset.state = ok ? 'ok' : 'degraded';
    tr($('health-text'), ok ? 'health.ok' : 'health.degraded');
    clear(details);
    const rows = [];
    if (h.version) rows.push([t('health.version'), String(h.version)]);
    for (const [section, key] of [['models', 'health.models'], ['generator', 'health.generator'], ['stores', 'health.stores']]) {
      if (h[section] && typeof h[section] === 'object') {
        for (const [k, v] of flatten(h[section])) rows.push([`${t(key)} · ${k}`, v]);
      } else if (h[section]) rows.push([t(key), String(h[section])]);
    }
    for (const [k, v] of rows) details.append(el('div', {}, el('dt', { text: k }), el('dd', { text: v })));
  } catch (err) {
    btn.dataset.state = 'down';
    tr($('health-text'), 'health.down');
    clear(details);
    details.append(el('div', {}, el('dt', { i18n: 'error.title' }), el('dd', { text: err.message })));
  }
  clearTimeout(healthTimer);
  healthTimer = setTimeout(checkHealth, btn.dataset.state === 'ok' ? 60000 : 15000);
}

function initHealth() {
  const btn = $('health-button');
  const panel = $('health-panel');
  const setOpen = (open) => {
    panel.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
  };
  btn.addEventListener('click', () => setOpen(panel.hidden));
  $('health-refresh').addEventListener('click', checkHealth);
  document.addEventListener('click', (e) => {
    if (!panel.hidden && !panel.contains(e.target) && !btn.contains(e.target)) setOpen(false);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !panel.hidden) { setOpen(false); btn.focus(); }
  });
  checkHealth();
}

// -------------------------------------------------------------- language

function initLang() {
  document.documentElement.lang = locale();
  applyI18n(document);
  $('lang-toggle').addEventListener('click', () => setLang(getLang() === 'zh' ? 'en' : 'zh'));
  onLangChange(() => applyTheme(currentTheme()));
}

// --------------------------------------------------------------- routing

let currentView = 'ask';

function route() {
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const [view, ...rest] = hash.split('/');
  const arg = rest.join('/');
  const name = view === 'kb' ? 'kb' : 'ask';
  currentView = name;
  $('view-ask').hidden = name !== 'ask';
  $('view-kb').hidden = name !== 'kb';
  document.body.dataset.view = name;
  document.querySelectorAll('.mainnav a').forEach((a) => {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  if (name === 'kb') showKb(arg || null);
  else if (arg) openConversation(arg);
}

function initRouting() {
  window.addEventListener('hashchange', route);
  document.querySelectorAll('.mainnav a').forEach((a) => {
    a.addEventListener('click', (e) => {
      // Clicking "Ask" while already in a conversation keeps it; the "New" button starts over.
      if (a.dataset.view === 'ask' && currentView === 'ask') e.preventDefault();
    });
  });
  route();
}

// ----------------------------------------------------------------- paste

function initPaste() {
  document.addEventListener('paste', (e) => {
    // On the knowledge-base page pasted documents are uploaded too.
    const files = filesFromTransfer(e.clipboardData)
      .filter((f) => f.type.startsWith('image/') || (currentView === 'kb' && looksLikeDocument(f)));
    if (!files.length) return;
    e.preventDefault();
    if (currentView === 'kb') handleKbFiles(files);
    else if (handlePastedFiles(files)) toast(t('ask.pasted'), 'info', { timeout: 2000 });
  });
}

// ------------------------------------------------------------------ boot

function boot() {
  initLang();
  initTheme();
  initHealth();
  initAsk();
  initKb();
  initPaste();
  initRouting();
  refreshCollections().catch((err) => toast(err.message, 'error'));
  document.documentElement.classList.add('is-ready');
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();

export { newConversation };
