// vfpf-ioctl.mjs - the kernel path of the mediator, from Node inside the kernel test's
// guest: koffi calls open(2)/ioctl(2) on /dev/vfpf the way a koffi binding of
// pf-driver/linux/vfpf_uapi.h does. It runs under the host's own Node binary and the
// repository's node_modules, which the guest reaches over a read-only virtio-9p export of
// the host's root (boot.sh --share /), chrooted, so the guest needs no copy of either.
//
// The mediator has no kernel-path binding module yet; this probe proves the mechanism
// (Node starts in the guest, koffi loads, ioctls reach vfpf.ko and errno comes back) and is
// the place to call that binding once it exists. Prints VFMED-DATA lines; exit 1 on any
// mismatch.
//
// Its declarations are checked against the C compiler's: /init passes the output of
// `vfpf-ctl layout` (ioctl numbers, struct sizes and offsets) as the second argument.
//
// Usage (in the chroot): node vfpf-ioctl.mjs REPO "GET_INFO=0x... VF_CONFIG=0x... ..."
import { createRequire } from 'node:module';
import { join } from 'node:path';

const repo = process.argv[2];
const cLayout = process.argv[3];
if (!repo || !cLayout) {
  console.error('usage: node vfpf-ioctl.mjs REPO C_LAYOUT');
  process.exit(2);
}
const require = createRequire(join(repo, 'package.json'));
const koffi = require('koffi');

const libc = koffi.load('libc.so.6');
const open = libc.func('int open(const char *path, int flags)');
const close = libc.func('int close(int fd)');
const ioctl = libc.func('int ioctl(int fd, unsigned long req, _Inout_ uint8_t *arg)');

// _IOC(dir, type, nr, size) of include/uapi/asm-generic/ioctl.h (x86: dir bits 31:30).
const IOC_WRITE = 1, IOC_READ = 2;
const ioc = (dir, nr, size) => ((dir << 30) | (size << 16) | (0xf6 << 8) | nr) >>> 0;
// struct vfpf_ioc_info: model_id u32 @0, abi_major u16 @4, abi_minor u16 @6, max_vfs u32 @8,
//   num_vfs u32 @12, queues_per_vf, rx_fifo_bytes, state_version, features: 32 bytes.
// struct vfpf_ioc_vf_config: vf u32 @0, mac[6] @4, enable u16 @10, max_frame, mc_count,
//   vlan_count, promisc, quiesced, pad: 36 bytes.
const INFO_SIZE = 32, VF_CONFIG_SIZE = 36;
const VFPF_IOC_GET_INFO = ioc(IOC_READ, 0x00, INFO_SIZE);
const VFPF_IOC_VF_CONFIG = ioc(IOC_READ | IOC_WRITE, 0x0d, VF_CONFIG_SIZE);
const VFPF_MODEL_ID = 0x76660576;
const O_RDWR = 2, O_CLOEXEC = 0o2000000;
const ENODEV = 19;

let failed = false;
const fail = (msg) => { console.log(`FAIL: ${msg}`); failed = true; };
const data = (k, v) => console.log(`VFMED-DATA ${k} ${v}`);

const hex = (v) => `0x${v.toString(16).padStart(8, '0')}`;
const mine = `GET_INFO=${hex(VFPF_IOC_GET_INFO)} VF_CONFIG=${hex(VFPF_IOC_VF_CONFIG)} info=${INFO_SIZE} ` +
  `vf_config=${VF_CONFIG_SIZE} info.num_vfs=12 vf_config.enable=10`;
if (mine !== cLayout.trim()) {
  console.log(`FAIL: koffi-side layout differs from the C compiler's:\n  node: ${mine}\n  C:    ${cLayout.trim()}`);
  process.exit(1);
}
console.log(`layout matches the C compiler: ${mine}`);

const fd = open('/dev/vfpf', O_RDWR | O_CLOEXEC);
if (fd < 0) {
  console.log(`FAIL: open /dev/vfpf: errno ${koffi.errno()}`);
  process.exit(1);
}

const info = Buffer.alloc(INFO_SIZE);
if (ioctl(fd, VFPF_IOC_GET_INFO, info) !== 0) {
  fail(`GET_INFO: errno ${koffi.errno()}`);
} else {
  const model = info.readUInt32LE(0);
  const numVfs = info.readUInt32LE(12);
  console.log(`node ${process.version}: GET_INFO model 0x${model.toString(16)} abi ${info.readUInt16LE(4)}.${info.readUInt16LE(6)} max_vfs ${info.readUInt32LE(8)} num_vfs ${numVfs}`);
  if (model !== VFPF_MODEL_ID) fail(`model 0x${model.toString(16)}`);
  data('node-num-vfs', numVfs);
}

const cfg = Buffer.alloc(VF_CONFIG_SIZE);
cfg.writeUInt32LE(0, 0);
if (ioctl(fd, VFPF_IOC_VF_CONFIG, cfg) !== 0) {
  fail(`VF_CONFIG(0): errno ${koffi.errno()}`);
} else {
  const mac = [...cfg.subarray(4, 10)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  console.log(`VF_CONFIG(0): mac ${mac} enable 0x${cfg.readUInt16LE(10).toString(16)}`);
  data('node-vf0-mac', mac);
}

// An error comes back as -1 + errno through koffi: VF 3 is not enabled.
cfg.fill(0);
cfg.writeUInt32LE(3, 0);
const rc = ioctl(fd, VFPF_IOC_VF_CONFIG, cfg);
const err = koffi.errno();
if (rc !== -1 || err !== ENODEV) fail(`VF_CONFIG(3): rc ${rc} errno ${err}, expected -1/ENODEV`);
else data('node-vf3-errno', 'ENODEV');

close(fd);
if (failed) process.exit(1);
console.log('node: koffi ioctls on /dev/vfpf ok');
