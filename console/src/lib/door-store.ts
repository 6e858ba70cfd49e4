import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import { type DoorList, fromStored, type StoredDoorList, toStored } from './door-list';
import type { ScanRecord } from './door-scans';

/**
 * What a door device keeps in IndexedDB, so that a reload (or a dead battery) loses neither the
 * door list nor a scan not yet uploaded: one door list per event, and every scan by its nonce.
 * A scan is written before its result is shown.
 */
interface DoorDb extends DBSchema {
  lists: { key: string; value: StoredDoorList };
  scans: { key: string; value: ScanRecord; indexes: { eventId: string } };
}

export interface DoorStore {
  loadList(eventId: string): Promise<DoorList | undefined>;
  saveList(list: DoorList): Promise<void>;
  loadScans(eventId: string): Promise<ScanRecord[]>;
  saveScan(record: ScanRecord): Promise<void>;
  /** Removes the event's door list and its uploaded scans (queued ones stay). */
  forget(eventId: string): Promise<void>;
}

const DB_NAME = 'roster-door';

export async function openDoorStore(): Promise<DoorStore> {
  const db: IDBPDatabase<DoorDb> = await openDB<DoorDb>(DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore('lists', { keyPath: 'eventId' });
      database.createObjectStore('scans', { keyPath: 'nonce' }).createIndex('eventId', 'eventId');
    },
  });
  return {
    async loadList(eventId) {
      const stored = await db.get('lists', eventId);
      return stored ? fromStored(stored) : undefined;
    },
    async saveList(list) {
      await db.put('lists', toStored(list));
    },
    loadScans: (eventId) => db.getAllFromIndex('scans', 'eventId', eventId),
    async saveScan(record) {
      await db.put('scans', record);
    },
    async forget(eventId) {
      const tx = db.transaction(['lists', 'scans'], 'readwrite');
      await tx.objectStore('lists').delete(eventId);
      const scans = tx.objectStore('scans');
      for (const record of await scans.index('eventId').getAll(eventId)) {
        if (record.state !== 'queued') await scans.delete(record.nonce);
      }
      await tx.done;
    },
  };
}

const DEVICE_KEY = 'roster.door.device';

/** This device's name at the door (`admittedBy`), kept across sessions in localStorage. */
export const storedDeviceName = (): string | null => window.localStorage.getItem(DEVICE_KEY);
export const storeDeviceName = (name: string): void =>
  window.localStorage.setItem(DEVICE_KEY, name);
