import { registerEndpointRoutes } from '../api/endpoint-routes.ts';
import { registerEventTypeRoutes } from '../api/event-type-routes.ts';
import { registerMessageRoutes } from '../api/message-routes.ts';
import { registerSdkEndpointRoutes } from '../api/sdk-endpoint-routes.ts';
import type { Component, ComponentContext } from '../main.ts';
import { createDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from './delivery-worker.ts';
import { parseEgressAllowList } from './egress-guard.ts';
import { createEndpointService } from './endpoint-service.ts';
import { createPublisher, type Publisher } from './publisher.ts';

export interface DeliveryComponent extends Component {
  /** Publishes messages in-process (group commit); the inbound router forwards routed events here. */
  readonly publisher: Publisher;
  /** The worker, when this process runs the delivery role. */
  readonly worker: DeliveryWorker | null;
}

/**
 * The outbound area as one component: the management routes for endpoints, event types and
 * messages (served when the process has the `api` role), the publisher, and the delivery worker
 * (role `delivery`).
 */
export function createDeliveryComponent(
  ctx: ComponentContext,
  options: { worker?: DeliveryWorkerOptions } = {},
): DeliveryComponent {
  const { config, store, secrets, clock, logger } = ctx;
  const publisher = createPublisher({ store, clock });
  const endpoints = createEndpointService({
    store,
    secrets,
    clock,
    egressAllow: parseEgressAllowList(config.egressAllow),
  });
  const worker = config.roles.includes('delivery')
    ? createDeliveryWorker(
        { store, clock, logger, secrets, publisher },
        {
          batchSize: config.deliveryBatchSize,
          concurrency: config.deliveryConcurrency,
          egressAllow: config.egressAllow,
          ...options.worker,
        },
      )
    : null;
  return {
    publisher,
    worker,
    apiModules: [
      (api) => registerEndpointRoutes(api, { store, endpoints, clock }),
      (api) => registerEventTypeRoutes(api, { store, clock }),
      (api) => registerMessageRoutes(api, { store, publisher, clock }),
    ],
    sdkModules: [(sdk) => registerSdkEndpointRoutes(sdk, { store, endpoints })],
    async start() {
      await worker?.start();
    },
    async stop() {
      await publisher.close();
      await worker?.stop();
    },
  };
}
