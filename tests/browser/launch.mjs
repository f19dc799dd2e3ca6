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
