/** A raw Server-Sent Events reader for tests: every frame as sent, comments (heartbeats) included. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

export interface SseConnection {
  status: number;
  headers: Headers;
  frames: SseFrame[];
  /** Resolves with the first `count` frames that match (rejects after timeoutMs). */
  waitFor(match: (f: SseFrame) => boolean, count?: number, timeoutMs?: number): Promise<SseFrame[]>;
  close(): void;
  /** The body text when the answer was not a stream. */
  text(): Promise<string>;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const frames: SseFrame[] = [];
  const streaming =
    res.status === 200 && (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  if (streaming && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end = buffer.indexOf('\n\n');
          while (end !== -1) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) frames.push({ comment: line.slice(1).trim() });
            }
            const frame: SseFrame = {};
            for (const line of block.split('\n')) {
              const colon = line.indexOf(':');
              if (colon <= 0) continue;
              const field = line.slice(0, colon);
              const value = line.slice(colon + 1).replace(/^ /, '');
              if (field === 'id' || field === 'event' || field === 'data') frame[field] = value;
            }
            if (frame.event || frame.data) frames.push(frame);
            end = buffer.indexOf('\n\n');
          }
        }
      } catch {
        // aborted
      }
    })();
  }
  return {
    status: res.status,
    headers: res.headers,
    frames,
    async waitFor(match, count = 1, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const got = frames.filter(match);
        if (got.length >= count) return got.slice(0, count);
        if (Date.now() > end) {
          throw new Error(`timed out waiting for ${count} frames; got ${JSON.stringify(frames)}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => controller.abort(),
    text: () => res.text(),
  };
}
