/**
 * The vfmed extensions to vfio-user that the VF mediate driver adds, in one place (the C
 * side of the guest runner mirrors them in native/guest/vfio-user-proto.h; a test compiles
 * that header and compares). Everything else the driver speaks is plain vfio-user /
 * <linux/vfio.h>.
 *
 *   device-specific regions (after the 9 PCI ones; each carries VFIO_REGION_INFO_CAP_TYPE)
 *     9   migration region, v1 layout       type 3 (MIGRATION_DEPRECATED), subtype 1
 *     10  trap-BAR info region              type PCI_VENDOR_TYPE | 0x8086, subtype 0x7601
 *   IRQ index 5 (after the 5 PCI ones): BAR layout changed, 1 eventfd
 *   DEVICE_FEATURE 0xf001 PRECOPY_INFO (GET): vfio-user has no data_fd to issue the
 *     kernel's VFIO_MIG_GET_PRECOPY_INFO ioctl on, so the same numbers come as a feature:
 *     data = { u64 initial_bytes, u64 dirty_bytes }, valid in PRE_COPY and PRE_COPY_P2P.
 *   DEVICE_FEATURE 0xf002 DIRTY_TRACKER (GET/SET): u32 mode, 0 tail-trap, 1 device-log,
 *     2 all; SET fails with EBUSY while DMA logging runs, EINVAL for an unknown mode.
 *   DEVICE_FEATURE 0xf003 LAST_ERROR (GET): UTF-8 text (no NUL) saying why this open's
 *     last migration operation failed (MIG_DATA_WRITE, a state change, the v1 region):
 *     vfio-user error replies carry only an errno, so a VMM asks for the reason here
 *     (e.g. which device parameter differs). Empty when nothing failed; cut to what argsz
 *     leaves room for.
 *
 * Trap-BAR info region (32 bytes, 4-byte accesses only):
 *
 *   off   field             access
 *   0x00  version           RO   1
 *   0x04  generation        RO   layout generation of BAR0: +1 on every change
 *   0x08  trapped_pages     RO   bit i = BAR0 page i is not mmap-able in this generation
 *   0x0c  applied           RW   the last generation whose layout the client has applied
 *   0x10  trap_requests     RO   times the queue pages were trapped (statistics)
 *   0x14  reserved          RO   0
 *   0x18  reserved          RO   0
 *   0x1c  reserved          RO   0
 *
 * The acknowledgement handshake (client side):
 *   1. read `generation` (G) from this region;
 *   2. GET_REGION_INFO(BAR0) and make the mapped pages equal to its sparse areas
 *      (unmapping a page that left the list before mapping anything new);
 *   3. write G to `applied`.
 * The server processes one connection's messages in order, so a layout fetched after
 * reading G is at least as new as G; acking G therefore never claims a layout the client
 * has not applied. Once `applied` >= the generation that trapped pages 2-3, every later
 * store to them arrives as a REGION_WRITE: that is when tail-trap dirty tracking may start.
 */

/** VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI vendor (Intel). */
export const REGION_TYPE_VENDOR_INTEL = (0x80000000 | 0x8086) >>> 0;
export const VFMED_REGION_SUBTYPE_TRAP_BAR_INFO = 0x7601;
/** VFIO_REGION_TYPE_MIGRATION_DEPRECATED / VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED. */
export const REGION_TYPE_MIGRATION_V1 = 3;
export const REGION_SUBTYPE_MIGRATION_V1 = 1;

export const VFMED_REGION_MIGRATION = 9;
export const VFMED_REGION_TRAP_INFO = 10;
export const VFMED_NUM_REGIONS = 11;

export const VFMED_IRQ_BAR_LAYOUT = 5;
export const VFMED_NUM_IRQS = 6;

export const TRAP_INFO = {
  VERSION: 0x00,
  GENERATION: 0x04,
  TRAPPED_PAGES: 0x08,
  APPLIED: 0x0c,
  TRAP_REQUESTS: 0x10,
  SIZE: 0x20,
} as const;
export const TRAP_INFO_VERSION = 1;

/** DEVICE_FEATURE ids of <linux/vfio.h> the driver serves (checked against the header). */
export const Feature = {
  MIGRATION: 1,
  MIG_DEVICE_STATE: 2,
  DMA_LOGGING_START: 6,
  DMA_LOGGING_STOP: 7,
  DMA_LOGGING_REPORT: 8,
  MIG_DATA_SIZE: 9,
  /** vfmed extension (see above). */
  VFMED_PRECOPY_INFO: 0xf001,
  /** vfmed extension: GET/SET u32 tracker mode (DirtyTrackerMode); docs/live-migration.md. */
  VFMED_DIRTY_TRACKER: 0xf002,
  /** vfmed extension: GET the text of this open's last failed migration operation. */
  VFMED_LAST_ERROR: 0xf003,
} as const;

/** Values of DEVICE_FEATURE VFMED_DIRTY_TRACKER. */
export const DirtyTrackerMode = {
  TAIL_TRAP: 0,
  DEVICE_LOG: 1,
  ALL: 2,
} as const;
