/**
 * The schema validator is generated ahead of time (scripts/gen-validator.ts, ajv standalone code)
 * and committed as src/parser/generated/validate_architecture.js. These tests keep it in step with
 * schemas/architecture.schema.json and with what ajv's run-time compile would do.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateValidatorSource, outPath, schemaPath, VALIDATOR_OPTIONS } from '../../scripts/gen-validator.js';
import generated from '../../src/parser/generated/validate_architecture.js';

const repo = new URL('../../', import.meta.url).pathname;

describe('the generated schema validator', () => {
  it('is what `npm run gen:validator` writes from the current schema and ajv', () => {
    const fresh = generateValidatorSource();
    const committed = readFileSync(outPath, 'utf8');
    // Not toBe: a 200 kB diff helps nobody; say what to do instead.
    expect(
      committed === fresh,
      'src/parser/generated/validate_architecture.js differs from what scripts/gen-validator.ts makes of schemas/architecture.schema.json with this ajv: run `npm run gen:validator` and commit the result',
    ).toBe(true);
  });

  it('reports exactly the errors a run-time compile with the same options reports', () => {
    const compiled = new Ajv(VALIDATOR_OPTIONS).compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
    const validate = generated as unknown as typeof compiled;
    const files = [
      ...readdirSync(join(repo, 'architectures')).map((f) => join(repo, 'architectures', f)),
      ...readdirSync(join(repo, 'test/corpus/bad')).map((f) => join(repo, 'test/corpus/bad', f)),
    ].filter((f) => f.endsWith('.yaml'));
    const cases: [string, unknown][] = [];
    for (const f of files) {
      try {
        cases.push([f, parse(readFileSync(f, 'utf8'), { logLevel: 'error' })]);
      } catch {
        // YAML syntax errors never reach the validator
      }
    }
    // maxLength counts code points (ajv's ucs2length helper, imported by the generated module).
    const resnet18 = parse(readFileSync(join(repo, 'architectures/resnet18.yaml'), 'utf8'));
    const emoji = String.fromCodePoint(0x1f600);
    expect(validate({ ...resnet18, description: emoji.repeat(4096) }), '4,096 astral characters are 4,096, not 8,192').toBe(true);
    cases.push(['4,097 astral characters', { ...resnet18, description: emoji.repeat(4097) }]);
    cases.push(['a 129-character name', { ...resnet18, name: 'n'.repeat(129) }]);
    cases.push(['not an object', 42]);
    const keywords = new Set<string>();
    for (const [what, data] of cases) {
      const ok = compiled(data);
      expect(validate(data), what).toBe(ok);
      expect(validate.errors, what).toEqual(compiled.errors);
      for (const e of compiled.errors ?? []) keywords.add(e.keyword);
    }
    expect(cases.length).toBeGreaterThan(50);
    // The bad corpus exercises the error paths schema.ts turns into diagnostics.
    for (const k of ['additionalProperties', 'required', 'discriminator', 'type', 'enum', 'minimum', 'maxLength']) expect(keywords, k).toContain(k);
  });
});
