import { x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item } from '../../platform/dynamo/table.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type { LocalUser, UserSummary } from './auth.model.js';
import type { AttemptCommit, AuthRepository } from './auth.repository.js';

/*
 * Key design (table declared in auth.module.ts):
 *   user      PK=USER#<username>    GSI1PK=USERS, GSI1SK=<username>
 *   throttle  PK=LOGIN#<username>   tat (epoch ms), expiresAt (TTL, epoch s)
 * A throttle item expires (TTL) a while after its last attempt stopped counting; until DynamoDB
 * removes it, a `tat` in the past counts as none.
 */

const userKey = (username: string) => ({ PK: `USER#${username}` });
const throttleKey = (username: string) => ({ PK: `LOGIN#${username}` });
export const authKeys = { usersIndex: 'gsi1' } as const;

/** Seconds the throttle item outlives its `tat`, before TTL may remove it. */
const THROTTLE_TTL_MARGIN_SECONDS = 3600;

export class DynamoAuthRepository implements AuthRepository {
  constructor(private readonly table: DynamoTable) {}

  async getUser(username: string): Promise<LocalUser | undefined> {
    const item = await this.table.get(userKey(username));
    return item ? toUser(item) : undefined;
  }

  async createUser(user: LocalUser): Promise<boolean> {
    const put = await this.table.putIfAbsent({
      ...userKey(user.username),
      type: 'user',
      ...user,
      GSI1PK: 'USERS',
      GSI1SK: user.username,
    });
    return put.created;
  }

  async setPasswordHash(username: string, passwordHash: string, now: string): Promise<boolean> {
    const result = await this.table.update(userKey(username), {
      update: x`SET passwordHash = ${passwordHash}, updatedAt = ${now}`,
      condition: x`attribute_exists(PK)`,
    });
    return result.ok;
  }

  async deleteUser(username: string): Promise<boolean> {
    const result = await this.table.delete(userKey(username), x`attribute_exists(PK)`);
    return result.ok;
  }

  listUsers(page: PageRequest): Promise<Page<UserSummary>> {
    return this.table.queryPage(
      'auth-users',
      { index: authKeys.usersIndex, key: x`GSI1PK = ${'USERS'}` },
      page,
      (item) => {
        const { passwordHash: _, ...summary } = toUser(item);
        return summary;
      },
    );
  }

  async startAttempts(username: string, tat: number, now: number): Promise<AttemptCommit> {
    return this.throttleWrite(username, {
      update: x`SET tat = ${tat}, expiresAt = ${expiry(tat)}`,
      // Nothing counts any more: no item, or its last attempt has decayed.
      condition: x`attribute_not_exists(tat) OR tat < ${now}`,
    });
  }

  async extendAttempts(
    username: string,
    by: number,
    now: number,
    limit: number,
  ): Promise<AttemptCommit> {
    return this.throttleWrite(username, {
      update: x`SET tat = tat + ${by}, expiresAt = ${expiry(limit + by)}`,
      // Still counting, and room for one more: concurrent attempts each need their own room.
      condition: x`tat >= ${now} AND tat <= ${limit}`,
    });
  }

  async refundAttempt(username: string, by: number): Promise<void> {
    await this.table.update(throttleKey(username), {
      update: x`SET tat = tat - ${by}`,
      condition: x`attribute_exists(tat)`,
    });
  }

  private async throttleWrite(
    username: string,
    expressions: Parameters<DynamoTable['update']>[1],
  ): Promise<AttemptCommit> {
    const result = await this.table.update(throttleKey(username), expressions);
    if (result.ok) return { ok: true };
    const tat = result.current?.tat;
    return typeof tat === 'number' ? { ok: false, tat } : { ok: false };
  }
}

const expiry = (tat: number) => Math.ceil(tat / 1000) + THROTTLE_TTL_MARGIN_SECONDS;

function toUser(item: Item): LocalUser {
  return {
    username: item.username as string,
    sub: item.sub as string,
    passwordHash: item.passwordHash as string,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
  };
}
