import type { Page, PageRequest } from '../../platform/page.js';
import type { Created, RequestKey, User } from './events.model.js';

/** The users port: users are created once, read, and listed. */
export interface UserRepository {
  createUser(user: User, requestKey: RequestKey): Promise<Created<User>>;
  getUser(userId: string): Promise<User | undefined>;
  listUsers(page: PageRequest): Promise<Page<User>>;
}
