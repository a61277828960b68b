// SPDX-License-Identifier: GPL-2.0
/*
 * edu_guest: the arm64-qemu machine's L2 test driver (harness, not the
 * series).  It drives QEMU's edu device the way a guest driver does:
 * through the DMA API of its own DMA domain on the vSMMU that QEMU 11.1's
 * accelerated arm-smmuv3 gives the guest, i.e. stage 1 in L2's page tables,
 * stage 2 in L1's nest parent, walked by L0's SMMU.
 *
 * It runs once, at probe, and prints its results as TAP lines prefixed
 * "edu_guest: " (L2's init turns them into the suite's TAP):
 *   dma_both_ways    RAM -> device -> RAM moves exactly the bytes
 *   remap            after an unmap (and the invalidation L2's driver
 *                    sends) DMA to the old IOVA does not land; a new
 *                    mapping is followed
 *   unmapped_iova    DMA to an IOVA L2 never mapped does not land (its
 *                    address is printed: L2's init finds the event)
 *   msi              every completion and raised interrupt arrives as MSI,
 *                    counted
 *
 * edu (hw/misc/edu.c): BAR0 0x24 interrupt status, 0x60 raise, 0x64 ack,
 * 0x80 DMA source, 0x88 destination, 0x90 count, 0x98 command (bit 0 run,
 * bit 1 device to RAM, bit 2 interrupt when done, status 0x100); the
 * device's buffer is 4096 bytes at device address 0x40000.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/iommu.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/wait.h>

#define EDU_ID		0x00
#define EDU_INT_STATUS	0x24
#define EDU_INT_RAISE	0x60
#define EDU_INT_ACK	0x64
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_RUN	BIT(0)
#define EDU_CMD_TO_RAM	BIT(1)
#define EDU_CMD_IRQ	BIT(2)
#define EDU_DMA_DONE	0x100
#define EDU_BUF		0x40000
#define LEN		2048

struct edu {
	struct pci_dev *pdev;
	void __iomem *bar;
	atomic_t irqs;		/* interrupts received */
	unsigned int expect;	/* interrupts asked for */
	u32 last;
	wait_queue_head_t wq;
	int tap;
	bool irq_lost;
};

#define tap(e, ok, fmt, ...) \
	pr_info("edu_guest: %sok %d - " fmt "\n", (ok) ? "" : "not ", \
		++(e)->tap, ##__VA_ARGS__)

static irqreturn_t edu_irq(int irq, void *data)
{
	struct edu *e = data;
	u32 st = readl(e->bar + EDU_INT_STATUS);

	if (!st)
		return IRQ_NONE;
	writel(st, e->bar + EDU_INT_ACK);
	WRITE_ONCE(e->last, st);
	atomic_inc(&e->irqs);
	wake_up(&e->wq);
	return IRQ_HANDLED;
}

/* Wait for the interrupt asked for last; false if it did not come. */
static bool edu_wait_irq(struct edu *e)
{
	if (wait_event_timeout(e->wq, atomic_read(&e->irqs) >= e->expect,
			       10 * HZ))
		return true;
	e->irq_lost = true;
	return false;
}

/* One DMA with a completion interrupt; 0 when the device finished it. */
static int edu_dma(struct edu *e, u64 src, u64 dst, u32 cmd)
{
	u32 v;
	int ret;

	writeq(src, e->bar + EDU_DMA_SRC);
	writeq(dst, e->bar + EDU_DMA_DST);
	writeq(LEN, e->bar + EDU_DMA_CNT);
	e->expect++;
	writeq(cmd | EDU_CMD_RUN | EDU_CMD_IRQ, e->bar + EDU_DMA_CMD);
	ret = readl_poll_timeout(e->bar + EDU_DMA_CMD, v, !(v & EDU_CMD_RUN),
				 1000, 10 * USEC_PER_SEC);
	if (ret)
		return ret;
	return edu_wait_irq(e) ? 0 : -ETIMEDOUT;
}

static int to_device(struct edu *e, dma_addr_t iova)
{
	return edu_dma(e, iova, EDU_BUF, 0);
}

static int to_ram(struct edu *e, dma_addr_t iova)
{
	return edu_dma(e, EDU_BUF, iova, EDU_CMD_TO_RAM);
}

static void fill(u8 *p, u8 seed)
{
	int i;

	for (i = 0; i < LEN; i++)
		p[i] = seed + i * 7;
}

/* The page holds @seed's pattern in its first LEN bytes, @rest after */
static bool holds(const u8 *p, u8 seed, u8 rest)
{
	int i;

	for (i = 0; i < PAGE_SIZE; i++)
		if (p[i] != (i < LEN ? (u8)(seed + i * 7) : rest))
			return false;
	return true;
}

static bool all(const u8 *p, u8 v)
{
	return !memchr_inv(p, v, PAGE_SIZE);
}

static void edu_tests(struct edu *e)
{
	struct device *dev = &e->pdev->dev;
	struct iommu_domain *dom = iommu_get_domain_for_dev(dev);
	struct page *pg[5] = {};
	u8 *a, *b, *c, *d, *x;
	dma_addr_t ia, ib, ic, id, ix;
	int i, r1, r2;
	bool ok;

	tap(e, dom && (dom->type & __IOMMU_DOMAIN_DMA_API),
	    "dma_domain (type %#x)", dom ? dom->type : 0);
	for (i = 0; i < ARRAY_SIZE(pg); i++) {
		pg[i] = alloc_page(GFP_KERNEL);
		if (!pg[i])
			goto out;
	}
	a = page_address(pg[0]);
	b = page_address(pg[1]);
	c = page_address(pg[2]);
	d = page_address(pg[3]);
	x = page_address(pg[4]);

	/* RAM -> device -> RAM: exactly LEN bytes, nothing after them */
	memset(a, 0xa5, PAGE_SIZE);
	fill(a, 0x11);
	memset(b, 0x5a, PAGE_SIZE);
	ia = dma_map_page(dev, pg[0], 0, PAGE_SIZE, DMA_TO_DEVICE);
	ib = dma_map_page(dev, pg[1], 0, PAGE_SIZE, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, ia) || dma_mapping_error(dev, ib))
		goto out;
	r1 = to_device(e, ia);
	r2 = to_ram(e, ib);
	dma_unmap_page(dev, ia, PAGE_SIZE, DMA_TO_DEVICE);
	dma_unmap_page(dev, ib, PAGE_SIZE, DMA_FROM_DEVICE);
	ok = !r1 && !r2 && holds(b, 0x11, 0x5a);
	tap(e, ok, "dma_both_ways: %d bytes from iova %pad to the device and back to iova %pad (phys %pa): %*ph ... %*ph, then 0x%02x",
	    LEN, &ia, &ib, &(phys_addr_t){ page_to_phys(pg[1]) }, 8, b, 8,
	    b + LEN - 8, b[LEN]);

	/*
	 * An IOVA L2 never mapped: X's own physical address, so that a DMA
	 * that bypassed stage 1 would land in X.  First of the faulting DMAs:
	 * L2's driver logs at most 10 events per 5 s, and L2's init looks for
	 * this one's.
	 */
	memset(x, 0x66, PAGE_SIZE);
	ix = page_to_phys(pg[4]);
	ok = !iommu_iova_to_phys(dom, ix);
	r1 = to_ram(e, ix);
	ok = ok && !r1 && all(x, 0x66);
	tap(e, ok, "unmapped_iova: DMA to iova %pad, never mapped, does not land",
	    &ix);
	pr_info("edu_guest: unmapped_iova %#llx sid %#x\n", (u64)ix,
		pci_dev_id(e->pdev));

	/*
	 * Map C, DMA into it; unmap it (strict: L2's driver invalidates, QEMU
	 * forwards HWPT_INVALIDATE) and DMA to the old IOVA again: C keeps
	 * what it had.  Map D (the IOVA allocator gives the freed IOVA back
	 * first): DMA follows the new mapping.
	 */
	memset(c, 0x33, PAGE_SIZE);
	memset(d, 0x44, PAGE_SIZE);
	fill(a, 0x22);
	ia = dma_map_page(dev, pg[0], 0, PAGE_SIZE, DMA_TO_DEVICE);
	ic = dma_map_page(dev, pg[2], 0, PAGE_SIZE, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, ia) || dma_mapping_error(dev, ic))
		goto out;
	r1 = to_device(e, ia) || to_ram(e, ic);
	dma_unmap_page(dev, ia, PAGE_SIZE, DMA_TO_DEVICE);
	dma_unmap_page(dev, ic, PAGE_SIZE, DMA_FROM_DEVICE);
	ok = !r1 && holds(c, 0x22, 0x33);
	tap(e, ok, "remap: DMA into C at iova %pad", &ic);

	fill(a, 0x55);
	ia = dma_map_page(dev, pg[0], 0, PAGE_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, ia))
		goto out;
	r1 = to_device(e, ia);
	dma_unmap_page(dev, ia, PAGE_SIZE, DMA_TO_DEVICE);
	r2 = to_ram(e, ic);
	ok = !r1 && !r2 && holds(c, 0x22, 0x33) &&
	     !iommu_iova_to_phys(dom, ic);
	tap(e, ok, "remap: after unmap, DMA to the old iova %pad does not land",
	    &ic);

	id = dma_map_page(dev, pg[3], 0, PAGE_SIZE, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, id))
		goto out;
	r1 = to_ram(e, id);
	dma_unmap_page(dev, id, PAGE_SIZE, DMA_FROM_DEVICE);
	ok = !r1 && holds(d, 0x55, 0x44) && holds(c, 0x22, 0x33);
	tap(e, ok, "remap: D mapped at iova %pad (%s iova), DMA lands in D only",
	    &id, id == ic ? "the same" : "another");

	/* Interrupts the driver raises itself, each with its own status */
	for (i = 0; i < 5; i++) {
		e->expect++;
		writel(0x1000 + i, e->bar + EDU_INT_RAISE);
		if (!edu_wait_irq(e) || READ_ONCE(e->last) != 0x1000 + i)
			break;
	}
	tap(e, !e->irq_lost && atomic_read(&e->irqs) == e->expect,
	    "msi: %d interrupts received, %u asked for (DMA completions and raised)",
	    atomic_read(&e->irqs), e->expect);
out:
	for (i = 0; i < ARRAY_SIZE(pg); i++)
		if (pg[i])
			__free_page(pg[i]);
	pr_info("edu_guest: done %d\n", e->tap);
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu *e;
	int ret;

	e = devm_kzalloc(&pdev->dev, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->pdev = pdev;
	init_waitqueue_head(&e->wq);
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), "edu_guest");
	if (ret)
		return ret;
	e->bar = pcim_iomap_table(pdev)[0];
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0) {
		pr_info("edu_guest: not ok 1 - no MSI (%d)\n", ret);
		return ret;
	}
	ret = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, 0), edu_irq, 0,
			       "edu_guest", e);
	if (ret)
		return ret;
	pr_info("edu_guest: %s id %#x msi irq %d\n", pci_name(pdev),
		readl(e->bar + EDU_ID), pci_irq_vector(pdev, 0));
	edu_tests(e);
	return 0;
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = "edu_guest",
	.id_table = edu_ids,
	.probe = edu_probe,
};
module_pci_driver(edu_driver);
MODULE_DESCRIPTION("edu through the DMA API of a guest's vSMMU (test)");
MODULE_LICENSE("GPL");
