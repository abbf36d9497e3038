/**
 * Numbers of the vfio-user protocol and of <linux/vfio.h> that the server uses.
 *
 * Every value was checked against the vfio-user specification (QEMU
 * docs/interop/vfio-user.rst, the spec libvfio-user implements: include/vfio-user.h) and
 * against include/uapi/linux/vfio.h + pci_regs.h (Debian 12's /usr/include/linux copies are
 * compiled against in tests/vfio/layout.test.ts). Nothing here is vfmed-specific except the
 * server limits at the end.
 */

/** Header: u16 msg_id, u16 command, u32 size (whole message), u32 flags, u32 error. */
export const HEADER_SIZE = 16;

/** Command ids (vfio-user spec "Commands"; 14 is unassigned). */
export const Cmd = {
  VERSION: 1,
  DMA_MAP: 2,
  DMA_UNMAP: 3,
  DEVICE_GET_INFO: 4,
  DEVICE_GET_REGION_INFO: 5,
  DEVICE_GET_REGION_IO_FDS: 6,
  DEVICE_GET_IRQ_INFO: 7,
  DEVICE_SET_IRQS: 8,
  REGION_READ: 9,
  REGION_WRITE: 10,
  DMA_READ: 11,
  DMA_WRITE: 12,
  DEVICE_RESET: 13,
  REGION_WRITE_MULTI: 15,
  DEVICE_FEATURE: 16,
  MIG_DATA_READ: 17,
  MIG_DATA_WRITE: 18,
} as const;
export type CommandId = (typeof Cmd)[keyof typeof Cmd];

const cmdNames = new Map<number, string>(Object.entries(Cmd).map(([k, v]) => [v, k]));
/** "REGION_WRITE" for 10, "CMD_14" for an unassigned id. */
export function commandName(cmd: number): string {
  return cmdNames.get(cmd) ?? `CMD_${cmd}`;
}

/** Header flags: bits 0-3 type, bit 4 no_reply, bit 5 error. */
export const Flag = {
  TYPE_MASK: 0xf,
  TYPE_COMMAND: 0x0,
  TYPE_REPLY: 0x1,
  NO_REPLY: 0x10,
  ERROR: 0x20,
} as const;

/** VFIO_USER_DMA_MAP flags (spec bits 0-1; bits 2-3 are libvfio-user's access modes). */
export const DmaMapFlag = {
  READ: 1 << 0,
  WRITE: 1 << 1,
  MMAP: 1 << 2,
  FILE_IO: 1 << 3,
} as const;

/** VFIO_DMA_UNMAP_FLAG_* (linux/vfio.h). */
export const DmaUnmapFlag = {
  GET_DIRTY_BITMAP: 1 << 0,
  ALL: 1 << 1,
  VADDR: 1 << 2,
} as const;

/** VFIO_DEVICE_FLAGS_* */
export const DeviceFlag = { RESET: 1 << 0, PCI: 1 << 1 } as const;

/** VFIO_REGION_INFO_FLAG_* */
export const RegionFlag = { READ: 1 << 0, WRITE: 1 << 1, MMAP: 1 << 2, CAPS: 1 << 3 } as const;

/** VFIO_REGION_INFO_CAP_* ids. */
export const RegionCap = { SPARSE_MMAP: 1, TYPE: 2, MSIX_MAPPABLE: 3 } as const;
/** Version of struct vfio_region_info_cap_sparse_mmap / _cap_type the spec prescribes. */
export const SPARSE_MMAP_CAP_VERSION = 1;
export const TYPE_CAP_VERSION = 1;

/** VFIO_PCI_*_REGION_INDEX */
export const PciRegion = {
  BAR0: 0,
  BAR1: 1,
  BAR2: 2,
  BAR3: 3,
  BAR4: 4,
  BAR5: 5,
  ROM: 6,
  CONFIG: 7,
  VGA: 8,
  NUM: 9,
} as const;

/** VFIO_PCI_*_IRQ_INDEX */
export const PciIrq = { INTX: 0, MSI: 1, MSIX: 2, ERR: 3, REQ: 4, NUM: 5 } as const;

/** VFIO_IRQ_INFO_* */
export const IrqInfoFlag = { EVENTFD: 1 << 0, MASKABLE: 1 << 1, AUTOMASKED: 1 << 2, NORESIZE: 1 << 3 } as const;

/** VFIO_IRQ_SET_* */
export const IrqSetFlag = {
  DATA_NONE: 1 << 0,
  DATA_BOOL: 1 << 1,
  DATA_EVENTFD: 1 << 2,
  ACTION_MASK: 1 << 3,
  ACTION_UNMASK: 1 << 4,
  ACTION_TRIGGER: 1 << 5,
  DATA_TYPE_MASK: 0x7,
  ACTION_TYPE_MASK: 0x38,
} as const;

/** VFIO_DEVICE_FEATURE_* (flags of struct vfio_device_feature). */
export const FeatureFlag = { MASK: 0xffff, GET: 1 << 16, SET: 1 << 17, PROBE: 1 << 18 } as const;

/** Fixed payload sizes (bytes after the header). */
export const PayloadSize = {
  VERSION_MIN: 4, // major, minor (+ optional NUL-terminated JSON)
  DMA_MAP: 32,
  DMA_UNMAP: 24,
  DMA_UNMAP_BITMAP: 16, // struct vfio_user_bitmap after the unmap struct
  DEVICE_INFO: 16,
  REGION_INFO: 32,
  SPARSE_MMAP_CAP: 16, // header 8 + nr_areas + reserved; areas 16 each
  SPARSE_MMAP_AREA: 16,
  TYPE_CAP: 16, // header 8 + type + subtype
  IRQ_INFO: 16,
  IRQ_SET: 20,
  REGION_ACCESS: 16,
  WRITE_MULTI_COUNT: 8,
  WRITE_MULTI_ENTRY: 24,
  DEVICE_FEATURE: 8,
  MIG_DATA: 8,
} as const;

/** Protocol version this server speaks: major must match; minor 2 added twin-socket mode,
 * which is optional and which this server never enables (it sends no commands). */
export const SERVER_MAJOR = 0;
export const SERVER_MINOR = 2;

/** Server limits advertised in the VERSION reply. */
export const ServerLimits = {
  /** spec default and libvfio-user's value: 1 MiB of data per READ/WRITE message */
  maxDataXferSize: 1 << 20,
  /** fds the server accepts in one message (SET_IRQS of all 3 MSI-X vectors fits) */
  maxMsgFds: 8,
  /** DMA windows per client; more is ENOSPC, as VFIO type1's dma_entry_limit */
  maxDmaMaps: 1024,
  /** DMA map granularity: 4 KiB pages only */
  pgsizes: 4096,
} as const;

/** Largest request the server reads: header + REGION_WRITE header + max data. Anything
 * bigger is refused with EMSGSIZE and its body discarded unread. */
export const MAX_REQUEST_SIZE = HEADER_SIZE + PayloadSize.REGION_ACCESS + ServerLimits.maxDataXferSize;

/** The VERSION capabilities object may not be larger than this (it is a few dozen bytes). */
export const MAX_VERSION_JSON = 4096;
