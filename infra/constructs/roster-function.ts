import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  LogLevel as EsbuildLogLevel,
  NodejsFunction,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SWAGGER_UI_FILES } from '../../src/platform/http/docs.js';

/** The newest Node.js runtime aws-cdk-lib names; pinned rather than NODEJS_LATEST so a CDK
 * upgrade never changes the runtime of a deployed function by itself. */
export const API_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Where the Swagger UI files land inside the deployment package (`/var/task` on Lambda). */
const DOCS_ASSETS_SUBDIR = 'swagger-ui';

// ESM output has no `require`; some bundled CommonJS dependencies still call it for Node
// built-ins. The alias avoids clashing with any identifier esbuild emits.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __rosterCreateRequire } from 'node:module'; const require = __rosterCreateRequire(import.meta.url);";

export interface RosterFunctionProps {
  /** Repository root: holds package-lock.json, node_modules and the entry file. */
  readonly projectRoot: string;
  /** Entry file, relative to projectRoot (src/runtime/lambda/<entry>.ts). */
  readonly entry: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  /** @default 1024 */
  readonly memorySize?: number;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** Copy the Swagger UI files into the package (the API function serves /docs). */
  readonly docsAssets?: boolean;
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Roster Lambda: one entry of src/runtime/lambda bundled on its own by the local esbuild, on
 * the pinned newest Node.js runtime, arm64, traced, with its own log group.
 */
export class RosterFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RosterFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.function = new NodejsFunction(this, 'Handler', {
      description: props.description,
      projectRoot: props.projectRoot,
      entry: join(props.projectRoot, props.entry),
      handler: 'handler',
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
      runtime: API_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.docsAssets ? { DOCS_ASSETS_DIR: `/var/task/${DOCS_ASSETS_SUBDIR}` } : {}),
      },
      bundling: {
        // Local esbuild only: synth must work offline and without Docker.
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the AWS SDK too: a pinned, tree-shaken SDK instead of whatever the runtime ships.
        externalModules: [],
        logLevel: EsbuildLogLevel.WARNING,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => {
            if (!props.docsAssets) return [];
            const source = `${inputDir}/node_modules/swagger-ui-dist`;
            const target = `${outputDir}/${DOCS_ASSETS_SUBDIR}`;
            return [
              `mkdir -p "${target}"`,
              `cp ${SWAGGER_UI_FILES.map((file) => `"${source}/${file}"`).join(' ')} "${target}/"`,
            ];
          },
        },
      },
    });
  }
}
