import { randomBytes } from 'node:crypto';
import type { EndpointId, ProjectId } from '../domain/ids.ts';
import type { ClaimedDelivery } from '../store/delivery-store.ts';
import type { Store } from '../store/store.ts';

/**
 * Immediate wake-up of delivery workers after a publish commits, so the happy path never waits
 * for a poll. In-process listeners are called at once (the SQLite case, and the publishing node
 * on PostgreSQL); on PostgreSQL a NOTIFY also reaches workers in other processes. Notifies are
 * coalesced: at most one is in flight per store, and publishes during it cause one more, so a
 * burst of publishes costs a couple of NOTIFYs, not one each.
 */

export const DELIVERY_CHANNEL = 'hookyard_deliveries';

interface StoreWakeState {
  /** Tags this store's NOTIFYs: its local listeners were called already and skip the echo. */
  token: string;
  listeners: Set<() => void>;
  notifying: boolean;
  again: boolean;
}

const states = new WeakMap<object, StoreWakeState>();

function stateOf(store: Store): StoreWakeState {
  let s = states.get(store);
  if (!s) {
    s = { token: randomBytes(8).toString('hex'), listeners: new Set(), notifying: false, again: false };
    states.set(store, s);
  }
  return s;
}

/** Registers an in-process listener; returns the function that removes it. */
export function onDeliveryWake(store: Store, listener: () => void): () => void {
  const s = stateOf(store);
  s.listeners.add(listener);
  return () => s.listeners.delete(listener);
}

/** Listens for other processes' wake-ups (PostgreSQL); resolves to the unlisten function. */
export async function listenForRemoteWakes(store: Store, listener: () => void): Promise<() => Promise<void>> {
  if (!store.listen) return async () => {};
  const { token } = stateOf(store);
  return store.listen(DELIVERY_CHANNEL, (payload) => {
    if (payload !== token) listener();
  });
}

/** Wakes every delivery worker that may claim what was just committed. Never throws. */
export function wakeDeliveryWorkers(store: Store): void {
  const s = stateOf(store);
  for (const listener of s.listeners) listener();
  if (!store.notify) return;
  if (s.notifying) {
    s.again = true;
    return;
  }
  s.notifying = true;
  const send = (): void => {
    s.again = false;
    store.notify?.(DELIVERY_CHANNEL, s.token).then(done, done);
  };
  const done = (): void => {
    if (s.again) send();
    else s.notifying = false;
  };
  send();
}

/**
 * The delivery worker running in this process on this store, if any. A publisher hands it the
 * deliveries it can take at once (stored already leased), which saves a claim per delivery and
 * its round trip on the latency path. Should the process die first, the lease runs out and any
 * worker claims them.
 */
export interface LocalDeliveryWorker {
  /** How long hand-off leases last. */
  readonly leaseMs: number;
  /**
   * Reserves room for one delivery to this endpoint; false when its lane or project is full, or
   * when the endpoint is `limited` (limits of its own) and another process may be sending for it.
   */
  reserve(projectId: ProjectId, endpointId: EndpointId, limited: boolean): boolean;
  /** Reserved deliveries that were committed (leased): send them. */
  handOff(deliveries: ClaimedDelivery[]): void;
  /** Reserved deliveries that were not committed (a duplicate, or the transaction failed). */
  cancel(reservations: ReadonlyArray<{ projectId: ProjectId; endpointId: EndpointId }>): void;
}

const localWorkers = new WeakMap<object, LocalDeliveryWorker>();

export function setLocalDeliveryWorker(store: Store, worker: LocalDeliveryWorker): void {
  localWorkers.set(store, worker);
}

/** Unregisters `worker` (and only it: another worker may have registered since). */
export function clearLocalDeliveryWorker(store: Store, worker: LocalDeliveryWorker): void {
  if (localWorkers.get(store) === worker) localWorkers.delete(store);
}

export function localDeliveryWorker(store: Store): LocalDeliveryWorker | undefined {
  return localWorkers.get(store);
}
