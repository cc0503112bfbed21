/* C trampolines between the library's callbacks and the exported Go
 * functions of callbacks.go. Each library context pointer carries a
 * runtime/cgo.Handle, an integer, so C never stores a Go pointer. */
#ifndef PCMOE_GO_CALLBACKS_H
#define PCMOE_GO_CALLBACKS_H

#include <pcmoe.h>
#include <stdint.h>

/* Converts a cgo.Handle to the context pointer the library passes back. */
void *pcmoe_go_context(uintptr_t handle);

void pcmoe_go_log(void *context, int32_t level, const char *message);
int pcmoe_go_send(void *context, uint32_t destination, const uint8_t *bytes, size_t size);
void pcmoe_go_progress(void *context, const pcmoe_progress *progress);
void pcmoe_go_session_event(void *context, const pcmoe_session_event *event);
int pcmoe_go_byte(void *context, uint8_t byte);

#endif
