#!/usr/bin/env node
// The web console in a real browser: Debian's Chromium driven by playwright-core, against a
// running Nimbus server (started by tests/browser/run.sh). Every request the pages make must
// stay on the server's own host, and no page may log a script error.
//
// Environment: NIMBUS_BASE_URL, NIMBUS_TEST_CLOUD, NIMBUS_OWNER_EMAIL, NIMBUS_OWNER_PASSWORD,
// NIMBUS_SERVER_LOG (where the server writes mail it cannot send), NIMBUS_CHROMIUM (default
// /usr/bin/chromium), NIMBUS_SCREENSHOTS (a directory: screenshots of the main pages).
//
// Every step runs even when an earlier one failed; the last line is "N passed, N failed".

'use strict';

const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { chromium } = require('playwright-core');

const BASE = process.env.NIMBUS_BASE_URL.replace(/\/$/, '');
const CLOUD = process.env.NIMBUS_TEST_CLOUD;
const OWNER = process.env.NIMBUS_OWNER_EMAIL;
const PASSWORD = process.env.NIMBUS_OWNER_PASSWORD;
const LOG = process.env.NIMBUS_SERVER_LOG;
const SHOTS = process.env.NIMBUS_SCREENSHOTS || '';
const HOST = new URL(BASE).host;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'nimbus-browser-'));

// A real PNG (RGB) of the given size: a smooth gradient whose colours differ per seed.
function makePng(width, height, seed) {
  const table = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const p = row + 1 + x * 3;
      raw[p] = Math.round((x / width) * 200 + seed * 40) & 0xff;
      raw[p + 1] = Math.round((y / height) * 160 + 60);
      raw[p + 2] = Math.round(220 - seed * 50 - (x / width) * 60) & 0xff;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// The last one-time link of `kind` (invite, reset) the server wrote to its log.
function mailedLink(kind) {
  const text = fs.readFileSync(LOG, 'utf8');
  const found = [...text.matchAll(new RegExp(`(https?://[^\\s"]+/console/${kind}/[a-z0-9]+)`, 'g'))];
  assert.ok(found.length, `no ${kind} link in the server log`);
  return found[found.length - 1][1];
}

const foreign = [];
const scriptErrors = [];
const weights = {};

// A browser context that records what its pages request and the errors they log.
async function newContext(browser, label) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.protocol !== 'blob:' && u.host !== HOST) foreign.push(`${label}: ${r.url()}`);
  });
  context.on('page', (p) => watch(p, label));
  return context;
}

// Answers the scenario provokes on purpose: a wrong password, a bad search, forbidden pages.
const EXPECTED_FAILURES = [/\/console\/login$/, /\/library\?q=tags%3D&/, /\/keys$/, /\/assets\/[0-9a-f]+\/metadata$/];

function watch(page, label) {
  page.on('console', (m) => {
    // Failed loads are judged by their responses below, not by the console's words for them.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      scriptErrors.push(`${label} ${page.url()}: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !EXPECTED_FAILURES.some((re) => re.test(r.url()))) {
      scriptErrors.push(`${label}: ${r.status()} for ${r.url()}`);
    }
  });
  page.on('pageerror', (e) => scriptErrors.push(`${label} ${page.url()}: ${e.message}`));
}

// Loads a page and records its weight: bytes of every response and the number of requests.
async function weigh(page, name, url) {
  let bytes = 0;
  let requests = 0;
  const onResponse = async (r) => {
    requests += 1;
    try { bytes += (await r.body()).length; } catch (_) { /* redirects have no body */ }
  };
  page.on('response', onResponse);
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  page.off('response', onResponse);
  weights[name] = { bytes, requests, ms: Date.now() - t0 };
}

async function shot(page, name) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

const steps = [];
const step = (name, fn) => steps.push([name, fn]);
const s = {};

step('sign_in_as_the_owner', async () => {
  const page = s.owner;
  await page.goto(`${BASE}/console`);
  assert.ok(page.url().includes('/console/login'), `signed out, /console leads to sign-in: ${page.url()}`);
  await shot(page, 'sign-in');
  await page.getByLabel('E-mail address').fill(OWNER);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Incorrect e-mail address or password').waitFor();
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`**/console/${CLOUD}/library`);
});

step('upload_two_images_with_progress', async () => {
  const page = s.owner;
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.waitForURL(`**/console/${CLOUD}/upload`);
  const a = path.join(TMP, 'harbour.png');
  const b = path.join(TMP, 'lighthouse.png');
  fs.writeFileSync(a, makePng(64, 48, 1));
  fs.writeFileSync(b, makePng(48, 64, 2));
  await page.getByLabel('Files').setInputFiles([a, b]);
  await page.getByLabel('Folder').fill('browser');
  await page.getByLabel('Tags (separated by commas)').fill('bt, coast');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  // One request per file, each with its own progress bar, then a link to the asset.
  await page.locator('#progress li a').nth(1).waitFor();
  const bars = await page.locator('#progress progress').evaluateAll((els) => els.map((e) => e.value));
  assert.deepStrictEqual(bars, [100, 100]);
  assert.ok(page.url().endsWith('/upload'), 'no page load');
  await shot(page, 'upload');
});

step('find_them_in_the_library_and_by_search', async () => {
  const page = s.owner;
  await weigh(page, 'library', `${BASE}/console/${CLOUD}/library`);
  await page.getByRole('link', { name: 'browser', exact: true }).click();
  await page.getByText('2 assets').waitFor();
  const names = await page.locator('.grid .name').allTextContents();
  assert.ok(names.some((n) => n.startsWith('harbour')) && names.some((n) => n.startsWith('lighthouse')), names.join());
  // Thumbnails are Nimbus's own transformation URLs, and they load.
  const loaded = await page.locator('.grid img').evaluateAll((imgs) => imgs.map((i) => i.complete && i.naturalWidth));
  assert.deepStrictEqual(loaded, [240, 240]);
  await shot(page, 'library');
  await page.getByLabel('Search').fill('tags=coast AND width>50');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('1 asset', { exact: true }).waitFor();
  assert.ok((await page.locator('.grid .name').allTextContents())[0].startsWith('harbour'));
  await page.getByLabel('Search').fill('tags=');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('#q-error').waitFor();
  assert.match(await page.locator('#q-error').innerText(), /Position 5/);
});

step('metadata_form_follows_the_rules_live', async () => {
  const page = s.owner;
  await page.goto(`${BASE}/console/${CLOUD}/library?q=tags%3Dcoast`);
  await page.locator('.grid a').first().click();
  await page.waitForURL(`**/console/${CLOUD}/assets/**`);
  s.assetUrl = page.url();
  await weigh(page, 'asset', s.assetUrl);
  await page.evaluate(() => { window.nimbusMarker = 'same page'; });
  const team = page.locator('[data-field="team"]');
  assert.ok(await team.isHidden(), 'Team is hidden until Category says employee');
  await page.getByLabel('Category').selectOption('employee');
  await team.waitFor({ state: 'visible' });
  await page.getByLabel('Team').selectOption('rnd');
  // The rule narrows the names, and makes the note mandatory.
  await page.locator('[data-field="names"] label.check[data-value="paul"]').waitFor({ state: 'hidden' });
  await page.locator('[data-field="note"] .req').waitFor({ state: 'visible' });
  assert.strictEqual(await page.evaluate(() => window.nimbusMarker), 'same page', 'no page reload');
  await page.getByLabel('JANE').check();
  await shot(page, 'metadata');
  // Saved without the note the rule asks for: refused at the field, naming the rule.
  await page.getByRole('button', { name: 'Save metadata' }).click();
  await page.locator('[data-field="note"] .field-error').waitFor();
  assert.match(await page.locator('[data-field="note"] .field-error').innerText(), /rnd needs a note/);
  await page.getByLabel('Note').fill('Harbour at dawn');
  await page.getByRole('button', { name: 'Save metadata' }).click();
  await page.waitForURL(s.assetUrl);
  assert.strictEqual(await page.getByLabel('Note').inputValue(), 'Harbour at dawn');
  assert.strictEqual(await page.getByLabel('Team').inputValue(), 'rnd');
});

// The core path with the keyboard alone: every control is reached with Tab, shows where the
// focus is, and answers Enter; the first stop skips the top bar.
step('the_console_works_with_the_keyboard_alone', async () => {
  const context = await newContext(s.browser, 'keyboard');
  const page = await context.newPage();
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return {
      tag: e.tagName,
      label: e.labels && e.labels[0] ? e.labels[0].innerText.trim() : '',
      text: (e.innerText || '').trim(),
      href: e.getAttribute('href') || '',
      outline: getComputedStyle(e).outlineStyle,
    };
  });
  const tabTo = async (wanted, what, max = 80) => {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press('Tab');
      const f = await focused();
      if (wanted(f)) {
        assert.notStrictEqual(f.outline, 'none', `the focus on ${what} is visible`);
        return f;
      }
    }
    throw new Error(`Tab never reached ${what}`);
  };
  await page.goto(`${BASE}/console/login`);
  // The e-mail field has the focus from the start (autofocus).
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'email');
  await page.keyboard.type(OWNER);
  await tabTo((f) => f.label === 'Password', 'the password field', 1);
  await page.keyboard.type(PASSWORD);
  await Promise.all([page.waitForURL(`**/console/${CLOUD}/library`), page.keyboard.press('Enter')]);
  await tabTo((f) => f.text === 'Skip to main content', 'the skip link', 1);
  await page.keyboard.press('Enter');
  await tabTo((f) => f.label === 'Search', 'the search box', 15);
  await page.keyboard.type('tags=coast');
  await Promise.all([page.waitForURL(/q=tags%3Dcoast/), page.keyboard.press('Enter')]);
  await tabTo((f) => f.tag === 'A' && /\/assets\/[0-9a-f]+$/.test(f.href), 'an asset of the results');
  await Promise.all([page.waitForURL(`**/console/${CLOUD}/assets/**`), page.keyboard.press('Enter')]);
  const asset = page.url();
  await tabTo((f) => f.label === 'Tags (separated by commas)', 'the tags field');
  await page.keyboard.press('End');
  await page.keyboard.type(', keyboard');
  await tabTo((f) => f.tag === 'BUTTON' && f.text === 'Save', 'the Save button');
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === asset),
    page.keyboard.press('Enter'),
  ]);
  await page.waitForURL(asset);
  await page.waitForLoadState('load');
  assert.match(await page.getByLabel('Tags (separated by commas)').inputValue(), /keyboard/);
  await context.close();
});

step('invite_an_editor_who_edits_but_sees_no_keys', async () => {
  const page = s.owner;
  await page.goto(`${BASE}/console/${CLOUD}/people`);
  await page.getByLabel('E-mail address').fill('editor@example.org');
  await page.getByLabel('Role', { exact: true }).selectOption('editor');
  await page.getByRole('button', { name: 'Invite' }).click();
  await page.getByText('Invitation sent').waitFor();
  await shot(page, 'people');
  const ed = await s.editorContext.newPage();
  await ed.goto(mailedLink('invite'));
  await ed.getByLabel('New password (at least 8 characters)').fill('an editor password');
  await ed.getByRole('button', { name: 'Save' }).click();
  await ed.waitForURL(`**/console/${CLOUD}/library`);
  assert.strictEqual(await ed.getByRole('link', { name: 'API keys' }).count(), 0, 'no API keys tab');
  const keys = await ed.goto(`${BASE}/console/${CLOUD}/keys`);
  assert.strictEqual(keys.status(), 403);
  await ed.goto(s.assetUrl);
  await ed.getByLabel('Tags (separated by commas)').fill('bt, coast, edited');
  await ed.getByRole('button', { name: 'Save', exact: true }).click();
  await ed.waitForURL(s.assetUrl);
  assert.match(await ed.getByLabel('Tags (separated by commas)').inputValue(), /edited/);
});

step('a_viewer_gets_no_upload_and_403_when_posting', async () => {
  const page = s.owner;
  await page.goto(`${BASE}/console/${CLOUD}/people`);
  await page.getByLabel('E-mail address').fill('viewer@example.org');
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await page.getByRole('button', { name: 'Invite' }).click();
  await page.getByText('Invitation sent').waitFor();
  const v = await s.viewerContext.newPage();
  await v.goto(mailedLink('invite'));
  await v.getByLabel('New password (at least 8 characters)').fill('a viewer password');
  await v.getByRole('button', { name: 'Save' }).click();
  await v.waitForURL(`**/console/${CLOUD}/library`);
  assert.strictEqual(await v.getByRole('link', { name: 'Upload', exact: true }).count(), 0, 'no upload control');
  const csrf = await v.locator('input[name=csrf]').first().inputValue();
  const r = await v.request.post(`${BASE}/console/${CLOUD}/upload`, {
    multipart: { csrf, file: { name: 'x.png', mimeType: 'image/png', buffer: makePng(8, 8, 3) } },
    maxRedirects: 0,
  });
  assert.strictEqual(r.status(), 403);
  await v.goto(s.assetUrl);
  assert.strictEqual(await v.getByRole('button', { name: 'Save metadata' }).count(), 0, 'read-only metadata');
});

step('the_viewer_reads_the_privacy_pages_takes_a_copy_and_deletes_the_account', async () => {
  const v = s.viewerContext.pages()[0];
  // Every console page links the privacy page, written from what the code keeps.
  await v.goto(`${BASE}/console/${CLOUD}/library`);
  await v.getByRole('link', { name: 'Privacy', exact: true }).click();
  await v.getByRole('heading', { name: 'Privacy', exact: true }).waitFor();
  assert.ok(await v.getByText('The address a console user signs in with').count(), 'registry entries are listed');
  await v.goto(`${BASE}/cookies`);
  assert.ok(await v.getByText('nimbus_session', { exact: true }).count(), 'the session cookie is listed');
  // What is held, then a copy of it.
  await v.goto(`${BASE}/console/account`);
  await v.getByRole('link', { name: 'What Nimbus holds about you' }).click();
  await v.getByRole('heading', { name: 'Your data' }).waitFor();
  await v.getByRole('link', { name: 'Download a copy' }).click();
  await v.getByRole('button', { name: 'Ask for an archive' }).click();
  const download = v.getByRole('link', { name: /^Download \(/ });
  for (let i = 0; i < 30 && !(await download.count()); i++) {
    await new Promise((r) => setTimeout(r, 500));
    await v.reload();
  }
  const [file] = await Promise.all([v.waitForEvent('download'), download.click()]);
  const zip = fs.readFileSync(await file.path());
  assert.strictEqual(zip.subarray(0, 2).toString('latin1'), 'PK', 'a ZIP archive');
  assert.ok(zip.includes(Buffer.from('account.json')), 'the archive names its files');
  // Deleting the account: the password asked, then blocked with a cancel link mailed.
  await v.goto(`${BASE}/console/account`);
  await v.locator('#delete-password').fill('a viewer password');
  await v.getByRole('button', { name: 'Delete my account' }).click();
  await v.getByRole('heading', { name: 'Account deletion asked' }).waitFor();
  mailedLink('account/cancel-deletion');
  await v.goto(`${BASE}/console/login`);
  await v.getByLabel('E-mail address').fill('viewer@example.org');
  await v.getByLabel('Password').fill('a viewer password');
  await v.getByRole('button', { name: 'Sign in' }).click();
  await v.getByText('This account is being deleted').waitFor();
});

step('sign_out', async () => {
  const page = s.owner;
  await page.goto(`${BASE}/console/${CLOUD}/library`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/console/login');
  await page.goto(`${BASE}/console/${CLOUD}/library`);
  assert.ok(page.url().includes('/console/login'), 'signed out');
});

step('no_request_to_another_host_and_no_script_error', async () => {
  for (const line of foreign.concat(scriptErrors)) console.log(`    ${line}`);
  assert.deepStrictEqual(foreign, [], 'requests to other hosts');
  assert.deepStrictEqual(scriptErrors, [], 'script errors');
});

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.NIMBUS_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  s.browser = browser;
  const ownerContext = await newContext(browser, 'owner');
  s.owner = await ownerContext.newPage();
  s.editorContext = await newContext(browser, 'editor');
  s.viewerContext = await newContext(browser, 'viewer');
  console.log(`Chromium ${browser.version()} against ${BASE} (cloud ${CLOUD})`);
  const results = [];
  for (const [name, fn] of steps) {
    const t0 = Date.now();
    let msg = '';
    try {
      await fn();
    } catch (err) {
      msg = String((err && err.stack) || err).split('\n').slice(0, 4).join(' | ');
    }
    console.log(`${msg ? 'FAIL' : 'PASS'} ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)${msg ? `\n    ${msg}` : ''}`);
    results.push([name, !msg]);
  }
  for (const [name, w] of Object.entries(weights)) {
    console.log(`weight ${name}: ${w.bytes} bytes in ${w.requests} requests, loaded in ${w.ms} ms`);
  }
  await browser.close();
  fs.rmSync(TMP, { recursive: true, force: true });
  const failed = results.filter((r) => !r[1]).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
