/* SPDX-License-Identifier: MIT */
/*
 * vf-irq.c - the VF's extended interrupt block (page 1): EICR/EICS/EIMS/EIMC/EIAC/EIAM,
 * IVAR0/IVAR_MISC routing of queue and mailbox causes to the 3 MSI-X vectors, EITR
 * throttling, and delivery by writing the vector's eventfd (the VMM owns the MSI-X table
 * and PBA, so masking at that level is its business).
 *
 * Model (one EICR bit per vector, as igbvf uses it):
 *   cause ──IVAR──► EICR |= bit ──(bit & EIMS)──► throttle? ──► eventfd
 *                                                   │ timer running: deferred, one
 *                                                   │ message at expiry
 *   after a message: EICR &= ~(bit & EIAC); EIMS &= ~(bit & EIAM)
 * EITR interval = bits 14:2 in 1 us units (the 82576 definition; the 2025 QEMU fix),
 * 0 = no throttling. Writing EIMS for a bit whose cause is pending fires it, as hardware
 * re-evaluates on unmask.
 */
#include <errno.h>
#include <unistd.h>

#include "internal.h"

void vfmed_irq_reset(struct vfmed_irq *irq)
{
	uint32_t i;

	irq->eicr = irq->eims = irq->eiac = irq->eiam = 0;
	irq->ivar0 = irq->ivar_misc = 0;
	for (i = 0; i < VFMED_VF_MSIX_VECTORS; i++) {
		irq->eitr[i] = 0;
		irq->next_ok_ns[i] = 0;
		irq->deferred[i] = 0;
	}
}

static uint64_t interval_ns(const struct vfmed_irq *irq, uint32_t v)
{
	return (uint64_t)((irq->eitr[v] & 0x7FFCu) >> 2) * 1000ull;
}

static void send_msg(struct vfmed_vf *vf, uint32_t v, uint64_t now)
{
	struct vfmed_irq *irq = &vf->irq;
	uint32_t bit = 1u << v;
	uint64_t one = 1;

	if (irq->fd[v] >= 0 && write(irq->fd[v], &one, sizeof(one)) < 0) {
		/* EAGAIN: counter saturated, the consumer is already signalled */
	}
	irq->sent[v]++;
	irq->deferred[v] = 0;
	if (irq->eiac & bit)
		irq->eicr &= ~bit;
	if (irq->eiam & bit)
		irq->eims &= ~bit;
	irq->next_ok_ns[v] = interval_ns(irq, v) ? now + interval_ns(irq, v) : 0;
}

static void note_deadline(struct vfmed_vf *vf, uint64_t t)
{
	struct vfmed_nic *nic = vf->nic;

	if (!nic->next_deadline_ns || t < nic->next_deadline_ns)
		nic->next_deadline_ns = t;
}

/* Fire every vector whose cause is pending and unmasked, unless throttled. */
static void evaluate(struct vfmed_vf *vf, uint32_t bits, uint64_t now)
{
	struct vfmed_irq *irq = &vf->irq;
	uint32_t v;

	for (v = 0; v < VFMED_VF_MSIX_VECTORS; v++) {
		uint32_t bit = 1u << v;

		if (!(bits & bit) || !(irq->eicr & irq->eims & bit))
			continue;
		if (interval_ns(irq, v) && now < irq->next_ok_ns[v]) {
			irq->deferred[v] = 1;
			note_deadline(vf, irq->next_ok_ns[v]);
			continue;
		}
		send_msg(vf, v, now);
	}
}

void vfmed_irq_raise(struct vfmed_vf *vf, uint32_t causes)
{
	causes &= E1000_EICR_MASK;
	if (!causes)
		return;
	vf->irq.eicr |= causes;
	evaluate(vf, causes, vfmed_now_ns());
}

/* IVAR0 byte layout: 0 = RX0, 1 = TX0, 2 = RX1, 3 = TX1; bit 7 valid, bits 1:0 vector. */
void vfmed_irq_raise_queue(struct vfmed_vf *vf, bool tx, uint32_t q)
{
	uint32_t b = (vf->irq.ivar0 >> (8 * (q * 2 + (tx ? 1 : 0)))) & 0xFF;

	if (!(b & E1000_IVAR_VALID) || (b & 3) >= VFMED_VF_MSIX_VECTORS)
		return;
	vfmed_irq_raise(vf, 1u << (b & 3));
}

void vfmed_irq_raise_misc(struct vfmed_vf *vf)
{
	uint32_t b = vf->irq.ivar_misc & 0xFF;

	if (!(b & E1000_IVAR_VALID) || (b & 3) >= VFMED_VF_MSIX_VECTORS)
		return;
	vfmed_irq_raise(vf, 1u << (b & 3));
}

int vfmed_irq_poll(struct vfmed_vf *vf, uint64_t now)
{
	struct vfmed_irq *irq = &vf->irq;
	uint32_t v, due = 0;
	int work = 0;

	for (v = 0; v < VFMED_VF_MSIX_VECTORS; v++) {
		if (!irq->deferred[v])
			continue;
		if (now >= irq->next_ok_ns[v]) {
			irq->deferred[v] = 0;
			due |= 1u << v;
			work++;
		} else {
			note_deadline(vf, irq->next_ok_ns[v]);
		}
	}
	if (due)
		evaluate(vf, due, now);
	return work;
}

uint32_t vfmed_irq_read_reg(struct vfmed_vf *vf, uint32_t off)
{
	struct vfmed_irq *irq = &vf->irq;
	uint32_t v;

	switch (off) {
	case E1000_VF_EIMS:
		return irq->eims;
	case E1000_VF_EIAC:
		return irq->eiac;
	case E1000_VF_EIAM:
		return irq->eiam;
	case E1000_VF_EICR:
		v = irq->eicr;           /* read-to-clear */
		irq->eicr = 0;
		return v;
	case E1000_VF_EITR(0): case E1000_VF_EITR(1): case E1000_VF_EITR(2):
		return irq->eitr[(off - E1000_VF_EITR(0)) / 4];
	case E1000_VF_IVAR0:
		return irq->ivar0;
	case E1000_VF_IVAR_MISC:
		return irq->ivar_misc;
	}
	return 0;   /* EICS, EIMC are write-only; unknown offsets read 0 */
}

void vfmed_irq_write_reg(struct vfmed_vf *vf, uint32_t off, uint32_t val)
{
	struct vfmed_irq *irq = &vf->irq;

	switch (off) {
	case E1000_VF_EICS:
		vfmed_irq_raise(vf, val);
		break;
	case E1000_VF_EIMS:
		irq->eims |= val & E1000_EICR_MASK;
		evaluate(vf, val & E1000_EICR_MASK, vfmed_now_ns());
		break;
	case E1000_VF_EIMC:
		irq->eims &= ~val;
		break;
	case E1000_VF_EIAC:
		irq->eiac = val & E1000_EICR_MASK;
		break;
	case E1000_VF_EIAM:
		irq->eiam = val & E1000_EICR_MASK;
		break;
	case E1000_VF_EICR:
		irq->eicr &= ~val;       /* write-1-to-clear */
		break;
	case E1000_VF_EITR(0): case E1000_VF_EITR(1): case E1000_VF_EITR(2):
		/* Reads return what was written, without CNT_IGNR (bit 31). */
		irq->eitr[(off - E1000_VF_EITR(0)) / 4] = val & 0x7FFFFFFFu;
		break;
	case E1000_VF_IVAR0:
		irq->ivar0 = val & 0x83838383u;
		break;
	case E1000_VF_IVAR_MISC:
		irq->ivar_misc = val & 0x83u;
		break;
	}
}
