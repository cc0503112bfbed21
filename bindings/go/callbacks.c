#include "callbacks.h"

#include "_cgo_export.h"

void *pcmoe_go_context(uintptr_t handle) {
    return (void *)handle;
}

void pcmoe_go_log(void *context, int32_t level, const char *message) {
    pcmoeGoLog((uintptr_t)context, level, (char *)message);
}

int pcmoe_go_send(void *context, uint32_t destination, const uint8_t *bytes, size_t size) {
    return pcmoeGoSend((uintptr_t)context, destination, (uint8_t *)bytes, size);
}

void pcmoe_go_progress(void *context, const pcmoe_progress *progress) {
    pcmoeGoProgress((uintptr_t)context, (pcmoe_progress *)progress);
}

void pcmoe_go_session_event(void *context, const pcmoe_session_event *event) {
    pcmoeGoSessionEvent((uintptr_t)context, (pcmoe_session_event *)event);
}

int pcmoe_go_byte(void *context, uint8_t byte) {
    return pcmoeGoByte((uintptr_t)context, byte);
}
