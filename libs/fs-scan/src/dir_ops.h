// Directory-relative file operations for batch jobs: a directory is opened once, component by
// component with O_NOFOLLOW from "/", and files are linked, renamed, stat'ed and removed relative
// to that descriptor, so a directory swapped for a symlink afterwards cannot redirect them.
#ifndef FILER_DIR_OPS_H
#define FILER_DIR_OPS_H

#include <node_api.h>

#include <stdbool.h>
#include <stddef.h>

// Adds openDir, statAt, linkAt, renameAt and unlinkAt to `exports`.
void dir_ops_register(napi_env env, napi_value exports);

// Adds sameBytesAt to `exports` (compare_at.c).
void compare_at_register(napi_env env, napi_value exports);

// Helpers of the directory-relative functions, shared with compare_at.c.
// Throws an Error worded as node:fs words one, with code, errno and syscall; returns NULL.
napi_value at_throw(napi_env env, int e, const char *syscall, const char *name);
// A descriptor argument and a one-component name argument (EINVAL for "/", ".", ".." or "").
bool at_get(napi_env env, napi_value fd_v, napi_value name_v, int *fd, char *name, const char *fn);
// The call's first `want` arguments, undefined where fewer were passed.
void at_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);

#endif
