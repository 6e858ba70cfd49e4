import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type LoadedModuleInfra, loadModuleInfra } from '../../infra/module-infra.js';
import { RosterStack, type RosterStackProps } from '../../infra/roster-stack.js';
import { modules as allModules } from '../../src/modules/index.js';
import type { AnyModule } from '../../src/platform/module.js';
import { RecordingAwsSolutionsChecks } from './nag.js';
import { repoRoot } from './process.js';

/** Synthesizing RosterStack and reading its CloudFormation template in the infra tests. */

/** The repository root, as RosterStack's `projectRoot` prop names it. */
export const projectRoot = repoRoot;

export type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
} & Record<string, unknown>;

/** The feature flags `cdk synth` uses, so a test synthesizes the same template. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

export interface StackOptions {
  readonly id: string;
  /**
   * RosterStack's props over the defaults: stage `test`, every module of src/modules/index.ts
   * (or `props.modules`) with the infra `loadModuleInfra` finds for them.
   */
  readonly props?: Partial<Omit<RosterStackProps, 'projectRoot' | 'moduleInfra'>>;
  /**
   * Bundle the Lambda functions with esbuild (slow; roster-stack.test.ts checks the bundles).
   * Off by default: `aws:cdk:bundling-stacks: []`, for tests about the template.
   */
  readonly bundling?: boolean;
  /** Where the app synthesizes; the CDK's own temporary folder if not given. */
  readonly outdir?: string;
}

export interface RosterApp {
  readonly app: App;
  readonly stack: RosterStack;
  readonly moduleInfra: ReadonlyMap<AnyModule, LoadedModuleInfra>;
}

/** An app with cdk.json's context and one RosterStack in it, not synthesized yet. */
export async function rosterStack(options: StackOptions): Promise<RosterApp> {
  const context = options.bundling
    ? cdkJsonContext()
    : { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] };
  const app = new App({ ...(options.outdir ? { outdir: options.outdir } : {}), context });
  const modules = options.props?.modules ?? allModules;
  const moduleInfra = await loadModuleInfra(modules);
  const stack = new RosterStack(app, options.id, {
    stage: 'test',
    projectRoot,
    ...options.props,
    modules,
    moduleInfra,
  });
  return { app, stack, moduleInfra };
}

export interface SynthOptions extends Omit<StackOptions, 'outdir'> {
  /**
   * cdk-nag's AwsSolutions pack (recording every finding) as a validation plugin of the app:
   * the synth throws on an unacknowledged error.
   */
  readonly nag?: boolean;
}

export interface SynthesizedStack extends RosterApp {
  /** The synthesized app's folder (assets are `asset.<hash>` in it). */
  readonly outdir: string;
  readonly template: Template;
  readonly resources: Record<string, Resource>;
  readonly nag: RecordingAwsSolutionsChecks | undefined;
  /** Removes `outdir`. */
  cleanup(): void;
}

/**
 * `rosterStack` synthesized into a folder of its own (removed by `cleanup`, e.g. returned from
 * `beforeAll`), with cdk-nag if asked.
 */
export async function synthStack(
  options: SynthOptions & { nag: true },
): Promise<SynthesizedStack & { nag: RecordingAwsSolutionsChecks }>;
export async function synthStack(options: SynthOptions): Promise<SynthesizedStack>;
export async function synthStack(options: SynthOptions): Promise<SynthesizedStack> {
  const outdir = mkdtempSync(join(tmpdir(), 'roster-cdk-'));
  const cleanup = () => rmSync(outdir, { recursive: true, force: true });
  try {
    const built = await rosterStack({ ...options, outdir });
    let nag: RecordingAwsSolutionsChecks | undefined;
    if (options.nag) {
      nag = new RecordingAwsSolutionsChecks(built.app);
      Validations.of(built.app).addPlugins(nag);
    }
    built.app.synth();
    const template = Template.fromStack(built.stack);
    const resources = template.toJSON().Resources as Record<string, Resource>;
    return { ...built, outdir, template, resources, nag, cleanup };
  } catch (error) {
    cleanup();
    throw error;
  }
}

export function ofType(resources: Record<string, Resource>, type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

/** "METHOD /path" → method properties, resolving each method's resource up to the root. */
export function methodsByRoute(
  resources: Record<string, Resource>,
): Map<string, Record<string, unknown>> {
  const pathOf = (resourceId: unknown): string => {
    const ref = (resourceId as { Ref?: string }).Ref;
    if (!ref) return ''; // Fn::GetAtt RootResourceId
    const props = resources[ref]?.Properties as { PathPart: string; ParentId: unknown };
    return `${pathOf(props.ParentId)}/${props.PathPart}`;
  };
  return new Map(
    ofType(resources, 'AWS::ApiGateway::Method').map(([, method]) => [
      `${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId) || '/'}`,
      method.Properties,
    ]),
  );
}

export interface Statement {
  readonly Effect?: string;
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: unknown;
}

/** Every statement of the IAM policies attached to `role` (its logical id). */
export function statementsOfRole(resources: Record<string, Resource>, role: string): Statement[] {
  return ofType(resources, 'AWS::IAM::Policy')
    .filter(([, policy]) =>
      ((policy.Properties.Roles ?? []) as { Ref?: string }[]).some((r) => r.Ref === role),
    )
    .flatMap(
      ([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    );
}

/** `action resource` pairs of `statements` (minimized policies merge actions and resources). */
export function grantPairs(statements: readonly Statement[], actionPrefix = ''): Set<string> {
  const pairs = new Set<string>();
  for (const statement of statements) {
    if (statement.Effect && statement.Effect !== 'Allow') continue;
    for (const action of [statement.Action].flat()) {
      if (!action.startsWith(actionPrefix)) continue;
      for (const resource of [statement.Resource].flat()) {
        pairs.add(`${action} ${JSON.stringify(resource)}`);
      }
    }
  }
  return pairs;
}
