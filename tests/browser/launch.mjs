// Launch options for Debian's Chromium under playwright-core, shared by the
// browser tests: the flags keep a headless Chromium from reaching for the
// network on its own (this machine's network is closed, and tests must not
// depend on it) and let it run as root in a container.
export function launchOptions() {
  return {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  };
}

// A page in a new context whose network is closed to everything but
// `origin`: other requests are aborted and recorded in `result.external`,
// console errors and page errors in `result.consoleErrors`.
export async function closedPage(browser, origin, result) {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + '/') || url.startsWith('data:')) {
      return route.continue();
    }
    result.external.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') result.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => result.consoleErrors.push(String(error)));
  return page;
}
