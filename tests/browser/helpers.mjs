// Shared helpers for the pyxa browser tests (node --test + playwright-core).

import { mkdir, access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** How long to wait for a full answer from a real server (models may run on CPU). */
export const ANSWER_TIMEOUT_MS = Number(process.env.PYXA_ANSWER_TIMEOUT_MS || 240_000);

export const ARTIFACTS = path.resolve(process.env.PYXA_ARTIFACTS || 'artifacts');

export function launch() {
  return chromium.launch({ executablePath: process.env.PYXA_CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * The server under test: PYXA_URL (a real `pyxa serve`), or — only when
 * PYXA_MOCK=1 — the in-process mock server from mock-server.mjs.
 */
export async function resolveServer() {
  if (process.env.PYXA_MOCK === '1') {
    const { startMockServer } = await import('./mock-server.mjs');
    const mock = await startMockServer({});
    return { url: mock.url, mock, close: () => mock.close() };
  }
  const url = (process.env.PYXA_URL || '').replace(/\/+$/, '');
  if (!url) {
    throw new Error('Set PYXA_URL to the base URL of a running `pyxa serve` (e.g. http://127.0.0.1:8080), or PYXA_MOCK=1 to use the mock server.');
  }
  return { url, mock: null, close: async () => {} };
}

/** The folder with scikit-image's chelsea.png, coffee.png, rocket.jpg, astronaut.png. */
export async function testImages() {
  const dir = process.env.PYXA_TEST_IMAGES;
  if (!dir) throw new Error('Set PYXA_TEST_IMAGES to a folder with chelsea.png, coffee.png, rocket.jpg and astronaut.png (scikit-image data).');
  const files = {
    chelsea: path.join(dir, 'chelsea.png'),
    coffee: path.join(dir, 'coffee.png'),
    rocket: path.join(dir, 'rocket.jpg'),
    astronaut: path.join(dir, 'astronaut.png'),
  };
  for (const f of Object.values(files)) await access(f);
  return files;
}

export async function artifactsDir() {
  await mkdir(ARTIFACTS, { recursive: true });
  return ARTIFACTS;
}

/**
 * Open a page that records console errors, page errors and failed requests
 * (CSP violations show up as console errors).
 */
export async function openPage(browser, baseUrl, { viewport = { width: 1360, height: 900 }, locale = 'en-US', colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, locale, colorScheme });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.problems = problems;
  page.baseUrl = baseUrl;
  return page;
}

/** Problems other than the HTTP errors a test provoked on purpose. */
export function unexpectedProblems(page, allow = []) {
  return page.problems.filter((p) => !/the server responded with a status of (4\d\d|5\d\d)/.test(p) && !allow.some((re) => re.test(p)));
}

/** Call the JSON API from node. */
export async function apiJson(baseUrl, method, p, body) {
  const res = await fetch(baseUrl + p, {
    method,
    headers: body ? { 'Content-Type': 'application/json', Accept: 'application/json' } : { Accept: 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: res.status, data };
}

/** Wait until the last turn in the thread has finished (or failed). Returns the locator. */
export async function waitForAnswer(page, { timeout = ANSWER_TIMEOUT_MS } = {}) {
  await page.waitForFunction(() => {
    const turns = document.querySelectorAll('[data-testid="turn"]');
    const last = turns[turns.length - 1];
    return last && (last.classList.contains('is-done') || last.classList.contains('is-failed'));
  }, null, { timeout, polling: 250 });
  // Pin the locator to this turn (a plain .last() would move on to later turns).
  const id = await page.locator('[data-testid="turn"]').last().getAttribute('id');
  const turn = page.locator(`[data-testid="turn"][id="${id}"]`);
  if (await turn.evaluate((n) => n.classList.contains('is-failed'))) {
    const msg = await turn.locator('[data-testid="turn-error"]').innerText().catch(() => '?');
    throw new Error(`the answer failed: ${msg}`);
  }
  return turn;
}

/** Upload labelled photos through the knowledge-base page of `collection`. */
export async function uploadViaUi(page, collection, files) {
  await page.goto(`${page.baseUrl}/#/kb/${encodeURIComponent(collection)}`);
  await page.locator('[data-testid="kb-title"]', { hasText: collection }).waitFor();
  await page.setInputFiles('[data-testid="kb-file-input"]', files.map((f) => f.path));
  for (const f of files) {
    const row = page.locator(`[data-testid="upload-row"][data-name="${path.basename(f.path)}"]`);
    await row.locator('[data-testid="upload-label"]').fill(f.label);
  }
  await page.click('[data-testid="upload-start"]');
  await page.locator('[data-testid="upload-progress-text"][data-done]').waitFor({ timeout: 120_000 });
  return page.locator('[data-testid="upload-row"]').evaluateAll((rows) => rows.map((r) => ({
    name: r.dataset.name, status: r.dataset.status, message: (r.querySelector('[data-testid="upload-error"]') || {}).textContent || '',
  })));
}

const ACTIVE_DOC_STATES = ['queued', 'uploading', 'processing'];

/**
 * Upload documents through the Documents section of `collection`'s knowledge-base page (input
 * `doc-file-input`, or `kb-file-input`, the photo input that routes documents on) and wait until
 * each has finished. Returns one row per file: {name, status, passages, text, progress, seq, pcts}
 * where `seq` lists the statuses the row went through and `pcts` the progress values it showed.
 */
export async function uploadDocumentsViaUi(page, collection, paths, { input = 'doc-file-input', timeout = 180_000 } = {}) {
  const target = `${page.baseUrl}/#/kb/${encodeURIComponent(collection)}`;
  if (page.url() !== target) await page.goto(target);
  await page.locator('[data-testid="kb-title"]', { hasText: collection }).waitFor();
  // Record every status and progress value each row shows (they can change faster than a poll).
  await page.evaluate(() => {
    if (window.__docObserver) return;
    window.__docObserver = new MutationObserver((records) => {
      for (const r of records) {
        const row = r.target.closest && r.target.closest('[data-testid="doc-upload-row"]');
        if (!row) continue;
        if (r.attributeName === 'data-status' && r.target === row) {
          const seq = (row.__seq ||= []);
          if (seq[seq.length - 1] !== row.dataset.status) seq.push(row.dataset.status);
        }
        if (r.attributeName === 'aria-valuenow') (row.__pcts ||= []).push(Number(r.target.getAttribute('aria-valuenow')));
      }
    });
    window.__docObserver.observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-status', 'aria-valuenow'] });
  });
  const before = await page.locator('[data-testid="doc-upload-row"]').count();
  await page.setInputFiles(`[data-testid="${input}"]`, paths);
  const count = before + paths.length;
  await page.locator('[data-testid="doc-upload-row"]').nth(count - 1).waitFor();
  await page.waitForFunction(({ from, active }) => [...document.querySelectorAll('[data-testid="doc-upload-row"]')]
    .slice(from).every((r) => !active.includes(r.dataset.status)), { from: before, active: ACTIVE_DOC_STATES }, { timeout, polling: 100 });
  return page.locator('[data-testid="doc-upload-row"]').evaluateAll((rows, from) => rows.slice(from).map((r) => ({
    name: r.dataset.name,
    status: r.dataset.status,
    passages: r.dataset.passages === undefined ? null : Number(r.dataset.passages),
    text: r.querySelector('[data-testid="doc-upload-status"]').textContent.trim(),
    progress: r.querySelector('[data-testid="doc-upload-progress"]').getAttribute('aria-valuenow'),
    seq: r.__seq || [],
    pcts: r.__pcts || [],
  })), before);
}

export { here };
