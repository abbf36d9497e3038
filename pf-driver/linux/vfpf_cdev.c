// SPDX-License-Identifier: GPL-2.0
/*
 * vfpf_cdev.c - /dev/vfpf: the mediator's ioctl interface to the PF driver (vfpf_uapi.h).
 *
 * Each ioctl copies its argument struct in (size fixed by the ioctl number), checks that
 * padding is zero and that user buffers are within the documented bounds, calls the core
 * with kernel memory, and copies results out. Large buffers (state blobs, dirty bitmaps)
 * are bounced through kvmalloc'd kernel memory, never passed to the core as user pointers.
 * Only CAP_NET_ADMIN may open the device: it reconfigures VFs and reads their state.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vfpf_kmod.h"
#include "vfpf_uapi.h"

static_assert(sizeof(struct vfpf_dirty_range) == sizeof(struct vfpf_ioc_dirty_range));
static_assert(VFPF_IOC_STATE_MAX <= VFPF_STATE_MAX);
static_assert(VFPF_IOC_BITMAP_MAX <= VFPF_BITMAP_MAX);

static struct vfpf_pci *vfpf_file_pci(struct file *f)
{
	return container_of(f->private_data, struct vfpf_pci, misc);
}

static int vfpf_open(struct inode *inode, struct file *f)
{
	struct vfpf_pci *vp = vfpf_file_pci(f);
	int rc = 0;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	down_read(&vp->remove_sem);
	if (vp->removed)
		rc = -ENODEV;
	else
		kref_get(&vp->ref);
	up_read(&vp->remove_sem);
	if (!rc)
		stream_open(inode, f);
	return rc;
}

static int vfpf_release(struct inode *inode, struct file *f)
{
	vfpf_pci_put(vfpf_file_pci(f));
	return 0;
}

static long vfpf_ioc_info(struct vfpf_dev *dev, void __user *arg)
{
	struct vfpf_dev_info info;
	struct vfpf_ioc_info out = { };
	int rc;

	rc = vfpf_get_info(dev, &info);
	if (rc)
		return rc;
	out.model_id = info.model_id;
	out.abi_major = info.abi_major;
	out.abi_minor = info.abi_minor;
	out.max_vfs = info.max_vfs;
	out.num_vfs = info.num_vfs;
	out.queues_per_vf = info.queues_per_vf;
	out.rx_fifo_bytes = info.rx_fifo_bytes;
	out.state_version = info.state_version;
	out.features = info.features;
	return copy_to_user(arg, &out, sizeof(out)) ? -EFAULT : 0;
}

static long vfpf_ioc_sriov(struct vfpf_dev *dev, void __user *arg)
{
	struct vfpf_ioc_sriov a;
	int rc;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.pad)
		return -EINVAL;
	rc = vfpf_sriov_enable(dev, a.num_vfs);
	if (rc < 0)
		return rc;
	a.num_vfs = rc;
	return copy_to_user(arg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vfpf_ioc_mac(struct vfpf_dev *dev, void __user *arg)
{
	struct vfpf_ioc_mac a;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.pad[0] || a.pad[1])
		return -EINVAL;
	return vfpf_vf_set_mac(dev, a.vf, a.mac);
}

static long vfpf_ioc_vf(struct vfpf_dev *dev, unsigned int cmd, void __user *arg)
{
	struct vfpf_ioc_vf a;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.pad)
		return -EINVAL;
	switch (cmd) {
	case VFPF_IOC_VF_QUIESCE:
		return vfpf_vf_quiesce(dev, a.vf);
	case VFPF_IOC_VF_RESUME:
		return vfpf_vf_resume(dev, a.vf);
	case VFPF_IOC_VF_FLR:
		return vfpf_vf_flr(dev, a.vf);
	case VFPF_IOC_DIRTY_STOP:
		return vfpf_vf_dirty_stop(dev, a.vf);
	}
	return -ENOTTY;
}

static long vfpf_ioc_state_size(struct vfpf_dev *dev, void __user *arg)
{
	struct vfpf_ioc_state_size a;
	int rc;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	rc = vfpf_vf_state_size(dev, a.vf);
	if (rc < 0)
		return rc;
	a.size = rc;
	return copy_to_user(arg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vfpf_ioc_save(struct vfpf_dev *dev, void __user *arg)
{
	struct vfpf_ioc_blob a;
	void *kbuf;
	int rc;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (!a.len)
		return -EINVAL;
	if (a.len > VFPF_IOC_STATE_MAX)
		return -E2BIG;
	kbuf = kvmalloc(a.len, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	rc = vfpf_vf_save(dev, a.vf, kbuf, a.len);
	if (rc >= 0) {
		a.len = rc;
		if (copy_to_user(u64_to_user_ptr(a.buf), kbuf, a.len) ||
		    copy_to_user(arg, &a, sizeof(a)))
			rc = -EFAULT;
		else
			rc = 0;
	}
	kvfree(kbuf);
	return rc;
}

static long vfpf_ioc_load(struct vfpf_dev *dev, void __user *arg)
{
	struct vfpf_ioc_blob a;
	void *kbuf;
	int rc;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (!a.len)
		return -EINVAL;
	if (a.len > VFPF_IOC_STATE_MAX)
		return -E2BIG;
	kbuf = vmemdup_user(u64_to_user_ptr(a.buf), a.len);
	if (IS_ERR(kbuf))
		return PTR_ERR(kbuf);
	rc = vfpf_vf_load(dev, a.vf, kbuf, a.len);
	kvfree(kbuf);
	return rc;
}

static long vfpf_ioc_dirty_start(struct vfpf_dev *dev, void __user *arg)
{
	struct vfpf_ioc_dirty_start a;
	struct vfpf_dirty_range *r;
	int rc;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.pad || !a.nr_ranges || a.nr_ranges > VFPF_IOC_DIRTY_MAX_RANGES)
		return -EINVAL;
	r = memdup_user(u64_to_user_ptr(a.ranges), a.nr_ranges * sizeof(*r));
	if (IS_ERR(r))
		return PTR_ERR(r);
	rc = vfpf_vf_dirty_start(dev, a.vf, a.page_shift, r, a.nr_ranges);
	kfree(r);
	return rc;
}

static long vfpf_ioc_dirty_report(struct vfpf_dev *dev, void __user *arg)
{
	struct vfpf_ioc_dirty_report a;
	void *kbm;
	int rc;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.pad || !a.bitmap_len)
		return -EINVAL;
	if (a.bitmap_len > VFPF_IOC_BITMAP_MAX)
		return -E2BIG;
	kbm = kvzalloc(a.bitmap_len, GFP_KERNEL);
	if (!kbm)
		return -ENOMEM;
	rc = vfpf_vf_dirty_report(dev, a.vf, a.iova, a.length, kbm, a.bitmap_len);
	if (!rc && copy_to_user(u64_to_user_ptr(a.bitmap), kbm, a.bitmap_len))
		rc = -EFAULT;
	kvfree(kbm);
	return rc;
}

static long vfpf_ioc_stats(struct vfpf_dev *dev, void __user *arg)
{
	struct vfpf_ioc_stats a;
	struct vfpf_vf_stats s;
	int rc;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.pad)
		return -EINVAL;
	rc = vfpf_vf_stats(dev, a.vf, &s);
	if (rc)
		return rc;
	a.rx_packets = s.rx_packets;
	a.rx_bytes = s.rx_bytes;
	a.tx_packets = s.tx_packets;
	a.tx_bytes = s.tx_bytes;
	a.rx_mcast = s.rx_mcast;
	a.rx_lb_packets = s.rx_lb_packets;
	a.tx_lb_packets = s.tx_lb_packets;
	a.rx_lb_bytes = s.rx_lb_bytes;
	a.tx_lb_bytes = s.tx_lb_bytes;
	a.rx_fifo_drops = s.rx_fifo_drops;
	a.rx_no_desc = s.rx_no_desc;
	a.dma_errors = s.dma_errors;
	a.tx_errors = s.tx_errors;
	a.fifo_frames = s.fifo_frames;
	a.fifo_bytes = s.fifo_bytes;
	return copy_to_user(arg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vfpf_ioc_vf_config(struct vfpf_dev *dev, void __user *arg)
{
	struct vfpf_ioc_vf_config a;
	struct vfpf_vf_config c;
	int rc;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	rc = vfpf_vf_get_config(dev, a.vf, &c);
	if (rc)
		return rc;
	memcpy(a.mac, c.mac, sizeof(a.mac));
	a.enable = c.enable;
	a.max_frame = c.max_frame;
	a.mc_count = c.mc_count;
	a.vlan_count = c.vlan_count;
	a.promisc = c.promisc;
	a.quiesced = c.quiesced;
	a.pad = 0;
	return copy_to_user(arg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vfpf_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct vfpf_pci *vp = vfpf_file_pci(f);
	struct vfpf_dev *dev = &vp->core;
	void __user *uarg = (void __user *)arg;
	long rc;

	down_read(&vp->remove_sem);
	if (vp->removed) {
		rc = -ENODEV;
		goto out;
	}
	switch (cmd) {
	case VFPF_IOC_GET_INFO:
		rc = vfpf_ioc_info(dev, uarg);
		break;
	case VFPF_IOC_SRIOV_ENABLE:
		rc = vfpf_ioc_sriov(dev, uarg);
		break;
	case VFPF_IOC_SET_MAC:
		rc = vfpf_ioc_mac(dev, uarg);
		break;
	case VFPF_IOC_VF_QUIESCE:
	case VFPF_IOC_VF_RESUME:
	case VFPF_IOC_VF_FLR:
	case VFPF_IOC_DIRTY_STOP:
		rc = vfpf_ioc_vf(dev, cmd, uarg);
		break;
	case VFPF_IOC_STATE_SIZE:
		rc = vfpf_ioc_state_size(dev, uarg);
		break;
	case VFPF_IOC_SAVE:
		rc = vfpf_ioc_save(dev, uarg);
		break;
	case VFPF_IOC_LOAD:
		rc = vfpf_ioc_load(dev, uarg);
		break;
	case VFPF_IOC_DIRTY_START:
		rc = vfpf_ioc_dirty_start(dev, uarg);
		break;
	case VFPF_IOC_DIRTY_REPORT:
		rc = vfpf_ioc_dirty_report(dev, uarg);
		break;
	case VFPF_IOC_STATS:
		rc = vfpf_ioc_stats(dev, uarg);
		break;
	case VFPF_IOC_VF_CONFIG:
		rc = vfpf_ioc_vf_config(dev, uarg);
		break;
	default:
		rc = -ENOTTY;
		break;
	}
out:
	up_read(&vp->remove_sem);
	return rc;
}

static const struct file_operations vfpf_fops = {
	.owner = THIS_MODULE,
	.open = vfpf_open,
	.release = vfpf_release,
	.unlocked_ioctl = vfpf_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = no_llseek,
};

int vfpf_cdev_register(struct vfpf_pci *vp)
{
	if (vp->id)
		snprintf(vp->name, sizeof(vp->name), "vfpf%d", vp->id);
	else
		strscpy(vp->name, "vfpf", sizeof(vp->name));
	vp->misc.minor = MISC_DYNAMIC_MINOR;
	vp->misc.name = vp->name;
	vp->misc.fops = &vfpf_fops;
	vp->misc.parent = &vp->pdev->dev;
	vp->misc.mode = 0600;
	return misc_register(&vp->misc);
}

void vfpf_cdev_unregister(struct vfpf_pci *vp)
{
	misc_deregister(&vp->misc);
}
