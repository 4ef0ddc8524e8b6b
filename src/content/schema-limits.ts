// The size limits OpenAI documents for strict JSON Schemas (structured outputs and strict tools):
// at most 10 levels of nesting, 5,000 object properties, 1,000 enum values, 120,000 characters of
// names, enum and const values, and 15,000 characters for one string enum of over 250 values.

export const SCHEMA_LIMITS = { depth: 10, properties: 5000, enumValues: 1000, stringLength: 120000, largeEnumValues: 250, largeEnumLength: 15000 };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

// Keywords whose schemas are one level further in: the value's structure nests.
const NESTING = ['items', 'additionalProperties', 'contains'];
// Keywords whose schemas stand at the same level (alternatives, definitions).
const SAME_LEVEL = ['anyOf', 'allOf', 'oneOf', '$defs', 'definitions', 'not', 'if', 'then', 'else'];

/**
 * What is past a limit, as OpenAI words it after "Invalid schema for …: " (nesting is its wording;
 * the others follow it), or undefined. Iterative, each node once: a schema of any depth or with
 * `$ref` loops is measured in time linear in its size and never overflows the stack.
 */
export function schemaLimitProblem(schema: unknown): string | undefined {
  let deepest = 0;
  let properties = 0;
  let enumValues = 0;
  let stringLength = 0;
  // Levels are objects and arrays, the root being the first.
  const stack: [unknown, number][] = [[schema, 1]];
  const seen = new Set<unknown>();
  while (stack.length) {
    const [node, level] = stack.pop()!;
    if (!isObject(node) || seen.has(node)) continue;
    seen.add(node);
    const container = isObject(node.properties) || node.items !== undefined || node.type === 'object' || node.type === 'array';
    if (container) deepest = Math.max(deepest, level);
    if (isObject(node.properties)) {
      for (const [name, sub] of Object.entries(node.properties)) {
        properties++;
        stringLength += name.length;
        stack.push([sub, level + 1]);
      }
    }
    for (const key of ['$defs', 'definitions']) if (isObject(node[key])) for (const name of Object.keys(node[key] as Json)) stringLength += name.length;
    if (Array.isArray(node.enum)) {
      enumValues += node.enum.length;
      const length = node.enum.reduce<number>((n, v) => n + (typeof v === 'string' ? v.length : 0), 0);
      stringLength += length;
      if (node.enum.length > SCHEMA_LIMITS.largeEnumValues && length > SCHEMA_LIMITS.largeEnumLength)
        return `an enum with ${node.enum.length} values has a total string length of ${length}, which exceeds the limit of ${SCHEMA_LIMITS.largeEnumLength} for enums of over ${SCHEMA_LIMITS.largeEnumValues} values.`;
    }
    if (typeof node.const === 'string') stringLength += node.const.length;
    for (const key of NESTING) stack.push([node[key], level + 1]);
    if (Array.isArray(node.prefixItems)) for (const sub of node.prefixItems) stack.push([sub, level + 1]);
    for (const key of SAME_LEVEL) {
      const value = node[key];
      if (Array.isArray(value)) for (const sub of value) stack.push([sub, level]);
      else if (isObject(value)) {
        if (key === '$defs' || key === 'definitions') for (const sub of Object.values(value)) stack.push([sub, level]);
        else stack.push([value, level]);
      }
    }
  }
  if (deepest > SCHEMA_LIMITS.depth) return `${deepest} levels of nesting exceeds limit of ${SCHEMA_LIMITS.depth}.`;
  if (properties > SCHEMA_LIMITS.properties) return `${properties} object properties exceeds limit of ${SCHEMA_LIMITS.properties}.`;
  if (enumValues > SCHEMA_LIMITS.enumValues) return `${enumValues} enum values exceeds limit of ${SCHEMA_LIMITS.enumValues}.`;
  if (stringLength > SCHEMA_LIMITS.stringLength)
    return `a total string length of ${stringLength} (property and definition names, enum and const values) exceeds limit of ${SCHEMA_LIMITS.stringLength}.`;
  return undefined;
}
