import { Cron } from 'croner';
import type { WorkflowTrigger } from './workflow-document.ts';

/**
 * A schedule trigger's fire times, pure (no clock of its own). "Every N seconds/minutes" counts
 * from the schedule's anchor, not from the top of the hour as cron's `*​/N` would; the calendar
 * kinds (hours at a minute, days at a time, a weekday, cron) are computed by croner in the
 * schedule's IANA time zone, so a local time keeps its meaning across DST changes (a time that
 * does not exist that day fires at the first minute after the gap).
 */

export type ScheduleTrigger = Extract<WorkflowTrigger, { type: 'schedule' }>;

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

export interface SchedulePlan {
  /** Fire times t with afterMs < t <= untilMs, ascending, at most `max` (the latest ones). */
  between(afterMs: number, untilMs: number, max: number): number[];
}

export function planSchedule(trigger: ScheduleTrigger, anchorMs: number): SchedulePlan {
  const every = trigger.every as Record<string, number | string> | undefined;
  const timezone = trigger.timezone ?? 'UTC';
  if (every && (every.seconds !== undefined || every.minutes !== undefined)) {
    const periodMs =
      every.seconds !== undefined ? Number(every.seconds) * 1000 : Number(every.minutes) * 60_000;
    return {
      between(afterMs, untilMs, max) {
        const last = anchorMs + Math.floor((untilMs - anchorMs) / periodMs) * periodMs;
        const out: number[] = [];
        for (let t = last; t > afterMs && out.length < max; t -= periodMs) if (t >= anchorMs) out.push(t);
        return out.reverse();
      },
    };
  }
  let pattern: string;
  let keep: (ms: number) => boolean = () => true;
  if (every?.hours !== undefined) {
    pattern = `${every.atMinute ?? 0} ${Number(every.hours) === 1 ? '*' : `*/${every.hours}`} * * *`;
  } else if (every?.days !== undefined) {
    const [h, m] = String(every.at).split(':');
    pattern = `${Number(m)} ${Number(h)} * * *`;
    const n = Number(every.days);
    const anchorDay = localDay(anchorMs, timezone);
    keep = (ms) => (((localDay(ms, timezone) - anchorDay) % n) + n) % n === 0;
  } else if (every?.weekday !== undefined) {
    const [h, m] = String(every.at).split(':');
    pattern = `${Number(m)} ${Number(h)} * * ${WEEKDAYS.indexOf(String(every.weekday))}`;
  } else {
    pattern = trigger.cron ?? '* * * * *';
  }
  const cron = new Cron(pattern, { timezone, paused: true });
  return {
    between(afterMs, untilMs, max) {
      const out: number[] = [];
      // Walk back from the end: a long downtime costs only the fires that are kept.
      let reference = new Date(untilMs + 1000);
      for (let guard = 0; out.length < max && guard < 100_000; guard++) {
        const [previous] = cron.previousRuns(1, reference);
        if (!previous) break;
        const t = previous.getTime();
        if (t <= afterMs) break;
        if (t <= untilMs && keep(t)) out.push(t);
        reference = new Date(t);
      }
      return out.reverse();
    },
  };
}

/** Days since the epoch of the calendar date at `ms` in `timezone`. */
function localDay(ms: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Math.round(Date.UTC(get('year'), get('month') - 1, get('day')) / 86_400_000);
}
