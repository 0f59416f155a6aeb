/* Kafka through librdkafka (the Kafka project's C client): see cgf_push.h. */
#include "cgf_push.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"

/* librdkafka is loaded by the first cgf_kafka_new / _mock_new / _consumer_new (dl.h). */
#define KAFKA_FUNCTIONS(X) \
    X(rd_kafka_err2str) X(rd_kafka_conf_set) X(rd_kafka_conf_new) \
    X(rd_kafka_conf_set_dr_msg_cb) X(rd_kafka_conf_set_opaque) X(rd_kafka_new) \
    X(rd_kafka_topic_new) X(rd_kafka_last_error) X(rd_kafka_destroy) \
    X(rd_kafka_conf_destroy) X(rd_kafka_produce) X(rd_kafka_poll) \
    X(rd_kafka_flush) X(rd_kafka_topic_destroy) X(rd_kafka_mock_cluster_new) \
    X(rd_kafka_mock_topic_create) X(rd_kafka_mock_cluster_bootstraps) X(rd_kafka_mock_broker_set_down) \
    X(rd_kafka_mock_broker_set_up) X(rd_kafka_mock_cluster_destroy) X(rd_kafka_poll_set_consumer) \
    X(rd_kafka_topic_partition_list_new) X(rd_kafka_topic_partition_list_add) X(rd_kafka_subscribe) \
    X(rd_kafka_topic_partition_list_destroy) X(rd_kafka_consumer_poll) X(rd_kafka_message_errstr) \
    X(rd_kafka_message_destroy) X(rd_kafka_topic_name) X(rd_kafka_consumer_close)
DL_LIBRARY(kafka, "librdkafka.so.1", KAFKA_FUNCTIONS)

struct cgf_kafka {
    rd_kafka_t *rk;
    rd_kafka_topic_t *topic;
    pthread_mutex_t lock;
    int failed;             /* delivery failures since the last flush */
    char first_error[256];
};

static void copy_error(char *err, size_t errlen, const char *text) {
    if (errlen > 0) snprintf(err, errlen, "%s", text);
}

/* librdkafka logs nothing (log_level 0): a failure reaches the agent as the batch's error. */
/* Runs on the producer's poll (inside rd_kafka_poll / rd_kafka_flush on the caller's thread). */
static void delivered(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque) {
    (void)rk;
    struct cgf_kafka *k = opaque;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    pthread_mutex_lock(&k->lock);
    if (k->failed == 0) snprintf(k->first_error, sizeof k->first_error, "%s", DL_CALL(kafka, rd_kafka_err2str)(msg->err));
    k->failed++;
    pthread_mutex_unlock(&k->lock);
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen) {
    char reason[256];
    if (DL_CALL(kafka, rd_kafka_conf_set)(conf, name, value, reason, sizeof reason) != RD_KAFKA_CONF_OK) {
        if (errlen > 0) snprintf(err, errlen, "%s=%s: %s", name, value, reason);
        return -1;
    }
    return 0;
}

cgf_kafka *cgf_kafka_new(const char *brokers, const char *topic, const char *ssl_cert, const char *ssl_key,
                         const char *ssl_ca, int verify, int message_timeout_ms, char *err, size_t errlen) {
    if (dl_load_kafka(err, errlen) != 0) return NULL;
    struct cgf_kafka *k = calloc(1, sizeof *k);
    if (!k) { copy_error(err, errlen, "out of memory"); return NULL; }
    pthread_mutex_init(&k->lock, NULL);
    rd_kafka_conf_t *conf = DL_CALL(kafka, rd_kafka_conf_new)();
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%d", message_timeout_ms > 0 ? message_timeout_ms : 10000);
    if (set(conf, "bootstrap.servers", brokers, err, errlen) ||
        set(conf, "acks", "all", err, errlen) ||
        set(conf, "message.timeout.ms", timeout, err, errlen) ||
        /* Only failed messages come back through `delivered` (all the batch needs: a count of
         * failures); a report per acknowledged message cost a queued event and a callback each. */
        set(conf, "delivery.report.only.error", "true", err, errlen) ||
        set(conf, "log_level", "0", err, errlen)) {
        goto fail_conf;
    }
    if (ssl_cert[0] && ssl_key[0] && ssl_ca[0]) {
        if (set(conf, "security.protocol", "ssl", err, errlen) ||
            set(conf, "ssl.certificate.location", ssl_cert, err, errlen) ||
            set(conf, "ssl.key.location", ssl_key, err, errlen) ||
            set(conf, "ssl.ca.location", ssl_ca, err, errlen) ||
            set(conf, "enable.ssl.certificate.verification", verify ? "true" : "false", err, errlen) ||
            set(conf, "ssl.endpoint.identification.algorithm", verify ? "https" : "none", err, errlen)) {
            goto fail_conf;
        }
    }
    DL_CALL(kafka, rd_kafka_conf_set_dr_msg_cb)(conf, delivered);
    DL_CALL(kafka, rd_kafka_conf_set_opaque)(conf, k);
    char reason[512];
    k->rk = DL_CALL(kafka, rd_kafka_new)(RD_KAFKA_PRODUCER, conf, reason, sizeof reason); /* owns conf on success */
    if (!k->rk) {
        copy_error(err, errlen, reason);
        goto fail_conf;
    }
    k->topic = DL_CALL(kafka, rd_kafka_topic_new)(k->rk, topic, NULL);
    if (!k->topic) {
        copy_error(err, errlen, DL_CALL(kafka, rd_kafka_err2str)(DL_CALL(kafka, rd_kafka_last_error)()));
        DL_CALL(kafka, rd_kafka_destroy)(k->rk);
        goto fail;
    }
    return k;
fail_conf:
    DL_CALL(kafka, rd_kafka_conf_destroy)(conf);
fail:
    pthread_mutex_destroy(&k->lock);
    free(k);
    return NULL;
}

int cgf_kafka_produce(cgf_kafka *k, const void *payload, size_t len, char *err, size_t errlen) {
    for (int attempt = 0; attempt < 50; attempt++) {
        if (DL_CALL(kafka, rd_kafka_produce)(k->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)payload, len, NULL, 0, NULL) == 0)
            return 0;
        rd_kafka_resp_err_t e = DL_CALL(kafka, rd_kafka_last_error)();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            copy_error(err, errlen, DL_CALL(kafka, rd_kafka_err2str)(e));
            return -1;
        }
        DL_CALL(kafka, rd_kafka_poll)(k->rk, 100); /* the local queue is full: serve delivery reports, then retry */
    }
    copy_error(err, errlen, "local producer queue full");
    return -1;
}

int cgf_kafka_flush(cgf_kafka *k, int timeout_ms, char *err, size_t errlen) {
    rd_kafka_resp_err_t e = DL_CALL(kafka, rd_kafka_flush)(k->rk, timeout_ms);
    pthread_mutex_lock(&k->lock);
    int failed = k->failed;
    if (failed > 0) copy_error(err, errlen, k->first_error);
    k->failed = 0;
    pthread_mutex_unlock(&k->lock);
    if (e == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        copy_error(err, errlen, "timed out waiting for the brokers' acknowledgements");
        return -1;
    }
    return failed;
}

void cgf_kafka_destroy(cgf_kafka *k) {
    DL_CALL(kafka, rd_kafka_flush)(k->rk, 3000);
    DL_CALL(kafka, rd_kafka_topic_destroy)(k->topic);
    DL_CALL(kafka, rd_kafka_destroy)(k->rk);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

struct cgf_kafka_mock {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *cluster;
};

cgf_kafka_mock *cgf_kafka_mock_new(int brokers, const char *topic, int partitions, char *bootstrap,
                                   size_t bootstraplen, char *err, size_t errlen) {
    if (dl_load_kafka(err, errlen) != 0) return NULL;
    struct cgf_kafka_mock *m = calloc(1, sizeof *m);
    if (!m) { copy_error(err, errlen, "out of memory"); return NULL; }
    rd_kafka_conf_t *conf = DL_CALL(kafka, rd_kafka_conf_new)();
    char reason[512];
    set(conf, "log_level", "0", err, errlen);
    m->rk = DL_CALL(kafka, rd_kafka_new)(RD_KAFKA_PRODUCER, conf, reason, sizeof reason);
    if (!m->rk) {
        DL_CALL(kafka, rd_kafka_conf_destroy)(conf);
        copy_error(err, errlen, reason);
        free(m);
        return NULL;
    }
    m->cluster = DL_CALL(kafka, rd_kafka_mock_cluster_new)(m->rk, brokers);
    if (!m->cluster) {
        copy_error(err, errlen, "rd_kafka_mock_cluster_new failed");
        DL_CALL(kafka, rd_kafka_destroy)(m->rk);
        free(m);
        return NULL;
    }
    DL_CALL(kafka, rd_kafka_mock_topic_create)(m->cluster, topic, partitions, 1);
    snprintf(bootstrap, bootstraplen, "%s", DL_CALL(kafka, rd_kafka_mock_cluster_bootstraps)(m->cluster));
    return m;
}

void cgf_kafka_mock_set_down(cgf_kafka_mock *m, int down) {
    if (down) DL_CALL(kafka, rd_kafka_mock_broker_set_down)(m->cluster, -1);
    else DL_CALL(kafka, rd_kafka_mock_broker_set_up)(m->cluster, -1);
}

void cgf_kafka_mock_destroy(cgf_kafka_mock *m) {
    DL_CALL(kafka, rd_kafka_mock_cluster_destroy)(m->cluster);
    DL_CALL(kafka, rd_kafka_destroy)(m->rk);
    free(m);
}

struct cgf_kafka_consumer {
    rd_kafka_t *rk;
};

cgf_kafka_consumer *cgf_kafka_consumer_new(const char *brokers, const char *topic, char *err, size_t errlen) {
    if (dl_load_kafka(err, errlen) != 0) return NULL;
    rd_kafka_conf_t *conf = DL_CALL(kafka, rd_kafka_conf_new)();
    char group[64];
    snprintf(group, sizeof group, "node-metrics-test-%d", (int)rand());
    if (set(conf, "bootstrap.servers", brokers, err, errlen) || set(conf, "group.id", group, err, errlen) ||
        set(conf, "auto.offset.reset", "earliest", err, errlen) || set(conf, "log_level", "0", err, errlen)) {
        DL_CALL(kafka, rd_kafka_conf_destroy)(conf);
        return NULL;
    }
    char reason[512];
    rd_kafka_t *rk = DL_CALL(kafka, rd_kafka_new)(RD_KAFKA_CONSUMER, conf, reason, sizeof reason);
    if (!rk) {
        DL_CALL(kafka, rd_kafka_conf_destroy)(conf);
        copy_error(err, errlen, reason);
        return NULL;
    }
    DL_CALL(kafka, rd_kafka_poll_set_consumer)(rk);
    rd_kafka_topic_partition_list_t *topics = DL_CALL(kafka, rd_kafka_topic_partition_list_new)(1);
    DL_CALL(kafka, rd_kafka_topic_partition_list_add)(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = DL_CALL(kafka, rd_kafka_subscribe)(rk, topics);
    DL_CALL(kafka, rd_kafka_topic_partition_list_destroy)(topics);
    if (e) {
        copy_error(err, errlen, DL_CALL(kafka, rd_kafka_err2str)(e));
        DL_CALL(kafka, rd_kafka_destroy)(rk);
        return NULL;
    }
    struct cgf_kafka_consumer *c = calloc(1, sizeof *c);
    if (!c) { DL_CALL(kafka, rd_kafka_destroy)(rk); copy_error(err, errlen, "out of memory"); return NULL; }
    c->rk = rk;
    return c;
}

int cgf_kafka_consume(cgf_kafka_consumer *c, int timeout_ms, char **payload, size_t *len, char *topic,
                      size_t topiclen, long *keylen, char *err, size_t errlen) {
    rd_kafka_message_t *msg = DL_CALL(kafka, rd_kafka_consumer_poll)(c->rk, timeout_ms);
    if (!msg) return 0;
    if (msg->err) {
        int soft = msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
        if (!soft) copy_error(err, errlen, DL_CALL(kafka, rd_kafka_message_errstr)(msg));
        DL_CALL(kafka, rd_kafka_message_destroy)(msg);
        return soft ? 0 : -1;
    }
    *payload = malloc(msg->len + 1);
    if (!*payload) { DL_CALL(kafka, rd_kafka_message_destroy)(msg); copy_error(err, errlen, "out of memory"); return -1; }
    memcpy(*payload, msg->payload, msg->len);
    (*payload)[msg->len] = 0;
    *len = msg->len;
    snprintf(topic, topiclen, "%s", DL_CALL(kafka, rd_kafka_topic_name)(msg->rkt));
    *keylen = msg->key ? (long)msg->key_len : -1;
    DL_CALL(kafka, rd_kafka_message_destroy)(msg);
    return 1;
}

void cgf_kafka_free(void *p) { free(p); }

void cgf_kafka_consumer_destroy(cgf_kafka_consumer *c) {
    DL_CALL(kafka, rd_kafka_consumer_close)(c->rk);
    DL_CALL(kafka, rd_kafka_destroy)(c->rk);
    free(c);
}
