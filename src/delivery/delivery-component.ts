import type { Component, ComponentContext } from '../component.ts';
import { createDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from './delivery-worker.ts';
import { parseEgressAllowList } from './egress-guard.ts';
import { createEndpointService, type EndpointService } from './endpoint-service.ts';
import { createPublisher, type Publisher } from './publisher.ts';

export interface DeliveryComponent extends Component {
  /** Publishes messages in-process (group commit); the inbound router forwards routed events here. */
  readonly publisher: Publisher;
  /** The worker, when this process runs the delivery role. */
  readonly worker: DeliveryWorker | null;
  /** Endpoints' management (the composition root serves it as API routes). */
  readonly endpoints: EndpointService;
}

/**
 * The outbound area as one component: the endpoints' service, the publisher, and the delivery
 * worker (role `delivery`). The composition root serves the first two as API routes.
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
    endpoints,
    async start() {
      await worker?.start();
    },
    async stop() {
      await publisher.close();
      await worker?.stop();
    },
  };
}
