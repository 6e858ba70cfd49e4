import { x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item } from '../../platform/dynamo/table.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { eventsKeys } from './events.dynamo.js';
import type { Created, RequestKey, User } from './events.model.js';
import type { UserRepository } from './events.users.repository.js';

const { user: userKey } = eventsKeys;

/** Users on the events table (key design in events.dynamo.ts): `USER#<userId>`, listed by gsi2. */
export class DynamoUserRepository implements UserRepository {
  constructor(private readonly table: DynamoTable) {}

  async createUser(user: User, requestKey: RequestKey): Promise<Created<User>> {
    const put = await this.table.putIfAbsent({
      ...userKey(user.userId),
      type: 'user',
      ...user,
      ...(requestKey ? { requestKey } : {}),
      GSI2PK: 'USERS',
      GSI2SK: `${user.createdAt}#${user.userId}`,
    });
    if (put.created) return put;
    return {
      created: false,
      existing: put.existing ? toUser(put.existing) : undefined,
      requestKey: put.existing?.requestKey,
      beingDeleted: false,
    };
  }

  async getUser(userId: string): Promise<User | undefined> {
    const item = await this.table.get(userKey(userId));
    return item ? toUser(item) : undefined;
  }

  listUsers(page: PageRequest): Promise<Page<User>> {
    return this.table.queryPage(
      'users',
      { index: eventsKeys.collectionsIndex, key: x`GSI2PK = ${'USERS'}` },
      page,
      toUser,
    );
  }
}

function toUser(item: Item): User {
  return { userId: item.userId, name: item.name, createdAt: item.createdAt };
}
