// pyxa portal — the "Ask" view: photo + question -> streamed, grounded answer,
// with candidates, evidence, timings, corrections, follow-ups and history.

import { api, askStream, ApiError } from './api.js';
import { t, tr, getLang, applyI18n, onLangChange, isDefaultPrompt, formatRelative, formatDate, toDate } from './i18n.js';
import {
  el, icon, clear, formatBytes, formatScore, formatPercent, formatMs, looksLikeImage, looksLikeDocument,
  filesFromTransfer, dropTarget, showLightbox, showText, fullImageUrl, toast, flatText,
} from './ui.js';
import { getCollections, onCollections, preferredCollection, setPreferredCollection } from './store.js';

const $ = (id) => document.getElementById(id);

const state = {
  conversationId: null,
  attached: null, // File waiting in the composer
  previewUrl: null,
  lastPhoto: null, // { file?, url? } — the photo the conversation is about
  busy: false,
  controller: null,
  history: [],
  historyLoaded: false,
  turnCount: 0,
};

let els;

// ------------------------------------------------------------ rich text

const INLINE_RE = /(\*\*([^*\n]+)\*\*)|(`([^`\n]+)`)|(\[(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\])/g;

/** Is this citation a text (a document's passage or a note) rather than a photo? */
function isTextCitation(c) {
  return Boolean(c.document) || (!c.thumbnail_url && Boolean(c.snippet));
}

/** The accessible name of a citation: a photo's label, or a document's title and passage. */
function citationName(c) {
  const score = formatScore(c.score);
  if (c.document) return ['turn.sourceDoc', { n: c.n, title: c.document.title || '', pos: Number(c.document.position) + 1, score }];
  if (isTextCitation(c) && !c.label) return ['turn.sourceText', { n: c.n, score }];
  return ['turn.source', { n: c.n, label: c.label || '', score }];
}

function citeButton(n, cit) {
  const [key, vars] = citationName({ ...cit, n });
  return el('button.cite', {
    type: 'button',
    dataset: { n: String(n) },
    testid: 'cite',
    'aria-label': t(key, vars),
    'data-i18n-aria-label': key,
    'data-i18n-vars': JSON.stringify(vars),
  }, String(n));
}

function renderInline(parent, text, citeMap) {
  let last = 0;
  INLINE_RE.lastIndex = 0;
  let m;
  while ((m = INLINE_RE.exec(text))) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    if (m[1]) parent.append(el('strong', { text: m[2] }));
    else if (m[3]) parent.append(el('code', { text: m[4] }));
    else {
      const nums = m[6].split(/\s*[,，]\s*/).map(Number);
      if (nums.every((n) => citeMap.has(n))) {
        nums.forEach((n) => parent.append(citeButton(n, citeMap.get(n))));
      } else {
        parent.append(m[0]);
      }
    }
    last = INLINE_RE.lastIndex;
  }
  if (last < text.length) parent.append(text.slice(last));
}

/** Render answer text: paragraphs, bullet/numbered lists, **bold**, `code`, citations [n]. */
function renderAnswer(container, text, citations) {
  const citeMap = new Map((citations || []).map((c) => [Number(c.n), c]));
  const frag = document.createDocumentFragment();
  let para = null;
  let list = null;
  for (const line of String(text || '').split('\n')) {
    const bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
    const num = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (bullet || num) {
      const tag = bullet ? 'UL' : 'OL';
      if (!list || list.tagName !== tag) {
        list = document.createElement(tag.toLowerCase());
        frag.append(list);
      }
      const li = el('li');
      renderInline(li, (bullet || num)[1], citeMap);
      list.append(li);
      para = null;
      continue;
    }
    if (!line.trim()) { para = null; list = null; continue; }
    list = null;
    if (!para) { para = el('p'); frag.append(para); } else para.append(el('br'));
    renderInline(para, line, citeMap);
  }
  container.replaceChildren(frag);
}

// --------------------------------------------------------- side panels

function labelNode(tag, label, labelZh, cls) {
  const node = el(`${tag}.${cls}`, { 'data-label-en': label || t('kb.unlabelled') });
  if (labelZh) node.setAttribute('data-label-zh', labelZh);
  node.textContent = getLang() === 'zh' && labelZh ? labelZh : (label || t('kb.unlabelled'));
  return node;
}

function renderCandidates(host, candidates) {
  clear(host);
  const list = (candidates || []).slice().sort((a, b) => (b.probability || 0) - (a.probability || 0)).slice(0, 6);
  if (!list.length) {
    host.append(el('p.muted.small', { i18n: 'turn.noCandidates' }));
    return;
  }
  const ol = el('ol.candidates', { testid: 'candidates' });
  list.forEach((c, i) => {
    const p = Math.max(0, Math.min(1, Number(c.probability) || 0));
    const bar = el('span.cand-bar');
    bar.style.width = `${(p * 100).toFixed(1)}%`;
    // Beside the name shown, its name in the other language: the Chinese name of an English
    // label, the English reading of a Chinese one (never the same word twice).
    const shown = getLang() === 'zh' && c.label_zh ? c.label_zh : c.label;
    const other = [c.label, c.label_zh, c.label_en].find((n) => n && n !== shown);
    const alt = other ? el('span.cand-alt', { text: other, testid: 'candidate-alt' }) : null;
    ol.append(el(`li.candidate${i === 0 ? '.is-top' : ''}`, { testid: 'candidate', dataset: { label: c.label || '' } },
      el('span.cand-row', {},
        labelNode('span', c.label, c.label_zh, 'cand-name'),
        alt,
        el('span.cand-pct', { text: formatPercent(p) })),
      el('span.cand-track', { 'aria-hidden': 'true' }, bar)));
  });
  host.append(ol);
}

/** Passages and notes cited: the document's title, the passage's position and the snippet. */
function textEvidence(c) {
  const [key, vars] = citationName(c);
  const doc = c.document || null;
  const position = doc ? Number(doc.position) + 1 : 0;
  const title = doc ? (doc.title || '') : (c.label || t('turn.note'));
  return el('button.evidence-item.evidence-doc', {
    type: 'button',
    dataset: { n: String(c.n), kind: doc ? 'passage' : 'text' },
    testid: 'evidence-item',
    'aria-label': t(key, vars),
    'data-i18n-aria-label': key,
    'data-i18n-vars': JSON.stringify(vars),
    onclick: () => showText({
      title,
      sub: [doc ? t('kb.doc.passageN', { n: position }) : t('turn.note'), t('turn.score', { score: formatScore(c.score) })].join(' · '),
      text: c.snippet || '',
    }),
  },
  el('span.evd-head', {},
    el('span.ev-badge', { text: String(c.n), 'aria-hidden': 'true' }),
    icon(doc ? 'doc' : 'chat', 'evd-icon'),
    el('span.evd-title', { text: title, testid: 'evidence-doc-title' })),
  el('span.evd-meta', {},
    doc ? el('span.evd-pos', { i18n: ['turn.passage', { n: position }], testid: 'evidence-position' }) : el('span.evd-pos', { i18n: 'turn.note' }),
    el('span.ev-score', { text: formatScore(c.score), testid: 'evidence-score' })),
  c.snippet ? el('span.evd-snippet', { text: flatText(c.snippet), testid: 'evidence-snippet' }) : null);
}

function renderEvidence(host, citations) {
  clear(host);
  if (!citations || !citations.length) {
    host.append(el('p.muted.small', { i18n: 'turn.noEvidence' }));
    return;
  }
  const texts = citations.filter(isTextCitation);
  const photos = citations.filter((c) => !isTextCitation(c));
  if (texts.length) {
    host.append(el('ul.evidence-docs', { testid: 'evidence-docs' }, texts.map((c) => el('li', {}, textEvidence(c)))));
  }
  if (!photos.length) return;
  const ul = el('ul.evidence-grid', { testid: 'evidence' });
  for (const c of photos) {
    const vars = { n: c.n, label: c.label || '', score: formatScore(c.score) };
    const img = el('img', { src: c.thumbnail_url || '', alt: '', loading: 'lazy', decoding: 'async' });
    img.addEventListener('error', () => img.classList.add('is-broken'), { once: true });
    const btn = el('button.evidence-item', {
      type: 'button',
      dataset: { n: String(c.n) },
      testid: 'evidence-item',
      'aria-label': t('turn.source', vars),
      'data-i18n-aria-label': 'turn.source',
      'data-i18n-vars': JSON.stringify(vars),
      onclick: () => showLightbox({
        src: fullImageUrl(c.thumbnail_url), fallback: c.thumbnail_url, title: c.label || '', sub: t('turn.score', { score: formatScore(c.score) }),
      }),
    },
    el('span.ev-thumb', {}, img, el('span.ev-badge', { text: String(c.n), 'aria-hidden': 'true' })),
    el('span.ev-caption', {},
      labelNode('span', c.label, c.label_zh, 'ev-label'),
      el('span.ev-score', { text: formatScore(c.score), testid: 'evidence-score' })));
    ul.append(el('li', {}, btn));
  }
  host.append(ul);
}

const STAGES = ['decode', 'translate', 'encode', 'retrieve', 'candidates', 'generate'];

function renderTimings(host, timings, models, source) {
  clear(host);
  if (!timings || typeof timings !== 'object') { host.hidden = true; return; }
  host.hidden = false;
  const keys = Object.keys(timings).filter((k) => k !== 'total' && Number.isFinite(Number(timings[k])));
  keys.sort((a, b) => {
    const ia = STAGES.indexOf(a); const ib = STAGES.indexOf(b);
    return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
  });
  const sum = keys.reduce((s, k) => s + Number(timings[k]), 0);
  const total = Number.isFinite(Number(timings.total)) ? Number(timings.total) : sum;
  const head = el('h3.panel-title', {}, tr(el('span'), 'turn.timings'), el('span.panel-aside', { text: formatMs(total), testid: 'timing-total' }));
  const stack = el('div.timing-stack', { 'aria-hidden': 'true' });
  const legend = el('dl.timing-legend', { testid: 'timings' });
  keys.forEach((k, i) => {
    const v = Number(timings[k]);
    const seg = el(`span.seg.seg-${i % 5}`);
    seg.style.width = `${sum > 0 ? (v / sum) * 100 : 0}%`;
    stack.append(seg);
    const known = STAGES.includes(k);
    legend.append(el('div.timing-row', {},
      el('dt', {}, el(`span.dot.seg-${i % 5}`, { 'aria-hidden': 'true' }), known ? tr(el('span'), `timing.${k}`) : el('span', { text: k })),
      el('dd', { text: formatMs(v) })));
  });
  host.append(head, stack, legend);
  if ((models && typeof models === 'object' && Object.keys(models).length) || source) {
    const kv = el('dl.kv.small');
    const rows = flatten(models || {}).filter(([, v]) => v !== 'null' && v !== '');
    if (source) rows.unshift(['answer_source', String(source)]);
    for (const [k, v] of rows) kv.append(el('div', {}, el('dt', { text: k }), el('dd', { text: v })));
    host.append(el('details.tech', {}, tr(el('summary'), 'turn.details'), kv));
  }
}

export function flatten(obj, prefix = '', out = []) {
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else out.push([key, Array.isArray(v) ? v.join(', ') : String(v)]);
  }
  return out;
}

// ------------------------------------------------------------ turn view

/** Highlight every citation and evidence thumbnail numbered `n` inside `turnEl`. */
function highlight(turnEl, n) {
  turnEl.querySelectorAll('.cite.is-active, .evidence-item.is-active').forEach((x) => x.classList.remove('is-active'));
  const key = n || turnEl.dataset.pinned;
  if (!key) return;
  turnEl.querySelectorAll(`.cite[data-n="${CSS.escape(key)}"], .evidence-item[data-n="${CSS.escape(key)}"]`)
    .forEach((x) => x.classList.add('is-active'));
}

function wireCitations(turnEl) {
  const over = (e) => {
    const target = e.target.closest('.cite, .evidence-item');
    if (target && turnEl.contains(target)) highlight(turnEl, target.dataset.n);
  };
  const out = (e) => {
    const target = e.target.closest('.cite, .evidence-item');
    if (!target) return;
    const to = e.relatedTarget && e.relatedTarget.closest && e.relatedTarget.closest('.cite, .evidence-item');
    if (to && to.dataset.n === target.dataset.n) return;
    highlight(turnEl, null);
  };
  turnEl.addEventListener('pointerover', over);
  turnEl.addEventListener('focusin', over);
  turnEl.addEventListener('pointerout', out);
  turnEl.addEventListener('focusout', out);
  turnEl.addEventListener('click', (e) => {
    const cite = e.target.closest('.cite');
    if (!cite) return;
    const n = cite.dataset.n;
    turnEl.dataset.pinned = turnEl.dataset.pinned === n ? '' : n;
    highlight(turnEl, turnEl.dataset.pinned || null);
    const ev = turnEl.querySelector(`.evidence-item[data-n="${CSS.escape(n)}"]`);
    if (ev) {
      ev.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      ev.classList.remove('flash');
      void ev.offsetWidth; // restart the animation
      ev.classList.add('flash');
    }
  });
}

/**
 * Build one question/answer turn. `data`: { prompt, photoUrl, answer,
 * candidates, citations, confident, answerId, timings, models, created_at }.
 * Returns an object with methods to update it while the answer streams.
 */
function createTurn(data) {
  state.turnCount += 1;
  const id = `turn-${state.turnCount}`;
  const photo = data.photoUrl
    ? el('button.turn-photo-btn', {
      type: 'button',
      onclick: () => showLightbox({ src: data.photoUrl, title: data.prompt || '' }),
    }, el('img.turn-photo', { src: data.photoUrl, alt: t('turn.photoAlt'), 'data-i18n-alt': 'turn.photoAlt', testid: 'turn-photo' }))
    : null;
  if (photo) {
    // A file that is not a decodable picture gets a neutral placeholder instead of a broken image.
    photo.firstChild.addEventListener('error', () => {
      photo.replaceWith(el('span.photo-missing', { testid: 'turn-photo-missing' }, icon('image'), el('span', { i18n: 'ask.previewFailed' })));
    }, { once: true });
  }
  const user = el('div.turn-user', {},
    el('div.bubble.bubble-user', {},
      photo,
      data.prompt ? el('p.turn-prompt', { text: data.prompt, testid: 'turn-prompt' }) : null));

  const status = el('p.turn-status', { testid: 'turn-status' });
  const badge = el('span.badge.conf-badge', { hidden: true, testid: 'confidence' });
  const answerText = el('div.answer-text', {
    id: `${id}-answer`, testid: 'answer-text', 'aria-live': 'polite', 'aria-atomic': 'false',
  });
  const errorBox = el('div.alert.alert-error.turn-error', { role: 'alert', hidden: true });
  const noEvidence = el('p.no-evidence', { testid: 'no-evidence', hidden: true }, icon('doc'), el('span', { i18n: 'turn.noEvidenceNote' }));
  const feedback = el('div.feedback', { hidden: true, testid: 'feedback' });
  const candHost = el('div.panel-body');
  const evHost = el('div.panel-body');
  const timingHost = el('section.panel.timings-panel', { hidden: true, testid: 'timings-panel' });

  const main = el('div.answer-main', {},
    el('div.answer-head', {},
      el('span.avatar', { 'aria-hidden': 'true' }, icon('spark')),
      tr(el('span.answer-who'), 'turn.pyxa'),
      badge),
    status,
    answerText,
    noEvidence,
    errorBox,
    feedback);
  // A question without a photo has no candidates to rank: the panel shows only when some come.
  const candPanel = el('section.panel', { testid: 'candidates-panel', hidden: !data.photo && !data.photoUrl },
    el('h3.panel-title', {}, tr(el('span'), 'turn.candidates')), candHost);
  const side = el('div.answer-side', {},
    candPanel,
    el('section.panel', { testid: 'evidence-panel' }, el('h3.panel-title', {}, tr(el('span'), 'turn.evidence')), evHost),
    timingHost);
  const answer = el('div.turn-answer', {}, main, side);
  const root = el('article.turn', { id, testid: 'turn', 'aria-labelledby': `${id}-answer` }, user, answer);
  wireCitations(root);

  const turn = {
    root,
    text: '',
    citations: data.citations || [],
    candidates: data.candidates || [],
    answerId: data.answerId || null,
    photo: data.photo || null, // { file?, url? } used by "ask again"
    prompt: data.prompt || '',
    raf: 0,
    setStatus(key) {
      if (key) { tr(status, key); status.hidden = false; } else { status.hidden = true; }
      root.classList.toggle('is-streaming', key === 'turn.thinking' || key === 'turn.searching' || key === 'turn.writing');
    },
    setEvidence(ev) {
      if (ev.answer_id) turn.answerId = ev.answer_id;
      if (Array.isArray(ev.candidates)) {
        turn.candidates = ev.candidates;
        renderCandidates(candHost, ev.candidates);
        candPanel.hidden = !ev.candidates.length && !turn.photo && !data.photoUrl;
      }
      if (Array.isArray(ev.citations)) { turn.citations = ev.citations; renderEvidence(evHost, ev.citations); }
      // Confidence is about the top candidate; with none (a question about documents) it says nothing.
      if (typeof ev.confident === 'boolean' && turn.candidates.length) {
        badge.hidden = false;
        badge.classList.toggle('is-confident', ev.confident);
        badge.classList.toggle('is-unsure', !ev.confident);
        tr(badge, ev.confident ? 'turn.confident' : 'turn.unsure');
      }
      if (ev.language) answerText.lang = ev.language === 'zh' ? 'zh-CN' : ev.language;
      if (turn.text) renderAnswer(answerText, turn.text, turn.citations);
    },
    appendToken(s) {
      turn.text += s;
      turn.setStatus('turn.writing');
      if (!turn.raf) {
        turn.raf = requestAnimationFrame(() => {
          turn.raf = 0;
          renderAnswer(answerText, turn.text, turn.citations);
          keepScrolled();
        });
      }
    },
    finish(final) {
      if (turn.raf) { cancelAnimationFrame(turn.raf); turn.raf = 0; }
      turn.setEvidence(final);
      if (typeof final.answer === 'string' && final.answer) turn.text = final.answer;
      renderAnswer(answerText, turn.text, turn.citations);
      answerText.setAttribute('aria-busy', 'false');
      turn.setStatus(null);
      renderTimings(timingHost, final.timings_ms, final.models, final.answer_source);
      if (final.answer_source) root.dataset.answerSource = final.answer_source;
      // The knowledge base held nothing relevant: say so quietly beside the answer.
      noEvidence.hidden = final.answer_source !== 'no_evidence';
      if (turn.answerId) buildFeedback(turn, feedback);
      root.classList.add('is-done');
    },
    stopped() {
      if (turn.raf) { cancelAnimationFrame(turn.raf); turn.raf = 0; }
      renderAnswer(answerText, turn.text, turn.citations);
      answerText.setAttribute('aria-busy', 'false');
      turn.setStatus('turn.stopped');
      root.classList.remove('is-streaming');
    },
    fail(err, retry) {
      if (turn.raf) { cancelAnimationFrame(turn.raf); turn.raf = 0; }
      answerText.setAttribute('aria-busy', 'false');
      if (turn.text) renderAnswer(answerText, turn.text, turn.citations);
      turn.setStatus(null);
      clear(errorBox);
      errorBox.append(
        icon('alert', 'alert-icon'),
        el('div', {},
          el('strong', { i18n: 'turn.failed' }),
          el('p.error-message', { text: err.message || String(err), testid: 'turn-error' }),
          err.code && err.code !== 'network' ? el('code.error-code', { text: err.code }) : null),
      );
      if (retry) {
        errorBox.append(el('button.btn.btn-small.btn-secondary', { type: 'button', onclick: retry }, icon('refresh'), el('span', { i18n: 'turn.retry' })));
      }
      errorBox.hidden = false;
      if (!turn.citations.length && !turn.candidates.length) side.hidden = true;
      root.classList.add('is-failed');
      root.classList.remove('is-streaming');
    },
  };

  if (data.answer !== undefined) {
    turn.text = data.answer || '';
    turn.setEvidence({ candidates: data.candidates || [], citations: data.citations || [], confident: data.confident });
    turn.finish({ answer: data.answer || '', timings_ms: data.timings, models: data.models, answer_id: data.answerId });
    if (data.created_at) root.dataset.createdAt = data.created_at;
  } else {
    answerText.setAttribute('aria-busy', 'true');
    turn.setStatus(data.photoUrl || data.photo ? 'turn.thinking' : 'turn.searching');
    renderCandidates(candHost, []);
    candHost.replaceChildren(el('div.skeleton'), el('div.skeleton'), el('div.skeleton.short'));
    evHost.replaceChildren(el('div.skeleton-grid', {}, el('div.skeleton.tile'), el('div.skeleton.tile'), el('div.skeleton.tile')));
  }
  return turn;
}

// ------------------------------------------------------------- feedback

function buildFeedback(turn, host) {
  clear(host);
  host.hidden = false;
  const result = el('p.fb-result', { role: 'status', testid: 'feedback-result', hidden: true });
  const input = el('input.fb-input', {
    type: 'text', autocomplete: 'off', testid: 'correction-input', 'data-i18n-placeholder': 'fb.placeholder', placeholder: t('fb.placeholder'),
    id: `${turn.root.id}-fix`,
  });
  const submit = el('button.btn.btn-primary.btn-small', { type: 'submit', testid: 'correction-submit' }, el('span', { i18n: 'fb.send' }));
  const top = (turn.candidates || []).slice().sort((a, b) => (b.probability || 0) - (a.probability || 0));
  const choices = top.slice(1, 6);
  const chips = choices.length
    ? el('div.chips', { role: 'group', 'aria-label': t('fb.quick'), 'data-i18n-aria-label': 'fb.quick' },
      choices.map((c) => {
        const chip = el('button.chip', { type: 'button', testid: 'correction-choice', dataset: { label: c.label } },
          labelNode('span', c.label, c.label_zh, 'chip-label'));
        chip.addEventListener('click', () => { input.value = c.label; send({ label: c.label }); });
        return chip;
      }))
    : null;
  const form = el('form.fb-form', { hidden: true, testid: 'correction-form', novalidate: true },
    el('label.fb-label', { for: input.id, i18n: 'fb.itIs' }),
    chips,
    el('div.fb-row', {}, input, submit,
      el('button.btn.btn-ghost.btn-small', { type: 'button', onclick: () => { form.hidden = true; ask.hidden = false; noBtn.focus(); } }, el('span', { i18n: 'fb.cancel' }))));
  const yesBtn = el('button.btn.btn-small.btn-secondary', { type: 'button', testid: 'feedback-correct' }, icon('thumbUp'), el('span', { i18n: 'fb.yes' }));
  const noBtn = el('button.btn.btn-small.btn-secondary', { type: 'button', testid: 'feedback-wrong', 'aria-expanded': 'false' }, icon('thumbDown'), el('span', { i18n: 'fb.no' }));
  const ask = el('div.fb-ask', {}, el('span.fb-question', { i18n: 'fb.question' }), yesBtn, noBtn);
  const againBtn = el('button.btn.btn-small.btn-primary-soft', { type: 'button', testid: 'ask-again', hidden: true }, icon('refresh'), el('span', { i18n: 'fb.askAgain' }));

  yesBtn.addEventListener('click', () => send({ correct: true }));
  noBtn.addEventListener('click', () => {
    // Without a photo there is no label to teach: "wrong" is recorded as it is.
    if (!turn.photo) { send({ correct: false }); return; }
    form.hidden = false;
    ask.hidden = true;
    noBtn.setAttribute('aria-expanded', 'true');
    input.focus();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const label = input.value.trim();
    if (!label) {
      showResult('fb.emptyLabel', {}, 'error');
      input.focus();
      return;
    }
    send({ label });
  });
  againBtn.addEventListener('click', () => askAgain(turn));

  function showResult(key, vars, kind) {
    result.hidden = false;
    result.className = `fb-result fb-${kind}`;
    clear(result);
    result.append(icon(kind === 'error' ? 'alert' : 'check', 'fb-icon'), el('span', { i18n: [key, vars] }));
  }

  async function send(body) {
    const buttons = host.querySelectorAll('button, input');
    buttons.forEach((b) => { b.disabled = true; });
    result.hidden = false;
    result.className = 'fb-result fb-pending';
    tr(result, 'fb.sending');
    try {
      const res = (await api.feedback(turn.answerId, body)) || {};
      const label = res.label || body.label;
      form.hidden = true;
      ask.hidden = true;
      if (body.label && res.status === 'learned') {
        showResult('fb.learned', { label }, 'success');
        if (res.item_id) result.lastChild.append(' ', el('span.muted', { i18n: 'fb.learnedItem' }));
        host.classList.add('is-learned');
        againBtn.hidden = !canAskAgain(turn);
      } else if (body.correct) {
        showResult('fb.thanks', {}, 'success');
      } else {
        showResult('fb.recorded', {}, 'success');
        againBtn.hidden = !canAskAgain(turn);
      }
      if (!againBtn.hidden) againBtn.focus();
    } catch (err) {
      result.hidden = false;
      result.className = 'fb-result fb-error';
      clear(result);
      result.append(icon('alert', 'fb-icon'), el('span', { text: err.message }));
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  host.append(ask, form, result, againBtn);
}

function canAskAgain(turn) {
  return Boolean(turn.photo && (turn.photo.file || turn.photo.url));
}

async function askAgain(turn) {
  let file = turn.photo && turn.photo.file;
  if (!file && turn.photo && turn.photo.url) {
    try {
      const res = await fetch(turn.photo.url);
      if (!res.ok) throw new ApiError(res.status, 'http', t('error.http', { status: res.status }));
      const blob = await res.blob();
      file = new File([blob], 'photo', { type: blob.type || 'image/jpeg' });
    } catch (err) {
      toast(err.message, 'error');
      return;
    }
  }
  submitQuestion({ prompt: turn.prompt || t('ask.defaultPrompt'), file, photoUrl: turn.photo.url });
}

// ------------------------------------------------------------- composer

function setAttachment(file) {
  if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
  state.previewUrl = null;
  state.attached = file || null;
  hideError();
  if (!file) {
    els.attachPreview.hidden = true;
    els.attachEmpty.hidden = false;
    els.previewImg.removeAttribute('src');
    els.attach.classList.remove('has-photo');
    updateFollowupHint();
    return;
  }
  state.previewUrl = URL.createObjectURL(file);
  els.previewFallback.hidden = true;
  els.previewImg.hidden = false;
  els.previewImg.src = state.previewUrl;
  els.previewImg.alt = file.name || t('turn.photoAlt');
  els.previewName.textContent = file.name || t('ask.pasted');
  els.previewSize.textContent = formatBytes(file.size);
  els.attachPreview.hidden = false;
  els.attachEmpty.hidden = true;
  els.attach.classList.add('has-photo');
  if (!els.prompt.value.trim()) els.prompt.value = t('ask.defaultPrompt');
  autosize();
  updateFollowupHint();
}

function acceptFiles(files) {
  const file = files.find(looksLikeImage) || null;
  if (!file) {
    showError(t(files.some(looksLikeDocument) ? 'ask.documentHint' : 'ask.notImage'));
    return false;
  }
  setAttachment(file);
  els.prompt.focus();
  return true;
}

function showError(message) {
  els.error.textContent = message;
  els.error.hidden = false;
}
function hideError() { els.error.hidden = true; els.error.textContent = ''; }

function updateFollowupHint() {
  const follow = Boolean(state.conversationId) && !state.attached;
  // Follow-ups reuse the conversation's photo; a conversation about documents has none.
  const photo = follow && Boolean(state.lastPhoto);
  els.followupHint.hidden = !photo;
  const key = !follow ? 'ask.promptPlaceholder' : photo ? 'ask.followupPlaceholder' : 'ask.followupPlaceholderText';
  els.prompt.setAttribute('data-i18n-placeholder', key);
  els.prompt.placeholder = t(key);
}

function autosize() {
  const ta = els.prompt;
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight + 2, 200)}px`;
}

function setBusy(busy) {
  state.busy = busy;
  els.submit.hidden = busy;
  els.stop.hidden = !busy;
  els.composer.classList.toggle('is-busy', busy);
}

let stickToBottom = true;
let followTurn = null;
/** Follow the streaming answer, but never scroll the current turn's top out of view. */
function keepScrolled() {
  if (!stickToBottom) return;
  const th = els.thread;
  let target = th.scrollHeight - th.clientHeight;
  if (followTurn && followTurn.isConnected) target = Math.min(target, followTurn.offsetTop - 16);
  if (target > th.scrollTop) th.scrollTop = target;
}

function showHero(show) { els.hero.hidden = !show; }

function collectionValue() { return els.collection.value || preferredCollection() || 'default'; }

/** Send a question (with an optional photo) and stream the answer into a new turn. */
async function submitQuestion({ prompt, file, photoUrl }) {
  if (state.busy) return;
  prompt = (prompt || '').trim();
  if (!prompt && !file) {
    showError(t('ask.needInput'));
    els.prompt.focus();
    return;
  }
  if (!prompt) prompt = t('ask.defaultPrompt');
  hideError();
  showHero(false);

  const localUrl = file ? URL.createObjectURL(file) : null;
  const shownUrl = localUrl || photoUrl || null;
  if (file) state.lastPhoto = { file, url: photoUrl || null };
  const turn = createTurn({ prompt, photoUrl: shownUrl, photo: file ? { file, url: photoUrl || null } : state.lastPhoto });
  els.thread.append(turn.root);
  followTurn = turn.root;
  stickToBottom = true;
  keepScrolled();

  const fields = {
    prompt,
    collection: collectionValue(),
    // Only what the user chose here: otherwise the collection's own settings apply.
    mode: els.mode.dataset.explicit ? els.mode.value : undefined,
    top_k: els.topk.dataset.explicit ? els.topk.value : undefined,
    lang: els.lang.value || '',
    conversation_id: state.conversationId || '',
    image: file || null,
  };
  const controller = new AbortController();
  state.controller = controller;
  setBusy(true);
  const retry = () => { turn.root.remove(); submitQuestion({ prompt, file, photoUrl }); };
  try {
    await askStream(fields, {
      signal: controller.signal,
      onEvidence: (ev) => {
        turn.setEvidence(ev);
        if (ev.conversation_id) adoptConversation(ev.conversation_id);
      },
      onToken: (s) => turn.appendToken(s),
      onDone: (final) => {
        turn.finish(final);
        if (final.conversation_id) adoptConversation(final.conversation_id);
      },
    });
    loadHistory();
  } catch (err) {
    if (err && err.name === 'AbortError') {
      turn.stopped();
    } else {
      // Offer "Try again" for server, network and generation failures — not for a bad request
      // (an undecodable photo, an unknown collection…), where repeating cannot help.
      const clientFault = err instanceof ApiError
        && ((err.status >= 400 && err.status < 500) || /^(invalid|unsupported|empty|unknown)_|too_large|not_found/.test(err.code || ''));
      const transient = !clientFault;
      turn.fail(err, transient ? retry : null);
    }
  } finally {
    state.controller = null;
    setBusy(false);
    keepScrolled();
  }
}

function adoptConversation(id) {
  if (state.conversationId === id) return;
  state.conversationId = id;
  const target = `#/ask/${encodeURIComponent(id)}`;
  if (location.hash !== target) history.replaceState(null, '', target);
  updateFollowupHint();
  markActiveHistory();
}

function onSubmit(e) {
  e.preventDefault();
  if (state.busy) return;
  const file = state.attached;
  const prompt = els.prompt.value;
  if (!prompt.trim() && !file) {
    showError(t('ask.needInput'));
    els.prompt.focus();
    return;
  }
  setAttachment(null);
  els.prompt.value = '';
  autosize();
  submitQuestion({ prompt, file });
  updateFollowupHint();
}

/** Start over: empty thread, default question. */
export function newConversation({ focus = true } = {}) {
  if (state.controller) state.controller.abort();
  state.conversationId = null;
  state.lastPhoto = null;
  clear(els.thread);
  els.thread.append(els.hero);
  showHero(true);
  hideError();
  if (!els.prompt.value.trim()) els.prompt.value = t('ask.defaultPrompt');
  autosize();
  updateFollowupHint();
  markActiveHistory();
  if (location.hash.startsWith('#/ask/')) history.replaceState(null, '', '#/ask');
  closeHistoryDrawer();
  if (focus) els.prompt.focus();
}

// -------------------------------------------------------------- history

export async function loadHistory() {
  try {
    const data = await api.listConversations();
    state.history = (data && data.conversations) || [];
    state.history.sort((a, b) => Number(b.updated_at || b.created_at || 0) - Number(a.updated_at || a.created_at || 0));
    state.historyLoaded = true;
    renderHistory();
  } catch (err) {
    clear(els.historyList);
    els.historyEmpty.hidden = true;
    els.historyList.append(el('li.history-error', {},
      el('span.muted', { i18n: 'history.loadError' }),
      el('button.btn.btn-ghost.btn-small', { type: 'button', onclick: loadHistory, i18n: 'history.retry' })));
  }
}

function renderHistory() {
  clear(els.historyList);
  els.historyEmpty.hidden = state.history.length > 0;
  for (const c of state.history) {
    const turns = Array.isArray(c.turns) ? c.turns.length : Number(c.turns) || 0;
    const when = c.updated_at || c.created_at;
    const a = el('a.history-item', {
      href: `#/ask/${encodeURIComponent(c.id)}`, testid: 'history-item', dataset: { id: c.id },
    },
    el('span.hi-title', { text: c.title || t('history.untitled') }),
    el('span.hi-meta', {},
      el('time', { datetime: when || '', text: formatRelative(when), title: formatDate(when) }),
      turns ? el('span', { i18n: ['history.turns', { n: turns }] }) : null));
    els.historyList.append(el('li', {}, a));
  }
  markActiveHistory();
}

function markActiveHistory() {
  els.historyList.querySelectorAll('.history-item').forEach((a) => {
    if (a.dataset.id === state.conversationId) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}

/** Show a past conversation from GET /v1/conversations/{id}. */
export async function openConversation(id) {
  if (!id) return newConversation({ focus: false });
  if (id === state.conversationId && els.thread.querySelector('.turn')) { closeHistoryDrawer(); return; }
  if (state.controller) state.controller.abort();
  state.conversationId = id;
  if (isDefaultPrompt(els.prompt.value) && !state.attached) { els.prompt.value = ''; autosize(); }
  markActiveHistory();
  closeHistoryDrawer();
  clear(els.thread);
  showHero(false);
  const loading = el('div.loading', { 'aria-busy': 'true' }, el('div.skeleton'), el('div.skeleton'), el('div.skeleton.short'));
  els.thread.append(loading);
  try {
    const conv = await api.getConversation(id);
    if (state.conversationId !== id) return;
    clear(els.thread);
    els.thread.append(el('header.conv-head', {},
      el('h2.conv-title', { text: conv.title || t('history.untitled'), testid: 'conversation-title' }),
      conv.created_at ? el('time.muted', { datetime: toDate(conv.created_at).toISOString(), text: formatDate(conv.created_at) }) : null));
    let lastUrl = null;
    for (const tdata of conv.turns || []) {
      if (tdata.image_url) lastUrl = tdata.image_url;
      const turn = createTurn({
        prompt: tdata.prompt,
        photoUrl: tdata.image_url || null,
        photo: lastUrl ? { url: lastUrl } : null,
        answer: tdata.answer || '',
        candidates: tdata.candidates || [],
        citations: tdata.citations || [],
        confident: tdata.confident,
        answerId: tdata.answer_id,
        timings: tdata.timings_ms,
        models: tdata.models,
        created_at: tdata.created_at,
      });
      els.thread.append(turn.root);
    }
    state.lastPhoto = lastUrl ? { url: lastUrl } : null;
    followTurn = null;
    els.thread.scrollTop = els.thread.scrollHeight;
  } catch (err) {
    clear(els.thread);
    els.thread.append(el('div.alert.alert-error', { role: 'alert' }, icon('alert', 'alert-icon'), el('span', { text: err.message })));
  }
  updateFollowupHint();
}

function openHistoryDrawer(open) {
  document.body.classList.toggle('history-open', open);
  els.historyToggle.setAttribute('aria-expanded', String(open));
  if (open) {
    const first = els.historyList.querySelector('a') || els.newConv;
    first.focus();
  }
}
function closeHistoryDrawer() {
  if (document.body.classList.contains('history-open')) openHistoryDrawer(false);
}

// ----------------------------------------------------------------- init

function fillCollections(list) {
  const current = els.collection.value || preferredCollection();
  clear(els.collection);
  const names = list.length ? list.map((c) => c.name) : ['default'];
  for (const c of list.length ? list : [{ name: 'default' }]) {
    const count = Number(c.item_count);
    els.collection.append(el('option', { value: c.name, text: Number.isFinite(count) ? `${c.name} (${count})` : c.name }));
  }
  els.collection.value = names.includes(current) ? current : (names.includes('default') ? 'default' : names[0]);
  updateEmptyKbNote();
  showCollectionDefaults();
}

/**
 * Show the chosen collection's workspace settings (mode, evidence items) as the initial choices.
 * They are sent with a question only once the user changes them (`data-explicit`).
 */
function showCollectionDefaults() {
  const c = getCollections().find((x) => x.name === els.collection.value);
  const s = (c && c.settings) || {};
  if (!els.mode.dataset.explicit) els.mode.value = s.mode === 'query' ? 'query' : 'chat';
  if (!els.topk.dataset.explicit) els.topk.value = String(Number(s.top_k) > 0 ? s.top_k : 5);
}

/** On the welcome screen, point first-time users at the knowledge base when it is empty. */
function updateEmptyKbNote() {
  const note = $('hero-empty-kb');
  if (!note) return;
  const c = getCollections().find((x) => x.name === els.collection.value);
  const empty = Boolean(c) && Number(c.item_count) === 0;
  note.hidden = !empty;
  if (empty) {
    const link = note.querySelector('a');
    link.href = `#/kb/${encodeURIComponent(c.name)}`;
    tr(note.querySelector('span'), 'ask.emptyKb', { name: c.name });
  }
}

/** Route a pasted/dropped file list to the Ask composer. */
export function handlePastedFiles(files) {
  return acceptFiles(files);
}

export function initAsk() {
  els = {
    thread: $('thread'), hero: $('hero'), composer: $('composer'), prompt: $('prompt'), submit: $('ask-submit'), stop: $('ask-stop'),
    error: $('ask-error'), attach: $('attach'), attachEmpty: $('attach-empty'), attachPreview: $('attach-preview'),
    previewImg: $('preview-img'), previewFallback: $('preview-fallback'), previewName: $('preview-name'), previewSize: $('preview-size'),
    collection: $('ask-collection'), mode: $('ask-mode'), topk: $('ask-topk'), lang: $('ask-lang'),
    followupHint: $('followup-hint'), historyList: $('history-list'), historyEmpty: $('history-empty'),
    historyToggle: $('history-toggle'), newConv: $('new-conversation'), chat: $('chat'), overlay: $('drop-overlay'),
  };

  els.prompt.value = t('ask.defaultPrompt');
  autosize();
  els.composer.addEventListener('submit', onSubmit);
  els.prompt.addEventListener('input', autosize);
  els.prompt.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      els.composer.requestSubmit();
    }
  });
  els.stop.addEventListener('click', () => { if (state.controller) state.controller.abort(); });

  for (const input of [$('photo-input'), $('camera-input')]) {
    input.addEventListener('change', () => {
      if (input.files && input.files.length) acceptFiles(Array.from(input.files));
      input.value = '';
    });
  }
  $('preview-remove').addEventListener('click', () => { setAttachment(null); els.prompt.focus(); });
  els.previewImg.addEventListener('error', () => {
    if (!state.attached) return;
    els.previewImg.hidden = true;
    els.previewFallback.hidden = false;
  });

  dropTarget(els.chat, (files) => acceptFiles(files), { overlay: els.overlay });
  els.hero.addEventListener('click', () => $('photo-input').click());

  els.thread.addEventListener('scroll', () => {
    const t2 = els.thread;
    stickToBottom = t2.scrollHeight - t2.scrollTop - t2.clientHeight < 40;
  }, { passive: true });

  els.newConv.addEventListener('click', () => newConversation());
  $('new-conversation-mobile').addEventListener('click', () => newConversation());
  els.historyToggle.addEventListener('click', () => openHistoryDrawer(!document.body.classList.contains('history-open')));
  // A tap outside the drawer (on the dimmed page) closes it.
  document.addEventListener('click', (e) => {
    if (!document.body.classList.contains('history-open')) return;
    if ($('history').contains(e.target) || els.historyToggle.contains(e.target)) return;
    openHistoryDrawer(false);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && document.body.classList.contains('history-open')) {
      openHistoryDrawer(false);
      els.historyToggle.focus();
    }
  });

  els.collection.addEventListener('change', () => { setPreferredCollection(els.collection.value); updateEmptyKbNote(); showCollectionDefaults(); });
  els.mode.addEventListener('change', () => { els.mode.dataset.explicit = 'true'; });
  els.topk.addEventListener('change', () => { if (els.topk.value.trim()) els.topk.dataset.explicit = 'true'; else { delete els.topk.dataset.explicit; showCollectionDefaults(); } });
  $('hero-empty-kb').addEventListener('click', (e) => e.stopPropagation());
  fillCollections(getCollections());
  onCollections(fillCollections);

  onLangChange(() => {
    if (isDefaultPrompt(els.prompt.value)) els.prompt.value = t('ask.defaultPrompt');
    renderHistory();
    updateFollowupHint();
  });
  updateFollowupHint();
  loadHistory();
}

export function askState() { return state; }
export { renderAnswer, applyI18n };
