/**
 * Profile warm, in-process compiles: compile one architecture a few times (warm-up), then N more
 * under the V8 profiler (node:inspector), and write the .cpuprofile to OUT.
 *   node --import tsx bench/compile_loop.ts resnet152 100 OUT.cpuprofile
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { compileSource } from '../src/compiler/files.js';
import { arch } from './common.js';

const [name = 'resnet152', n = '100', out = 'warm.cpuprofile'] = process.argv.slice(2);
const file = arch(name);
const text = readFileSync(file, 'utf8');
const once = (): void => {
  const r = compileSource(text, { file });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
};
for (let i = 0; i < 5; i++) once();
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
for (let i = 0; i < Number(n); i++) once();
const { profile } = await session.post('Profiler.stop');
writeFileSync(out, JSON.stringify(profile));
session.disconnect();
