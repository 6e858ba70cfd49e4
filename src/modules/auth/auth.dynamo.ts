import { type Fragment, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item } from '../../platform/dynamo/table.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type { AttemptsOn, LocalUser, UserSummary } from './auth.model.js';
import type { AttemptCommit, AuthRepository } from './auth.repository.js';

/*
 * Key design (table declared in auth.module.ts):
 *   user      PK=USER#<username>    GSI1PK=USERS, GSI1SK=<username>, tat (epoch ms; never a TTL)
 *   throttle  PK=LOGIN#<username>   tat (epoch ms), expiresAt (TTL, epoch s)
 * A local user's attempts are counted on their own item: the write is conditioned on the item
 * existing, so an unknown username costs the same one write request and leaves nothing behind.
 * The throttle item is for a user pool (the table can't know its users): it expires (TTL) a while
 * after its last attempt stopped counting; until DynamoDB removes it, a `tat` in the past counts
 * as none.
 */

const userKey = (username: string) => ({ PK: `USER#${username}` });
const throttleKey = (username: string) => ({ PK: `LOGIN#${username}` });
export const authKeys = { usersIndex: 'gsi1' } as const;

/** Seconds the throttle item outlives its `tat`, before TTL may remove it. */
const THROTTLE_TTL_MARGIN_SECONDS = 3600;

export class DynamoAuthRepository implements AuthRepository {
  constructor(private readonly table: DynamoTable) {}

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

  async startAttempts(
    on: AttemptsOn,
    username: string,
    tat: number,
    now: number,
  ): Promise<AttemptCommit> {
    return this.throttleWrite(on, username, {
      update: on === 'user' ? x`SET tat = ${tat}` : x`SET tat = ${tat}, expiresAt = ${expiry(tat)}`,
      // Nothing counts any more: no `tat`, or its last attempt has decayed.
      condition: x`attribute_not_exists(tat) OR tat < ${now}`,
    });
  }

  async extendAttempts(
    on: AttemptsOn,
    username: string,
    by: number,
    now: number,
    limit: number,
  ): Promise<AttemptCommit> {
    return this.throttleWrite(on, username, {
      update:
        on === 'user'
          ? x`SET tat = tat + ${by}`
          : x`SET tat = tat + ${by}, expiresAt = ${expiry(limit + by)}`,
      // Still counting, and room for one more: concurrent attempts each need their own room.
      condition: x`tat >= ${now} AND tat <= ${limit}`,
    });
  }

  async refundAttempt(on: AttemptsOn, username: string, by: number): Promise<void> {
    await this.table.update(keyOf(on, username), {
      update: x`SET tat = tat - ${by}`,
      condition: x`attribute_exists(tat)`,
    });
  }

  private async throttleWrite(
    on: AttemptsOn,
    username: string,
    expressions: { update: Fragment; condition: Fragment },
  ): Promise<AttemptCommit> {
    const result = await this.table.update(keyOf(on, username), {
      update: expressions.update,
      // On a user's item, only an existing user: an update would otherwise create the item.
      condition:
        on === 'user'
          ? x`attribute_exists(PK) AND (${expressions.condition})`
          : expressions.condition,
    });
    if (result.ok) return on === 'user' ? { ok: true, user: toUser(result.item) } : { ok: true };
    const tat = result.current?.tat;
    return {
      ok: false,
      exists: result.current !== undefined,
      ...(typeof tat === 'number' ? { tat } : {}),
    };
  }
}

const keyOf = (on: AttemptsOn, username: string) =>
  on === 'user' ? userKey(username) : throttleKey(username);

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
