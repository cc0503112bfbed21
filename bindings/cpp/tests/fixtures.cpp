#include "fixtures.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fixtures {

pcmoe::PartyParams tiny_params(std::uint32_t party_id, std::uint64_t steps) {
    pcmoe::PartyParams p;
    p.party_id = party_id;
    p.party_count = parties;
    p.session = 77;
    p.d_model = 32;
    p.n_heads = 2;
    p.n_layers = 1;
    p.n_experts = 6;
    p.top_k = 2;
    p.expert_hidden = 32;
    p.seq_len = seq_len;
    p.batch = 4;
    p.steps = steps;
    p.learning_rate = 1e-2;
    p.use_backbone_seed = true;
    p.backbone_seed = 5;
    p.call_timeout_seconds = 30;
    return p;
}

std::vector<std::uint8_t> sample_text(std::uint32_t style, std::size_t size) {
    static const char *const phrases[3] = {"the cat sat on the mat. ", "one two three four. ", "abc abd abe abf. "};
    const char *phrase = phrases[style % 3];
    std::size_t length = std::strlen(phrase);
    std::vector<std::uint8_t> text(size);
    for (std::size_t i = 0; i < size; i++) text[i] = static_cast<std::uint8_t>(phrase[i % length]);
    return text;
}

pcmoe::Party tiny_party(std::uint32_t id, std::uint64_t steps) {
    pcmoe::Party party(tiny_params(id, steps));
    party.load_data(sample_text(id, 3000));
    return party;
}

const std::string &temp_folder() {
    static const std::string folder = [] {
        char name[] = "/tmp/pcmoe-cpp-test-XXXXXX";
        if (mkdtemp(name) == nullptr) throw std::runtime_error("mkdtemp failed");
        return std::string(name);
    }();
    return folder;
}

std::string temp_path(const std::string &name) { return temp_folder() + "/" + name; }

void write_file(const std::string &path, const std::string &text) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) throw std::runtime_error("cannot write " + path);
}

void remove_temp_folder() { std::filesystem::remove_all(temp_folder()); }

std::vector<std::uint16_t> free_ports(std::size_t count) {
    std::vector<int> sockets;
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) break;
        sockets.push_back(fd);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        if (bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 ||
            getsockname(fd, reinterpret_cast<sockaddr *>(&address), &size) != 0) {
            break;
        }
        ports.push_back(ntohs(address.sin_port));
    }
    for (int fd : sockets) close(fd);
    if (ports.size() != count) throw std::runtime_error("no free ports on 127.0.0.1");
    return ports;
}

}  // namespace fixtures
