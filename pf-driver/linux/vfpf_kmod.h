/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfpf_kmod.h - the per-PF state of vfpf.ko, shared by the PCI glue (vfpf_main.c) and the
 * character device (vfpf_cdev.c).
 */
#ifndef VFPF_KMOD_H
#define VFPF_KMOD_H

#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/sched.h>

#include "vfpf_core.h"

struct vfpf_pci {
	struct vfpf_dev core;           /* OS-independent driver; has its own locks */
	struct pci_dev *pdev;
	struct task_struct *poller;     /* mailbox service thread */
	struct miscdevice misc;
	char name[16];                  /* misc device name: vfpf, vfpf1, ... */
	int id;                         /* from vfpf_ida */
	/*
	 * Lifetime: one reference for the bound PCI function and one per open file, so a
	 * file kept open across unbind never touches freed memory.
	 */
	struct kref ref;
	/*
	 * remove_sem protects "removed": ioctls hold it for read while they use the core;
	 * remove() takes it for write before tearing the core down, so no ioctl runs on a
	 * device that is going away and none starts afterwards (they get -ENODEV).
	 */
	struct rw_semaphore remove_sem;
	bool removed;
};

void vfpf_pci_put(struct vfpf_pci *vp);
int vfpf_cdev_register(struct vfpf_pci *vp);
void vfpf_cdev_unregister(struct vfpf_pci *vp);

#endif /* VFPF_KMOD_H */
