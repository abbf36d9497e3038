// SPDX-License-Identifier: MIT
//
// errors.cc - -errno -> JS error mapping of the addon. C code returns -errno everywhere (no
// one reads errno across a boundary); here that number becomes a VfmedSystemError (code =
// errno name, errno = positive number, syscall = the C function that failed). The class
// itself lives in mediator/errors.ts and is registered by mediator/native/addon.ts at load
// time; before registration (or when the addon is loaded raw) an Error of the same shape is
// built instead, so no caller ever sees a bare number.
#include "glue.h"

#include <cerrno>

namespace vfmed {

namespace {

struct ErrnoEntry {
	const char *name;
	int value;
};

// The errno values the hardware model, the PF driver and the OS helpers can return, plus
// the usual suspects. Names come from <errno.h>, so the numbers are this platform's.
#define E(x) { #x, x }
const ErrnoEntry kErrnos[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG), E(ENOEXEC),
	E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(EBUSY), E(EEXIST),
	E(EXDEV), E(ENODEV), E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE),
	E(ENOTTY), E(ETXTBSY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK), E(EPIPE),
	E(EDOM), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK), E(ENOSYS), E(ENOTEMPTY),
	E(ELOOP), E(ENOMSG), E(EIDRM), E(ENODATA), E(ETIME), E(ENOLINK), E(EPROTO),
	E(EBADMSG), E(EOVERFLOW), E(EILSEQ), E(ENOTSOCK), E(EDESTADDRREQ), E(EMSGSIZE),
	E(EPROTOTYPE), E(ENOPROTOOPT), E(EPROTONOSUPPORT), E(EOPNOTSUPP), E(EAFNOSUPPORT),
	E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN), E(ENETUNREACH), E(ECONNABORTED),
	E(ECONNRESET), E(ENOBUFS), E(EISCONN), E(ENOTCONN), E(ETIMEDOUT), E(ECONNREFUSED),
	E(EHOSTUNREACH), E(EALREADY), E(EINPROGRESS), E(ESTALE), E(EDQUOT), E(ECANCELED),
	E(EOWNERDEAD), E(ENOTRECOVERABLE),
};
#undef E

Napi::Error WithCode(Napi::Error err, const char *code)
{
	err.Set("code", Napi::String::New(err.Env(), code));
	return err;
}

} // namespace

const char *ErrnoName(int errnum)
{
	// EWOULDBLOCK == EAGAIN and ENOTSUP == EOPNOTSUPP on Linux: the table has one name each.
	for (const auto &e : kErrnos)
		if (e.value == errnum)
			return e.name;
	return nullptr;
}

Napi::Object ErrnoTable(Napi::Env env)
{
	Napi::Object t = Napi::Object::New(env);
	for (const auto &e : kErrnos)
		t.Set(e.name, Napi::Number::New(env, e.value));
	t.Freeze();
	return t;
}

Napi::Error SystemError(Napi::Env env, const char *syscall, int errnum, const std::string &detail)
{
	AddonData *data = GetData(env);
	if (errnum < 0)
		errnum = -errnum;
	if (data && !data->system_error_ctor.IsEmpty()) {
		Napi::Value d = detail.empty() ? env.Undefined() : Napi::String::New(env, detail);
		Napi::Object obj = data->system_error_ctor.New(
			{ Napi::String::New(env, syscall), Napi::Number::New(env, errnum), d });
		return Napi::Error(env, obj);
	}
	const char *name = ErrnoName(errnum);
	std::string code = name ? name : "E" + std::to_string(errnum);
	std::string msg = std::string(syscall) + ": " + code;
	if (!detail.empty())
		msg += " (" + detail + ")";
	Napi::Error err = Napi::Error::New(env, msg);
	err.Set("code", Napi::String::New(env, code));
	err.Set("errno", Napi::Number::New(env, errnum));
	err.Set("syscall", Napi::String::New(env, syscall));
	return err;
}

Napi::Error VfmedError(Napi::Env env, const char *code, const std::string &message, int errnum)
{
	AddonData *data = GetData(env);
	if (data && !data->vfmed_error_ctor.IsEmpty()) {
		Napi::Object obj = data->vfmed_error_ctor.New(
			{ Napi::String::New(env, code), Napi::String::New(env, message),
			  Napi::Number::New(env, errnum) });
		return Napi::Error(env, obj);
	}
	Napi::Error err = Napi::Error::New(env, message);
	err.Set("code", Napi::String::New(env, code));
	err.Set("errno", Napi::Number::New(env, errnum));
	return err;
}

Napi::Error TypeErr(Napi::Env env, const std::string &message)
{
	return WithCode(Napi::TypeError::New(env, message), "ERR_INVALID_ARG_TYPE");
}

Napi::Error RangeErr(Napi::Env env, const std::string &message)
{
	return WithCode(Napi::RangeError::New(env, message), "ERR_OUT_OF_RANGE");
}

} // namespace vfmed
