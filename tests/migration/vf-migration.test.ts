// What each v2 arc does to the VF (trap/untrap, quiesce/resume, save/load), with a fake VF
// that records its calls; and the v1 region driving the same controller end to end.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { MigState as S } from '../../mediator/migration/fsm.js';
import { VfMigrationController, type TrapControl, type VfControl } from '../../mediator/migration/vf-migration.js';
import { DEFAULT_PARAMS, VF_MODEL_ID, VF_MODEL_VERSION } from '../../mediator/migration/device-model.js';
import { END_OF_STREAM, NO_MORE_FOR_NOW } from '../../mediator/migration/device-stream.js';
import { V1, V1MigrationRegion, V1_DATA_OFFSET, V1_OFF } from '../../mediator/migration/v1-region.js';

class FakeVf implements VfControl {
  calls: string[] = [];
  loaded: Buffer | undefined;
  constructor(public state = randomBytes(2000), public queues = 2, public failSave = false) {}
  descriptor() { return { model: VF_MODEL_ID, version: VF_MODEL_VERSION, params: { ...DEFAULT_PARAMS, queues: this.queues } }; }
  config() { return {}; }
  stateSizeEstimate() { return this.state.length; }
  saveState() { this.calls.push('save'); if (this.failSave) throw new Error('VF_SAVE: ETIMEDOUT'); return this.state; }
  loadState(b: Buffer) { this.calls.push('load'); this.loaded = Buffer.from(b); }
  capabilities() { return this.descriptor(); }
  quiesce() { this.calls.push('quiesce'); }
  resume() { this.calls.push('resume'); }
}
class FakeTraps implements TrapControl {
  constructor(public log: string[]) {}
  async trap() { this.log.push('trap'); }
  untrap() { this.log.push('untrap'); }
}
const mk = (vf = new FakeVf()) => { const traps = new FakeTraps(vf.calls); return { vf, ctl: new VfMigrationController(vf, traps) }; };

function drain(ctl: VfMigrationController): { data: Buffer; stop: symbol } {
  const parts: Buffer[] = [];
  for (;;) { const r = ctl.read(512); if (typeof r === 'symbol') return { data: Buffer.concat(parts), stop: r }; parts.push(r); }
}

describe('VF migration arcs', () => {
  it('live path: PRE_COPY traps before any data, STOP_COPY quiesces and saves, STOP untraps', async () => {
    const { vf, ctl } = mk();
    await ctl.setState(S.PRE_COPY);
    expect(vf.calls).toEqual(['trap']);
    expect(ctl.trapped).toBe(true);
    expect(drain(ctl).stop).toBe(NO_MORE_FOR_NOW);
    await ctl.setState(S.STOP_COPY);
    expect(vf.calls).toEqual(['trap', 'quiesce', 'save']);
    expect(drain(ctl).stop).toBe(END_OF_STREAM);
    await ctl.setState(S.STOP);
    expect(vf.calls).toEqual(['trap', 'quiesce', 'save', 'untrap']);
    expect(ctl.trapped).toBe(false);
  });

  it('abort from PRE_COPY returns to RUNNING untrapped, never stopped', async () => {
    const { vf, ctl } = mk();
    await ctl.setState(S.PRE_COPY_P2P); // RUNNING -> RUNNING_P2P -> PRE_COPY_P2P
    await ctl.setState(S.RUNNING); // -> RUNNING_P2P -> RUNNING
    expect(vf.calls).toEqual(['quiesce', 'trap', 'untrap', 'resume']);
    expect(() => ctl.read(10)).toThrow(/no migration data/);
  });

  it('a source whose destination failed goes STOP_COPY -> RUNNING and resumes', async () => {
    const { vf, ctl } = mk();
    await ctl.setState(S.STOP_COPY);
    await ctl.setState(S.RUNNING);
    // RUNNING -> RUNNING_P2P -> STOP -> STOP_COPY, then -> STOP -> RUNNING_P2P -> RUNNING
    expect(vf.calls).toEqual(['quiesce', 'trap', 'save', 'untrap', 'resume']);
    expect(ctl.state).toBe(S.RUNNING);
    expect(ctl.trapped).toBe(false);
  });

  it('a failed PF save is ERROR, untrapped, left only by reset', async () => {
    const { vf, ctl } = mk(new FakeVf(randomBytes(10), 2, true));
    await ctl.setState(S.PRE_COPY);
    await expect(ctl.setState(S.STOP_COPY)).rejects.toThrow(/ETIMEDOUT/);
    expect(ctl.state).toBe(S.ERROR);
    expect(ctl.trapped).toBe(false);
    expect(vf.calls.at(-1)).toBe('untrap');
    await expect(ctl.setState(S.RUNNING)).rejects.toMatchObject({ code: 'VFMED_ERR_MIG_STATE' });
    ctl.reset();
    expect(ctl.state).toBe(S.RUNNING);
  });

  it('source to destination over v2 reads/writes; an incompatible destination refuses on the initial data', async () => {
    const src = mk(), dst = mk(new FakeVf(Buffer.alloc(0)));
    await src.ctl.setState(S.PRE_COPY);
    await dst.ctl.setState(S.RESUMING);
    dst.ctl.write(drain(src.ctl).data);
    await src.ctl.setState(S.STOP_COPY);
    dst.ctl.write(drain(src.ctl).data);
    await dst.ctl.setState(S.RUNNING);
    expect(dst.vf.loaded).toEqual(src.vf.state);
    expect(dst.vf.calls).toEqual(['quiesce', 'load', 'resume']);

    const src2 = mk(), bad = mk(new FakeVf(Buffer.alloc(0), 1));
    await src2.ctl.setState(S.PRE_COPY);
    await bad.ctl.setState(S.RESUMING);
    expect(() => bad.ctl.write(drain(src2.ctl).data)).toThrow(expect.objectContaining({ parameter: 'queues' }));
    expect(src2.vf.calls).toEqual(['trap']); // the source never stopped
    await expect(bad.ctl.setState(S.STOP)).rejects.toMatchObject({ name: 'ArcRefusedError' });
    expect(bad.ctl.state).toBe(S.RESUMING);
    expect(bad.vf.loaded).toBeUndefined();
  });
});

describe('v1 migration region', () => {
  const rd64 = async (r: V1MigrationRegion, off: number) => (await r.read(off, 8)).readBigUInt64LE(0);
  const wr = async (r: V1MigrationRegion, off: number, v: number | bigint, size: 4 | 8) => {
    const b = Buffer.alloc(size);
    if (size === 4) b.writeUInt32LE(Number(v)); else b.writeBigUInt64LE(BigInt(v));
    await r.write(off, b);
  };

  it('saves with the v1 pending/data_offset/data_size loop and resumes on another VF', async () => {
    const src = mk(new FakeVf(randomBytes(150_000))), dst = mk(new FakeVf(Buffer.alloc(0)));
    const rs = new V1MigrationRegion(src.ctl), rdst = new V1MigrationRegion(dst.ctl);
    await wr(rs, V1_OFF.DEVICE_STATE, V1.SAVING | V1.RUNNING, 4);
    expect((await rs.read(V1_OFF.DEVICE_STATE, 4)).readUInt32LE(0)).toBe(V1.SAVING | V1.RUNNING);
    await wr(rdst, V1_OFF.DEVICE_STATE, V1.RESUMING, 4);
    const copy = async () => {
      while ((await rd64(rs, V1_OFF.PENDING)) > 0n) {
        const off = Number(await rd64(rs, V1_OFF.DATA_OFFSET));
        const n = Number(await rd64(rs, V1_OFF.DATA_SIZE));
        expect(off).toBe(V1_DATA_OFFSET);
        const data = await rs.read(off, n);
        await rdst.write(Number(await rd64(rdst, V1_OFF.DATA_OFFSET)), data);
        await wr(rdst, V1_OFF.DATA_SIZE, n, 8);
      }
    };
    await copy(); // pre-copy: the initial data only
    await wr(rs, V1_OFF.DEVICE_STATE, V1.SAVING, 4);
    await copy(); // stop-and-copy: the state, in several chunks
    await wr(rs, V1_OFF.DEVICE_STATE, V1.STOP, 4);
    await wr(rdst, V1_OFF.DEVICE_STATE, V1.RUNNING, 4);
    expect(dst.vf.loaded).toEqual(src.vf.state);
    expect((await rdst.read(V1_OFF.DEVICE_STATE, 4)).readUInt32LE(0)).toBe(V1.RUNNING);
  });

  it('refuses invalid states, wrong widths, read-only fields and out-of-range accesses', async () => {
    const { ctl } = mk();
    const r = new V1MigrationRegion(ctl);
    for (const v of [V1.SAVING | V1.RESUMING, V1.RUNNING | V1.RESUMING, 7, 8, 0xffffffff]) {
      await expect(wr(r, V1_OFF.DEVICE_STATE, v, 4), `state ${v}`).rejects.toMatchObject({ errno: 22 });
    }
    await expect(r.read(V1_OFF.PENDING, 4)).rejects.toThrow(/8 bytes/);
    await expect(wr(r, V1_OFF.PENDING, 1, 8)).rejects.toThrow(/read-only/);
    await expect(wr(r, V1_OFF.DATA_SIZE, 1, 8)).rejects.toThrow(/RESUMING/);
    await expect(r.read(0x20, 4)).rejects.toThrow(/outside/);
    await expect(r.read(V1_DATA_OFFSET + 0x10000 - 2, 4)).rejects.toThrow(/outside/);
    await expect(r.write(V1_DATA_OFFSET, Buffer.from([1]))).rejects.toThrow(/RESUMING/);
    await wr(r, V1_OFF.DEVICE_STATE, V1.RESUMING, 4);
    await expect(wr(r, V1_OFF.DATA_SIZE, 0x10001, 8)).rejects.toThrow(/exceeds/);
    expect(ctl.state).toBe(S.RESUMING);
  });
});
