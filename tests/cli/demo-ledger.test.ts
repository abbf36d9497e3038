// The demo's receive accounting (mediator/demo/demo-traffic.ts), fed directly: a run only
// passes when every frame reached every expected receiver intact and in order; each kind
// of fault (corruption, loss, duplication, misdelivery, a foreign frame, a frame never
// sent) is counted where it belongs and fails the run.
import { describe, expect, it } from 'vitest';
import { BROADCAST, demoFrame, demoFrameLength, TrafficLedger, type StreamSpec } from '../../mediator/demo/demo-traffic.js';

const A = Uint8Array.of(2, 0, 0, 0, 0, 1);
const B = Uint8Array.of(2, 0, 0, 0, 0, 2);
const streams = (): StreamSpec[] => [
  { id: 1, name: 'A->B', from: 0, src: A, dst: B, receivers: ['b'] },
  { id: 2, name: 'A->bcast', from: 0, src: A, dst: BROADCAST, receivers: ['b', 'uplink'] },
];

function ledgerWithSent(n: number): TrafficLedger {
  const l = new TrafficLedger(streams());
  for (const t of l.streams) t.sent = n;
  return l;
}

function deliverAll(l: TrafficLedger, except?: (stream: number, seq: number, rx: string) => boolean): void {
  for (const t of l.streams) {
    for (let seq = 0; seq < t.sent; seq++) {
      for (const rx of t.stream.receivers) {
        if (!except?.(t.stream.id, seq, rx)) l.receive(rx, demoFrame(t.stream, seq));
      }
    }
  }
}

describe('demo traffic ledger', () => {
  it('every 1455 consecutive frames use each length of 60..1514 once', () => {
    for (const start of [0, 1, 1000, 123456]) {
      const lens = Array.from({ length: 1455 }, (_, i) => demoFrameLength(start + i));
      expect(Math.min(...lens)).toBe(60);
      expect(Math.max(...lens)).toBe(1514);
      expect(new Set(lens).size).toBe(1455);
    }
  });

  it('passes when everything arrives intact and in order', () => {
    const l = ledgerWithSent(20);
    deliverAll(l);
    l.finish();
    expect(l.ok(20)).toBe(true);
    expect(l.problems).toEqual([]);
    expect(l.streams[1]!.rx.get('uplink')!.verified).toBe(20);
  });

  it('a frame short of the planned count fails the run', () => {
    const l = ledgerWithSent(20);
    deliverAll(l);
    l.finish();
    expect(l.ok(21)).toBe(false);
  });

  it('counts a flipped byte as corrupt', () => {
    const l = ledgerWithSent(4);
    const ab = l.streams[0]!.stream;
    const bad = demoFrame(ab, 2);
    bad[bad.length - 1]! ^= 0x01;
    for (const f of [demoFrame(ab, 0), demoFrame(ab, 1), bad, demoFrame(ab, 3)]) l.receive('b', f);
    l.finish();
    const r = l.streams[0]!.rx.get('b')!;
    expect(r).toMatchObject({ verified: 3, corrupt: 1, lost: 0 });
    expect(l.ok(4)).toBe(false);
    expect(l.problems.join('\n')).toMatch(/A->B seq 2 corrupt: frame 1\/2: byte \d+ is/);
  });

  it('counts a truncated frame as corrupt', () => {
    const l = ledgerWithSent(1);
    const f = demoFrame(l.streams[0]!.stream, 0);
    l.receive('b', f.subarray(0, f.length - 1));
    expect(l.streams[0]!.rx.get('b')!.corrupt).toBe(1);
  });

  it('counts a gap as lost and frames never seen as lost at the end', () => {
    const l = ledgerWithSent(10);
    deliverAll(l, (s, seq, rx) => s === 2 && rx === 'uplink' && (seq === 3 || seq === 4 || seq >= 8));
    l.finish();
    expect(l.streams[1]!.rx.get('uplink')!).toMatchObject({ verified: 6, lost: 4 });
    expect(l.ok(10)).toBe(false);
  });

  it('counts a repeated frame as duplicate', () => {
    const l = ledgerWithSent(3);
    deliverAll(l);
    l.receive('b', demoFrame(l.streams[0]!.stream, 1));
    l.finish();
    expect(l.streams[0]!.rx.get('b')!.duplicate).toBe(1);
    expect(l.ok(3)).toBe(false);
  });

  it('counts a frame delivered to a receiver outside its stream as unexpected', () => {
    const l = ledgerWithSent(2);
    deliverAll(l);
    l.receive('uplink', demoFrame(l.streams[0]!.stream, 0)); // unicast A->B leaking to the uplink
    l.finish();
    expect(l.unexpected.get('uplink')).toBe(1);
    expect(l.ok(2)).toBe(false);
  });

  it('counts a foreign frame as unexpected and a frame never sent as corrupt', () => {
    const l = ledgerWithSent(2);
    deliverAll(l);
    l.receive('b', Buffer.alloc(64, 0xee));
    l.receive('b', demoFrame(l.streams[0]!.stream, 7));
    l.finish();
    expect(l.unexpected.get('b')).toBe(1);
    expect(l.streams[0]!.rx.get('b')!.corrupt).toBe(1);
    expect(l.ok(2)).toBe(false);
  });

  it('keeps at most 20 problem lines', () => {
    const l = ledgerWithSent(100);
    for (let i = 0; i < 100; i++) l.receive('b', Buffer.alloc(64));
    expect(l.problems).toHaveLength(20);
  });
});
