// Runs every test group of the C++ binding and prints "N passed, M failed".
//
//   pcmoe-cpp-test KEYS_FOLDER
//
// KEYS_FOLDER contains party0.key ... party2.key and their .pub files, as
// `pcmoe keygen --out KEYS_FOLDER/partyN` writes them.
#include "check.hpp"
#include "fixtures.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s KEYS_FOLDER\n", argv[0]);
        return 2;
    }
    try {
        test_library();
        test_errors();
        test_handles();
        test_training();
        test_inference();
        test_host_transport();
        test_callbacks();
        test_network_session(argv[1]);
    } catch (const std::exception &error) {
        CHECK_FAIL(std::string("a test group threw: ") + error.what());
    }
    fixtures::remove_temp_folder();
    return check::summary();
}
