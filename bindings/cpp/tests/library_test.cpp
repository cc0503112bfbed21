// Process-wide functions: versions, status names, threads, memory and the log handler.
#include "check.hpp"
#include "fixtures.hpp"

#include <stdexcept>
#include <string>
#include <vector>

static void test_versions_and_statuses() {
    CHECK(pcmoe::version() == PCMOE_VERSION_STRING);
    CHECK(pcmoe::version().substr(0, 2) == std::to_string(PCMOE_VERSION_MAJOR) + ".");
    CHECK(pcmoe::status_string(PCMOE_OK) == "ok");
    CHECK(pcmoe::status_string(PCMOE_ERROR_INVALID_ARGUMENT) == "invalid argument");
    CHECK(pcmoe::status_string(PCMOE_ERROR_INVALID_CONFIG) == "invalid configuration");
    CHECK(pcmoe::status_string(PCMOE_ERROR_PEER) == "peer error");
    CHECK(pcmoe::status_string(static_cast<pcmoe::Status>(99)) == "unknown status");
}

static void test_threads_and_memory() {
    std::uint32_t before = pcmoe::threads();
    CHECK(before >= 1);
    CHECK_NOTHROW(pcmoe::set_threads(1));
    CHECK(pcmoe::threads() == 1);
    CHECK_ERROR(pcmoe::set_threads(0), PCMOE_ERROR_INVALID_ARGUMENT, "0");
    CHECK(pcmoe::last_error().find("0") != std::string::npos);
    CHECK_ERROR(pcmoe::set_threads(1025), PCMOE_ERROR_INVALID_ARGUMENT, "1025");
    CHECK(pcmoe::threads() == 1);
    CHECK_NOTHROW(pcmoe::set_threads(before));
    CHECK(pcmoe::last_error().empty());
    CHECK(pcmoe::peak_resident_bytes() > (std::uint64_t(1) << 20));
}

// The library logs every error a call returns at the debug level, on the
// calling thread.
static void test_log_handler() {
    std::vector<std::string> messages;
    pcmoe::set_log_handler(pcmoe::LogLevel::debug, [&](pcmoe::LogLevel level, std::string_view message) {
        if (level == pcmoe::LogLevel::debug) messages.emplace_back(message);
    });
    CHECK_ERROR(pcmoe::set_threads(0), PCMOE_ERROR_INVALID_ARGUMENT, "0");
    CHECK(!messages.empty());
    if (!messages.empty()) CHECK(messages.back().find(pcmoe::last_error()) != std::string::npos);

    CHECK_ERROR(pcmoe::set_log_handler(static_cast<pcmoe::LogLevel>(9), [](pcmoe::LogLevel, std::string_view) {}),
                PCMOE_ERROR_INVALID_ARGUMENT, "9");

    // A throwing handler: its exception replaces the call's own error.
    pcmoe::set_log_handler(pcmoe::LogLevel::debug, [](pcmoe::LogLevel, std::string_view message) {
        throw std::logic_error("log handler saw: " + std::string(message.substr(0, 8)));
    });
    try {
        pcmoe::set_threads(0);
        CHECK_FAIL("set_threads(0) threw nothing");
    } catch (const std::logic_error &error) {
        CHECK(std::string(error.what()).rfind("log handler saw: ", 0) == 0);
    } catch (const pcmoe::Error &) {
        CHECK_FAIL("set_threads(0) threw pcmoe::Error, not the handler's exception");
    }
    CHECK_NOTHROW(pcmoe::set_threads(pcmoe::threads()));

    std::size_t seen = messages.size();
    pcmoe::clear_log_handler();
    CHECK_ERROR(pcmoe::set_threads(0), PCMOE_ERROR_INVALID_ARGUMENT, "0");
    CHECK(messages.size() == seen);
}

void test_library() {
    check::section("library");
    test_versions_and_statuses();
    test_threads_and_memory();
    test_log_handler();
}
