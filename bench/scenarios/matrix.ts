/**
 * Builds trial rows from a parameter matrix (frame size x batch size ...), so a scenario
 * that sweeps parameters is still one declarative table: the cross product of the axes,
 * each combination turned into a row by a naming function.
 */
import type { JsonObject, JsonValue } from '../scenario-types.js';

/** Every combination of the axes, in row-major order of the keys as given. */
export function cross(axes: Record<string, readonly JsonValue[]>): JsonObject[] {
  let out: JsonObject[] = [{}];
  for (const [key, values] of Object.entries(axes)) {
    if (values.length === 0) throw new RangeError(`matrix axis ${key} has no values`);
    out = out.flatMap((base) => values.map((v) => ({ ...base, [key]: v })));
  }
  return out;
}
