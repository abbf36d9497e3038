/**
 * Parser of the kernel test's result channel: the lines the guest's /init writes to its
 * second serial port (ttyS1, a host file). Only the test writes there, so kernel messages
 * never interleave with a result line. Line grammar (one record per line, CR stripped):
 *
 *   VFMED-BOOTED <guest uptime s>            /init started
 *   VFMED-RESULT <step> ok|fail <detail...>  one per step, in order
 *   VFMED-DATA <step> <key> <value...>       facts a step reports for the host to check
 *   VFMED-DMESG <line>                       the guest's dmesg, copied at the end
 *   VFMED-END <ok count> <fail count>        /init finished (then it powers off)
 *
 * Anything else (a partial last line while the guest is still writing) is ignored.
 */

export interface StepResult {
  step: string;
  ok: boolean;
  detail: string;
}

export interface GuestResults {
  bootedUptime: number | null;
  steps: StepResult[];
  /** step -> key -> value */
  data: Map<string, Map<string, string>>;
  dmesg: string[];
  end: { ok: number; fail: number } | null;
}

export function parseResults(text: string): GuestResults {
  const r: GuestResults = { bootedUptime: null, steps: [], data: new Map(), dmesg: [], end: null };
  const lines = text.split('\n');
  // The last element is an unterminated line while the guest is writing: skip it.
  lines.pop();
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    const sp = line.indexOf(' ');
    const tag = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    switch (tag) {
      case 'VFMED-BOOTED':
        r.bootedUptime = Number.parseFloat(rest);
        break;
      case 'VFMED-RESULT': {
        const m = /^(\S+) (ok|fail) ?(.*)$/.exec(rest);
        if (m) r.steps.push({ step: m[1]!, ok: m[2] === 'ok', detail: m[3] ?? '' });
        break;
      }
      case 'VFMED-DATA': {
        const m = /^(\S+) (\S+) ?(.*)$/.exec(rest);
        if (m) {
          let d = r.data.get(m[1]!);
          if (!d) r.data.set(m[1]!, (d = new Map()));
          d.set(m[2]!, m[3] ?? '');
        }
        break;
      }
      case 'VFMED-DMESG':
        r.dmesg.push(rest);
        break;
      case 'VFMED-END': {
        const m = /^(\d+) (\d+)$/.exec(rest);
        if (m) r.end = { ok: Number(m[1]), fail: Number(m[2]) };
        break;
      }
      default:
        break;
    }
  }
  return r;
}

/** The step's result, or undefined if the guest has not reported it (yet). */
export function stepResult(r: GuestResults, step: string): StepResult | undefined {
  return r.steps.find((s) => s.step === step);
}

/** A data value the guest reported; throws naming what is missing. */
export function dataValue(r: GuestResults, step: string, key: string): string {
  const v = r.data.get(step)?.get(key);
  if (v === undefined) throw new Error(`guest reported no ${key} for step ${step}`);
  return v;
}

/**
 * dmesg lines that mean the kernel is unhappy: WARN()/BUG()/oops splats, slab debugging
 * reports, lockups and hung tasks, list corruption. The taint of our unsigned out-of-tree
 * module ("module verification failed", "loading out-of-tree module taints kernel") is
 * expected and not matched.
 */
const BAD_DMESG = [
  /WARNING: CPU:/, /\bBUG[: ]/, /Call Trace:/, /Oops/, /general protection fault/,
  /kernel BUG at/, /\bRIP: /, /list_(add|del) corruption/, /Poison overwritten/,
  /Redzone overwritten/, /Object already free/, /soft lockup/, /hard LOCKUP/,
  /blocked for more than/, /refcount_t:/, /KASAN/, /UBSAN/, /Unable to handle/,
  /double free/i, /use-after-free/i, /leak/i,
];

export function badDmesgLines(lines: string[]): string[] {
  return lines.filter((l) => BAD_DMESG.some((re) => re.test(l)));
}
