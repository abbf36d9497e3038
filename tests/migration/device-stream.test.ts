// The device-state stream between a source and a destination VF, with a fake VF whose
// state is an opaque blob: pre-copy initial data and its ENOMSG/EOF semantics, the
// compatibility refusal before any stop, corrupted/truncated streams refused at RESUMING ->
// STOP with the destination VF untouched.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  DeviceStateSink, DeviceStateSource, END_OF_STREAM, NO_MORE_FOR_NOW, type VfStateAccess,
} from '../../mediator/migration/device-stream.js';
import { DEFAULT_PARAMS, VF_MODEL_ID, VF_MODEL_VERSION, type VfDeviceParams } from '../../mediator/migration/device-model.js';
import { ArcRefusedError } from '../../mediator/migration/fsm-runner.js';

class FakeVf implements VfStateAccess {
  loaded: Buffer | undefined;
  saves = 0;
  constructor(public state: Buffer, public params: VfDeviceParams = { ...DEFAULT_PARAMS }, public refuseLoad = false) {}
  descriptor() { return { model: VF_MODEL_ID, version: VF_MODEL_VERSION, params: this.params }; }
  config() { return { mac: '02:00:00:00:00:01' }; }
  stateSizeEstimate() { return this.state.length; }
  saveState() { this.saves++; return this.state; }
  loadState(b: Buffer) { if (this.refuseLoad) throw Object.assign(new Error('VF_LOAD: EBADMSG'), { errno: 74 }); this.loaded = Buffer.from(b); }
  capabilities() { return { model: VF_MODEL_ID, version: VF_MODEL_VERSION, params: this.params }; }
}

function drain(src: DeviceStateSource, chunk: number): { data: Buffer; stop: symbol } {
  const parts: Buffer[] = [];
  for (;;) {
    const r = src.read(chunk);
    if (typeof r === 'symbol') return { data: Buffer.concat(parts), stop: r };
    parts.push(r);
  }
}

describe('device state stream', () => {
  it('pre-copy initial data, then ENOMSG, then stop-copy state and EOF; destination loads it', () => {
    const srcVf = new FakeVf(randomBytes(3000));
    const src = new DeviceStateSource(srcVf);
    src.startPreCopy();
    const info = src.precopyInfo();
    expect(info.initialBytes).toBeGreaterThan(0);
    expect(info.dirtyBytes).toBe(0);
    const dst = new DeviceStateSink(new FakeVf(Buffer.alloc(0)));
    const initial = drain(src, 7);
    expect(initial.stop).toBe(NO_MORE_FOR_NOW);
    expect(initial.data.length).toBe(info.initialBytes);
    expect(src.precopyInfo().initialBytes).toBe(0);
    expect(srcVf.saves).toBe(0); // the source has not stopped yet
    dst.write(initial.data);
    expect(dst.descriptor?.model).toBe(VF_MODEL_ID); // compatibility known before any downtime

    const estimate = src.stopCopySize();
    src.startStopCopy();
    expect(srcVf.saves).toBe(1);
    expect(src.stopCopySize()).toBeLessThanOrEqual(estimate);
    const rest = drain(src, 1000);
    expect(rest.stop).toBe(END_OF_STREAM);
    dst.write(rest.data);
    const dstVf = (dst as unknown as { vf: FakeVf }).vf;
    dst.finish();
    expect(dstVf.loaded).toEqual(srcVf.state);
  });

  it('stop-copy without pre-copy still carries the descriptor first', () => {
    const src = new DeviceStateSource(new FakeVf(Buffer.from('state')));
    src.startStopCopy();
    const all = drain(src, 4096);
    const dstVf = new FakeVf(Buffer.alloc(0));
    const dst = new DeviceStateSink(dstVf);
    dst.write(all.data);
    dst.finish();
    expect(dstVf.loaded?.toString()).toBe('state');
  });

  it('an incompatible destination refuses on the initial data, naming the parameter', () => {
    const src = new DeviceStateSource(new FakeVf(Buffer.from('s'), { ...DEFAULT_PARAMS, queues: 2 }));
    src.startPreCopy();
    const dst = new DeviceStateSink(new FakeVf(Buffer.alloc(0), { ...DEFAULT_PARAMS, queues: 1 }));
    expect(() => dst.write(drain(src, 4096).data)).toThrow(expect.objectContaining({ code: 'VFMED_ERR_INCOMPATIBLE', parameter: 'queues' }));
    expect(() => dst.finish()).toThrow(ArcRefusedError);
  });

  it('corrupted, truncated or refused streams fail RESUMING -> STOP and leave the VF untouched', () => {
    const mk = () => { const s = new DeviceStateSource(new FakeVf(randomBytes(500))); s.startStopCopy(); return drain(s, 1 << 20).data; };
    const cases: [string, (d: Buffer) => Buffer][] = [
      ['flipped byte in the state', (d) => { const b = Buffer.from(d); b[b.length - 100]! ^= 0x40; return b; }],
      ['truncated', (d) => d.subarray(0, d.length - 5)],
      ['no end marker', (d) => d.subarray(0, d.length - 20)],
    ];
    for (const [name, mutate] of cases) {
      const vf = new FakeVf(Buffer.alloc(0));
      const dst = new DeviceStateSink(vf);
      try { dst.write(mutate(mk())); } catch { /* refused as it arrived: finish must refuse too */ }
      expect(() => dst.finish(), name).toThrow(ArcRefusedError);
      expect(vf.loaded, name).toBeUndefined();
    }
    const refusing = new FakeVf(Buffer.alloc(0), { ...DEFAULT_PARAMS }, true);
    const dst = new DeviceStateSink(refusing);
    dst.write(mk());
    expect(() => dst.finish()).toThrow(expect.objectContaining({ code: 'VFMED_ERR_LOAD_REFUSED' }));
  });

  it('phase errors are clear', () => {
    const src = new DeviceStateSource(new FakeVf(Buffer.from('x')));
    expect(() => src.read(10)).toThrow(expect.objectContaining({ code: 'VFMED_ERR_MIG_STATE' }));
    expect(() => src.precopyInfo()).toThrow(/PRE_COPY/);
    expect(() => src.read(0)).toThrow(RangeError);
    src.startStopCopy();
    expect(() => src.startStopCopy()).toThrow(/already/);
    expect(() => src.startPreCopy()).toThrow(/pre-copy/);
  });
});
