// SPDX-License-Identifier: MIT
//
// nic_wrap.cc - the JS class `Nic` (NativeNic in mediator/native/addon.ts): one emulated
// SR-IOV NIC, i.e. one struct vfmed_nic of native/include/vfmed/nic.h.
//
// Each method checks its arguments, calls exactly one nic.h function and maps -errno to a
// system error whose syscall is that function's name. Lifetime: destroy() releases the NIC
// at once (stops the device thread, closes BAR fds) and is idempotent; the finalizer does
// the same for a handle that was dropped without destroy(). Any later call on a destroyed
// handle throws VfmedError VFMED_ERR_DESTROYED instead of touching freed memory.
#include "glue.h"

#include <vfmed/nic.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <cerrno>
#include <cstring>
#include <vector>

namespace vfmed {

namespace {

// Largest frame the uplink can hand back: the model's FIFO never holds more than a 16 KiB
// jumbo frame, 64 KiB leaves the C side room to grow without a glue change.
constexpr uint32_t kUplinkTakeCap = 64 * 1024;
// truthRead returns one bit per 4 KiB page; bound the bitmap so a silly length cannot make
// the glue allocate gigabytes (2^30 pages = 4 TiB of IOVA = 128 MiB of bitmap).
constexpr uint64_t kTruthMaxPages = 1ull << 30;

// Release hooks by NIC (see glue.h); guarded because worker threads have their own NICs.
std::mutex g_hooks_lock;
std::map<struct vfmed_nic *, std::map<uint64_t, std::function<void()>>> g_hooks;
uint64_t g_next_hook = 1;

void RunNicReleaseHooks(struct vfmed_nic *nic)
{
	std::map<uint64_t, std::function<void()>> hooks;
	{
		std::lock_guard<std::mutex> g(g_hooks_lock);
		auto it = g_hooks.find(nic);
		if (it == g_hooks.end())
			return;
		hooks = std::move(it->second);
		g_hooks.erase(it);
	}
	for (auto &kv : hooks)
		kv.second();
}

class NicWrap : public Napi::ObjectWrap<NicWrap> {
public:
	static Napi::Function Define(Napi::Env env);
	static NicWrap *From(Napi::Value v)
	{
		Napi::Env env = v.Env();
		if (!v.IsObject())
			return nullptr;
		AddonData *d = GetData(env);
		if (d->nic_ctor.IsEmpty() || !v.As<Napi::Object>().InstanceOf(d->nic_ctor.Value()))
			return nullptr;
		return Unwrap(v.As<Napi::Object>());
	}
	struct vfmed_nic *Raw() const { return nic_; }

	explicit NicWrap(const Napi::CallbackInfo &info);
	~NicWrap() override { Release(); }

private:
	void Release()
	{
		struct vfmed_nic *n = nic_;
		nic_ = nullptr;
		if (n) {
			RunNicReleaseHooks(n);
			vfmed_nic_destroy(n);
		}
	}
	struct vfmed_nic *Live(const Args &a) const
	{
		if (!nic_)
			throw VfmedError(a.Env(), "VFMED_ERR_DESTROYED",
					 std::string(a.Fn()) + ": the NIC was destroyed", ENODEV);
		return nic_;
	}
	uint32_t Vf(const Args &a, size_t i) const
	{
		uint32_t vf = a.U32(i, "vf");
		if (vf >= max_vfs_)
			throw a.Range("\"vf\" must be < maxVfs (" + std::to_string(max_vfs_) +
				      "), got " + std::to_string(vf));
		return vf;
	}
	static uint32_t Size(const Args &a, size_t i)
	{
		uint32_t size = a.U32(i, "size");
		if (size != 1 && size != 2 && size != 4 && size != 8)
			throw a.Range("\"size\" must be 1, 2, 4 or 8, got " + std::to_string(size));
		return size;
	}

	Napi::Value MaxVfs(const Napi::CallbackInfo &info);
	Napi::Value PfBarFd(const Napi::CallbackInfo &info);
	Napi::Value VfBarFd(const Napi::CallbackInfo &info);
	Napi::Value PfBarPath(const Napi::CallbackInfo &info);
	Napi::Value VfBarPath(const Napi::CallbackInfo &info);
	void PfDmaMap(const Napi::CallbackInfo &info);
	void PfDmaUnmap(const Napi::CallbackInfo &info);
	void VfDmaMap(const Napi::CallbackInfo &info);
	void VfDmaUnmap(const Napi::CallbackInfo &info);
	void VfDmaUnmapAll(const Napi::CallbackInfo &info);
	Napi::Value VfRegRead(const Napi::CallbackInfo &info);
	void VfRegWrite(const Napi::CallbackInfo &info);
	Napi::Value VfRead32(const Napi::CallbackInfo &info);
	void VfWrite32(const Napi::CallbackInfo &info);
	void VfSetIrqFd(const Napi::CallbackInfo &info);
	void SetPfEventFd(const Napi::CallbackInfo &info);
	Napi::Value Poll(const Napi::CallbackInfo &info);
	void Start(const Napi::CallbackInfo &info);
	void Stop(const Napi::CallbackInfo &info);
	void Kick(const Napi::CallbackInfo &info);
	void UplinkInject(const Napi::CallbackInfo &info);
	Napi::Value UplinkTake(const Napi::CallbackInfo &info);
	Napi::Value TruthRead(const Napi::CallbackInfo &info);
	Napi::Value VfInfo(const Napi::CallbackInfo &info);
	void Destroy(const Napi::CallbackInfo &info);

	struct vfmed_nic *nic_ = nullptr;
	uint32_t max_vfs_ = 0;
	// Kept for the NIC's lifetime: the C side may keep pointers to the config strings.
	std::string shm_dir_, shm_prefix_;
	std::vector<uint8_t> take_buf_;
};

Napi::Function NicWrap::Define(Napi::Env env)
{
	return DefineClass(env, "Nic", {
		InstanceAccessor<&NicWrap::MaxVfs>("maxVfs"),
		InstanceMethod<&NicWrap::PfBarFd>("pfBarFd"),
		InstanceMethod<&NicWrap::VfBarFd>("vfBarFd"),
		InstanceMethod<&NicWrap::PfBarPath>("pfBarPath"),
		InstanceMethod<&NicWrap::VfBarPath>("vfBarPath"),
		InstanceMethod<&NicWrap::PfDmaMap>("pfDmaMap"),
		InstanceMethod<&NicWrap::PfDmaUnmap>("pfDmaUnmap"),
		InstanceMethod<&NicWrap::VfDmaMap>("vfDmaMap"),
		InstanceMethod<&NicWrap::VfDmaUnmap>("vfDmaUnmap"),
		InstanceMethod<&NicWrap::VfDmaUnmapAll>("vfDmaUnmapAll"),
		InstanceMethod<&NicWrap::VfRegRead>("vfRegRead"),
		InstanceMethod<&NicWrap::VfRegWrite>("vfRegWrite"),
		InstanceMethod<&NicWrap::VfRead32>("vfRead32"),
		InstanceMethod<&NicWrap::VfWrite32>("vfWrite32"),
		InstanceMethod<&NicWrap::VfSetIrqFd>("vfSetIrqFd"),
		InstanceMethod<&NicWrap::SetPfEventFd>("setPfEventFd"),
		InstanceMethod<&NicWrap::Poll>("poll"),
		InstanceMethod<&NicWrap::Start>("start"),
		InstanceMethod<&NicWrap::Stop>("stop"),
		InstanceMethod<&NicWrap::Kick>("kick"),
		InstanceMethod<&NicWrap::UplinkInject>("uplinkInject"),
		InstanceMethod<&NicWrap::UplinkTake>("uplinkTake"),
		InstanceMethod<&NicWrap::TruthRead>("truthRead"),
		InstanceMethod<&NicWrap::VfInfo>("vfInfo"),
		InstanceMethod<&NicWrap::Destroy>("destroy"),
	});
}

NicWrap::NicWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<NicWrap>(info)
{
	Args a(info, "new Nic");
	Napi::Env env = info.Env();
	if (!info[0].IsObject() || info[0].IsArray() || info[0].IsFunction())
		throw a.Type(std::string("\"cfg\" must be an object (got ") + TypeName(info[0]) + ")");
	Napi::Object cfg = info[0].As<Napi::Object>();

	struct vfmed_nic_config c;
	std::memset(&c, 0, sizeof(c));
	c.max_vfs = a.U32(cfg.Get("maxVfs"), "cfg.maxVfs");
	Napi::Value v = cfg.Get("rxFifoBytes");
	if (!v.IsUndefined())
		c.rx_fifo_bytes = a.U32(v, "cfg.rxFifoBytes");
	v = cfg.Get("shmDir");
	if (!v.IsUndefined()) {
		shm_dir_ = a.Str(v, "cfg.shmDir");
		c.shm_dir = shm_dir_.c_str();
	}
	v = cfg.Get("shmPrefix");
	if (!v.IsUndefined()) {
		shm_prefix_ = a.Str(v, "cfg.shmPrefix");
		c.shm_prefix = shm_prefix_.c_str();
	}
	v = cfg.Get("baseMac");
	if (!v.IsUndefined()) {
		Napi::Uint8Array mac = a.Bytes(v, "cfg.baseMac");
		if (mac.ElementLength() != 6)
			throw a.Range("\"cfg.baseMac\" must be 6 bytes, got " +
				      std::to_string(mac.ElementLength()));
		std::memcpy(c.base_mac, mac.Data(), 6);
	}
	v = cfg.Get("pollMode");
	if (!v.IsUndefined()) {
		std::string mode = a.Str(v, "cfg.pollMode");
		if (mode == "adaptive")
			c.poll_mode = VFMED_POLL_ADAPTIVE;
		else if (mode == "busy")
			c.poll_mode = VFMED_POLL_BUSY;
		else
			throw a.Range("\"cfg.pollMode\" must be 'adaptive' or 'busy', got '" + mode + "'");
	}
	v = cfg.Get("noHeadWriteBack");
	if (!v.IsUndefined() && a.Bool(v, "cfg.noHeadWriteBack"))
		c.flags |= VFMED_NIC_F_NO_HEAD_WB;

	struct vfmed_nic *nic = nullptr;
	Check(env, "vfmed_nic_create", vfmed_nic_create(&c, &nic));
	nic_ = nic;
	max_vfs_ = vfmed_nic_max_vfs(nic);
}

Napi::Value NicWrap::MaxVfs(const Napi::CallbackInfo &info)
{
	return Napi::Number::New(info.Env(), max_vfs_);
}

Napi::Value NicWrap::PfBarFd(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.pfBarFd");
	return Napi::Number::New(a.Env(),
				 Check(a.Env(), "vfmed_nic_pf_bar_fd", vfmed_nic_pf_bar_fd(Live(a))));
}

Napi::Value NicWrap::VfBarFd(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.vfBarFd");
	struct vfmed_nic *nic = Live(a);
	uint32_t vf = Vf(a, 0);
	return Napi::Number::New(a.Env(),
				 Check(a.Env(), "vfmed_nic_vf_bar_fd", vfmed_nic_vf_bar_fd(nic, vf)));
}

static Napi::Value PathOrNull(Napi::Env env, const char *p)
{
	return p ? Napi::Value(Napi::String::New(env, p)) : env.Null();
}

Napi::Value NicWrap::PfBarPath(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.pfBarPath");
	return PathOrNull(a.Env(), vfmed_nic_pf_bar_path(Live(a)));
}

Napi::Value NicWrap::VfBarPath(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.vfBarPath");
	struct vfmed_nic *nic = Live(a);
	return PathOrNull(a.Env(), vfmed_nic_vf_bar_path(nic, Vf(a, 0)));
}

void NicWrap::PfDmaMap(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.pfDmaMap");
	struct vfmed_nic *nic = Live(a);
	uint64_t iova = a.U64(0, "iova"), len = a.U64(1, "len");
	int fd = a.Fd(2, "fd");
	uint64_t off = a.U64(3, "offset");
	Check(a.Env(), "vfmed_nic_pf_dma_map", vfmed_nic_pf_dma_map(nic, iova, len, fd, off));
}

void NicWrap::PfDmaUnmap(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.pfDmaUnmap");
	struct vfmed_nic *nic = Live(a);
	uint64_t iova = a.U64(0, "iova"), len = a.U64(1, "len");
	Check(a.Env(), "vfmed_nic_pf_dma_unmap", vfmed_nic_pf_dma_unmap(nic, iova, len));
}

void NicWrap::VfDmaMap(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.vfDmaMap");
	struct vfmed_nic *nic = Live(a);
	uint32_t vf = Vf(a, 0);
	uint64_t iova = a.U64(1, "iova"), len = a.U64(2, "len");
	int fd = a.Fd(3, "fd");
	uint64_t off = a.U64(4, "offset");
	uint32_t prot = a.U32(5, "prot");
	Check(a.Env(), "vfmed_vf_dma_map", vfmed_vf_dma_map(nic, vf, iova, len, fd, off, prot));
}

void NicWrap::VfDmaUnmap(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.vfDmaUnmap");
	struct vfmed_nic *nic = Live(a);
	uint32_t vf = Vf(a, 0);
	uint64_t iova = a.U64(1, "iova"), len = a.U64(2, "len");
	Check(a.Env(), "vfmed_vf_dma_unmap", vfmed_vf_dma_unmap(nic, vf, iova, len));
}

void NicWrap::VfDmaUnmapAll(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.vfDmaUnmapAll");
	struct vfmed_nic *nic = Live(a);
	Check(a.Env(), "vfmed_vf_dma_unmap_all", vfmed_vf_dma_unmap_all(nic, Vf(a, 0)));
}

Napi::Value NicWrap::VfRegRead(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.vfRegRead");
	struct vfmed_nic *nic = Live(a);
	uint32_t vf = Vf(a, 0), off = a.U32(1, "off"), size = Size(a, 2);
	uint64_t val = 0;
	Check(a.Env(), "vfmed_vf_reg_read", vfmed_vf_reg_read(nic, vf, off, size, &val));
	return Napi::BigInt::New(a.Env(), val);
}

void NicWrap::VfRegWrite(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.vfRegWrite");
	struct vfmed_nic *nic = Live(a);
	uint32_t vf = Vf(a, 0), off = a.U32(1, "off"), size = Size(a, 2);
	uint64_t val = a.U64(3, "val");
	if (size < 8 && (val >> (size * 8)) != 0)
		throw a.Range("\"val\" does not fit in " + std::to_string(size) + " byte(s)");
	Check(a.Env(), "vfmed_vf_reg_write", vfmed_vf_reg_write(nic, vf, off, size, val));
}

Napi::Value NicWrap::VfRead32(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.vfRead32");
	struct vfmed_nic *nic = Live(a);
	uint32_t vf = Vf(a, 0), off = a.U32(1, "off");
	uint64_t val = 0;
	Check(a.Env(), "vfmed_vf_reg_read", vfmed_vf_reg_read(nic, vf, off, 4, &val));
	return Napi::Number::New(a.Env(), static_cast<uint32_t>(val));
}

void NicWrap::VfWrite32(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.vfWrite32");
	struct vfmed_nic *nic = Live(a);
	uint32_t vf = Vf(a, 0), off = a.U32(1, "off");
	// Accept both the u32 and the int32 view of a register value: JS bit operations
	// (x | 0x80000000) produce negative int32s.
	int64_t v = a.Int(2, "val", INT32_MIN, UINT32_MAX);
	Check(a.Env(), "vfmed_vf_reg_write",
	      vfmed_vf_reg_write(nic, vf, off, 4, static_cast<uint32_t>(v)));
}

void NicWrap::VfSetIrqFd(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.vfSetIrqFd");
	struct vfmed_nic *nic = Live(a);
	uint32_t vf = Vf(a, 0), vector = a.U32(1, "vector");
	int fd = a.Fd(2, "fd", -1);
	Check(a.Env(), "vfmed_vf_set_irq_fd", vfmed_vf_set_irq_fd(nic, vf, vector, fd));
}

void NicWrap::SetPfEventFd(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.setPfEventFd");
	struct vfmed_nic *nic = Live(a);
	Check(a.Env(), "vfmed_nic_set_pf_event_fd", vfmed_nic_set_pf_event_fd(nic, a.Fd(0, "fd", -1)));
}

Napi::Value NicWrap::Poll(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.poll");
	return Napi::Number::New(a.Env(), Check(a.Env(), "vfmed_nic_poll", vfmed_nic_poll(Live(a))));
}

void NicWrap::Start(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.start");
	Check(a.Env(), "vfmed_nic_start", vfmed_nic_start(Live(a)));
}

void NicWrap::Stop(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.stop");
	Check(a.Env(), "vfmed_nic_stop", vfmed_nic_stop(Live(a)));
}

void NicWrap::Kick(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.kick");
	vfmed_nic_kick(Live(a));
}

void NicWrap::UplinkInject(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.uplinkInject");
	struct vfmed_nic *nic = Live(a);
	Napi::Uint8Array frame = a.Bytes(0, "frame");
	if (frame.ElementLength() > UINT32_MAX)
		throw a.Range("\"frame\" is larger than 4 GiB");
	Check(a.Env(), "vfmed_uplink_inject",
	      vfmed_uplink_inject(nic, frame.Data(), static_cast<uint32_t>(frame.ElementLength())));
}

Napi::Value NicWrap::UplinkTake(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.uplinkTake");
	struct vfmed_nic *nic = Live(a);
	if (take_buf_.empty())
		take_buf_.resize(kUplinkTakeCap);
	int rc = vfmed_uplink_take(nic, take_buf_.data(), kUplinkTakeCap);
	if (rc == -EAGAIN)
		return a.Env().Null();
	Check(a.Env(), "vfmed_uplink_take", rc);
	if (static_cast<uint32_t>(rc) > kUplinkTakeCap) // a C bug must not become an overread
		throw SystemError(a.Env(), "vfmed_uplink_take", EOVERFLOW, "length beyond buffer");
	return Napi::Buffer<uint8_t>::Copy(a.Env(), take_buf_.data(), rc);
}

Napi::Value NicWrap::TruthRead(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.truthRead");
	struct vfmed_nic *nic = Live(a);
	uint32_t vf = Vf(a, 0);
	uint64_t iova = a.U64(1, "iova"), len = a.U64(2, "len");
	bool clear = a.Bool(3, "clear");
	uint64_t pages = len / 4096 + (len % 4096 != 0);
	if (pages > kTruthMaxPages)
		throw a.Range("\"len\" is too large for a bitmap (max 2^30 pages)");
	// At least one byte: a zero-length Buffer has no data pointer, and NULL is never handed
	// to C (len 0 is the C side's to refuse, with EINVAL).
	size_t bytes = std::max<size_t>(1, static_cast<size_t>((pages + 7) / 8));
	Napi::Buffer<uint8_t> bitmap = Napi::Buffer<uint8_t>::New(a.Env(), bytes);
	std::memset(bitmap.Data(), 0, bytes);
	Check(a.Env(), "vfmed_vf_truth_read",
	      vfmed_vf_truth_read(nic, vf, iova, len, bitmap.Data(), bytes, clear ? 1 : 0));
	return bitmap;
}

static Napi::Object QueueInfo(Napi::Env env, const struct vfmed_vf_queue_info &q)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("rxEnabled", Napi::Boolean::New(env, q.rx_enabled != 0));
	o.Set("txEnabled", Napi::Boolean::New(env, q.tx_enabled != 0));
	o.Set("rxHead", Napi::Number::New(env, q.rx_head));
	o.Set("rxTail", Napi::Number::New(env, q.rx_tail));
	o.Set("txHead", Napi::Number::New(env, q.tx_head));
	o.Set("txTail", Napi::Number::New(env, q.tx_tail));
	o.Set("rxCount", Napi::Number::New(env, q.rx_count));
	o.Set("txCount", Napi::Number::New(env, q.tx_count));
	o.Set("rxError", Napi::Number::New(env, q.rx_error));
	o.Set("txError", Napi::Number::New(env, q.tx_error));
	return o;
}

Napi::Value NicWrap::VfInfo(const Napi::CallbackInfo &info)
{
	Args a(info, "Nic.vfInfo");
	Napi::Env env = a.Env();
	struct vfmed_nic *nic = Live(a);
	uint32_t vf = Vf(a, 0);
	struct vfmed_vf_info vi;
	std::memset(&vi, 0, sizeof(vi));
	Check(env, "vfmed_vf_get_info", vfmed_vf_get_info(nic, vf, &vi));

	Napi::Object o = Napi::Object::New(env);
	o.Set("enabled", Napi::Boolean::New(env, vi.enabled != 0));
	o.Set("rxEn", Napi::Boolean::New(env, vi.rx_en != 0));
	o.Set("txEn", Napi::Boolean::New(env, vi.tx_en != 0));
	o.Set("quiesced", Napi::Boolean::New(env, vi.quiesced != 0));
	o.Set("mac", Napi::Buffer<uint8_t>::Copy(env, vi.mac, sizeof(vi.mac)));
	o.Set("fifoFrames", Napi::Number::New(env, vi.fifo_frames));
	o.Set("fifoBytes", Napi::Number::New(env, vi.fifo_bytes));
	o.Set("fifoCapacity", Napi::Number::New(env, vi.fifo_capacity));
	o.Set("fifoDrops", Napi::BigInt::New(env, vi.fifo_drops));
	o.Set("dmaErrors", Napi::BigInt::New(env, vi.dma_errors));
	o.Set("txErrors", Napi::BigInt::New(env, vi.tx_errors));
	o.Set("rxPackets", Napi::BigInt::New(env, vi.rx_packets));
	o.Set("txPackets", Napi::BigInt::New(env, vi.tx_packets));
	o.Set("rxBytes", Napi::BigInt::New(env, vi.rx_bytes));
	o.Set("txBytes", Napi::BigInt::New(env, vi.tx_bytes));
	Napi::Array queues = Napi::Array::New(env, 2);
	queues.Set(0u, QueueInfo(env, vi.q[0]));
	queues.Set(1u, QueueInfo(env, vi.q[1]));
	o.Set("queues", queues);
	return o;
}

void NicWrap::Destroy(const Napi::CallbackInfo &info)
{
	Release();
}

} // namespace

struct vfmed_nic *UnwrapNic(const Args &a, Napi::Value v, const char *name)
{
	NicWrap *w = NicWrap::From(v);
	if (!w)
		throw a.Type(std::string("\"") + name + "\" must be a Nic (got " + TypeName(v) + ")");
	if (!w->Raw())
		throw VfmedError(a.Env(), "VFMED_ERR_DESTROYED",
				 std::string(a.Fn()) + ": the NIC was destroyed", ENODEV);
	return w->Raw();
}

uint64_t AddNicReleaseHook(struct vfmed_nic *nic, std::function<void()> fn)
{
	std::lock_guard<std::mutex> g(g_hooks_lock);
	uint64_t id = g_next_hook++;
	g_hooks[nic][id] = std::move(fn);
	return id;
}

void RemoveNicReleaseHook(struct vfmed_nic *nic, uint64_t id)
{
	std::lock_guard<std::mutex> g(g_hooks_lock);
	auto it = g_hooks.find(nic);
	if (it == g_hooks.end())
		return;
	it->second.erase(id);
	if (it->second.empty())
		g_hooks.erase(it);
}

void InitNic(Napi::Env env, Napi::Object exports)
{
	Napi::Function ctor = NicWrap::Define(env);
	GetData(env)->nic_ctor = Napi::Persistent(ctor);
	exports.Set("Nic", ctor);
}

} // namespace vfmed
