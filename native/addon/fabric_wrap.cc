// SPDX-License-Identifier: MIT
//
// fabric_wrap.cc - the JS face of the lossless L2 fabric (native/wire/fabric.c), exported
// as `wire.Fabric`: `new Fabric([nicA, nicB])` joins the NICs' uplinks; stats(), destroy().
// Typed view: mediator/wire/wire-native.ts.
//
// Lifetime: the fabric holds raw NIC pointers, so it registers a release hook with each
// NIC (glue.h): whichever NIC is destroyed first tears the fabric down just before; later
// calls throw VFMED_ERR_DESTROYED. destroy() is idempotent; the finalizer does the same.
#include "glue.h"

#include "../wire/wire.h"

#include <cerrno>
#include <memory>
#include <vector>

namespace vfmed {

namespace {

struct FabricState {
	std::vector<struct vfmed_nic *> nics;
	std::vector<uint64_t> hooks;
	struct vfmed_fabric *fabric = nullptr;

	void Teardown()
	{
		if (fabric) {
			vfmed_fabric_destroy(fabric);
			fabric = nullptr;
		}
	}
};

class FabricWrap : public Napi::ObjectWrap<FabricWrap> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "Fabric", {
			InstanceMethod<&FabricWrap::Stats>("stats"),
			InstanceMethod<&FabricWrap::Destroy>("destroy"),
		});
	}

	explicit FabricWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<FabricWrap>(info)
	{
		Args a(info, "new Fabric");
		if (!info[0].IsArray())
			throw a.Type(std::string("\"nics\" must be an array of Nic (got ") + TypeName(info[0]) + ")");
		Napi::Array arr = info[0].As<Napi::Array>();
		if (arr.Length() < 1 || arr.Length() > 4)
			throw a.Range("\"nics\" must hold 1 to 4 NICs, got " + std::to_string(arr.Length()));
		std::vector<struct vfmed_nic *> nics;
		for (uint32_t i = 0; i < arr.Length(); i++)
			nics.push_back(UnwrapNic(a, arr.Get(i), "nics[i]"));
		struct vfmed_fabric *fb = nullptr;
		Check(a.Env(), "vfmed_fabric_create", vfmed_fabric_create(nics.data(), (uint32_t)nics.size(), &fb));
		state_ = std::make_shared<FabricState>();
		state_->nics = nics;
		state_->fabric = fb;
		std::weak_ptr<FabricState> weak = state_;
		for (struct vfmed_nic *nic : nics)
			state_->hooks.push_back(AddNicReleaseHook(nic, [weak]() {
				if (auto s = weak.lock())
					s->Teardown();
			}));
	}

	~FabricWrap() override { Release(); }

private:
	void Release()
	{
		if (!state_)
			return;
		if (state_->fabric) {
			for (size_t i = 0; i < state_->nics.size(); i++)
				RemoveNicReleaseHook(state_->nics[i], state_->hooks[i]);
			state_->Teardown();
		}
		state_.reset();
	}

	Napi::Value Stats(const Napi::CallbackInfo &info)
	{
		Args a(info, "Fabric.stats");
		if (!state_ || !state_->fabric)
			throw VfmedError(a.Env(), "VFMED_ERR_DESTROYED", "Fabric.stats: the fabric (or one of its NICs) was destroyed", ENODEV);
		struct vfmed_fabric_stats st;
		Check(a.Env(), "vfmed_fabric_get_stats", vfmed_fabric_get_stats(state_->fabric, &st));
		Napi::Env env = a.Env();
		Napi::Object o = Napi::Object::New(env);
		auto big = [&](const char *k, uint64_t v) { o.Set(k, Napi::BigInt::New(env, v)); };
		big("frames", st.frames);
		big("delivered", st.delivered);
		big("unknown", st.unknown);
		big("overflow", st.overflow);
		big("retries", st.retries);
		big("pauses", st.pauses);
		big("heldMax", st.held_max);
		o.Set("held", Napi::Number::New(env, st.held));
		return o;
	}

	void Destroy(const Napi::CallbackInfo &info) { Release(); }

	std::shared_ptr<FabricState> state_;
};

} // namespace

Napi::Function DefineFabric(Napi::Env env)
{
	return FabricWrap::Define(env);
}

} // namespace vfmed
