import { loadModuleInfra } from '../../../infra/module-infra.js';
import type { AnyModule } from '../../../src/platform/module.js';
import { exerciseOf } from './index.js';
import { type Exercise, isNone, type LoadPlan, type SoakRun } from './types.js';

/** Data of the right shape for building a module's operations and routes without sending them. */
export const samplePlan: LoadPlan = {
  events: ['event-0', 'event-1'],
  doomedEvents: ['doomed-0'],
  users: ['user-0', 'user-1'],
  random: () => 0.5,
  runId: 'coverage',
};
export const sampleRun: SoakRun = {
  events: ['event-0'],
  users: ['user-0'],
  runId: 'coverage',
  cpfBase: 0,
};

/**
 * What keeps the listed modules from being covered by every check: a module without an exercise;
 * a function of its access declaration, its routes (`api`) or its tasks that no access scenario
 * drives and none excuses, or one a scenario names that it does not have; a load, soak or bench
 * part that is neither there nor excused; a create the crash test could not verify. Each names
 * its module. Empty: every check covers exactly the list.
 */
export async function exerciseProblems(list: readonly AnyModule[]): Promise<string[]> {
  const problems: string[] = [];
  for (const module of list) {
    let exercise: Exercise;
    try {
      exercise = exerciseOf(module);
    } catch (error) {
      problems.push((error as Error).message);
      continue;
    }
    const name = module.name;
    problems.push(...(await accessProblems(module, exercise)));

    const { load, soak, bench } = exercise;
    for (const [part, value] of Object.entries({ load, soak, bench })) {
      if (isNone(value) && !value.none.trim()) problems.push(`${name}: no ${part}, and no reason`);
    }
    if (!isNone(load)) {
      const operations = load.operations(samplePlan);
      if (operations.length === 0) problems.push(`${name}: its load has no operation`);
      for (const { op, weight, create, verify } of operations) {
        if (!(weight > 0)) problems.push(`${name}: load operation ${op} weighs ${weight}`);
        if (create && !verify) problems.push(`${name}: create ${op} has no way to be verified`);
      }
    }
    if (!isNone(soak)) {
      const routes = soak.routes(sampleRun);
      if (routes.length === 0) problems.push(`${name}: its soak has no route`);
      for (const { kind, weight } of routes) {
        if (!(weight > 0)) problems.push(`${name}: soak route ${kind} weighs ${weight}`);
      }
    }
  }
  return problems;
}

/** Each function of the module: driven by exactly its scenarios, or excused, never both. */
async function accessProblems(module: AnyModule, exercise: Exercise): Promise<string[]> {
  const name = module.name;
  let declared: string[];
  try {
    declared = Object.keys((await loadModuleInfra([module])).get(module)?.access ?? {});
  } catch (error) {
    return [`${name}: ${(error as Error).message}`];
  }
  const functions = new Set([
    ...declared,
    ...(module.routes ? ['api'] : []),
    ...(module.tasks ?? []).map((task) => task.name),
  ]);
  const driven = new Set(exercise.access.scenarios().flatMap((scenario) => scenario.functions));
  const excused = exercise.access.notExercised ?? {};
  const problems: string[] = [];
  for (const fn of functions) {
    if (!driven.has(fn) && !excused[fn]?.trim()) {
      problems.push(
        `${name}: its function "${fn}" is driven by no access scenario and not excused ` +
          `(test/support/exercises/${name}.ts)`,
      );
    }
    if (driven.has(fn) && fn in excused) {
      problems.push(`${name}: its function "${fn}" is both driven and excused`);
    }
  }
  for (const fn of [...driven, ...Object.keys(excused)]) {
    if (!functions.has(fn))
      problems.push(`${name}: its exercise names "${fn}", a function it lacks`);
  }
  return problems;
}
