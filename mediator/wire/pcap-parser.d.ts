/**
 * Types of the parts of the `pcap-parser` package (0.2.x, plain JS, no bundled types) that
 * mediator/wire/pcap-file.ts uses.
 */
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';
  import type { Readable } from 'node:stream';

  export interface PcapGlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }

  export interface PcapPacketHeader {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }

  export interface PcapPacket {
    header: PcapPacketHeader;
    data: Buffer;
  }

  export interface PcapParser extends EventEmitter {
    /** bytes received but not parsed yet (a truncated record at the end of the input) */
    buffer: Buffer | null;
    on(event: 'globalHeader', cb: (h: PcapGlobalHeader) => void): this;
    on(event: 'packet', cb: (p: PcapPacket) => void): this;
    on(event: 'error', cb: (e: Error) => void): this;
    on(event: 'end', cb: () => void): this;
  }

  export function parse(input: string | Readable): PcapParser;
}
