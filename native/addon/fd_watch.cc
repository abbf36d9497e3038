// SPDX-License-Identifier: MIT
//
// fd_watch.cc - `FdWatch`: calls a JS function whenever an fd becomes readable, from the
// event loop (uv_poll). Node cannot watch an eventfd itself (net.Socket refuses it), and
// the daemon must react to the emulated PF's event fd (VF mailbox requests, VF resets)
// without polling on a timer. The callback gets 0, or a positive errno when the poll
// failed (the watch is then stopped). The watch does not read the fd: the callback must
// (e.g. eventfdRead), or it fires again at once.
//
//   new FdWatch(fd, cb) ─▶ uv_poll_start(READABLE) ─▶ cb(0) per readiness ─▶ close()
//                                                        (uv_close, freed in its callback)
// unref()/ref() decide whether the watch alone keeps the process alive.
#include "glue.h"

#include <uv.h>

#include <cerrno>

namespace vfmed {

namespace {

uv_loop_t *LoopOf(Napi::Env env)
{
	uv_loop_t *loop = nullptr;
	if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop)
		throw Napi::Error::New(env, "FdWatch: no libuv loop");
	return loop;
}

class FdWatchWrap : public Napi::ObjectWrap<FdWatchWrap> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "FdWatch", {
			InstanceMethod<&FdWatchWrap::Close>("close"),
			InstanceMethod<&FdWatchWrap::Ref>("ref"),
			InstanceMethod<&FdWatchWrap::Unref>("unref"),
		});
	}

	explicit FdWatchWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<FdWatchWrap>(info)
	{
		Args a(info, "new FdWatch");
		int fd = a.Fd(0, "fd");
		if (!info[1].IsFunction())
			throw a.Type(std::string("\"callback\" must be a function (got ") + TypeName(info[1]) + ")");
		cb_ = Napi::Persistent(info[1].As<Napi::Function>());
		env_ = info.Env();
		poll_ = new uv_poll_t;
		int rc = uv_poll_init(LoopOf(env_), poll_, fd);
		if (rc) {
			delete poll_;
			poll_ = nullptr;
			throw SystemError(env_, "uv_poll_init", -rc);
		}
		poll_->data = this;
		rc = uv_poll_start(poll_, UV_READABLE, OnPoll);
		if (rc) {
			CloseHandle();
			throw SystemError(env_, "uv_poll_start", -rc);
		}
		// The JS object must outlive any callback: keep it alive while the poll runs.
		self_ = Napi::Persistent(info.This().As<Napi::Object>());
	}

	~FdWatchWrap() override { CloseHandle(); }

private:
	static void OnPoll(uv_poll_t *h, int status, int events)
	{
		auto *self = static_cast<FdWatchWrap *>(h->data);
		if (!self)
			return;
		Napi::Env env = self->env_;
		Napi::HandleScope scope(env);
		int err = status < 0 ? -status : 0;
		Napi::Object recv = self->self_.IsEmpty() ? Napi::Object::New(env) : self->self_.Value();
		if (err)
			self->Stop();   // a failed poll does not come back; report it once
		try {
			self->cb_.MakeCallback(recv, { Napi::Number::New(env, err) });
		} catch (const Napi::Error &e) {
			// An exception in the callback is the callback's business: surface it as
			// an uncaught exception rather than losing it inside libuv.
			napi_fatal_exception(env, e.Value());
		}
	}

	void Stop()
	{
		if (poll_)
			uv_poll_stop(poll_);
		if (!self_.IsEmpty())
			self_.Reset();
	}

	void CloseHandle()
	{
		if (!poll_)
			return;
		uv_poll_stop(poll_);
		poll_->data = nullptr;
		uv_close(reinterpret_cast<uv_handle_t *>(poll_),
			 [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
		poll_ = nullptr;
	}

	void Close(const Napi::CallbackInfo &info)
	{
		CloseHandle();
		if (!self_.IsEmpty())
			self_.Reset();
	}

	void Ref(const Napi::CallbackInfo &info)
	{
		if (poll_)
			uv_ref(reinterpret_cast<uv_handle_t *>(poll_));
	}

	void Unref(const Napi::CallbackInfo &info)
	{
		if (poll_)
			uv_unref(reinterpret_cast<uv_handle_t *>(poll_));
	}

	Napi::Env env_ = nullptr;
	Napi::FunctionReference cb_;
	Napi::ObjectReference self_;
	uv_poll_t *poll_ = nullptr;
};

} // namespace

void InitFdWatch(Napi::Env env, Napi::Object exports)
{
	exports.Set("FdWatch", FdWatchWrap::Define(env));
}

} // namespace vfmed
