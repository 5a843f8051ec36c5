import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPictures, ROOT } from '../../docs/images/generate.js';

describe('docs/images/', () => {
  const pictures = renderPictures();

  it.each([...pictures.keys()])('%s is what `npm run docs:images` makes now', (out) => {
    const committed = readFileSync(join(ROOT, 'docs/images', out), 'utf8');
    // On failure: run `npm run docs:images` and commit the pictures.
    expect(committed === pictures.get(out), `docs/images/${out} is stale: run npm run docs:images`).toBe(true);
  });

  it("the README's resnet18.svg shows every node, the six inserted projections and the skip edges", () => {
    const svg = pictures.get('resnet18.svg')!;
    expect(svg.match(/<g class="node[ "]/g)).toHaveLength(69);
    expect(svg.match(/<g class="node [^"]*\binserted\b/g)).toHaveLength(6);
    expect(svg.match(/<g class="edge skip"/g)!.length).toBeGreaterThanOrEqual(8);
  });
});
