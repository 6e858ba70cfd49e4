import type { Page, PageRequest } from '../../platform/page.js';
import { EventsErrors } from './events.errors.js';
import type { RequestKey, User } from './events.model.js';
import { createdOrRetried } from './events.rules.js';
import type { UserRepository } from './events.users.repository.js';

export interface UsersServiceDeps {
  readonly repository: UserRepository;
  /** Time-ordered unique ids (UUIDv7). */
  readonly newId: () => string;
  readonly clock: () => Date;
}

/** Users: created once (a retry of the same request gets the user back), read, listed. */
export class UsersService {
  constructor(private readonly deps: UsersServiceDeps) {}

  async createUser(
    input: { userId?: string | undefined; name: string },
    requestKey?: RequestKey,
  ): Promise<User> {
    const user: User = {
      userId: input.userId ?? this.deps.newId(),
      name: input.name,
      createdAt: this.deps.clock().toISOString(),
    };
    const created = await this.deps.repository.createUser(user, requestKey);
    return createdOrRetried(created, user, requestKey, () => EventsErrors.userExists(user.userId));
  }

  async getUser(userId: string): Promise<User> {
    const user = await this.deps.repository.getUser(userId);
    if (!user) throw EventsErrors.userNotFound(userId);
    return user;
  }

  listUsers(page: PageRequest): Promise<Page<User>> {
    return this.deps.repository.listUsers(page);
  }
}
