// SPDX-License-Identifier: MIT
//
// wire_wrap.cc - the JS face of the uplink backends (native/wire/wire.h), exported as
// `wire`: the class `Wire` (one struct vfmed_wire on one Nic: pcap capture, TAP bridge,
// counters) and `tapOpen(name)`. Typed view: mediator/wire/wire-native.ts.
//
// Lifetime: a Wire holds a raw NIC pointer, so it registers a release hook with the Nic
// (glue.h): when the Nic is destroyed first, the Wire is torn down just before it and any
// later call throws VFMED_ERR_DESTROYED. destroy() is idempotent; the finalizer does the
// same for a dropped Wire.
#include "glue.h"

#include "../wire/wire.h"

#include <cerrno>
#include <memory>

namespace vfmed {

namespace {

struct WireState {
	struct vfmed_nic *nic = nullptr;
	struct vfmed_wire *wire = nullptr;
	uint64_t hook = 0;

	void Teardown()
	{
		if (wire) {
			vfmed_wire_destroy(wire);
			wire = nullptr;
		}
	}
};

class WireWrap : public Napi::ObjectWrap<WireWrap> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "Wire", {
			InstanceMethod<&WireWrap::CaptureStart>("captureStart"),
			InstanceMethod<&WireWrap::CaptureFlush>("captureFlush"),
			InstanceMethod<&WireWrap::CaptureStop>("captureStop"),
			InstanceMethod<&WireWrap::TapAttach>("tapAttach"),
			InstanceMethod<&WireWrap::TapDetach>("tapDetach"),
			InstanceMethod<&WireWrap::Stats>("stats"),
			InstanceMethod<&WireWrap::Destroy>("destroy"),
		});
	}

	explicit WireWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<WireWrap>(info)
	{
		Args a(info, "new Wire");
		struct vfmed_nic *nic = UnwrapNic(a, info[0], "nic");
		struct vfmed_wire *w = nullptr;
		Check(a.Env(), "vfmed_wire_create", vfmed_wire_create(nic, &w));
		state_ = std::make_shared<WireState>();
		state_->nic = nic;
		state_->wire = w;
		std::weak_ptr<WireState> weak = state_;
		state_->hook = AddNicReleaseHook(nic, [weak]() {
			if (auto s = weak.lock())
				s->Teardown();
		});
	}

	~WireWrap() override { Release(); }

private:
	void Release()
	{
		if (!state_)
			return;
		if (state_->wire) {
			RemoveNicReleaseHook(state_->nic, state_->hook);
			state_->Teardown();
		}
		state_.reset();
	}

	struct vfmed_wire *Live(const Args &a) const
	{
		if (!state_ || !state_->wire)
			throw VfmedError(a.Env(), "VFMED_ERR_DESTROYED",
					 std::string(a.Fn()) + ": the wire (or its NIC) was destroyed", ENODEV);
		return state_->wire;
	}

	void CaptureStart(const Napi::CallbackInfo &info)
	{
		Args a(info, "Wire.captureStart");
		struct vfmed_wire *w = Live(a);
		std::string path = a.Str(0, "path");
		uint32_t snaplen = a.Present(1) ? a.U32(1, "snaplen") : 0;
		if (path.empty() || path.find('\0') != std::string::npos)
			throw a.Type("\"path\" must be a non-empty path without NUL bytes");
		Check(a.Env(), "vfmed_wire_capture_start", vfmed_wire_capture_start(w, path.c_str(), snaplen));
	}

	void CaptureFlush(const Napi::CallbackInfo &info)
	{
		Args a(info, "Wire.captureFlush");
		Check(a.Env(), "vfmed_wire_capture_flush", vfmed_wire_capture_flush(Live(a)));
	}

	void CaptureStop(const Napi::CallbackInfo &info)
	{
		Args a(info, "Wire.captureStop");
		Check(a.Env(), "vfmed_wire_capture_stop", vfmed_wire_capture_stop(Live(a)));
	}

	void TapAttach(const Napi::CallbackInfo &info)
	{
		Args a(info, "Wire.tapAttach");
		struct vfmed_wire *w = Live(a);
		int fd = a.Fd(0, "fd");
		Check(a.Env(), "vfmed_wire_tap_attach", vfmed_wire_tap_attach(w, fd));
	}

	void TapDetach(const Napi::CallbackInfo &info)
	{
		Args a(info, "Wire.tapDetach");
		Check(a.Env(), "vfmed_wire_tap_detach", vfmed_wire_tap_detach(Live(a)));
	}

	Napi::Value Stats(const Napi::CallbackInfo &info)
	{
		Args a(info, "Wire.stats");
		struct vfmed_wire_stats st;
		Check(a.Env(), "vfmed_wire_get_stats", vfmed_wire_get_stats(Live(a), &st));
		Napi::Env env = a.Env();
		Napi::Object o = Napi::Object::New(env);
		auto big = [&](const char *k, uint64_t v) { o.Set(k, Napi::BigInt::New(env, v)); };
		auto num = [&](const char *k, double v) { o.Set(k, Napi::Number::New(env, v)); };
		big("egressFrames", st.egress_frames);
		big("egressBytes", st.egress_bytes);
		big("unclaimed", st.unclaimed);
		o.Set("capActive", Napi::Boolean::New(env, st.cap_active != 0));
		num("capSnaplen", st.cap_snaplen);
		num("capError", st.cap_error ? -st.cap_error : 0);
		big("capFrames", st.cap_frames);
		big("capBytes", st.cap_bytes);
		big("capTruncated", st.cap_truncated);
		o.Set("tapActive", Napi::Boolean::New(env, st.tap_active != 0));
		num("tapError", st.tap_error ? -st.tap_error : 0);
		big("tapTxFrames", st.tap_tx_frames);
		big("tapTxBytes", st.tap_tx_bytes);
		big("tapTxDrops", st.tap_tx_drops);
		big("tapRxFrames", st.tap_rx_frames);
		big("tapRxBytes", st.tap_rx_bytes);
		big("tapRxDrops", st.tap_rx_drops);
		big("tapRxBad", st.tap_rx_bad);
		big("uplinkTxFrames", st.up_tx_frames);
		big("uplinkTxDrops", st.up_tx_drops);
		big("uplinkRxFrames", st.up_rx_frames);
		big("uplinkRxFiltered", st.up_rx_filtered);
		big("uplinkQueued", st.up_queued);
		return o;
	}

	void Destroy(const Napi::CallbackInfo &info) { Release(); }

	std::shared_ptr<WireState> state_;
};

Napi::Value TapOpen(const Napi::CallbackInfo &info)
{
	Args a(info, "wire.tapOpen");
	std::string name = a.Present(0) ? a.Str(0, "name") : std::string();
	if (name.size() >= 16 || name.find('\0') != std::string::npos || name.find('/') != std::string::npos)
		throw a.Range("\"name\" must be an interface name of at most 15 characters, got '" + name + "'");
	char ifname[16] = { 0 };
	int fd = -1;
	Check(a.Env(), "vfmed_tap_open", vfmed_tap_open(name.empty() ? nullptr : name.c_str(), ifname, &fd));
	Napi::Object o = Napi::Object::New(a.Env());
	o.Set("fd", Napi::Number::New(a.Env(), fd));
	o.Set("name", Napi::String::New(a.Env(), ifname));
	return o;
}

} // namespace

void InitWire(Napi::Env env, Napi::Object exports)
{
	Napi::Object w = Napi::Object::New(env);
	w.Set("Wire", WireWrap::Define(env));
	w.Set("tapOpen", Napi::Function::New<TapOpen>(env, "tapOpen"));
	w.Set("Fabric", DefineFabric(env));
	exports.Set("wire", w);
}

} // namespace vfmed
