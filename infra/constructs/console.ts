import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import { singlePageAppCsp } from '../../src/platform/http/security-headers.js';
import { acknowledge } from '../nag.js';

export interface ConsoleHostingProps {
  readonly stage: string;
  /** The console's build (`console/dist`, made by `npm install` / `npm run console:build`). */
  readonly assetsDir: string;
  /** The API's origin, `https://<id>.execute-api.<region>.<suffix>`: the only host the CSP lets scripts call. */
  readonly apiOrigin: string;
  /** The API's base URL (stage included), written to `config.json` for the console to read. */
  readonly apiUrl: string;
}

/** Where the console lives on the distribution: the same path as on the local runtime. */
export const CONSOLE_PREFIX = 'console';

/**
 * CloudFront Function (viewer request): `/` and `/console` go to `/console/`; a path under
 * `/console/` with no file extension, outside `assets/`, is a client-side route and gets
 * index.html — the rule the local server's static mount follows (src/platform/http/static-assets.ts).
 */
export const ROUTING_FUNCTION_CODE = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/' || uri === '/${CONSOLE_PREFIX}') {
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: { location: { value: '/${CONSOLE_PREFIX}/' } },
    };
  }
  if (uri.indexOf('/${CONSOLE_PREFIX}/') === 0 && uri.indexOf('/${CONSOLE_PREFIX}/assets/') !== 0) {
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (last.indexOf('.') === -1) request.uri = '/${CONSOLE_PREFIX}/index.html';
  }
  return request;
}`;

/**
 * The web console on AWS: its built files in a private S3 bucket, served by CloudFront through
 * origin access control, HTTPS only, with security headers (the same strict CSP the local server
 * sends, plus the API's origin in `connect-src`). Content-hashed assets are cached for a year,
 * index.html and config.json revalidated on every load; a deployment writes config.json with
 * the API's URL and invalidates the console's paths.
 */
export class ConsoleHosting extends Construct {
  readonly bucket: s3.Bucket;
  readonly logBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly responseHeaders: cloudfront.ResponseHeadersPolicy;
  /** `https://<distribution domain>`, for the API's CORS list. */
  readonly origin: string;
  /** The console's URL. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    if (!existsSync(join(props.assetsDir, 'index.html'))) {
      throw new Error(
        `The console is not built (${props.assetsDir}/index.html is missing): run \`npm run console:build\` (npm install does), or synthesize with -c console=false.`,
      );
    }

    // Server access logs of the bucket and CloudFront's standard logs (which need ACLs).
    this.logBucket = new s3.Bucket(this, 'Logs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'Assets', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 's3/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.responseHeaders = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: `Roster console (${props.stage}): strict CSP and security headers`,
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: singlePageAppCsp([props.apiOrigin]),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER,
          override: true,
        },
      },
      customHeadersBehavior: {
        customHeaders: [
          { header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true },
        ],
      },
    });

    const routing = new cloudfront.Function(this, 'Routing', {
      comment: 'Roster console: / → /console/, client routes → index.html',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(ROUTING_FUNCTION_CODE),
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Roster console (${props.stage})`,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        // Honours the objects' Cache-Control: a year for hashed assets, revalidation for the rest.
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        compress: true,
        responseHeadersPolicy: this.responseHeaders,
        functionAssociations: [
          { function: routing, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
    });

    this.origin = `https://${this.distribution.distributionDomainName}`;
    this.url = `${this.origin}/${CONSOLE_PREFIX}/`;

    // Hashed assets first, kept across deployments (a page loaded before a deployment may still
    // ask for them); then index.html, the rest and config.json, which name the new assets.
    const assets = new s3deploy.BucketDeployment(this, 'DeployAssets', {
      sources: [s3deploy.Source.asset(join(props.assetsDir, 'assets'))],
      destinationBucket: this.bucket,
      destinationKeyPrefix: `${CONSOLE_PREFIX}/assets/`,
      cacheControl: [s3deploy.CacheControl.fromString('public, max-age=31536000, immutable')],
      prune: false,
    });
    const pages = new s3deploy.BucketDeployment(this, 'DeployPages', {
      sources: [
        s3deploy.Source.asset(props.assetsDir, { exclude: ['assets', 'assets/**', 'config.json'] }),
        s3deploy.Source.jsonData('config.json', { apiUrl: props.apiUrl }),
      ],
      destinationBucket: this.bucket,
      destinationKeyPrefix: `${CONSOLE_PREFIX}/`,
      cacheControl: [s3deploy.CacheControl.noCache()],
      prune: false,
      distribution: this.distribution,
      distributionPaths: [`/${CONSOLE_PREFIX}/*`],
    });
    pages.node.addDependency(assets);

    this.keepUploadLogsAMonth();
    this.acknowledgeNagFindings([assets, pages]);
  }

  /**
   * CDK's upload function, one per stack for both deployments, has no name known at synthesis;
   * CDK gives it Lambda's default log group, `/aws/lambda/<its name>` (the
   * `@aws-cdk/aws-lambda:useCdkManagedLogGroup` flag in cdk.json), kept two years and left behind
   * with the stack. Kept a month and removed with the stack instead, as every Roster function's.
   */
  private keepUploadLogsAMonth(): void {
    const uploaders = Stack.of(this).node.children.filter((child) =>
      child.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    for (const uploader of uploaders) {
      const group = uploader.node.tryFindChild('LogGroup');
      if (!(group instanceof logs.LogGroup)) {
        throw new Error(
          `${uploader.node.path} has no log group of its own: set @aws-cdk/aws-lambda:useCdkManagedLogGroup in cdk.json`,
        );
      }
      (group.node.defaultChild as logs.CfnLogGroup).retentionInDays = logs.RetentionDays.ONE_MONTH;
      group.applyRemovalPolicy(RemovalPolicy.DESTROY);
    }
  }

  private acknowledgeNagFindings(deployments: readonly s3deploy.BucketDeployment[]): void {
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'The console is for the operators of this deployment wherever they are; the API keys are the access control.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR2',
      'Static files only, no server-side logic behind the distribution; a web ACL per environment is left to the operator (as APIG3 for the API).',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      'The default *.cloudfront.net certificate cannot enforce a minimum TLS version; set one (TLSv1.2_2021) with the custom domain and certificate an operator adds.',
    );
    // BucketDeployment's upload function: one per stack (a singleton), with a role it shares.
    for (const deployment of deployments) {
      acknowledge(
        deployment.handlerRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'The CDK BucketDeployment function writes only its own CloudWatch Logs with this AWS-managed policy.',
      );
      for (const [finding, reason] of bucketDeploymentGrants) {
        acknowledge(deployment.handlerRole, `AwsSolutions-IAM5[${finding}]`, reason);
      }
      acknowledge(
        deployment.handlerRole,
        `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as never)}.Arn>/*]`,
        'The upload function writes the objects of the console bucket, and only of that bucket.',
      );
    }
    for (const child of Stack.of(this).node.children) {
      if (child.node.id.startsWith('Custom::CDKBucketDeployment')) {
        acknowledge(
          child,
          'AwsSolutions-L1',
          'The runtime of the CDK BucketDeployment function is chosen by aws-cdk-lib (pinned by the lock file), not by this project.',
        );
      }
    }
  }
}

/**
 * The grants CDK's BucketDeployment makes its (shared) upload function, each acknowledged with
 * what it is for. The asset bucket is the CDK bootstrap's (default qualifier).
 */
const bucketDeploymentGrants: readonly (readonly [string, string])[] = [
  ['Action::s3:GetObject*', 'Reads the uploaded build from the CDK asset bucket.'],
  ['Action::s3:GetBucket*', 'Reads the location and settings of the asset and console buckets.'],
  ['Action::s3:List*', 'Lists the asset and console buckets to copy the build.'],
  ['Action::s3:DeleteObject*', 'Replaces objects under the console prefix of its own bucket.'],
  ['Action::s3:Abort*', 'Aborts its own failed multipart uploads.'],
  [
    'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
    'The objects of the CDK bootstrap asset bucket, where the build is staged.',
  ],
  [
    'Resource::*',
    'cloudfront:CreateInvalidation and GetInvalidation, for the invalidation after an upload, take no narrower resource in the grant CDK makes.',
  ],
];

/** `https://<rest api id>.execute-api.<region>.<suffix>`: a REST API's origin (no stage path). */
export function restApiOrigin(scope: IConstruct, restApiId: string): string {
  const stack = Stack.of(scope);
  return `https://${restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
}

/**
 * The API's CORS list with the console's origin added (unless it already allows any origin).
 * First, because API Gateway's own error answers (a wrong key's 401) can name one origin only
 * (rest-api.ts): the console must be able to read them to show why sign-in failed.
 */
export function withConsoleOrigin(
  corsOrigins: readonly string[],
  consoleOrigin: string | undefined,
): string[] {
  if (!consoleOrigin || corsOrigins.includes('*')) return [...corsOrigins];
  return [consoleOrigin, ...corsOrigins];
}
