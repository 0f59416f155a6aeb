/*
 * CCgroupFast — the push path's C libraries: a Kafka producer (and, for tests, a consumer and
 * librdkafka's mock cluster) through librdkafka, and Snappy block compression (libsnappy's C API)
 * for Prometheus remote write. Error texts go into caller buffers; nothing here blocks longer than
 * the timeout it is given.
 */
#ifndef CGF_PUSH_H
#define CGF_PUSH_H

#include <stddef.h>
#include <stdint.h>
#include <snappy-c.h>

#pragma clang assume_nonnull begin

/* A producer for one topic: no message key (a random partition, as cAdvisor's sarama producer),
 * acks=all. TLS when cert, key and CA are all non-empty; verify != 0 checks the broker's certificate.
 * Returns null with the reason in err. */
typedef struct cgf_kafka cgf_kafka;
cgf_kafka *_Nullable cgf_kafka_new(const char *brokers, const char *topic, const char *ssl_cert,
                                   const char *ssl_key, const char *ssl_ca, int verify,
                                   int message_timeout_ms, char *err, size_t errlen);
/* Queues one message (copied). 0, or -1 with the reason. */
int cgf_kafka_produce(cgf_kafka *k, const void *payload, size_t len, char *err, size_t errlen);
/* Waits until every queued message is delivered or failed (at most timeout_ms). Returns how many
 * failed since the last call (the first failure's reason in err), or -1 when the wait timed out. */
int cgf_kafka_flush(cgf_kafka *k, int timeout_ms, char *err, size_t errlen);
void cgf_kafka_destroy(cgf_kafka *k);

/* Sends n datagrams on a connected datagram socket with sendmmsg(2), 256 per call: datagram i is
 * buf[ends[i-1]..ends[i]) (ends[-1] = 0), sent in order with MSG_NOSIGNAL, EINTR retried. Returns
 * how many were sent, the first that many, each once: n with *err 0; or fewer, the sending stopped
 * at the first failure, with its errno in *err, or CGF_SEND_STOPPED when the kernel stopped a
 * sendmmsg early without a reason and the failed datagram then went through alone (a passing error,
 * typically an ICMP refusal from the peer; it is counted in the result). */
#define CGF_SEND_STOPPED (-1)
size_t cgf_send_datagrams(int fd, const uint8_t *buf, const size_t *ends, size_t n, int *err);

/* librdkafka's in-process mock cluster (tests): real Kafka protocol on loopback ports. */
typedef struct cgf_kafka_mock cgf_kafka_mock;
cgf_kafka_mock *_Nullable cgf_kafka_mock_new(int brokers, const char *topic, int partitions, char *bootstrap,
                                             size_t bootstraplen, char *err, size_t errlen);
/* Makes every broker of the cluster refuse (down != 0) or serve again. */
void cgf_kafka_mock_set_down(cgf_kafka_mock *m, int down);
void cgf_kafka_mock_destroy(cgf_kafka_mock *m);

/* A consumer of one topic from the beginning (tests). */
typedef struct cgf_kafka_consumer cgf_kafka_consumer;
cgf_kafka_consumer *_Nullable cgf_kafka_consumer_new(const char *brokers, const char *topic, char *err, size_t errlen);
/* One message: 1 with *payload (free with cgf_kafka_free), its length, topic and key length
 * (-1: no key); 0 when none came within timeout_ms; -1 on a consumer error (in err). */
int cgf_kafka_consume(cgf_kafka_consumer *c, int timeout_ms, char *_Nullable *_Nonnull payload, size_t *len,
                      char *topic, size_t topiclen, long *keylen, char *err, size_t errlen);
void cgf_kafka_free(void *_Nullable p);
void cgf_kafka_consumer_destroy(cgf_kafka_consumer *c);

#pragma clang assume_nonnull end

#endif
