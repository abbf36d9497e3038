/**
 * The parts of vfmed a benchmark scenario may depend on, and whether they exist in this
 * build. A scenario or trial row that needs an unbuilt component is `pending`: the harness
 * refuses to run it by name ("scenario passthrough needs the guest runner (not built yet)")
 * and lists it in every report, so a missing part can never show up as a number.
 *
 * `built` is a fact about the source tree, kept here by hand: when a component lands, the
 * helper who wires its trial entry point flips it and removes the `pending` of the tables
 * that needed it.
 */
import type { ComponentId } from './scenario-types.js';

export interface Component {
  id: ComponentId;
  /** Noun phrase used in messages: "needs <title> (not built yet)". */
  title: string;
  built: boolean;
  /** Why a scenario cannot do without it. */
  role: string;
}

export const COMPONENTS: Readonly<Record<ComponentId, Component>> = {
  'guest-runner': {
    id: 'guest-runner',
    title: 'the guest runner',
    built: true,
    role: 'vfmed-guest (C): the poll-mode VF driver and VMM runtime whose BAR stores trap by SIGSEGV '
      + 'and whose traffic generator drives frames at a set rate and batch size',
  },
  'vfio-user-server': {
    id: 'vfio-user-server',
    title: 'the vfio-user server',
    built: true,
    role: 'mediator/vfio: REGION_READ/WRITE, sparse mmap and the trap-BAR info region a trapped '
      + 'access travels through',
  },
  'mediator-trapping': {
    id: 'mediator-trapping',
    title: 'the mediator with BAR0 trapping',
    built: true,
    role: 'mediator/mediate: flips pages 2-3 to trapped and runs the tail-trap tracker on each '
      + 'trapped doorbell',
  },
  'live-migration': {
    id: 'live-migration',
    title: 'live migration (vfmed migrate)',
    built: true,
    role: 'source and destination daemons, pre-copy of guest RAM with dirty bitmaps, stop-copy of '
      + 'the VF state, resume on the destination',
  },
};

/** Titles of the components in `needs` that are not built, in order. */
export function missingComponents(needs: readonly ComponentId[]): Component[] {
  return needs.map((id) => COMPONENTS[id]).filter((c) => !c.built);
}

/** "the guest runner and the vfio-user server" */
export function joinTitles(cs: readonly Component[]): string {
  const t = cs.map((c) => c.title);
  if (t.length <= 1) return t.join('');
  return `${t.slice(0, -1).join(', ')} and ${t[t.length - 1]}`;
}
