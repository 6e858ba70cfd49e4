import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { authModule } from '../../src/modules/auth/auth.module.js';
import { freePort } from '../../src/runtime/local/ports.js';
import { localTokenIssuer } from '../../src/runtime/local/token-issuer.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { captureChildOutput } from '../support/log-capture.js';
import {
  BANNER_END,
  cleanRuntimeEnv,
  javaProcessesMentioning,
  killJavaMentioning,
  parseBanner,
  type RosterProcess,
  repoRoot,
  startRoster,
  stopRoster,
} from '../support/process.js';

const PASSWORD = 'Str0ng-Passw0rd!';
const NEW_PASSWORD = 'An0ther-Passw0rd?';

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run users -- …` (or its entry point directly) with `input` on standard input. */
function users(
  args: string[],
  env: Record<string, string>,
  input = '',
  via: 'node' | 'npm' = 'node',
): Promise<CliRun> {
  const [command, prefix] =
    via === 'npm'
      ? ['npm', ['run', 'users', '--silent', '--']]
      : [process.execPath, ['--import', 'tsx', 'src/runtime/local/users.ts']];
  const base = cleanRuntimeEnv();
  const child = spawn(command, [...prefix, ...args], {
    cwd: repoRoot,
    env: { ...base, LOG_LEVEL: 'silent', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  captureChildOutput(child, 'users');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((done) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    }),
  );
}

describe('npm run users against a configured endpoint', { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  let env: Record<string, string>;
  let app: TestApp;

  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'roster-users-'));
    dirs.push(dataDir);
    const prefix = `u${randomBytes(5).toString('hex')}`;
    env = {
      DATA_DIR: dataDir,
      DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
      TABLE_PREFIX: prefix,
    };
    // The app on the same tables and data directory, as `npm start` would be.
    app = await createTestApp({
      modules: [authModule],
      env: { TABLE_PREFIX: prefix },
      ports: { tokens: await localTokenIssuer({ dataDir }) },
    });
  });

  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const signIn = (username: string, password: string) =>
    app.call('/auth/token', { method: 'POST', key: null, json: { username, password } });

  it('adds a user with the password from standard input, printing nothing secret', async () => {
    const run = await users(['add', 'alice'], env, `${PASSWORD}\n`, 'npm');

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^added alice \(sub [0-9a-f-]{36}\)\n$/);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    expect((await signIn('alice', PASSWORD)).status).toBe(200);
  });

  it('lists users without their hashes', async () => {
    const run = await users(['list'], env);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^alice\t[0-9a-f-]{36}\t\d{4}-\d\d-\d\dT/m);
    expect(run.stdout).not.toMatch(/scrypt/);
  });

  it('changes a password: the new one signs in, the old one no longer does', async () => {
    const run = await users(['passwd', 'alice'], env, `${NEW_PASSWORD}\n`);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(NEW_PASSWORD);
    expect((await signIn('alice', NEW_PASSWORD)).status).toBe(200);
    expect((await signIn('alice', PASSWORD)).status).toBe(401);
  });

  it('refuses a weak password, stating the policy, and stores nothing', async () => {
    const run = await users(['add', 'bob'], env, 'password\n');

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/at least 12 characters/);
    expect(run.stderr).toMatch(/uppercase letter, a digit and a symbol/);
    expect(run.stderr).not.toContain('password\n');
    expect((await users(['list'], env)).stdout).not.toMatch(/^bob\t/m);
  });

  it('refuses a password given on the command line, without echoing it', async () => {
    const run = await users(['add', 'carol', PASSWORD], env);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/never taken from the command line/);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    expect((await users(['list'], env)).stdout).not.toMatch(/^carol\t/m);
  });

  it('refuses to add a user twice', async () => {
    const run = await users(['add', 'ALICE'], env, `${PASSWORD}\n`);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/alice already exists/);
  });

  it('removes a user, who can then no longer sign in', async () => {
    const run = await users(['remove', 'alice'], env);

    expect(run.code, run.stderr).toBe(0);
    expect((await signIn('alice', NEW_PASSWORD)).status).toBe(401);
    expect((await users(['list'], env)).stdout).toBe('');
  });

  it('prints its usage for an unknown command', async () => {
    const run = await users(['frobnicate'], env);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/usage: npm run users -- add <name> \| list/);
  });
});

describe('npm run users on the data directory', { timeout: 180_000 }, () => {
  const started: RosterProcess[] = [];
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'roster-users-dir-'));
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map(stopRoster));
  });

  afterAll(async () => {
    killJavaMentioning(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  const token = (url: string, username: string) =>
    fetch(`${url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: PASSWORD }),
    });

  it('starts and stops its own DynamoDB Local when no server runs, and uses the server’s when one does', async () => {
    // No server: the CLI opens the files itself, and leaves nothing running.
    const first = await users(['add', 'dana'], { DATA_DIR: dataDir }, `${PASSWORD}\n`);
    expect(first.code, first.stderr).toBe(0);
    expect(javaProcessesMentioning(dataDir)).toEqual([]);

    // The server sees that user…
    const roster = startRoster({ PORT: String(await freePort()), DATA_DIR: dataDir });
    started.push(roster);
    const { url } = parseBanner(await roster.waitForOutput(BANNER_END));
    expect((await token(url, 'dana')).status).toBe(200);
    const [serverJava] = javaProcessesMentioning(dataDir);

    // …and a CLI run while it serves the directory uses its DynamoDB Local, opening no second one.
    const second = await users(['add', 'eli'], { DATA_DIR: dataDir }, `${PASSWORD}\n`);

    expect(second.code, second.stderr).toBe(0);
    expect(javaProcessesMentioning(dataDir)).toEqual([serverJava]);
    const res = await token(url, 'eli');
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    const events = await fetch(`${url}/events`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(events.status).toBe(200);
  });
});
