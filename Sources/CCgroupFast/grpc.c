/* gRPC unary calls over a unix socket with libnghttp2 (see cgf_grpc.h). */
#include "cgf_grpc.h"

#include <errno.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* What one call has received so far. */
typedef struct {
    int32_t stream_id;
    int closed;              /* the stream is closed (normally or reset) */
    int reset;               /* the peer reset it (RST_STREAM) */
    uint32_t reset_code;
    uint32_t close_code;     /* nghttp2's reason for the close (0: a normal end) */
    int http_status;         /* :status, 0 when none came */
    int content_type_ok;     /* -1 none, 0 not application/grpc, 1 ok */
    int grpc_status;         /* -1 when none came */
    char grpc_message[1024]; /* raw (still percent-encoded) */
    uint8_t *body;           /* the DATA bytes: gRPC's length-prefixed messages */
    size_t body_len, body_cap, body_max;
    int over_cap;
    const uint8_t *request;  /* the 5-byte prefix + message being sent */
    size_t request_len, request_sent;
} call_state;

struct cgf_grpc {
    int fd;
    nghttp2_session *session;
    call_state *call;        /* the call in progress, or null */
    int broken;              /* no further calls: why is in broken_reason */
    int broken_status;
    char broken_reason[256];
    char protocol_error[160]; /* nghttp2's last complaint about what the peer sent */
};

static void set_message(cgf_grpc_result *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_message(cgf_grpc_result *out, int status, const char *fmt, ...) {
    out->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(int64_t deadline) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    return left > 1000000000 ? 1000000000 : (int)left;
}

static void mark_broken(cgf_grpc *c, int status, const char *reason) {
    if (c->broken) return;
    c->broken = 1;
    c->broken_status = status;
    snprintf(c->broken_reason, sizeof c->broken_reason, "%s", reason);
}

/* ---- nghttp2 callbacks ------------------------------------------------------------------------ */

static int header_is(const uint8_t *name, size_t namelen, const char *literal) {
    size_t n = strlen(literal);
    return namelen == n && memcmp(name, literal, n) == 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data) {
    (void)session; (void)flags;
    cgf_grpc *c = user_data;
    call_state *st = c->call;
    if (!st || frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != st->stream_id) return 0;
    if (header_is(name, namelen, ":status")) {
        int v = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++) {
            if (value[i] < '0' || value[i] > '9') { v = -1; break; }
            v = v * 10 + (value[i] - '0');
        }
        /* Informational (1xx) headers come before the real ones: only a final status is kept. */
        if (valuelen != 3 || v < 0) st->http_status = 999; /* nghttp2 rejects these first: "not 200" */
        else if (v >= 200) st->http_status = v;
    } else if (header_is(name, namelen, "content-type")) {
        static const char grpc[] = "application/grpc";
        size_t n = sizeof grpc - 1;
        st->content_type_ok = valuelen >= n && memcmp(value, grpc, n) == 0
                              && (valuelen == n || value[n] == '+' || value[n] == ';');
    } else if (header_is(name, namelen, "grpc-status")) {
        int v = 0;
        if (valuelen == 0 || valuelen > 3) v = -2;
        for (size_t i = 0; i < valuelen && v >= 0; i++) {
            if (value[i] < '0' || value[i] > '9') v = -2;
            else v = v * 10 + (value[i] - '0');
        }
        st->grpc_status = v < 0 ? -2 : v; /* -2: present but not a number */
    } else if (header_is(name, namelen, "grpc-message")) {
        size_t n = valuelen < sizeof st->grpc_message - 1 ? valuelen : sizeof st->grpc_message - 1;
        memcpy(st->grpc_message, value, n);
        st->grpc_message[n] = 0;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *user_data) {
    (void)flags;
    cgf_grpc *c = user_data;
    call_state *st = c->call;
    if (!st || stream_id != st->stream_id || st->over_cap) return 0;
    if (len > st->body_max - st->body_len) {
        st->over_cap = 1;
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
        return 0;
    }
    if (st->body_len + len > st->body_cap) {
        size_t cap = st->body_cap ? st->body_cap : 4096;
        while (cap < st->body_len + len) cap = cap > st->body_max / 2 ? st->body_max : cap * 2;
        uint8_t *p = realloc(st->body, cap);
        if (!p) return NGHTTP2_ERR_CALLBACK_FAILURE;
        st->body = p;
        st->body_cap = cap;
    }
    memcpy(st->body + st->body_len, data, len);
    st->body_len += len;
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    (void)session;
    cgf_grpc *c = user_data;
    call_state *st = c->call;
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        char reason[128];
        snprintf(reason, sizeof reason, "the runtime closed the connection (GOAWAY %s)",
                 nghttp2_http2_strerror(frame->goaway.error_code));
        mark_broken(c, CGF_GRPC_UNAVAILABLE, reason);
    } else if (frame->hd.type == NGHTTP2_RST_STREAM && st && frame->hd.stream_id == st->stream_id) {
        st->reset = 1;
        st->reset_code = frame->rst_stream.error_code;
    }
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data) {
    (void)session;
    cgf_grpc *c = user_data;
    if (c->call && stream_id == c->call->stream_id) {
        c->call->closed = 1;
        c->call->close_code = error_code;
    }
    return 0;
}

/* A GOAWAY nghttp2 sends on its own: the peer broke the protocol. */
static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    (void)session;
    cgf_grpc *c = user_data;
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR && !c->protocol_error[0])
        snprintf(c->protocol_error, sizeof c->protocol_error, "%s", nghttp2_http2_strerror(frame->goaway.error_code));
    return 0;
}

static int on_error(nghttp2_session *session, int lib_error_code, const char *msg, size_t len, void *user_data) {
    (void)session; (void)lib_error_code;
    cgf_grpc *c = user_data;
    size_t n = len < sizeof c->protocol_error - 1 ? len : sizeof c->protocol_error - 1;
    memcpy(c->protocol_error, msg, n);
    c->protocol_error[n] = 0;
    return 0;
}

static ssize_t read_request(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *user_data) {
    (void)session; (void)stream_id; (void)user_data;
    call_state *st = source->ptr;
    size_t left = st->request_len - st->request_sent;
    size_t n = left < length ? left : length;
    if (n) memcpy(buf, st->request + st->request_sent, n);
    st->request_sent += n;
    if (st->request_sent == st->request_len) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* ---- connection ------------------------------------------------------------------------------- */

cgf_grpc *cgf_grpc_open_fd(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return NULL;
    cgf_grpc *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = fd;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) { free(c); return NULL; }
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_error_callback2(cb, on_error);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    int rv = nghttp2_session_client_new(&c->session, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rv != 0) { free(c); return NULL; }
    /* No server push; 1 MiB stream windows and a 16 MiB connection window, so that a large answer
     * (a node's whole container list) needs few window updates. */
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
    };
    if (nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 2) != 0
        || nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, 16 << 20) != 0) {
        nghttp2_session_del(c->session);
        free(c);
        return NULL;
    }
    return c;
}

cgf_grpc *cgf_grpc_connect(const char *path, int timeout_ms, int *status, char *err, size_t errlen) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    *status = CGF_GRPC_UNAVAILABLE;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof addr.sun_path) {
        snprintf(err, errlen, "socket path of %zu bytes (at most %zu)", n, sizeof addr.sun_path - 1);
        return NULL;
    }
    memcpy(addr.sun_path, path, n + 1);
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { snprintf(err, errlen, "socket: %s", strerror(errno)); return NULL; }
    for (;;) {
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) break;
        if (errno == EINTR) continue;
        if (errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int r = poll(&p, 1, remaining_ms(deadline));
            if (r < 0 && errno == EINTR) continue;
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (r == 0) { errno = ETIMEDOUT; }
            else if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) break;
            else if (soerr) errno = soerr;
        } else if (errno == EAGAIN && remaining_ms(deadline) > 0) {
            /* A unix socket's backlog is full: try again shortly, within the deadline. */
            poll(NULL, 0, 10);
            continue;
        }
        if (errno == ETIMEDOUT || errno == EAGAIN) *status = CGF_GRPC_DEADLINE_EXCEEDED;
        snprintf(err, errlen, "connect: %s", errno == EAGAIN ? "no answer (backlog full)" : strerror(errno));
        close(fd);
        return NULL;
    }
    cgf_grpc *c = cgf_grpc_open_fd(fd);
    if (!c) { snprintf(err, errlen, "out of memory"); close(fd); }
    return c;
}

void cgf_grpc_close(cgf_grpc *c) {
    if (!c) return;
    nghttp2_session_del(c->session);
    close(c->fd);
    free(c);
}

void cgf_grpc_free(void *p) { free(p); }

/* Writes what nghttp2 has queued. 0, or -1 with the reason in out (and the connection broken). */
static int flush(cgf_grpc *c, int64_t deadline, cgf_grpc_result *out) {
    while (nghttp2_session_want_write(c->session)) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(c->session, &p);
        if (n < 0) {
            set_message(out, CGF_GRPC_INTERNAL, "HTTP/2: %s", nghttp2_strerror((int)n));
            mark_broken(c, CGF_GRPC_INTERNAL, out->message);
            return -1;
        }
        if (n == 0) break;
        size_t off = 0, len = (size_t)n;
        while (off < len) {
            ssize_t w = send(c->fd, p + off, len - off, MSG_NOSIGNAL);
            if (w > 0) { off += (size_t)w; continue; }
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && errno == EAGAIN) {
                struct pollfd pf = {.fd = c->fd, .events = POLLOUT};
                int r = poll(&pf, 1, remaining_ms(deadline));
                if (r > 0 || (r < 0 && errno == EINTR)) continue;
                set_message(out, CGF_GRPC_DEADLINE_EXCEEDED, "no answer: the runtime took no request within the deadline");
            } else if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
                set_message(out, CGF_GRPC_UNAVAILABLE, "the runtime closed the connection");
            } else {
                set_message(out, CGF_GRPC_UNAVAILABLE, "write: %s", strerror(errno));
            }
            mark_broken(c, out->status, out->message);
            return -1;
        }
    }
    return 0;
}

static int hex(uint8_t ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* grpc-message is percent-encoded: %XX → the byte (a malformed escape stays as it is). */
static void percent_decode(const char *in, char *out, size_t outlen) {
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 1 < outlen; i++) {
        int h, l;
        if (in[i] == '%' && in[i + 1] && in[i + 2] && (h = hex((uint8_t)in[i + 1])) >= 0
            && (l = hex((uint8_t)in[i + 2])) >= 0) {
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = 0;
}

/* gRPC's status for an HTTP status other than 200 (gRPC's http-grpc-status-mapping). */
static int status_for_http(int http) {
    switch (http) {
    case 400: return CGF_GRPC_INTERNAL;
    case 401: return CGF_GRPC_UNAUTHENTICATED;
    case 403: return CGF_GRPC_PERMISSION_DENIED;
    case 404: return CGF_GRPC_UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return CGF_GRPC_UNAVAILABLE;
    default: return CGF_GRPC_UNKNOWN;
    }
}

/* gRPC's status for a stream reset by the peer (gRPC's PROTOCOL-HTTP2 error code mapping). */
static int status_for_reset(uint32_t code) {
    switch (code) {
    case NGHTTP2_REFUSED_STREAM: return CGF_GRPC_UNAVAILABLE;
    case NGHTTP2_CANCEL: return CGF_GRPC_CANCELLED;
    case NGHTTP2_ENHANCE_YOUR_CALM: return CGF_GRPC_RESOURCE_EXHAUSTED;
    case NGHTTP2_INADEQUATE_SECURITY: return CGF_GRPC_PERMISSION_DENIED;
    default: return CGF_GRPC_INTERNAL;
    }
}

/* The call's end from what the stream carried. */
static void finish(const cgf_grpc *c, call_state *st, size_t max_response, cgf_grpc_result *out) {
    if (st->over_cap) {
        set_message(out, CGF_GRPC_RESOURCE_EXHAUSTED, "response over %zu bytes", max_response);
        return;
    }
    if (st->grpc_status == -1 && st->reset) {
        set_message(out, status_for_reset(st->reset_code), "stream reset by the runtime (RST_STREAM %s)",
                    nghttp2_http2_strerror(st->reset_code));
        return;
    }
    if (st->grpc_status == -1 && st->close_code != 0) {
        /* Closed by nghttp2: a GOAWAY that leaves the stream out, or a malformed response. */
        if (c->broken) set_message(out, c->broken_status, "%s", c->broken_reason);
        else set_message(out, CGF_GRPC_INTERNAL, "stream closed: %s (malformed response?)",
                         nghttp2_http2_strerror(st->close_code));
        return;
    }
    if (st->http_status != 200 && st->http_status != 0) {
        set_message(out, status_for_http(st->http_status), "HTTP status %d", st->http_status);
        return;
    }
    if (st->http_status == 0) {
        set_message(out, CGF_GRPC_INTERNAL, "no response headers");
        return;
    }
    if (st->content_type_ok != 1) {
        set_message(out, CGF_GRPC_UNKNOWN, "response content-type is %s application/grpc",
                    st->content_type_ok == -1 ? "missing, not" : "not");
        return;
    }
    if (st->grpc_status == -1) {
        set_message(out, CGF_GRPC_INTERNAL, "the stream ended without grpc-status");
        return;
    }
    if (st->grpc_status == -2) {
        set_message(out, CGF_GRPC_INTERNAL, "grpc-status is not a number");
        return;
    }
    if (st->grpc_status != 0) {
        out->status = st->grpc_status > 16 ? CGF_GRPC_UNKNOWN : st->grpc_status;
        percent_decode(st->grpc_message, out->message, sizeof out->message);
        return;
    }
    /* OK: exactly one length-prefixed message, uncompressed. */
    if (st->body_len < 5) {
        set_message(out, CGF_GRPC_INTERNAL, st->body_len ? "truncated message prefix" : "no response message");
        return;
    }
    const uint8_t *b = st->body;
    uint32_t n = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | (uint32_t)b[4];
    if (b[0] == 1) {
        set_message(out, CGF_GRPC_INTERNAL, "compressed response message (no compression was offered)");
        return;
    }
    if (b[0] != 0) {
        set_message(out, CGF_GRPC_INTERNAL, "message flag %u", b[0]);
        return;
    }
    if (n > max_response) {
        set_message(out, CGF_GRPC_RESOURCE_EXHAUSTED, "response message of %u bytes, over %zu", n, max_response);
        return;
    }
    if (st->body_len - 5 != n) {
        set_message(out, CGF_GRPC_INTERNAL, st->body_len - 5 < n ? "truncated response message (%zu of %u bytes)"
                                                                 : "more than one response message (%zu bytes, first %u)",
                    st->body_len - 5, n);
        return;
    }
    out->status = CGF_GRPC_OK;
    out->message[0] = 0;
    out->data = malloc(n ? n : 1);
    if (!out->data) {
        set_message(out, CGF_GRPC_RESOURCE_EXHAUSTED, "out of memory for %u bytes", n);
        return;
    }
    if (n) memcpy(out->data, b + 5, n);
    out->len = n;
}

static int run_call(cgf_grpc *c, call_state *st, const char *method_path, const char *const *metadata,
                    size_t metadata_count, int timeout_ms, int64_t deadline, cgf_grpc_result *out) {
    char timeout[16];
    /* grpc-timeout: at most 8 digits. */
    if (timeout_ms < 100000000) snprintf(timeout, sizeof timeout, "%dm", timeout_ms);
    else snprintf(timeout, sizeof timeout, "%dS", timeout_ms / 1000);
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv fixed[] = {
        NV(":method", "POST"), NV(":scheme", "http"), NV(":path", method_path), NV(":authority", "localhost"),
        NV("content-type", "application/grpc"), NV("te", "trailers"), NV("grpc-timeout", timeout),
        NV("user-agent", "node-metrics"),
    };
#undef NV
    size_t nfixed = sizeof fixed / sizeof fixed[0];
    if (metadata_count > 64) { set_message(out, CGF_GRPC_INTERNAL, "%zu metadata entries", metadata_count); return -1; }
    nghttp2_nv nva[sizeof fixed / sizeof fixed[0] + 64];
    memcpy(nva, fixed, sizeof fixed);
    size_t nv = nfixed;
    for (size_t i = 0; metadata && i < metadata_count; i++) {
        const char *name = metadata[2 * i], *value = metadata[2 * i + 1];
        if (!name || !value) continue;
        nva[nv++] = (nghttp2_nv){(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value), NGHTTP2_NV_FLAG_NONE};
    }
    nghttp2_data_provider provider = {.source.ptr = st, .read_callback = read_request};
    int32_t id = nghttp2_submit_request(c->session, NULL, nva, nv, &provider, NULL);
    if (id < 0) {
        set_message(out, CGF_GRPC_UNAVAILABLE, "HTTP/2: %s", nghttp2_strerror(id));
        return -1;
    }
    st->stream_id = id;
    uint8_t buf[16384];
    for (;;) {
        if (flush(c, deadline, out) != 0) return -1;
        if (st->closed) return 0;
        if (!nghttp2_session_want_read(c->session)) {
            if (c->broken) set_message(out, c->broken_status, "%s", c->broken_reason);
            else if (c->protocol_error[0]) set_message(out, CGF_GRPC_INTERNAL, "HTTP/2 from the runtime: %s", c->protocol_error);
            else set_message(out, CGF_GRPC_UNAVAILABLE, "the HTTP/2 session ended");
            mark_broken(c, out->status, out->message);
            return -1;
        }
        struct pollfd pf = {.fd = c->fd, .events = POLLIN};
        int r = poll(&pf, 1, remaining_ms(deadline));
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) {
            set_message(out, CGF_GRPC_DEADLINE_EXCEEDED, "no answer within %d ms", timeout_ms);
            return -1;
        }
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) {
            int closed = n == 0 || errno == ECONNRESET;
            set_message(out, CGF_GRPC_UNAVAILABLE, "%s", closed ? (c->broken ? c->broken_reason : "the runtime closed the connection")
                                                                : strerror(errno));
            mark_broken(c, out->status, out->message);
            return -1;
        }
        ssize_t used = nghttp2_session_mem_recv(c->session, buf, (size_t)n);
        if (used < 0) {
            set_message(out, CGF_GRPC_INTERNAL, "HTTP/2 from the runtime: %s", nghttp2_strerror((int)used));
            mark_broken(c, out->status, out->message);
            flush(c, now_ms(), out); /* best effort: the GOAWAY nghttp2 queued */
            set_message(out, CGF_GRPC_INTERNAL, "%s", c->broken_reason);
            return -1;
        }
    }
}

int cgf_grpc_unary(cgf_grpc *c, const char *method_path, const char *const *metadata, size_t metadata_count,
                   const void *request, size_t request_len, int timeout_ms, size_t max_response, cgf_grpc_result *out) {
    out->status = CGF_GRPC_INTERNAL;
    out->message[0] = 0;
    out->data = NULL;
    out->len = 0;
    if (c->broken) {
        set_message(out, c->broken_status, "%s", c->broken_reason);
        return out->status;
    }
    if (timeout_ms < 1) timeout_ms = 1;
    if (request_len > UINT32_MAX || max_response > SIZE_MAX - 5) {
        set_message(out, CGF_GRPC_INTERNAL, "request of %zu bytes", request_len);
        return out->status;
    }
    int64_t deadline = now_ms() + timeout_ms;
    uint8_t *framed = malloc(request_len + 5);
    if (!framed) { set_message(out, CGF_GRPC_RESOURCE_EXHAUSTED, "out of memory"); return out->status; }
    framed[0] = 0;
    framed[1] = (uint8_t)(request_len >> 24);
    framed[2] = (uint8_t)(request_len >> 16);
    framed[3] = (uint8_t)(request_len >> 8);
    framed[4] = (uint8_t)request_len;
    if (request_len) memcpy(framed + 5, request, request_len);
    call_state st = {.grpc_status = -1, .content_type_ok = -1, .body_max = max_response + 5,
                     .request = framed, .request_len = request_len + 5};
    c->call = &st;
    if (run_call(c, &st, method_path, metadata, metadata_count, timeout_ms, deadline, out) == 0) {
        finish(c, &st, max_response, out);
    } else if (st.stream_id > 0 && !st.closed) {
        /* Given up (deadline, lost connection): the runtime is told, and this connection takes no
         * more calls (a runtime that does not answer one would not answer the next either). */
        mark_broken(c, out->status, out->message);
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, st.stream_id, NGHTTP2_CANCEL);
        cgf_grpc_result ignored;
        flush(c, now_ms(), &ignored);
    }
    c->call = NULL;
    free(st.body);
    free(framed);
    return out->status;
}
