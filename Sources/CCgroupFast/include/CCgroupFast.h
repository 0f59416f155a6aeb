/* CCgroupFast — the C core of node-metrics: kernel files in, fixed C structs out. */
#ifndef CCGROUPFAST_H
#define CCGROUPFAST_H
#include "cgf_common.h"
#include "cgf_parse.h"
#include "cgf_cgroup.h"
#include "cgf_procfs.h"
#include "cgf_system.h"
#include "cgf_access.h"
#include "cgf_inotify.h"
#include "cgf_auth.h"
#include "cgf_sandbox.h"
#include "cgf_crash.h"
#include "cgf_push.h"
#include "cgf_grpc.h"
#include "cgf_sign.h"
#endif
