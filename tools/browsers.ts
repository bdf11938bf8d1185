// The three browser engines behind one small interface, for the runtime suite and the browser
// demo test: Chromium (Debian's, through playwright-core), Firefox ESR (Debian's, through its
// built-in Marionette) and WebKitGTK (Debian's MiniBrowser through WebKitWebDriver, on an Xvfb
// display: it has no headless mode). Every launch step has a timeout, and a browser that is
// missing or does not start fails with one line naming the Debian package to install.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from './browser.js';
import { WebDriverSession, withTimeout } from './webdriver.js';

export type Engine = 'chromium' | 'firefox' | 'webkit';

/** Where each engine's browser comes from; `npm test` installs the packages (scripts/ensure-test-deps.mjs). */
export const ENGINES: Record<Engine, { packages: string[]; binary: string; env: string }> = {
  chromium: { packages: ['chromium'], binary: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', env: 'CHROMIUM_PATH' },
  firefox: { packages: ['firefox-esr'], binary: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr', env: 'FIREFOX_PATH' },
  webkit: { packages: ['webkit2gtk-driver', 'xvfb'], binary: process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver', env: 'WEBKIT_DRIVER_PATH' },
};

/** How long a browser may take, by default, to start and open its first session. */
const LAUNCH_MS = 60_000;

/** Overrides for launchBrowser, mainly to test how a launch fails. */
export interface LaunchOptions {
  /** The executable for Firefox or WebKit (WebKitWebDriver); default ENGINES[engine].binary. (Chromium's is tools/browser.ts's, $CHROMIUM_PATH.) */
  binary?: string;
  /** Limit for each launch step (Firefox and WebKit); default 60 s. */
  timeoutMs?: number;
}

/** One open page. Functions passed to `evaluate` and `waitFor` run in the page, so they may use only their argument. */
export interface Tab {
  /** Runs `fn(arg)` in the page and returns its (awaited, JSON-serialisable) result. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Polls `fn(arg)` until it is truthy; rejects after `timeoutMs` with `what`. */
  waitFor<A>(fn: (arg: A) => unknown, arg: A, timeoutMs: number, what?: string): Promise<void>;
  /** Clicks an element as a user would. */
  click(selector: string): Promise<void>;
  /** Types `text` into an input, replacing what it held. */
  fill(selector: string, text: string): Promise<void>;
  /** Saves a PNG of the page (the whole page in Chromium and Firefox, the viewport in WebKit). */
  screenshot(path: string): Promise<void>;
  /** Uncaught errors, unhandled rejections and console errors seen so far. */
  problems(): Promise<string[]>;
  close(): Promise<void>;
}

export interface Browser {
  engine: Engine;
  /** e.g. 'firefox 153.8.0' */
  version: string;
  /** Opens `url` in a fresh tab (WebDriver engines: the session's one window; one tab at a time) sized width × height. */
  open(url: string, size?: { width: number; height: number }): Promise<Tab>;
  close(): Promise<void>;
}

/** Launches `engine`'s browser; throws one line naming the package when it is missing or does not start. */
export async function launchBrowser(engine: Engine, options: LaunchOptions = {}): Promise<Browser> {
  const { packages, env } = ENGINES[engine];
  const binary = options.binary ?? ENGINES[engine].binary;
  const ms = options.timeoutMs ?? LAUNCH_MS;
  if (!existsSync(binary)) throw new Error(`${engine}: ${binary} not found: install Debian's ${packages.join(' and ')} (apt-get install -y ${packages.join(' ')}) or set ${env}`);
  const cant = (err: Error) => new Error(`${engine}: the browser did not start (${err.message.split('\n')[0]}): check Debian's ${packages.join(' and ')} (apt-get install -y ${packages.join(' ')})`);
  try {
    // Each step of a launch has its own timeout (playwright-core's for Chromium).
    return await (engine === 'chromium' ? chromium() : engine === 'firefox' ? firefox(binary, ms) : webkit(binary, ms));
  } catch (err) {
    throw cant(err as Error);
  }
}

async function chromium(): Promise<Browser> {
  const browser = await launchChromium();
  return {
    engine: 'chromium',
    version: `chromium ${browser.context.browser()?.version() ?? ''}`.trim(),
    async open(url, size = { width: 1280, height: 900 }) {
      const page = await browser.context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url})`); });
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
      page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
      await page.setViewportSize(size);
      await page.goto(url);
      return playwrightTab(page, problems);
    },
    close: () => browser.close(),
  };
}

function playwrightTab(page: Page, problems: string[]): Tab {
  return {
    evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
    async waitFor(fn, arg, timeoutMs, what) {
      await page.waitForFunction(fn as never, arg, { timeout: timeoutMs, polling: 100 }).catch((err: Error) => {
        throw new Error(`${what ?? 'waitFor'}: ${err.message.split('\n')[0]}`);
      });
    },
    click: (selector) => page.click(selector),
    fill: (selector, text) => page.fill(selector, text),
    async screenshot(path) { await page.screenshot({ path, fullPage: true }); },
    problems: async () => [...problems],
    close: () => page.close(),
  };
}

/**
 * Makes `globalThis` inside a WebDriver script the page's own global. Firefox runs WebDriver
 * scripts in a sandbox whose global only looks through to the page (through an Xray wrapper):
 * what a script stores there, or wraps, the page never sees; `window.wrappedJSObject` is the
 * page's real window. WebKit has no such layer (`wrappedJSObject` is undefined there).
 */
const PAGE_GLOBAL = 'const globalThis = window.wrappedJSObject || window;';

/**
 * A WebDriver window as a Tab. WebDriver cannot run a script before the page's own, so the
 * error listeners go in as soon as the page has loaded: an error thrown while the page's
 * modules first run is missed here (the tests see its effect: what the page should do never happens).
 */
function webdriverTab(session: WebDriverSession): Tab {
  // `fn`'s source is pasted inside the script, so its `globalThis` is PAGE_GLOBAL's.
  const evaluate = async <R, A>(fn: (arg: A) => R | Promise<R>, arg?: A) =>
    (await session.execute(`${PAGE_GLOBAL} return (${fn.toString()})(arguments[0]);`, [arg ?? null])) as R;
  return {
    evaluate,
    async waitFor(fn, arg, timeoutMs, what) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        if (await evaluate(fn, arg)) return;
        if (Date.now() > end) throw new Error(`${what ?? 'waitFor'}: still false after ${timeoutMs} ms: ${fn.toString().slice(0, 200)}`);
        await new Promise((ok) => setTimeout(ok, 100));
      }
    },
    click: (selector) => session.click(selector),
    fill: (selector, text) => session.fill(selector, text),
    async screenshot(path) { writeFileSync(path, await session.screenshot()); },
    problems: () => evaluate(() => [...((globalThis as { __problems?: string[] }).__problems ?? [])]),
    async close() { await session.navigate('about:blank'); },
  };
}

async function openInSession(session: WebDriverSession, url: string, size = { width: 1280, height: 900 }): Promise<Tab> {
  await session.setWindowSize(size.width, size.height);
  await session.navigate(url);
  await session.execute(`${PAGE_GLOBAL}
    const problems = (globalThis.__problems = []);
    globalThis.addEventListener('error', (e) => problems.push('page error: ' + e.message));
    globalThis.addEventListener('unhandledrejection', (e) => problems.push('unhandled rejection: ' + (e.reason && e.reason.message || e.reason)));
    const error = globalThis.console.error.bind(globalThis.console);
    globalThis.console.error = (...args) => { problems.push('console error: ' + args.join(' ')); error(...args); };
  `);
  return webdriverTab(session);
}

/**
 * Starts `cmd`; `stop()` asks it to end (SIGTERM, so Xvfb removes its socket and Firefox its
 * locks) and kills it if it is still there 2 s later. If this process exits first, it is killed.
 */
function child(cmd: string, args: string[], options: Parameters<typeof spawn>[2]): { proc: ChildProcess; output: () => string; stop(): void } {
  const proc = spawn(cmd, args, options);
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output = (output + d).slice(-4000)));
  proc.stderr?.on('data', (d: Buffer) => (output = (output + d).slice(-4000)));
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const kill = () => { if (running()) proc.kill('SIGKILL'); };
  process.once('exit', kill);
  proc.once('exit', () => process.off('exit', kill));
  const stop = () => {
    if (!running()) return;
    proc.kill('SIGTERM');
    setTimeout(kill, 2000).unref();
  };
  return { proc, output: () => output, stop };
}

/** Rejects when `c` exits, with the end of what it printed (a race partner for each launch step). */
function exited(c: ReturnType<typeof child>, name: string): Promise<never> {
  const exit = new Promise<never>((_, fail) => {
    c.proc.once('exit', (code, signal) => fail(new Error(`${name} exited (${signal ?? `code ${code}`}): ${c.output().trim().split('\n').slice(-3).join(' | ')}`)));
    c.proc.once('error', (err) => fail(new Error(`${name}: ${err.message}`)));
  });
  exit.catch(() => {}); // also rejects at the normal stop, after any race is over
  return exit;
}

/** Polls `ready` every 100 ms while `c` runs, for at most `ms`. */
async function until<T>(c: ReturnType<typeof child>, what: string, ms: number, ready: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + ms;
  while (c.proc.exitCode === null && c.proc.signalCode === null && Date.now() < end) {
    const value = await ready();
    if (value !== undefined) return value;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`${what} within ${ms} ms`);
}

/** Headless Firefox with a fresh profile whose Marionette listens on a free port (written to the profile by Firefox). */
async function firefox(binary: string, ms: number): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'wasmformer-firefox-'));
  // marionette.port 0: any free port, so parallel test files never collide. The rest keeps an
  // offline machine's Firefox from reaching out (updates, telemetry, safe browsing lists).
  writeFileSync(join(profile, 'user.js'), [
    ['marionette.port', 0], ['app.update.disabledForTesting', true], ['browser.shell.checkDefaultBrowser', false],
    ['datareporting.policy.dataSubmissionEnabled', false], ['toolkit.telemetry.enabled', false],
    ['browser.safebrowsing.update.enabled', false], ['network.captive-portal-service.enabled', false],
    ['extensions.update.enabled', false], ['browser.startup.homepage_override.mstone', 'ignore'],
  ].map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n') + '\n');
  const ff = child(binary, ['--marionette', '--headless', '--no-remote', '--profile', profile, 'about:blank'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MOZ_HEADLESS: '1', MOZ_CRASHREPORTER_DISABLE: '1' },
  });
  const cleanup = () => { ff.stop(); rmSync(profile, { recursive: true, force: true }); };
  try {
    const portFile = join(profile, 'MarionetteActivePort');
    const port = await Promise.race([exited(ff, 'firefox'), until(ff, 'firefox opened no Marionette port', ms, () => {
      const text = existsSync(portFile) ? readFileSync(portFile, 'utf8').trim() : '';
      return text ? Number(text) : undefined;
    })]);
    const session = await WebDriverSession.overMarionette(port, ms);
    return webdriverBrowser('firefox', session, async () => { await session.quit(); cleanup(); });
  } catch (err) {
    cleanup();
    throw err;
  }
}

/** A free TCP port on 127.0.0.1 (for a server that must be told its port). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

/** WebKitGTK's MiniBrowser on a private Xvfb display, driven through WebKitWebDriver. */
async function webkit(driver: string, ms: number): Promise<Browser> {
  if (!existsSync('/usr/bin/Xvfb')) throw new Error('/usr/bin/Xvfb not found (WebKitGTK needs a display)');
  // -displayfd: Xvfb picks a free display number and writes it to fd 3 once it accepts clients.
  const xvfb = child('/usr/bin/Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let wd: ReturnType<typeof child> | undefined;
  const cleanup = () => { wd?.stop(); xvfb.stop(); };
  try {
    const display = await Promise.race([exited(xvfb, 'Xvfb'), withTimeout(new Promise<string>((ok) => {
      let text = '';
      (xvfb.proc.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => { text += d; if (text.includes('\n')) ok(`:${text.trim()}`); });
    }), ms, 'Xvfb opened no display')]);
    const port = await freePort();
    wd = child(driver, [`--port=${port}`, '--host=127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DISPLAY: display } });
    const endpoint = `http://127.0.0.1:${port}`;
    await Promise.race([exited(wd, 'WebKitWebDriver'), until(wd, 'WebKitWebDriver did not answer', ms, async () => {
      const up = await fetch(`${endpoint}/status`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
      return up || undefined;
    })]);
    const session = await WebDriverSession.overHttp(endpoint, { 'webkitgtk:browserOptions': { args: ['--automation'] } }, ms);
    return webdriverBrowser('webkit', session, async () => { await session.quit(); cleanup(); });
  } catch (err) {
    cleanup();
    throw err;
  }
}

function webdriverBrowser(engine: Engine, session: WebDriverSession, close: () => Promise<void>): Browser {
  const name = engine === 'webkit' ? 'webkitgtk' : String(session.capabilities.browserName);
  return {
    engine,
    version: `${name} ${String(session.capabilities.browserVersion)}`,
    open: (url, size) => openInSession(session, url, size),
    close,
  };
}
