// SPDX-License-Identifier: MIT
//
// module.cc - entry point of the vfmed_hw addon: exports the Nic class, the OS helpers, the
// errno table, and `setErrorClasses`, through which mediator/native/addon.ts registers
// VfmedSystemError / VfmedError so that errors thrown by the glue are instances of them.
// All state is per environment, so the addon also loads in worker threads.
#include "glue.h"
#include "../transport/vfmed-transport.h"

namespace vfmed {

AddonData *GetData(Napi::Env env)
{
	return env.GetInstanceData<AddonData>();
}

namespace {

// setErrorClasses(VfmedSystemError, VfmedError): the constructors are called as
// new VfmedSystemError(syscall, errno, detail?) and new VfmedError(code, message, errno).
void SetErrorClasses(const Napi::CallbackInfo &info)
{
	Args a(info, "setErrorClasses");
	if (!info[0].IsFunction())
		throw a.Type(std::string("\"systemError\" must be a class (got ") + TypeName(info[0]) + ")");
	if (!info[1].IsFunction())
		throw a.Type(std::string("\"vfmedError\" must be a class (got ") + TypeName(info[1]) + ")");
	AddonData *data = GetData(info.Env());
	data->system_error_ctor = Napi::Persistent(info[0].As<Napi::Function>());
	data->vfmed_error_ctor = Napi::Persistent(info[1].As<Napi::Function>());
}

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	env.SetInstanceData<AddonData>(new AddonData());
	InitNic(env, exports);
	InitOs(env, exports);
	InitWire(env, exports);
	InitFdWatch(env, exports);
	vfmed_transport_init(env, exports);
	exports.Set("errnos", ErrnoTable(env));
	exports.Set("setErrorClasses", Napi::Function::New<SetErrorClasses>(env, "setErrorClasses"));
	return exports;
}

} // namespace

} // namespace vfmed

static Napi::Object InitModule(Napi::Env env, Napi::Object exports)
{
	return vfmed::Init(env, exports);
}

NODE_API_MODULE(vfmed_hw, InitModule)
