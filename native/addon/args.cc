// SPDX-License-Identifier: MIT
//
// args.cc - argument checks of the addon glue. Only JS types and what the C types can
// represent are checked here (a u32 is an integer in [0, 2^32), an IOVA a bigint in
// [0, 2^64) ...): a wrong type is a TypeError, a value the C parameter cannot hold is a
// RangeError. Nothing is silently truncated or rounded.
#include "glue.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace vfmed {

namespace {

// A number as JS would print it for the usual cases (no "1.500000").
std::string NumStr(double d)
{
	if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.007199254740992e15)
		return std::to_string(static_cast<int64_t>(d));
	char buf[32];
	snprintf(buf, sizeof(buf), "%.17g", d);
	return buf;
}

} // namespace

const char *TypeName(const Napi::Value &v)
{
	switch (v.Type()) {
	case napi_undefined: return "undefined";
	case napi_null: return "null";
	case napi_boolean: return "boolean";
	case napi_number: return "number";
	case napi_string: return "string";
	case napi_symbol: return "symbol";
	case napi_function: return "function";
	case napi_external: return "external";
	case napi_bigint: return "bigint";
	case napi_object:
		if (v.IsArrayBuffer())
			return "ArrayBuffer";
		if (v.IsTypedArray())
			return "TypedArray";
		if (v.IsArray())
			return "Array";
		return "object";
	}
	return "unknown";
}

Napi::Error Args::Type(const std::string &what) const
{
	return TypeErr(Env(), std::string(fn_) + ": " + what);
}

Napi::Error Args::Range(const std::string &what) const
{
	return RangeErr(Env(), std::string(fn_) + ": " + what);
}

int64_t Args::Int(Napi::Value v, const char *name, int64_t lo, int64_t hi) const
{
	if (!v.IsNumber())
		throw Type(std::string("\"") + name + "\" must be a number (got " + TypeName(v) + ")");
	double d = v.As<Napi::Number>().DoubleValue();
	if (!std::isfinite(d) || std::trunc(d) != d)
		throw Range(std::string("\"") + name + "\" must be an integer (got " +
			    NumStr(d) + ")");
	if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
		throw Range(std::string("\"") + name + "\" must be in [" + std::to_string(lo) +
			    ", " + std::to_string(hi) + "] (got " + NumStr(d) + ")");
	return static_cast<int64_t>(d);
}

uint32_t Args::U32(Napi::Value v, const char *name) const
{
	return static_cast<uint32_t>(Int(v, name, 0, std::numeric_limits<uint32_t>::max()));
}

int Args::Fd(Napi::Value v, const char *name, int min) const
{
	return static_cast<int>(Int(v, name, min, std::numeric_limits<int32_t>::max()));
}

uint64_t Args::U64(Napi::Value v, const char *name) const
{
	if (!v.IsBigInt())
		throw Type(std::string("\"") + name + "\" must be a bigint (got " + TypeName(v) + ")");
	bool lossless = false;
	uint64_t u = v.As<Napi::BigInt>().Uint64Value(&lossless);
	if (!lossless)
		throw Range(std::string("\"") + name + "\" must be a bigint in [0, 2^64)");
	return u;
}

std::string Args::Str(Napi::Value v, const char *name) const
{
	if (!v.IsString())
		throw Type(std::string("\"") + name + "\" must be a string (got " + TypeName(v) + ")");
	std::string s = v.As<Napi::String>().Utf8Value();
	// A C string ends at the first NUL: refuse rather than silently cut a path or name.
	if (s.find('\0') != std::string::npos)
		throw Type(std::string("\"") + name + "\" must not contain NUL characters");
	return s;
}

bool Args::Bool(Napi::Value v, const char *name) const
{
	if (!v.IsBoolean())
		throw Type(std::string("\"") + name + "\" must be a boolean (got " + TypeName(v) + ")");
	return v.As<Napi::Boolean>().Value();
}

Napi::Uint8Array Args::Bytes(Napi::Value v, const char *name) const
{
	if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
		throw Type(std::string("\"") + name + "\" must be a Uint8Array or Buffer (got " +
			   TypeName(v) + ")");
	return v.As<Napi::Uint8Array>();
}

Napi::ArrayBuffer Args::Buffer(Napi::Value v, const char *name) const
{
	if (!v.IsArrayBuffer())
		throw Type(std::string("\"") + name + "\" must be an ArrayBuffer (got " + TypeName(v) + ")");
	return v.As<Napi::ArrayBuffer>();
}

} // namespace vfmed
