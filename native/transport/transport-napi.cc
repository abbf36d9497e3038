// SPDX-License-Identifier: MIT
/*
 * transport-napi.cc - JS face of the vfio-user socket transport (thin glue).
 *
 * Exposes `exports.transport = { Listener, Connection, connect, constants }`; the typed
 * view is mediator/vfio/transport-native.ts. The addon's module init must call
 * vfmed_transport_init(env, exports) (one line; see the report of the vfio branch).
 *
 *   new Listener(path, onConnection(conn), backlog?)  socket at path, mode 0600
 *   connect(path) -> Connection                       client side (tests, tools)
 *   conn.start(onMessage(buf, fds, flags), onClose(errno))
 *   conn.send(bytes, fds?)  conn.end()  conn.destroy()  conn.setMaxMessageSize(n)
 *   conn.setFastPath(policy | null)  conn.setFastPathPaused(bool)  conn.takeFastPath()
 *   conn.fastPathTotals              the native BAR0 fast path (fast-path.h)
 *
 * Errors are thrown as Error objects with code/errno/syscall, the shape of
 * VfmedSystemError (transport-native.ts re-wraps them). JS callbacks run through
 * MakeCallback so promise jobs queued by them run right after; an exception escaping a
 * callback is reported as an uncaught exception (the TS layer never lets one escape).
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>

#include <napi.h>
#include <uv.h>

#include <vfmed/nic.h>
#include <vfmed/vf_regs.h>

#include "../addon/glue.h"
#include "fast-path.h"
#include "transport.h"
#include "vfmed-transport.h"

namespace vfmed {

namespace {

Napi::Error errno_error(Napi::Env env, int err, const char *syscall, const std::string &detail = "")
{
	const char *name = strerrorname_np(err);
	std::string code = name ? name : ("E" + std::to_string(err));
	std::string msg = std::string(syscall) + ": " + code;
	if (!detail.empty())
		msg += " (" + detail + ")";
	Napi::Error e = Napi::Error::New(env, msg);
	e.Set("code", Napi::String::New(env, code));
	e.Set("errno", Napi::Number::New(env, err));
	e.Set("syscall", Napi::String::New(env, syscall));
	return e;
}

uv_loop_t *loop_of(Napi::Env env)
{
	uv_loop_t *loop = nullptr;
	if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop)
		throw Napi::Error::New(env, "vfmed transport: no libuv loop");
	return loop;
}

/* Calls a JS callback from a libuv callback; escaping exceptions become uncaught ones. */
void call_js(Napi::Env env, Napi::Object recv, Napi::FunctionReference &fn,
	     Napi::AsyncContext &ctx, const std::vector<napi_value> &args)
{
	if (fn.IsEmpty())
		return;
	try {
		/* napi_make_callback needs an object receiver; `this` is the wrapper. */
		fn.MakeCallback(recv, args, ctx);
	} catch (const Napi::Error &e) {
		napi_fatal_exception(env, e.Value());
	}
}

/* Constructors per env (worker threads load the addon again). */
std::map<napi_env, Napi::FunctionReference *> g_conn_ctor;

} /* namespace */

/* ---- Connection ------------------------------------------------------------------------- */

class ConnectionWrap : public Napi::ObjectWrap<ConnectionWrap> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "Connection", {
			InstanceMethod<&ConnectionWrap::Start>("start"),
			InstanceMethod<&ConnectionWrap::Send>("send"),
			InstanceMethod<&ConnectionWrap::End>("end"),
			InstanceMethod<&ConnectionWrap::Destroy>("destroy"),
			InstanceMethod<&ConnectionWrap::SetMaxMessageSize>("setMaxMessageSize"),
			InstanceAccessor<&ConnectionWrap::GetMaxMessageSize>("maxMessageSize"),
			InstanceAccessor<&ConnectionWrap::GetQueuedBytes>("queuedBytes"),
			InstanceAccessor<&ConnectionWrap::GetClosed>("closed"),
			InstanceAccessor<&ConnectionWrap::GetPeer>("peer"),
			InstanceMethod<&ConnectionWrap::SetFastPath>("setFastPath"),
			InstanceMethod<&ConnectionWrap::SetFastPathPaused>("setFastPathPaused"),
			InstanceMethod<&ConnectionWrap::TakeFastPath>("takeFastPath"),
			InstanceAccessor<&ConnectionWrap::GetFastPathTotals>("fastPathTotals"),
		});
	}

	/* Wraps an fd we own (accepted or connected). */
	static Napi::Object Create(Napi::Env env, int fd)
	{
		auto it = g_conn_ctor.find(env);
		if (it == g_conn_ctor.end()) {
			close(fd);
			throw Napi::Error::New(env, "vfmed transport not initialised");
		}
		Napi::Object obj = it->second->New({ Napi::External<void>::New(env, nullptr) });
		ConnectionWrap *w = Unwrap(obj);
		w->conn_ = std::make_unique<VfmedConn>(loop_of(env), fd);
		return obj;
	}

	ConnectionWrap(const Napi::CallbackInfo &info)
		: Napi::ObjectWrap<ConnectionWrap>(info),
		  ctx_(info.Env(), "vfmed:vfio-user-connection")
	{
		if (info.Length() != 1 || !info[0].IsExternal())
			throw Napi::TypeError::New(info.Env(),
				"Connection is created by Listener or connect(), not with new");
	}

	~ConnectionWrap() override { DropFastPath(); }

private:
	VfmedConn &conn(Napi::Env env)
	{
		if (!conn_)
			throw Napi::Error::New(env, "Connection has no socket");
		return *conn_;
	}

	Napi::Value Start(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction())
			throw Napi::TypeError::New(env, "start(onMessage, onClose): functions expected");
		VfmedConn &c = conn(env);
		on_message_ = Napi::Persistent(info[0].As<Napi::Function>());
		on_close_ = Napi::Persistent(info[1].As<Napi::Function>());

		VfmedConn::Callbacks cb;
		cb.on_message = [this](uint8_t *data, size_t len, std::vector<int> &fds,
				       uint32_t flags) { OnMessage(data, len, fds, flags); };
		cb.on_closed = [this](int err) { OnClosed(err); };
		int rc = c.start(std::move(cb));
		if (rc < 0)
			throw errno_error(env, -rc, "uv_poll_init");
		Ref(); /* alive while the socket is open, like a net.Socket */
		started_ = true;
		return env.Undefined();
	}

	void OnMessage(uint8_t *data, size_t len, std::vector<int> &fds, uint32_t flags)
	{
		if (fp_ && fp_->serve(data, len, flags, fds.size(), &reply_)) {
			free(data);
			if (!reply_.empty() && conn_)
				conn_->send(reply_.data(), reply_.size(), nullptr, 0); /* failure closes */
			return;
		}
		Napi::Env env = Env();
		Napi::HandleScope scope(env);
		Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(
			env, data, len, [](Napi::Env, uint8_t *p) { free(p); });
		Napi::Array arr = Napi::Array::New(env, fds.size());
		for (size_t i = 0; i < fds.size(); i++)
			arr.Set((uint32_t)i, Napi::Number::New(env, fds[i]));
		fds.clear(); /* ownership passes to JS together with the numbers */
		call_js(env, Value(), on_message_, ctx_, { buf, arr, Napi::Number::New(env, flags) });
	}

	void OnClosed(int err)
	{
		Napi::Env env = Env();
		Napi::HandleScope scope(env);
		if (started_) {
			started_ = false;
			Napi::FunctionReference cb = std::move(on_close_);
			on_message_.Reset();
			/* The fast path serves nothing any more (no reads), but its counters are
			 * still there for the close callback to take. Unref last: the callback
			 * may drop the last JS reference. */
			call_js(env, Value(), cb, ctx_, { Napi::Number::New(env, err) });
			DropFastPath();
			Unref();
			return;
		}
		DropFastPath();
	}

	Napi::Value Send(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (info.Length() < 1 || !info[0].IsTypedArray())
			throw Napi::TypeError::New(env, "send(bytes: Uint8Array, fds?: number[])");
		Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
		if (ta.TypedArrayType() != napi_uint8_array)
			throw Napi::TypeError::New(env, "send: bytes must be a Uint8Array");
		Napi::Uint8Array u8 = info[0].As<Napi::Uint8Array>();
		std::vector<int> fds;
		if (info.Length() > 1 && !info[1].IsUndefined()) {
			if (!info[1].IsArray())
				throw Napi::TypeError::New(env, "send: fds must be an array of numbers");
			Napi::Array a = info[1].As<Napi::Array>();
			if (a.Length() > VFMED_SOCK_MAX_SEND_FDS)
				throw Napi::RangeError::New(env, "send: more than 253 (SCM_MAX_FD) fds");
			for (uint32_t i = 0; i < a.Length(); i++) {
				Napi::Value v = a.Get(i);
				if (!v.IsNumber())
					throw Napi::TypeError::New(env, "send: fds must be numbers");
				double d = v.As<Napi::Number>().DoubleValue();
				if (d < 0 || d > 0x7fffffff || d != (double)(int)d)
					throw Napi::RangeError::New(env, "send: bad fd number");
				fds.push_back((int)d);
			}
		}
		VfmedConn &c = conn(env);
		int rc = c.send(u8.Data(), u8.ByteLength(), fds.data(), fds.size());
		if (rc < 0)
			throw errno_error(env, -rc, "sendmsg");
		return env.Undefined();
	}

	Napi::Value End(const Napi::CallbackInfo &info)
	{
		if (conn_)
			conn_->end();
		return info.Env().Undefined();
	}

	Napi::Value Destroy(const Napi::CallbackInfo &info)
	{
		if (conn_)
			conn_->destroy(0);
		return info.Env().Undefined();
	}

	Napi::Value SetMaxMessageSize(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (info.Length() < 1 || !info[0].IsNumber())
			throw Napi::TypeError::New(env, "setMaxMessageSize(bytes: number)");
		double d = info[0].As<Napi::Number>().DoubleValue();
		if (!(d >= VFMED_SOCK_HDR_SIZE && d <= 0xffffffffu) || d != (double)(uint64_t)d)
			throw Napi::RangeError::New(env, "setMaxMessageSize: 16 .. 2^32-1");
		conn(env).set_max_message((size_t)d);
		return env.Undefined();
	}

	Napi::Value GetMaxMessageSize(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), conn_ ? (double)conn_->max_message() : 0);
	}

	Napi::Value GetQueuedBytes(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), conn_ ? (double)conn_->queued_bytes() : 0);
	}

	Napi::Value GetClosed(const Napi::CallbackInfo &info)
	{
		return Napi::Boolean::New(info.Env(), !conn_ || conn_->is_closed());
	}

	Napi::Value GetPeer(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!conn_ || !conn_->peer().valid)
			return env.Null();
		Napi::Object o = Napi::Object::New(env);
		o.Set("pid", Napi::Number::New(env, conn_->peer().pid));
		o.Set("uid", Napi::Number::New(env, conn_->peer().uid));
		o.Set("gid", Napi::Number::New(env, conn_->peer().gid));
		return o;
	}

	/* ---- fast path ---------------------------------------------------------------- */

	void DropFastPath()
	{
		if (fp_ && fp_nic_hook_)
			RemoveNicReleaseHook(fp_nic_, fp_nic_hook_);
		fp_nic_hook_ = 0;
		fp_nic_ = nullptr;
		fp_.reset();
		if (fp_bar_) {
			munmap(fp_bar_, VFMED_VF_BAR0_SIZE);
			fp_bar_ = nullptr;
		}
		for (auto &r : fp_windows_)
			r.Reset();
		fp_windows_.clear();
	}

	static std::vector<uint8_t> Mask(const Args &a, Napi::Object o, const char *name, size_t bytes)
	{
		Napi::Uint8Array m = a.Bytes(o.Get(name), name);
		if (m.ByteLength() != bytes)
			throw a.Range(std::string("\"") + name + "\" must have " + std::to_string(bytes) +
				      " bytes (one bit per dword of the region)");
		return std::vector<uint8_t>(m.Data(), m.Data() + bytes);
	}

	/*
	 * setFastPath(null) | setFastPath({ nic, vf, region, regionSize, read, write,
	 *                                   tailLog?: { windows: [{ iova, buffer }],
	 *                                               postTails: boolean } })
	 * Installs (or removes) the policy; the counters and log of a replaced policy must have
	 * been taken before (they are dropped).
	 */
	Napi::Value SetFastPath(const Napi::CallbackInfo &info)
	{
		Args a(info, "Connection.setFastPath");
		Napi::Env env = info.Env();
		DropFastPath();
		if (!a.Present(0) || info[0].IsNull())
			return env.Undefined();
		if (!info[0].IsObject())
			throw a.Type("\"policy\" must be an object or null");
		Napi::Object o = info[0].As<Napi::Object>();
		VfmedFastPathConfig cfg;
		struct vfmed_nic *nic = UnwrapNic(a, o.Get("nic"), "nic");
		cfg.nic = nic;
		cfg.vf = a.U32(o.Get("vf"), "vf");
		if (cfg.vf >= vfmed_nic_max_vfs(nic))
			throw a.Range("\"vf\" must be < the NIC's maxVfs");
		cfg.region = a.U32(o.Get("region"), "region");
		cfg.region_size = a.U32(o.Get("regionSize"), "regionSize");
		if (cfg.region_size == 0 || cfg.region_size % 32 || cfg.region_size > VFMED_VF_BAR0_SIZE)
			throw a.Range("\"regionSize\" must be a non-zero multiple of 32 up to the BAR0 size");
		cfg.read_mask = Mask(a, o, "read", cfg.region_size / 32);
		cfg.write_mask = Mask(a, o, "write", cfg.region_size / 32);
		std::vector<Napi::Reference<Napi::ArrayBuffer>> refs;
		Napi::Value tl = o.Get("tailLog");
		if (!tl.IsUndefined() && !tl.IsNull()) {
			if (!tl.IsObject() || !tl.As<Napi::Object>().Get("windows").IsArray())
				throw a.Type("\"tailLog\" must be { windows: [{ iova, buffer }] }");
			Napi::Array ws = tl.As<Napi::Object>().Get("windows").As<Napi::Array>();
			for (uint32_t i = 0; i < ws.Length(); i++) {
				Napi::Value w = ws.Get(i);
				if (!w.IsObject())
					throw a.Type("\"tailLog.windows\" entries must be objects");
				Napi::Object wo = w.As<Napi::Object>();
				Napi::ArrayBuffer ab = a.Buffer(wo.Get("buffer"), "buffer");
				uint64_t iova = a.U64(wo.Get("iova"), "iova");
				if (ab.ByteLength() == 0 || iova + ab.ByteLength() < iova)
					throw a.Range("a tailLog window is empty or wraps");
				cfg.windows.push_back({ iova, ab.ByteLength(),
							static_cast<const uint8_t *>(ab.Data()) });
				refs.push_back(Napi::Persistent(ab));
			}
			int fd = vfmed_nic_vf_bar_fd(nic, cfg.vf);
			if (fd < 0)
				throw SystemError(env, "vfmed_nic_vf_bar_fd", -fd);
			Napi::Value pv = tl.As<Napi::Object>().Get("postTails");
			bool post = !pv.IsUndefined() && a.Bool(pv, "postTails");
			void *bar = mmap(nullptr, VFMED_VF_BAR0_SIZE, PROT_READ | (post ? PROT_WRITE : 0),
					 MAP_SHARED, fd, 0);
			if (bar == MAP_FAILED)
				throw SystemError(env, "mmap", errno);
			fp_bar_ = bar;
			cfg.bar = static_cast<volatile uint32_t *>(bar);
			cfg.tail_log = true;
			cfg.post_tails = post;
		}
		fp_ = std::make_unique<VfmedFastPath>(std::move(cfg));
		fp_->set_paused(fp_paused_);
		fp_windows_ = std::move(refs);
		fp_nic_ = nic;
		fp_nic_hook_ = AddNicReleaseHook(nic, [this]() {
			if (fp_)
				fp_->detach_nic();
			fp_nic_hook_ = 0;
		});
		return env.Undefined();
	}

	Napi::Value SetFastPathPaused(const Napi::CallbackInfo &info)
	{
		Args a(info, "Connection.setFastPathPaused");
		bool p = a.Bool(0, "paused");
		fp_paused_ = p;
		if (fp_)
			fp_->set_paused(p);
		return info.Env().Undefined();
	}

	/* { reads: Uint32Array, writes: Uint32Array ((dword, count) pairs), log: Uint32Array
	 * (kind, q, head, oldTail, newTail, naddr per entry), addrs: Float64Array (NaN =
	 * unknown) } since the last call, or null when nothing was served. */
	Napi::Value TakeFastPath(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!fp_ || !fp_->pending())
			return env.Null();
		std::vector<uint32_t> rd, wr;
		std::vector<VfmedFastPathLogEntry> log;
		std::vector<uint64_t> addrs;
		fp_->take_counts(&rd, &wr);
		fp_->take_log(&log, &addrs);
		auto u32 = [&](const std::vector<uint32_t> &v) {
			Napi::Uint32Array t = Napi::Uint32Array::New(env, v.size());
			if (!v.empty())
				memcpy(t.Data(), v.data(), v.size() * sizeof(uint32_t));
			return t;
		};
		std::vector<uint32_t> lg;
		lg.reserve(log.size() * 6);
		for (const auto &e : log) {
			lg.push_back(e.kind);
			lg.push_back(e.q);
			lg.push_back(e.head);
			lg.push_back(e.old_tail);
			lg.push_back(e.new_tail);
			lg.push_back(e.naddr);
		}
		Napi::Float64Array ad = Napi::Float64Array::New(env, addrs.size());
		for (size_t i = 0; i < addrs.size(); i++)
			ad[i] = addrs[i] == UINT64_MAX ? NAN : (double)addrs[i];
		Napi::Object o = Napi::Object::New(env);
		o.Set("reads", u32(rd));
		o.Set("writes", u32(wr));
		o.Set("log", u32(lg));
		o.Set("addrs", ad);
		return o;
	}

	Napi::Value GetFastPathTotals(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!fp_)
			return env.Null();
		const VfmedFastPathTotals &t = fp_->totals();
		Napi::Object o = Napi::Object::New(env);
		o.Set("reads", Napi::Number::New(env, (double)t.reads));
		o.Set("writes", Napi::Number::New(env, (double)t.writes));
		o.Set("errors", Napi::Number::New(env, (double)t.errors));
		o.Set("logged", Napi::Number::New(env, (double)t.logged));
		o.Set("declinedLog", Napi::Number::New(env, (double)t.declined_log));
		o.Set("posted", Napi::Number::New(env, (double)t.posted));
		o.Set("paused", Napi::Boolean::New(env, fp_->paused()));
		o.Set("tailLog", Napi::Boolean::New(env, fp_->config().tail_log));
		return o;
	}

	std::unique_ptr<VfmedFastPath> fp_;
	struct vfmed_nic *fp_nic_ = nullptr;
	uint64_t fp_nic_hook_ = 0;
	void *fp_bar_ = nullptr;
	std::vector<Napi::Reference<Napi::ArrayBuffer>> fp_windows_;
	bool fp_paused_ = false;
	std::vector<uint8_t> reply_;

	std::unique_ptr<VfmedConn> conn_;
	Napi::FunctionReference on_message_;
	Napi::FunctionReference on_close_;
	Napi::AsyncContext ctx_;
	bool started_ = false;
};

/* ---- Listener ----------------------------------------------------------------------------- */

class ListenerWrap : public Napi::ObjectWrap<ListenerWrap> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "Listener", {
			InstanceMethod<&ListenerWrap::Close>("close"),
			InstanceAccessor<&ListenerWrap::GetPath>("path"),
			InstanceAccessor<&ListenerWrap::GetClosed>("closed"),
		});
	}

	ListenerWrap(const Napi::CallbackInfo &info)
		: Napi::ObjectWrap<ListenerWrap>(info),
		  ctx_(info.Env(), "vfmed:vfio-user-listener")
	{
		Napi::Env env = info.Env();
		if (info.Length() < 2 || !info[0].IsString() || !info[1].IsFunction())
			throw Napi::TypeError::New(env,
				"new Listener(path: string, onConnection: (conn) => void, backlog?)");
		int backlog = 16;
		if (info.Length() > 2 && !info[2].IsUndefined()) {
			if (!info[2].IsNumber())
				throw Napi::TypeError::New(env, "backlog must be a number");
			backlog = info[2].As<Napi::Number>().Int32Value();
			if (backlog < 1 || backlog > 4096)
				throw Napi::RangeError::New(env, "backlog: 1 .. 4096");
		}
		path_ = info[0].As<Napi::String>().Utf8Value();
		int rc = vfmed_sock_listen(path_, backlog, &sock_);
		if (rc < 0)
			throw errno_error(env, -rc, "listen", path_);
		loop_ = loop_of(env);
		on_conn_ = Napi::Persistent(info[1].As<Napi::Function>());
		int urc = uv_poll_init(loop_, &poll_, sock_.fd);
		if (urc < 0) {
			vfmed_sock_unlink_if_ours(path_, sock_);
			close(sock_.fd);
			throw errno_error(env, -urc, "uv_poll_init", path_);
		}
		poll_.data = this;
		uv_timer_init(loop_, &retry_);
		retry_.data = this;
		uv_poll_start(&poll_, UV_READABLE, OnReadable);
		Ref();
	}

	~ListenerWrap() override
	{
		/* Only reached after Close() completed (we hold a ref while open). */
	}

private:
	static void OnReadable(uv_poll_t *h, int status, int events)
	{
		ListenerWrap *l = static_cast<ListenerWrap *>(h->data);
		if (status < 0 || l->closing_)
			return;
		l->AcceptSome();
	}

	static void OnRetry(uv_timer_t *t)
	{
		ListenerWrap *l = static_cast<ListenerWrap *>(t->data);
		if (!l->closing_)
			uv_poll_start(&l->poll_, UV_READABLE, OnReadable);
	}

	void AcceptSome()
	{
		Napi::Env env = Env();
		Napi::HandleScope scope(env);
		for (int i = 0; i < 16 && !closing_; i++) {
			int fd = vfmed_sock_accept(sock_.fd);
			if (fd == -EAGAIN || fd == -EWOULDBLOCK)
				return;
			if (fd == -ECONNABORTED || fd == -EPROTO)
				continue;
			if (fd < 0) {
				/* Out of fds or memory: level-triggered polling would spin, so back
				 * off and retry instead of busy-looping. */
				uv_poll_stop(&poll_);
				uv_timer_start(&retry_, OnRetry, 100, 0);
				return;
			}
			Napi::Object conn;
			try {
				conn = ConnectionWrap::Create(env, fd);
			} catch (const Napi::Error &e) {
				napi_fatal_exception(env, e.Value());
				return;
			}
			call_js(env, Value(), on_conn_, ctx_, { conn });
		}
	}

	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		if (closing_)
			return info.Env().Undefined();
		closing_ = true;
		uv_poll_stop(&poll_);
		uv_timer_stop(&retry_);
		vfmed_sock_unlink_if_ours(path_, sock_);
		close(sock_.fd);
		sock_.fd = -1;
		pending_closes_ = 2;
		uv_close(reinterpret_cast<uv_handle_t *>(&poll_), OnHandleClosed);
		uv_close(reinterpret_cast<uv_handle_t *>(&retry_), OnHandleClosed);
		return info.Env().Undefined();
	}

	static void OnHandleClosed(uv_handle_t *h)
	{
		ListenerWrap *l = static_cast<ListenerWrap *>(h->data);
		if (--l->pending_closes_ == 0) {
			Napi::HandleScope scope(l->Env());
			l->on_conn_.Reset();
			l->Unref();
		}
	}

	Napi::Value GetPath(const Napi::CallbackInfo &info)
	{
		return Napi::String::New(info.Env(), path_);
	}

	Napi::Value GetClosed(const Napi::CallbackInfo &info)
	{
		return Napi::Boolean::New(info.Env(), closing_);
	}

	std::string path_;
	vfmed_sock_listen_info sock_ {};
	uv_loop_t *loop_ = nullptr;
	uv_poll_t poll_;
	uv_timer_t retry_;
	int pending_closes_ = 0;
	bool closing_ = false;
	Napi::FunctionReference on_conn_;
	Napi::AsyncContext ctx_;
};

/* ---- module part -------------------------------------------------------------------------- */

static Napi::Value Connect(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 1 || !info[0].IsString())
		throw Napi::TypeError::New(env, "connect(path: string)");
	std::string path = info[0].As<Napi::String>().Utf8Value();
	int fd = vfmed_sock_connect(path);
	if (fd < 0)
		throw errno_error(env, -fd, "connect", path);
	return ConnectionWrap::Create(env, fd);
}

static void cleanup_env(void *arg)
{
	napi_env env = static_cast<napi_env>(arg);
	auto it = g_conn_ctor.find(env);
	if (it != g_conn_ctor.end()) {
		delete it->second;
		g_conn_ctor.erase(it);
	}
}

} /* namespace vfmed */

/* The hook the addon's module init calls: adds exports.transport. */
Napi::Object vfmed_transport_init(Napi::Env env, Napi::Object exports)
{
	using namespace vfmed;
	Napi::Object t = Napi::Object::New(env);
	Napi::Function conn = ConnectionWrap::Define(env);
	g_conn_ctor[env] = new Napi::FunctionReference(Napi::Persistent(conn));
	napi_add_env_cleanup_hook(env, cleanup_env, env);
	t.Set("Connection", conn);
	t.Set("Listener", ListenerWrap::Define(env));
	t.Set("connect", Napi::Function::New(env, Connect, "connect"));
	Napi::Object k = Napi::Object::New(env);
	k.Set("HEADER_SIZE", Napi::Number::New(env, VFMED_SOCK_HDR_SIZE));
	k.Set("MAX_FDS", Napi::Number::New(env, VFMED_SOCK_MAX_FDS));
	k.Set("MAX_SEND_FDS", Napi::Number::New(env, VFMED_SOCK_MAX_SEND_FDS));
	k.Set("MSG_OVERSIZE", Napi::Number::New(env, VFMED_SOCK_MSG_OVERSIZE));
	k.Set("MSG_BADSIZE", Napi::Number::New(env, VFMED_SOCK_MSG_BADSIZE));
	k.Set("MSG_FDS_TRUNCATED", Napi::Number::New(env, VFMED_SOCK_MSG_FDS_TRUNCATED));
	k.Set("QUEUE_HIGH", Napi::Number::New(env, VfmedConn::QUEUE_HIGH));
	t.Set("constants", k);
	exports.Set("transport", t);
	return exports;
}
