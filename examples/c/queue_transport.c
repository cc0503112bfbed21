#include "queue_transport.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One queued message. */
typedef struct message {
    struct message *next;
    size_t size;
    uint8_t bytes[];
} message;

/* The inbox of one party: a FIFO list and the thread that drains it. */
typedef struct inbox {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    message *head;
    message *tail;
    int stopping;
    pthread_t thread;
    pcmoe_party *party;
    queue_transport *owner;
} inbox;

struct queue_transport {
    uint32_t count;
    pthread_mutex_t stats_lock;
    uint64_t delivered;
    uint64_t refused;
    inbox inboxes[];
};

/* Appends a copy of the bytes to the inbox of `destination`. */
int queue_transport_send(void *context, uint32_t destination, const uint8_t *bytes, size_t size) {
    queue_transport *transport = context;
    if (transport == NULL || destination >= transport->count) return -1;
    message *m = malloc(sizeof *m + size);
    if (m == NULL) return -1;
    m->next = NULL;
    m->size = size;
    if (size > 0) memcpy(m->bytes, bytes, size);

    inbox *box = &transport->inboxes[destination];
    pthread_mutex_lock(&box->lock);
    if (box->tail != NULL) {
        box->tail->next = m;
    } else {
        box->head = m;
    }
    box->tail = m;
    pthread_cond_signal(&box->ready);
    pthread_mutex_unlock(&box->lock);
    return 0;
}

/* Waits for the next message; returns NULL once the inbox is stopping. */
static message *next_message(inbox *box) {
    pthread_mutex_lock(&box->lock);
    while (box->head == NULL && !box->stopping) pthread_cond_wait(&box->ready, &box->lock);
    message *m = NULL;
    if (!box->stopping) {
        m = box->head;
        box->head = m->next;
        if (box->head == NULL) box->tail = NULL;
    }
    pthread_mutex_unlock(&box->lock);
    return m;
}

/* Hands each message to the party and queues its reply. */
static void *deliver(void *argument) {
    inbox *box = argument;
    queue_transport *transport = box->owner;
    message *m;
    while ((m = next_message(box)) != NULL) {
        pcmoe_message reply;
        pcmoe_status status = pcmoe_party_handle_message(box->party, m->bytes, m->size, &reply);
        free(m);
        pthread_mutex_lock(&transport->stats_lock);
        transport->delivered += 1;
        if (status != PCMOE_OK) transport->refused += 1;
        pthread_mutex_unlock(&transport->stats_lock);
        if (reply.bytes != NULL && reply.destination >= 0) {
            queue_transport_send(transport, (uint32_t)reply.destination, reply.bytes, reply.size);
        }
        pcmoe_message_free(&reply);
    }
    return NULL;
}

queue_transport *queue_transport_create(pcmoe_party *const *parties, uint32_t count) {
    queue_transport *transport = calloc(1, sizeof *transport + count * sizeof(inbox));
    if (transport == NULL) return NULL;
    transport->count = count;
    pthread_mutex_init(&transport->stats_lock, NULL);
    for (uint32_t i = 0; i < count; i++) {
        inbox *box = &transport->inboxes[i];
        pthread_mutex_init(&box->lock, NULL);
        pthread_cond_init(&box->ready, NULL);
        box->party = parties[i];
        box->owner = transport;
        if (pthread_create(&box->thread, NULL, deliver, box) != 0) {
            transport->count = i;
            queue_transport_destroy(transport);
            return NULL;
        }
    }
    return transport;
}

uint64_t queue_transport_delivered(queue_transport *transport) {
    pthread_mutex_lock(&transport->stats_lock);
    uint64_t value = transport->delivered;
    pthread_mutex_unlock(&transport->stats_lock);
    return value;
}

uint64_t queue_transport_refused(queue_transport *transport) {
    pthread_mutex_lock(&transport->stats_lock);
    uint64_t value = transport->refused;
    pthread_mutex_unlock(&transport->stats_lock);
    return value;
}

void queue_transport_destroy(queue_transport *transport) {
    if (transport == NULL) return;
    for (uint32_t i = 0; i < transport->count; i++) {
        inbox *box = &transport->inboxes[i];
        pthread_mutex_lock(&box->lock);
        box->stopping = 1;
        pthread_cond_signal(&box->ready);
        pthread_mutex_unlock(&box->lock);
    }
    for (uint32_t i = 0; i < transport->count; i++) {
        inbox *box = &transport->inboxes[i];
        pthread_join(box->thread, NULL);
        while (box->head != NULL) {
            message *m = box->head;
            box->head = m->next;
            free(m);
        }
        pthread_cond_destroy(&box->ready);
        pthread_mutex_destroy(&box->lock);
    }
    pthread_mutex_destroy(&transport->stats_lock);
    free(transport);
}
