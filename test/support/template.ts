import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Reading a synthesized CloudFormation template in the infra tests. */

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

export type Resource = { Type: string; Properties: Record<string, unknown> } & Record<
  string,
  unknown
>;

/** The feature flags `cdk synth` uses, so a test synthesizes the same template. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
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
