// A small test harness: every check prints one line, and summary() prints
// "N passed, M failed".
#ifndef PCMOE_CPP_TEST_CHECK_HPP
#define PCMOE_CPP_TEST_CHECK_HPP

#include <pcmoe.hpp>

#include <cstdio>
#include <exception>
#include <mutex>
#include <string>

namespace check {

struct Counts {
    std::mutex mutex;
    int passed = 0;
    int failed = 0;
};

inline Counts &counts() {
    static Counts value;
    return value;
}

// Prints one line for a check and counts it; `detail` explains a failure.
inline void record(bool ok, const std::string &what, const char *file, int line, const std::string &detail = "") {
    Counts &c = counts();
    std::lock_guard<std::mutex> lock(c.mutex);
    (ok ? c.passed : c.failed)++;
    std::printf("%s  %s:%d: %s\n", ok ? "ok  " : "FAIL", file, line, what.c_str());
    if (!ok && !detail.empty()) std::printf("      %s\n", detail.c_str());
    std::fflush(stdout);
}

// Runs `statement` and checks that it throws pcmoe::Error with status
// `expected` and a library message that is not empty and contains `text`.
template <class Statement>
void expect_error(Statement &&statement, pcmoe::Status expected, const std::string &text, const char *source,
                  const char *file, int line) {
    std::string what = std::string(source) + " throws \"" + pcmoe::status_string(expected) + "\" mentioning \"" +
                       text + "\"";
    try {
        statement();
        record(false, what, file, line, "it threw nothing");
    } catch (const pcmoe::Error &error) {
        bool ok = error.status() == expected && !error.message().empty() &&
                  error.message().find(text) != std::string::npos;
        record(ok, what, file, line, std::string("it threw \"") + error.what() + "\"");
    } catch (const std::exception &error) {
        record(false, what, file, line, std::string("it threw another exception: ") + error.what());
    }
}

// Runs `statement` and checks that it throws an Exception whose what() is `text`.
template <class Exception, class Statement>
void expect_exception(Statement &&statement, const std::string &text, const char *source, const char *file,
                      int line) {
    std::string what = std::string(source) + " rethrows \"" + text + "\"";
    try {
        statement();
        record(false, what, file, line, "it threw nothing");
    } catch (const Exception &error) {
        record(error.what() == text, what, file, line, std::string("its message is \"") + error.what() + "\"");
    } catch (const std::exception &error) {
        record(false, what, file, line, std::string("it threw another exception: ") + error.what());
    }
}

// Prints the totals; returns the process exit status.
inline int summary() {
    Counts &c = counts();
    std::printf("%d passed, %d failed\n", c.passed, c.failed);
    return c.failed == 0 ? 0 : 1;
}

inline void section(const char *name) { std::printf("-- %s\n", name); }

}  // namespace check

#define CHECK(condition) ::check::record(static_cast<bool>(condition), #condition, __FILE__, __LINE__)

#define CHECK_ERROR(statement, status, text) \
    ::check::expect_error([&] { statement; }, (status), (text), #statement, __FILE__, __LINE__)

#define CHECK_RETHROWS(Exception, statement, text) \
    ::check::expect_exception<Exception>([&] { statement; }, (text), #statement, __FILE__, __LINE__)

// Records a failed check with `text` as its description.
#define CHECK_FAIL(text) ::check::record(false, (text), __FILE__, __LINE__)

// Runs `statement` and fails the check if it throws.
#define CHECK_NOTHROW(statement)                                                                   \
    do {                                                                                           \
        try {                                                                                      \
            statement;                                                                             \
            ::check::record(true, #statement " succeeds", __FILE__, __LINE__);                     \
        } catch (const std::exception &error_) {                                                   \
            ::check::record(false, #statement " succeeds", __FILE__, __LINE__, error_.what());       \
        }                                                                                          \
    } while (0)

#endif
