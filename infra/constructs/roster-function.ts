import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_FILE, bundleSync, DOCS_ASSETS_SUBDIR, type FunctionBundle } from '../bundling.js';

/** The newest Node.js runtime aws-cdk-lib names; pinned rather than NODEJS_LATEST so a CDK
 * upgrade never changes the runtime of a deployed function by itself. */
export const API_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface RosterFunctionProps extends FunctionBundle {
  /** Repository root: holds package.json, node_modules and the entry file. */
  readonly projectRoot: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  /** @default 1024 */
  readonly memorySize?: number;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  readonly logRetention?: logs.RetentionDays;
  /** @default DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** The Parameters and Secrets Lambda Extension's layer and its variables. @default none */
  readonly paramsAndSecrets?: lambda.ParamsAndSecretsLayerVersion;
}

/** Lambda's limit on a function name. */
export const FUNCTION_NAME_MAX_LENGTH = 64;

/**
 * `<stack name>-<path below the stack>`: `Roster-prod-ApiFunction`,
 * `Roster-prod-Customers-InsertIdTask`. Unique in the account and region as the stack name is,
 * and readable in the Lambda console next to its alarms (`CustomersInsertIdTaskErrors`).
 */
export function rosterFunctionName(scope: Construct): string {
  const stack = Stack.of(scope);
  const below = scope.node.scopes.slice(scope.node.scopes.indexOf(stack) + 1);
  const name = [stack.stackName, ...below.map((s) => s.node.id)].join('-');
  if (!Token.isUnresolved(name) && name.length > FUNCTION_NAME_MAX_LENGTH) {
    throw new Error(
      `function name "${name}" is ${name.length} characters, over Lambda's ${FUNCTION_NAME_MAX_LENGTH}: use a shorter stage or construct id`,
    );
  }
  return name;
}

/**
 * A Roster Lambda: one entry of src/runtime/lambda bundled on its own by `infra/bundling.ts`
 * (the local esbuild, offline, no Docker: the same function `npm run bench` measures), on the
 * pinned newest Node.js runtime, arm64, traced, with its own log group.
 *
 * The function has a name known at synthesis (`rosterFunctionName`) so that its log group can be
 * Lambda's default one, `/aws/lambda/<name>`, created by the stack with a retention before the
 * function exists: nothing can invoke the function before its group is there (Lambda would make
 * the group itself, with no retention, and the stack's would then fail to create), and the group
 * goes after the function when the stack is deleted. The price of a fixed name: CloudFormation
 * cannot replace the function under the same name, so a change that needs a replacement must
 * change the name too (moving the construct does: the name follows its path).
 */
export class RosterFunction extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;
  /** What its bundle holds (read by the bench, which bundles it the same way). */
  readonly bundle: FunctionBundle;
  readonly description: string;

  constructor(scope: Construct, id: string, props: RosterFunctionProps) {
    super(scope, id);
    const { projectRoot } = props;
    this.description = props.description;
    this.bundle = {
      entry: props.entry,
      http: props.http,
      ...(props.modules ? { modules: [...props.modules] } : {}),
      ...(props.docsAssets ? { docsAssets: true } : {}),
      ...(props.moduleCode ? { moduleCode: props.moduleCode } : {}),
    };
    const bundle = this.bundle;

    const functionName = rosterFunctionName(this);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    this.function = new lambda.Function(this, 'Handler', {
      functionName,
      description: props.description,
      // The hash of the bundle itself: a change anywhere in what it holds deploys it again.
      code: lambda.Code.fromAsset(projectRoot, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never used: local bundling always succeeds or throws (synth stays offline).
          image: DockerImage.fromRegistry('roster-bundles-locally'),
          // CDK caches bundles by these options, dropping functions: ROSTER_BUNDLE tells them apart.
          environment: { ROSTER_BUNDLE: JSON.stringify(bundle) },
          local: {
            tryBundle(outputDir) {
              bundleSync(projectRoot, bundle, outputDir);
              return true;
            },
          },
        },
      }),
      handler: `${BUNDLE_FILE.replace(/\.mjs$/, '')}.handler`,
      runtime: API_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      ...(props.paramsAndSecrets ? { paramsAndSecrets: props.paramsAndSecrets } : {}),
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.docsAssets ? { DOCS_ASSETS_DIR: `/var/task/${DOCS_ASSETS_SUBDIR}` } : {}),
      },
    });
  }
}
