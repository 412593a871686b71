// The portal against a real `pyxa serve` that needs API keys (PYXA_KEYS_URL, started by run.sh
// with PYXA_ADMIN_KEY=PYXA_KEYS_ADMIN): the portal asks for a key on the first 401, keeps it, and
// then lists collections and answers with it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, testImages, openPage, waitForAnswer, unexpectedProblems, ANSWER_TIMEOUT_MS } from './helpers.mjs';

const url = (process.env.PYXA_KEYS_URL || '').replace(/\/+$/, '');
const admin = process.env.PYXA_KEYS_ADMIN || '';

describe('pyxa portal with API keys', { skip: !url && 'PYXA_KEYS_URL is not set', timeout: ANSWER_TIMEOUT_MS * 2 }, () => {
  let browser;
  let images;

  before(async () => {
    browser = await launch();
    images = await testImages();
  });

  after(async () => {
    if (browser) await browser.close();
  });

  async function api(method, p, key, body) {
    const headers = { Accept: 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) };
    if (body) headers['Content-Type'] = 'application/json';
    const res = await fetch(url + p, { method, headers, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, data: await res.json().catch(() => null) };
  }

  it('refuses the API without a key, then works in the portal once a key is given', async () => {
    const refused = await api('GET', '/v1/collections');
    assert.equal(refused.status, 401);
    assert.equal(refused.data.error.code, 'api_key_required');
    const created = await api('POST', '/v1/keys', admin, { scopes: ['read', 'ask'] });
    assert.equal(created.status, 201, JSON.stringify(created.data));
    const key = created.data.key;

    const page = await openPage(browser, url);
    const prompts = [];
    page.on('dialog', async (dialog) => {
      prompts.push(dialog.message());
      await dialog.accept(key);
    });
    await page.goto(`${url}/#/ask`);
    await page.locator('[data-testid="health"][data-state="ok"]').waitFor();
    // Asked once; the key is kept for the next page load.
    await page.waitForFunction(() => localStorage.getItem('pyxa.apiKey'));
    assert.equal(prompts.length, 1, prompts.join(' | '));
    assert.match(prompts[0], /API key/);

    await page.setInputFiles('[data-testid="photo-input"]', images.chelsea);
    await page.fill('[data-testid="prompt"]', 'This is an animal, what is it?');
    await page.click('[data-testid="ask-submit"]');
    const turn = await waitForAnswer(page);
    assert.ok(await turn.evaluate((el) => el.classList.contains('is-done')), await turn.innerText());
    assert.match(await turn.locator('[data-testid="answer-text"]').innerText(), /cat/i);
    // The photo thumbnail loads without a header (photos are addressed by their hash).
    await page.reload();
    await page.locator('[data-testid="health"][data-state="ok"]').waitFor();
    assert.equal(prompts.length, 1, 'asked for the key again after a reload');
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });
});
