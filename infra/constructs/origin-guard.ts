import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { problemType } from '../../src/platform/http/problem.js';

/** The problem document the guard answers with (no CORS header: the caller's page may not read it). */
export const ORIGIN_NOT_ALLOWED = {
  type: problemType('REQUEST.ORIGIN_NOT_ALLOWED'),
  title: 'Forbidden',
  status: 403,
  detail: 'Requests from this origin are not allowed.',
  code: 'REQUEST.ORIGIN_NOT_ALLOWED',
} as const;

export interface OriginGuardProps {
  readonly stage: string;
  /** The allowed origins (`https://host[:port]`), two or more. */
  readonly origins: readonly string[];
  /** The REST API stage the web ACL protects. */
  readonly apiStage: apigateway.Stage;
}

/**
 * Several allowed CORS origins: API Gateway's own answers (a refused key, a throttle) can only copy
 * a request header into a response header — gateway response templates are not run through VTL,
 * so they cannot pick among origins. This web ACL lets through requests without an `Origin` and
 * requests from an allowed origin, and refuses the rest (403) before API Gateway sees them; the
 * gateway responses can then copy `Origin` into `Access-Control-Allow-Origin`, since every origin
 * that reaches them is an allowed one. Browsers would refuse such a cross-origin answer anyway; a
 * non-browser client sends no `Origin`.
 */
export class OriginGuard extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: OriginGuardProps) {
    super(scope, id);
    if (props.origins.length < 2) throw new Error('OriginGuard is for two or more origins');
    const metric = (name: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `roster-${props.stage}-${name}`,
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: `roster-${props.stage}-origins`,
      description: `Roster ${props.stage}: browser requests only from the allowed CORS origins`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: metric('web-acl'),
      customResponseBodies: {
        OriginNotAllowed: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify(ORIGIN_NOT_ALLOWED),
        },
      },
      rules: [
        {
          name: 'only-allowed-origins',
          priority: 0,
          action: {
            block: {
              customResponse: { responseCode: 403, customResponseBodyKey: 'OriginNotAllowed' },
            },
          },
          visibilityConfig: metric('origin-not-allowed'),
          statement: originNotAllowedStatement(props.origins),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.apiStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}

/** `Origin` present AND not exactly one of `origins`. */
export function originNotAllowedStatement(
  origins: readonly string[],
): wafv2.CfnWebACL.StatementProperty {
  const origin = { singleHeader: { Name: 'origin' } };
  const none = [{ priority: 0, type: 'NONE' }];
  return {
    andStatement: {
      statements: [
        {
          sizeConstraintStatement: {
            fieldToMatch: origin,
            comparisonOperator: 'GT',
            size: 0,
            textTransformations: none,
          },
        },
        {
          notStatement: {
            statement: {
              orStatement: {
                statements: origins.map((allowed) => ({
                  byteMatchStatement: {
                    fieldToMatch: origin,
                    positionalConstraint: 'EXACTLY',
                    searchString: allowed,
                    textTransformations: none,
                  },
                })),
              },
            },
          },
        },
      ],
    },
  };
}
