// Fast UI tests of the portal against the in-process mock server
// (mock-server.mjs). They need no models: node --test ui.test.mjs
// (PYXA_TEST_IMAGES must point at the scikit-image photos).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { startMockServer } from './mock-server.mjs';
import {
  launch, testImages, artifactsDir, openPage, waitForAnswer, uploadViaUi, uploadDocumentsViaUi, unexpectedProblems, apiJson,
} from './helpers.mjs';

describe('portal UI (mock server)', { timeout: 300_000 }, () => {
  let mock;
  let browser;
  let images;
  let artifacts;

  before(async () => {
    mock = await startMockServer({ tokenDelayMs: 8 });
    images = await testImages();
    artifacts = await artifactsDir();
    browser = await launch();
    const page = await openPage(browser, mock.url);
    await uploadViaUi(page, 'default', [
      { path: images.chelsea, label: 'cat' },
      { path: images.coffee, label: 'coffee' },
      { path: images.rocket, label: 'rocket' },
    ]);
    await page.context().close();
  });

  after(async () => {
    if (browser) await browser.close();
    if (mock) await mock.close();
  });

  async function ask(page, file, prompt) {
    if (file) await page.setInputFiles('[data-testid="photo-input"]', file);
    if (prompt !== undefined) await page.fill('[data-testid="prompt"]', prompt);
    const n = await page.locator('[data-testid="turn"]').count();
    await page.click('[data-testid="ask-submit"]');
    await page.locator('[data-testid="turn"]').nth(n).waitFor();
    return waitForAnswer(page, { timeout: 30_000 });
  }

  it('loads with no console errors or CSP violations, and serves every asset', async () => {
    const page = await openPage(browser, mock.url);
    const failed = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
    await page.goto(`${mock.url}/`);
    await page.locator('[data-testid="health"][data-state="ok"]').waitFor();
    assert.deepEqual(failed, []);
    assert.deepEqual(unexpectedProblems(page), []);
    // No inline styles or handlers in the markup (the CSP forbids them).
    const html = await readFile(new URL('../../frontend/index.html', import.meta.url), 'utf8');
    assert.doesNotMatch(html, /\sstyle=|\son[a-z]+=|<script(?![^>]*\bsrc=)/i);
    await page.context().close();
  });

  it('streams the answer into an aria-live region, then shows candidates, evidence and timings', async () => {
    const page = await openPage(browser, mock.url);
    await page.goto(`${mock.url}/#/ask`);
    await page.setInputFiles('[data-testid="photo-input"]', images.chelsea);
    await page.fill('[data-testid="prompt"]', 'What is this? #slow');
    await page.click('[data-testid="ask-submit"]');
    // Partial text while still streaming, with the Stop button offered.
    await page.waitForFunction(() => {
      const t = document.querySelector('.turn.is-streaming [data-testid="answer-text"]');
      return t && t.textContent.length > 3;
    }, null, { timeout: 10_000 });
    assert.ok(await page.locator('[data-testid="ask-stop"]').isVisible());
    const turn = await waitForAnswer(page, { timeout: 30_000 });
    assert.equal(await turn.locator('[data-testid="answer-text"]').getAttribute('aria-live'), 'polite');
    assert.equal(await turn.locator('[data-testid="candidate"]').first().getAttribute('data-label'), 'cat');
    assert.equal(await turn.locator('[data-testid="evidence-item"]').count(), 3);
    assert.match(await turn.locator('[data-testid="timing-total"]').innerText(), /ms/);
    // Every stage the server times has a label of its own (not its raw key).
    const legend = await turn.locator('[data-testid="timings"]').innerText();
    assert.match(legend, /Translate/);
    assert.doesNotMatch(legend, /\btranslate\b/);
    assert.ok(await page.locator('[data-testid="ask-submit"]').isVisible());
    // Bars are sized from JS (allowed by the CSP), not from inline HTML.
    const width = await turn.locator('.candidate.is-top .cand-bar').evaluate((n) => n.style.width);
    assert.match(width, /^\d+(\.\d+)?%$/);
    await page.context().close();
  });

  it('stop aborts a streaming answer', async () => {
    const page = await openPage(browser, mock.url);
    await page.goto(`${mock.url}/#/ask`);
    await page.setInputFiles('[data-testid="photo-input"]', images.chelsea);
    await page.fill('[data-testid="prompt"]', 'Tell me slowly #slow');
    await page.click('[data-testid="ask-submit"]');
    await page.waitForFunction(() => document.querySelector('.turn.is-streaming [data-testid="answer-text"]')?.textContent.length > 0);
    await page.click('[data-testid="ask-stop"]');
    await page.locator('[data-testid="turn-status"]', { hasText: 'Stopped' }).waitFor();
    assert.ok(await page.locator('[data-testid="ask-submit"]').isVisible());
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });

  it('citations highlight their evidence thumbnail on hover, focus and click', async () => {
    const page = await openPage(browser, mock.url);
    await page.goto(`${mock.url}/#/ask`);
    const turn = await ask(page, images.chelsea);
    const cite = turn.locator('[data-testid="cite"]').first();
    const n = await cite.getAttribute('data-n');
    const ev = turn.locator(`[data-testid="evidence-item"][data-n="${n}"]`);
    await cite.hover();
    assert.ok(await ev.evaluate((x) => x.classList.contains('is-active')), 'hover highlights');
    await page.mouse.move(5, 500);
    assert.ok(!(await ev.evaluate((x) => x.classList.contains('is-active'))), 'leaving removes the highlight');
    await cite.focus();
    assert.ok(await ev.evaluate((x) => x.classList.contains('is-active')), 'focus highlights');
    assert.match(await cite.getAttribute('aria-label'), /Source 1: cat/);
    await cite.click();
    await page.mouse.move(5, 500);
    await page.locator('[data-testid="prompt"]').focus();
    assert.ok(await ev.evaluate((x) => x.classList.contains('is-active')), 'click pins the highlight');
    // Hovering the thumbnail highlights the citation in the text too.
    await cite.click(); // unpin
    await ev.hover();
    assert.ok(await cite.evaluate((x) => x.classList.contains('is-active')));
    await page.screenshot({ path: path.join(artifacts, 'ui-citation.png') });
    await page.context().close();
  });

  it('follow-ups reuse the conversation; history lists and reopens it', async () => {
    const page = await openPage(browser, mock.url);
    const bodies = [];
    page.on('request', (r) => { if (r.url().endsWith('/v1/ask')) bodies.push(r.postDataBuffer()?.toString('latin1') || ''); });
    await page.goto(`${mock.url}/#/ask`);
    await ask(page, images.coffee);
    assert.match(page.url(), /#\/ask\/conv_/);
    const convId = decodeURIComponent(page.url().split('#/ask/')[1]);
    await page.locator('[data-testid="followup-hint"], #followup-hint').first().waitFor();
    const second = await ask(page, null, 'Is it hot?');
    assert.match(bodies[1], new RegExp(`name="conversation_id"\\r\\n\\r\\n${convId}`));
    assert.doesNotMatch(bodies[1], /name="image"/, 'no photo is resent for a follow-up');
    assert.match(await second.locator('[data-testid="answer-text"]').innerText(), /follow-up/);

    const item = page.locator(`[data-testid="history-item"][data-id="${convId}"]`);
    await item.filter({ hasText: '2 questions' }).waitFor();
    await page.click('[data-testid="new-conversation"]');
    assert.equal(await page.locator('[data-testid="turn"]').count(), 0);
    assert.ok(await page.locator('[data-testid="hero"]').isVisible());
    await item.click();
    await page.locator('[data-testid="turn"]').nth(1).waitFor();
    assert.equal(await page.locator('[data-testid="turn"]').count(), 2);
    assert.equal(await item.getAttribute('aria-current'), 'page');
    assert.equal(await page.locator('[data-testid="turn-prompt"]').nth(1).innerText(), 'Is it hot?');
    assert.ok(await page.locator('[data-testid="turn-photo"]').first().isVisible());
    // A reload of the conversation URL shows it again.
    await page.reload();
    await page.locator('[data-testid="turn"]').nth(1).waitFor();
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });

  it('quick-choice correction and "That is right" feedback', async () => {
    const page = await openPage(browser, mock.url);
    await page.goto(`${mock.url}/#/ask`);
    let turn = await ask(page, images.rocket);
    await turn.locator('[data-testid="feedback-correct"]').click();
    await turn.locator('[data-testid="feedback-result"]', { hasText: 'Thanks' }).waitFor();

    turn = await ask(page, images.rocket);
    await turn.locator('[data-testid="feedback-wrong"]').click();
    assert.equal(await turn.locator('[data-testid="feedback-wrong"]').getAttribute('aria-expanded'), 'true');
    const choices = turn.locator('[data-testid="correction-choice"]');
    assert.ok(await choices.count() >= 1, 'other candidates are offered');
    const label = await choices.first().getAttribute('data-label');
    await choices.first().click();
    await turn.locator('[data-testid="feedback-result"]', { hasText: label }).waitFor();
    assert.match(await turn.locator('[data-testid="feedback-result"]').innerText(), /Learned/);
    await page.screenshot({ path: path.join(artifacts, 'ui-learned.png') });
    await page.context().close();
  });

  it('paste and drag-and-drop attach a photo', async () => {
    const page = await openPage(browser, mock.url);
    await page.goto(`${mock.url}/#/ask`);
    const b64 = (await readFile(images.chelsea)).toString('base64');
    await page.evaluate((data) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
    }, b64);
    await page.locator('#preview-name', { hasText: 'pasted.png' }).waitFor();
    await page.click('[data-testid="preview-remove"]');
    assert.ok(await page.locator('#attach-empty').isVisible());
    await page.evaluate((data) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      const target = document.getElementById('thread');
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, b64);
    await page.locator('#preview-name', { hasText: 'dropped.png' }).waitFor();
    assert.ok(await page.locator('#drop-overlay').isHidden());
    // A dropped non-image is refused with a readable message.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['hello'], 'notes.txt', { type: 'text/plain' }));
      document.getElementById('thread').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.locator('[data-testid="ask-error"]', { hasText: 'photo' }).waitFor();
    assert.equal(await page.locator('[data-testid="camera-input"]').getAttribute('capture'), 'environment');
    await page.context().close();
  });

  it('shows an `event: error` from the stream and a JSON 500 with a retry', async () => {
    const page = await openPage(browser, mock.url);
    await page.goto(`${mock.url}/#/ask`);
    await page.setInputFiles('[data-testid="photo-input"]', images.chelsea);
    await page.fill('[data-testid="prompt"]', 'break it #error');
    await page.click('[data-testid="ask-submit"]');
    const err = page.locator('[data-testid="turn-error"]').last();
    await err.waitFor();
    assert.match(await err.innerText(), /language model stopped unexpectedly/);
    await page.fill('[data-testid="prompt"]', 'crash #500');
    await page.click('[data-testid="ask-submit"]');
    await page.locator('[data-testid="turn-error"]', { hasText: 'generator crashed' }).waitFor();
    assert.ok(await page.locator('[data-testid="turn"]').last().getByRole('button', { name: 'Try again' }).isVisible());
    await page.context().close();
  });

  it('knowledge base: create, validate, search by text and photo, delete item and collection', async () => {
    const page = await openPage(browser, mock.url);
    await page.goto(`${mock.url}/#/kb`);
    await page.locator('[data-testid="kb-title"]', { hasText: 'default' }).waitFor();

    await page.fill('[data-testid="collection-name"]', 'Bad Name!');
    await page.click('[data-testid="collection-create"]');
    await page.locator('[data-testid="collection-error"]', { hasText: 'Lower-case' }).waitFor();
    await page.fill('[data-testid="collection-name"]', 'default');
    await page.click('[data-testid="collection-create"]');
    await page.locator('[data-testid="collection-error"]', { hasText: 'already exists' }).waitFor();

    await page.fill('[data-testid="collection-name"]', 'pets');
    await page.fill('[data-testid="collection-description"]', 'Our animals');
    await page.click('[data-testid="collection-create"]');
    await page.locator('[data-testid="kb-title"]', { hasText: 'pets' }).waitFor();
    assert.match(page.url(), /#\/kb\/pets$/);
    await page.locator('[data-testid="items-empty"]').waitFor();

    // Bulk upload with "label for all", two at a time.
    await page.setInputFiles('[data-testid="kb-file-input"]', [images.chelsea, images.astronaut]);
    await page.fill('[data-testid="label-all"]', 'friend');
    await page.click('#label-all-apply');
    assert.deepEqual(await page.locator('[data-testid="upload-label"]').evaluateAll((xs) => xs.map((x) => x.value)), ['friend', 'friend']);
    await page.locator('[data-testid="upload-label"]').nth(1).fill('astronaut');
    await page.click('[data-testid="upload-start"]');
    await page.locator('[data-testid="upload-progress-text"][data-done]').waitFor();
    assert.equal(await page.locator('[data-testid="upload-progress"]').getAttribute('aria-valuenow'), '100');
    await page.locator('[data-testid="item-card"]').nth(1).waitFor();
    await page.locator('[data-testid="collection-item"][data-name="pets"]', { hasText: '2 items' }).waitFor();

    // Uploading the same photo again is reported as a duplicate, not a failure.
    await page.click('[data-testid="upload-clear"]');
    await page.setInputFiles('[data-testid="kb-file-input"]', [images.chelsea]);
    await page.click('[data-testid="upload-start"]');
    await page.locator('[data-testid="upload-row"][data-status="duplicate"]').waitFor();
    await page.click('[data-testid="upload-clear"]');

    await page.fill('[data-testid="search-text"]', 'astro');
    await page.press('[data-testid="search-text"]', 'Enter');
    await page.locator('[data-testid="search-banner"]', { hasText: '1 match' }).waitFor();
    assert.deepEqual(await page.locator('[data-testid="item-label"]').allInnerTexts(), ['astronaut']);
    await page.setInputFiles('[data-testid="search-photo"]', images.chelsea);
    await page.locator('[data-testid="search-banner"]', { hasText: 'chelsea.png' }).waitFor();
    await page.locator('[data-testid="hit-score"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="item-label"]').first().innerText(), 'friend');
    await page.click('#search-clear');
    await page.locator('[data-testid="item-card"]').nth(1).waitFor();
    await page.screenshot({ path: path.join(artifacts, 'ui-kb.png'), fullPage: true });

    // Delete one item (confirm in the dialog), then the whole collection.
    await page.locator('[data-testid="item-card"][data-label="astronaut"] [data-testid="item-delete"]').click();
    await page.click('[data-testid="confirm-ok"]');
    await page.locator('[data-testid="item-card"][data-label="astronaut"]').waitFor({ state: 'detached' });
    const left = await apiJson(mock.url, 'GET', '/v1/collections/pets/items');
    assert.equal(left.data.total, 1);
    await page.click('[data-testid="collection-delete"]');
    await page.click('[data-testid="confirm-cancel"]');
    assert.ok((await apiJson(mock.url, 'GET', '/v1/collections')).data.collections.some((c) => c.name === 'pets'), 'cancel keeps it');
    await page.click('[data-testid="collection-delete"]');
    await page.click('[data-testid="confirm-ok"]');
    await page.locator('[data-testid="kb-title"]', { hasText: 'default' }).waitFor();
    await page.locator('[data-testid="collection-item"][data-name="pets"]').waitFor({ state: 'detached' });
    assert.ok(await page.locator('[data-testid="collection-delete"]').isHidden(), 'default cannot be deleted');
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });

  it('documents: upload with progress, routing, duplicates and refusals, passage cards, citations, no evidence, delete', async () => {
    await apiJson(mock.url, 'POST', '/v1/collections', { name: 'docs', description: 'Documents' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pyxa-ui-docs-'));
    const handbook = path.join(dir, 'handbook.md');
    const visitors = path.join(dir, 'visitors.html');
    await writeFile(handbook, '# Office handbook\n\nWelcome to the team.\n\n## The office cat\n\nThe office cat is called Mochi. Mochi sleeps on the printer.\n');
    await writeFile(visitors, '<html><head><title>Visitor guide</title></head><body><p>Visitors sign in at the front desk.</p></body></html>');
    const page = await openPage(browser, mock.url);
    await page.goto(`${mock.url}/#/kb/docs`);
    await page.locator('[data-testid="docs-empty"]').waitFor();

    const rows = await uploadDocumentsViaUi(page, 'docs', [handbook, visitors]);
    for (const r of rows) {
      assert.equal(r.status, 'done', `${r.name}: ${r.text}`);
      assert.equal(r.text, 'Done: 1 passage');
      assert.deepEqual(r.seq.filter((s) => s !== 'queued'), ['uploading', 'processing', 'done']);
    }
    await page.locator('[data-testid="doc-row"]').nth(1).waitFor();
    // Both are listed; their order is the order the two concurrent uploads reached the server.
    assert.deepEqual((await page.locator('[data-testid="doc-title"]').allInnerTexts()).sort(), ['Office handbook', 'Visitor guide']);
    await page.locator('[data-testid="collection-item"][data-name="docs"]', { hasText: '2 items' }).waitFor();
    const card = page.locator('[data-testid="item-card"][data-kind="passage"]', { hasText: 'Office handbook' });
    await card.waitFor();
    assert.match(await card.innerText(), /Passage 1/i);
    assert.match(await card.locator('[data-testid="item-snippet"]').innerText(), /^Office handbook · Welcome to the team\./);
    assert.equal(await page.locator('[data-testid="item-card"][data-kind="passage"] img, [data-testid="item-card"][data-kind="passage"] [data-testid="item-delete"]').count(), 0);

    // Dropped on the photo dropzone: a document goes to the documents (here, a duplicate), a .docx is refused.
    await page.evaluate(([text]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'handbook.md', { type: '' }));
      dt.items.add(new File(['PK'], 'notes.docx', { type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }));
      const target = document.querySelector('[data-testid="kb-dropzone"]');
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [await readFile(handbook, 'utf8')]);
    await page.locator('[data-testid="doc-upload-row"][data-status="duplicate"]', { hasText: 'Already in this collection' }).waitFor();
    await page.locator('[data-testid="toast"]', { hasText: 'notes.docx' }).waitFor();
    assert.equal(await page.locator('#view-kb.is-dragover, .dropzone.is-dragover').count(), 0, 'nothing stays highlighted after the drop');
    assert.equal(await page.locator('[data-testid="upload-row"]').count(), 0, 'no photo upload row');
    // Refused by the server: its own message.
    const empty = path.join(dir, 'empty.txt');
    await writeFile(empty, '   \n');
    const [bad] = await uploadDocumentsViaUi(page, 'docs', [empty]);
    assert.equal(bad.status, 'error');
    assert.equal(bad.text, 'empty.txt holds no text');
    await page.click('[data-testid="doc-upload-clear"]');
    await page.locator('[data-testid="doc-upload-row"]').first().waitFor({ state: 'detached' });

    // Every control of the page is labelled.
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('#view-kb button, #view-kb input, #view-kb a[href]')]
      .filter((n) => n.offsetParent !== null || n.type === 'file')
      .filter((n) => !(n.getAttribute('aria-label') || n.textContent || '').trim() && !(n.labels && n.labels.length) && !n.getAttribute('aria-labelledby'))
      .map((n) => n.outerHTML.slice(0, 80)));
    assert.deepEqual(unlabelled, []);

    // Asked without a photo: the passage is cited by document title, position and snippet.
    await page.goto(`${mock.url}/#/ask`);
    await page.locator('[data-testid="ask-collection"]').selectOption('docs');
    await page.click('[data-testid="new-conversation"]');
    let turn = await ask(page, null, 'What is the office cat called?');
    assert.match(await turn.locator('[data-testid="answer-text"]').innerText(), /Mochi/);
    const ev = turn.locator('[data-testid="evidence-item"][data-kind="passage"]').first();
    assert.equal(await ev.locator('[data-testid="evidence-doc-title"]').innerText(), 'Office handbook');
    assert.equal(await ev.locator('[data-testid="evidence-position"]').innerText(), 'passage 1');
    assert.match(await ev.locator('[data-testid="evidence-snippet"]').innerText(), /Mochi/);
    assert.ok(await turn.locator('[data-testid="candidates-panel"]').isHidden(), 'no candidates panel without a photo');
    assert.ok(await turn.locator('[data-testid="confidence"]').isHidden());
    assert.ok(await turn.locator('[data-testid="no-evidence"]').isHidden());
    const cite = turn.locator('[data-testid="cite"]').first();
    assert.match(await cite.getAttribute('aria-label'), /^Source 1: “Office handbook”, passage 1, score/);
    await cite.hover();
    assert.ok(await ev.evaluate((x) => x.classList.contains('is-active')), 'the [1] mark highlights its passage');
    await ev.click();
    await page.locator('[data-testid="text-dialog-body"]', { hasText: 'Mochi' }).waitFor();
    await page.keyboard.press('Escape');
    assert.ok(await page.locator('[data-testid="followup-hint"]').isHidden(), 'no "same photo" hint without a photo');
    await page.screenshot({ path: path.join(artifacts, 'ui-documents-answer.png') });

    // Nothing relevant: a quiet note says so.
    turn = await ask(page, null, 'Who won the football match?');
    await turn.locator('[data-testid="no-evidence"]', { hasText: 'Nothing in the knowledge base answers this.' }).waitFor();
    assert.match(await turn.locator('[data-testid="evidence-panel"]').innerText(), /Nothing matching/);

    // Phone width: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${mock.url}/#/kb/docs`);
    await page.locator('[data-testid="doc-row"]').nth(1).waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling');
    await page.screenshot({ path: path.join(artifacts, 'ui-documents-phone.png'), fullPage: true });

    // Delete a document: confirm, then it and its passage are gone.
    const row = page.locator('[data-testid="doc-row"]', { hasText: 'Visitor guide' });
    assert.equal(await row.locator('[data-testid="doc-delete"]').getAttribute('aria-label'), 'Delete the document “Visitor guide”');
    await row.locator('[data-testid="doc-delete"]').click();
    await page.click('[data-testid="confirm-ok"]');
    await row.waitFor({ state: 'detached' });
    await page.locator('[data-testid="item-card"][data-kind="passage"]', { hasText: 'Visitor guide' }).waitFor({ state: 'detached' });
    assert.deepEqual((await apiJson(mock.url, 'GET', '/v1/collections/docs/documents')).data.documents.map((d) => d.title), ['Office handbook']);
    await page.locator('[data-testid="kb-count"]', { hasText: '1 item' }).waitFor();
    assert.deepEqual(unexpectedProblems(page), []);
    await apiJson(mock.url, 'DELETE', '/v1/collections/docs');
    await rm(dir, { recursive: true, force: true });
    await page.context().close();
  });

  it('i18n: every English string has a Chinese one', async () => {
    const page = await openPage(browser, mock.url);
    await page.goto(`${mock.url}/`);
    const missing = await page.evaluate(async () => {
      const { STRINGS } = await import('/i18n.js');
      const en = Object.keys(STRINGS.en);
      const zh = Object.keys(STRINGS.zh);
      return { zh: en.filter((k) => !zh.includes(k)), en: zh.filter((k) => !en.includes(k)) };
    });
    assert.deepEqual(missing, { zh: [], en: [] });
    await page.context().close();
  });

  it('points first-time users at an empty knowledge base', async () => {
    await apiJson(mock.url, 'POST', '/v1/collections', { name: 'empty', description: '' });
    const page = await openPage(browser, mock.url);
    await page.goto(`${mock.url}/#/ask`);
    const note = page.locator('[data-testid="hero-empty-kb"]');
    await page.locator('[data-testid="ask-collection"]').selectOption('default');
    assert.ok(await note.isHidden());
    await page.locator('[data-testid="ask-collection"]').selectOption('empty');
    await note.waitFor();
    assert.match(await note.innerText(), /“empty” knowledge base has no photos/);
    await note.locator('a').click();
    await page.locator('[data-testid="kb-title"]', { hasText: 'empty' }).waitFor();
    await apiJson(mock.url, 'DELETE', '/v1/collections/empty');
    await page.context().close();
  });

  it('language: defaults from navigator.language, toggles, and is remembered', async () => {
    const page = await openPage(browser, mock.url, { locale: 'zh-CN' });
    await page.goto(`${mock.url}/`);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    assert.equal(await page.locator('[data-testid="nav-ask"]').innerText(), '提问');
    assert.equal(await page.inputValue('[data-testid="prompt"]'), '这是什么？');
    assert.equal(await page.title(), 'pyxa — 问问你的照片');
    await page.click('[data-testid="lang-toggle"]');
    assert.equal(await page.locator('[data-testid="nav-ask"]').innerText(), 'Ask');
    assert.equal(await page.inputValue('[data-testid="prompt"]'), 'What is this?', 'the default question follows the language');
    await page.reload();
    assert.equal(await page.locator('[data-testid="nav-kb"]').innerText(), 'Knowledge base');
    await page.context().close();
  });

  it('theme: follows the system, toggles light/dark, and is remembered', async () => {
    const page = await openPage(browser, mock.url, { colorScheme: 'dark' });
    await page.goto(`${mock.url}/#/ask`);
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const darkBg = await bg();
    await page.click('[data-testid="theme-toggle"]'); // system -> light
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    assert.notEqual(await bg(), darkBg);
    await page.click('[data-testid="theme-toggle"]'); // light -> dark
    assert.equal(await bg(), darkBg);
    await page.reload();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await ask(page, images.chelsea);
    await page.screenshot({ path: path.join(artifacts, 'ui-dark.png') });
    await page.context().close();
  });

  it('is usable on a phone: no sideways scrolling, history in a drawer', async () => {
    const page = await openPage(browser, mock.url, { viewport: { width: 390, height: 844 } });
    await page.goto(`${mock.url}/#/ask`);
    await ask(page, images.chelsea);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await page.screenshot({ path: path.join(artifacts, 'ui-phone.png') });
    assert.ok(await page.locator('[data-testid="history"]').isHidden());
    await page.click('[data-testid="history-toggle"]');
    await page.locator('[data-testid="history-item"]').first().waitFor({ state: 'visible' });
    await page.waitForTimeout(300); // let the drawer finish sliding in
    await page.screenshot({ path: path.join(artifacts, 'ui-phone-history.png') });
    await page.keyboard.press('Escape');
    await page.locator('[data-testid="history"]').waitFor({ state: 'hidden' });
    await page.goto(`${mock.url}/#/kb/default`);
    await page.locator('[data-testid="item-card"]').first().waitFor();
    const kbOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(kbOverflow <= 0, `knowledge base is ${kbOverflow}px wider than the screen`);
    await page.screenshot({ path: path.join(artifacts, 'ui-phone-kb.png'), fullPage: true });
    await page.context().close();
  });

  /** Collect CSP violations reported to the page (set up before the first navigation). */
  async function watchCsp(page) {
    await page.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
      });
    });
  }

  const visibleOps = (page) => page.locator('[data-testid="docs-op-link"]:visible')
    .evaluateAll((links) => links.map((a) => a.textContent.replace(/\s+/g, ' ').trim()));

  it('API docs: the portal links to /docs, which lists, explains and filters every operation', async () => {
    const page = await openPage(browser, mock.url);
    await watchCsp(page);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: mock.url });
    const failed = [];
    // (Navigating away aborts requests such as the favicon's; that is not a failure.)
    page.on('requestfailed', (r) => { if (r.failure()?.errorText !== 'net::ERR_ABORTED') failed.push(r.url()); });
    page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });

    // The portal header links to the docs, in both languages.
    await page.goto(`${mock.url}/#/ask`);
    const navDocs = page.locator('.topbar [data-testid="nav-docs"]');
    assert.equal(await navDocs.getAttribute('href'), '/docs');
    assert.equal(await navDocs.innerText(), 'API docs');
    await page.click('[data-testid="lang-toggle"]');
    assert.equal(await navDocs.innerText(), 'API 文档');
    await page.click('[data-testid="lang-toggle"]');
    await navDocs.click();
    await page.waitForURL(`${mock.url}/docs`);
    await page.locator('body[data-state="ready"]').waitFor();

    // Header from the spec's info.
    const spec = JSON.parse(await readFile(new URL('../../services/pyxa/openapi.json', import.meta.url), 'utf8'));
    assert.equal(await page.locator('[data-testid="docs-title"]').innerText(), spec.info.title);
    assert.equal(await page.locator('[data-testid="docs-version"]').innerText(), `v${spec.info.version}`);
    assert.match(await page.locator('[data-testid="docs-description"]').innerText(), /grounded in what it knows/);

    // Every operation is in the sidebar as "METHOD /path".
    const all = await visibleOps(page);
    const expected = Object.entries(spec.paths).flatMap(([p, item]) => Object.keys(item)
      .filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m)).map((m) => `${m.toUpperCase()} ${p}`));
    // (Grouped by tag in the sidebar, so compare as sets.)
    assert.deepEqual([...all].sort(), [...expected].sort());
    assert.ok(all.includes('POST /v1/ask') && all.includes('GET /health'));
    assert.equal(await page.locator('[data-testid="docs-filter-count"]').innerText(), `${expected.length} operations`);

    // Clicking an operation opens it: request bodies per content type, responses with
    // resolved $refs as property tables, and a curl example.
    await page.locator('[data-testid="docs-op-link"][data-method="post"][data-path="/v1/ask"]').click();
    assert.match(page.url(), /#op-post-v1-ask$/);
    const ask = page.locator('[data-testid="docs-op"][data-method="post"][data-path="/v1/ask"]');
    await ask.locator('.docs-op-body').waitFor();
    assert.equal(await ask.locator('[data-testid="docs-op-toggle"]').getAttribute('aria-expanded'), 'true');
    assert.equal(await page.locator('[data-testid="docs-op-link"][data-path="/v1/ask"]').getAttribute('aria-current'), 'location');
    const body = ask.locator('.docs-section[data-section="requestBody"]');
    assert.deepEqual(await body.locator('[data-testid="docs-media"]').evaluateAll((xs) => xs.map((x) => x.dataset.contentType)),
      Object.keys(spec.paths['/v1/ask'].post.requestBody.content));
    const imageRow = body.locator('[data-testid="docs-media"][data-content-type="multipart/form-data"] tr[data-prop="image"]');
    assert.equal(await imageRow.locator('.docs-type').innerText(), 'file (binary)');
    assert.match(await body.locator('tr[data-prop="mode"]').first().innerText(), /chat[\s\S]*query/);
    const ok = ask.locator('[data-testid="docs-response"][data-status="200"]');
    assert.equal(await ok.evaluate((d) => d.open), true, '2xx responses start open');
    const askResponse = spec.paths['/v1/ask'].post.responses['200'].content['application/json'].schema.$ref.split('/').pop();
    assert.equal(await ok.locator('[data-testid="docs-schema-type"]').innerText(), askResponse);
    const answer = ok.locator('[data-testid="docs-prop"]', { hasText: /^answer$/ });
    assert.ok(await answer.isVisible(), 'the "answer" property of the ask response is shown');
    assert.equal(await ok.locator('tr[data-prop="candidates"] .docs-type').first().innerText(), 'Candidate[]');
    assert.ok(await ok.locator('tr[data-prop="probability"]').first().isVisible(), 'nested Candidate fields are shown');
    const notFound = ask.locator('[data-testid="docs-response"][data-status="404"]');
    assert.equal(await notFound.evaluate((d) => d.open), false, 'error responses start folded');
    await notFound.locator('> summary').click();
    assert.ok(await notFound.locator('tr[data-prop="error"]').isVisible());
    assert.ok(await notFound.locator('tr[data-prop="code"]').isVisible(), 'nested object properties of Error');
    const curls = await ask.locator('[data-testid="docs-curl"]').allInnerTexts();
    const curlText = curls[0];
    for (const c of curls) assert.match(c, new RegExp(`^curl -X POST '${mock.url}/v1/ask' \\\\\n`));
    assert.ok(curls.some((c) => /-F 'image=@photo\.jpg'/.test(c)), curls.join('\n'));
    assert.ok(curls.some((c) => /-H 'Content-Type: application\/json'[\s\S]*-d '\{/.test(c)), curls.join('\n'));
    await ask.locator('[data-testid="docs-copy"]').first().click();
    await page.locator('[data-testid="docs-copy"][data-state="copied"]').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), curlText);

    // Parameters (path-level and operation-level merged) of another operation.
    await page.locator('[data-testid="docs-op-link"][data-method="get"][data-path="/v1/collections/{collection}/items"]').click();
    const items = page.locator('[data-testid="docs-op"][data-method="get"][data-path="/v1/collections/{collection}/items"]');
    await items.locator('[data-testid="docs-params"]').waitFor();
    assert.deepEqual(await items.locator('[data-testid="docs-param"]').evaluateAll((rows) => rows.map((r) => `${r.dataset.in}:${r.dataset.param}`)),
      ['path:collection', 'query:limit', 'query:offset', 'query:label']);
    assert.ok(await items.locator('[data-testid="docs-param"][data-param="collection"] [data-testid="docs-required"]').isVisible());
    assert.match(await items.locator('[data-testid="docs-curl"]').innerText(), /^curl '.*\/v1\/collections\/<collection>\/items'$/);

    // The filter narrows the list (and the operations on the page), all terms must match.
    const filter = page.locator('[data-testid="docs-filter"]');
    await filter.fill('/v1/collections');
    const narrowed = await visibleOps(page);
    assert.deepEqual(narrowed, all.filter((x) => x.includes('/v1/collections')));
    assert.ok(narrowed.length > 0 && narrowed.length < all.length, `filtered ${narrowed.length} of ${all.length}`);
    assert.ok(await page.locator('[data-testid="docs-op"][data-path="/health"]').isHidden());
    assert.equal(await page.locator('[data-testid="docs-filter-count"]').innerText(), `${narrowed.length} of ${all.length} operations`);
    await filter.fill('post ask');
    assert.deepEqual(await visibleOps(page), ['POST /v1/ask']);
    assert.equal(await page.locator('[data-testid="docs-op"]:visible').count(), 1);
    await filter.fill('no-such-operation');
    await page.locator('[data-testid="docs-empty"]').waitFor();
    assert.deepEqual(await visibleOps(page), []);
    await filter.press('Escape');
    assert.deepEqual(await visibleOps(page), all);
    assert.ok(await page.locator('[data-testid="docs-empty"]').isHidden());

    // A changed hash opens its operation, and so does a deep link on load; the
    // theme saved by the portal applies here too.
    await page.goto(`${mock.url}/docs#op-get-health`);
    await page.locator('[data-testid="docs-op"][data-path="/health"] .docs-op-body').waitFor();
    await page.evaluate(() => localStorage.setItem('pyxa.theme', 'dark'));
    await page.reload();
    await page.locator('body[data-state="ready"]').waitFor();
    assert.ok(await page.locator('[data-testid="docs-op"][data-path="/health"] .docs-op-body').isVisible());
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.screenshot({ path: path.join(artifacts, 'ui-docs.png') });

    assert.deepEqual(failed, []);
    assert.deepEqual(unexpectedProblems(page), []);
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    // (Playwright's fill() may leave an empty style="" on the input it typed into.)
    assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('[style]:not([style=""])')].map((n) => n.outerHTML.slice(0, 120))), [], 'no inline styles');
    const html = await readFile(new URL('../../frontend/docs.html', import.meta.url), 'utf8');
    assert.doesNotMatch(html, /\sstyle=|\son[a-z]+=|<script(?![^>]*\bsrc=)/i);
    await page.context().close();
  });

  it('API docs: utoipa-style schemas ($ref, allOf, oneOf, nullable, maps, recursion) render as text only', async () => {
    const spec = {
      openapi: '3.1.0',
      info: {
        title: 'Synthetic <img src=x onerror="window.__pwned=1">',
        version: '5.0.0',
        description: 'Intro with `code`, a [bad link](javascript:window.__pwned=2) and a [good one](https://example.com/).\n\n<script>window.__pwned=3</script>',
      },
      tags: [{ name: 'things', description: 'Thing operations' }, { name: 'admin' }],
      paths: {
        '/v2/admin/stats': {
          get: {
            tags: ['admin'], operationId: 'stats', deprecated: true, summary: 'Counters',
            responses: { 200: { description: 'Stats', content: { 'application/json': { schema: { type: 'object', additionalProperties: { type: 'integer', format: 'int64' }, propertyNames: { type: 'string' } } } } } },
          },
        },
        '/v2/things/{id}': {
          parameters: [{ $ref: '#/components/parameters/ThingId' }],
          put: {
            tags: ['things'], operationId: 'update_thing', summary: 'Update a thing', description: 'Replaces it.\n\n- first point\n- second point',
            parameters: [{ name: 'dry_run', in: 'query', required: false, schema: { type: ['boolean', 'null'] }, description: 'Only validate' }],
            requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ThingInput' } } } },
            responses: {
              200: { description: 'Updated', content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
              404: { $ref: '#/components/responses/NotFound' },
            },
          },
        },
      },
      components: {
        parameters: { ThingId: { name: 'id', in: 'path', required: true, description: 'Thing id', schema: { type: 'string', format: 'uuid' } } },
        responses: { NotFound: { description: 'No such thing', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } },
        schemas: {
          Error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
          Color: { type: 'string', enum: ['red', 'green'] },
          Shape: {
            oneOf: [
              { type: 'object', title: 'Circle', required: ['kind', 'radius'], properties: { kind: { type: 'string', enum: ['circle'] }, radius: { type: 'number', format: 'double', minimum: 0 } } },
              { type: 'object', required: ['kind', 'side'], properties: { kind: { type: 'string', enum: ['square'] }, side: { type: 'number', format: 'double' } } },
            ],
            discriminator: { propertyName: 'kind' },
          },
          ThingInput: {
            type: 'object', description: 'What a thing holds', required: ['name', 'shape'],
            properties: {
              name: { type: 'string', description: 'Display name <b onmouseover="window.__pwned=4">bold</b>', minLength: 1, maxLength: 64, example: 'lamp' },
              note: { type: ['string', 'null'], description: 'Optional note' },
              color: { oneOf: [{ type: 'null' }, { $ref: '#/components/schemas/Color' }] },
              shape: { $ref: '#/components/schemas/Shape' },
              tags: { type: 'array', items: { type: 'string' } },
              extra: { anyOf: [{ type: 'string' }, { type: 'integer', format: 'int32' }] },
            },
          },
          Thing: {
            allOf: [
              { $ref: '#/components/schemas/ThingInput' },
              { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid', readOnly: true }, children: { type: 'array', items: { $ref: '#/components/schemas/Thing' } } } },
            ],
          },
        },
      },
    };
    const page = await openPage(browser, mock.url);
    await watchCsp(page);
    await page.route('**/openapi.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(spec) }));
    await page.goto(`${mock.url}/docs`);
    await page.locator('body[data-state="ready"]').waitFor();

    // Untrusted text stays text.
    assert.equal(await page.locator('[data-testid="docs-title"]').innerText(), spec.info.title);
    const intro = page.locator('[data-testid="docs-description"]');
    assert.match(await intro.innerText(), /<script>window.__pwned=3<\/script>/);
    assert.equal(await intro.locator('code').innerText(), 'code');
    assert.deepEqual(await intro.locator('a').evaluateAll((as) => as.map((a) => a.href)), ['https://example.com/']);
    assert.equal(await page.locator('img, script:not([src])').count(), 0);

    // Tags in declared order; deprecated operations are marked.
    assert.deepEqual(await page.locator('.docs-nav-title').allInnerTexts(), ['THINGS', 'ADMIN']);
    assert.deepEqual(await visibleOps(page), ['PUT /v2/things/{id}', 'GET /v2/admin/stats']);
    assert.ok(await page.locator('[data-testid="docs-op-link"][data-path="/v2/admin/stats"]').evaluate((a) => a.classList.contains('is-deprecated')));

    await page.locator('[data-testid="docs-op-link"][data-method="put"]').click();
    const op = page.locator('[data-testid="docs-op"][data-method="put"]');
    await op.locator('[data-testid="docs-params"]').waitFor();
    assert.match(await op.locator('.docs-op-content > .docs-prose').innerText(), /Replaces it\.\s+first point\s+second point/);
    assert.equal(await op.locator('.docs-op-content > .docs-prose li').count(), 2);
    const type = (scope, prop) => scope.locator(`tr[data-prop="${prop}"] .docs-type`).first().innerText();
    const params = op.locator('[data-testid="docs-params"]');
    assert.equal(await params.locator('[data-param="id"] .docs-type').innerText(), 'string (uuid)');
    assert.match(await params.locator('[data-param="id"]').innerText(), /required[\s\S]*Thing id/);
    assert.equal(await params.locator('[data-param="dry_run"] .docs-type').innerText(), 'boolean | null');

    const req = op.locator('.docs-section[data-section="requestBody"]');
    assert.equal(await req.locator('[data-testid="docs-schema-type"]').innerText(), 'ThingInput');
    assert.match(await req.locator('.docs-schema > .docs-prose').innerText(), /What a thing holds/);
    assert.ok(await req.locator('tr[data-prop="name"] [data-testid="docs-required"]').isVisible());
    assert.equal(await req.locator('tr[data-prop="note"] [data-testid="docs-required"]').count(), 0);
    assert.match(await req.locator('tr[data-prop="name"]').innerText(), /Display name <b onmouseover="window.__pwned=4">bold<\/b>[\s\S]*lamp[\s\S]*length 1–64/);
    assert.equal(await type(req, 'note'), 'string | null');
    assert.equal(await type(req, 'color'), 'Color | null');
    assert.match(await req.locator('tr[data-prop="color"]').innerText(), /red[\s\S]*green/);
    assert.equal(await type(req, 'shape'), 'Shape');
    assert.equal(await type(req, 'tags'), 'string[]');
    assert.equal(await type(req, 'extra'), 'string | integer (int32)');
    const variants = req.locator('[data-testid="docs-variants"]');
    assert.match(await variants.innerText(), /Exactly one of/);
    assert.deepEqual(await variants.locator('.docs-variant-name').allInnerTexts(), ['Circle', 'kind = square']);
    assert.match(await variants.innerText(), /Chosen by:\s*kind|radius/);

    const ok = op.locator('[data-testid="docs-response"][data-status="200"]');
    assert.equal(await ok.locator('[data-testid="docs-schema-type"]').innerText(), 'Thing');
    assert.deepEqual(await ok.locator('.docs-schema > .docs-fields > .docs-table-wrap > table > tbody > tr.docs-prop-row')
      .evaluateAll((rows) => rows.map((r) => r.dataset.prop)), ['name', 'note', 'color', 'shape', 'tags', 'extra', 'id', 'children']);
    assert.match(await ok.locator('tr[data-prop="id"]').first().innerText(), /required[\s\S]*read-only/);
    assert.equal(await type(ok, 'children'), 'Thing[]');
    assert.match(await ok.locator('tr[data-prop="children"] [data-testid="docs-recursive"]').innerText(), /Thing/);
    const notFound = op.locator('[data-testid="docs-response"][data-status="404"]');
    assert.match(await notFound.locator('> summary').innerText(), /No such thing/);
    await notFound.locator('> summary').click();
    assert.equal(await notFound.locator('[data-testid="docs-schema-type"]').innerText(), 'Error');

    const curl = await op.locator('[data-testid="docs-curl"]').innerText();
    assert.match(curl, /^curl -X PUT '.*\/v2\/things\/<id>' \\/);
    assert.match(curl, /-H 'Content-Type: application\/json'/);
    const json = JSON.parse(/-d '([\s\S]*)'$/.exec(curl)[1]);
    assert.deepEqual(json, { name: 'lamp', shape: { kind: 'circle', radius: 0 } });

    await page.locator('[data-testid="docs-op-link"][data-method="get"]').click();
    const stats = page.locator('[data-testid="docs-op"][data-path="/v2/admin/stats"]');
    assert.equal(await stats.locator('[data-testid="docs-schema-type"]').innerText(), 'map<string, integer (int64)>');

    // Chinese UI labels; the spec's own text is left alone.
    await page.click('[data-testid="lang-toggle"]');
    assert.equal(await op.locator('.docs-section[data-section="responses"] .docs-section-title').innerText(), '响应');
    assert.equal(await page.title(), 'pyxa — API 参考');
    await page.click('[data-testid="lang-toggle"]');

    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(unexpectedProblems(page), []);
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    await page.context().close();
  });

  it('is keyboard accessible: labelled controls, Enter sends, visible focus', async () => {
    const page = await openPage(browser, mock.url);
    await page.goto(`${mock.url}/#/ask`);
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('button, input, select, textarea, a[href]')]
      .filter((n) => n.offsetParent !== null || n.type === 'file')
      .filter((n) => {
        const name = (n.getAttribute('aria-label') || n.textContent || '').trim();
        const label = n.labels && n.labels.length;
        return !name && !label && !n.getAttribute('aria-labelledby');
      })
      .map((n) => n.outerHTML.slice(0, 80)));
    assert.deepEqual(unlabelled, []);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
    // Focus styles exist for keyboard users.
    await page.locator('[data-testid="ask-submit"]').focus();
    const shadow = await page.locator('[data-testid="ask-submit"]').evaluate((n) => getComputedStyle(n).boxShadow);
    assert.notEqual(shadow, 'none');
    await page.setInputFiles('[data-testid="photo-input"]', images.coffee);
    await page.locator('[data-testid="prompt"]').focus();
    await page.keyboard.press('Enter');
    await waitForAnswer(page, { timeout: 30_000 });
    await page.context().close();
  });
});
