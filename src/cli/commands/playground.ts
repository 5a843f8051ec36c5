/**
 * `skipgraph playground [FILE]`: serves the playground page (dist/playground, built by
 * `npm run build:playground`) on 127.0.0.1 and prints its URL. With FILE the page edits that
 * file: it is read at load, watched (the page reloads it when it changes on disk and holds no
 * unsaved edits) and written back only when the user saves. Nothing is served to other hosts.
 */
import type { Command } from 'commander';
import { existsSync, readdirSync, readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateArchitecture, READ_LIMITS } from '../../parser/files.js';
import { EXIT, InputError, isClosedPipe, parsePositiveInt, UsageError, type Io } from '../io.js';
import { EditedFile } from './playground_file.js';

/** The header a save carries when the user confirmed writing an empty or unparsable text over the file. */
export const CONFIRM_HEADER = 'x-skipgraph-confirm';

/** The same policy as the page's meta tag, sent as a header so the workers get it too. */
export const PLAYGROUND_CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
};

/** The package root: the first folder above this module with a package.json (src/ and dist/ alike). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const playgroundDir = () => join(packageRoot(), 'dist', 'playground');

export interface PlaygroundOptions {
  /** The architecture file the page edits (absent: the page opens the shipped architectures). */
  file?: string;
  /** 0: any free port. */
  port?: number;
  /** The built site (default dist/playground). */
  dir?: string;
}

export interface PlaygroundServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Starts the server; resolves once it listens. */
export async function startPlayground(opts: PlaygroundOptions = {}): Promise<PlaygroundServer> {
  const dir = opts.dir ?? playgroundDir();
  if (!existsSync(join(dir, 'index.html'))) throw new InputError(`the playground is not built (${relative(process.cwd(), dir) || dir} has no index.html): in a clone of skipgraph, run npm run build:playground (the published package ships it built)`);
  const assets = new Set(readdirSync(dir));
  const file = opts.file === undefined ? undefined : resolve(opts.file);
  if (file !== undefined) {
    if (!existsSync(file)) throw new InputError(`"${opts.file}" does not exist: create it, or run skipgraph playground without a file to start from a shipped architecture`);
    if (!statSync(file).isFile()) throw new InputError(`"${opts.file}" is not a regular file`);
  }
  const display = file === undefined ? undefined : relative(process.cwd(), file).startsWith('..') ? file : relative(process.cwd(), file);
  const edited = file === undefined ? undefined : new EditedFile(file, display!, READ_LIMITS.maxFileBytes);
  const clients = new Set<ServerResponse>();
  let port = 0;

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-security-policy': PLAYGROUND_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    // Only this machine's names: a page elsewhere cannot reach the file by rebinding DNS to 127.0.0.1.
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return send(res, 403, 'text/plain', 'wrong host');
    // A request line Node accepts can still be no URL (`GET http://[::1 ...`): a 400, not a crash.
    if (!URL.canParse(req.url ?? '/', `http://${host}`)) return send(res, 400, 'text/plain', 'bad request line');
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === '/api/file') {
      if (edited === undefined) return send(res, 404, 'text/plain', 'no file: the playground was started without one');
      if (req.method === 'GET') return send(res, 200, 'application/json', JSON.stringify(edited.read()));
      if (req.method === 'PUT') {
        // A save comes from the page itself (same origin), never from another site's form or script.
        if (req.headers.origin !== `http://${host}`) return send(res, 403, 'text/plain', 'cross-origin save refused');
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (c: Buffer) => {
          size += c.length;
          if (size > READ_LIMITS.maxFileBytes) {
            send(res, 413, 'text/plain', `the text is over ${READ_LIMITS.maxFileBytes} bytes`);
            req.destroy();
          } else chunks.push(c);
        });
        req.on('end', () => {
          if (res.writableEnded) return;
          const refused = edited.save(Buffer.concat(chunks).toString('utf8'), req.headers[CONFIRM_HEADER] === 'overwrite');
          if (refused === undefined) return send(res, 200, 'text/plain', 'saved');
          res.setHeader('x-skipgraph-ask', refused.confirm ? 'confirm' : 'no');
          send(res, refused.status, 'text/plain', refused.message);
        });
        return;
      }
      return send(res, 405, 'text/plain', 'GET or PUT');
    }
    if (url.pathname === '/api/events') {
      if (file === undefined) return send(res, 404, 'text/plain', 'no file');
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'content-security-policy': PLAYGROUND_CSP });
      res.write(': watching\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only');
    // Only the built files, by exact name: no path reaches outside the folder.
    const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    if (!assets.has(name)) return send(res, 404, 'text/plain', 'not found');
    const ext = name.slice(name.lastIndexOf('.'));
    const body = readFileSync(join(dir, name));
    // The page asks the server for its file only when told it is served with one.
    if (name === 'index.html' && file !== undefined) return send(res, 200, TYPES[ext], body.toString('utf8').replace('<meta name="skipgraph-mode" content="static">', '<meta name="skipgraph-mode" content="file">'));
    send(res, 200, TYPES[ext] ?? 'application/octet-stream', body);
  };

  /** Whatever one request does wrong is that request's 500: the server and the user's page stay up. */
  const guarded = (req: IncomingMessage, res: ServerResponse) => {
    try {
      handle(req, res);
    } catch (err) {
      if (!res.headersSent) send(res, 500, 'text/plain', `internal error: ${(err as Error).message}`);
      else res.destroy();
    }
  };

  const server = createServer(guarded);
  // A request Node cannot parse at all: a 400 on that connection, nothing else.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => fail(new InputError(err.code === 'EADDRINUSE' ? `port ${opts.port} is in use: pick another with --port` : `cannot listen on 127.0.0.1: ${err.message}`)));
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  port = (server.address() as AddressInfo).port;
  if (file !== undefined) {
    // Polling (stat) rather than fs.watch: editors replace files by rename, which a watch on the old inode misses.
    // A deletion is a change too (all-zero stats): the page then says so and keeps its text.
    watchFile(file, { interval: 250 }, (cur, prev) => {
      if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
      for (const c of clients) c.write('event: change\ndata: {}\n\n');
    });
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () =>
      new Promise<void>((ok) => {
        if (file !== undefined) unwatchFile(file);
        for (const c of clients) c.end();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('playground')
    .description('serve the playground (editor, live diagnostics, graph, training in the page) on 127.0.0.1 and print its URL')
    .argument('[file]', 'architecture YAML file to edit (saved back only when you save)')
    .option('--port <n>', 'port to listen on (default: any free port)', parsePositiveInt('--port'))
    .action(async (fileArg: string | undefined, flags: { port?: number }) => {
      // A server outlives its reader (`skipgraph playground | head -1`): a closed stdout is not the
      // end of it, unlike for the other commands, which stop quietly (io.ts).
      keepServingOnClosedPipe();
      if (flags.port !== undefined && flags.port > 65535) throw new UsageError(`--port must be at most 65535, not ${flags.port}`);
      // A shipped model's name opens it in the page's menu (no file to save into); a local file of
      // that name wins and is edited (main.ts has said which, on stderr).
      const at = fileArg === undefined ? undefined : locateArchitecture(fileArg);
      const file = at?.shipped === undefined ? at?.path : undefined;
      const s = await startPlayground({ file, port: flags.port });
      const url = at?.shipped === undefined ? s.url : `${s.url}?arch=${encodeURIComponent(at.shipped)}`;
      io.out(`skipgraph playground: ${url}${file ? ` (editing ${basename(file)}; Save writes it back)` : ''}`);
      io.out('Press Ctrl-C to stop.');
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void s.close().then(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      setExit(EXIT.ok);
    });
}

/** Replaces the process's stop-on-EPIPE handlers of stdout and stderr with ones that ignore a closed pipe. */
function keepServingOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.removeAllListeners('error');
    stream.on('error', (e) => {
      if (!isClosedPipe(e)) throw e;
    });
  }
}
