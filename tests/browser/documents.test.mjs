// End-to-end tests of the portal's documents against a running server: upload Markdown, HTML
// and Chinese documents through the knowledge-base page (with real upload progress), see them
// listed, a duplicate and a bad file reported, ask about a document and see it cited, delete one.
//
//   PYXA_URL=http://127.0.0.1:8080 PYXA_TEST_IMAGES=/path/to/skimage/data node --test documents.test.mjs
//
// PYXA_URL must point at a real `pyxa serve` (run.sh starts one). PYXA_MOCK=1 runs the same
// tests against mock-server.mjs instead.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  launch, resolveServer, artifactsDir, openPage, apiJson, waitForAnswer, uploadDocumentsViaUi,
  unexpectedProblems, ANSWER_TIMEOUT_MS,
} from './helpers.mjs';

const TEST_TIMEOUT = ANSWER_TIMEOUT_MS + 240_000;

const HANDBOOK = `# Office handbook

Welcome to the team. This handbook explains how our office works.

## The office cat

The office cat is called Mochi. Mochi is a grey tabby who sleeps on the printer and must not be fed after 6 pm.

## Coffee

The coffee machine is on the second floor. Please clean the milk frother after use.
`;

const VISITORS = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Visitor guide</title></head>
<body>
<h1>Visitor guide</h1>
<p>Visitors sign in at the front desk on the ground floor and receive a badge.</p>
<p>The meeting rooms are named after rivers: Amazon, Nile and Yangtze.</p>
</body></html>
`;

const ZH_GUIDE = `# 办公室指南

欢迎加入团队。办公室的猫叫麻薯，是一只灰色的虎斑猫，喜欢睡在打印机上。

会议室在三楼，请提前在日历上预订。
`;

/**
 * A web page saved with its styles: about 240 KB to upload (so that the upload's progress shows
 * between 0 and 100 % when throttled), one short passage of text to index.
 */
function savedPage() {
  const css = Array.from({ length: 6000 }, (_, i) => `.c${i} { color: #${((i * 997) % 0xffffff).toString(16).padStart(6, '0')}; margin: ${i % 40}px; }`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Parking rules</title><style>\n${css}\n</style></head>
<body><h1>Parking rules</h1><p>Bicycles are parked in the courtyard; cars use levels -1 and -2 of the garage.</p>
<p>Electric cars charge at the bays next to the lift.</p></body></html>
`;
}

describe('pyxa portal: documents', { timeout: TEST_TIMEOUT * 4 }, () => {
  let server;
  let browser;
  let artifacts;
  let collection;
  let dir;
  let files;

  before(async () => {
    server = await resolveServer();
    artifacts = await artifactsDir();
    browser = await launch();
    collection = `docs-test-${Date.now().toString(36)}`;
    const created = await apiJson(server.url, 'POST', '/v1/collections', { name: collection, description: 'Documents, created by the browser tests' });
    assert.equal(created.status, 201, `POST /v1/collections answered ${created.status}: ${JSON.stringify(created.data)}`);
    dir = await mkdtemp(path.join(os.tmpdir(), 'pyxa-docs-'));
    files = {
      handbook: path.join(dir, 'handbook.md'),
      visitors: path.join(dir, 'visitors.html'),
      zh: path.join(dir, '办公室指南.md'),
      parking: path.join(dir, 'parking.html'),
      empty: path.join(dir, 'empty.txt'),
    };
    await writeFile(files.handbook, HANDBOOK);
    await writeFile(files.visitors, VISITORS);
    await writeFile(files.zh, ZH_GUIDE);
    await writeFile(files.parking, savedPage());
    await writeFile(files.empty, '');
  });

  after(async () => {
    if (server && collection) await apiJson(server.url, 'DELETE', `/v1/collections/${collection}`).catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => {});
    if (browser) await browser.close();
    if (server) await server.close();
  });

  /** POST a file to the documents endpoint from node: {status, data}. */
  async function postDocument(file) {
    const form = new FormData();
    form.append('file', new Blob([await readFile(file)]), path.basename(file));
    const res = await fetch(`${server.url}/v1/collections/${collection}/documents`, { method: 'POST', body: form });
    const text = await res.text();
    return { status: res.status, data: text ? JSON.parse(text) : null };
  }

  /** The handbook is in the collection (uploaded by test (e), or here when run alone). */
  async function ensureHandbook() {
    const res = await postDocument(files.handbook);
    assert.ok([201, 409].includes(res.status), `uploading the handbook answered ${res.status}: ${JSON.stringify(res.data)}`);
  }

  const listDocuments = async () => (await apiJson(server.url, 'GET', `/v1/collections/${collection}/documents`)).data.documents;
  const itemCount = async () => (await apiJson(server.url, 'GET', '/v1/collections')).data.collections.find((c) => c.name === collection).item_count;

  it('(e) uploads Markdown, HTML and Chinese documents with progress, lists them, reports a duplicate and a bad file', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openPage(browser, server.url);
    await page.goto(`${server.url}/#/kb/${collection}`);
    await page.locator('[data-testid="kb-title"]', { hasText: collection }).waitFor();
    await page.locator('[data-testid="docs-empty"]').waitFor();

    // Slow the upload down so that its progress shows between 0 and 100 %.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 160 * 1024 });
    const rows = await uploadDocumentsViaUi(page, collection, [files.handbook, files.visitors, files.zh, files.parking]);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    assert.deepEqual(rows.map((r) => r.name), ['handbook.md', 'visitors.html', '办公室指南.md', 'parking.html']);
    for (const r of rows) {
      assert.equal(r.status, 'done', `${r.name} ended as ${r.status}: ${r.text}`);
      assert.ok(r.passages >= 1, `${r.name} has passages: ${r.text}`);
      assert.match(r.text, new RegExp(`Done: ${r.passages} passages?$`), `${r.name} shows its passage count`);
      assert.equal(r.progress, '100', `${r.name}'s progress bar is full`);
      const order = ['uploading', 'processing', 'done'].map((s) => r.seq.indexOf(s));
      assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), `${r.name} went uploading → processing → done: ${r.seq.join(' → ')}`);
    }
    const parking = rows.find((r) => r.name === 'parking.html');
    assert.ok(parking.pcts.some((p) => p > 0 && p < 100), `the upload progress moved between 0 and 100 %: ${parking.pcts.join(', ')}`);
    await page.locator('[data-testid="doc-upload-summary"][data-done]').waitFor();

    // Listed as the server has them: title, file name, passages.
    const docs = await listDocuments();
    assert.equal(docs.length, 4);
    await page.locator('[data-testid="doc-row"]').nth(3).waitFor();
    const listed = await page.locator('[data-testid="doc-row"]').evaluateAll((els) => els.map((r) => ({
      id: r.dataset.id,
      title: r.querySelector('[data-testid="doc-title"]').textContent,
      file: r.querySelector('[data-testid="doc-file"]').textContent,
      passages: Number(r.querySelector('[data-testid="doc-passages"]').dataset.n),
    })));
    assert.deepEqual(listed, docs.map((d) => ({ id: d.id, title: d.title, file: d.file_name, passages: d.passages })));
    const titles = listed.map((d) => d.title);
    for (const title of ['Office handbook', 'Visitor guide', '办公室指南', 'Parking rules']) assert.ok(titles.includes(title), `"${title}" is listed: ${titles.join(', ')}`);
    assert.match(await page.locator('[data-testid="docs-count"]').innerText(), /^4 documents$/);

    // The passages are items: the count follows, and they show as text cards (no broken photos).
    const count = await itemCount();
    assert.equal(count, docs.reduce((n, d) => n + d.passages, 0));
    await page.locator('[data-testid="kb-count"]', { hasText: new RegExp(`^${count} items?$`) }).waitFor();
    const handbookCard = page.locator('[data-testid="item-card"][data-kind="passage"]', { has: page.locator('[data-testid="item-label"]', { hasText: 'Office handbook' }) }).first();
    await handbookCard.waitFor();
    assert.match(await handbookCard.locator('[data-testid="item-snippet"]').innerText(), /Mochi/);
    assert.equal(await page.locator('[data-testid="item-card"][data-kind="passage"] img').count(), 0);
    await handbookCard.locator('button').first().click();
    await page.locator('[data-testid="text-dialog-body"]', { hasText: 'The office cat is called Mochi.' }).waitFor();
    await page.keyboard.press('Escape');
    await page.locator('[data-testid="text-dialog"]').waitFor({ state: 'hidden' });
    await page.screenshot({ path: path.join(artifacts, 'documents.png'), fullPage: true });

    // The same file again, dropped on the photo uploader: it goes to the documents, as a duplicate.
    const [dup] = await uploadDocumentsViaUi(page, collection, [files.handbook], { input: 'kb-file-input' });
    assert.equal(dup.status, 'duplicate', `the second upload ended as ${dup.status}: ${dup.text}`);
    assert.match(dup.text, /Already in this collection/);
    assert.equal(await page.locator('[data-testid="upload-row"]').count(), 0, 'no photo upload row for a document');
    assert.equal((await listDocuments()).length, 4);

    // A file the server refuses shows the server's own message.
    const refused = await postDocument(files.empty);
    assert.ok(refused.status >= 400 && refused.data.error.message, `the API refused empty.txt: ${JSON.stringify(refused.data)}`);
    const [bad] = await uploadDocumentsViaUi(page, collection, [files.empty]);
    assert.equal(bad.status, 'error');
    assert.equal(bad.text, refused.data.error.message);

    // In Chinese.
    await page.locator('[data-testid="lang-toggle"]').click();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    assert.match(await page.locator('#docs-title').innerText(), /文档/);
    assert.match(await page.locator('[data-testid="doc-upload-row"][data-name="handbook.md"][data-status="done"] [data-testid="doc-upload-status"]').innerText(), /完成/);
    assert.match(await page.locator('[data-testid="doc-row"]').first().locator('[data-testid="doc-passages"]').innerText(), /段落/);
    await page.screenshot({ path: path.join(artifacts, 'documents-zh.png') });
    await page.locator('[data-testid="lang-toggle"]').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });

  it('(f) asks "What is the office cat called?" and cites the handbook by title, passage and snippet', { timeout: TEST_TIMEOUT }, async () => {
    await ensureHandbook();
    const page = await openPage(browser, server.url);
    await page.goto(`${server.url}/#/ask`);
    await page.locator('[data-testid="ask-collection"]').selectOption(collection);
    await page.click('[data-testid="new-conversation"]');
    await page.fill('[data-testid="prompt"]', 'What is the office cat called?');
    const n = await page.locator('[data-testid="turn"]').count();
    await page.click('[data-testid="ask-submit"]');
    await page.locator('[data-testid="turn"]').nth(n).waitFor();
    const turn = await waitForAnswer(page);

    const answer = await turn.locator('[data-testid="answer-text"]').innerText();
    assert.match(answer, /Mochi/i, `the answer names the cat: ${answer}`);
    const cited = turn.locator('[data-testid="evidence-item"][data-kind="passage"]', { has: page.locator('[data-testid="evidence-doc-title"]', { hasText: 'Office handbook' }) }).first();
    await cited.waitFor();
    assert.match(await cited.locator('[data-testid="evidence-position"]').innerText(), /^passage \d+$/);
    assert.match(await cited.locator('[data-testid="evidence-snippet"]').innerText(), /Mochi/);
    assert.match(await cited.getAttribute('aria-label'), /^Source \d+: “Office handbook”, passage \d+, score /);
    assert.equal(await turn.locator('[data-testid="no-evidence"]').isVisible(), false);

    // The answer's [n] marks point at the evidence list.
    const cites = turn.locator('[data-testid="cite"]');
    assert.ok(await cites.count() >= 1, `the answer cites its source: ${answer}`);
    for (const k of await cites.evaluateAll((xs) => xs.map((x) => x.dataset.n))) {
      assert.equal(await turn.locator(`[data-testid="evidence-item"][data-n="${k}"]`).count(), 1, `[${k}] has its evidence`);
    }
    const first = cites.first();
    const k = await first.getAttribute('data-n');
    await first.click();
    assert.ok(await turn.locator(`[data-testid="evidence-item"][data-n="${k}"]`).evaluate((x) => x.classList.contains('is-active')), 'a click pins the cited evidence');

    await turn.locator('[data-testid="evidence-panel"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(artifacts, 'documents-answer.png') });
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });

  it('(g) deletes a document, and its passages with it', { timeout: TEST_TIMEOUT }, async () => {
    let docs = await listDocuments();
    if (!docs.some((d) => d.file_name === 'visitors.html')) {
      assert.equal((await postDocument(files.visitors)).status, 201);
      docs = await listDocuments();
    }
    const doc = docs.find((d) => d.file_name === 'visitors.html');
    const countBefore = await itemCount();
    const page = await openPage(browser, server.url);
    await page.goto(`${server.url}/#/kb/${collection}`);
    const row = page.locator(`[data-testid="doc-row"][data-id="${doc.id}"]`);
    await row.waitFor();
    await page.locator('[data-testid="item-card"]').first().waitFor();

    // Cancelling keeps it.
    await row.locator('[data-testid="doc-delete"]').click();
    await page.locator('[data-testid="confirm-dialog"]').waitFor();
    assert.match(await page.locator('#confirm-message').innerText(), new RegExp(doc.title));
    await page.click('[data-testid="confirm-cancel"]');
    assert.equal((await listDocuments()).length, docs.length);

    await row.locator('[data-testid="doc-delete"]').click();
    await page.click('[data-testid="confirm-ok"]');
    await row.waitFor({ state: 'detached' });
    await page.waitForFunction((id) => !document.querySelector(`[data-testid="item-card"][data-document="${id}"]`), doc.id);
    assert.ok(!(await listDocuments()).some((d) => d.id === doc.id), 'the API no longer lists it');
    const items = (await apiJson(server.url, 'GET', `/v1/collections/${collection}/items?limit=200&offset=0`)).data.items;
    assert.ok(!items.some((i) => i.document && i.document.id === doc.id), 'its passages are gone');
    const countAfter = await itemCount();
    assert.equal(countAfter, countBefore - doc.passages);
    await page.locator('[data-testid="kb-count"]', { hasText: new RegExp(`^${countAfter} items?$`) }).waitFor();
    await page.locator('[data-testid="docs-count"]', { hasText: `${docs.length - 1} document` }).waitFor();
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });

  it('(h) saves workspace settings (mode, evidence items) through the knowledge-base page', { timeout: TEST_TIMEOUT }, async () => {
    const name = `settings-test-${Date.now().toString(36)}`;
    const created = await apiJson(server.url, 'POST', '/v1/collections', { name, description: 'Settings, created by the browser tests' });
    assert.equal(created.status, 201, `POST /v1/collections answered ${created.status}: ${JSON.stringify(created.data)}`);
    const stored = async () => {
      const res = await apiJson(server.url, 'GET', `/v1/collections/${name}`);
      assert.equal(res.status, 200, `GET /v1/collections/${name} answered ${res.status}: ${JSON.stringify(res.data)}`);
      return res.data.settings || {};
    };
    try {
      assert.deepEqual(await stored(), {}, 'a new collection has pyxa\'s defaults');
      const page = await openPage(browser, server.url);
      const open = async () => {
        await page.goto(`${server.url}/#/kb/${name}`);
        await page.locator('[data-testid="kb-title"]', { hasText: name }).waitFor();
        const panel = page.locator('[data-testid="kb-settings"]');
        if (!(await panel.evaluate((d) => d.open))) {
          // Keyboard: focus the summary and press Enter.
          await page.locator('[data-testid="kb-settings-toggle"]').focus();
          await page.keyboard.press('Enter');
        }
        await page.locator('[data-testid="kb-settings-form"]').waitFor();
        return panel;
      };
      await open();
      // The defaults show as placeholders; chat is the initial mode.
      assert.equal(await page.getByLabel('Evidence items').getAttribute('placeholder'), '5');
      assert.equal(await page.getByLabel('Similarity threshold').getAttribute('placeholder'), '0.25');
      assert.equal(await page.getByLabel('Temperature').getAttribute('placeholder'), '0');
      assert.ok(await page.locator('[data-testid="set-mode-chat"]').isChecked());

      // A value out of range: the server's own message, next to the form; nothing stored.
      await page.getByLabel('Temperature').fill('5');
      await page.click('[data-testid="kb-settings-save"]');
      const error = page.locator('[data-testid="kb-settings-error"]');
      await error.waitFor();
      assert.match(await error.innerText(), /temperature/i);
      assert.deepEqual(await stored(), {});
      await page.getByLabel('Temperature').fill('');

      // Query mode and 7 evidence items; only these are sent.
      await page.locator('[data-testid="set-mode-query"]').check();
      await page.getByLabel('Evidence items').fill('7');
      const [request] = await Promise.all([
        page.waitForRequest((r) => r.method() === 'PATCH'),
        page.click('[data-testid="kb-settings-save"]'),
      ]);
      assert.deepEqual(JSON.parse(request.postData()), { settings: { mode: 'query', top_k: 7 } });
      await page.locator('[data-testid="kb-settings-saved"]', { hasText: 'Settings saved.' }).waitFor();
      assert.ok(await error.isHidden(), 'the earlier error is gone');
      assert.deepEqual(await stored(), { mode: 'query', top_k: 7 });

      // After a reload the form shows the stored values, and Ask starts in the collection's mode.
      await page.reload();
      await open();
      assert.ok(await page.locator('[data-testid="set-mode-query"]').isChecked());
      assert.equal(await page.getByLabel('Evidence items').inputValue(), '7');
      assert.equal(await page.getByLabel('Temperature').inputValue(), '');
      await page.screenshot({ path: path.join(artifacts, 'kb-settings.png'), fullPage: true });
      await page.goto(`${server.url}/#/ask`);
      await page.selectOption('[data-testid="ask-collection"]', name);
      assert.equal(await page.locator('[data-testid="ask-mode"]').inputValue(), 'query');
      assert.equal(await page.locator('[data-testid="ask-topk"]').inputValue(), '7');

      // Emptying evidence items restores the default: sent as null, removed from the stored settings.
      await open();
      await page.getByLabel('Evidence items').fill('');
      const [clear] = await Promise.all([
        page.waitForRequest((r) => r.method() === 'PATCH'),
        page.click('[data-testid="kb-settings-save"]'),
      ]);
      assert.deepEqual(JSON.parse(clear.postData()), { settings: { top_k: null } });
      await page.locator('[data-testid="kb-settings-saved"]', { hasText: 'Settings saved.' }).waitFor();
      assert.deepEqual(await stored(), { mode: 'query' });
      await page.reload();
      await open();
      assert.equal(await page.getByLabel('Evidence items').inputValue(), '');
      assert.ok(await page.locator('[data-testid="set-mode-query"]').isChecked());
      assert.deepEqual(unexpectedProblems(page), []);
      await page.context().close();
    } finally {
      await apiJson(server.url, 'DELETE', `/v1/collections/${name}`).catch(() => {});
    }
  });
});
