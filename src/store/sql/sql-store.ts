import type { Store } from '../store.ts';
import { createConsoleQueries } from './console-queries.ts';
import { createCredentialQueries } from './credential-queries.ts';
import type { Db } from './db.ts';
import { createDeliveryQueries } from './delivery-queries.ts';
import { createInboundQueries } from './inbound-queries.ts';
import { createIntegrationQueries } from './integration-queries.ts';
import { migrate } from './migrator.ts';
import { createProjectQueries } from './project-queries.ts';
import type { SqlDialect } from './sql-dialect.ts';
import { createTriggerSubscriptionQueries } from './trigger-subscription-queries.ts';
import { createUserQueries } from './user-queries.ts';
import { createWorkflowQueries } from './workflow-queries.ts';

/**
 * The Store over a driver and its dialect (the statements that differ by database, chosen here
 * once); the area query modules are dialect-agnostic.
 */
export function createSqlStore(db: Db, dialect: SqlDialect): Store {
  if (db.dialect !== dialect.name) throw new Error(`a ${db.dialect} driver with the ${dialect.name} dialect`);
  const store: Store = {
    kind: dialect.name,
    capabilities: dialect.capabilities,
    ...createProjectQueries(db),
    ...createInboundQueries(db),
    ...createDeliveryQueries(db, dialect),
    ...createIntegrationQueries(db),
    ...createWorkflowQueries(db),
    ...createUserQueries(db),
    ...createConsoleQueries(db),
    ...createCredentialQueries(db),
    ...createTriggerSubscriptionQueries(db),
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
