// pcap files for the end-to-end suites: a small writer for the input files (classic
// libpcap, microsecond or nanosecond magic) and readers that are NOT vfmed's code — tcpdump
// prints every frame's bytes, tshark counts and checks the file — so a pcap the daemon
// writes is judged by the tools people use.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export function writePcap(path: string, frames: readonly Buffer[], opts: { nanosecond?: boolean; snaplen?: number } = {}): void {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(opts.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(opts.snaplen ?? 65535, 16);
  head.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const parts = [head];
  frames.forEach((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(i % 1000, 4);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, f);
  });
  writeFileSync(path, Buffer.concat(parts));
}

/** Every frame's bytes as tcpdump reads them (`tcpdump -r FILE -nn -xx`). */
export function tcpdumpFrames(path: string): Buffer[] {
  const out = execFileSync('tcpdump', ['-r', path, '-nn', '-xx'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  const frames: Buffer[] = [];
  let cur: string[] | null = null;
  for (const line of out.split('\n')) {
    const m = /^\s+0x[0-9a-f]+:\s+((?:[0-9a-f]{2,4}\s?)+)/.exec(line);
    if (m) {
      cur!.push(m[1]!.replace(/\s+/g, ''));
    } else if (line.trim() !== '') {
      if (cur) frames.push(Buffer.from(cur.join(''), 'hex'));
      cur = [];
    }
  }
  if (cur) frames.push(Buffer.from(cur.join(''), 'hex'));
  return frames;
}

/** tshark's view: frame count and whatever it said on stderr (empty for a sound file). */
export function tsharkCheck(path: string): { status: number | null; frames: number; stderr: string } {
  const r = spawnSync('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.len', '-e', 'frame.cap_len'],
    { encoding: 'utf8', maxBuffer: 256 << 20 });
  const rows = r.stdout.split('\n').filter((l) => l.trim() !== '');
  const bad = rows.filter((l) => {
    const [, len, cap] = l.split('\t');
    return len !== cap;
  });
  // tshark warns about running as root on stderr; that is not about the file
  const stderr = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/Running as user "root"/.test(l)).join('\n');
  return { status: r.status, frames: rows.length, stderr: bad.length ? `${stderr}\n${bad.length} frames captured short` : stderr };
}

const EXT = Buffer.from('020000abcd01', 'hex');

/** A mixed set of frames to `dst`: UDP/IPv4 of many sizes, IPv6, ARP (an unpadded 42-byte
 * one, as a host captures it), an 802.1Q priority-tagged frame; contents depend on i. */
export function mixedFrames(dst: Buffer, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 10;
    const src = Buffer.from(EXT);
    src[5] = i & 0xff;
    let f: Buffer;
    if (kind === 3) {
      f = Buffer.alloc(42); // ARP request, unpadded
      Buffer.from('ffffffffffff', 'hex').copy(f, 0);
      src.copy(f, 6);
      f.writeUInt16BE(0x0806, 12);
      Buffer.from('0001080006040001', 'hex').copy(f, 14);
      src.copy(f, 22);
      f.writeUInt32BE(0xc0000201 + (i & 0xff), 28);
      f.writeUInt32BE(0xc0000202, 38);
    } else {
      const len = [60, 61, 64, 128, 511, 999, 1280, 1514, 777][kind % 9]!;
      f = Buffer.alloc(len);
      dst.copy(f, 0);
      src.copy(f, 6);
      if (kind === 7) {
        f.writeUInt16BE(0x8100, 12); // 802.1Q, VID 0 (priority tag: every VF accepts it)
        f.writeUInt16BE(0x6000, 14);
        f.writeUInt16BE(0x0800, 16);
      } else {
        f.writeUInt16BE(kind === 5 ? 0x86dd : 0x0800, 12);
      }
      for (let k = 18; k < len; k++) f[k] = (i * 31 + k * 7) & 0xff;
      f.writeUInt32BE(i, 20);
    }
    out.push(f);
  }
  return out;
}

/** What a MAC-swapping forwarder on a VF with MAC `own` sends for frame f: back to the
 * sender (destination = f's source), from itself (source = own), the rest unchanged. */
export function forwardedBy(own: Buffer, f: Buffer): Buffer {
  const g = Buffer.from(f);
  f.copy(g, 0, 6, 12);
  own.copy(g, 6);
  return g;
}
