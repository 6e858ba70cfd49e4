import { x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item } from '../../platform/dynamo/table.js';
import type { FeedLink, FeedLinkRepository } from './events.calendar.repository.js';

/** Items of an expiring link go a while after it stops working (the table's TTL). */
const KEPT_AFTER_EXPIRY_SECONDS = 90 * 86_400;

const linkKey = (linkId: string) => ({ PK: `FEEDLINK#${linkId}`, SK: 'FEEDLINK' });

/** Feed links on the events table: one small item each, read once per feed fetch. */
export class DynamoFeedLinkRepository implements FeedLinkRepository {
  constructor(private readonly table: DynamoTable) {}

  async issued(link: FeedLink): Promise<void> {
    await this.table.putIfAbsent({
      ...linkKey(link.linkId),
      type: 'feed-link',
      linkId: link.linkId,
      issuedAt: link.issuedAt,
      ...(link.expiresAt
        ? {
            expiresAt: link.expiresAt,
            purgeAt: Math.floor(Date.parse(link.expiresAt) / 1000) + KEPT_AFTER_EXPIRY_SECONDS,
          }
        : {}),
    });
  }

  async find(linkId: string): Promise<FeedLink | undefined> {
    const item = await this.table.get(linkKey(linkId));
    return item ? toFeedLink(item) : undefined;
  }

  async revoke(linkId: string, now: string): Promise<FeedLink | undefined> {
    const result = await this.table.update(linkKey(linkId), {
      update: x`SET revokedAt = if_not_exists(revokedAt, ${now})`,
      condition: x`attribute_exists(PK)`,
    });
    return result.ok ? toFeedLink(result.item) : undefined;
  }
}

function toFeedLink(item: Item): FeedLink {
  return {
    linkId: item.linkId as string,
    issuedAt: item.issuedAt as string,
    expiresAt: item.expiresAt as string | undefined,
    revokedAt: item.revokedAt as string | undefined,
  };
}
