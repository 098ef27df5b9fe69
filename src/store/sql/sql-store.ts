import type { Store } from '../store.ts';
import type { Db } from './db.ts';
import { createDeliveryQueries } from './delivery-queries.ts';
import { createInboundQueries } from './inbound-queries.ts';
import { createIntegrationQueries } from './integration-queries.ts';
import { migrate } from './migrator.ts';
import { createProjectQueries } from './project-queries.ts';

/** The Store over either driver. Area query modules are dialect-agnostic; dialect forks live inside them. */
export function createSqlStore(db: Db): Store {
  const store: Store = {
    kind: db.dialect,
    ...createProjectQueries(db),
    ...createInboundQueries(db),
    ...createDeliveryQueries(db),
    ...createIntegrationQueries(db),
    migrate: () => migrate(db),
    async ping() {
      await db.get('SELECT 1 AS ok');
    },
    close: () => db.close(),
  };
  if (db.listen && db.notify) {
    store.listen = db.listen.bind(db);
    store.notify = db.notify.bind(db);
  }
  return store;
}
