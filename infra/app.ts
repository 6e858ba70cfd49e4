import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { modules } from '../src/modules/index.js';
import { loadModuleInfra } from './module-infra.js';
import { RosterStack } from './roster-stack.js';
import { stageParameters } from './stage.js';

/**
 * `npm run synth|deploy|destroy -- -c stage=prod [-c corsOrigins=https://a.example,https://b.example]
 * [-c alarmEmail=ops@example.com] [-c schedules=off] [-c retainData=false] [-c console=false]`:
 * one stack per stage, named Roster-<stage> (docs/deploy.md lists the parameters).
 */
// As in src/runtime/local/main.ts: the SDK's notice about its future Node requirement is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const app = new App();
const parameters = stageParameters((key) => app.node.tryGetContext(key));
const projectRoot = fileURLToPath(new URL('..', import.meta.url));

const stack = new RosterStack(app, `Roster-${parameters.stage}`, {
  stage: parameters.stage,
  projectRoot,
  modules,
  moduleInfra: await loadModuleInfra(modules),
  retainData: parameters.retainData,
  schedules: parameters.schedules,
  ...(parameters.corsOrigins ? { corsOrigins: parameters.corsOrigins } : {}),
  ...(parameters.alarmEmail ? { alarmEmail: parameters.alarmEmail } : {}),
  ...(parameters.console ? { console: { assetsDir: join(projectRoot, 'console', 'dist') } } : {}),
  // Environment-agnostic: the template is the same with or without credentials (and the same as
  // the tests synthesize); `cdk deploy` deploys it to the account and region of the credentials.
  description: `Roster (${parameters.stage}): REST API, Lambda, DynamoDB, schedules, alarms, web console`,
});
Tags.of(stack).add('project', 'roster');
Tags.of(stack).add('stage', parameters.stage);

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
