// SPDX-License-Identifier: GPL-2.0
/*
 * vfpf_main.c - vfpf.ko: the vfmed PF driver as a PCI driver.
 *
 * The emulated PF reaches a VM as a QEMU ivshmem-plain device (1af4:1110) whose BAR2 is
 * the host's shared PF BAR file; other ivshmem devices may exist, so probe looks for
 * VFPF_MAGIC in BAR2 and refuses anything else with -ENODEV. There are no interrupts
 * (ivshmem-doorbell needs an ivshmem server), so a kernel thread polls the device's event
 * counters and serves the VF mailboxes, backing off while nothing happens.
 *
 * Probe:  pcim_enable_device, map BAR2, check the magic, 64-bit DMA mask, bus master,
 *         vfpf_dev_init (admin queue in coherent DMA memory, PFRSTD), optional SR-IOV
 *         enable (num_vfs=), poller thread, /dev/vfpf.
 * Remove: /dev/vfpf gone, running ioctls drained, poller stopped, admin queue off and its
 *         memory freed; the VFs stay enabled (a guest may be using them).
 */
#include <linux/idr.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "vfpf_kmod.h"

#define VFPF_BAR 2

static unsigned int num_vfs;
module_param(num_vfs, uint, 0444);
MODULE_PARM_DESC(num_vfs, "VFs to enable at probe (default 0: use VFPF_IOC_SRIOV_ENABLE)");

static unsigned int poll_us = 500;
module_param(poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us, "mailbox poll interval while VFs are active, in us (default 500)");

static DEFINE_IDA(vfpf_ida);

static void vfpf_pci_release(struct kref *ref)
{
	struct vfpf_pci *vp = container_of(ref, struct vfpf_pci, ref);

	kfree(vp);
}

void vfpf_pci_put(struct vfpf_pci *vp)
{
	kref_put(&vp->ref, vfpf_pci_release);
}

/*
 * Serves the mailboxes. Polls every poll_us while events keep coming and backs off to
 * 20 x poll_us after a quiet second; an igbvf VF waits up to 1 s for PFACK, so even the
 * slow rate answers in time.
 */
static int vfpf_poll_thread(void *data)
{
	struct vfpf_pci *vp = data;
	unsigned long quiet = 0;
	bool reported = false;
	unsigned int us;
	int n;

	while (!kthread_should_stop()) {
		n = vfpf_service(&vp->core);
		if (n < 0 && !reported) {
			dev_err(&vp->pdev->dev, "mailbox service failed: %d\n", n);
			reported = true;
		}
		if (n > 0) {
			quiet = 0;
			reported = false;
		} else {
			quiet++;
		}
		us = max(poll_us, 10U);
		if (quiet * us > USEC_PER_SEC)
			us *= 20;
		usleep_range(us, us + us / 2);
	}
	return 0;
}

static int vfpf_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vfpf_pci *vp;
	void __iomem *bar;
	int rc;

	rc = pcim_enable_device(pdev);
	if (rc)
		return rc;
	if (pci_resource_len(pdev, VFPF_BAR) < VFPF_BAR_SIZE)
		return -ENODEV;
	rc = pcim_iomap_regions(pdev, BIT(VFPF_BAR), KBUILD_MODNAME);
	if (rc)
		return rc;
	bar = pcim_iomap_table(pdev)[VFPF_BAR];
	if (ioread32(bar + VFPF_MAGIC_REG) != VFPF_MAGIC) {
		dev_info(&pdev->dev, "ivshmem device without a vfmed PF, not binding\n");
		return -ENODEV;
	}
	rc = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (rc) {
		dev_err(&pdev->dev, "no 64-bit DMA\n");
		return rc;
	}
	pci_set_master(pdev);

	vp = kzalloc(sizeof(*vp), GFP_KERNEL);
	if (!vp)
		return -ENOMEM;
	kref_init(&vp->ref);
	init_rwsem(&vp->remove_sem);
	vp->pdev = pdev;
	vp->core.bar = bar;
	vp->core.os.dev = &pdev->dev;
	vfpf_dev_setup(&vp->core);

	rc = ida_alloc(&vfpf_ida, GFP_KERNEL);
	if (rc < 0)
		goto err_free;
	vp->id = rc;

	rc = vfpf_dev_init(&vp->core);
	if (rc) {
		dev_err(&pdev->dev, "PF bring-up failed: %d\n", rc);
		goto err_ida;
	}
	if (num_vfs) {
		rc = vfpf_sriov_enable(&vp->core, num_vfs);
		if (rc < 0) {
			dev_err(&pdev->dev, "enabling %u VFs failed: %d\n", num_vfs, rc);
			goto err_core;
		}
	}

	vp->poller = kthread_run(vfpf_poll_thread, vp, "vfpf-poll/%d", vp->id);
	if (IS_ERR(vp->poller)) {
		rc = PTR_ERR(vp->poller);
		goto err_core;
	}
	rc = vfpf_cdev_register(vp);
	if (rc)
		goto err_thread;
	pci_set_drvdata(pdev, vp);
	dev_info(&pdev->dev, "vfmed PF bound, /dev/%s\n", vp->name);
	return 0;

err_thread:
	kthread_stop(vp->poller);
err_core:
	vfpf_dev_shutdown(&vp->core);
err_ida:
	ida_free(&vfpf_ida, vp->id);
err_free:
	vfpf_dev_teardown(&vp->core);
	vfpf_pci_put(vp);
	return rc;
}

static void vfpf_remove(struct pci_dev *pdev)
{
	struct vfpf_pci *vp = pci_get_drvdata(pdev);

	vfpf_cdev_unregister(vp);
	down_write(&vp->remove_sem);
	vp->removed = true;
	up_write(&vp->remove_sem);
	kthread_stop(vp->poller);
	vfpf_dev_shutdown(&vp->core);
	vfpf_dev_teardown(&vp->core);
	ida_free(&vfpf_ida, vp->id);
	pci_set_drvdata(pdev, NULL);
	vfpf_pci_put(vp);
}

static const struct pci_device_id vfpf_ids[] = {
	{ PCI_DEVICE(VFPF_PCI_VENDOR_ID, VFPF_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, vfpf_ids);

static struct pci_driver vfpf_driver = {
	.name = KBUILD_MODNAME,
	.id_table = vfpf_ids,
	.probe = vfpf_probe,
	.remove = vfpf_remove,
};
module_pci_driver(vfpf_driver);

MODULE_DESCRIPTION("vfmed PF driver (emulated 82576 SR-IOV NIC behind ivshmem)");
MODULE_LICENSE("GPL");
