/**
 * Checked reads of a trial's JSON parameters: a wrong or missing parameter is a TypeError /
 * RangeError naming the trial parameter, raised before anything is measured.
 */
import type { JsonObject } from '../scenario-types.js';

export function oneOf<T extends string>(p: JsonObject, key: string, allowed: readonly T[]): T {
  const v = p[key];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new RangeError(`parameter ${key} must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
  }
  return v as T;
}

export function intIn(p: JsonObject, key: string, min: number, max: number, dflt?: number): number {
  const v = p[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`parameter ${key} must be an integer in ${min}..${max} (got ${JSON.stringify(p[key])})`);
  }
  return v;
}

export function onlyKeys(p: JsonObject, keys: readonly string[]): void {
  for (const k of Object.keys(p)) {
    if (!keys.includes(k)) throw new RangeError(`unknown parameter ${k} (known: ${keys.join(', ')})`);
  }
}
