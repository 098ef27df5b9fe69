/**
 * When a failed routing job runs again, as a pure function of how many times it was claimed. A
 * failure is usually a subscriber's dependency being down (the store, later a provider) or an
 * event no subscriber can take; the first clears within minutes, the second never does. Delays
 * grow fourfold from one second to an hour, and after MAX_ROUTING_ATTEMPTS claims (about four
 * hours) the job is set aside: kept with its error, listed by the API and replayable, so it never
 * holds up the events behind it.
 */
export const MAX_ROUTING_ATTEMPTS = 10;
const FIRST_RETRY_DELAY_MS = 1000;
const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;

/** The time to claim the job again after its `attempts`-th claim failed, or null to set it aside. */
export function routingRetryAtMs(attempts: number, nowMs: number): number | null {
  if (attempts >= MAX_ROUTING_ATTEMPTS) return null;
  const delayMs = Math.min(FIRST_RETRY_DELAY_MS * 4 ** Math.max(0, attempts - 1), MAX_RETRY_DELAY_MS);
  return nowMs + delayMs;
}
