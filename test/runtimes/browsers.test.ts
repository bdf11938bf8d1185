// How a browser launch fails (browsers.ts): a missing executable, one that exits at once, and
// one that starts but never answers must each end in one line that names the Debian package to
// install, within the launch timeout — never a hang. (That the engines do start is proven by
// every other browser test.)
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../../tools/browsers.js';

const dir = mkdtempSync(join(tmpdir(), 'wasmformer-browsers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An executable that starts and then does nothing (a browser stuck before it opens its port). */
function silent(): string {
  const file = join(dir, 'silent');
  writeFileSync(file, '#!/bin/sh\nexec sleep 600\n');
  chmodSync(file, 0o755);
  return file;
}

const oneLine = (err: unknown) => {
  expect(err).toBeInstanceOf(Error);
  const message = (err as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  return message;
};

describe('a browser that cannot start', () => {
  it('missing: names the package and the variable to set', async () => {
    const err = await launchBrowser('firefox', { binary: '/nonexistent/firefox-esr' }).catch((e: unknown) => e);
    expect(oneLine(err)).toBe("firefox: /nonexistent/firefox-esr not found: install Debian's firefox-esr (apt-get install -y firefox-esr) or set FIREFOX_PATH");
    const wk = await launchBrowser('webkit', { binary: '/nonexistent/WebKitWebDriver' }).catch((e: unknown) => e);
    expect(oneLine(wk)).toBe("webkit: /nonexistent/WebKitWebDriver not found: install Debian's webkit2gtk-driver and xvfb (apt-get install -y webkit2gtk-driver xvfb) or set WEBKIT_DRIVER_PATH");
  });

  it('exits at once: says so, with the package', async () => {
    const err = await launchBrowser('firefox', { binary: '/bin/false' }).catch((e: unknown) => e);
    expect(oneLine(err)).toMatch(/^firefox: the browser did not start \(firefox exited \(code 1\).*\): check Debian's firefox-esr \(apt-get install -y firefox-esr\)$/);
    const wk = await launchBrowser('webkit', { binary: '/bin/false' }).catch((e: unknown) => e);
    expect(oneLine(wk)).toMatch(/^webkit: the browser did not start \(WebKitWebDriver exited \(code 1\).*\): check Debian's webkit2gtk-driver and xvfb/);
  });

  it('starts but never answers: gives up after the launch timeout, with the package', async () => {
    const t0 = Date.now();
    const err = await launchBrowser('firefox', { binary: silent(), timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(oneLine(err)).toBe("firefox: the browser did not start (firefox opened no Marionette port within 1500 ms): check Debian's firefox-esr (apt-get install -y firefox-esr)");
    const wk = await launchBrowser('webkit', { binary: silent(), timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(oneLine(wk)).toBe("webkit: the browser did not start (WebKitWebDriver did not answer within 1500 ms): check Debian's webkit2gtk-driver and xvfb (apt-get install -y webkit2gtk-driver xvfb)");
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 30_000);
});
