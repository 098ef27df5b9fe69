import type { EndpointId } from '../../../domain/ids.ts';
import type { DeliveryStore } from '../../delivery-store.ts';
import type { Db } from '../db.ts';
import { chunks, paddedIn } from '../sql-lists.ts';

/**
 * Endpoint leases (one sending worker at a time for an endpoint with limits of its own), timed by
 * the database's clock (`nowMsSql`, epoch ms), so hosts whose clocks disagree still agree on them.
 */

export type EndpointLeaseQueries = Pick<DeliveryStore, 'holdEndpointLeases' | 'releaseEndpointLeases'>;

export function createEndpointLeaseQueries(db: Db, nowMsSql: string): EndpointLeaseQueries {
  const now = nowMsSql;
  return {
    async holdEndpointLeases(holder, endpointIds, leaseMs) {
      const held: EndpointId[] = [];
      for (const chunk of chunks([...new Set(endpointIds)])) {
        // An upsert whose update applies only to a free, expired or own lease: the row lock
        // makes a second asker wait for the first's commit, then see the lease taken.
        const rows = await db.all<{ endpoint_id: string }>(
          `INSERT INTO endpoint_leases (endpoint_id, holder, until_ms) VALUES ${chunk.map(() => `(?, ?, ${now} + ?)`).join(', ')}
           ON CONFLICT (endpoint_id) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
           WHERE endpoint_leases.holder = excluded.holder OR endpoint_leases.until_ms <= ${now}
           RETURNING endpoint_id`,
          chunk.flatMap((id) => [id, holder, leaseMs]),
        );
        for (const r of rows) held.push(r.endpoint_id as EndpointId);
      }
      return held;
    },
    async releaseEndpointLeases(holder, endpointIds) {
      for (const chunk of chunks(endpointIds)) {
        const p = paddedIn(chunk);
        await db.run(`DELETE FROM endpoint_leases WHERE holder = ? AND endpoint_id IN (${p.marks})`, [
          holder,
          ...p.params,
        ]);
      }
    },
  };
}
