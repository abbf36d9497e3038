// SPDX-License-Identifier: MIT
//
// glue.h - shared pieces of the node-addon-api glue (native/addon): per-environment state,
// argument checks and error construction. The glue is deliberately thin: it validates the
// JS types and representable ranges of arguments (TypeError / RangeError with Node core's
// ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE codes), calls one C function, and turns a -errno
// return into a system error carrying code / errno / syscall. Device semantics (which
// offsets exist, which IOVA ranges are legal ...) stay in native/nic.
#ifndef VFMED_ADDON_GLUE_H
#define VFMED_ADDON_GLUE_H

#include <napi.h>

struct vfmed_nic;

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

namespace vfmed {

struct Mapping;

// Per-environment (per worker thread) state, owned by the environment.
struct AddonData {
	// Error classes registered by mediator/native/addon.ts (VfmedSystemError, VfmedError) so
	// that errors thrown here are real instances of them; empty until registered.
	Napi::FunctionReference system_error_ctor;
	Napi::FunctionReference vfmed_error_ctor;
	// The Nic class, so UnwrapNic can tell a Nic from any other object.
	Napi::FunctionReference nic_ctor;
	// Live mmapShared() mappings by address, so munmap() can tell ours from any other
	// ArrayBuffer and never unmaps twice.
	std::unordered_map<void *, Mapping *> mappings;

	~AddonData(); // detaches live mappings from this object (see os.cc)
};

AddonData *GetData(Napi::Env env);

// Builds (does not throw) a system error for a C call that returned -errno (errnum is
// positive). An instance of the registered VfmedSystemError when there is one.
Napi::Error SystemError(Napi::Env env, const char *syscall, int errnum,
			const std::string &detail = std::string());
// Builds a VfmedError with a stable VFMED_ERR_* code.
Napi::Error VfmedError(Napi::Env env, const char *code, const std::string &message, int errnum);

Napi::Error TypeErr(Napi::Env env, const std::string &message);
Napi::Error RangeErr(Napi::Env env, const std::string &message);

// Throws a system error when rc < 0 (rc = -errno); returns rc otherwise.
inline int Check(Napi::Env env, const char *syscall, int rc)
{
	if (rc < 0)
		throw SystemError(env, syscall, -rc);
	return rc;
}

const char *ErrnoName(int errnum); // "EINVAL", or nullptr for an unknown number
Napi::Object ErrnoTable(Napi::Env env); // { EINVAL: 22, ... }

// Argument reader for one call: every getter names the function and the parameter in its
// error message, e.g. `Nic.vfDmaMap: "iova" must be a bigint (got number)`.
class Args {
public:
	Args(const Napi::CallbackInfo &info, const char *fn) : info_(info), fn_(fn) {}

	Napi::Env Env() const { return info_.Env(); }
	bool Present(size_t i) const { return i < info_.Length() && !info_[i].IsUndefined(); }

	// Each getter exists for argument i and for any value (e.g. a property of an options
	// object); `name` is what the message calls it.
	uint32_t U32(Napi::Value v, const char *name) const;
	uint32_t U32(size_t i, const char *name) const { return U32(Arg(i), name); }
	// An integer in [lo, hi]; JS numbers only.
	int64_t Int(Napi::Value v, const char *name, int64_t lo, int64_t hi) const;
	int64_t Int(size_t i, const char *name, int64_t lo, int64_t hi) const
	{
		return Int(Arg(i), name, lo, hi);
	}
	// A file descriptor: an int32 >= min (min is -1 where -1 means "none").
	int Fd(Napi::Value v, const char *name, int min = 0) const;
	int Fd(size_t i, const char *name, int min = 0) const { return Fd(Arg(i), name, min); }
	// A bigint in [0, 2^64).
	uint64_t U64(Napi::Value v, const char *name) const;
	uint64_t U64(size_t i, const char *name) const { return U64(Arg(i), name); }
	std::string Str(Napi::Value v, const char *name) const;
	std::string Str(size_t i, const char *name) const { return Str(Arg(i), name); }
	bool Bool(Napi::Value v, const char *name) const;
	bool Bool(size_t i, const char *name) const { return Bool(Arg(i), name); }
	Napi::Uint8Array Bytes(Napi::Value v, const char *name) const;
	Napi::Uint8Array Bytes(size_t i, const char *name) const { return Bytes(Arg(i), name); }
	Napi::ArrayBuffer Buffer(Napi::Value v, const char *name) const;
	Napi::ArrayBuffer Buffer(size_t i, const char *name) const { return Buffer(Arg(i), name); }
	Napi::Value Arg(size_t i) const { return info_[i]; }

	// Error helpers that prefix the function name.
	Napi::Error Type(const std::string &what) const;
	Napi::Error Range(const std::string &what) const;
	const char *Fn() const { return fn_; }

private:
	const Napi::CallbackInfo &info_;
	const char *fn_;
};

// Type name of a JS value for error messages ("number", "bigint", "null", ...).
const char *TypeName(const Napi::Value &v);

// Module parts, each registering its exports.
void InitNic(Napi::Env env, Napi::Object exports);
void InitOs(Napi::Env env, Napi::Object exports);
void InitWire(Napi::Env env, Napi::Object exports);   // wire_wrap.cc
Napi::Function DefineFabric(Napi::Env env);            // fabric_wrap.cc (wire.Fabric)
void InitFdWatch(Napi::Env env, Napi::Object exports); // fd_watch.cc

// For glue that attaches to a NIC (wire_wrap.cc): the struct vfmed_nic behind a JS `Nic`
// (TypeError for any other value, VFMED_ERR_DESTROYED for a destroyed one), and hooks run
// just before that NIC is destroyed (destroy() or its finalizer), so an object holding the
// pointer can let go of it first. Hooks run on the JS thread, once, in any order.
struct vfmed_nic *UnwrapNic(const Args &a, Napi::Value v, const char *name);
uint64_t AddNicReleaseHook(struct vfmed_nic *nic, std::function<void()> fn);
void RemoveNicReleaseHook(struct vfmed_nic *nic, uint64_t id);

} // namespace vfmed

#endif // VFMED_ADDON_GLUE_H
