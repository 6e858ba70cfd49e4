import { isDeepStrictEqual } from 'node:util';
import { ofType, type Resource } from '../support/template.js';

/** A Lambda function of a template and the log group the stack creates for it. */
export interface FunctionLogGroup {
  readonly functionId: string;
  /** The function's physical name when the template gives one (else CloudFormation makes one). */
  readonly functionName: string | undefined;
  readonly groupId: string | undefined;
  readonly group: Resource | undefined;
}

/**
 * For every AWS::Lambda::Function, the AWS::Logs::LogGroup named `/aws/lambda/<its name>`: Lambda's
 * own default group, created by the stack (so it has a retention and goes with the stack) rather
 * than by Lambda on the first invocation. A function with a name in the template must have a group
 * with that literal name; one without (CDK's singletons) a group whose name is joined from its Ref.
 * A function that names a group in its LoggingConfig must name that one.
 */
export function functionLogGroups(resources: Record<string, Resource>): FunctionLogGroup[] {
  const groups = ofType(resources, 'AWS::Logs::LogGroup');
  return ofType(resources, 'AWS::Lambda::Function').map(([functionId, fn]) => {
    const name = fn.Properties.FunctionName;
    const functionName = typeof name === 'string' ? name : undefined;
    const expected =
      functionName === undefined
        ? { 'Fn::Join': ['', ['/aws/lambda/', { Ref: functionId }]] }
        : `/aws/lambda/${functionName}`;
    const named = groups.filter(([, group]) =>
      isDeepStrictEqual(group.Properties.LogGroupName, expected),
    );
    const [found] = named.length === 1 ? named : [];
    const loggingTo = (fn.Properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
    const consistent =
      found !== undefined &&
      (loggingTo === undefined || isDeepStrictEqual(loggingTo, { Ref: found[0] }));
    return {
      functionId,
      functionName,
      groupId: consistent ? found[0] : undefined,
      group: consistent ? found[1] : undefined,
    };
  });
}
