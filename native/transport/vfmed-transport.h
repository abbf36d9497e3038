/* SPDX-License-Identifier: MIT */
/*
 * vfmed-transport.h - the hook through which the addon's module init registers the
 * vfio-user socket transport: it adds `exports.transport` (see transport-napi.cc).
 */
#ifndef VFMED_TRANSPORT_HOOK_H
#define VFMED_TRANSPORT_HOOK_H

#include <napi.h>

Napi::Object vfmed_transport_init(Napi::Env env, Napi::Object exports);

#endif /* VFMED_TRANSPORT_HOOK_H */
