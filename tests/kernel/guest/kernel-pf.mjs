// kernel-pf.mjs - the mediator's kernel path, run by Node INSIDE the kernel test's guest:
// the project's compiled binding of /dev/vfpf (dist/mediator/pf/kernel-pf.js, KernelPf)
// drives vfpf.ko with every ioctl of pf-driver/linux/vfpf_uapi.h, while the host passes
// traffic on VF1:
//
//   layout      the binding's request numbers == the C compiler's (`vfpf-ctl layout`)
//   info/sriov  GET_INFO, SRIOV_ENABLE (same count: no-op; other count EBUSY; > max EINVAL)
//   mac/config  SET_MAC (multicast EINVAL, VF not enabled ENODEV), VF_CONFIG
//   dirty log   DIRTY_START/REPORT/STOP on VF1 under traffic, through the mediator's own
//               DeviceLogTracker over PfDirtyLog(KernelPf): the pages the device wrote are
//               reported (the host checks them against VF1's rings and buffers)
//   migration   VF_QUIESCE, STATS until frames wait in the RX FIFO, STATE_SIZE + SAVE
//               (too small: ENOSPC; unquiesced VF: EBUSY), the blob checked here (header,
//               sections, CRC-32), corrupt and truncated blobs EBADMSG with the VF
//               untouched, LOAD, VF_RESUME
//   flr         VF_FLR of the idle VF0: its RX/TX are off until its driver resets it again
//   raw         pad != 0 EINVAL, blob over VFPF_IOC_STATE_MAX E2BIG, bad user pointer EFAULT
//
// It runs under the host's own node and the repository's node_modules and dist/, which the
// guest reaches over a read-only virtio-9p export of the host's root, chrooted (init.sh).
// Parameters come from the kernel command line via init's environment (vfmed_*).
// Prints VFMED-DATA lines for the host; exits 1 on the first failed check.
//
// Usage (in the chroot): node kernel-pf.mjs REPO "GET_INFO=0x... SRIOV_ENABLE=0x... ..."
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';

const [repo, cLayout] = process.argv.slice(2);
if (!repo || !cLayout) {
  console.error('usage: node kernel-pf.mjs REPO C_LAYOUT');
  process.exit(2);
}
const dist = (p) => import(pathToFileURL(join(repo, 'dist', p)).href);
const { KernelPf } = await dist('mediator/pf/kernel-pf.js');
const { PfDirtyLog } = await dist('mediator/mediate/pf-vf-control.js');
const { VFPF_IOC, VFPF_IOC_STATE_MAX } = await dist('mediator/pf/vfpf-uapi.js');
const { DeviceLogTracker } = await dist('mediator/mediate/device-log-tracker.js');
const { VfmedSystemError } = await dist('mediator/errors.js');

const env = process.env;
const MODEL_ID = 0x76660576;
const STATE_MAGIC = 0x53465644454d4656n; // "VFMEDVFS"
const MIG_VF = 1;
const IDLE_VF = 0;
const minFifo = Number(env.vfmed_min_fifo ?? 2);
const deadline = Date.now() + Number(env.vfmed_wait_ms ?? 60000);

const data = (k, v) => console.log(`VFMED-DATA ${k} ${v}`);
const fail = (msg) => {
  console.log(`FAIL: ${msg}`);
  process.exit(1);
};
const check = (cond, msg) => {
  if (!cond) fail(msg);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const macStr = (m) => [...m].map((b) => b.toString(16).padStart(2, '0')).join(':');
const macOf = (s) => Uint8Array.from(s.split(':').map((h) => parseInt(h, 16)));

/** `fn` must fail with VfmedSystemError `code` (the module's errno through the binding). */
function expectErrno(what, code, fn) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof VfmedSystemError)) fail(`${what}: expected ${code}, got ${err ? err.message : 'success'}`);
  console.log(`${what.padEnd(48)} -> ${err.code.padEnd(7)} ${err.code === code ? 'ok' : 'WRONG'}`);
  if (err.code !== code) fail(`${what}: ${err.code} (${err.message}), expected ${code}`);
  return err;
}

async function until(what, cond) {
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// ---- the binding's ABI against the C compiler's, in this guest ----------------------------
const mine = Object.values(VFPF_IOC).map((d) => `${d.name}=0x${d.request.toString(16).padStart(8, '0')}`).join(' ');
if (mine !== cLayout.trim()) fail(`binding request numbers differ from the C compiler's:\n  node: ${mine}\n  C:    ${cLayout.trim()}`);
console.log(`node ${process.version}: ${Object.keys(VFPF_IOC).length} request numbers match the C compiler`);

const pf = KernelPf.open();
try {
  // ---- GET_INFO, SRIOV_ENABLE -----------------------------------------------------------
  const info = pf.info();
  console.log(`GET_INFO: model 0x${info.modelId.toString(16)} abi ${info.abiMajor}.${info.abiMinor} max_vfs ${info.maxVfs} num_vfs ${info.numVfs}`);
  check(info.modelId === MODEL_ID, `model id 0x${info.modelId.toString(16)}`);
  check(info.numVfs === 2, `num_vfs ${info.numVfs}, the pf-sriov step enabled 2`);
  data('node-num-vfs', info.numVfs);
  check(pf.sriovEnable(2) === 2, 'SRIOV_ENABLE of the enabled count is a no-op returning it');
  expectErrno('SRIOV_ENABLE of another count while enabled', 'EBUSY', () => pf.sriovEnable(1));
  expectErrno('SRIOV_ENABLE beyond max_vfs', 'EINVAL', () => pf.sriovEnable(info.maxVfs + 1));
  check(pf.numVfs() === 2, 'the refused SRIOV_ENABLEs changed the VF count');

  // ---- SET_MAC, VF_CONFIG -----------------------------------------------------------------
  const mac0 = macOf(env.vfmed_mac0);
  const mac1 = macOf(env.vfmed_mac1);
  check(macStr(pf.vfConfig(IDLE_VF).mac) === env.vfmed_mac0, `VF0 MAC ${macStr(pf.vfConfig(IDLE_VF).mac)}`);
  check(macStr(pf.vfConfig(MIG_VF).mac) === env.vfmed_mac1, `VF1 MAC ${macStr(pf.vfConfig(MIG_VF).mac)}`);
  pf.setVfMac(IDLE_VF, mac0);
  data('node-vf0-mac', macStr(pf.vfConfig(IDLE_VF).mac));
  expectErrno('SET_MAC multicast address', 'EINVAL', () => pf.setVfMac(IDLE_VF, Uint8Array.of(1, 0, 0x5e, 0, 0, 1)));
  expectErrno('SET_MAC on a VF that is not enabled', 'ENODEV', () => pf.setVfMac(3, mac0));
  const e3 = expectErrno('VF_CONFIG of a VF that is not enabled', 'ENODEV', () => pf.vfConfig(3));
  data('node-vf3-errno', e3.code);
  expectErrno('STATE_SIZE of a VF that is not enabled', 'ENODEV', () => pf.stateSize(3));
  check(macStr(pf.vfConfig(MIG_VF).mac) === macStr(mac1), 'a refused SET_MAC changed VF1');

  // ---- device dirty log on VF1 while the host streams frames into it -----------------------
  const [base, len] = (env.vfmed_vf1_dma ?? '').split(':').map((x) => BigInt(x));
  check(base !== undefined && len > 0n, `vfmed_vf1_dma '${env.vfmed_vf1_dma}' is not IOVA:LENGTH`);
  const tracker = new DeviceLogTracker(new PfDirtyLog(pf, MIG_VF));
  tracker.start([{ iova: base, length: len }], 4096n);
  expectErrno('DIRTY_START while the log runs', 'EBUSY', () => pf.dirtyStart(MIG_VF, 12, [{ iova: base, length: len }]));
  expectErrno('DIRTY_REPORT of a VF without a log', 'EINVAL', () => pf.dirtyReport(IDLE_VF, 0n, 4096n, 12));
  const rx0 = pf.vfStats(MIG_VF).rxPackets;
  const rx1 = await until('16 frames into VF1 during dirty logging', () => {
    const r = pf.vfStats(MIG_VF).rxPackets;
    return r >= rx0 + 16n ? r : 0n;
  });
  const bm = tracker.report(base, len, 4096n);
  const pages = [];
  for (let i = 0; i < bm.length * 8; i++) if ((bm[i >> 3] >> (i & 7)) & 1) pages.push(i);
  console.log(`dirty log: ${rx1 - rx0} frames received, ${pages.length} of ${bm.length * 8} pages reported dirty`);
  check(pages.length > 0, 'frames were received while logging, yet no page was reported dirty');
  data('dirty-frames', rx1 - rx0);
  data('dirty-pages', pages.join(','));
  tracker.stop();
  expectErrno('DIRTY_REPORT after DIRTY_STOP', 'EINVAL', () => pf.dirtyReport(MIG_VF, base, 4096n, 12));

  // ---- VF1 migration steps under traffic -------------------------------------------------
  pf.quiesce(MIG_VF);
  check(pf.vfConfig(MIG_VF).quiesced, 'VF1 not quiesced after VF_QUIESCE');
  console.log(`VF1 quiesced; waiting for ${minFifo} frames in its RX FIFO`);
  const st = await until(`${minFifo} frames in VF1's RX FIFO while quiesced`, () => {
    const s = pf.vfStats(MIG_VF);
    return s.fifoFrames >= BigInt(minFifo) ? s : undefined;
  });
  data('fifo-frames-at-save', st.fifoFrames);
  data('rx-packets-at-save', st.rxPackets);
  expectErrno('SAVE into a 32-byte buffer', 'ENOSPC', () => pf.save(MIG_VF, 32));
  expectErrno('SAVE of a VF that is not quiesced', 'EBUSY', () => pf.save(IDLE_VF));
  const size = pf.stateSize(MIG_VF);
  const blob = pf.save(MIG_VF); // sized by STATE_SIZE, retried on ENOSPC if the FIFO grew
  console.log(`VF1 saved: ${blob.length} bytes (STATE_SIZE said ${size} before)`);
  data('state-bytes', blob.length);

  // The blob, checked independently of the driver (pf_regs.h vfpf_state_hdr).
  check(blob.length >= 32, `blob of ${blob.length} bytes`);
  check(blob.readBigUInt64LE(0) === STATE_MAGIC, 'blob magic');
  check(blob.readUInt16LE(8) === 1, `blob major ${blob.readUInt16LE(8)}`);
  check(blob.readUInt32LE(12) === blob.length, `blob total_len ${blob.readUInt32LE(12)} != ${blob.length}`);
  check(blob.readUInt32LE(16) === MODEL_ID && blob.readUInt32LE(28) === MIG_VF, 'blob model id / VF');
  let off = 32;
  const nsec = blob.readUInt32LE(20);
  for (let i = 0; i < nsec; i++) {
    check(off + 8 <= blob.length, `section ${i} header beyond the end`);
    off += 8 + ((blob.readUInt32LE(off + 4) + 7) & ~7);
    check(off <= blob.length, `section ${i} beyond the end`);
  }
  check(off === blob.length, `sections end at ${off}, blob is ${blob.length}`);
  const zeroed = Buffer.from(blob);
  zeroed.writeUInt32LE(0, 24);
  check(crc32(zeroed) === blob.readUInt32LE(24), 'blob CRC-32');
  console.log(`blob: ${nsec} sections, CRC-32 0x${blob.readUInt32LE(24).toString(16)} verified`);
  data('state-sections', nsec);

  const before = pf.vfStats(MIG_VF);
  const bad = Buffer.from(blob);
  bad[bad.length - 1] ^= 0x5a;
  data('corrupt-load', expectErrno('LOAD of a corrupt blob (one byte flipped)', 'EBADMSG', () => pf.load(MIG_VF, bad)).code);
  expectErrno('LOAD of 8 bytes (shorter than the header)', 'EBADMSG', () => pf.load(MIG_VF, blob.subarray(0, 8)));
  const after = pf.vfStats(MIG_VF);
  check(after.rxPackets === before.rxPackets && after.fifoFrames >= before.fifoFrames,
    `a refused LOAD changed VF1 (rx ${before.rxPackets} -> ${after.rxPackets}, fifo ${before.fifoFrames} -> ${after.fifoFrames})`);

  // Raw requests the typed methods never make: the module's own checks.
  expectErrno('VF_QUIESCE with a non-zero pad (raw)', 'EINVAL', () => pf.rawRequest('VF_QUIESCE', { vf: MIG_VF, pad: 1 }));
  expectErrno('LOAD beyond VFPF_IOC_STATE_MAX (raw)', 'E2BIG', () => pf.rawRequest('LOAD', { vf: MIG_VF, len: VFPF_IOC_STATE_MAX + 1, buf: 0n }));
  expectErrno('LOAD from a bad user pointer (raw)', 'EFAULT', () => pf.rawRequest('LOAD', { vf: MIG_VF, len: blob.length, buf: 1n }));

  pf.load(MIG_VF, blob);
  check(pf.vfConfig(MIG_VF).quiesced, 'VF1 not quiesced right after LOAD');
  data('fifo-frames-after-load', pf.vfStats(MIG_VF).fifoFrames);
  pf.resume(MIG_VF);
  check(!pf.vfConfig(MIG_VF).quiesced, 'VF1 still quiesced after VF_RESUME');
  console.log('VF1: corrupt blobs refused, saved blob loaded back, resumed');

  // ---- VF_FLR of the idle VF0 (its UIO driver finished earlier) ----------------------------
  const c0 = pf.vfConfig(IDLE_VF);
  check(c0.rxEnabled && c0.txEnabled, 'VF0 RX/TX were not enabled before the FLR');
  pf.vfFlr(IDLE_VF);
  const c1 = pf.vfConfig(IDLE_VF);
  check(!c1.rxEnabled && !c1.txEnabled, `VF0 RX/TX still enabled after VF_FLR (${c1.rxEnabled}/${c1.txEnabled})`);
  data('flr-vf0', 'rx-tx-off');
  console.log('VF_FLR: VF0 RX/TX off until its driver resets it');
} finally {
  pf.close();
}
let closedErr = '';
try {
  pf.info();
} catch (e) {
  closedErr = e.message;
}
check(/after close/.test(closedErr), 'the binding answered after close()');
console.log('node: every /dev/vfpf ioctl through the mediator\'s KernelPf ok');
