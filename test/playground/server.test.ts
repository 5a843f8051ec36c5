import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIRM_HEADER, startPlayground, type PlaygroundServer } from '../../src/cli/commands/playground.js';

/**
 * `skipgraph playground FILE`'s server against what a disk and a network do to it: nothing may end
 * it, block it or lose the user's file. The page's side of the same cases is in playground.test.ts.
 */
const root = join(import.meta.dirname, '..', '..');
const YAML = readFileSync(join(root, 'architectures', 'mnist_resnet.yaml'), 'utf8');

let work: string;
let site: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sg-playground-server-'));
  // The server needs only a built site's index.html to start.
  site = join(work, 'site');
  mkdirSync(site);
  writeFileSync(join(site, 'index.html'), '<meta name="skipgraph-mode" content="static">');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function serve(file: string): Promise<PlaygroundServer & { put(text: string, confirmed?: boolean): Promise<Response>; get(): Promise<Record<string, unknown>> }> {
  const s = await startPlayground({ dir: site, file });
  const origin = s.url.replace(/\/$/, '');
  return {
    ...s,
    put: (text, confirmed = false) => fetch(`${s.url}api/file`, { method: 'PUT', body: text, headers: { origin, 'content-type': 'text/plain', ...(confirmed ? { [CONFIRM_HEADER]: 'overwrite' } : {}) } }),
    get: async () => (await (await fetch(`${s.url}api/file`)).json()) as Record<string, unknown>,
  };
}

/** Serves a fresh copy of the YAML as `name`, runs `body`, and closes the server whatever happens. */
async function withServer(name: string, body: (s: Awaited<ReturnType<typeof serve>>, file: string) => Promise<void>): Promise<void> {
  const file = join(work, name);
  writeFileSync(file, YAML);
  const s = await serve(file);
  try {
    await body(s, file);
  } finally {
    await s.close();
  }
}

/** Sends raw bytes and returns the raw answer (the request line as a browser never sends it). */
function raw(url: string, bytes: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((ok, fail) => {
    const sock = connect(Number(port), '127.0.0.1', () => sock.end(bytes));
    let got = '';
    sock.on('data', (d) => (got += d));
    sock.on('end', () => ok(got));
    sock.on('error', fail);
  });
}

describe('skipgraph playground FILE: the server', () => {
  it('answers a malformed request line with 400 and keeps serving', async () => {
    await withServer('a.yaml', async (s) => {
      const host = new URL(s.url).host;
      expect(await raw(s.url, `GET http://[::1 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400 /);
      expect(await raw(s.url, 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
      expect((await s.get()).text).toBe(YAML);
    });
  });

  it('writes through a symlink (the link stays a link) and keeps a 0600 file 0600', async () => {
    const real = join(work, 'real.yaml');
    const link = join(work, 'link.yaml');
    writeFileSync(real, YAML);
    chmodSync(real, 0o600);
    symlinkSync(real, link);
    const s = await serve(link);
    try {
      const edited = YAML.replace('blocks: 1', 'blocks: 2');
      expect((await s.put(edited)).status).toBe(200);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe(real);
      expect(readFileSync(real, 'utf8')).toBe(edited);
      expect(statSync(real).mode & 0o777).toBe(0o600);
      // A link to nothing is refused, and nothing appears at either name.
      unlinkSync(real);
      const r = await s.put(YAML);
      expect(r.status).toBe(422);
      expect(await r.text()).toMatch(/symbolic link to nothing/);
      expect(() => lstatSync(real)).toThrow();
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('an empty or unparsable text over a non-empty file: refused (409, asks) unless confirmed', async () => {
    await withServer('b.yaml', async (s, file) => {
      for (const text of ['', '  \n', 'stages: [\n  { a: 1\n']) {
        const r = await s.put(text);
        expect(r.status).toBe(409);
        expect(r.headers.get('x-skipgraph-ask')).toBe('confirm');
        expect(await r.text()).toMatch(text.trim() ? /not valid YAML.*confirm/ : /empty.*confirm/);
        expect(readFileSync(file, 'utf8')).toBe(YAML);
      }
      expect((await s.put('', true)).status).toBe(200);
      expect(readFileSync(file, 'utf8')).toBe('');
      // Over an empty file there is nothing to lose: no question.
      expect((await s.put('stages: [')).status).toBe(200);
    });
  });

  it('a deleted file: reported as missing, the server lives, Save creates it again', async () => {
    await withServer('c.yaml', async (s, file) => {
      unlinkSync(file);
      const got = await s.get();
      expect(got.missing).toBe(true);
      expect(got.reason).toMatch(/no longer on disk; Save creates it again/);
      expect((await s.put(YAML)).status).toBe(200);
      expect(readFileSync(file, 'utf8')).toBe(YAML);
    });
  });

  it('a FIFO swapped in for the file: read and save refused at once, never blocking', async () => {
    await withServer('d.yaml', async (s, file) => {
      unlinkSync(file);
      execFileSync('mkfifo', [file]);
      const got = await s.get();
      expect(got.missing).toBe(true);
      expect(got.reason).toMatch(/is a FIFO, not a regular file/);
      const r = await s.put(YAML);
      expect(r.status).toBe(422);
      expect(await r.text()).toMatch(/is now a FIFO, not a regular file; nothing was written/);
      expect(lstatSync(file).isFIFO()).toBe(true);
    });
  });
});

/** The command as a child process (as cli.test.ts runs it): signals and a closed stdout. */
describe('skipgraph playground FILE: the process', () => {
  const script = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(['node', 'skipgraph', ...process.argv.slice(1)]);";
  const command = (file: string, port: number) =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, 'playground', file, '--port', String(port)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  /** A port that was free a moment ago (the command takes --port). */
  const free = () =>
    new Promise<number>((ok) => {
      const t = createServer().listen(0, '127.0.0.1', () => {
        const port = (t.address() as AddressInfo).port;
        t.close(() => ok(port));
      });
    });

  it('a FIFO swapped in, then SIGTERM: the request is answered and the process exits 0', async () => {
    const file = join(work, 'e.yaml');
    writeFileSync(file, YAML);
    const port = await free();
    const child = command(file, port);
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((ok) => child.on('exit', ok));
    await new Promise<void>((ok) => child.stdout.on('data', (d) => String(d).includes('skipgraph playground:') && ok()));
    unlinkSync(file);
    execFileSync('mkfifo', [file]);
    const got = (await (await fetch(`http://127.0.0.1:${port}/api/file`)).json()) as { reason: string };
    expect(got.reason).toMatch(/FIFO/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toBe('');
  });

  it('a closed stdout (`| head -1`): EPIPE does not end it; it serves, then SIGTERM ends it with 0', async () => {
    const file = join(work, 'f.yaml');
    writeFileSync(file, YAML);
    const port = await free();
    const child = command(file, port);
    // The reader goes away before the command prints anything: its first line meets EPIPE.
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    let gone = false;
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ((gone = true), ok(code))));
    let text: string | undefined;
    for (let i = 0; i < 600 && text === undefined && !gone; i++) {
      try {
        text = ((await (await fetch(`http://127.0.0.1:${port}/api/file`)).json()) as { text: string }).text;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(text).toBe(YAML);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toBe('');
  });
});
