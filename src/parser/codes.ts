/**
 * Stable diagnostic codes. They are part of the public interface: tests, scripts and docs match on
 * them, so a code is never renamed or reused for another meaning (add a new one instead).
 */
export type DiagnosticCode =
  // Reading the file
  | 'file-not-found' // the named file (or an `extends` target) cannot be read
  | 'file-too-large' // over the size limit, refused before parsing
  | 'invalid-encoding' // not valid UTF-8
  | 'invalid-character' // NUL or another control character
  | 'empty-file' // nothing but whitespace and comments
  // YAML syntax
  | 'yaml-syntax' // any YAML syntax error the parser reports
  | 'yaml-tab' // a tab used as indentation
  | 'duplicate-key' // the same key twice in one mapping
  | 'custom-tag' // a YAML tag (`!!js/function`, `!foo`): never resolved, never executed
  | 'alias-limit' // aliases that expand past the budget (an "alias bomb")
  | 'too-deep' // nesting deeper than the parser accepts
  | 'forbidden-key' // `__proto__`, `constructor`, `prototype`
  | 'multiple-documents' // more than one YAML document in a file
  | 'yaml-version' // a `%YAML` directive other than 1.2 (1.1 reads `no` as false and `012` as 10)
  | 'merge-key' // a `<<:` merge key (YAML 1.1; not supported)
  // Schema
  | 'not-a-mapping' // the top level is not a mapping
  | 'unknown-key' // a key the schema does not define
  | 'missing-field' // a required key is absent
  | 'wrong-type' // a value of the wrong type
  | 'out-of-range' // a number outside its allowed range (zero/negative/fractional/huge)
  | 'invalid-value' // any other schema violation (enum, pattern, shape of a list)
  | 'unknown-op' // a layer whose `op` is not one we know
  | 'unknown-block' // a stage names a block that is neither built in nor defined under `blocks:`
  | 'reserved-name' // a node or stage name JavaScript objects already hold (`toString`, `constructor`, ...)
  // Expressions and user blocks
  | 'expr-syntax' // an arithmetic expression that does not parse
  | 'expr-unknown-param' // `$name` that is not a parameter of the block
  | 'expr-divide-by-zero'
  | 'expr-overflow' // a result that is not a finite number within the limit
  | 'expr-not-integer' // a count or size that evaluates to a fraction
  | 'block-cycle' // a user block that uses itself, directly or through others
  | 'param-shadowed' // a declared parameter (of a block or the network) that would hide a built-in one
  // Backbones (`features:`)
  | 'head-and-features' // a file with `features` that keeps a head, or `head: none` without `features`
  | 'duplicate-feature' // the same name twice in `features`
  | 'unknown-feature' // a `features` item that names no stage and no node
  | 'feature-not-a-map' // a `features` item whose output is not a [height, width, channels] map
  // Composition
  | 'extends-cycle'
  | 'extends-not-found'
  | 'extends-outside' // an `extends` path that is absolute or leaves the allowed folder
  | 'set-syntax' // `--set` that is not `path=value`
  | 'set-path-unknown' // `--set` on a path that does not exist
  // Compilation
  | 'spatial-too-small' // an op would shrink the map below 1x1
  | 'groups-mismatch' // channels not divisible by groups
  | 'shortcut-mismatch' // a residual add under `identity` whose inputs differ
  | 'shape-mismatch' // an add or op whose inputs cannot fit together
  | 'dense-not-flat' // a dense layer after a map that was not flattened/pooled
  | 'graph-cycle' // an internal or user-made cycle
  | 'limit-exceeded'; // a resource limit (params, activation memory, nodes, blocks)

export type Severity = 'error' | 'warning';
