import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { freePort } from '../../src/runtime/local/ports.js';
import {
  BANNER_END,
  exitOf,
  javaChildrenOf,
  javaProcessesMentioning,
  killJavaMentioning,
  linesOf,
  parseBanner,
  type RosterProcess,
  startRoster,
  stopRoster,
} from '../support/process.js';

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

/** What an item written before a restart must still be after it. */
async function readMarker(endpoint: string, id: string) {
  const { doc, client } = createDynamoClients({ region: 'us-east-1', endpoint });
  try {
    const out = await doc.send(
      new GetCommand({ TableName: 'roster-idempotency', Key: { id }, ConsistentRead: true }),
    );
    return out.Item;
  } finally {
    client.destroy();
  }
}

describe('local runtime (npm start) as a process', { timeout: 120_000 }, () => {
  const started: RosterProcess[] = [];
  const dirs: string[] = [];
  const servers: Server[] = [];

  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'roster-local-'));
    dirs.push(dir);
    return dir;
  };

  const start = (env: Record<string, string | undefined>, via: 'node' | 'npm' = 'node') => {
    const roster = startRoster(env, via);
    started.push(roster);
    return roster;
  };

  afterEach(async () => {
    await Promise.all(started.splice(0).map(stopRoster));
    for (const dir of dirs) killJavaMentioning(dir);
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
  });

  it('prints its URLs, key and data dir, answers /health, and exits 0 on SIGTERM leaving no Java', async () => {
    const dataDir = await tempDir();
    const port = await freePort();

    const roster = start({ PORT: String(port), DATA_DIR: dataDir });
    const banner = await roster.waitForOutput(BANNER_END);

    const { url, apiKey } = parseBanner(banner);
    expect(url).toBe(`http://localhost:${port}`);
    expect(banner).toContain(`http://localhost:${port}/docs`);
    expect(banner).toMatch(new RegExp(`^\\s*Console\\s+http://localhost:${port}/console/$`, 'm'));
    expect(apiKey).toMatch(/^rk_[A-Za-z0-9_-]{20,}$/);
    expect(banner).toContain(dataDir);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const withKey = await fetch(`${url}/no-such-route`, { headers: { 'x-api-key': apiKey } });
    expect(withKey.status).toBe(404);
    const withoutKey = await fetch(`${url}/no-such-route`);
    expect(withoutKey.status).toBe(401);
    const consolePage = await fetch(`${url}/console/`);
    expect(consolePage.status).toBe(200);
    expect(await consolePage.text()).toContain('<div id="root"></div>');
    expect(roster.stderr()).toBe('');

    // Stopping: exit 0, and the DynamoDB Local it started is gone too.
    expect(javaProcessesMentioning(dataDir)).toHaveLength(1);
    roster.child.kill('SIGTERM');
    expect(await exitOf(roster)).toEqual({ code: 0, signal: null });
    expect(javaProcessesMentioning(dataDir)).toEqual([]);
  });

  it('leaves nothing running when `npm start` itself receives SIGTERM', async () => {
    const dataDir = await tempDir();
    const roster = start({ PORT: String(await freePort()), DATA_DIR: dataDir }, 'npm');
    const { url } = parseBanner(await roster.waitForOutput(BANNER_END));
    expect(javaProcessesMentioning(dataDir)).toHaveLength(1);

    roster.child.kill('SIGTERM');
    await exitOf(roster);

    await expect.poll(() => javaProcessesMentioning(dataDir), { timeout: 10_000 }).toEqual([]);
    await expect.poll(() => answers(url), { timeout: 10_000 }).toBe(false);
  });

  it('stops what it started when SIGTERM arrives while DynamoDB Local is still starting', async () => {
    const dataDir = await tempDir();
    const roster = start({ PORT: String(await freePort()), DATA_DIR: dataDir });
    await expect
      .poll(() => javaProcessesMentioning(dataDir), { timeout: 30_000, interval: 20 })
      .toHaveLength(1);
    expect(roster.stdout()).not.toMatch(BANNER_END);

    roster.child.kill('SIGTERM');

    expect(await exitOf(roster)).toEqual({ code: 0, signal: null });
    expect(javaProcessesMentioning(dataDir)).toEqual([]);
    expect(roster.stdout()).not.toMatch(BANNER_END);
  });

  it('stops itself and its DynamoDB Local when `npm start` is killed with SIGKILL', async () => {
    const dataDir = await tempDir();
    const roster = start({ PORT: String(await freePort()), DATA_DIR: dataDir }, 'npm');
    const { url } = parseBanner(await roster.waitForOutput(BANNER_END));

    roster.child.kill('SIGKILL');
    await exitOf(roster);

    await expect.poll(() => javaProcessesMentioning(dataDir), { timeout: 10_000 }).toEqual([]);
    await expect.poll(() => answers(url), { timeout: 10_000 }).toBe(false);
  });

  it('keeps data and the generated API key across a restart on the same DATA_DIR', async () => {
    const dataDir = await tempDir();
    const marker = `marker-${randomBytes(4).toString('hex')}`;
    const first = start({ PORT: String(await freePort()), DATA_DIR: dataDir });
    const before = parseBanner(await first.waitForOutput(BANNER_END));
    const { doc, client } = createDynamoClients({ region: 'us-east-1', endpoint: before.dynamodb });
    await doc.send(
      new PutCommand({ TableName: 'roster-idempotency', Item: { id: marker, note: 'kept' } }),
    );
    client.destroy();
    first.child.kill('SIGTERM');
    expect((await exitOf(first)).code).toBe(0);

    const second = start({ PORT: String(await freePort()), DATA_DIR: dataDir });
    const after = parseBanner(await second.waitForOutput(BANNER_END));

    expect(after.apiKey).toBe(before.apiKey);
    expect(await readMarker(after.dynamodb, marker)).toEqual({ id: marker, note: 'kept' });
    const res = await fetch(`${after.url}/no-such-route`, {
      headers: { 'x-api-key': before.apiKey },
    });
    expect(res.status).toBe(404);
  });

  it('stops the DynamoDB Local orphaned by a SIGKILLed run before starting again', async () => {
    const dataDir = await tempDir();
    const first = start({ PORT: String(await freePort()), DATA_DIR: dataDir });
    await first.waitForOutput(BANNER_END);
    const [orphan] = javaProcessesMentioning(dataDir);
    first.child.kill('SIGKILL');
    await exitOf(first);
    expect(javaProcessesMentioning(dataDir)).toEqual([orphan]);

    const second = start({ PORT: String(await freePort()), DATA_DIR: dataDir });
    const { url } = parseBanner(await second.waitForOutput(BANNER_END));

    const running = javaProcessesMentioning(dataDir);
    expect(running).toHaveLength(1);
    expect(running).not.toContain(orphan);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('exits 1 with one line naming the port when PORT is already in use', async () => {
    const port = await freePort();
    const server = createServer();
    servers.push(server);
    await new Promise<void>((done) => server.listen(port, done));
    const dataDir = await tempDir();

    const roster = start({ PORT: String(port), DATA_DIR: dataDir });
    const exit = await exitOf(roster);

    expect(exit.code).toBe(1);
    const lines = linesOf(roster.stderr());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(String(port));
    expect(javaProcessesMentioning(dataDir)).toEqual([]);
  });

  it('exits 1 with one clear line when DATA_DIR cannot be written', async () => {
    const parent = await tempDir();
    const file = join(parent, 'a-file');
    await writeFile(file, 'not a directory');
    const dataDir = join(file, 'data');

    const roster = start({ PORT: String(await freePort()), DATA_DIR: dataDir });
    const exit = await exitOf(roster);

    expect(exit.code).toBe(1);
    const lines = linesOf(roster.stderr());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(dataDir);
    expect(lines[0]).toMatch(/DATA_DIR/);
    expect(roster.stdout()).toBe('');
  });

  it('exits 1 with one line saying how to install Java when no Java is on PATH', async () => {
    const dataDir = await tempDir();
    const emptyBin = await tempDir();

    const roster = start({
      PORT: String(await freePort()),
      DATA_DIR: dataDir,
      PATH: emptyBin,
      JAVA_HOME: undefined,
    });
    const exit = await exitOf(roster);

    expect(exit.code).toBe(1);
    const lines = linesOf(roster.stderr());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Java/);
    expect(lines[0]).toMatch(/install/i);
    expect(lines[0]).toMatch(/DYNAMODB_ENDPOINT/);
  });

  it('starts no Java of its own when DYNAMODB_ENDPOINT is set', async () => {
    const endpoint = inject('dynamodbEndpoint');
    const dataDir = await tempDir();
    const port = await freePort();

    const roster = start({
      PORT: String(port),
      DATA_DIR: dataDir,
      DYNAMODB_ENDPOINT: endpoint,
      TABLE_PREFIX: `local${randomBytes(4).toString('hex')}`,
      API_KEYS: 'first-configured-key,second-configured-key',
    });
    const banner = await roster.waitForOutput(BANNER_END);

    const parsed = parseBanner(banner);
    expect(parsed.dynamodb).toBe(endpoint);
    expect(parsed.apiKey).toBe('first-configured-key');
    expect(banner).toContain('(from API_KEYS)');
    expect(javaChildrenOf(roster.child.pid ?? -1)).toEqual([]);
    expect(javaProcessesMentioning(dataDir)).toEqual([]);
    const res = await fetch(`${parsed.url}/health`);
    expect(res.status).toBe(200);
    roster.child.kill('SIGTERM');
    expect((await exitOf(roster)).code).toBe(0);
  });
});
