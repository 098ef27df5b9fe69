export interface Series {
  name: string;
  /** A CSS class that colours the line (series-1…series-4). */
  tone: string;
  values: (number | null)[];
}

const W = 600;
const H = 180;
const PAD = { left: 44, right: 8, top: 10, bottom: 24 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / p) * p;
}

/** A small SVG line chart over evenly spaced buckets; its numbers are also given as a table for screen readers. */
export function LineChart({
  title,
  labels,
  series,
  unit = '',
}: {
  title: string;
  labels: string[];
  series: Series[];
  unit?: string;
}) {
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const n = Math.max(1, labels.length - 1);
  const x = (i: number) => PAD.left + (i / n) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - v / max) * (H - PAD.top - PAD.bottom);
  const path = (values: (number | null)[]) => {
    let d = '';
    let pen = false;
    values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  };
  const ticks = [0, max / 2, max];
  const labelEvery = Math.max(1, Math.ceil(labels.length / 6));
  return (
    <figure class="chart">
      <figcaption>
        {title}
        <span class="legend">
          {series.map((s) => (
            <span key={s.name} class={`legend-item ${s.tone}`}>
              {s.name}
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        {ticks.map((t) => (
          <g key={t}>
            <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text class="tick" x={PAD.left - 4} y={y(t) + 4} text-anchor="end">
              {Number.isInteger(t) ? t : t.toFixed(1)}
              {unit}
            </text>
          </g>
        ))}
        {labels.map((l, i) =>
          i % labelEvery === 0 ? (
            <text key={l + i} class="tick" x={x(i)} y={H - 6} text-anchor="middle">
              {l}
            </text>
          ) : null,
        )}
        {series.map((s) => (
          <g key={s.name} class={s.tone}>
            <path class="line" d={path(s.values)} />
            {s.values.map((v, i) =>
              // A dot where a value stands alone: a line needs two points to show.
              v !== null && (s.values[i - 1] ?? null) === null && (s.values[i + 1] ?? null) === null ? (
                <circle key={i} class="dot" cx={x(i)} cy={y(v)} r={3} />
              ) : null,
            )}
          </g>
        ))}
      </svg>
      <table class="sr-only">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th>time</th>
            {series.map((s) => (
              <th key={s.name}>{s.name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {labels.map((l, i) => (
            <tr key={l + i}>
              <td>{l}</td>
              {series.map((s) => (
                <td key={s.name}>{s.values[i] ?? ''}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
