// SPDX-License-Identifier: MIT
//
// os.cc - the few OS calls the daemon and the tests need and Node lacks (NativeOs in
// mediator/native/addon.ts): memfd_create, a MAP_SHARED mmap exposed as an external
// ArrayBuffer, eventfd read/write, close. Each returns -errno as a system error whose
// syscall is the libc call that failed.
//
// Mapping lifetime:
//
//   mmapShared() ──> Mapping{addr,len} registered ──> ArrayBuffer (external, detachable)
//        │                                                │
//        ├── munmap(ab): munmap + unregister + detach ab ─┤  (views become length 0, so no
//        │                                                │   JS access can reach the
//        └── GC finalizer: munmap if still mapped ────────┘   unmapped pages)
//
// A second munmap() of the same (now detached) buffer is a no-op; munmap() of an
// ArrayBuffer that mmapShared() did not return is a TypeError.
#include "glue.h"

#include <cerrno>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vfmed {

struct Mapping {
	void *addr;
	size_t len;
	AddonData *owner;
	bool mapped;
};

// At environment teardown the instance data may go before the ArrayBuffer finalizers run:
// the mappings then forget their owner, and the finalizers still unmap.
AddonData::~AddonData()
{
	for (auto &kv : mappings)
		kv.second->owner = nullptr;
}

namespace {

void FinalizeMapping(Napi::Env env, void *data, Mapping *m)
{
	if (m->mapped) {
		if (m->owner)
			m->owner->mappings.erase(m->addr);
		munmap(m->addr, m->len);
		m->mapped = false;
	}
	delete m;
}

Napi::Value MemfdCreate(const Napi::CallbackInfo &info)
{
	Args a(info, "memfdCreate");
	std::string name = a.Str(0, "name");
	uint64_t size = a.U64(1, "size");
	if (size > static_cast<uint64_t>(INT64_MAX))
		throw a.Range("\"size\" must be < 2^63");
	int fd = memfd_create(name.c_str(), MFD_CLOEXEC);
	if (fd < 0)
		throw SystemError(a.Env(), "memfd_create", errno);
	if (ftruncate(fd, static_cast<off_t>(size)) < 0) {
		int err = errno;
		close(fd);
		throw SystemError(a.Env(), "ftruncate", err);
	}
	return Napi::Number::New(a.Env(), fd);
}

Napi::Value MmapShared(const Napi::CallbackInfo &info)
{
	Args a(info, "mmapShared");
	Napi::Env env = a.Env();
	int fd = a.Fd(0, "fd");
	uint64_t len = static_cast<uint64_t>(a.Int(1, "length", 1, (1ll << 53) - 1));
	uint64_t off = a.U64(2, "offset");
	if (off > static_cast<uint64_t>(INT64_MAX) - len)
		throw a.Range("\"offset\" + \"length\" must be < 2^63");

	// Touching a page of a shared file mapping past the end of the file is SIGBUS, which
	// would kill the process long after this call returned: refuse such a mapping now.
	struct stat st;
	if (fstat(fd, &st) < 0)
		throw SystemError(env, "fstat", errno);
	if (S_ISREG(st.st_mode) && off + len > static_cast<uint64_t>(st.st_size))
		throw SystemError(env, "mmap", EINVAL,
				  "offset + length beyond the end of the file (" +
				  std::to_string(st.st_size) + " bytes)");

	void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(off));
	if (p == MAP_FAILED)
		throw SystemError(env, "mmap", errno);

	AddonData *data = GetData(env);
	Mapping *m = new Mapping{ p, static_cast<size_t>(len), data, true };
	data->mappings[p] = m;
	try {
		return Napi::ArrayBuffer::New(env, p, m->len, FinalizeMapping, m);
	} catch (...) {
		data->mappings.erase(p);
		munmap(p, m->len);
		delete m;
		throw;
	}
}

void Munmap(const Napi::CallbackInfo &info)
{
	Args a(info, "munmap");
	Napi::ArrayBuffer ab = a.Buffer(0, "buf");
	if (ab.IsDetached())
		return; // already unmapped by an earlier munmap(): nothing left to release
	AddonData *data = GetData(a.Env());
	auto it = data->mappings.find(ab.Data());
	if (it == data->mappings.end() || it->second->len != ab.ByteLength())
		throw a.Type("\"buf\" is not an ArrayBuffer returned by mmapShared()");
	Mapping *m = it->second;
	void *addr = m->addr;
	size_t len = m->len;
	// Detach first: from here no view can reach the pages, whatever munmap() says. The
	// finalizer may run (and free m) any time after the detach, so m is not used past it.
	data->mappings.erase(it);
	m->mapped = false;
	ab.Detach();
	if (munmap(addr, len) < 0)
		throw SystemError(a.Env(), "munmap", errno);
}

Napi::Value EventfdCreate(const Napi::CallbackInfo &info)
{
	Args a(info, "eventfdCreate");
	int flags = EFD_CLOEXEC | EFD_NONBLOCK;
	if (a.Present(0))
		flags = static_cast<int>(a.Int(0, "flags", 0, INT32_MAX));
	int fd = eventfd(0, flags);
	if (fd < 0)
		throw SystemError(a.Env(), "eventfd", errno);
	return Napi::Number::New(a.Env(), fd);
}

Napi::Value EventfdRead(const Napi::CallbackInfo &info)
{
	Args a(info, "eventfdRead");
	int fd = a.Fd(0, "fd");
	uint64_t v = 0;
	ssize_t n;
	do {
		n = read(fd, &v, sizeof(v));
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN)
			return a.Env().Null();
		throw SystemError(a.Env(), "read", errno);
	}
	if (n != sizeof(v)) // not an eventfd (a pipe or a file): say so rather than guess
		throw SystemError(a.Env(), "read", EINVAL, "short read: not an eventfd");
	return Napi::BigInt::New(a.Env(), v);
}

void EventfdWrite(const Napi::CallbackInfo &info)
{
	Args a(info, "eventfdWrite");
	int fd = a.Fd(0, "fd");
	uint64_t v = a.U64(1, "value");
	ssize_t n;
	do {
		n = write(fd, &v, sizeof(v));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		throw SystemError(a.Env(), "write", errno);
	if (n != sizeof(v))
		throw SystemError(a.Env(), "write", EINVAL, "short write: not an eventfd");
}

void Close(const Napi::CallbackInfo &info)
{
	Args a(info, "close");
	// Linux releases the descriptor even when close() reports EINTR: never retry.
	if (close(a.Fd(0, "fd")) < 0 && errno != EINTR)
		throw SystemError(a.Env(), "close", errno);
}

} // namespace

void InitOs(Napi::Env env, Napi::Object exports)
{
	exports.Set("memfdCreate", Napi::Function::New<MemfdCreate>(env, "memfdCreate"));
	exports.Set("mmapShared", Napi::Function::New<MmapShared>(env, "mmapShared"));
	exports.Set("munmap", Napi::Function::New<Munmap>(env, "munmap"));
	exports.Set("eventfdCreate", Napi::Function::New<EventfdCreate>(env, "eventfdCreate"));
	exports.Set("eventfdRead", Napi::Function::New<EventfdRead>(env, "eventfdRead"));
	exports.Set("eventfdWrite", Napi::Function::New<EventfdWrite>(env, "eventfdWrite"));
	exports.Set("close", Napi::Function::New<Close>(env, "close"));

	Napi::Object c = Napi::Object::New(env);
	c.Set("EFD_CLOEXEC", Napi::Number::New(env, EFD_CLOEXEC));
	c.Set("EFD_NONBLOCK", Napi::Number::New(env, EFD_NONBLOCK));
	c.Set("EFD_SEMAPHORE", Napi::Number::New(env, EFD_SEMAPHORE));
	c.Freeze();
	exports.Set("constants", c);
}

} // namespace vfmed
