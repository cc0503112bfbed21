/*
 * The C tests of libpcmoe: every function of include/pcmoe.h, its error
 * paths (each returns its documented status and a message), training
 * from C that lowers the loss, and coordinated sessions over the hub and
 * over the network.
 */
#include "check.h"
#include "fixtures.h"

#include <stdlib.h>

int checks_passed = 0;
int checks_failed = 0;

int main(void) {
    test_library();
    test_party_errors();
    test_privacy();
    test_messages();
    test_training();
    test_checkpoints();
    test_transports();
    test_network();
    test_sessions();
    test_inference();
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", temp_folder());
    if (system(command) != 0) fprintf(stderr, "could not remove %s\n", temp_folder());
    printf("%d passed, %d failed\n", checks_passed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}
