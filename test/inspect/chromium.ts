import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** Debian's chromium package; the page tests need it (CI installs it: apt-get install -y chromium). */
export const CHROMIUM = '/usr/bin/chromium';

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

/** One tab of a headless Chromium driven over the DevTools protocol on a pipe (no extra dependency). */
export interface Page {
  /** Loads a URL and waits for its load event. */
  goto(url: string): Promise<void>;
  /** Evaluates an expression in the page and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Types text into the focused element, as a keyboard would. */
  type(text: string): Promise<void>;
  /** Clicks at a point of the viewport with the mouse. */
  click(x: number, y: number): Promise<void>;
  screenshot(): Promise<Buffer>;
  /** Uncaught exceptions and console errors seen so far. */
  readonly errors: string[];
  /** URLs the page requested, its own included. */
  readonly requests: string[];
}

export interface Browser {
  readonly page: Page;
  close(): Promise<void>;
}

export async function launchChromium(viewport = { width: 1280, height: 1400 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium).`,
    );
  }
  const profile = await mkdtemp(join(tmpdir(), 'dc-chromium-'));
  const child = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  try {
    const connection = connect(child);
    const { targetId } = (await connection.send('Target.createTarget', { url: 'about:blank' })) as {
      targetId: string;
    };
    const { sessionId } = (await connection.send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    const send = (method: string, params: Record<string, unknown> = {}) =>
      connection.send(method, params, sessionId);
    const errors: string[] = [];
    const requests: string[] = [];
    connection.listeners.add((message) => {
      if (message.sessionId !== sessionId) return;
      if (message.method === 'Runtime.exceptionThrown') errors.push(JSON.stringify(message.params));
      if (message.method === 'Runtime.consoleAPICalled' && message.params?.type === 'error') {
        errors.push(JSON.stringify(message.params));
      }
      if (message.method === 'Network.requestWillBeSent') {
        requests.push(String((message.params?.request as { url?: string } | undefined)?.url));
      }
    });
    await send('Page.enable');
    await send('Runtime.enable');
    await send('Network.enable');
    await send('Emulation.setDeviceMetricsOverride', { ...viewport, deviceScaleFactor: 1, mobile: false });
    const page: Page = {
      errors,
      requests,
      async goto(url) {
        const loaded = connection.next(
          (m) => m.sessionId === sessionId && m.method === 'Page.loadEventFired',
        );
        await send('Page.navigate', { url });
        await loaded;
      },
      async evaluate<T>(expression: string) {
        const reply = (await send('Runtime.evaluate', {
          expression,
          returnByValue: true,
          awaitPromise: true,
        })) as {
          result: { value: T };
          exceptionDetails?: unknown;
        };
        if (reply.exceptionDetails) throw new Error(`page threw: ${JSON.stringify(reply.exceptionDetails)}`);
        return reply.result.value;
      },
      async type(text) {
        await send('Input.insertText', { text });
      },
      async click(x, y) {
        for (const type of ['mousePressed', 'mouseReleased']) {
          await send('Input.dispatchMouseEvent', { type, x, y, button: 'left', clickCount: 1 });
        }
      },
      async screenshot() {
        const { data } = (await send('Page.captureScreenshot', { format: 'png' })) as { data: string };
        return Buffer.from(data, 'base64');
      },
    };
    return {
      page,
      async close() {
        try {
          await connection.send('Browser.close').catch(() => {});
          await exited(child, 10_000);
        } finally {
          await rm(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

/** The DevTools protocol over fds 3 (to Chromium) and 4 (from it): JSON messages ended by NUL. */
function connect(child: ChildProcess) {
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const listeners = new Set<(message: Message) => void>();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let buffer = '';
  output.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (let end = buffer.indexOf('\0'); end >= 0; end = buffer.indexOf('\0')) {
      const message = JSON.parse(buffer.slice(0, end)) as Message;
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined) {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(`${message.error.message}`));
        else waiter?.resolve(message.result);
      } else for (const listener of listeners) listener(message);
    }
  });
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`chromium exited (${code}): ${stderr}`));
    pending.clear();
  });
  let nextId = 1;
  return {
    listeners,
    send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<unknown> {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        input.write(`${JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) })}\0`);
      });
    },
    next(predicate: (message: Message) => boolean): Promise<Message> {
      return new Promise((resolve) => {
        const listener = (message: Message) => {
          if (!predicate(message)) return;
          listeners.delete(listener);
          resolve(message);
        };
        listeners.add(listener);
      });
    },
  };
}

function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
