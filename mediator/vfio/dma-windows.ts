/**
 * The DMA windows one client has mapped (IOVA ranges), kept by the device model so that
 * the protocol rules are enforced in one place whatever the hardware model does:
 * overlapping a window is EEXIST (vfio-user spec), unmapping needs an exact match
 * (ENOENT otherwise), and the number of windows is bounded (ENOSPC, as VFIO type1's
 * dma_entry_limit).
 *
 *   iova ─┬──────────┬─────┬────────┬────────▶
 *         │ window A │ gap │ win. B │            sorted by iova, never overlapping
 */
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';

const { EEXIST, ENOENT, ENOSPC } = constants.errno;

export interface DmaWindow {
  iova: bigint;
  size: bigint;
  prot: number;
}

export class DmaWindows {
  private readonly windows: DmaWindow[] = [];

  constructor(readonly limit: number) {}

  get count(): number {
    return this.windows.length;
  }

  list(): readonly DmaWindow[] {
    return this.windows;
  }

  /** Throws EEXIST/ENOSPC when w cannot be added; does not add it. */
  checkAdd(w: DmaWindow): void {
    const end = w.iova + w.size;
    for (const x of this.windows) {
      if (w.iova < x.iova + x.size && x.iova < end) {
        throw new VfmedError(
          'VFMED_ERR_VFIO_DMA',
          `DMA window [0x${w.iova.toString(16)}, 0x${end.toString(16)}) overlaps [0x${x.iova.toString(16)}, 0x${(x.iova + x.size).toString(16)})`,
          EEXIST,
        );
      }
    }
    if (this.windows.length >= this.limit) {
      throw new VfmedError('VFMED_ERR_VFIO_DMA', `more than ${this.limit} DMA windows`, ENOSPC);
    }
  }

  add(w: DmaWindow): void {
    this.checkAdd(w);
    const i = this.windows.findIndex((x) => x.iova > w.iova);
    this.windows.splice(i < 0 ? this.windows.length : i, 0, { ...w });
  }

  /** Throws ENOENT unless [iova, iova+size) is exactly one window. */
  find(iova: bigint, size: bigint): DmaWindow {
    const w = this.windows.find((x) => x.iova === iova && x.size === size);
    if (!w) {
      throw new VfmedError('VFMED_ERR_VFIO_DMA', `no DMA window [0x${iova.toString(16)}, +0x${size.toString(16)})`, ENOENT);
    }
    return w;
  }

  remove(iova: bigint, size: bigint): void {
    const w = this.find(iova, size);
    this.windows.splice(this.windows.indexOf(w), 1);
  }

  clear(): void {
    this.windows.length = 0;
  }
}
