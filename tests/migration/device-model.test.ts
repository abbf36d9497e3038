// The compatibility check a destination runs on the source's device descriptor before any
// downtime: table-driven, each refusal must name the parameter.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PARAMS, VF_MODEL_ID, VF_MODEL_VERSION, checkCompatible, decodeDescriptor, encodeDescriptor,
  type DestinationCapabilities, type DeviceDescriptor,
} from '../../mediator/migration/device-model.js';

const dest: DestinationCapabilities = { model: VF_MODEL_ID, version: VF_MODEL_VERSION, params: { ...DEFAULT_PARAMS } };
const src = (over: Partial<DeviceDescriptor['params']> = {}, top: Partial<DeviceDescriptor> = {}): DeviceDescriptor =>
  ({ model: VF_MODEL_ID, version: VF_MODEL_VERSION, params: { ...DEFAULT_PARAMS, ...over }, ...top });

describe('device model compatibility', () => {
  it('accepts an identical configuration and a smaller source FIFO', () => {
    expect(() => checkCompatible(src(), dest)).not.toThrow();
    expect(() => checkCompatible(src({ rxFifoBytes: 4096 }), dest)).not.toThrow();
    expect(() => checkCompatible(src({ headWriteBack: false }), dest)).not.toThrow();
  });

  const refusals: [string, DeviceDescriptor, DestinationCapabilities][] = [
    ['model', src({}, { model: 'acme.other-nic' }), dest],
    ['version', src({}, { version: [2, 0] }), dest],
    ['queues', src({ queues: 1 }), dest],
    ['macPolicy', src({ macPolicy: 'fixed' }), dest],
    ['headWriteBack', src(), { ...dest, params: { ...DEFAULT_PARAMS, headWriteBack: false } }],
    ['rxFifoBytes', src({ rxFifoBytes: 1 << 20 }), dest],
    ['multiDescriptorRx', src(), { ...dest, params: { ...DEFAULT_PARAMS, multiDescriptorRx: false } }],
  ];
  for (const [param, s, d] of refusals) {
    it(`refuses a mismatch in ${param}, naming it`, () => {
      expect(() => checkCompatible(s, d)).toThrow(expect.objectContaining({ code: 'VFMED_ERR_INCOMPATIBLE', parameter: param }));
    });
  }

  it('a newer minor version of the same major is accepted', () => {
    expect(() => checkCompatible(src({}, { version: [1, 9] }), dest)).not.toThrow();
  });
});

describe('device descriptor encoding', () => {
  it('round-trips', () => {
    const d = src({ queues: 2, rxFifoBytes: 32768 });
    expect(decodeDescriptor(encodeDescriptor(d))).toEqual(d);
  });

  it('an older stream without newer parameters gets their defaults', () => {
    const old = Buffer.from(JSON.stringify({ model: VF_MODEL_ID, version: [1, 0], params: { queues: 2 } }));
    expect(decodeDescriptor(old).params).toEqual(DEFAULT_PARAMS);
  });

  it('refuses unknown parameters by name, and malformed descriptors as corrupt', () => {
    const future = Buffer.from(JSON.stringify({ model: VF_MODEL_ID, version: [1, 4], params: { rssKeyBytes: 40 } }));
    expect(() => decodeDescriptor(future)).toThrow(expect.objectContaining({ code: 'VFMED_ERR_INCOMPATIBLE', parameter: 'rssKeyBytes' }));
    for (const bad of ['not json', '[]', '{"model":1}', '{"model":"x","version":[1]}', `{"model":"x","version":[1,0],"params":{"queues":"2"}}`]) {
      expect(() => decodeDescriptor(Buffer.from(bad)), bad).toThrow(expect.objectContaining({ code: 'VFMED_ERR_STREAM_CORRUPT' }));
    }
  });
});
