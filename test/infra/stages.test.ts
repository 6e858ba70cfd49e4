import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { ORIGIN_NOT_ALLOWED } from '../../infra/constructs/origin-guard.js';
import { ORIGIN_FROM_REQUEST } from '../../infra/constructs/rest-api.js';
import { stageParameters } from '../../infra/stage.js';
import {
  ofType,
  type Resource,
  rosterStack,
  type SynthesizedStack as Synth,
  synthStack,
} from '../support/template.js';

/*
 * What the stage parameters change (`-c stage=… -c retainData=… -c schedules=… -c corsOrigins=…`):
 * the parsing, a destroyable stage against a production one, and API Gateway's own answers with
 * one allowed origin and with several. Bundling is skipped (roster-stack.test.ts bundles).
 */

describe('stage parameters from the CDK context', () => {
  const parse = (context: Record<string, string>) => stageParameters((key) => context[key]);

  it('defaults to a dev stage that can be destroyed, with schedules and the console', () => {
    expect(parse({})).toEqual({
      stage: 'dev',
      corsOrigins: undefined,
      alarmEmail: undefined,
      schedules: true,
      retainData: false,
      console: true,
    });
  });

  it('keeps the data of a production stage unless told otherwise', () => {
    expect(parse({ stage: 'prod' }).retainData).toBe(true);
    expect(parse({ stage: 'production' }).retainData).toBe(true);
    expect(parse({ stage: 'prod', retainData: 'false' }).retainData).toBe(false);
    expect(parse({ stage: 'staging', retainData: 'true' }).retainData).toBe(true);
  });

  it('reads origins, the alarm e-mail and the switches', () => {
    expect(
      parse({
        stage: 'staging',
        corsOrigins: 'https://a.example, https://b.example:8443',
        alarmEmail: 'ops@example.com',
        schedules: 'off',
        console: 'false',
      }),
    ).toMatchObject({
      corsOrigins: ['https://a.example', 'https://b.example:8443'],
      alarmEmail: 'ops@example.com',
      schedules: false,
      console: false,
    });
  });

  it('refuses wrong values, naming every one', () => {
    expect(() =>
      parse({
        corsOrigins: 'https://a.example/path,*',
        alarmEmail: 'ops',
        schedules: 'sometimes',
        retainData: 'maybe',
      }),
    ).toThrow(
      /corsOrigins: "https:\/\/a\.example\/path".*corsOrigins: \* allows.*alarmEmail.*schedules must be on or off.*retainData must be true or false/,
    );
  });
});

describe('function names', () => {
  it('fit Lambda’s 64 characters with the longest stage name, each its own', async () => {
    const stage = 'a'.repeat(20);
    const { stack } = await rosterStack({ id: `Roster-${stage}`, props: { stage } });

    const names = stack
      .rosterFunctions()
      .map((fn) => (fn.function.node.defaultChild as CfnFunction).functionName);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      expect(name).toMatch(new RegExp(`^Roster-${stage}-[A-Za-z0-9-]+$`));
      expect(name?.length, name).toBeLessThanOrEqual(64);
    }
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('retention: production keeps its data, another stage can be destroyed', () => {
  let kept: Synth;
  let destroyable: Synth;

  beforeAll(async () => {
    kept = await synthStack({ id: 'Roster-kept', props: { retainData: true } });
    destroyable = await synthStack({
      id: 'Roster-destroyable',
      props: { retainData: false, schedules: false },
    });
    return () => {
      kept.cleanup();
      destroyable.cleanup();
    };
  }, 120_000);

  const only = (synthed: Synth, type: string) => {
    const found = ofType(synthed.resources, type);
    expect(found, type).toHaveLength(1);
    return found[0]?.[1] as Resource;
  };
  const secretOf = (synthed: Synth) =>
    synthed.resources[synthed.stack.getLogicalId(synthed.stack.secret.node.defaultChild as never)];

  it('retains and protects the tables, the master secret, the user pool and the alarm key', () => {
    for (const [, table] of ofType(kept.resources, 'AWS::DynamoDB::GlobalTable')) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties.Replicas).toEqual([
        expect.objectContaining({ DeletionProtectionEnabled: true }),
      ]);
    }
    expect(secretOf(kept)?.DeletionPolicy).toBe('Retain');
    const pool = only(kept, 'AWS::Cognito::UserPool');
    expect(pool.DeletionPolicy).toBe('Retain');
    expect(pool.Properties.DeletionProtection).toBe('ACTIVE');
    expect(only(kept, 'AWS::KMS::Key').DeletionPolicy).toBe('Retain');
  });

  it('deletes them with a destroyable stage, point-in-time recovery still on', () => {
    const tables = ofType(destroyable.resources, 'AWS::DynamoDB::GlobalTable');
    expect(tables.length).toBeGreaterThan(0);
    for (const [, table] of tables) {
      expect(table.DeletionPolicy).toBe('Delete');
      const [replica] = table.Properties.Replicas as Record<string, unknown>[];
      expect(replica?.DeletionProtectionEnabled).not.toBe(true);
      expect(replica?.PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
    }
    expect(secretOf(destroyable)?.DeletionPolicy).toBe('Delete');
    const pool = only(destroyable, 'AWS::Cognito::UserPool');
    expect(pool.DeletionPolicy).toBe('Delete');
    expect(pool.Properties.DeletionProtection).toBe('INACTIVE');
    expect(only(destroyable, 'AWS::KMS::Key').DeletionPolicy).toBe('Delete');
  });

  it('creates the schedules disabled when schedules are off, enabled otherwise', () => {
    const states = (synthed: Synth) =>
      ofType(synthed.resources, 'AWS::Scheduler::Schedule').map(([, s]) => s.Properties.State);
    expect(states(kept).length).toBeGreaterThan(0);
    expect(new Set(states(kept))).toEqual(new Set(['ENABLED']));
    expect(new Set(states(destroyable))).toEqual(new Set(['DISABLED']));
  });
});

describe('CORS in API Gateway’s own answers (refused key, throttle, …)', () => {
  const A = 'https://a.example';
  const B = 'https://b.example:8443';
  let one: Synth;
  let several: Synth;

  beforeAll(async () => {
    one = await synthStack({ id: 'Roster-one-origin', props: { corsOrigins: [A] } });
    several = await synthStack({ id: 'Roster-origins', props: { corsOrigins: [A, B] } });
    return () => {
      one.cleanup();
      several.cleanup();
    };
  }, 120_000);

  const gatewayHeaders = (synthed: Synth) =>
    ofType(synthed.resources, 'AWS::ApiGateway::GatewayResponse').map(
      ([, response]) => response.Properties.ResponseParameters as Record<string, string>,
    );

  it('names the one allowed origin, and needs no origin guard', () => {
    expect(gatewayHeaders(one).length).toBeGreaterThan(5);
    for (const headers of gatewayHeaders(one)) {
      expect(headers['gatewayresponse.header.Access-Control-Allow-Origin']).toBe(`'${A}'`);
    }
    expect(ofType(one.resources, 'AWS::WAFv2::WebACL')).toEqual([]);
  });

  it('with several, copies the caller’s origin (varying by it) behind a web ACL on the stage', () => {
    for (const headers of gatewayHeaders(several)) {
      expect(headers).toMatchObject({
        'gatewayresponse.header.Access-Control-Allow-Origin': ORIGIN_FROM_REQUEST,
        'gatewayresponse.header.Vary': "'Origin'",
      });
    }
    const [[aclId, acl] = []] = ofType(several.resources, 'AWS::WAFv2::WebACL');
    expect(acl?.Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    const [, association] = ofType(several.resources, 'AWS::WAFv2::WebACLAssociation')[0] ?? [];
    const stage = several.stack.getLogicalId(
      several.stack.restApi.api.deploymentStage.node.defaultChild as never,
    );
    expect(JSON.stringify(association?.Properties.ResourceArn)).toContain(stage);
    expect(association?.Properties.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
  });

  it('lets through requests without an Origin or from an allowed one, and refuses the others, so only an allowed origin is ever copied', () => {
    const [, acl] = ofType(several.resources, 'AWS::WAFv2::WebACL')[0] ?? [];
    const rules = acl?.Properties.Rules as WafRule[];
    const blockedBy = (headers: Record<string, string>) =>
      rules.filter((rule) => 'Block' in rule.Action && matches(rule.Statement, headers));

    for (const origin of [A, B]) expect(blockedBy({ origin })).toEqual([]);
    expect(blockedBy({})).toEqual([]);
    for (const origin of [
      'https://evil.example',
      'https://a.example.evil.example',
      'http://a.example',
      'https://b.example',
      `${A}/`,
      '',
      'null',
    ]) {
      const blocked = blockedBy({ origin });
      if (origin === '') {
        // An empty Origin is no origin: nothing to copy, nothing to refuse.
        expect(blocked).toEqual([]);
      } else {
        expect(blocked, origin).toHaveLength(1);
        expect(blocked[0]?.Action.Block).toEqual({
          CustomResponse: { ResponseCode: 403, CustomResponseBodyKey: 'OriginNotAllowed' },
        });
      }
    }
    const body = (
      acl?.Properties.CustomResponseBodies as Record<string, { Content: string }> | undefined
    )?.OriginNotAllowed?.Content;
    expect(JSON.parse(body ?? '{}')).toEqual(ORIGIN_NOT_ALLOWED);
  });
});

/** A rule of the origin guard's web ACL, as the small evaluator below reads it. */
interface WafRule {
  readonly Action: { Block?: unknown; Allow?: unknown };
  readonly Statement: WafStatement;
}
type WafStatement = Record<string, unknown>;

/**
 * Whether a WAF statement matches a request with these headers (lower-case names): AND, OR, NOT,
 * a size constraint and an exact byte match on one header. A missing header matches neither
 * (as WAF treats it); any other statement kind is refused, so the test cannot pass by ignoring it.
 */
function matches(statement: WafStatement, headers: Record<string, string>): boolean {
  const [[kind, body]] = Object.entries(statement) as [[string, Record<string, unknown>]];
  const header = () => {
    const name = (body.FieldToMatch as { SingleHeader?: { Name: string } }).SingleHeader?.Name;
    if (!name) throw new Error('only SingleHeader fields are evaluated');
    expect(body.TextTransformations).toEqual([{ Priority: 0, Type: 'NONE' }]);
    return headers[name.toLowerCase()];
  };
  switch (kind) {
    case 'AndStatement':
      return (body.Statements as WafStatement[]).every((s) => matches(s, headers));
    case 'OrStatement':
      return (body.Statements as WafStatement[]).some((s) => matches(s, headers));
    case 'NotStatement':
      return !matches(body.Statement as WafStatement, headers);
    case 'SizeConstraintStatement': {
      const value = header();
      if (value === undefined) return false;
      if (body.ComparisonOperator !== 'GT') throw new Error('only GT is evaluated');
      return Buffer.byteLength(value) > Number(body.Size);
    }
    case 'ByteMatchStatement': {
      const value = header();
      if (value === undefined) return false;
      if (body.PositionalConstraint !== 'EXACTLY') throw new Error('only EXACTLY is evaluated');
      return value === body.SearchString;
    }
    default:
      throw new Error(`statement ${kind} is not evaluated`);
  }
}
