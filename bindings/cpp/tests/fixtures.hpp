// Shared settings and helpers of the C++ tests.
#ifndef PCMOE_CPP_TEST_FIXTURES_HPP
#define PCMOE_CPP_TEST_FIXTURES_HPP

#include <pcmoe.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fixtures {

constexpr std::uint32_t parties = 3;
constexpr std::uint32_t seq_len = 16;

// Default params changed to a tiny model of a three-party session that
// takes `steps` turns, with a fixed backbone seed.
pcmoe::PartyParams tiny_params(std::uint32_t party_id, std::uint64_t steps);

// A learnable text of `size` bytes in style `style` (0 ... 2).
std::vector<std::uint8_t> sample_text(std::uint32_t style, std::size_t size);

// Party `id` of a tiny three-party session with 3000 bytes of its own text.
pcmoe::Party tiny_party(std::uint32_t id, std::uint64_t steps);

// The temporary folder of this test run, created on first use.
const std::string &temp_folder();
// A path inside the temporary folder.
std::string temp_path(const std::string &name);
// Writes `text` to `path`; throws std::runtime_error on failure.
void write_file(const std::string &path, const std::string &text);
// Removes the temporary folder.
void remove_temp_folder();

// Picks `count` distinct TCP ports that are free on 127.0.0.1 now.
std::vector<std::uint16_t> free_ports(std::size_t count);

}  // namespace fixtures

// Test groups, one per file.
void test_library();
void test_errors();
void test_handles();
void test_training();
void test_inference();
void test_host_transport();
void test_callbacks();
void test_network_session(const std::string &keys_folder);

#endif
