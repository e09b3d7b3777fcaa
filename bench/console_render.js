// The library page of a large environment in Debian's Chromium: signs in, then loads the
// library 10 times; prints the first contentful paint (p50 / max), bytes and requests per load.
'use strict';
const { chromium } = require('playwright-core');

const [base, cloud, email, password] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.NIMBUS_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(`${base}/console/login`);
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`**/console/${cloud}/library`);
  const fcp = [];
  const ttfb = [];
  let bytes = 0;
  let requests = 0;
  for (let i = 0; i < 10; i++) {
    // A fresh page each time, with the HTTP cache off: every thumbnail is fetched again.
    const p = await context.newPage();
    let b = 0;
    let r = 0;
    const cdp = await context.newCDPSession(p);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    cdp.on('Network.loadingFinished', (e) => { b += e.encodedDataLength; r += 1; });
    await p.goto(`${base}/console/${cloud}/library`, { waitUntil: 'load' });
    await p.waitForLoadState('networkidle');
    const t = await p.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      return { fcp: paint ? paint.startTime : -1, ttfb: nav.responseStart - nav.requestStart };
    });
    fcp.push(t.fcp);
    ttfb.push(t.ttfb);
    bytes = b;
    requests = r;
    await p.close();
  }
  const sorted = (a) => [...a].sort((x, y) => x - y);
  const med = (a) => sorted(a)[Math.floor(a.length / 2)];
  const max = (a) => sorted(a)[a.length - 1];
  const assets = await page.locator('p.muted').first().innerText();
  console.log(`library of ${assets}: first contentful paint p50 ${med(fcp).toFixed(0)} ms, max ${max(fcp).toFixed(0)} ms;` +
    ` time to first byte p50 ${med(ttfb).toFixed(0)} ms, max ${max(ttfb).toFixed(0)} ms;` +
    ` ${bytes} bytes in ${requests} requests per load (HTML, stylesheet and the thumbnails in view, which load lazily; HTTP cache off)`);
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
