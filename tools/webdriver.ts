// A small W3C WebDriver (classic) client for the browsers playwright-core cannot drive here:
// WebKitGTK through WebKitWebDriver (the WebDriver HTTP protocol) and Debian's Firefox ESR
// through Marionette, the WebDriver implementation built into Firefox (the same commands as
// length-prefixed JSON over a TCP socket; Debian ships no geckodriver to translate HTTP to it,
// and playwright-core 1.65's Firefox support needs a newer Firefox than ESR 140).
// Every command has a timeout, so a browser that stops answering fails the test, never hangs it.
import { connect, type Socket } from 'node:net';

/** The W3C key under which a command returns an element reference. */
const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';

/** Each command used here, as the HTTP protocol (method, path under the session) and Marionette name it. */
const COMMANDS = {
  navigate: { method: 'POST', path: 'url', marionette: 'WebDriver:Navigate' },
  execute: { method: 'POST', path: 'execute/sync', marionette: 'WebDriver:ExecuteScript' },
  findElement: { method: 'POST', path: 'element', marionette: 'WebDriver:FindElement' },
  click: { method: 'POST', path: 'element/{id}/click', marionette: 'WebDriver:ElementClick' },
  clear: { method: 'POST', path: 'element/{id}/clear', marionette: 'WebDriver:ElementClear' },
  sendKeys: { method: 'POST', path: 'element/{id}/value', marionette: 'WebDriver:ElementSendKeys' },
  screenshot: { method: 'GET', path: 'screenshot', marionette: 'WebDriver:TakeScreenshot' },
  setWindowRect: { method: 'POST', path: 'window/rect', marionette: 'WebDriver:SetWindowRect' },
  deleteSession: { method: 'DELETE', path: '', marionette: 'WebDriver:DeleteSession' },
} as const;

type Command = keyof typeof COMMANDS;

/** Carries commands to one browser; `send` resolves to the command's `value`. */
interface Transport {
  newSession(capabilities: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>>;
  send(command: Command, params: Record<string, unknown>, timeoutMs: number, elementId?: string): Promise<unknown>;
  close(): void;
}

/** A WebDriver error answer, with the command that got it. */
export class WebDriverError extends Error {}

const describeError = (command: string, e: { error?: string; message?: string }) =>
  new WebDriverError(`WebDriver ${command}: ${e.error ?? 'error'}: ${e.message ?? JSON.stringify(e)}`);

/** The WebDriver HTTP protocol (WebKitWebDriver, geckodriver, chromedriver all speak it). */
function httpTransport(endpoint: string): Transport {
  let session = '';
  const call = async (method: string, path: string, body: unknown, timeoutMs: number, what: string) => {
    const res = await fetch(`${endpoint}${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((err: Error) => { throw new WebDriverError(`WebDriver ${what}: no answer from ${endpoint} within ${timeoutMs} ms (${err.message})`); });
    const json = (await res.json()) as { value: unknown };
    if (!res.ok) throw describeError(what, json.value as { error?: string; message?: string });
    return json.value;
  };
  return {
    async newSession(capabilities, timeoutMs) {
      const value = (await call('POST', '/session', { capabilities }, timeoutMs, 'new session')) as { sessionId: string; capabilities: Record<string, unknown> };
      session = value.sessionId;
      return value.capabilities;
    },
    send(command, params, timeoutMs, elementId) {
      const { method, path } = COMMANDS[command];
      const url = `/session/${session}${path ? `/${path.replace('{id}', elementId ?? '')}` : ''}`;
      return call(method, url, method === 'GET' || method === 'DELETE' ? undefined : params, timeoutMs, command);
    },
    close() {},
  };
}

/**
 * Marionette: messages are `<byte length>:<JSON>`; a command is `[0, id, name, params]`, its
 * answer `[1, id, error | null, result]`; the server first sends a greeting object.
 */
async function marionetteTransport(port: number, timeoutMs: number): Promise<Transport> {
  const socket: Socket = connect(port, '127.0.0.1');
  const pending = new Map<number, (msg: [number, number, { error?: string; message?: string } | null, { value?: unknown } | null]) => void>();
  let greeted: (hello: unknown) => void = () => {};
  const greeting = new Promise((ok) => (greeted = ok));
  let buffer = Buffer.alloc(0);
  let broken: Error | null = null;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const colon = buffer.indexOf(0x3a);
      if (colon < 0) break;
      const length = Number(buffer.subarray(0, colon).toString());
      if (buffer.length < colon + 1 + length) break;
      const msg = JSON.parse(buffer.subarray(colon + 1, colon + 1 + length).toString());
      buffer = buffer.subarray(colon + 1 + length);
      if (Array.isArray(msg)) pending.get(msg[1])?.(msg as never);
      else greeted(msg);
    }
  });
  socket.on('error', (err) => (broken = err));
  socket.on('close', () => {
    broken ??= new Error('Marionette closed the connection');
    for (const answer of pending.values()) answer([1, 0, { error: 'disconnected', message: broken.message }, null]);
  });
  await withTimeout(greeting, timeoutMs, `Marionette on port ${port} did not greet`);
  let nextId = 1;
  const send = (name: string, params: Record<string, unknown>, ms: number) => {
    if (broken) return Promise.reject(describeError(name, { error: 'disconnected', message: broken.message }));
    const id = nextId++;
    const text = JSON.stringify([0, id, name, params]);
    const answer = new Promise<unknown>((ok, fail) => {
      pending.set(id, ([, , error, result]) => {
        pending.delete(id);
        if (error) fail(describeError(name, error));
        else ok(result);
      });
    });
    socket.write(`${Buffer.byteLength(text)}:${text}`);
    return withTimeout(answer, ms, `WebDriver ${name}: no answer from Firefox`).finally(() => pending.delete(id));
  };
  return {
    async newSession(capabilities, ms) {
      const result = (await send('WebDriver:NewSession', { capabilities }, ms)) as { capabilities: Record<string, unknown> };
      return result.capabilities;
    },
    async send(command, params, ms, elementId) {
      const result = (await send(COMMANDS[command].marionette, elementId === undefined ? params : { ...params, id: elementId }, ms)) as { value?: unknown } | null;
      return result?.value ?? null;
    },
    close: () => socket.destroy(),
  };
}

/** `promise`, or a rejection saying `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Milliseconds a single command may take (a page's script may run long; polling keeps each call short). */
const COMMAND_MS = 60_000;

/** One WebDriver session: one browser window. */
export class WebDriverSession {
  #transport: Transport;
  /** The capabilities the browser returned (`browserName`, `browserVersion`, …). */
  readonly capabilities: Record<string, unknown>;

  private constructor(transport: Transport, capabilities: Record<string, unknown>) {
    this.#transport = transport;
    this.capabilities = capabilities;
  }

  /** A session through a WebDriver HTTP endpoint, e.g. `http://127.0.0.1:4444`. */
  static async overHttp(endpoint: string, capabilities: Record<string, unknown>, timeoutMs: number): Promise<WebDriverSession> {
    const transport = httpTransport(endpoint);
    return new WebDriverSession(transport, await transport.newSession({ alwaysMatch: capabilities }, timeoutMs));
  }

  /** A session through Firefox's Marionette port. */
  static async overMarionette(port: number, timeoutMs: number): Promise<WebDriverSession> {
    const transport = await marionetteTransport(port, timeoutMs);
    try {
      return new WebDriverSession(transport, await transport.newSession({ alwaysMatch: {} }, timeoutMs));
    } catch (err) {
      transport.close();
      throw err;
    }
  }

  #send(command: Command, params: Record<string, unknown> = {}, elementId?: string, timeoutMs = COMMAND_MS): Promise<unknown> {
    return this.#transport.send(command, params, timeoutMs, elementId);
  }

  /** Loads `url` and waits for its load event. */
  async navigate(url: string): Promise<void> {
    await this.#send('navigate', { url });
  }

  /** Runs `script` (a function body; `arguments[i]` are `args`) in the page; a returned promise is awaited. */
  execute(script: string, args: unknown[] = []): Promise<unknown> {
    return this.#send('execute', { script, args });
  }

  async #element(selector: string): Promise<string> {
    const ref = (await this.#send('findElement', { using: 'css selector', value: selector })) as Record<string, string>;
    return ref[ELEMENT_KEY]!;
  }

  /** Clicks the element `selector` finds, as a user would (scrolled into view, at its centre). */
  async click(selector: string): Promise<void> {
    await this.#send('click', {}, await this.#element(selector));
  }

  /** Replaces the text of the input `selector` finds by typing `text`. */
  async fill(selector: string, text: string): Promise<void> {
    const id = await this.#element(selector);
    await this.#send('clear', {}, id);
    await this.#send('sendKeys', { text }, id);
  }

  /** A PNG of the window's viewport. */
  async screenshot(): Promise<Buffer> {
    return Buffer.from((await this.#send('screenshot')) as string, 'base64');
  }

  /** Resizes the window. */
  async setWindowSize(width: number, height: number): Promise<void> {
    await this.#send('setWindowRect', { width, height });
  }

  /** Ends the session (the browser closes its window); never throws. */
  async quit(): Promise<void> {
    await this.#send('deleteSession', {}, undefined, 10_000).catch(() => {});
    this.#transport.close();
  }
}
