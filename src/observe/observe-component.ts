import type { Component, ComponentContext } from '../component.ts';
import { createLiveStreams, DEFAULT_STREAM_OPTIONS, type LiveStreams } from './live-stream.ts';
import { createRefusedRequestRecorder, type RefusedRequestRecorder } from './refused-request-recorder.ts';

export interface ObserveComponent extends Component {
  /** The ingest path reports refusals here. */
  readonly refusals: RefusedRequestRecorder;
  readonly streams: LiveStreams;
}

const REFUSED_BUFFER = 1000;
const REFUSED_FLUSH_MS = 250;

/**
 * What the console and the CLI watch: the live stream and refused requests (recorded on any
 * process that ingests). Its API routes (stream, refused requests, attempts, deliveries, the test
 * sender, stats) are wired by the composition root.
 */
export function createObserveComponent(ctx: ComponentContext): ObserveComponent {
  const { config, store, clock, logger } = ctx;
  const streams = createLiveStreams(
    { store, clock, logger },
    {
      ...DEFAULT_STREAM_OPTIONS,
      maxPerProject: config.streamMaxPerProject,
      heartbeatMs: config.streamHeartbeatMs,
    },
  );
  const refusals = createRefusedRequestRecorder(
    { store, clock, logger, onWritten: () => streams.wake() },
    {
      maxBuffered: REFUSED_BUFFER,
      flushIntervalMs: REFUSED_FLUSH_MS,
      retentionMs: config.refusedRetentionMs,
      keepPerSource: config.refusedPerSource,
    },
  );
  return {
    refusals,
    streams,
    async start() {
      refusals.start();
    },
    async stop() {
      streams.closeAll();
      await refusals.stop();
    },
  };
}
