import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { modules } from '../src/modules/index.js';
import { loadModuleInfra } from './module-infra.js';
import { RosterStack } from './roster-stack.js';

/**
 * `npx cdk synth|deploy -c stage=prod [-c corsOrigins=https://a.example,https://b.example]
 * [-c alarmEmail=ops@example.com] [-c console=false]` — one stack per stage, named Roster-<stage>.
 * The web console (console/dist, built by npm install) is deployed unless `console=false`.
 */
const app = new App();

const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
};

const stage = context('stage') ?? 'dev';
const corsOrigins = context('corsOrigins')
  ?.split(',')
  .map((origin) => origin.trim())
  .filter(Boolean);
const alarmEmail = context('alarmEmail');
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const withConsole = context('console') !== 'false';

const stack = new RosterStack(app, `Roster-${stage}`, {
  stage,
  projectRoot,
  modules,
  moduleInfra: await loadModuleInfra(modules),
  ...(corsOrigins ? { corsOrigins } : {}),
  ...(alarmEmail ? { alarmEmail } : {}),
  ...(withConsole ? { console: { assetsDir: join(projectRoot, 'console', 'dist') } } : {}),
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  },
  description: `Roster (${stage}): REST API, Lambda, DynamoDB, schedules, alarms, web console`,
});
Tags.of(stack).add('project', 'roster');
Tags.of(stack).add('stage', stage);

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
