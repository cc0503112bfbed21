/*
 * queue_transport: a transport for parties of one process, written against
 * pcmoe's callback interface. Each party gets an inbox queue and a thread
 * that hands the queued messages to pcmoe_party_handle_message and queues
 * the replies for their destinations.
 */
#ifndef QUEUE_TRANSPORT_H
#define QUEUE_TRANSPORT_H

#include <pcmoe.h>
#include <stddef.h>
#include <stdint.h>

typedef struct queue_transport queue_transport;

/*
 * Starts one delivery thread per party. `parties[i]` must be the party
 * with id i; the array is copied, the parties stay the caller's and must
 * outlive the transport. Returns NULL when memory or threads run out.
 */
queue_transport *queue_transport_create(pcmoe_party *const *parties, uint32_t count);

/*
 * The pcmoe_send_fn to give pcmoe_party_set_transport, with the transport
 * as its context. Copies the message into the destination's inbox and
 * returns at once; returns -1 for an unknown destination or when memory
 * runs out.
 */
int queue_transport_send(void *context, uint32_t destination, const uint8_t *bytes, size_t size);

/* Messages handed to parties so far, and messages they refused. */
uint64_t queue_transport_delivered(queue_transport *transport);
uint64_t queue_transport_refused(queue_transport *transport);

/*
 * Stops the delivery threads, drops the messages still queued and frees
 * the transport. Call it after the last turn, before destroying parties.
 */
void queue_transport_destroy(queue_transport *transport);

#endif
