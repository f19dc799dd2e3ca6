// Test-only: opens /graphiql in Debian's Chromium (playwright-core, no
// browser download) with the network closed to everything but the page's
// own origin, runs the pre-filled operation, then `me` with the token in
// the Headers tab, and prints one JSON line for tests/api/graphiql.rs:
// {"editors": [...], "anonymous": "...", "signedIn": "...", "external": [...],
//  "consoleErrors": [...]}.
//
// Environment: PAGE_URL (the page), TOKEN (a token for the `me` run),
// CHROMIUM (the browser, default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { closedPage, launchOptions } from './launch.mjs';

const pageUrl = process.env.PAGE_URL;
const token = process.env.TOKEN;
if (!pageUrl || !token) {
  console.error('PAGE_URL and TOKEN are required');
  process.exit(2);
}
const origin = new URL(pageUrl).origin;

const browser = await chromium.launch(launchOptions());
const result = { external: [], consoleErrors: [] };
try {
  const page = await closedPage(browser, origin, result);
  page.on('websocket', (socket) => {
    if (!socket.url().startsWith(origin.replace(/^http/, 'ws'))) result.external.push(socket.url());
  });

  await page.goto(pageUrl, { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30000 });
  result.editors = await page.evaluate(() =>
    [...document.querySelectorAll('.CodeMirror')].map((element) => element.CodeMirror.getValue()));

  const response = () => page.evaluate(() =>
    document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());
  const run = async (marker) => {
    await page.click('.graphiql-execute-button');
    await page.waitForFunction((marker) => {
      const value = document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue();
      return value.includes(marker);
    }, marker, { timeout: 30000 });
    return response();
  };

  // The pre-filled operation, as it stands (the Authorization template is
  // not sent while it holds its placeholder).
  result.anonymous = await run('"user"');

  // A token in the Headers tab, and `me`.
  await page.evaluate((token) => {
    const editors = [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')]
      .map((element) => element.CodeMirror);
    const headers = editors.find((editor) => editor.getValue().includes('"Authorization"'));
    headers.setValue(JSON.stringify({ Authorization: `Bearer ${token}` }));
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
      .setValue('query Me { me { authUserId plan } }');
  }, token);
  // GraphiQL takes editor changes into its state after a short debounce.
  await page.waitForTimeout(1000);
  result.signedIn = await run('"me"');
} catch (error) {
  result.error = String(error && error.stack || error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
