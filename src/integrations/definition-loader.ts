import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { definitionProblems } from './definition-validation.ts';
import type { IntegrationDefinition } from './integration-definition.ts';

/** integrations/ at the repository root: one YAML file per shipped integration, named by its key. */
export const SHIPPED_INTEGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'integrations',
);

export class DefinitionFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'DefinitionFileError';
  }
}

/** Parses and validates one definition file; throws DefinitionFileError naming the file. */
export function loadDefinitionFile(file: string): IntegrationDefinition {
  const name = path.basename(file);
  let document: unknown;
  try {
    // Plain YAML 1.2 data: no custom tags, no merge keys, aliases limited (no billion laughs).
    document = parse(readFileSync(file, 'utf8'), { maxAliasCount: 100, merge: false });
  } catch (err) {
    throw new DefinitionFileError(name, [`not valid YAML: ${(err as Error).message}`]);
  }
  const problems = definitionProblems(document);
  const key = (document as { key?: unknown } | null)?.key;
  if (problems.length === 0 && `${String(key)}.yaml` !== name) {
    problems.push(`key: expected "${name.replace(/\.yaml$/, '')}" (a shipped file is named by its key)`);
  }
  if (problems.length > 0) throw new DefinitionFileError(name, problems);
  return document as IntegrationDefinition;
}

/** Every shipped definition by key, in key order; throws on the first file that is not valid. */
export function loadShippedDefinitions(
  dir: string = SHIPPED_INTEGRATIONS_DIR,
): Map<string, IntegrationDefinition> {
  const out = new Map<string, IntegrationDefinition>();
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.yaml')) continue;
    const definition = loadDefinitionFile(path.join(dir, file));
    out.set(definition.key, definition);
  }
  return out;
}
