/* SPDX-License-Identifier: MIT */
/*
 * tnic.h - test fixture around one emulated NIC: maps the PF BAR and plays a tiny PF driver
 * (admin queue in a memfd of PF DMA memory, PFRSTD, mailbox replies), maps each VF BAR for
 * passthrough stores, gives each VF a memfd of "guest RAM" mapped at GIOVA, and has a few
 * igbvf-style ring helpers. Test-only: the real PF driver lives in pf-driver/.
 */
#ifndef VFMED_TEST_TNIC_H
#define VFMED_TEST_TNIC_H

#include <stdbool.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "vfmed/nic.h"
#include "vfmed/pf_regs.h"
#include "vfmed/vf_regs.h"

#define PF_IOVA    0x40000000ull
#define PF_MEMSZ   (1u << 20)
#define PF_AQ_LEN  64u
#define PF_BUF_OFF 0x10000u          /* command buffers start here in PF memory */
#define GIOVA      0x100000ull       /* guest RAM IOVA of every VF */
#define GMEMSZ     (1u << 20)
#define VFMED_FRAME_MAX_TEST 9728u

struct tnic {
	struct vfmed_nic *nic;
	volatile uint32_t *pf;
	int pf_fd;
	uint8_t *pfmem;
	uint32_t aq_tail;
	uint32_t p2v_seq[VFPF_MAX_VFS];
	uint32_t num_vfs;
	volatile uint32_t *vbar[VFPF_MAX_VFS];
	int gfd[VFPF_MAX_VFS];
	uint8_t *gmem[VFPF_MAX_VFS];
};

struct tnic_opts {
	uint32_t max_vfs, num_vfs, fifo_bytes, flags, poll_mode;
	bool no_pfrstd;         /* leave the VFs' mailbox in RSTI */
	bool no_vf_enable;      /* leave VFRE/VFTE clear */
};

void tnic_open(struct tnic *t, const struct tnic_opts *o);
void tnic_close(struct tnic *t);

/* Admin command; returns the status (0 or positive errno). */
int admin(struct tnic *t, uint16_t op, uint16_t vf, uint32_t p0, uint32_t p1, uint64_t addr,
          uint32_t len, uint32_t *ret);
static inline uint8_t *pf_buf(struct tnic *t, uint32_t off) { return t->pfmem + PF_BUF_OFF + off; }
static inline uint64_t pf_buf_iova(uint32_t off) { return PF_IOVA + PF_BUF_OFF + off; }

uint32_t rd(struct tnic *t, uint32_t vf, uint32_t off);
void wr(struct tnic *t, uint32_t vf, uint32_t off, uint32_t val);
/* Passthrough store into the mapped BAR (no trap), as a client would do. */
void pt_wr(struct tnic *t, uint32_t vf, uint32_t off, uint32_t val);
int poll_n(struct tnic *t, int n);

/* Guest memory helpers. */
static inline uint8_t *gptr(struct tnic *t, uint32_t vf, uint64_t iova)
{
	return t->gmem[vf] + (iova - GIOVA);
}

/* Rings: RX/TX ring of n descriptors at ring_iova; RX buffers at buf_iova + i * bufsz. */
void rxq_setup(struct tnic *t, uint32_t vf, uint32_t q, uint64_t ring, uint32_t n,
               uint64_t bufs, uint32_t bsize_kib, bool passthrough);
void rxq_arm(struct tnic *t, uint32_t vf, uint64_t ring, uint32_t idx, uint64_t buf);
void txq_setup(struct tnic *t, uint32_t vf, uint32_t q, uint64_t ring, uint32_t n,
               bool passthrough);
void tx_desc(struct tnic *t, uint32_t vf, uint64_t ring, uint32_t idx, uint64_t buf,
             uint32_t len, uint32_t cmd, uint32_t olinfo);
struct rx_wb { uint32_t status; uint16_t length; };
struct rx_wb rx_desc(struct tnic *t, uint32_t vf, uint64_t ring, uint32_t idx);

uint32_t mk_frame(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint32_t seq,
                  uint32_t len);
uint32_t frame_seq(const uint8_t *buf);
void vf_mac(struct tnic *t, uint32_t vf, uint8_t *mac);

/* PF side of the mailbox. */
void pf_reply(struct tnic *t, uint32_t vf, const uint32_t *w, uint32_t n, uint32_t flags);

#endif
