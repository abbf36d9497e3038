/* SPDX-License-Identifier: MIT */
/*
 * vf-regs.c - VF BAR0 register access through the device (vfmed_vf_reg_read/write): the
 * trapped path. Pages 0-1 always come here (side effects: CTRL.RST, V2PMAILBOX, EICR...);
 * pages 2-3 come here when the mediator traps them, and are then stored into the same
 * shared memory a passthrough client writes and processed synchronously, so trapped and
 * passthrough accesses have identical semantics.
 *
 * Where each register lives:
 *   page 0  CTRL/STATUS/FRTIMER: computed; V2PMAILBOX: vf->mbx_bits; VMBMEM, PSRTYPE and
 *           the statistics: BAR memory (stats are written only by the device, 32-bit, wrap);
 *   page 1  interrupt registers: struct vfmed_irq (vf-irq.c);
 *   page 2-3 queue registers: BAR memory (the register file the client may write directly).
 * Unknown offsets read 0 and ignore writes. Accesses are 1, 2, 4 or 8 bytes, naturally
 * aligned: 8-byte accesses are two dword accesses (low first), narrower writes merge into
 * the current value of plain RW registers and are zero-extended for command registers.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static bool is_stat(uint32_t off)
{
	switch (off) {
	case E1000_VFGPRC: case E1000_VFGPTC: case E1000_VFGORC: case E1000_VFGOTC:
	case E1000_VFMPRC: case E1000_VFGPRLBC: case E1000_VFGPTLBC: case E1000_VFGORLBC:
	case E1000_VFGOTLBC: case VFMED_VFDMAERR: case VFMED_VFFIFODROP:
		return true;
	}
	return false;
}

/* Queue register at off: returns its offset within the queue block (0x00..0x3C) and the
 * queue in *q, or -1 when off is not a register of pages 2-3. */
static int queue_reg(uint32_t off, uint32_t *q, bool *tx)
{
	uint32_t blk = off & ~0x1FFu, rel;

	if (blk != 0x2800 && blk != 0x3800)
		return -1;
	*tx = blk == 0x3800;
	*q = (off >> 8) & 1;
	rel = off & 0xFF;
	if (!*tx) {
		switch (rel) {
		case 0x00: case 0x04: case 0x08: case 0x0C: case 0x10: case 0x14: case 0x18:
		case 0x28: case 0x30: case 0x34:
			return (int)rel;
		}
	} else {
		switch (rel) {
		case 0x00: case 0x04: case 0x08: case 0x10: case 0x14: case 0x18: case 0x28:
		case 0x34: case 0x38: case 0x3C:
			return (int)rel;
		}
	}
	return -1;
}

bool vfmed_vf_reg_known(uint32_t off)
{
	uint32_t q;
	bool tx;

	if (queue_reg(off, &q, &tx) >= 0 || is_stat(off))
		return true;
	if (off >= E1000_VMBMEM(0) && off < E1000_VMBMEM(E1000_VMBMEM_WORDS))
		return true;
	switch (off) {
	case E1000_VF_CTRL: case E1000_VF_CTRL_DUP: case E1000_VF_STATUS: case E1000_V2PMAILBOX:
	case E1000_PBACL: case E1000_PSRTYPE: case E1000_VF_FRTIMER: case E1000_VF_EICS:
	case E1000_VF_EIMS: case E1000_VF_EIMC: case E1000_VF_EIAC: case E1000_VF_EIAM:
	case E1000_VF_EICR: case E1000_VF_EITR(0): case E1000_VF_EITR(1): case E1000_VF_EITR(2):
	case E1000_VF_IVAR0: case E1000_VF_IVAR_MISC:
		return true;
	}
	return false;
}

/* Registers whose current value a narrow write merges with. */
bool vfmed_vf_reg_plain(uint32_t off)
{
	uint32_t q;
	bool tx;
	int r = queue_reg(off, &q, &tx);

	if (r >= 0)
		return !(r == 0x30 || r == 0x34);
	if (off >= E1000_VMBMEM(0) && off < E1000_VMBMEM(E1000_VMBMEM_WORDS))
		return true;
	switch (off) {
	case E1000_PSRTYPE: case E1000_VF_EIAC: case E1000_VF_EIAM: case E1000_VF_EITR(0):
	case E1000_VF_EITR(1): case E1000_VF_EITR(2): case E1000_VF_IVAR0: case E1000_VF_IVAR_MISC:
		return true;
	}
	return false;
}

void vfmed_vf_stat_add(struct vfmed_vf *vf, uint32_t off, uint32_t n)
{
	bar_wr(vf->bar, off, bar_rd(vf->bar, off) + n);   /* 32-bit, wraps */
}

static uint32_t frtimer(void)
{
	return (uint32_t)(vfmed_now_ns() / 1000);   /* free-running, 1 us */
}

int vfmed_vf_read32(struct vfmed_vf *vf, uint32_t off, uint32_t *val)
{
	uint32_t q, v = 0;
	bool tx;
	int r;

	if (off < 0x1000) {
		if (off == E1000_VF_STATUS)
			v = vfmed_pf_status(vf->nic);
		else if (off == E1000_V2PMAILBOX)
			v = vfmed_mbx_read(vf);
		else if ((off >= E1000_VMBMEM(0) && off < E1000_VMBMEM(E1000_VMBMEM_WORDS)) ||
		         off == E1000_PSRTYPE || is_stat(off))
			v = bar_rd(vf->bar, off);
		/* CTRL (RST self-clears), PBACL and unknown offsets read 0 */
	} else if (off < 0x2000) {
		if (off == E1000_VF_FRTIMER)
			v = frtimer();
		else
			v = vfmed_irq_read_reg(vf, off);
	} else {
		r = queue_reg(off, &q, &tx);
		if (r >= 0) {
			v = bar_rd(vf->bar, off);
			if (!tx && r == 0x30)   /* RQDPC: clear on (trapped) read */
				bar_wr(vf->bar, off, 0);
		}
	}
	*val = v;
	return 0;
}

static void queue_reg_write(struct vfmed_vf *vf, uint32_t off, uint32_t val)
{
	uint32_t q;
	bool tx;
	int r = queue_reg(off, &q, &tx);

	if (r < 0)
		return;
	if (r == 0x30 || r == 0x34)             /* RQDPC, RQERR/TQERR: read-only */
		return;
	if (r == 0x10 || r == 0x18)             /* heads and tails are 16 bits */
		val &= 0xFFFF;
	bar_wr(vf->bar, off, val);
	/* Same semantics as a passthrough store the poll loop would find, but now. */
	vfmed_vf_process(vf);
}

int vfmed_vf_write32(struct vfmed_vf *vf, uint32_t off, uint32_t val)
{
	if (off < 0x1000) {
		if (off == E1000_VF_CTRL || off == E1000_VF_CTRL_DUP) {
			if (val & E1000_CTRL_RST)
				vfmed_vf_soft_reset(vf);
		} else if (off == E1000_V2PMAILBOX) {
			vfmed_mbx_write(vf, val);
		} else if ((off >= E1000_VMBMEM(0) && off < E1000_VMBMEM(E1000_VMBMEM_WORDS)) ||
		           off == E1000_PSRTYPE) {
			bar_wr(vf->bar, off, val);
		}
		/* PBACL: MSI-X PBA lives in the VMM; STATUS and stats are read-only */
	} else if (off < 0x2000) {
		vfmed_irq_write_reg(vf, off, val);
	} else {
		queue_reg_write(vf, off, val);
	}
	return 0;
}

/* ---- public entry points ------------------------------------------------------------------ */

static int check_access(struct vfmed_nic *nic, uint32_t vf, uint32_t off, uint32_t size)
{
	if (!nic || vf >= nic->max_vfs)
		return -EINVAL;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	if (off & (size - 1) || off >= VFMED_VF_BAR0_SIZE || size > VFMED_VF_BAR0_SIZE - off)
		return -EINVAL;
	return 0;
}

int vfmed_vf_reg_read(struct vfmed_nic *nic, uint32_t vfi, uint32_t off, uint32_t size,
                      uint64_t *val)
{
	struct vfmed_vf *vf;
	uint32_t lo = 0, hi = 0;
	int rc = check_access(nic, vfi, off, size);

	if (rc)
		return rc;
	if (!val)
		return -EINVAL;
	vfmed_nic_lock(nic);
	vf = &nic->vf[vfi];
	if (!vf->sriov_enabled) {
		rc = -ENODEV;
	} else if (size == 8) {
		vfmed_vf_read32(vf, off, &lo);
		vfmed_vf_read32(vf, off + 4, &hi);
		*val = (uint64_t)hi << 32 | lo;
	} else {
		vfmed_vf_read32(vf, off & ~3u, &lo);
		lo >>= (off & 3) * 8;
		*val = size == 4 ? lo : lo & ((1u << (size * 8)) - 1);
	}
	vfmed_nic_unlock(nic);
	return rc;
}

int vfmed_vf_reg_write(struct vfmed_nic *nic, uint32_t vfi, uint32_t off, uint32_t size,
                       uint64_t val)
{
	struct vfmed_vf *vf;
	int rc = check_access(nic, vfi, off, size);

	if (rc)
		return rc;
	vfmed_nic_lock(nic);
	vf = &nic->vf[vfi];
	if (!vf->sriov_enabled) {
		rc = -ENODEV;
	} else if (size == 8) {
		vfmed_vf_write32(vf, off, (uint32_t)val);
		vfmed_vf_write32(vf, off + 4, (uint32_t)(val >> 32));
	} else if (size == 4) {
		vfmed_vf_write32(vf, off, (uint32_t)val);
	} else {
		uint32_t a = off & ~3u, sh = (off & 3) * 8;
		uint32_t mask = (size == 1 ? 0xFFu : 0xFFFFu) << sh;
		uint32_t cur = 0;

		if (vfmed_vf_reg_plain(a)) {
			if (a >= 0x1000 && a < 0x2000)
				cur = vfmed_irq_read_reg(vf, a);
			else
				cur = bar_rd(vf->bar, a);
		}
		vfmed_vf_write32(vf, a, (cur & ~mask) | (((uint32_t)val << sh) & mask));
	}
	vfmed_nic_unlock(nic);
	return rc;
}
