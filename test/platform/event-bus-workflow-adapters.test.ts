import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { atPath, EventPublishError, matches } from '../../src/platform/event-bus/bus.js';
import { EventBridgeBus } from '../../src/platform/event-bus/eventbridge.js';
import { StepFunctionsWorkflows } from '../../src/platform/workflow/step-functions.js';

/**
 * The AWS adapters against their SDK clients, whose answers come from a middleware at the front
 * of the stack: nothing leaves the process, and the requests are the ones the SDK would send.
 */
function answering<C extends SFNClient | EventBridgeClient>(
  client: C,
  answer: (command: string, input: Record<string, unknown>) => unknown,
): { sent: { command: string; input: Record<string, unknown> }[]; client: C } {
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  (client as SFNClient).middlewareStack.add(
    (_next, context) => async (args) => {
      const call = {
        command: context.commandName ?? '',
        input: args.input as Record<string, unknown>,
      };
      sent.push(call);
      return { output: answer(call.command, call.input) as never, response: {} };
    },
    { step: 'initialize', name: 'answer' },
  );
  return { sent, client };
}

const STATE_MACHINE = 'arn:aws:states:eu-central-1:123456789012:stateMachine:roster-prod-ids';

describe('StepFunctionsWorkflows', () => {
  it('starts the state machine of the workflow, naming the execution', async () => {
    const { client, sent } = answering(new SFNClient({ region: 'eu-central-1' }), () => ({
      executionArn: `${STATE_MACHINE}:e-1`,
      startDate: new Date(),
    }));
    const workflows = new StepFunctionsWorkflows(client, { 'customer-ids': STATE_MACHINE });

    const started = await workflows.start('customer-ids', { id: 'c-1' }, { name: 'e-1' });

    expect(started).toEqual({ executionId: 'e-1' });
    expect(sent).toEqual([
      {
        command: 'StartExecutionCommand',
        input: { stateMachineArn: STATE_MACHINE, name: 'e-1', input: '{"id":"c-1"}' },
      },
    ]);
  });

  it('describes an execution by the ARN derived from the state machine and its name', async () => {
    const { client, sent } = answering(new SFNClient({ region: 'eu-central-1' }), () => ({
      status: 'FAILED',
      error: 'Customers.Unavailable',
      cause: 'down',
      startDate: new Date('2026-01-01T00:00:00Z'),
      stopDate: new Date('2026-01-01T00:00:05Z'),
    }));
    const workflows = new StepFunctionsWorkflows(client, { 'customer-ids': STATE_MACHINE });

    expect(await workflows.describe('customer-ids', 'e-1')).toEqual({
      status: 'FAILED',
      error: 'Customers.Unavailable',
      cause: 'down',
      startedAt: '2026-01-01T00:00:00.000Z',
      stoppedAt: '2026-01-01T00:00:05.000Z',
    });
    expect(sent[0]?.input).toEqual({
      executionArn: 'arn:aws:states:eu-central-1:123456789012:execution:roster-prod-ids:e-1',
    });
  });

  it('answers undefined for an execution Step Functions does not know', async () => {
    const { client } = answering(new SFNClient({ region: 'eu-central-1' }), () => {
      throw Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' });
    });
    const workflows = new StepFunctionsWorkflows(client, { 'customer-ids': STATE_MACHINE });

    expect(await workflows.describe('customer-ids', 'nope')).toBeUndefined();
  });

  it('refuses a workflow whose state machine ARN is not configured', async () => {
    const workflows = new StepFunctionsWorkflows(new SFNClient({ region: 'eu-central-1' }), {});

    await expect(workflows.start('customer-ids', {})).rejects.toThrow(/no state machine ARN/);
  });
});

describe('EventBridgeBus', () => {
  const event = (id: string) => ({
    source: 'customer.api',
    detailType: 'CustomerCreated',
    detail: { id },
  });

  it('sends events with PutEvents, ten entries a call', async () => {
    const { client, sent } = answering(new EventBridgeClient({ region: 'eu-central-1' }), () => ({
      FailedEntryCount: 0,
      Entries: [],
    }));

    await new EventBridgeBus(client).publish(Array.from({ length: 12 }, (_, i) => event(`c-${i}`)));

    expect(sent.map((call) => (call.input.Entries as unknown[]).length)).toEqual([10, 2]);
    expect((sent[0]?.input.Entries as unknown[] | undefined)?.[0]).toEqual({
      Source: 'customer.api',
      DetailType: 'CustomerCreated',
      Detail: '{"id":"c-0"}',
    });
  });

  it('sends again only the entries PutEvents refused', async () => {
    let calls = 0;
    const { client, sent } = answering(new EventBridgeClient({ region: 'eu-central-1' }), () =>
      calls++ === 0
        ? { FailedEntryCount: 1, Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException' }] }
        : { FailedEntryCount: 0, Entries: [{ EventId: 'b' }] },
    );

    await new EventBridgeBus(client).publish([event('c-1'), event('c-2')]);

    expect(
      sent.map((call) => (call.input.Entries as { Detail: string }[]).map((e) => e.Detail)),
    ).toEqual([['{"id":"c-1"}', '{"id":"c-2"}'], ['{"id":"c-2"}']]);
  });

  it('throws EventPublishError naming the events PutEvents kept refusing', async () => {
    const { client } = answering(new EventBridgeClient({ region: 'eu-central-1' }), () => ({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure' }],
    }));

    const publishing = new EventBridgeBus(client).publish([event('c-1')]);

    await expect(publishing).rejects.toBeInstanceOf(EventPublishError);
    await expect(publishing).rejects.toMatchObject({ failed: [event('c-1')] });
  });
});

describe('event patterns (matches)', () => {
  const event = {
    source: 'customer.api',
    'detail-type': 'CustomerCreated',
    detail: { id: 'c-1', tags: ['vip', 'eu'], plan: 'gold' },
  };

  it('matches when every field of the pattern lists the event value', () => {
    expect(matches({ source: ['customer.api'], 'detail-type': ['CustomerCreated'] }, event)).toBe(
      true,
    );
    expect(matches({ source: ['other', 'customer.api'] }, event)).toBe(true);
  });

  it('does not match a different value, a missing field or different case', () => {
    expect(matches({ 'detail-type': ['CustomerDeleted'] }, event)).toBe(false);
    expect(matches({ 'detail-type': ['customercreated'] }, event)).toBe(false);
    expect(matches({ account: ['123'] }, event)).toBe(false);
  });

  it('matches nested detail fields, arrays in the event by any element', () => {
    expect(matches({ detail: { id: ['c-1'] } }, event)).toBe(true);
    expect(matches({ detail: { tags: ['eu'] } }, event)).toBe(true);
    expect(matches({ detail: { tags: ['us'] } }, event)).toBe(false);
    expect(matches({ detail: { missing: { deeper: ['x'] } } }, event)).toBe(false);
  });

  it('supports prefix and exists', () => {
    expect(matches({ source: [{ prefix: 'customer.' }] }, event)).toBe(true);
    expect(matches({ source: [{ prefix: 'order.' }] }, event)).toBe(false);
    expect(matches({ detail: { plan: [{ exists: true }] } }, event)).toBe(true);
    expect(matches({ detail: { coupon: [{ exists: false }] } }, event)).toBe(true);
    expect(matches({ detail: { plan: [{ exists: false }] } }, event)).toBe(false);
  });
});

describe('atPath (a target input path)', () => {
  it('reads $ and $.a.b paths', () => {
    expect(atPath('$.detail', { detail: { id: 'x' } })).toEqual({ id: 'x' });
    expect(atPath('$.detail.id', { detail: { id: 'x' } })).toBe('x');
    expect(atPath('$', 1)).toBe(1);
    expect(atPath('$.a.b', { a: 1 })).toBeUndefined();
  });

  it('refuses a path the local bus cannot follow', () => {
    expect(() => atPath('$.items[0]', {})).toThrow(/unsupported/);
  });
});
