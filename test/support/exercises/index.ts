import { existsSync } from 'node:fs';
import { modules } from '../../../src/modules/index.js';
import type { AnyModule } from '../../../src/platform/module.js';
import type { Exercise } from './types.js';

export * from './types.js';

/**
 * Each module's exercise, found by convention at test/support/exercises/<module>.ts (exporting
 * `exercise`), as the stack finds a module's construct: adding a module adds a file here, and no
 * check keeps a list of its own. An exercise file imports its types from ./types.js, never from
 * here: this module waits for those files as it loads, so a cycle back to it would never settle.
 */
const found = new Map<string, Exercise>();
for (const module of modules) {
  if (!existsSync(new URL(`./${module.name}.ts`, import.meta.url))) continue;
  const file = `./${module.name}.js`;
  const loaded = (await import(file)) as { exercise?: Exercise };
  if (!loaded.exercise) {
    throw new Error(`test/support/exercises/${module.name}.ts must export \`exercise\``);
  }
  found.set(module.name, loaded.exercise);
}

/** The exercise of `module`; throws, naming it, when it has none. */
export function exerciseOf(module: AnyModule): Exercise {
  const exercise = found.get(module.name);
  if (!exercise) {
    throw new Error(
      `module "${module.name}" has no exercise: add test/support/exercises/${module.name}.ts ` +
        '(README, "Adding a module")',
    );
  }
  return exercise;
}

/** Each listed module with its exercise, in list order; throws naming every module without one. */
export function exercisesOf(
  list: readonly AnyModule[],
): { readonly module: AnyModule; readonly exercise: Exercise }[] {
  const missing = list.filter((module) => !found.has(module.name));
  if (missing.length > 0) {
    throw new Error(
      `no exercise for ${missing.map((m) => `"${m.name}"`).join(', ')}: add ` +
        `${missing.map((m) => `test/support/exercises/${m.name}.ts`).join(', ')} ` +
        '(README, "Adding a module")',
    );
  }
  return list.map((module) => ({ module, exercise: exerciseOf(module) }));
}
