// Directory-relative file operations for batch jobs: a directory is opened once, component by
// component with O_NOFOLLOW from "/", and files are linked, renamed, stat'ed and removed relative
// to that descriptor, so a directory swapped for a symlink afterwards cannot redirect them.
#ifndef FILER_DIR_OPS_H
#define FILER_DIR_OPS_H

#include <node_api.h>

// Adds openDir, statAt, linkAt, renameAt and unlinkAt to `exports`.
void dir_ops_register(napi_env env, napi_value exports);

#endif
