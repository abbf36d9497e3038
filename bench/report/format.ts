/**
 * Human formatting of benchmark figures: a value in its metric's unit scaled to a readable
 * prefix (1234 ns -> "1.23 µs", 5.1e6 pps -> "5.10 Mpps"), ratios as "×", fractions as
 * percentages, relative changes with a sign. Used by the terminal table, Markdown, HTML and
 * --compare alike so a figure reads the same everywhere.
 */

/** Three significant digits, no exponent for ordinary magnitudes. */
export function sig3(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

const TIME: [number, string][] = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];

export function formatValue(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  switch (unit) {
    case 'ns': {
      const [div, u] = TIME.find(([d]) => Math.abs(v) >= d) ?? [1, 'ns'];
      return `${sig3(v / div)} ${u}`;
    }
    case 'ms':
      return Math.abs(v) >= 1000 ? `${sig3(v / 1000)} s` : `${sig3(v)} ms`;
    case 'pps':
      return scaled(v, 'pps');
    case 'bps':
      return scaled(v, 'bit/s');
    case 'bytes': {
      const units: [number, string][] = [[2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
      const [div, u] = units.find(([d]) => Math.abs(v) >= d) ?? [1, 'B'];
      return `${sig3(v / div)} ${u}`;
    }
    case 'percent':
      return `${sig3(v)} %`;
    case 'fraction':
      return `${sig3(v * 100)} %`;
    case 'ratio':
      return `${sig3(v)}×`;
    case 'count':
      return Number.isInteger(v) ? String(v) : sig3(v);
    default:
      return `${sig3(v)} ${unit}`;
  }
}

function scaled(v: number, u: string): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${sig3(v / 1e9)} G${u}`;
  if (a >= 1e6) return `${sig3(v / 1e6)} M${u}`;
  if (a >= 1e3) return `${sig3(v / 1e3)} k${u}`;
  return `${sig3(v)} ${u}`;
}

/** "+12.3 %" / "−4.0 %" / "±0 %"; null when there is no baseline. */
export function formatChange(a: number, b: number): string | null {
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0) return null;
  const pct = ((b - a) / Math.abs(a)) * 100;
  if (Math.abs(pct) < 0.05) return '±0 %';
  return `${pct > 0 ? '+' : '−'}${sig3(Math.abs(pct))} %`;
}

/** Escapes text for XML/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
