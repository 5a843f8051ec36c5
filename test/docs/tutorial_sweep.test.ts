import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/**
 * docs/tutorial.md section 6 ("Sweep a design space"): its command, run as written (without the
 * `npx skipgraph` launcher), prints the table the ```text sweep fence after it shows.
 */
const md = readFileSync(new URL('../../docs/tutorial.md', import.meta.url), 'utf8');
const section = md.slice(md.indexOf('## 6. Sweep a design space'));

describe('docs/tutorial.md: sweep a design space', () => {
  it('the command prints the table shown', async () => {
    const command = section.match(/```sh\nnpx skipgraph (.*)\n```/)![1];
    const shown = section.match(/```text sweep\n([\s\S]*?)```/)![1];
    const r = await runCli(...command.split(' '));
    expect(r.code).toBe(0);
    expect(r.out).toBe(shown);
    expect(r.err).toMatch(/^6 variants in [\d.]+ s: 5 kept, 1 rejected by limits, 0 failed$/m);
  });

  it("the README's sweep command is the tutorial's", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const tutorial = section.match(/```sh\n(npx skipgraph sweep .*)\n```/)![1];
    expect(readme).toContain('```sh\n' + tutorial + '\n```');
  });
});
