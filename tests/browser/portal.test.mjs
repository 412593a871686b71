// End-to-end tests of the pyxa web portal against a running server.
//
//   PYXA_URL=http://127.0.0.1:8080 PYXA_TEST_IMAGES=/path/to/skimage/data node --test portal.test.mjs
//
// PYXA_URL must point at a real `pyxa serve` with its models loaded (someone
// else starts it). PYXA_MOCK=1 runs the same tests against mock-server.mjs
// instead. Screenshots go to PYXA_ARTIFACTS (default ./artifacts).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, readFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  launch, resolveServer, testImages, artifactsDir, openPage, apiJson, waitForAnswer, uploadViaUi,
  unexpectedProblems, ANSWER_TIMEOUT_MS,
} from './helpers.mjs';

const TEST_TIMEOUT = ANSWER_TIMEOUT_MS * 2 + 120_000;

describe('pyxa portal', { timeout: TEST_TIMEOUT * 5 }, () => {
  let server;
  let browser;
  let images;
  let artifacts;
  let collection;
  let kbReady = null;

  before(async () => {
    server = await resolveServer();
    images = await testImages();
    artifacts = await artifactsDir();
    browser = await launch();
    collection = `browser-test-${Date.now().toString(36)}`;
    const health = await apiJson(server.url, 'GET', '/health');
    assert.equal(health.status, 200, `GET /health answered ${health.status}: ${JSON.stringify(health.data)}`);
    const created = await apiJson(server.url, 'POST', '/v1/collections', { name: collection, description: 'Created by the browser tests' });
    assert.equal(created.status, 201, `POST /v1/collections answered ${created.status}: ${JSON.stringify(created.data)}`);
  });

  after(async () => {
    if (server && collection) {
      await apiJson(server.url, 'DELETE', `/v1/collections/${collection}`).catch(() => {});
    }
    if (browser) await browser.close();
    if (server) await server.close();
  });

  /** Upload chelsea=cat, coffee=coffee, rocket=rocket through the knowledge-base page (once). */
  function ensureKb(page) {
    if (!kbReady) {
      kbReady = uploadViaUi(page, collection, [
        { path: images.chelsea, label: 'cat' },
        { path: images.coffee, label: 'coffee' },
        { path: images.rocket, label: 'rocket' },
      ]);
    }
    return kbReady;
  }

  async function askPhoto(page, photo, prompt) {
    await page.locator('[data-testid="ask-collection"]').selectOption(collection);
    await page.setInputFiles('[data-testid="photo-input"]', photo);
    await page.locator('[data-testid="preview"]').waitFor();
    if (prompt !== undefined) await page.fill('[data-testid="prompt"]', prompt);
    const before = await page.locator('[data-testid="turn"]').count();
    await page.click('[data-testid="ask-submit"]');
    await page.locator('[data-testid="turn"]').nth(before).waitFor();
    return waitForAnswer(page);
  }

  it('(a) answers "cat" for chelsea.png, streaming, with evidence thumbnails', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openPage(browser, server.url);
    const rows = await ensureKb(page);
    assert.equal(rows.length, 3);
    for (const r of rows) assert.ok(['done', 'duplicate'].includes(r.status), `upload of ${r.name} ended as ${r.status}: ${r.message}`);
    await page.locator('[data-testid="item-card"]').nth(2).waitFor();
    const labels = await page.locator('[data-testid="item-label"]').allInnerTexts();
    assert.deepEqual([...labels].sort(), ['cat', 'coffee', 'rocket']);
    const listed = await apiJson(server.url, 'GET', `/v1/collections/${collection}/items?limit=50&offset=0`);
    assert.equal(listed.data.total, 3, 'the API lists the three uploaded photos');

    await page.click('[data-testid="nav-ask"]');
    await page.click('[data-testid="new-conversation"]');
    assert.equal(await page.inputValue('[data-testid="prompt"]'), 'What is this?');

    // Watch the answer grow while it streams.
    await page.evaluate(() => {
      window.__answerLengths = [];
      const obs = new MutationObserver(() => {
        const all = document.querySelectorAll('[data-testid="answer-text"]');
        const last = all[all.length - 1];
        if (last) window.__answerLengths.push(last.textContent.length);
      });
      obs.observe(document.getElementById('thread'), { subtree: true, childList: true, characterData: true });
    });
    const turn = await askPhoto(page, images.chelsea);
    const answer = await turn.locator('[data-testid="answer-text"]').innerText();
    assert.match(answer, /cat/i, `answer should mention "cat": ${answer}`);
    assert.equal(await turn.locator('[data-testid="answer-text"]').getAttribute('aria-live'), 'polite');

    const evidence = turn.locator('[data-testid="evidence-item"]');
    assert.ok(await evidence.count() >= 1, 'evidence thumbnails are shown');
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="turn"]:last-of-type [data-testid="evidence-item"] img');
      return img && img.complete && img.naturalWidth > 0;
    }, null, { timeout: 30_000 });
    const candidates = turn.locator('[data-testid="candidate"]');
    assert.ok(await candidates.count() >= 1, 'candidates are shown');
    assert.match(await candidates.first().getAttribute('data-label'), /cat/i, 'the top candidate is a cat');
    assert.ok(await turn.locator('[data-testid="timing-total"]').count() === 1, 'timings are shown');
    const lengths = await page.evaluate(() => window.__answerLengths);
    assert.ok(new Set(lengths.filter((n) => n > 0)).size >= 1, 'the answer text was rendered');

    await turn.locator('[data-testid="evidence-panel"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(artifacts, 'answered.png'), fullPage: false });
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });

  it('(b) a correction is learned: asking again puts the new label on top', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openPage(browser, server.url);
    await ensureKb(page);
    await page.goto(`${server.url}/#/ask`);
    await page.click('[data-testid="new-conversation"]');
    const turn = await askPhoto(page, images.astronaut);

    await turn.locator('[data-testid="feedback-wrong"]').click();
    const input = turn.locator('[data-testid="correction-input"]');
    await input.waitFor();
    // A name no model can know beforehand: only the correction can teach it.
    const label = 'eileen collins';
    await input.fill(label);
    await turn.locator('[data-testid="correction-submit"]').click();
    const result = turn.locator('[data-testid="feedback-result"]');
    await result.filter({ hasText: new RegExp(label, 'i') }).waitFor({ timeout: 60_000 });
    assert.match(await result.innerText(), /learned/i);

    const count = await page.locator('[data-testid="turn"]').count();
    await turn.locator('[data-testid="ask-again"]').click();
    await page.locator('[data-testid="turn"]').nth(count).waitFor();
    const again = await waitForAnswer(page);
    assert.notEqual(await again.getAttribute('id'), await turn.getAttribute('id'));
    const top = again.locator('[data-testid="candidate"]').first();
    assert.equal((await top.getAttribute('data-label')).toLowerCase(), label);
    assert.match(await again.locator('[data-testid="answer-text"]').innerText(), new RegExp(label, 'i'));
    await page.screenshot({ path: path.join(artifacts, 'corrected.png') });
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });

  it('(c) in Chinese, "这是什么动物?" about chelsea.png is answered with 猫', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openPage(browser, server.url);
    await ensureKb(page);
    await page.goto(`${server.url}/#/ask`);
    await page.locator('[data-testid="lang-toggle"]').click();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    const cjk = /[\u4e00-\u9fff]/;
    for (const sel of ['[data-testid="nav-ask"]', '[data-testid="nav-kb"]', '[data-testid="ask-submit"]', '[data-testid="new-conversation"]']) {
      assert.match(await page.locator(sel).innerText(), cjk, `${sel} is in Chinese`);
    }
    assert.equal(await page.evaluate(() => localStorage.getItem('pyxa.lang')), 'zh');
    await page.reload();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    assert.equal(await page.locator('[data-testid="nav-kb"]').innerText(), '知识库', 'the choice is remembered');

    await page.click('[data-testid="new-conversation"]');
    assert.equal(await page.inputValue('[data-testid="prompt"]'), '这是什么？');
    const turn = await askPhoto(page, images.chelsea, '这是什么动物?');
    const answer = await turn.locator('[data-testid="answer-text"]').innerText();
    assert.match(answer, /猫/, `answer should contain 猫: ${answer}`);
    assert.match(await turn.locator('[data-testid="candidates-panel"] h3').innerText(), cjk);
    await page.screenshot({ path: path.join(artifacts, 'answered-zh.png') });
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });

  it('(c2) a photo labelled in Chinese shows its English reading beside it, not the same word twice', { timeout: TEST_TIMEOUT }, async () => {
    const zhCollection = `${collection}-zh`;
    const created = await apiJson(server.url, 'POST', '/v1/collections', { name: zhCollection, description: '中文标签' });
    assert.equal(created.status, 201, JSON.stringify(created.data));
    try {
      const form = new FormData();
      form.append('label', '猫');
      form.append('image', new Blob([await readFile(images.chelsea)], { type: 'image/png' }), 'chelsea.png');
      const added = await fetch(`${server.url}/v1/collections/${zhCollection}/items`, { method: 'POST', body: form });
      assert.equal(added.status, 201, await added.text());
      const page = await openPage(browser, server.url);
      await page.goto(`${server.url}/#/ask`);
      await page.click('[data-testid="new-conversation"]');
      await page.locator('[data-testid="ask-collection"]').selectOption(zhCollection);
      await page.setInputFiles('[data-testid="photo-input"]', images.chelsea);
      await page.locator('[data-testid="preview"]').waitFor();
      const before = await page.locator('[data-testid="turn"]').count();
      await page.click('[data-testid="ask-submit"]');
      await page.locator('[data-testid="turn"]').nth(before).waitFor();
      const turn = await waitForAnswer(page);
      const top = turn.locator('[data-testid="candidate"]').first();
      assert.equal(await top.getAttribute('data-label'), '猫');
      assert.equal(await top.locator('[data-testid="candidate-alt"]').innerText(), 'cat');
      assert.deepEqual(unexpectedProblems(page), []);
      await page.context().close();
    } finally {
      await apiJson(server.url, 'DELETE', `/v1/collections/${zhCollection}`).catch(() => {});
    }
  });

  it('(d) a text file named .png shows the API\'s own error message', { timeout: TEST_TIMEOUT }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pyxa-'));
    const bad = path.join(dir, 'not-a-photo.png');
    await writeFile(bad, 'This is plain text, not a picture.\n');
    const bytes = await readFile(bad);

    // What does the API itself say about this file?
    const expectError = async (endpoint, fields) => {
      const form = new FormData();
      form.append('image', new Blob([bytes], { type: 'image/png' }), 'not-a-photo.png');
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      const res = await fetch(server.url + endpoint, { method: 'POST', body: form });
      const text = await res.text();
      if (!res.ok) {
        const body = JSON.parse(text);
        assert.ok(body.error && body.error.code && body.error.message, `error body has code and message: ${text}`);
        return body.error.message;
      }
      const m = /event: ?error\r?\ndata: ?(.*)/.exec(text);
      assert.ok(m, `the API accepted a text file as an image: ${text.slice(0, 200)}`);
      const data = JSON.parse(m[1]);
      return (data.error || data).message;
    };
    const askMessage = await expectError('/v1/ask', { prompt: 'What is this?', collection, mode: 'chat', stream: 'true' });

    const page = await openPage(browser, server.url);
    await page.goto(`${server.url}/#/ask`);
    await page.locator('[data-testid="ask-collection"]').selectOption(collection);
    await page.setInputFiles('[data-testid="photo-input"]', bad);
    await page.click('[data-testid="ask-submit"]');
    const error = page.locator('[data-testid="turn"]').last().locator('[data-testid="turn-error"]');
    await error.waitFor({ timeout: 60_000 });
    const shown = (await error.innerText()).trim();
    assert.equal(shown, askMessage.trim(), 'the Ask page shows the API\'s message');
    assert.doesNotMatch(shown, /^(HTTP|The server answered) \d+/);
    await page.screenshot({ path: path.join(artifacts, 'error.png') });

    // The knowledge-base upload shows the same kind of message for that file.
    const itemMessage = await expectError(`/v1/collections/${collection}/items`, { label: 'nonsense' });
    await page.goto(`${server.url}/#/kb/${collection}`);
    await page.locator('[data-testid="kb-title"]', { hasText: collection }).waitFor();
    await page.setInputFiles('[data-testid="kb-file-input"]', bad);
    await page.locator('[data-testid="upload-row"]').last().locator('[data-testid="upload-label"]').fill('nonsense');
    await page.click('[data-testid="upload-start"]');
    const rowError = page.locator('[data-testid="upload-row"][data-status="error"] [data-testid="upload-error"]');
    await rowError.waitFor({ timeout: 60_000 });
    assert.equal((await rowError.innerText()).trim(), itemMessage.trim());
    await page.screenshot({ path: path.join(artifacts, 'upload-error.png') });
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });
});
