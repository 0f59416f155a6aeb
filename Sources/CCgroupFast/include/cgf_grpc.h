/*
 * CCgroupFast — a synchronous gRPC unary client over a unix socket (a container runtime's API:
 * containerd's, the CRI of containerd and CRI-O). HTTP/2 is libnghttp2's; this file adds the socket,
 * the deadline and gRPC's framing and status. One connection carries calls one after another; every
 * wait is bounded by the call's deadline. Nothing here trusts the peer: a response over the caller's
 * cap, a compressed message, a missing status, a reset stream or a GOAWAY are each an error status.
 */
#ifndef CGF_GRPC_H
#define CGF_GRPC_H

#include <stddef.h>
#include <stdint.h>

#pragma clang assume_nonnull begin

/* gRPC status codes (the numbers of grpc/status.proto) the client makes up itself. */
enum {
    CGF_GRPC_OK = 0, CGF_GRPC_CANCELLED = 1, CGF_GRPC_UNKNOWN = 2, CGF_GRPC_DEADLINE_EXCEEDED = 4,
    CGF_GRPC_PERMISSION_DENIED = 7, CGF_GRPC_RESOURCE_EXHAUSTED = 8, CGF_GRPC_UNIMPLEMENTED = 12,
    CGF_GRPC_INTERNAL = 13, CGF_GRPC_UNAVAILABLE = 14, CGF_GRPC_UNAUTHENTICATED = 16,
};

/* The end of one call: a gRPC status (the peer's grpc-status, or one the client made up for what went
 * wrong on the way), its message (grpc-message percent-decoded, or the client's reason; truncated to
 * the buffer) and, when status is 0, the response message (malloc'd: free with cgf_grpc_free). */
typedef struct {
    int status;
    char message[1024];
    uint8_t *_Nullable data;
    size_t len;
} cgf_grpc_result;

typedef struct cgf_grpc cgf_grpc;

/* Connects to the unix socket at path within timeout_ms. Null with a gRPC status (unavailable,
 * deadlineExceeded) and the reason in err when it cannot. */
cgf_grpc *_Nullable cgf_grpc_connect(const char *path, int timeout_ms, int *status, char *err, size_t errlen);
/* A client on an already connected stream socket (made non-blocking; closed by cgf_grpc_close). */
cgf_grpc *_Nullable cgf_grpc_open_fd(int fd);
/* One unary call: POST method_path ("/package.Service/Method") with request (the serialized message)
 * and metadata (metadata_count name/value pairs, lowercase names; a pair with a null is left out), waiting at most timeout_ms. The
 * response message may be at most max_response bytes. Always fills out; returns out->status. After a
 * deadline, a protocol error or a GOAWAY the connection takes no further calls (they fail at once). */
int cgf_grpc_unary(cgf_grpc *c, const char *method_path, const char *_Nullable const *_Nullable metadata,
                   size_t metadata_count, const void *_Nullable request, size_t request_len, int timeout_ms,
                   size_t max_response, cgf_grpc_result *out);
void cgf_grpc_free(void *_Nullable p);
void cgf_grpc_close(cgf_grpc *_Nullable c);

#pragma clang assume_nonnull end
#endif
